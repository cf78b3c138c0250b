// Proof for step 06: crash the assistant, the worker and Temporal itself, with 20 invoices each,
// and check that every invoice is PAID, every line charged exactly once, and no approval lost.
// First, in-process and in a second: the idempotency key that makes a retried payment harmless.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { MockActivityEnvironment, TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existingExecutable, REPO_ROOT } from '../../shared/binaries.js';
import { freePort, onFreePort } from '../../shared/dev-server.js';
import { invoiceWorkflowId, sampleInvoice } from '../../shared/invoice.js';
import type { ScriptProcess } from '../../shared/processes.js';
import { Erp } from '../../shared/simulated-systems.js';
import { bundleOnce, uniqueName } from '../../shared/testing.js';
import { createActivities } from './activities.js';
import { duplicateCharges, LedgerGateway } from './ledger.js';
import { sceneAssistantGoesAway, sceneTemporalRestarts, sceneWorkerDies, Stage } from './scenes.js';
import { approveInvoice, getInvoiceStatus, InvoiceWorkflow } from './workflows.js';

const INVOICES = 20;
let stage: Stage;
let workerStarting: Promise<ScriptProcess>;
let dir: string;


/** A gateway whose first reply for each line is lost after the money moved: what a crash looks like to Temporal. */
class LosesFirstReply extends LedgerGateway {
  calls = 0;
  /** The idempotency key of every call, in order. */
  readonly keys: string[] = [];
  private answered = new Set<string>();
  override async charge(...args: Parameters<LedgerGateway['charge']>) {
    this.calls++;
    this.keys.push(args[0]);
    const charge = await super.charge(...args);
    if (!this.answered.has(args[0])) {
      this.answered.add(args[0]);
      throw new Error('connection reset after the charge went through');
    }
    return charge;
  }
}

// The two groups below share nothing, so they run side by side (describe.concurrent); the tests
// inside each run one after the other (it.sequential), in the order written.
describe.concurrent('06-durability-demo: the idempotency key and heartbeats, in-process', () => {
  // One time-skipping test server for these tests; the crash scenes below start their own.
  let env: TestWorkflowEnvironment;
  let keyDir: string;
  beforeAll(async () => {
    keyDir = mkdtempSync(join(REPO_ROOT, '.temporal', 'test-06-key-'));
    env = await onFreePort((port) => TestWorkflowEnvironment.createTimeSkipping({ server: { executable: existingExecutable('testServer'), port } }));
  });
  afterAll(async () => {
    await env?.teardown();
    rmSync(keyDir, { recursive: true, force: true });
  });

  /** Runs one approved invoice on a worker of its own against `gateway`; returns its result and its handle. */
  async function payInvoice(gateway: LedgerGateway) {
    const taskQueue = uniqueName('tq');
    const invoice = sampleInvoice(uniqueName('INV'));
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await bundleOnce(new URL('./workflows.ts', import.meta.url)),
      activities: createActivities(new Erp(), gateway),
    });
    return worker.runUntil(async () => {
      const handle = await env.client.workflow.start(InvoiceWorkflow, { taskQueue, workflowId: invoiceWorkflowId(invoice.id), args: [invoice] });
      while ((await handle.query(getInvoiceStatus)).state !== 'AWAITING_APPROVAL') await new Promise((r) => setTimeout(r, 20));
      await handle.executeUpdate(approveInvoice, { args: [{ by: 'alice' }] });
      return { invoice, handle, result: await handle.result() };
    });
  }

  it.sequential('Part A, Part C: charges each line once when every payment is retried after its charge went through', async () => {
    const gateway = new LosesFirstReply(join(keyDir, `${uniqueName('ledger')}.jsonl`));
    const { invoice, result } = await payInvoice(gateway);
    expect(result.state).toBe('PAID');
    expect(gateway.calls).toBe(6); // every line tried twice ...
    const charges = gateway.charges();
    expect(charges.map((c) => c.amount)).toEqual([49.99, 129, 89.5]); // ... and charged once
    expect(duplicateCharges(charges)).toEqual([]);
    expect(result.payments.map((p) => p.chargeId)).toEqual(charges.map((c) => c.chargeId));
    // Part A: both attempts at a line sent the same key, made of the workflow id and the line.
    expect(gateway.keys).toEqual([0, 0, 1, 1, 2, 2].map((i) => `invoice-${invoice.id}/line-${i}`));
  });

  it.sequential('Part B: the payment heartbeats while the gateway works', async () => {
    const activity = new MockActivityEnvironment({ workflowExecution: { workflowId: 'invoice-INV-HB', runId: 'run-1' } }, { logger: new DefaultLogger('ERROR') });
    let heartbeats = 0;
    activity.on('heartbeat', () => heartbeats++);
    const gateway = new LedgerGateway(join(keyDir, `${uniqueName('ledger')}.jsonl`), 400); // 400 ms per charge
    const { processPayment } = createActivities(new Erp(), gateway);
    const payment = await activity.run(processPayment, { invoiceId: 'INV-HB', lineIndex: 0, line: { item: 'Laptop stand', amount: 49.99 } });
    expect(payment).toMatchObject({ lineIndex: 0, amount: 49.99 });
    expect(heartbeats, 'no heartbeat while the gateway worked').toBeGreaterThanOrEqual(2);
  });

  it.sequential('Part B: payments get a 3 s heartbeat timeout, so a dead worker is noticed in seconds, not 30', async () => {
    const { handle, result } = await payInvoice(new LedgerGateway(join(keyDir, `${uniqueName('ledger')}.jsonl`)));
    expect(result.state).toBe('PAID');
    const { events } = await handle.fetchHistory();
    const scheduled = (events ?? []).map((e) => e.activityTaskScheduledEventAttributes).filter((a) => a?.activityType?.name === 'processPayment');
    expect(scheduled).toHaveLength(3);
    for (const attributes of scheduled) expect(String(attributes?.heartbeatTimeout?.seconds ?? 'none')).toBe('3');
  });

  it.sequential('Part C: the ledger charges a key once, and answers a repeated key with the first charge', async () => {
    const gateway = new LedgerGateway(join(keyDir, `${uniqueName('ledger')}.jsonl`));
    const first = await gateway.charge('invoice-INV-1/line-0', 'invoice-INV-1/line-0', 49.99);
    const again = await gateway.charge('invoice-INV-1/line-0', 'invoice-INV-1/line-0', 49.99);
    const other = await gateway.charge('invoice-INV-1/line-1', 'invoice-INV-1/line-1', 129);
    expect(again).toEqual(first);
    expect(other.chargeId).not.toBe(first.chargeId);
    expect(gateway.charges().map((c) => c.idempotencyKey)).toEqual(['invoice-INV-1/line-0', 'invoice-INV-1/line-1']);
  });
});

describe.concurrent('06-durability-demo: three crash scenes', () => {
  // Started only when a scene runs (so `-t "Part"` skips them): a dev server on a database file
  // and a worker process, as the demo uses.
  beforeAll(async () => {
    dir = mkdtempSync(join(REPO_ROOT, '.temporal', 'test-06-'));
    stage = await Stage.open({ dir, port: await freePort(), paymentDelayMs: 100, say: () => {} });
    // Not awaited: the worker starts (seconds) while scene 1 opens its MCP server and submits;
    // the invoices wait in Temporal until it polls.
    workerStarting = stage.startWorker();
  }, 120_000);

  afterAll(async () => {
    await stage?.close(); // every process this file started, also when a test failed
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.sequential('scene 1: a new MCP server finds every waiting invoice after the old one was killed', { timeout: 120_000 }, async () => {
    const [verdict] = await Promise.all([sceneAssistantGoesAway(stage, INVOICES), workerStarting]);
    expect(verdict).toMatchObject({ paid: INVOICES, charges: INVOICES * 3, duplicates: 0, checks: { 'all found by the new server': true } });
    expect(verdict.ok).toBe(true);
  });

  it.sequential('scene 2: workers killed mid-payment, twice: every line charged exactly once', { timeout: 180_000 }, async () => {
    const result = await sceneWorkerDies(stage, INVOICES, await workerStarting);
    expect(result.verdict).toMatchObject({ paid: INVOICES, charges: INVOICES * 3, duplicates: 0 });
    expect(result.verdict.ok).toBe(true);
  });

  it.sequential('scene 3: Temporal restarts on its database file: invoices still waiting, deadlines unchanged, approvals pay', { timeout: 180_000 }, async () => {
    const verdict = await sceneTemporalRestarts(stage, INVOICES);
    expect(verdict.checks).toEqual({ 'still waiting after restart': true, 'deadlines unchanged': true });
    expect(verdict).toMatchObject({ paid: INVOICES, charges: INVOICES * 3, duplicates: 0 });
  });
});

