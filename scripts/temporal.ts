/**
 * `npm run temporal`: runs the Temporal CLI that `npm run setup` found or installed, so a learner
 * without `temporal` on the PATH can still follow every README. With no arguments it starts the
 * local dev server (frontend on 7233, Web UI on http://localhost:8233).
 *
 *   npm run temporal                                  # temporal server start-dev
 *   npm run temporal -- workflow list                 # any other CLI command
 */
import { spawn } from 'node:child_process';
import { requireBinary } from '../shared/binaries.js';
import { runMain } from '../shared/log.js';

runMain(async () => {
  const args = process.argv.slice(2);
  const child = spawn(requireBinary('cli'), args.length ? args : ['server', 'start-dev'], { stdio: 'inherit' });
  // Ctrl-C reaches the child through the terminal; we just wait for it and keep its exit code.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  const code = await new Promise<number>((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));
  process.exitCode = code;
});
