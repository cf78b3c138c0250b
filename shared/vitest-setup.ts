// Runs in each test file's process before the file itself (vitest `setupFiles`): Temporal's
// runtime is installed with quiet logs before any test connects, so failures stay readable.
// A test file that never names Temporal (the docs, lockfile and exercise checks) skips it: loading
// Temporal's native module costs most of a second of CPU per file, for nothing.
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';

const testFile = expect.getState().testPath;
const source = testFile ? readFileSync(testFile, 'utf8') : '';
if (!testFile || /@temporalio\/|shared\/(testing|worker|connection)\.js/.test(source)) {
  const { quietRuntime } = await import('./testing.js');
  quietRuntime();
}
