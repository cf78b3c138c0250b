// Proof for step 04: the approval wait has a deadline. On the time-skipping test server five
// simulated days pass in about a second of real time, and the test measures both clocks.
import { WorkflowFailedError } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existingExecutable } from '../../shared/binaries.js';
import { onFreePort } from '../../shared/dev-server.js';
import { invoiceWorkflowId, sampleInvoice } from '../../shared/invoice.js';
import { Erp, PaymentGateway } from '../../shared/simulated-systems.js';
import { bundleOnce, uniqueName } from '../../shared/testing.js';
import { createActivities } from './activities.js';
import { approveInvoice, getInvoiceStatus, InvoiceWorkflow, type InvoiceOptions, type InvoiceStatus } from './workflows.js';

const DAY = 24 * 60 * 60 * 1000;

let env: TestWorkflowEnvironment;
let workflowBundle: WorkflowBundle;
beforeAll(async () => {
  // #region test-env
  // Temporal's test server on a free port for this file (another one if that port is taken
  // first); its timers skip ahead.
  env = await onFreePort((port) => TestWorkflowEnvironment.createTimeSkipping({ server: { executable: existingExecutable('testServer'), port } }));
  // #endregion test-env
  workflowBundle = await bundleOnce(new URL('./workflows.ts', import.meta.url)); // one bundle for every test's worker
});
afterAll(async () => {
  await env?.teardown();
});

/**
 * Runs one invoice; `during` may sleep (simulated time) and approve. Measures both clocks:
 * simulated time from the workflow's own start and close times, real time with Date.now().
 */
async function runInvoice(options: InvoiceOptions, during: (approve: (by: string) => Promise<void>) => Promise<void> = async () => {}) {
  const gateway = new PaymentGateway();
  const taskQueue = uniqueName('tq'); // each test its own queue, so no worker serves another test's invoice
  const invoice = sampleInvoice(uniqueName('INV'));
  const realStart = Date.now();
  // #region test-worker
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle,
    activities: createActivities(new Erp(), gateway),
  });
  // The worker polls while the invoice runs, then shuts down: runUntil settles like the invoice did.
  const { result, startTime, closeTime } = await worker.runUntil(async () => {
    const handle = await env.client.workflow.start(InvoiceWorkflow, {
      taskQueue,
      workflowId: invoiceWorkflowId(invoice.id),
      args: [invoice, options],
    });
    await during((by) => handle.signal(approveInvoice, { by }));
    const result: InvoiceStatus = await handle.result(); // awaiting the result lets the server skip ahead to the next timer
    const { startTime, closeTime } = await handle.describe();
    return { result, startTime: startTime.getTime(), closeTime: closeTime!.getTime() };
  });
  // #endregion test-worker
  return { result, gateway, simulatedMs: closeTime - startTime, realMs: Date.now() - realStart, startTime };
}

describe('04-durable-timers: the approval deadline', () => {
  it('Part A: times out after 5 simulated days with no decision, paying nothing, in a thousandth of that in real time (Part B: at the deadline it showed)', async () => {
    const { result, gateway, simulatedMs, realMs, startTime } = await runInvoice({});
    expect(result.state).toBe('TIMED_OUT');
    expect(result.decision).toBeNull();
    expect(gateway.attempts).toBe(0);
    expect(simulatedMs).toBeGreaterThanOrEqual(5 * DAY);
    expect(simulatedMs).toBeLessThan(5 * DAY + 60_000);
    // The deadline the query showed is 5 days after the invoice started: validation takes a moment of
    // real time first (seconds on a loaded machine), which is nothing next to five days.
    const deadline = Date.parse(result.approvalDeadline!);
    expect(deadline - startTime).toBeGreaterThanOrEqual(5 * DAY);
    expect(deadline - startTime).toBeLessThan(5 * DAY + 30_000);
    // Time skipping, not a fast machine: how many seconds it takes depends on the load, but without
    // skipping it would take the five days themselves. A thousandth of them is over 7 minutes.
    expect(realMs).toBeLessThan(simulatedMs / 1000);
  });

  it('Part A: still pays when approved on day 4, in a thousandth of that in real time', async () => {
    const { result, gateway, simulatedMs, realMs } = await runInvoice({}, async (approve) => {
      await env.sleep('4 days'); // four simulated days pass while the invoice waits
      await approve('alice');
    });
    expect(result.state).toBe('PAID');
    expect(result.decision?.by).toBe('alice');
    expect(Date.parse(result.decision!.at)).toBeLessThan(Date.parse(result.approvalDeadline!));
    expect(gateway.charges).toHaveLength(3);
    expect(simulatedMs).toBeGreaterThanOrEqual(4 * DAY);
    expect(simulatedMs).toBeLessThan(5 * DAY);
    expect(realMs).toBeLessThan(simulatedMs / 1000);
  });

  it('Part C: uses the deadline set for this invoice', async () => {
    const { result, simulatedMs } = await runInvoice({ approvalTimeout: '2 hours' });
    expect(result.state).toBe('TIMED_OUT');
    expect(simulatedMs).toBeGreaterThanOrEqual(2 * 60 * 60 * 1000);
    expect(simulatedMs).toBeLessThan(DAY);
  });

  it('Part B: reports the deadline while the invoice waits (Part C: the deadline set for this invoice)', async () => {
    const taskQueue = uniqueName('tq');
    const invoice = sampleInvoice(uniqueName('INV'));
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle,
      activities: createActivities(new Erp(), new PaymentGateway()),
    });
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(InvoiceWorkflow, { taskQueue, workflowId: invoiceWorkflowId(invoice.id), args: [invoice, { approvalTimeout: '3 days' }] });
      let status = await handle.query(getInvoiceStatus);
      for (let i = 0; status.state !== 'AWAITING_APPROVAL' && i < 100; i++) {
        await new Promise((r) => setTimeout(r, 50));
        status = await handle.query(getInvoiceStatus);
      }
      expect(status.state).toBe('AWAITING_APPROVAL');
      const startTime = (await handle.describe()).startTime.getTime();
      expect(Date.parse(status.approvalDeadline!) - startTime).toBeGreaterThanOrEqual(3 * DAY);
      expect(Date.parse(status.approvalDeadline!) - startTime).toBeLessThan(3 * DAY + 30_000);
      await handle.terminate('test done');
    });
  });

  it('Part C: fails at once, saying why, when the deadline set for this invoice is not a duration', async () => {
    const taskQueue = uniqueName('tq');
    const invoice = sampleInvoice(uniqueName('INV'));
    const gateway = new PaymentGateway();
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities: createActivities(new Erp(), gateway) });
    const err = await worker.runUntil(
      env.client.workflow
        .execute(InvoiceWorkflow, { taskQueue, workflowId: invoiceWorkflowId(invoice.id), args: [invoice, { approvalTimeout: '5 dyas' as InvoiceOptions['approvalTimeout'] }] })
        .catch((e: unknown) => e),
    );
    expect(err, 'the invoice did not fail: is approvalTimeout checked?').toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause?.message).toMatch(/approvalTimeout must be a positive duration.*"5 dyas"/);
    expect(gateway.attempts).toBe(0);
  });
});
