// Proof for step 08: the workflow changed while invoices were in flight, safely.
//   1. The unsafe change (workflows-unsafe.ts) fails replay of an invoice approved on the old code
//      with a non-determinism error: caught here, not by a stuck invoice in production.
//   2. The change behind patched() (workflows.ts) replays every recorded history cleanly.
//   3. On a real dev server: an invoice waits for approval on the old code (workflows-v1.ts), the
//      worker is replaced by one running the new code, the invoice is approved, and it is paid on
//      the old path (no notification); a new invoice takes the new path.
//   4. On the same server, what the unsafe change does and does not break: an invoice waits for
//      approval on the old code, the worker is replaced by one running workflows-unsafe.ts, and the
//      invoice is approved and paid without error, the unsafe way (the customer is notified first);
//      an invoice paid on the old code cannot even be queried there (non-determinism error).
// And what an operator sees: the summary, details and current details, the timer's and the
// activities' summaries, read back through describe(), the metadata query and the history.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { DeterminismViolationError, workflowMetadataQuery } from '@temporalio/workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../shared/binaries.js';
import { startDevServer, type DevServer } from '../../shared/dev-server.js';
import { invoiceWorkflowId, sampleInvoice } from '../../shared/invoice.js';
import { Erp } from '../../shared/simulated-systems.js';
import { bundleOnce, uniqueName, waitFor } from '../../shared/testing.js';
import { createActivities, Outbox } from './activities.js';
import { LedgerGateway } from './ledger.js';
import { approveInvoice, getInvoiceStatus, invoiceMetadata, InvoiceWorkflow, NOTIFY_CUSTOMER_PATCH, rejectInvoice } from './workflows.js';

const HISTORIES = new URL('./histories/', import.meta.url);
/** The histories recorded from the code before the change (`npm run histories:record`). */
const v1Files = readdirSync(HISTORIES).filter((f) => f.startsWith('v1-')).sort();
const allFiles = readdirSync(HISTORIES).filter((f) => f.endsWith('.json')).sort();
const history = (file: string) => ({ workflowId: file, history: JSON.parse(readFileSync(new URL(file, HISTORIES), 'utf8')) });

let temporal: DevServer;
let env: TestWorkflowEnvironment;
let bundles: { v1: WorkflowBundle; patched: WorkflowBundle };
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(REPO_ROOT, '.temporal', 'test-08-'));
  // The server starts while the old and the new workflow code are bundled (the unsafe change is
  // bundled by proof 1, the only test that runs it).
  [env, bundles] = await Promise.all([
    (async () => {
      temporal = await startDevServer(); // a real `temporal server start-dev` on free loopback ports
      return TestWorkflowEnvironment.createFromExistingServer({ address: temporal.address });
    })(),
    (async () => ({
      v1: await bundleOnce(new URL('./workflows-v1.ts', import.meta.url)),
      patched: await bundleOnce(new URL('./workflows.ts', import.meta.url)),
    }))(),
  ]);
});

afterAll(async () => {
  await env?.teardown();
  await temporal?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Replays `files` against a bundle; returns each file's error, or undefined when it replayed cleanly. */
async function replay(workflowBundle: WorkflowBundle, files: string[]): Promise<Record<string, Error | undefined>> {
  const errors: Record<string, Error | undefined> = {};
  // #region replay
  for await (const result of Worker.runReplayHistories({ workflowBundle }, files.map(history))) {
    errors[result.workflowId] = result.error;
  }
  // #endregion replay
  return errors;
}

describe('08-versioning: replaying invoices recorded on the old code', () => {
  it('has an approved, a rejected, a timed-out and a failed invoice from the old code', () => {
    expect(v1Files).toEqual(['v1-approved.json', 'v1-failed.json', 'v1-rejected.json', 'v1-timed-out.json']);
  });

  it('proof 1: the unsafe change fails replay of the approved invoice with a non-determinism error', async () => {
    const unsafe = await bundleOnce(new URL('./workflows-unsafe.ts', import.meta.url));
    const errors = await replay(unsafe, v1Files);
    const error = errors['v1-approved.json'];
    expect(error).toBeInstanceOf(DeterminismViolationError);
    expect(error?.message).toMatch(/Nondeterminism error: Activity type of scheduled event 'processPayment' does not match activity type of activity command 'notifyCustomer'/);
    // The others never got as far as the change, so they replay: only a fixture for every path catches everything.
    expect(errors).toMatchObject({ 'v1-failed.json': undefined, 'v1-rejected.json': undefined, 'v1-timed-out.json': undefined });
  });

  it('Part A: proof 2: the change behind patched() replays every history, old and new, cleanly', async () => {
    const errors = await replay(bundles.patched, allFiles);
    expect(Object.keys(errors)).toEqual(allFiles);
    expect(Object.entries(errors).filter(([, error]) => error)).toEqual([]);
  });
});

/** The activity types in a workflow's history, in order, and whether it carries the patch marker. */
async function pathOf(handle: WorkflowHandle) {
  const events = (await handle.fetchHistory()).events ?? [];
  return {
    activities: events.flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name] : [])),
    patchMarker: events.some((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch'),
  };
}

/** A summary attached to a history event (timer, activity), decoded. */
function summaryOf(event: { userMetadata?: { summary?: unknown } | null }): string | undefined {
  const payload = event.userMetadata?.summary;
  return payload ? defaultPayloadConverter.fromPayload(payload as never) : undefined;
}

describe('08-versioning: a deploy while an invoice waits for approval', () => {
  it('Part A: proof 3: an invoice started on the old code is approved on the new code and paid on the old path; a new one is notified first', async () => {
    const taskQueue = uniqueName('tq');
    const outbox = new Outbox();
    const activities = createActivities(new Erp(), new LedgerGateway(join(dir, 'ledger.jsonl')), outbox);
    const old = sampleInvoice(uniqueName('INV-OLD'));
    const oldHandle = env.client.workflow.getHandle<typeof InvoiceWorkflow>(invoiceWorkflowId(old.id));

    // #region deploy
    // The old code: the invoice is validated and waits for approval.
    const oldWorker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundles.v1, activities });
    await oldWorker.runUntil(async () => {
      await env.client.workflow.start(InvoiceWorkflow, { taskQueue, workflowId: oldHandle.workflowId, args: [old], ...invoiceMetadata(old) });
      await waitFor(() => oldHandle.query(getInvoiceStatus), (s) => s.state === 'AWAITING_APPROVAL', { retryErrors: true });
    }); // the old worker is shut down here: the deploy

    // The new code takes over the same task queue; the waiting invoice is approved there.
    const newWorker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundles.patched, activities });
    // #endregion deploy
    const fresh = sampleInvoice(uniqueName('INV-NEW'));
    const [oldResult, freshResult, freshHandle] = await newWorker.runUntil(async () => {
      const freshHandle = await env.client.workflow.start(InvoiceWorkflow, { taskQueue, workflowId: invoiceWorkflowId(fresh.id), args: [fresh] });
      await waitFor(() => freshHandle.query(getInvoiceStatus), (s) => s.state === 'AWAITING_APPROVAL', { retryErrors: true });
      await oldHandle.executeUpdate(approveInvoice, { args: [{ by: 'alice' }] });
      await freshHandle.executeUpdate(approveInvoice, { args: [{ by: 'alice' }] });
      return [await oldHandle.result(), await freshHandle.result(), freshHandle] as const;
    });

    // The old invoice: paid in full, on the old path: no notification, no patch marker.
    expect(oldResult).toMatchObject({ state: 'PAID', linesPaid: 3, amountPaid: 268.49, decision: { approved: true, by: 'alice' } });
    expect(await pathOf(oldHandle)).toEqual({ activities: ['validateInvoice', 'processPayment', 'processPayment', 'processPayment'], patchMarker: false });
    // The new invoice: the customer was told, before the money moved.
    expect(freshResult).toMatchObject({ state: 'PAID', linesPaid: 3, amountPaid: 268.49 });
    expect(await pathOf(freshHandle)).toEqual({
      activities: ['validateInvoice', 'notifyCustomer', 'processPayment', 'processPayment', 'processPayment'],
      patchMarker: true,
    });
    expect(outbox.sent.map((n) => n.invoiceId)).toEqual([fresh.id]);
    expect(NOTIFY_CUSTOMER_PATCH).toBe('notify-customer-before-payment');
  });

  it('proof 4: the unsafe change, deployed while an invoice waits: it is approved and paid without error, notified first; one paid on the old code fails replay', async () => {
    const taskQueue = uniqueName('tq');
    const outbox = new Outbox();
    const gateway = new LedgerGateway(join(dir, 'ledger-unsafe.jsonl'));
    const activities = createActivities(new Erp(), gateway, outbox);
    const [waiting, paid] = [sampleInvoice(uniqueName('INV-WAIT')), sampleInvoice(uniqueName('INV-PAID'))];
    const waitingHandle = env.client.workflow.getHandle<typeof InvoiceWorkflow>(invoiceWorkflowId(waiting.id));
    const paidHandle = env.client.workflow.getHandle<typeof InvoiceWorkflow>(invoiceWorkflowId(paid.id));

    // The old code: one invoice is approved and paid, the other waits for approval.
    const oldWorker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundles.v1, activities });
    await oldWorker.runUntil(async () => {
      await env.client.workflow.start(InvoiceWorkflow, { taskQueue, workflowId: paidHandle.workflowId, args: [paid], ...invoiceMetadata(paid) });
      await env.client.workflow.start(InvoiceWorkflow, { taskQueue, workflowId: waitingHandle.workflowId, args: [waiting], ...invoiceMetadata(waiting) });
      await waitFor(() => paidHandle.query(getInvoiceStatus), (s) => s.state === 'AWAITING_APPROVAL', { retryErrors: true });
      await paidHandle.executeUpdate(approveInvoice, { args: [{ by: 'alice' }] });
      await paidHandle.result();
      await waitFor(() => waitingHandle.query(getInvoiceStatus), (s) => s.state === 'AWAITING_APPROVAL', { retryErrors: true });
    }); // the old worker is shut down here: the unsafe deploy

    // The unsafe code takes over. It knows the waiting invoice only by its history, and replays it
    // up to the wait: validateInvoice, then the approval timer, as the old code did. Approved now,
    // the invoice goes on down the unsafe code's path.
    const unsafeWorker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await bundleOnce(new URL('./workflows-unsafe.ts', import.meta.url)),
      activities,
    });
    const [result, paidQuery] = await unsafeWorker.runUntil(async () => {
      await waitingHandle.executeUpdate(approveInvoice, { args: [{ by: 'alice' }] });
      const result = await waitingHandle.result();
      // The paid invoice's history has processPayment right after the approval; this code
      // schedules notifyCustomer there. A query replays the history, so it fails.
      const paidQuery = await paidHandle.query(getInvoiceStatus).then(() => undefined, (err: unknown) => err);
      return [result, paidQuery] as const;
    });

    // The waiting invoice: paid in full, each line once, and no workflow task ever failed on the way.
    expect(result).toMatchObject({ state: 'PAID', linesPaid: 3, amountPaid: 268.49, decision: { approved: true, by: 'alice' } });
    expect(result.payments.map((p) => [p.item, p.amount])).toEqual([['Laptop stand', 49.99], ['USB-C dock', 129], ['Ergonomic keyboard', 89.5]]);
    expect(gateway.charges().filter((c) => c.idempotencyKey.startsWith(`${waitingHandle.workflowId}/`))).toHaveLength(3);
    const events = (await waitingHandle.fetchHistory()).events ?? [];
    expect(events.filter((e) => e.workflowTaskFailedEventAttributes)).toEqual([]);
    // What the unsafe path does differently: the customer hears before the money moves, although
    // the invoice started on the old code and no patch marker says it should.
    expect(await pathOf(waitingHandle)).toEqual({
      activities: ['validateInvoice', 'notifyCustomer', 'processPayment', 'processPayment', 'processPayment'],
      patchMarker: false,
    });
    expect(outbox.sent.map((n) => n.invoiceId)).toEqual([waiting.id]);
    // The invoice paid on the old code is what the unsafe change breaks.
    expect(String(paidQuery)).toMatch(/Nondeterminism error: Activity type of scheduled event 'processPayment' does not match activity type of activity command 'notifyCustomer'/);
  });
});

describe('08-versioning: what an operator sees in the Web UI', () => {
  it('Part B, Part C: a summary and details from the start, current details that follow the state, named timer and activities', async () => {
    const taskQueue = uniqueName('tq');
    const invoice = { ...sampleInvoice(uniqueName('INV')), customer: 'ACME Corp' };
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: bundles.patched,
      activities: createActivities(new Erp(), new LedgerGateway(join(dir, 'ledger-ui.jsonl')), new Outbox()),
    });
    await worker.runUntil(async () => {
      // #region start-with-metadata
      const handle = await env.client.workflow.start(InvoiceWorkflow, {
        taskQueue,
        workflowId: invoiceWorkflowId(invoice.id),
        args: [invoice, { approvalTimeout: '2 hours' }],
        ...invoiceMetadata(invoice, '2 hours'), // staticSummary and staticDetails
      });
      // #endregion start-with-metadata
      const waiting = await waitFor(() => handle.query(getInvoiceStatus), (s) => s.state === 'AWAITING_APPROVAL', { retryErrors: true });

      // #region read-metadata
      const description = await handle.describe();
      expect(await description.staticSummary()).toBe(`Invoice ${invoice.id} · ACME Corp · 268.49`);
      expect(await description.staticDetails()).toBe(
        '**ACME Corp**, 3 line(s), approval within 2 hours:\n\n1. Laptop stand: 49.99\n2. USB-C dock: 129.00\n3. Ergonomic keyboard: 89.50',
      );
      // Current details change with the state; the Web UI reads them with this built-in query.
      const metadata = await handle.query(workflowMetadataQuery);
      expect(metadata.currentDetails).toBe(`Waiting for approval until ${waiting.approvalDeadline}.`);
      // #endregion read-metadata

      await handle.executeUpdate(approveInvoice, { args: [{ by: 'alice' }] });
      await handle.result();
      expect((await handle.query(workflowMetadataQuery)).currentDetails).toBe('Paid 268.49 in 3 charge(s), approved by alice.');

      // The timeline, as the Web UI draws it from the history.
      const events = (await handle.fetchHistory()).events ?? [];
      expect(events.filter((e) => e.timerStartedEventAttributes).map(summaryOf)).toEqual(['approval deadline']);
      expect(events.filter((e) => e.activityTaskScheduledEventAttributes).map(summaryOf)).toEqual([
        'check invoice with the ERP',
        'notify ACME Corp',
        'charge line 1: Laptop stand 49.99',
        'charge line 2: USB-C dock 129.00',
        'charge line 3: Ergonomic keyboard 89.50',
      ]);
    });
  });

  it('Part C: current details say how an invoice ended: rejected, or timed out', async () => {
    const taskQueue = uniqueName('tq');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: bundles.patched,
      activities: createActivities(new Erp(), new LedgerGateway(join(dir, 'ledger-ended.jsonl')), new Outbox()),
    });
    await worker.runUntil(async () => {
      const [rejected, late] = [sampleInvoice(uniqueName('INV')), sampleInvoice(uniqueName('INV'))];
      const rejectedHandle = await env.client.workflow.start(InvoiceWorkflow, { taskQueue, workflowId: invoiceWorkflowId(rejected.id), args: [rejected] });
      const lateHandle = await env.client.workflow.start(InvoiceWorkflow, { taskQueue, workflowId: invoiceWorkflowId(late.id), args: [late, { approvalTimeout: '1 second' }] });
      await waitFor(() => rejectedHandle.query(getInvoiceStatus), (s) => s.state === 'AWAITING_APPROVAL', { retryErrors: true });
      expect((await rejectedHandle.query(workflowMetadataQuery)).currentDetails).toMatch(/^Waiting for approval until /);
      await rejectedHandle.executeUpdate(rejectInvoice, { args: [{ by: 'bob', reason: 'not ordered' }] });
      await rejectedHandle.result();
      expect((await rejectedHandle.query(workflowMetadataQuery)).currentDetails).toBe('Rejected by bob: not ordered. Nothing was paid.');
      const { approvalDeadline } = await lateHandle.result();
      expect((await lateHandle.query(workflowMetadataQuery)).currentDetails).toBe(`Timed out at ${approvalDeadline}: nobody decided, nothing was paid.`);
    });
  });
});
