/**
 * `npm run histories:record` (or `npx tsx scripts/record-histories.ts [step ...]`): records the
 * replay fixtures of every step from real runs, on a Temporal dev server this script starts on a
 * free 127.0.0.1 port and stops afterwards.
 *
 * Each step's invoice workflow is run through each path it has (paid or approved, rejected, timed
 * out, failed), and each finished workflow's history is written as
 * `tutorials/<step>/histories/<outcome>.json`, in the JSON form `temporal workflow show --output
 * json` and the Web UI's "Download" give, so a history downloaded from a real cluster can be
 * dropped in beside them. `scripts/replay.test.ts` replays every one of them against its step's
 * current `workflows.ts`: a change that breaks determinism fails `npm test`, not a waiting invoice.
 *
 * Step 08 gets two sets: `v1-*.json` from `workflows-v1.ts` (the code before its change) and
 * `v2-*.json` from `workflows.ts` (with the change, behind `patched()`).
 *
 * Step 09 also gets its assistant's conversations, `assistant-*.json` (see {@link recordAssistant}).
 * Step 11's invoices carry people (verified identities): bob submits, alice approves, carol rejects.
 *
 * Run it again only when a step's workflow changes on purpose (and then keep the old files too,
 * if invoices on the old code may still be running somewhere).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { Worker, type NativeConnection } from '@temporalio/worker';
import { REPO_ROOT, requireBinary } from '../shared/binaries.js';
import { sampleInvoice, type Invoice } from '../shared/invoice.js';
import { isEntryPoint, log, runMain } from '../shared/log.js';
import { Erp, PaymentGateway } from '../shared/simulated-systems.js';
import { bundleOnce, startDevServerEnv } from '../shared/testing.js';
import * as step01 from '../tutorials/01-activities/activities.js';
import * as step02 from '../tutorials/02-signals/activities.js';
import * as step03 from '../tutorials/03-queries/activities.js';
import * as step04 from '../tutorials/04-durable-timers/activities.js';
import * as step05 from '../tutorials/05-mcp-server/activities.js';
import * as step06 from '../tutorials/06-durability-demo/activities.js';
import { LedgerGateway as LedgerGateway06 } from '../tutorials/06-durability-demo/ledger.js';
import * as step07 from '../tutorials/07-mcp-native/activities.js';
import { LedgerGateway as LedgerGateway07 } from '../tutorials/07-mcp-native/ledger.js';
import * as step08 from '../tutorials/08-versioning/activities.js';
import { LedgerGateway as LedgerGateway08 } from '../tutorials/08-versioning/ledger.js';
import * as step09 from '../tutorials/09-durable-assistant/activities.js';
import { createAssistantActivities } from '../tutorials/09-durable-assistant/assistant-activities.js';
import { AssistantWorkflow, confirmToolCall, getAssistantStatus, sendMessage, type AssistantConfig } from '../tutorials/09-durable-assistant/assistant-workflow.js';
import { LedgerGateway as LedgerGateway09 } from '../tutorials/09-durable-assistant/ledger.js';
import { invoiceServer, McpPool } from '../tutorials/09-durable-assistant/mcp-pool.js';
import { scriptedStandIn } from '../tutorials/09-durable-assistant/model.js';
import { TASK_QUEUE as TASK_QUEUE_09 } from '../tutorials/09-durable-assistant/workflows.js';
import * as step10 from '../tutorials/10-approval-card/activities.js';
import { LedgerGateway as LedgerGateway10 } from '../tutorials/10-approval-card/ledger.js';
import * as step11 from '../tutorials/11-oauth-identity/activities.js';
import { LedgerGateway as LedgerGateway11 } from '../tutorials/11-oauth-identity/ledger.js';
import type { Person } from '../tutorials/11-oauth-identity/workflows.js';

/** The paths an invoice can take; a step records those its workflow has. */
export type Outcome = 'paid' | 'approved' | 'rejected' | 'timed-out' | 'failed';

/** One set of fixtures: a step's workflow code, its activities, and how a human decides. */
export interface Recording {
  /** The step's folder under tutorials/. */
  step: string;
  /** The workflows file to run, relative to the step's folder. */
  workflows: string;
  /** File name prefix in histories/, e.g. `v1-` for step 08's code before its change. */
  prefix: string;
  outcomes: Outcome[];
  /** Steps 02-04 decide with signals, 05 on with validated Updates. */
  decideWith: 'signal' | 'update';
  /** Steps 04 on take `{ approvalTimeout }` as a second argument. */
  takesOptions: boolean;
  /** Step 11: people are verified identities (Person), the submitter among the options. */
  people?: boolean;
  activities: (erp: Erp, ledgerDir: string) => object;
}

/** An ERP that refuses invoices above 10 000, so the `failed` invoice (12 000) fails validation. */
const ERP_MAX_TOTAL = 10_000;
const all: Outcome[] = ['approved', 'rejected', 'timed-out', 'failed'];

/** Every recording, in step order. */
export const RECORDINGS: Recording[] = [
  { step: '01-activities', workflows: 'workflows.ts', prefix: '', outcomes: ['paid', 'failed'], decideWith: 'signal', takesOptions: false, activities: (erp) => step01.createActivities(erp, new PaymentGateway()) },
  { step: '02-signals', workflows: 'workflows.ts', prefix: '', outcomes: ['approved', 'rejected', 'failed'], decideWith: 'signal', takesOptions: false, activities: (erp) => step02.createActivities(erp, new PaymentGateway()) },
  { step: '03-queries', workflows: 'workflows.ts', prefix: '', outcomes: ['approved', 'rejected', 'failed'], decideWith: 'signal', takesOptions: false, activities: (erp) => step03.createActivities(erp, new PaymentGateway()) },
  { step: '04-durable-timers', workflows: 'workflows.ts', prefix: '', outcomes: all, decideWith: 'signal', takesOptions: true, activities: (erp) => step04.createActivities(erp, new PaymentGateway()) },
  { step: '05-mcp-server', workflows: 'workflows.ts', prefix: '', outcomes: all, decideWith: 'update', takesOptions: true, activities: (erp) => step05.createActivities(erp, new PaymentGateway()) },
  { step: '06-durability-demo', workflows: 'workflows.ts', prefix: '', outcomes: all, decideWith: 'update', takesOptions: true, activities: (erp, dir) => step06.createActivities(erp, new LedgerGateway06(join(dir, 'ledger-06.jsonl'))) },
  { step: '07-mcp-native', workflows: 'workflows.ts', prefix: '', outcomes: all, decideWith: 'update', takesOptions: true, activities: (erp, dir) => step07.createActivities(erp, new LedgerGateway07(join(dir, 'ledger-07.jsonl'))) },
  { step: '08-versioning', workflows: 'workflows-v1.ts', prefix: 'v1-', outcomes: all, decideWith: 'update', takesOptions: true, activities: (erp, dir) => step08.createActivities(erp, new LedgerGateway08(join(dir, 'ledger-08.jsonl'))) },
  { step: '08-versioning', workflows: 'workflows.ts', prefix: 'v2-', outcomes: all, decideWith: 'update', takesOptions: true, activities: (erp, dir) => step08.createActivities(erp, new LedgerGateway08(join(dir, 'ledger-08.jsonl'))) },
  { step: '09-durable-assistant', workflows: 'workflows.ts', prefix: '', outcomes: all, decideWith: 'update', takesOptions: true, activities: (erp, dir) => step09.createActivities(erp, new LedgerGateway09(join(dir, 'ledger-09.jsonl'))) },
  { step: '10-approval-card', workflows: 'workflows.ts', prefix: '', outcomes: all, decideWith: 'update', takesOptions: true, activities: (erp, dir) => step10.createActivities(erp, new LedgerGateway10(join(dir, 'ledger-10.jsonl'))) },
  { step: '11-oauth-identity', workflows: 'workflows.ts', prefix: '', outcomes: all, decideWith: 'update', takesOptions: true, people: true, activities: (erp, dir) => step11.createActivities(erp, new LedgerGateway11(join(dir, 'ledger-11.jsonl'))) },
];

/** Step 11's people, as the local authorization server (`npm run auth`) describes them. */
const PEOPLE = {
  alice: { issuer: 'http://127.0.0.1:4000', subject: 'u-1001', name: 'Alice Archer', roles: ['finance-lead'] },
  bob: { issuer: 'http://127.0.0.1:4000', subject: 'u-1002', name: 'Bob Baker', roles: ['submitter', 'approver'] },
  carol: { issuer: 'http://127.0.0.1:4000', subject: 'u-1003', name: 'Carol Chen', roles: ['approver'] },
} satisfies Record<string, Person>;

/** The invoice each path runs with: the sample invoice, or one the ERP refuses. */
function invoiceFor(id: string, outcome: Outcome): Invoice {
  const invoice = sampleInvoice(id);
  return outcome === 'failed' ? { ...invoice, lines: [...invoice.lines, { item: 'Standing desk', amount: 12_000 }] } : invoice;
}

// Event types, as numbered in temporal.api.enums.v1.EventType.
const WORKFLOW_TASK_COMPLETED = 7;
const ACTIVITY_TASK_COMPLETED = 12;

/** Resolves once the invoice was validated and its workflow is waiting (history: a completed activity, then a completed workflow task). */
async function validated(handle: WorkflowHandle): Promise<void> {
  for (let tries = 0; tries < 200; tries++) {
    const types = ((await handle.fetchHistory()).events ?? []).map((e) => e.eventType);
    const activityDone = types.lastIndexOf(ACTIVITY_TASK_COMPLETED);
    if (activityDone >= 0 && types.indexOf(WORKFLOW_TASK_COMPLETED, activityDone) > activityDone) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${handle.workflowId} was not validated within 10 s`);
}

/** Runs one invoice down one path and returns the workflow id, once the workflow has closed. */
async function runOutcome(client: Client, r: Recording, taskQueue: string, outcome: Outcome): Promise<string> {
  const id = `INV-${r.step.slice(0, 2)}${r.prefix ? `-${r.prefix.slice(0, -1)}` : ''}-${outcome}`;
  const options = {
    ...(outcome === 'timed-out' ? { approvalTimeout: '2 seconds' } : {}),
    ...(r.people ? { submittedBy: PEOPLE.bob } : {}), // bob submits; alice approves, carol rejects
  };
  const handle = await client.workflow.start('InvoiceWorkflow', {
    taskQueue,
    workflowId: `invoice-${id}`,
    args: r.takesOptions ? [invoiceFor(id, outcome), options] : [invoiceFor(id, outcome)],
  });
  if (outcome === 'approved' || outcome === 'rejected') {
    await validated(handle);
    const name = outcome === 'approved' ? 'approveInvoice' : 'rejectInvoice';
    const decision = r.people
      ? outcome === 'approved' ? { by: PEOPLE.alice } : { by: PEOPLE.carol, reason: 'duplicate of INV-1000' }
      : outcome === 'approved' ? { by: 'alice' } : { by: 'bob', reason: 'duplicate of INV-1000' };
    if (r.decideWith === 'signal') await handle.signal(name, decision);
    else await handle.executeUpdate(name, { args: [decision] });
  }
  try {
    await handle.result();
    if (outcome === 'failed') throw new Error(`${handle.workflowId} should have failed`);
  } catch (err) {
    if (!(outcome === 'failed' && err instanceof WorkflowFailedError)) throw err;
  }
  return handle.workflowId;
}

/** The history in the JSON form Temporal's CLI and Web UI export, from the CLI itself. */
async function historyJson(address: string, workflowId: string, runId?: string): Promise<string> {
  const { stdout } = await promisify(execFile)(requireBinary('cli'), [
    'workflow', 'show', '--workflow-id', workflowId, ...(runId ? ['--run-id', runId] : []), '--output', 'json', '--address', address, '--namespace', 'default',
  ]);
  JSON.parse(stdout); // fail here, not in the replay test, if the CLI printed something else
  return stdout.endsWith('\n') ? stdout : `${stdout}\n`;
}

/** Records the fixtures of the given steps (all when empty); returns the files written. */
export async function recordHistories(steps: string[] = []): Promise<string[]> {
  const chosen = RECORDINGS.filter((r) => steps.length === 0 || steps.some((s) => r.step.startsWith(s)));
  if (chosen.length === 0) throw new Error(`No step matches ${steps.join(', ')}; steps are ${[...new Set(RECORDINGS.map((r) => r.step))].join(', ')}.`);
  const env = await startDevServerEnv(); // a free port on 127.0.0.1, never a server someone else runs
  const ledgerDir = mkdtempSync(join(REPO_ROOT, '.temporal', 'record-histories-'));
  // A fixed identity instead of "pid@hostname": the fixtures are committed, the machine is nobody's business.
  const identity = 'record-histories';
  const client = new Client({ connection: env.connection, namespace: 'default', identity });
  const written: string[] = [];
  try {
    for (const r of chosen) {
      const dir = join(REPO_ROOT, 'tutorials', r.step);
      const taskQueue = `record-${r.step}${r.prefix ? `-${r.prefix.slice(0, -1)}` : ''}`;
      const worker = await Worker.create({
        connection: env.nativeConnection,
        identity,
        taskQueue,
        workflowBundle: await bundleOnce(new URL(`../tutorials/${r.step}/${r.workflows}`, import.meta.url)),
        activities: r.activities(new Erp({ erpMaxTotal: ERP_MAX_TOTAL }), ledgerDir),
      });
      const ids = await worker.runUntil(Promise.all(r.outcomes.map(async (o) => [o, await runOutcome(client, r, taskQueue, o)] as const)));
      mkdirSync(join(dir, 'histories'), { recursive: true });
      for (const [outcome, workflowId] of ids) {
        const file = join(dir, 'histories', `${r.prefix}${outcome}.json`);
        writeFileSync(file, await historyJson(env.address, workflowId));
        written.push(file);
        log('record', `${r.step}/${r.workflows}: ${outcome} → ${file.slice(REPO_ROOT.length)}`);
      }
    }
    if (chosen.some((r) => r.step === '09-durable-assistant')) written.push(...(await recordAssistant(env.address, client, env.nativeConnection, ledgerDir, identity)));
  } finally {
    await env.teardown();
    rmSync(ledgerDir, { recursive: true, force: true });
  }
  return written;
}

/**
 * Step 09's assistant, through the scripted stand-in model and the step's real invoice MCP server
 * (over stdio, on this script's dev server): a conversation whose approval is confirmed, one
 * whose confirmation times out (2 s), one that continues as new after a turn (its first run), and
 * a fan-out review. Each is written as `tutorials/09-durable-assistant/histories/assistant-<name>.json`.
 */
async function recordAssistant(address: string, client: Client, connection: NativeConnection, ledgerDir: string, identity: string): Promise<string[]> {
  const step = '09-durable-assistant';
  const taskQueue = 'record-09-assistant';
  const invoice = (id: string) => sampleInvoice(id);
  const pool = new McpPool({ invoices: invoiceServer({ TEMPORAL_ADDRESS: address }) });
  const invoices = await Worker.create({
    connection,
    identity,
    taskQueue: TASK_QUEUE_09, // the queue the step's MCP server starts invoices on
    workflowBundle: await bundleOnce(new URL(`../tutorials/${step}/workflows.ts`, import.meta.url)),
    activities: step09.createActivities(new Erp(), new LedgerGateway09(join(ledgerDir, 'ledger-09-assistant.jsonl'))),
  });
  const assistant = await Worker.create({
    connection,
    identity,
    taskQueue,
    workflowBundle: await bundleOnce(new URL(`../tutorials/${step}/assistant-workflow.ts`, import.meta.url)),
    activities: createAssistantActivities(scriptedStandIn(), pool),
  });
  const start = (name: string, config: Partial<AssistantConfig> = {}) =>
    client.workflow.start(AssistantWorkflow, { taskQueue, workflowId: `assistant-09-${name}`, args: [{ config }] });
  const awaiting = async (id: string) => {
    for (let tries = 0; tries < 200; tries++) {
      const state = await client.workflow.getHandle(`invoice-${id}`).query<{ state: string }>('getInvoiceStatus').then((s) => s.state, () => '');
      if (state === 'AWAITING_APPROVAL') return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`invoice ${id} did not reach AWAITING_APPROVAL`);
  };
  const conversations: [string, () => Promise<{ workflowId: string; runId?: string }>][] = [
    ['approved', async () => {
      const handle = await start('approved');
      await handle.executeUpdate(sendMessage, { args: [`Process this invoice: ${JSON.stringify(invoice('INV-09-A1'))}`] });
      await awaiting('INV-09-A1');
      await handle.executeUpdate(sendMessage, { args: ["What's the status of INV-09-A1?"] });
      await handle.executeUpdate(sendMessage, { args: ['Approve invoice INV-09-A1'] });
      await handle.executeUpdate(confirmToolCall, { args: [{ by: 'alice', approved: true }] });
      await handle.terminate('recorded'); // a chat never ends by itself
      return handle;
    }],
    ['timed-out', async () => {
      const handle = await start('timed-out', { confirmationTimeout: '2 seconds' });
      await handle.executeUpdate(sendMessage, { args: [`Process this invoice: ${JSON.stringify(invoice('INV-09-T1'))}`] });
      await awaiting('INV-09-T1');
      await handle.executeUpdate(sendMessage, { args: ['Approve invoice INV-09-T1'] });
      for (let tries = 0; tries < 200 && (await handle.query(getAssistantStatus)).turns < 2; tries++) await new Promise((resolve) => setTimeout(resolve, 50));
      await handle.terminate('recorded');
      return handle;
    }],
    ['continued', async () => {
      const handle = await start('continued', { turnsPerRun: 1 });
      await handle.executeUpdate(sendMessage, { args: ["What's the status of INV-09-A1?"] });
      const runId = handle.firstExecutionRunId;
      // The first run ends in continue-as-new once the turn is answered: its history is the fixture.
      await client.workflow.getHandle(handle.workflowId, runId, { followRuns: false }).result().catch(() => undefined);
      await client.workflow.getHandle(handle.workflowId).terminate('recorded');
      return { workflowId: handle.workflowId, runId };
    }],
    ['review', async () => {
      const handle = await start('review', { maxConcurrentReviews: 2 });
      await handle.executeUpdate(sendMessage, { args: ['Review everything awaiting approval'] });
      await handle.terminate('recorded');
      return handle;
    }],
  ];
  const written: string[] = [];
  try {
    await invoices.runUntil(
      assistant.runUntil(async () => {
        for (const [name, converse] of conversations) {
          const { workflowId, runId } = await converse();
          const file = join(REPO_ROOT, 'tutorials', step, 'histories', `assistant-${name}.json`);
          writeFileSync(file, await historyJson(address, workflowId, runId));
          written.push(file);
          log('record', `${step}/assistant-workflow.ts: ${name} → ${file.slice(REPO_ROOT.length)}`);
        }
      }),
    );
  } finally {
    await pool.close();
  }
  return written;
}

if (isEntryPoint(import.meta.url)) {
  runMain(async () => {
    const started = Date.now();
    const written = await recordHistories(process.argv.slice(2));
    log('record', `${written.length} histories recorded in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
}
