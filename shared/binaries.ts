/**
 * Finds the two Temporal binaries the tutorial needs, without downloading anything:
 *
 * - the Temporal CLI (`temporal server start-dev`: the local server with its Web UI);
 * - the time-skipping test server (used by `TestWorkflowEnvironment.createTimeSkipping`).
 *
 * Lookup order for each: an environment variable, then the repository's `.temporal/` folder
 * (filled by `npm run setup`), then the PATH (a `temporal` installed with brew is used as is).
 *
 * @module
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Root folder of this repository. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The virtualenv `npm run setup` installs the binaries into (git-ignored). */
export const LOCAL_BIN_DIR = join(REPO_ROOT, '.temporal', 'venv', process.platform === 'win32' ? 'Scripts' : 'bin');

/** The two binaries, with the variable that overrides each. */
export const BINARIES = {
  cli: { name: 'temporal', envVar: 'TEMPORAL_CLI_PATH', what: 'Temporal CLI' },
  testServer: { name: 'temporal-test-server', envVar: 'TEMPORAL_TEST_SERVER_PATH', what: 'time-skipping test server' },
} as const;

/** Which binary: the CLI or the time-skipping test server. */
export type BinaryKind = keyof typeof BINARIES;

/** A binary that is nowhere to be found; the message says how to get it. */
export class BinaryNotFoundError extends Error {
  constructor(readonly kind: BinaryKind) {
    const b = BINARIES[kind];
    super(
      `The ${b.what} (\`${b.name}\`) was not found. Run \`npm run setup\` to install it into .temporal/, ` +
        `put \`${b.name}\` on your PATH, or set ${b.envVar} to its full path.`,
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

/** Like {@link findBinary}, but throws {@link BinaryNotFoundError} when it is missing. */
export function requireBinary(kind: BinaryKind, env: NodeJS.ProcessEnv = process.env): string {
  const path = findBinary(kind, env);
  if (!path) throw new BinaryNotFoundError(kind);
  return path;
}

/**
 * The binary in the form `@temporalio/testing` takes. Always `existing-path`: the default,
 * `cached-download`, needs the internet and must never be used silently.
 */
export function existingExecutable(kind: BinaryKind): { type: 'existing-path'; path: string } {
  return { type: 'existing-path', path: requireBinary(kind) };
}

function isExecutable(path: string): boolean {
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
