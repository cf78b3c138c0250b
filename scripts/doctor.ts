/**
 * `npm run doctor`: a pre-flight check for a workshop room, or for you before a step. One line per
 * check; a failed check says exactly what to run.
 *
 *   npm run doctor                    # Node.js, Temporal binaries, ports 7233/8233, Claude Desktop, a browser
 *   npm run doctor -- --step 02       # and: is the step 02 worker polling its task queue?
 *
 * It only looks: it starts, stops and writes nothing. Exit code 0 when nothing blocks the tutorial
 * (warnings, marked ⚠, do not), 1 otherwise.
 *
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { createServer } from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Connection } from '@temporalio/client';
import { BINARIES, findBinary, REPO_ROOT, type BinaryKind } from '../shared/binaries.js';
import { findBrowser } from '../shared/browser.js';
import { loadTemporalSettings, splitHostPort, type TemporalSettings } from '../shared/config.js';
import { isEntryPoint, runMain } from '../shared/log.js';
import { stepTaskQueue } from '../shared/task-queue.js';
import { claudeConfigPath, listSteps, serverName, type McpServerEntry, type Step } from './claude-config.js';

/** ok ✔, warn ⚠ (does not fail the run), fail ✘ (exit code 1), skip – (not applicable). */
export type Status = 'ok' | 'warn' | 'fail' | 'skip';

/** The outcome of one check. */
export interface Verdict {
  /** Which check, e.g. `node`, `cli`, `testServer`, `temporal`, `webUi`, `claude`, `worker`. */
  check: string;
  status: Status;
  /** What was found, e.g. `Temporal CLI not found`. */
  message: string;
  /** What to do about it, e.g. `run: npm run setup`. */
  fix?: string;
}

/** Everything the checks read, so a test can hand in its own. */
export interface DoctorInputs {
  /** Environment: TEMPORAL_ADDRESS, TEMPORAL_UI_URL, binary overrides, APPDATA ... (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** The Node.js version to judge, e.g. `20.20.2` or `v18.19.0` (default: the one running). */
  nodeVersion?: string;
  /** The supported range (default: `engines.node` of package.json). */
  engines?: string;
  /** The Claude Desktop config file (default: where Claude Desktop keeps it on this OS). */
  configPath?: string;
  /** A step number such as `02`: also check that its worker polls its task queue. */
  step?: string;
  /** The step folders (default: `tutorials/` of this repository). */
  steps?: Step[];
  /** How long to wait for Temporal or the Web UI to answer (default 1500 ms). */
  timeoutMs?: number;
  /** The OS (default `process.platform`): the npm check applies to Windows only. */
  platform?: NodeJS.Platform;
}

/** The LTS lines the tutorial is tested on (CI runs 22 and 24; see package.json "//"). */
const RECOMMENDED_MAJORS = [22, 24];
/** A poller seen longer ago than this has probably stopped: a live worker's long poll lasts about a minute. */
const POLLER_FRESH_MS = 75_000;
const SYMBOL: Record<Status, string> = { ok: '✔', warn: '⚠', fail: '✘', skip: '–' };

/** One line of output: `✘ Temporal CLI not found — run: npm run setup`. */
export function formatVerdict(v: Verdict): string {
  return `${SYMBOL[v.status]} ${v.message}${v.fix ? ` — ${v.fix}` : ''}`;
}

/** Runs every check and returns their verdicts, in the order they are printed. */
export async function diagnose(inputs: DoctorInputs = {}): Promise<Verdict[]> {
  const env = inputs.env ?? process.env;
  const timeoutMs = inputs.timeoutMs ?? 1500;
  const steps = inputs.steps ?? listSteps();
  const step = inputs.step === undefined ? undefined : findStep(inputs.step, steps);
  const verdicts: Verdict[] = [nodeVerdict(inputs.nodeVersion ?? process.versions.node, inputs.engines ?? readEngines())];
  const npm = npmVerdict(env.npm_config_user_agent, inputs.platform ?? process.platform);
  if (npm) verdicts.push(npm);
  verdicts.push(binaryVerdict('cli', env), binaryVerdict('testServer', env), browserVerdict());

  let settings: TemporalSettings | undefined;
  try {
    settings = loadTemporalSettings(env);
  } catch (err) {
    verdicts.push({ check: 'temporal', status: 'fail', message: `The Temporal settings cannot be read: ${(err as Error).message}`, fix: 'fix TEMPORAL_ADDRESS (host:port) or your Temporal config file' });
  }
  let connection: Connection | undefined;
  try {
    if (settings) {
      const temporal = await temporalVerdict(settings, timeoutMs);
      connection = temporal.connection;
      verdicts.push(temporal.verdict, await webUiVerdict(settings, connection !== undefined, timeoutMs));
    }
    verdicts.push(claudeVerdict(inputs.configPath ?? claudeConfigPath(process.platform, env, homedir()), step, steps));
    if (step) verdicts.push(await workerVerdict(step, settings, connection, Date.now()));
  } finally {
    await connection?.close().catch(() => {});
  }
  return verdicts;
}

/** Chrome or Chromium, for the card's proofs of steps 10 and 11: a warning without one, never a failure. */
export function browserVerdict(find: () => string | undefined = findBrowser): Verdict {
  try {
    const path = find();
    if (path) return { check: 'browser', status: 'ok', message: `Browser for the card's proofs (steps 10, 11): ${path}` };
    return {
      check: 'browser',
      status: 'warn',
      message: "No Chrome or Chromium: the card's browser proofs of steps 10 and 11 are skipped (CI never skips them)",
      fix: 'sudo apt-get install chromium (Debian/Ubuntu), install Chrome or Chromium, or set CHROMIUM_PATH',
    };
  } catch (err) {
    return { check: 'browser', status: 'warn', message: (err as Error).message };
  }
}

/** The step that `arg` names: `2`, `02` or `02-signals`; an unknown one is an error listing the steps. */
export function findStep(arg: string, steps: Step[]): Step {
  const digits = /^(\d{1,2})(?:-.*)?$/.exec(arg.trim())?.[1];
  const step = digits === undefined ? undefined : steps.find((s) => s.number === digits.padStart(2, '0'));
  if (!step) throw new Error(`There is no step "${arg}". The steps are ${steps.map((s) => s.number).join(', ')}; for example: npm run doctor -- --step 02`);
  return step;
}

// ---------------------------------------------------------------------------------------------
// Node.js

function readEngines(): string {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { engines?: { node?: string } };
  return pkg.engines?.node ?? '>=22.12';
}

/** Judges a Node.js version against the `engines` range of package.json. */
export function nodeVerdict(version: string, engines: string): Verdict {
  const v = parseVersion(version);
  const install = `install Node.js ${RECOMMENDED_MAJORS.at(-1)} LTS from https://nodejs.org (nvm: nvm install ${RECOMMENDED_MAJORS.at(-1)}), then run npm install again`;
  if (!v) return { check: 'node', status: 'fail', message: `Node.js version "${version}" is not a version number`, fix: install };
  const shown = v.join('.');
  if (v[0] <= 20 && !satisfies(v, engines)) {
    // The line most learners arrive with from an old install: say exactly what changed and what to do.
    return {
      check: 'node',
      status: 'fail',
      message: `Node.js ${shown} is ${v[0] === 20 ? 'past its end of life (2026-04-30)' : 'too old'} and not supported: this repository needs ${engines}`,
      fix:
        `install Node.js ${RECOMMENDED_MAJORS.at(-1)} LTS (or ${RECOMMENDED_MAJORS[0]}.12 or newer): from https://nodejs.org, or nvm install ${RECOMMENDED_MAJORS.at(-1)} && nvm use ${RECOMMENDED_MAJORS.at(-1)} ` +
        `(fnm: fnm use --install-if-missing ${RECOMMENDED_MAJORS.at(-1)}; Windows: winget install OpenJS.NodeJS.LTS), then run npm ci again`,
    };
  }
  if (!satisfies(v, engines)) return { check: 'node', status: 'fail', message: `Node.js ${shown} is not supported (this repository needs ${engines})`, fix: install };
  const lts = RECOMMENDED_MAJORS.join(' or ');
  if (RECOMMENDED_MAJORS.includes(v[0])) return { check: 'node', status: 'ok', message: `Node.js ${shown} (LTS, recommended)` };
  return { check: 'node', status: 'ok', message: `Node.js ${shown} (supported; the tutorial is tested on ${lts} LTS, recommended)` };
}

type Version = [number, number, number];

function parseVersion(text: string): Version | undefined {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(text.trim());
  return m ? [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)] : undefined;
}

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** Enough of semver ranges for `engines`: `||` of space-separated `^x.y.z`, `>=x`, `>x`, `<x`, `<=x`, `x.y.z`. */
function satisfies(v: Version, range: string): boolean {
  return range.split('||').some((alternative) =>
    alternative
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .every((comparator) => {
        const m = /^(\^|~|>=|<=|>|<|=)?v?(\d+(?:\.\d+){0,2})$/.exec(comparator);
        if (!m) return false;
        const bound = parseVersion(m[2])!;
        const c = compare(v, bound);
        switch (m[1]) {
          case '^':
            return c >= 0 && v[0] === bound[0];
          case '~':
            return c >= 0 && v[0] === bound[0] && v[1] === bound[1];
          case '>=':
            return c >= 0;
          case '>':
            return c > 0;
          case '<=':
            return c <= 0;
          case '<':
            return c < 0;
          default:
            return c === 0;
        }
      }),
  );
}

/**
 * On Windows, the `npm.ps1` that PowerShell runs before npm 10.9.3 / 11.4.0 drops every flag after
 * `--`: `npm run claude-config -- 05 --merge` would only print. `npm.cmd` is not affected.
 *
 * @param userAgent - `npm_config_user_agent`, e.g. `npm/10.8.2 node/v20.19.0 win32 x64 ...`; set when npm started us.
 * @returns undefined when it does not apply (not Windows, or not started through npm).
 */
export function npmVerdict(userAgent: string | undefined, platform: NodeJS.Platform): Verdict | undefined {
  if (platform !== 'win32') return undefined;
  const v = parseVersion(/\bnpm\/(\d+\.\d+\.\d+)/.exec(userAgent ?? '')?.[1] ?? '');
  if (!v) return undefined;
  const fixed = v[0] === 10 ? compare(v, [10, 9, 3]) >= 0 : v[0] >= 11 ? compare(v, [11, 4, 0]) >= 0 : false;
  if (fixed) return { check: 'npm', status: 'ok', message: `npm ${v.join('.')}` };
  return {
    check: 'npm',
    status: 'warn',
    message: `npm ${v.join('.')}: in PowerShell it drops the flags after \`--\` (npm run claude-config -- 05 --merge would not merge)`,
    fix: 'in PowerShell type npm.cmd instead of npm (npm.cmd run claude-config -- 05 --merge), or update Node.js to 22.18+ or 24.3+ (docs/troubleshooting.md)',
  };
}

// ---------------------------------------------------------------------------------------------
// The Temporal binaries

/** Whether the Temporal CLI or the time-skipping test server is found, the way the steps look for it. */
export function binaryVerdict(kind: BinaryKind, env: NodeJS.ProcessEnv): Verdict {
  const b = BINARIES[kind];
  let found: string | undefined;
  try {
    found = findBinary(kind, env);
  } catch (err) {
    // The override variable names something that is not an executable: a typo there must be seen.
    return { check: kind, status: 'fail', message: `${capitalize(b.what)}: ${(err as Error).message}`, fix: `correct ${b.envVar}, or unset it and run: npm run setup` };
  }
  if (!found) return { check: kind, status: 'fail', message: `${capitalize(b.what)} not found`, fix: 'run: npm run setup' };
  return { check: kind, status: 'ok', message: `${capitalize(b.what)}: ${found}` };
}

// ---------------------------------------------------------------------------------------------
// Temporal's port and the Web UI's port

const LOCAL_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

/** Whether Temporal answers at the configured address, or else whether `npm run temporal` could start there. */
async function temporalVerdict(settings: TemporalSettings, timeoutMs: number): Promise<{ verdict: Verdict; connection?: Connection }> {
  const [host, port] = splitHostPort(settings.address);
  // Imported here, not at the top: stop-worker imports this module and must start fast.
  const { Connection } = await import('@temporalio/client');
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ ...settings.connectionOptions, connectTimeout: timeoutMs });
  } catch {
    connection = undefined;
  }
  if (connection) {
    try {
      await connection.workflowService.describeNamespace({ namespace: settings.namespace });
    } catch (err) {
      const message = `Temporal answers at ${settings.address}, but namespace "${settings.namespace}" cannot be used: ${firstLine(err)}`;
      return { verdict: { check: 'temporal', status: 'fail', message, fix: 'set TEMPORAL_NAMESPACE to a namespace of that server (the dev server has "default")' }, connection };
    }
    return { verdict: { check: 'temporal', status: 'ok', message: `Temporal answers at ${settings.address} (namespace "${settings.namespace}")` }, connection };
  }
  if (!LOCAL_HOSTS.includes(host)) {
    return { verdict: { check: 'temporal', status: 'fail', message: `Nothing answers at ${settings.address}`, fix: 'check TEMPORAL_ADDRESS, TEMPORAL_API_KEY and your network, or unset TEMPORAL_ADDRESS to use a local server' } };
  }
  if (await portIsFree(port)) {
    return { verdict: { check: 'temporal', status: 'ok', message: `Port ${port} is free for Temporal (not running yet; start it with: npm run temporal)` } };
  }
  return {
    verdict: {
      check: 'temporal',
      status: 'fail',
      message: `Port ${port} is taken by something that is not Temporal, so \`npm run temporal\` cannot start there`,
      fix: `find it with ${whoHoldsPort(port)} and stop it, or use another port: npm run temporal -- server start-dev --port 7300, and set TEMPORAL_ADDRESS=localhost:7300 (docs/troubleshooting.md)`,
    },
  };
}

/** Whether the Web UI answers at its URL, or its port is free for the dev server to serve it. */
async function webUiVerdict(settings: TemporalSettings, temporalAnswers: boolean, timeoutMs: number): Promise<Verdict> {
  const url = settings.webUiUrl;
  let version: string | undefined;
  let answered = false;
  try {
    // The UI's own settings endpoint: JSON with its version, which no other web server sends.
    const response = await fetch(new URL('/api/v1/settings', url), { signal: AbortSignal.timeout(timeoutMs) });
    answered = true;
    const body = (await response.json()) as { Version?: unknown; Auth?: unknown };
    if (response.ok && typeof body.Version === 'string' && body.Auth !== undefined) version = body.Version;
  } catch {
    // nothing listens, or it does not answer like the Temporal Web UI
  }
  if (version) return { check: 'webUi', status: 'ok', message: `Temporal Web UI ${version} at ${url}` };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { check: 'webUi', status: 'warn', message: `TEMPORAL_UI_URL "${url}" is not a URL`, fix: 'set it like http://localhost:8233' };
  }
  const port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
  const local = LOCAL_HOSTS.includes(parsed.hostname) || parsed.hostname === '[::1]';
  if (!local) {
    return answered
      ? { check: 'webUi', status: 'warn', message: `${url} answers, but not like the Temporal Web UI`, fix: 'check TEMPORAL_UI_URL (Temporal Cloud: https://cloud.temporal.io)' }
      : { check: 'webUi', status: 'warn', message: `No Web UI answers at ${url}`, fix: 'set TEMPORAL_UI_URL to your Web UI (Temporal Cloud: https://cloud.temporal.io)' };
  }
  if (answered || !(await portIsFree(port))) {
    return {
      check: 'webUi',
      status: 'fail',
      message: `Port ${port} is taken by something that is not the Temporal Web UI, so the dev server cannot serve its UI there`,
      fix: `find it with ${whoHoldsPort(port)} and stop it, or start Temporal with another UI port: npm run temporal -- server start-dev --ui-port 8300, and set TEMPORAL_UI_URL=http://localhost:8300`,
    };
  }
  if (temporalAnswers) {
    return { check: 'webUi', status: 'warn', message: `Temporal runs, but no Web UI answers at ${url} (started with --headless, or on another --ui-port?)`, fix: 'set TEMPORAL_UI_URL to where it is, or restart Temporal with: npm run temporal' };
  }
  return { check: 'webUi', status: 'ok', message: `Port ${port} is free for the Temporal Web UI` };
}

/** True when this machine can listen on 127.0.0.1:port, as `temporal server start-dev` will. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function whoHoldsPort(port: number): string {
  return process.platform === 'win32' ? `\`netstat -ano | findstr :${port}\`` : `\`lsof -i :${port}\``;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0];
}

// ---------------------------------------------------------------------------------------------
// Claude Desktop

/**
 * Whether Claude Desktop's config has the tutorial's server: the step's when `step` has an MCP
 * server, any tutorial server otherwise. Only a warning at worst: every step also runs without
 * Claude Desktop (the step's client plays the assistant).
 */
export function claudeVerdict(configPath: string, step: Step | undefined, steps: Step[]): Verdict {
  const firstServer = steps.find((s) => s.serverPath);
  const wanted = step?.serverPath ? step : undefined;
  if (step && !wanted) return { check: 'claude', status: 'skip', message: `Claude Desktop: step ${step.number} has no MCP server, so it needs none` };
  const mergeFix = `run: npm run claude-config -- ${(wanted ?? firstServer)?.number ?? '05'} --merge`;
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch {
    return { check: 'claude', status: 'warn', message: `No Claude Desktop config at ${configPath} (needed only to use the tools from Claude Desktop)`, fix: mergeFix };
  }
  let servers: Record<string, unknown>;
  try {
    const config = JSON.parse(text.replace(/^\uFEFF/, '')) as { mcpServers?: unknown };
    servers = typeof config.mcpServers === 'object' && config.mcpServers !== null ? (config.mcpServers as Record<string, unknown>) : {};
  } catch (err) {
    return { check: 'claude', status: 'warn', message: `The Claude Desktop config ${configPath} is not valid JSON (${firstLine(err)}), so Claude Desktop ignores it`, fix: 'fix it or move it aside, then ' + mergeFix };
  }
  if (!wanted) {
    const ours = Object.keys(servers).filter((name) => /^invoices-step-\d{2}$/.test(name));
    if (ours.length === 0) return { check: 'claude', status: 'warn', message: `The Claude Desktop config ${configPath} has no tutorial server yet`, fix: mergeFix };
    return { check: 'claude', status: 'ok', message: `Claude Desktop config ${configPath} has ${ours.join(', ')}` };
  }
  const name = serverName(wanted.number);
  const entry = servers[name] as Partial<McpServerEntry> | undefined;
  if (entry === undefined) return { check: 'claude', status: 'warn', message: `The Claude Desktop config ${configPath} has no "${name}" server`, fix: mergeFix };
  // The entry names absolute paths: after moving the repository or switching Node versions they are gone.
  const args = Array.isArray(entry.args) ? entry.args.filter((a): a is string => typeof a === 'string') : [];
  const missing = [entry.command, ...args].filter((p): p is string => typeof p === 'string' && path.isAbsolute(p) && !existsSync(p));
  const refresh = `${mergeFix} --force`;
  if (typeof entry.command !== 'string' || missing.length > 0) {
    return { check: 'claude', status: 'warn', message: `The "${name}" server in ${configPath} names ${missing.length ? missing.join(', ') : 'no command'}, which does not exist here`, fix: refresh };
  }
  if (wanted.serverPath && !args.some((a) => samePath(a, wanted.serverPath!))) {
    return { check: 'claude', status: 'warn', message: `The "${name}" server in ${configPath} does not run this repository's ${path.relative(REPO_ROOT, wanted.serverPath)}`, fix: refresh };
  }
  return { check: 'claude', status: 'ok', message: `Claude Desktop config ${configPath} has "${name}"` };
}

function samePath(a: string, b: string): boolean {
  const norm = (p: string) => path.resolve(p);
  return process.platform === 'win32' || process.platform === 'darwin' ? norm(a).toLowerCase() === norm(b).toLowerCase() : norm(a) === norm(b);
}

// ---------------------------------------------------------------------------------------------
// The step's worker

/** Whether a worker polls the step's task queue (workflow tasks) and did so recently. */
async function workerVerdict(step: Step, settings: TemporalSettings | undefined, connection: Connection | undefined, now: number): Promise<Verdict> {
  const taskQueue = stepTaskQueue(step.number);
  const start = `npx tsx tutorials/${step.folder}/worker.ts`;
  if (!existsSync(path.join(step.dir, 'worker.ts'))) return { check: 'worker', status: 'skip', message: `Step ${step.number} has no worker.ts` };
  if (!settings || !connection) {
    return { check: 'worker', status: 'fail', message: `No step ${step.number} worker can poll "${taskQueue}": Temporal is not running`, fix: `run: npm run temporal, then in another terminal: ${start}` };
  }
  let pollers;
  try {
    const response = await connection.workflowService.describeTaskQueue({
      namespace: settings.namespace,
      taskQueue: { name: taskQueue },
      taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW: every step's worker runs workflows
    });
    pollers = response.pollers ?? [];
  } catch (err) {
    return { check: 'worker', status: 'fail', message: `Cannot ask Temporal about task queue "${taskQueue}": ${firstLine(err)}` };
  }
  const seen = pollers
    .map((p) => ({ identity: p.identity ?? '?', ageMs: p.lastAccessTime?.seconds != null ? now - Number(p.lastAccessTime.seconds) * 1000 - Math.floor((p.lastAccessTime.nanos ?? 0) / 1e6) : Infinity }))
    .filter((p) => p.ageMs <= POLLER_FRESH_MS);
  if (seen.length === 0) return { check: 'worker', status: 'fail', message: `No worker polls task queue "${taskQueue}"`, fix: `run: ${start}` };
  const who = seen.map((p) => `${p.identity}, ${Math.max(0, Math.round(p.ageMs / 1000))} s ago`).join('; ');
  return { check: 'worker', status: 'ok', message: `A step ${step.number} worker polls task queue "${taskQueue}" (${who})` };
}

// ---------------------------------------------------------------------------------------------

const USAGE = 'usage: npm run doctor [-- --step NN]    e.g. npm run doctor -- --step 02';

async function main(argv: string[]): Promise<void> {
  let values, positionals;
  try {
    ({ values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { step: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } } }));
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${USAGE}`);
  }
  if (values.help) return void console.log(USAGE);
  // `npm run doctor -- 02` works too: an old npm.ps1 in PowerShell passes on the 02 but eats --step.
  if (positionals.length > 1 || (positionals.length === 1 && values.step !== undefined)) throw new Error(`Give one step.\n${USAGE}`);
  const verdicts = await diagnose({ step: values.step ?? positionals[0] });
  for (const v of verdicts) console.log(formatVerdict(v));
  const failed = verdicts.filter((v) => v.status === 'fail').length;
  const warned = verdicts.filter((v) => v.status === 'warn').length;
  console.log(failed ? `\n${failed} problem${failed > 1 ? 's' : ''} to fix first.` : `\nReady${warned ? ` (${warned} warning${warned > 1 ? 's' : ''})` : ''}.`);
  process.exitCode = failed ? 1 : 0;
}

if (isEntryPoint(import.meta.url)) runMain(() => main(process.argv.slice(2)));
