/**
 * `npm run claude-config -- 05`: wires a step's MCP server into Claude Desktop.
 *
 *   npm run claude-config -- 05                     # print the config snippet for this machine
 *   npm run claude-config -- 05 --merge             # add it to Claude Desktop's config file
 *   npm run claude-config -- 05 --merge --env TEMPORAL_ADDRESS=my-ns.a1b2c.tmprl.cloud:7233
 *
 * Claude Desktop starts the server itself, from an unknown working directory and with a minimal
 * PATH, so `npx tsx ...` may not be found there. The entry therefore names absolute paths: the
 * node binary running this script and the tsx CLI inside this repository's node_modules.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { chmod, mkdir, readFile, realpath, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../shared/binaries.js';
import { DEFAULT_ADDRESS, DEFAULT_NAMESPACE } from '../shared/config.js';
import { isEntryPoint, runMain } from '../shared/log.js';

/** One server in Claude Desktop's `mcpServers`: how to launch it on stdio. */
export interface McpServerEntry {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** A tutorial step folder, e.g. `{ number: '05', folder: '05-mcp-server', ... }`. */
export interface Step {
  number: string;
  folder: string;
  dir: string;
  /** Absolute path of the step's `server.ts`; undefined when the step has no MCP server. */
  serverPath?: string;
}

/** What a merge did to the config. */
export type MergeAction = 'created' | 'added' | 'replaced' | 'unchanged';

const USAGE = 'usage: npm run claude-config -- <step> [--merge [--force] [--config PATH]] [--env KEY=VALUE ...]';
const CONFIG_FILE = 'claude_desktop_config.json';

/** The name Claude Desktop shows for a step's server, e.g. `invoices-step-05`. */
export function serverName(stepNumber: string): string {
  return `invoices-step-${stepNumber}`;
}

/** The steps in `tutorials/`, in order. A step has an MCP server iff it has `server.ts`. */
export function listSteps(tutorialsDir: string = path.join(REPO_ROOT, 'tutorials')): Step[] {
  return readdirSync(tutorialsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && /^\d{2}-/.test(d.name))
    .map((d) => {
      const dir = path.join(tutorialsDir, d.name);
      const server = path.join(dir, 'server.ts');
      return { number: d.name.slice(0, 2), folder: d.name, dir, serverPath: existsSync(server) ? server : undefined };
    })
    .sort((a, b) => a.folder.localeCompare(b.folder));
}

/**
 * The step with an MCP server that `arg` names: `5`, `05` or `05-mcp-server`.
 *
 * @throws Error listing the steps that do have a server, for an unknown step or one without `server.ts`.
 */
export function findServerStep(arg: string, steps: Step[] = listSteps()): Step & { serverPath: string } {
  const withServer = steps.filter((s) => s.serverPath);
  const available = withServer.length
    ? `Steps with an MCP server: ${withServer.map((s) => `${s.number} (${s.folder})`).join(', ')}.`
    : 'No step has an MCP server (server.ts) yet.';
  const digits = /^(\d{1,2})(?:-.*)?$/.exec(arg.trim())?.[1];
  const step = digits === undefined ? undefined : steps.find((s) => s.number === digits.padStart(2, '0'));
  if (!step) throw new Error(`There is no step "${arg}". ${available}`);
  if (!step.serverPath) throw new Error(`Step ${step.number} (${step.folder}) has no MCP server (no server.ts). ${available}`);
  return { ...step, serverPath: step.serverPath };
}

/**
 * The environment the server gets: where Temporal is. Claude Desktop does not pass on your shell's
 * variables, so whatever the server needs must be written into the entry.
 */
export function defaultServerEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS || DEFAULT_ADDRESS,
    TEMPORAL_NAMESPACE: env.TEMPORAL_NAMESPACE || DEFAULT_NAMESPACE,
  };
}

/**
 * Step 11 on, where the server acts for a person: over stdio there is no token, so the entry says
 * who that is, MCP_LOCAL_USER (default: your login on this machine) with MCP_LOCAL_ROLES (default
 * `approver`). Nothing for a step whose sources never read MCP_LOCAL_USER.
 */
export function localUserEnv(step: Step, env: NodeJS.ProcessEnv = process.env, login: string = userInfo().username): Record<string, string> {
  const readsLocalUser = readdirSync(step.dir).some((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && readFileSync(path.join(step.dir, f), 'utf8').includes('MCP_LOCAL_USER'));
  if (!readsLocalUser) return {};
  return { MCP_LOCAL_USER: env.MCP_LOCAL_USER || login, MCP_LOCAL_ROLES: env.MCP_LOCAL_ROLES || 'approver' };
}

/**
 * Reads `--env KEY=VALUE` arguments (the value may itself contain `=`).
 *
 * @throws Error for an argument without `=` or with a name that is not an environment variable name.
 */
export function parseEnvAssignments(assignments: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const a of assignments) {
    const eq = a.indexOf('=');
    const key = eq < 0 ? '' : a.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new Error(`--env "${a}" is not KEY=VALUE (for example --env TEMPORAL_ADDRESS=localhost:7233).`);
    env[key] = a.slice(eq + 1);
  }
  return env;
}

/**
 * The entry that launches a step's server: `<node> <repo>/node_modules/tsx/dist/cli.mjs <server.ts>`.
 * All paths absolute, so it works whatever directory and PATH Claude Desktop starts it with.
 */
export function buildEntry(options: {
  serverPath: string;
  repoRoot?: string;
  nodePath?: string;
  env?: Record<string, string>;
}): McpServerEntry {
  const repoRoot = options.repoRoot ?? REPO_ROOT;
  return {
    command: options.nodePath ?? process.execPath,
    args: [path.join(repoRoot, 'node_modules', 'tsx', 'dist', 'cli.mjs'), options.serverPath],
    env: { ...defaultServerEnv(), ...options.env },
  };
}

/**
 * Where Claude Desktop keeps its config on `platform`. Linux has no official Claude Desktop;
 * community builds use `$XDG_CONFIG_HOME/Claude` (by default `~/.config/Claude`).
 */
export function claudeConfigPath(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, home: string): string {
  if (platform === 'darwin') return path.posix.join(home, 'Library', 'Application Support', 'Claude', CONFIG_FILE);
  if (platform === 'win32') return path.win32.join(env.APPDATA || path.win32.join(home, 'AppData', 'Roaming'), 'Claude', CONFIG_FILE);
  const xdg = env.XDG_CONFIG_HOME && path.posix.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.posix.join(home, '.config');
  return path.posix.join(xdg, 'Claude', CONFIG_FILE);
}

/** Another server with this name is already configured; replacing it needs `--force`. */
export class EntryConflictError extends Error {
  constructor(name: string, where: string, existing: unknown, wanted: McpServerEntry) {
    super(
      `${where} already has a different "${name}" server; it was left untouched.\n` +
        `  current: ${JSON.stringify(existing)}\n` +
        `  new:     ${JSON.stringify(wanted)}\n` +
        'Re-run with --force to replace it (a backup of the file is written first).',
    );
    this.name = 'EntryConflictError';
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

/**
 * Puts one server into a parsed Claude Desktop config, keeping every other server and every other
 * top-level key. The input is not modified.
 *
 * @param config - the parsed file, or undefined when there is no file yet.
 * @param where - names the config in error messages (its path).
 * @throws Error when the config or its `mcpServers` is not an object; {@link EntryConflictError}
 *   when a different server of that name exists and `force` is not set.
 */
export function mergeServer(
  config: unknown,
  name: string,
  entry: McpServerEntry,
  options: { force?: boolean; where?: string } = {},
): { config: Record<string, unknown>; action: MergeAction } {
  const where = options.where ?? 'The Claude Desktop config';
  if (config === undefined) return { config: { mcpServers: { [name]: entry } }, action: 'created' };
  if (!isPlainObject(config)) throw new Error(`${where} holds ${kindOf(config)}, not a JSON object; it was left untouched.`);
  const servers = 'mcpServers' in config ? config.mcpServers : {};
  if (!isPlainObject(servers)) throw new Error(`"mcpServers" in ${where} is ${kindOf(servers)}, not an object of servers; the file was left untouched.`);
  const existing = servers[name];
  if (existing !== undefined) {
    if (isDeepStrictEqual(existing, entry)) return { config, action: 'unchanged' };
    if (!options.force) throw new EntryConflictError(name, where, existing, entry);
  }
  return {
    config: { ...config, mcpServers: { ...servers, [name]: entry } },
    action: existing === undefined ? 'added' : 'replaced',
  };
}

/** `20261121T054500` in local time: sorts by date and reads at a glance in a file listing. */
export function timestamp(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}${p(date.getMonth() + 1)}${p(date.getDate())}T${p(date.getHours())}${p(date.getMinutes())}${p(date.getSeconds())}`;
}

/**
 * Merges one server into the config file at `configPath`: backs up the current file, then writes
 * the new one atomically (a crash mid-write must not leave Claude Desktop a half-written config).
 * A missing file is created with its folders. Nothing is written when the entry is already there.
 *
 * @throws Error, leaving the file untouched, for a file that is not JSON, a bad `mcpServers`, or a
 *   conflicting entry without `force`.
 */
export async function mergeIntoConfigFile(
  configPath: string,
  name: string,
  entry: McpServerEntry,
  options: { force?: boolean; now?: Date } = {},
): Promise<{ action: MergeAction; backupPath?: string }> {
  let original: Buffer | undefined;
  try {
    original = await readFile(configPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`Cannot read ${configPath}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  if (original) {
    try {
      // Notepad may save a byte-order mark, which JSON.parse rejects.
      parsed = JSON.parse(original.toString('utf8').replace(/^\uFEFF/, ''));
    } catch (err) {
      throw new Error(`${configPath} is not valid JSON (${(err as Error).message}); it was left untouched. Fix it or move it aside, then run this again.`);
    }
  }
  const { config, action } = mergeServer(parsed, name, entry, { force: options.force, where: configPath });
  if (action === 'unchanged') return { action };

  let backupPath: string | undefined;
  if (original) backupPath = await writeBackup(configPath, original, options.now ?? new Date());
  // Write through a symlink (dotfiles managers) rather than replacing the link with a file.
  const target = original ? await realpath(configPath) : configPath;
  await mkdir(path.dirname(target), { recursive: true });
  await writeAtomically(target, `${JSON.stringify(config, null, 2)}\n`);
  return { action, backupPath };
}

/** Writes `<config>.bak-<timestamp>`, never overwriting an earlier backup. */
async function writeBackup(configPath: string, content: Buffer, now: Date): Promise<string> {
  const base = `${configPath}.bak-${timestamp(now)}`;
  for (let i = 0; ; i++) {
    const candidate = i === 0 ? base : `${base}-${i}`;
    try {
      await writeFile(candidate, content, { flag: 'wx' });
      return candidate;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || i >= 99) throw err;
    }
  }
}

/** Temp file in the same folder, then rename: readers see the old file or the new one, never half. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(tmp, text, { flag: 'wx' });
    const mode = await stat(file).then((s) => s.mode & 0o777, () => undefined);
    if (mode !== undefined) await chmod(tmp, mode);
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

/** Quotes an argument for a POSIX shell only when it needs it, for commands we suggest. */
function shellArg(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

const RESTART =
  'Then quit Claude Desktop completely and start it again: closing the window leaves it running\n' +
  '(macOS: Claude menu → Quit or Cmd+Q; Windows: right-click the tray icon → Quit).';

async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        merge: { type: 'boolean', default: false },
        force: { type: 'boolean', default: false },
        config: { type: 'string' },
        env: { type: 'string', multiple: true, default: [] },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) return void console.log(USAGE);
  if (positionals.length !== 1) throw new Error(`${positionals.length ? 'Give exactly one step.' : 'Which step?'}\n${USAGE}`);
  if (values.force && !values.merge) throw new Error(`--force only applies with --merge.\n${USAGE}`);

  const step = findServerStep(positionals[0]);
  const name = serverName(step.number);
  const entry = buildEntry({ serverPath: step.serverPath, env: { ...localUserEnv(step), ...parseEnvAssignments(values.env) } });
  const configPath = values.config ? path.resolve(values.config) : claudeConfigPath(process.platform, process.env, homedir());
  const workerHint = existsSync(path.join(step.dir, 'worker.ts'))
    ? `The tools need Temporal at ${entry.env.TEMPORAL_ADDRESS} and the step ${step.number} worker: npx tsx tutorials/${step.folder}/worker.ts`
    : `The tools need Temporal at ${entry.env.TEMPORAL_ADDRESS}.`;

  if (!values.merge) {
    console.log(JSON.stringify({ mcpServers: { [name]: entry } }, null, 2));
    const state = existsSync(configPath) ? 'exists' : 'does not exist yet';
    console.error(
      [
        '',
        `Claude Desktop reads its servers from (${state}):`,
        `  ${configPath}`,
        'Add the entry above in one of two ways:',
        `  - npm run claude-config -- ${[...argv, '--merge'].map(shellArg).join(' ')}`,
        '    merges it into that file, keeping your other servers, after writing a backup;',
        `  - or paste "${name}" into the file's "mcpServers" object (Claude Desktop: Settings → Developer → Edit Config).`,
        RESTART,
        workerHint,
        'The paths are those of this machine: run this again after moving the repository or changing Node versions.',
      ].join('\n'),
    );
    return;
  }

  const { action, backupPath } = await mergeIntoConfigFile(configPath, name, entry, { force: values.force });
  const done: Record<MergeAction, string> = {
    created: `Created ${configPath} with the "${name}" server.`,
    added: `Added the "${name}" server to ${configPath}.`,
    replaced: `Replaced the "${name}" server in ${configPath} (--force).`,
    unchanged: `${configPath} already has this "${name}" server; nothing to do.`,
  };
  console.log(done[action]);
  if (backupPath) console.log(`Backup of the previous file: ${backupPath}`);
  if (action !== 'unchanged') console.log(RESTART);
  console.log(workerHint);
}


if (isEntryPoint(import.meta.url)) runMain(() => main(process.argv.slice(2)));
