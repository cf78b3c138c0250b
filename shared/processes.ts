/**
 * Child processes for demos and tests that crash things on purpose: start a step's script, wait
 * until it says it is ready, kill it (gently or with SIGKILL), and never leave one behind.
 *
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { tsxCommand } from './binaries.js';

/** A running script. */
export interface ScriptProcess {
  name: string;
  pid: number;
  /** Resolves with the exit code (or null when killed by a signal). */
  exited: Promise<number | null>;
  /** Sends a signal and waits until the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Options for {@link startScript}. */
export interface StartScriptOptions {
  /** A name for messages, e.g. `worker #2`. */
  name: string;
  /** Extra environment on top of this process's. */
  env?: Record<string, string>;
  args?: string[];
  /** Resolve once a stderr line matches this (e.g. the worker's "polling task queue"). */
  readyWhen?: RegExp;
  /** How long to wait for `readyWhen` (default 60 s). */
  readyTimeoutMs?: number;
}

const running = new Set<ChildProcess>();
// Whatever happens to this process, its children go with it.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts a TypeScript script of this repository with tsx; resolves when it is ready. */
export async function startScript(script: URL | string, options: StartScriptOptions): Promise<ScriptProcess> {
  const { command, args } = tsxCommand(script, options.args);
  const child = spawn(command, args, { env: { ...process.env, ...options.env }, stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  let output = '';
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  await new Promise<void>((resolve, reject) => {
    if (!options.readyWhen) return resolve();
    const timer = setTimeout(() => reject(new Error(`${options.name} was not ready after ${options.readyTimeoutMs ?? 60_000} ms:\n${output}`)), options.readyTimeoutMs ?? 60_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
      if (options.readyWhen!.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${options.name} exited with code ${code} before it was ready:\n${output}`));
    });
  });
  child.stderr!.resume(); // keep draining its logs so it never blocks on a full pipe
  return {
    name: options.name,
    pid: child.pid!,
    exited,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
