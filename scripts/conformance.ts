/**
 * `npm run conformance`: the official MCP conformance suite (@modelcontextprotocol/conformance)
 * against the Streamable HTTP endpoint of every server step, each with a real Temporal dev server
 * and the step's own worker behind it.
 *
 *   npm run conformance              # steps 05, 06, 07 and 08
 *   npm run conformance -- 05 07     # only these steps
 *
 * For each step: start its worker and `server.ts --http` as child processes, read the
 * capabilities the server declares, run each scenario that applies with the suite's CLI, and print
 * one line per scenario, a summary line per step and, last, `conformance: N passed, N failed`.
 * Exits non-zero when a scenario fails. Which scenarios apply, and why the others do not, is in
 * docs/conformance.md.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { REPO_ROOT } from '../shared/binaries.js';
import { freePort, startDevServer, type DevServer } from '../shared/dev-server.js';
import { describeError, isEntryPoint, runMain } from '../shared/log.js';
import { startScript, type ScriptProcess } from '../shared/processes.js';

/** The steps with an MCP server, in order. Not step 11: over HTTP it takes only OAuth tokens, which the suite's server scenarios never send (docs/conformance.md). */
export const SERVER_STEPS = ['05-mcp-server', '06-durability-demo', '07-mcp-native', '08-versioning', '09-durable-assistant', '10-approval-card'] as const;

// #region select
/**
 * Scenarios every one of our servers must pass: they test MCP itself (the handshake, ping, the
 * tool list, concurrent requests, the Host/Origin guard), not a tool or resource of the suite's own.
 */
export const ALWAYS = ['server-initialize', 'ping', 'tools-list', 'server-sse-multiple-streams', 'dns-rebinding-protection'] as const;

/** Scenarios that test an optional capability: they apply only where the server declares it. */
export const WHEN_DECLARED = [
  { scenario: 'resources-list', capability: 'resources' },
  { scenario: 'logging-set-level', capability: 'logging' },
] as const satisfies readonly { scenario: string; capability: keyof ServerCapabilities }[];
// #endregion select

/** A scenario and whether it applies to a server, with the reason when it does not. */
export type Selection = { scenario: string; applies: true } | { scenario: string; applies: false; reason: string };

/**
 * Which scenarios apply to a server that declares `capabilities` (what `initialize` answered).
 * A server that declares no `resources` has nothing for resources/list to list; one that declares
 * no `logging` may refuse logging/setLevel, so testing it there would test nothing MCP requires.
 */
export function selectScenarios(capabilities: ServerCapabilities): Selection[] {
  return [
    ...ALWAYS.map((scenario) => ({ scenario, applies: true as const })),
    ...WHEN_DECLARED.map(({ scenario, capability }) =>
      capabilities[capability] !== undefined
        ? { scenario, applies: true as const }
        : { scenario, applies: false as const, reason: `the server declares no ${capability} capability` },
    ),
  ];
}

/** One check of a scenario, as the suite writes it to checks.json. */
export interface Check {
  id: string;
  name: string;
  /** SUCCESS, FAILURE, WARNING or INFO. */
  status: string;
  errorMessage?: string;
  details?: Record<string, unknown>;
}

/** A scenario's outcome: the suite's own rule for a server, failed when any check failed. */
export interface Outcome {
  passed: boolean;
  /** What a reader needs on the scenario's line: each failure, or each warning of a pass. */
  notes: string[];
}

/**
 * Warnings we expect, by check id, and why they are no defect. Our HTTP servers are stateless on
 * purpose (any replica answers any request), and MCP lets a server give no session id; the
 * multiple-streams scenario then stops after initialize instead of opening its three streams.
 */
export const EXPECTED_WARNINGS: Record<string, string> = {
  'server-sse-multiple-streams-session':
    'no session id, as expected of a stateless server, so the suite skipped its three concurrent streams (docs/conformance.md)',
};

/** The verdict on a scenario's checks, as `conformance server --scenario` decides it (warnings do not fail). */
export function judge(checks: Check[]): Outcome {
  const failures = checks.filter((c) => c.status === 'FAILURE');
  const warnings = checks.filter((c) => c.status === 'WARNING');
  const note = (c: Check) => `${c.name}: ${c.errorMessage ?? String(c.details?.message ?? c.status.toLowerCase())}`;
  if (checks.length === 0) return { passed: false, notes: ['the scenario reported no checks'] };
  if (failures.length > 0) return { passed: false, notes: failures.map(note) };
  return { passed: true, notes: warnings.map((c) => `warning: ${EXPECTED_WARNINGS[c.id] ?? note(c)}`) };
}

/** The steps named on the command line (`05`, `5`, `05-mcp-server`), or every server step. */
export function chooseSteps(args: string[]): string[] {
  if (args.length === 0) return [...SERVER_STEPS];
  return args.map((arg) => {
    const number = arg.replace(/^tutorials\//, '').match(/^(\d{1,2})(?:-|$)/)?.[1];
    const step = SERVER_STEPS.find((s) => number !== undefined && s.startsWith(`${number.padStart(2, '0')}-`));
    if (!step) throw new Error(`"${arg}" is not a step with an MCP server; choose from ${SERVER_STEPS.map((s) => s.slice(0, 2)).join(', ')}.`);
    return step;
  });
}

// The suite's CLI, run with this very Node, so `npm run conformance` works the same on every OS
// (node_modules/.bin/conformance is a shell script on Unix, a .cmd file on Windows).
const CONFORMANCE_CLI = createRequire(import.meta.url).resolve('@modelcontextprotocol/conformance/dist/index.js');
/** A scenario talks to a local server only; a minute means it hangs. */
const SCENARIO_TIMEOUT_MS = 60_000;

/**
 * Runs one scenario with the suite's CLI and reads the checks it wrote to `-o <dir>`. `suite`: another
 * pinned CLI and its extra arguments (scripts/conformance-2026.ts runs the 2026 suite with
 * `--spec-version 2026-07-28`).
 */
export async function runScenario(url: string, scenario: string, suite: { cli?: string; args?: string[] } = {}): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'conformance-'));
  try {
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      execFile(
        process.execPath,
        [suite.cli ?? CONFORMANCE_CLI, 'server', '--url', url, '--scenario', scenario, '-o', dir, ...(suite.args ?? [])],
        { timeout: SCENARIO_TIMEOUT_MS, maxBuffer: 10_000_000 },
        // A number is the CLI's exit code; anything else (killed after the timeout, not started) is a failure.
        (err, stdout, stderr) => resolve({ code: !err ? 0 : typeof err.code === 'number' ? err.code : null, output: `${stdout}${stderr}` }),
      );
    });
    // It writes <dir>/server-<scenario>-<time>/checks.json once the scenario ran; without it the
    // CLI itself failed, and its last lines say why.
    const [run] = readdirSync(dir);
    const checksFile = run && join(dir, run, 'checks.json');
    if (!checksFile || !existsSync(checksFile)) {
      return { passed: false, notes: [`the suite wrote no result (exit code ${code ?? 'none: timed out or not started'}): ${lastLines(output)}`] };
    }
    const outcome = judge(JSON.parse(readFileSync(checksFile, 'utf8')) as Check[]);
    // Its exit code and its checks must agree; if they do not, trust neither.
    if (outcome.passed !== (code === 0)) return { passed: false, notes: [`the suite exited with code ${code}: ${lastLines(output)}`, ...outcome.notes] };
    return outcome;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ') || '(no output)';
}

/** What the server answers to `initialize`: the capabilities decide which scenarios apply. */
export async function declaredCapabilities(url: string): Promise<ServerCapabilities> {
  const client = new Client({ name: 'conformance-capabilities', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  try {
    return client.getServerCapabilities() ?? {};
  } finally {
    await client.close();
  }
}

/** The running pieces of one step, its worker and its server on `--http`; `stop()` ends each of them, whatever failed. */
export async function startStep(step: string, temporal: DevServer, ledgerDir: string) {
  const started: ScriptProcess[] = [];
  const stop = () => Promise.all(started.map((p) => p.kill()));
  try {
    // A ledger of its own, so a run never writes into the one the step's README uses.
    const env = { TEMPORAL_ADDRESS: temporal.address, LEDGER_FILE: join(ledgerDir, `ledger-${step.slice(0, 2)}.jsonl`) };
    started.push(
      await startScript(join(REPO_ROOT, 'tutorials', step, 'worker.ts'), { name: `${step} worker`, env, readyWhen: /polling task queue/ }),
    );
    const port = await freePort();
    started.push(
      await startScript(join(REPO_ROOT, 'tutorials', step, 'server.ts'), {
        name: `${step} server`,
        env,
        args: ['--http', '--port', String(port)],
        readyWhen: /serving Streamable HTTP on/,
      }),
    );
    return { url: `http://127.0.0.1:${port}/mcp`, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Totals over every step. */
interface Tally {
  passed: number;
  failed: number;
}

/** Runs every scenario that applies to one step and prints its lines; adds to `tally`. */
async function checkStep(step: string, temporal: DevServer, ledgerDir: string, tally: Tally): Promise<void> {
  const began = Date.now();
  const line = (scenario: string, result: string) => console.log(`${step.padEnd(Math.max(20, step.length + 1))}${scenario.padEnd(30)}${result}`);
  const indent = ' '.repeat(50); // under the result column, for a failure's further lines
  let passed = 0;
  let failed = 0;
  let running: Awaited<ReturnType<typeof startStep>> | undefined;
  try {
    running = await startStep(step, temporal, ledgerDir);
    const selection = selectScenarios(await declaredCapabilities(running.url));
    for (const choice of selection) {
      if (!choice.applies) {
        line(choice.scenario, `does not apply: ${choice.reason}`);
        continue;
      }
      const outcome = await runScenario(running.url, choice.scenario);
      if (outcome.passed) passed++;
      else failed++;
      // A pass with a warning keeps it on the same line; each failure gets a line of its own.
      line(choice.scenario, outcome.passed ? ['passed', ...outcome.notes].join('; ') : ['FAILED', ...outcome.notes].join(`\n${indent}`));
    }
  } catch (err) {
    // The step could not be checked at all (a process did not start, initialize failed): one failure.
    failed++;
    line('(setup)', `FAILED: ${describeError(err)}`);
  } finally {
    await running?.stop();
  }
  console.log(`${step.padEnd(Math.max(20, step.length + 1))}${passed} passed, ${failed} failed (${((Date.now() - began) / 1000).toFixed(1)} s)\n`);
  tally.passed += passed;
  tally.failed += failed;
}

async function main(): Promise<void> {
  // The suite needs Node.js 22 and declares no engines, so npm installs it anywhere: say so plainly
  // instead of letting each scenario fail with a SyntaxError from inside the package.
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 22) {
    console.error(
      `npm run conformance needs Node.js 22 or newer; this is Node.js ${process.versions.node}. ` +
        'The MCP conformance suite does not run on older versions (it imports fs.globSync, which Node.js 20 lacks). ' +
        'Switch with `nvm use 24` (or install Node.js 24 LTS) and run it again.',
    );
    process.exit(1);
  }
  const { positionals } = parseArgs({ allowPositionals: true, options: {} });
  const steps = chooseSteps(positionals);

  // Ctrl+C: exit through process.exit, so the exit hooks of shared/processes.ts and
  // shared/dev-server.ts kill the worker, the server and Temporal instead of leaving them running.
  process.on('SIGINT', () => process.exit(130));
  process.on('SIGTERM', () => process.exit(143));

  // One dev server for the whole run: each step has a task queue of its own, and no scenario
  // starts a workflow, so the steps cannot disturb each other, and the run starts Temporal once.
  console.log(`MCP conformance suite ${suiteVersion()} against ${steps.join(', ')}\n`);
  const tally: Tally = { passed: 0, failed: 0 };
  const ledgerDir = mkdtempSync(join(tmpdir(), 'conformance-ledgers-'));
  let temporal: DevServer | undefined;
  try {
    temporal = await startDevServer();
    for (const step of steps) await checkStep(step, temporal, ledgerDir, tally);
  } catch (err) {
    // Temporal did not start: nothing was checked, which must not read as a pass.
    tally.failed++;
    console.log(`${'(setup)'.padEnd(50)}FAILED: ${describeError(err)}`);
  } finally {
    await temporal?.stop();
    rmSync(ledgerDir, { recursive: true, force: true });
  }
  console.log(`conformance: ${tally.passed} passed, ${tally.failed} failed`);
  if (tally.failed > 0) process.exitCode = 1;
}

function suiteVersion(): string {
  const pkg = createRequire(import.meta.url)('@modelcontextprotocol/conformance/package.json') as { version: string };
  return pkg.version;
}

if (isEntryPoint(import.meta.url)) runMain(main);
