/**
 * The official MCP conformance suite, pinned, against step 12 (tutorials/12-mcp-2026): the MCP of
 * 2026 and, on the same endpoint, the 2025-11-25 scenarios steps 05-10 pass.
 *
 *   npm run conformance:2026     (npx tsx scripts/conformance-2026.ts)
 *
 * One Temporal dev server; step 12's worker and its server (`server.ts --http`); the conformance
 * fixture server (scripts/conformance-2026-fixtures.ts: the suite's fixture tools, through step 12's
 * Tasks extension, backed by Temporal). Then:
 * - the invoice server, suite 0.2.0-alpha.12 at `--spec-version 2026-07-28`: the scenarios that test
 *   MCP itself (the tool list, the standard headers, caching hints, the Host/Origin guard, streams,
 *   the resource and prompt lists);
 * - the invoice server, suite 0.1.16 (2025-11-25): what `npm run conformance` runs on steps 05-10;
 * - the fixture server at 2026-07-28: server-stateless, every tasks-* scenario of the Tasks extension
 *   (run with --force: extension scenarios sit outside the spec's timeline) and every
 *   input-required-result-* scenario.
 * One line per scenario, then `conformance-2026: N passed, N failed`; exits non-zero on a failure.
 * docs/conformance.md and the step's README list the scenarios not run, and why.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../shared/binaries.js';
import { freePort, startDevServer, type DevServer } from '../shared/dev-server.js';
import { describeError, isEntryPoint, runMain } from '../shared/log.js';
import { startScript, type ScriptProcess } from '../shared/processes.js';
import { declaredCapabilities, runScenario, selectScenarios, startStep, type Outcome } from './conformance.js';

const require = createRequire(import.meta.url);
/** The 2026 suite, installed beside 0.1.16 under an alias (package.json). */
const SUITE_2026 = { cli: require.resolve('@modelcontextprotocol/conformance-2026/dist/index.js'), version: (require('@modelcontextprotocol/conformance-2026/package.json') as { version: string }).version };
const SUITE_2025 = { version: (require('@modelcontextprotocol/conformance/package.json') as { version: string }).version };

// #region scenarios
/**
 * The invoice server at 2026-07-28: the scenarios that test MCP itself, not a fixture tool of the
 * suite's; and the lists of the resources and prompts it declares.
 */
export const INVOICE_2026 = ['tools-list', 'http-header-validation', 'caching', 'dns-rebinding-protection', 'server-sse-multiple-streams', 'resources-list', 'prompts-list'] as const;

/** The fixture server at 2026-07-28: the stateless core, the Tasks extension, multi round-trip requests. */
export const FIXTURES_2026 = [
  'server-stateless',
  ...['lifecycle', 'capability-negotiation', 'wire-fields', 'request-state-removal', 'mrtr-input', 'request-headers', 'dispatch-and-envelope', 'status-notifications', 'required-task-error', 'mrtr-composition'].map((s) => `tasks-${s}`),
  ...['basic-elicitation', 'basic-sampling', 'basic-list-roots', 'request-state', 'multiple-input-requests', 'multi-round', 'missing-input-response', 'non-tool-request', 'result-type', 'unsupported-methods', 'tampered-state', 'capability-check', 'ignore-extra-params', 'validate-input'].map((s) => `input-required-result-${s}`),
] as const;

/** Scenarios this suite version runs without a single check of its own: reported, never counted as passed. */
export const SUITE_SKIPS: Record<string, string> = {
  'tasks-status-notifications':
    'the suite skips it (its harness still reads the tools/call stream, not subscriptions/listen); step 12 proves notifications/tasks in its own test',
};
// #endregion scenarios

interface Tally {
  passed: number;
  failed: number;
  skipped: number;
}

/** Runs `scenarios` against `url` and prints a line each. */
async function check(target: string, url: string, scenarios: readonly string[], suite: { cli?: string; args?: (scenario: string) => string[] }, tally: Tally): Promise<void> {
  for (const scenario of scenarios) {
    let outcome: Outcome;
    try {
      outcome = await runScenario(url, scenario, { cli: suite.cli, args: suite.args?.(scenario) });
    } catch (err) {
      outcome = { passed: false, notes: [describeError(err)] };
    }
    const skip = outcome.passed ? SUITE_SKIPS[scenario] : undefined;
    if (skip) tally.skipped++;
    else if (outcome.passed) tally.passed++;
    else tally.failed++;
    const result = skip ? `skipped: ${skip}` : outcome.passed ? ['passed', ...outcome.notes].join('; ') : ['FAILED', ...outcome.notes].join(`\n${' '.repeat(68)}`);
    console.log(`${target.padEnd(20)}${scenario.padEnd(48)}${result}`);
  }
}

/** Starts a script of this repository with `--http` on a free port; resolves with its URL. */
async function serve(script: string, name: string, env: Record<string, string>, started: ScriptProcess[]): Promise<string> {
  const port = await freePort();
  started.push(await startScript(join(REPO_ROOT, script), { name, env, args: ['--http', '--port', String(port)], readyWhen: /serving Streamable HTTP on/ }));
  return `http://127.0.0.1:${port}/mcp`;
}

async function main(): Promise<void> {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 22) {
    console.error(`The MCP conformance suite needs Node.js 22 or newer; this is Node.js ${process.versions.node}. Switch with \`nvm use 24\` and run it again.`);
    process.exit(1);
  }
  process.on('SIGINT', () => process.exit(130)); // the exit hooks of shared/ stop every child
  process.on('SIGTERM', () => process.exit(143));
  console.log(`MCP conformance suite ${SUITE_2026.version} (2026-07-28) and ${SUITE_2025.version} (2025-11-25) against step 12\n`);
  const tally: Tally = { passed: 0, failed: 0, skipped: 0 };
  const ledgerDir = mkdtempSync(join(tmpdir(), 'conformance-2026-'));
  const started: ScriptProcess[] = [];
  let stopStep: (() => Promise<unknown>) | undefined;
  let temporal: DevServer | undefined;
  try {
    temporal = await startDevServer();
    // The step's worker and server as `npm run conformance` starts every step's, and the fixture server.
    const [step, fixtures] = await Promise.all([
      startStep('12-mcp-2026', temporal, ledgerDir).then((running) => ((stopStep = running.stop), running)),
      serve('scripts/conformance-2026-fixtures.ts', 'fixture server', { TEMPORAL_ADDRESS: temporal.address }, started),
    ]);
    const invoices = step.url;
    const at2026 = { cli: SUITE_2026.cli, args: (s: string) => ['--spec-version', '2026-07-28', ...(s.startsWith('tasks-') ? ['--force'] : [])] };
    await check('invoices 2026-07-28', invoices, INVOICE_2026, at2026, tally);
    const legacy = selectScenarios(await declaredCapabilities(invoices)); // the 2025 handshake, through the fallback
    for (const skipped of legacy.filter((s) => !s.applies)) console.log(`${'invoices 2025-11-25'.padEnd(20)}${skipped.scenario.padEnd(48)}does not apply: ${'reason' in skipped ? skipped.reason : ''}`);
    await check('invoices 2025-11-25', invoices, legacy.filter((s) => s.applies).map((s) => s.scenario), {}, tally);
    await check('fixtures 2026-07-28', fixtures, FIXTURES_2026, at2026, tally);
  } catch (err) {
    tally.failed++; // something did not start: nothing checked must not read as a pass
    console.log(`${'(setup)'.padEnd(68)}FAILED: ${describeError(err)}`);
  } finally {
    await Promise.all([...started.map((p) => p.kill()), stopStep?.()]);
    await temporal?.stop();
    rmSync(ledgerDir, { recursive: true, force: true });
  }
  if (tally.skipped > 0) console.log(`\n${tally.skipped} scenario(s) skipped by the suite itself (above, with the reason)`);
  console.log(`conformance-2026: ${tally.passed} passed, ${tally.failed} failed`);
  if (tally.failed > 0) process.exitCode = 1;
}

if (isEntryPoint(import.meta.url)) runMain(main);
