// Proof for step 02: nothing is paid until a human decides; approve pays, reject pays nothing,
// and the first decision is final.
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existingExecutable } from '../../shared/binaries.js';
import { onFreePort } from '../../shared/dev-server.js';
import { invoiceWorkflowId, sampleInvoice } from '../../shared/invoice.js';
import { Erp, PaymentGateway } from '../../shared/simulated-systems.js';
import { bundleOnce, uniqueName } from '../../shared/testing.js';
import { createActivities } from './activities.js';
import { approveInvoice, InvoiceWorkflow, rejectInvoice } from './workflows.js';

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

/** Starts one invoice, lets `decide` signal it, and returns the result and what was charged. */
async function runInvoice(decide: (handle: WorkflowHandle<typeof InvoiceWorkflow>) => Promise<void>) {
  const gateway = new PaymentGateway();
  const taskQueue = uniqueName('tq'); // each test its own queue, so no worker serves another test's invoice
  const invoice = sampleInvoice(uniqueName('INV'));
  // #region test-worker
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle,
    activities: createActivities(new Erp(), gateway),
  });
  // The worker polls while the invoice runs, then shuts down: runUntil settles like the invoice did.
  const result = await worker.runUntil(async () => {
    const handle = await env.client.workflow.start(InvoiceWorkflow, { taskQueue, workflowId: invoiceWorkflowId(invoice.id), args: [invoice] });
    expect(gateway.attempts).toBe(0); // nothing is paid before a human decides
    await decide(handle);
    return handle.result();
  });
  // #endregion test-worker
  return { result, gateway };
}

describe('02-signals: approve / reject', () => {
  it('Part A: pays every line once approved', async () => {
    const { result, gateway } = await runInvoice((h) => h.signal(approveInvoice, { by: 'alice' }));
    expect(result.state).toBe('PAID');
    expect(result.decision).toEqual({ approved: true, by: 'alice' });
    expect(gateway.charges.map((c) => c.amount)).toEqual([49.99, 129, 89.5]);
  });

  it('Part B: pays nothing once rejected, and keeps who rejected it and why', async () => {
    const { result, gateway } = await runInvoice((h) => h.signal(rejectInvoice, { by: 'bob', reason: 'duplicate' }));
    expect(result).toMatchObject({ state: 'REJECTED', amountPaid: 0, decision: { approved: false, by: 'bob', reason: 'duplicate' } });
    expect(gateway.attempts).toBe(0);
  });

  it('Part C: keeps the first decision: a later reject cannot undo an approval', async () => {
    const { result, gateway } = await runInvoice(async (h) => {
      await h.signal(approveInvoice, { by: 'alice' });
      // Usually the workflow is still paying when the reject arrives; if it has already finished,
      // Temporal refuses the signal: either way the reject changes nothing.
      await h.signal(rejectInvoice, { by: 'mallory', reason: 'too late' }).catch((err: unknown) => expect(err).toBeInstanceOf(WorkflowNotFoundError));
    });
    expect(result.state).toBe('PAID');
    expect(result.decision.by).toBe('alice');
    expect(gateway.charges).toHaveLength(3);
  });

  it('Part C: keeps the first decision even when both arrive together', async () => {
    // Both signals are sent before any worker runs, so the workflow receives them in one batch:
    // the approval comes first and must stand; the reject after it is ignored.
    const gateway = new PaymentGateway();
    const taskQueue = uniqueName('tq');
    const invoice = sampleInvoice(uniqueName('INV'));
    const handle = await env.client.workflow.start(InvoiceWorkflow, { taskQueue, workflowId: invoiceWorkflowId(invoice.id), args: [invoice] });
    await handle.signal(approveInvoice, { by: 'alice' });
    await handle.signal(rejectInvoice, { by: 'mallory', reason: 'too late' });
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities: createActivities(new Erp(), gateway) });
    const result = await worker.runUntil(handle.result());
    expect(result).toMatchObject({ state: 'PAID', amountPaid: 268.49, decision: { approved: true, by: 'alice' } });
    expect(gateway.charges).toHaveLength(3);
  });
});
