// Proof for step 01: every line is paid exactly once, a flaky gateway is retried (10 attempts at most),
// a decline is not. Tests named "Part A/B/C" prove the parts of the exercise (see README).
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existingExecutable } from '../../shared/binaries.js';
import { onFreePort } from '../../shared/dev-server.js';
import { invoiceWorkflowId, sampleInvoice } from '../../shared/invoice.js';
import { Erp, PaymentGateway, type SimulationOptions } from '../../shared/simulated-systems.js';
import { bundleOnce, uniqueName } from '../../shared/testing.js';
import { createActivities } from './activities.js';
import { InvoiceWorkflow } from './workflows.js';

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

/** Runs one invoice to completion against systems set up with `simulation`. */
async function runInvoice(simulation: SimulationOptions = {}) {
  const gateway = new PaymentGateway(simulation);
  const taskQueue = uniqueName('tq'); // each test its own queue, so no worker serves another test's invoice
  const invoice = sampleInvoice(uniqueName('INV'));
  // #region test-worker
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle,
    activities: createActivities(new Erp(simulation), gateway),
  });
  // The worker polls while the invoice runs, then shuts down: runUntil settles like the workflow did.
  const outcome = worker.runUntil(
    env.client.workflow.execute(InvoiceWorkflow, { taskQueue, workflowId: invoiceWorkflowId(invoice.id), args: [invoice] }),
  );
  // #endregion test-worker
  return { invoice, gateway, outcome };
}

describe('01-activities: InvoiceWorkflow', () => {
  it('Part A: pays every line exactly once, in order, and returns what was paid', async () => {
    const { invoice, gateway, outcome } = await runInvoice();
    const result = await outcome;
    expect(result.amountPaid).toBe(268.49); // 49.99 + 129.00 + 89.50
    expect(result.payments.map((p) => p.lineIndex)).toEqual([0, 1, 2]);
    expect(gateway.charges.map((c) => c.reference)).toEqual([0, 1, 2].map((i) => `invoice-${invoice.id}/line-${i}`));
  });

  it('retries a flaky gateway and still pays each line once', async () => {
    const { gateway, outcome } = await runInvoice({ gatewayFailFirst: 3 });
    const result = await outcome;
    expect(gateway.attempts).toBe(6); // 3 failures + 3 successful charges
    expect(gateway.charges).toHaveLength(3);
    expect(result.amountPaid).toBe(268.49);
  });

  it('Part B: gives up on a gateway that stays down, after 10 attempts', async () => {
    // Down for 12 attempts: the payment policy allows 10, so the invoice fails, and says why.
    const { gateway, outcome } = await runInvoice({ gatewayFailFirst: 12 });
    const err = await outcome.catch((e: unknown) => e);
    expect(err, 'the invoice was paid: is there a retry policy with maximumAttempts: 10?').toBeInstanceOf(WorkflowFailedError);
    const activityFailure = (err as WorkflowFailedError).cause as ActivityFailure;
    expect(activityFailure.retryState).toBe(RetryState.MAXIMUM_ATTEMPTS_REACHED);
    expect(activityFailure.cause?.message).toMatch(/payment gateway unavailable/);
    expect(gateway.attempts).toBe(10);
    expect(gateway.charges).toHaveLength(0);
  });

  it('retries a flaky ERP check before paying', async () => {
    const { gateway, outcome } = await runInvoice({ erpFailFirst: 2 });
    await outcome;
    expect(gateway.charges).toHaveLength(3);
  });

  it('Part C: fails on a declined payment without retrying it', async () => {
    // 49.99 goes through, 129.00 is above the limit and is declined.
    const { gateway, outcome } = await runInvoice({ gatewayDeclineOver: 100 });
    const err = await outcome.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const activityFailure = (err as WorkflowFailedError).cause as ActivityFailure;
    expect(activityFailure).toBeInstanceOf(ActivityFailure);
    expect(activityFailure.retryState).toBe(RetryState.NON_RETRYABLE_FAILURE);
    expect(activityFailure.cause).toBeInstanceOf(ApplicationFailure);
    expect(activityFailure.cause?.message).toMatch(/insufficient funds/);
    expect(gateway.attempts).toBe(2); // line 0 once, line 1 once, never again
    expect(gateway.charges.map((c) => c.amount)).toEqual([49.99]);
  });

  it('Part C: pays nothing, and retries nothing, when the ERP says the invoice does not match', async () => {
    const { gateway, outcome } = await runInvoice({ erpMaxTotal: 100 });
    const err = (await outcome.catch((e: unknown) => e)) as WorkflowFailedError;
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err.cause as ActivityFailure).cause?.message).toMatch(/above its purchase order/);
    expect((err.cause as ActivityFailure).retryState).toBe(RetryState.NON_RETRYABLE_FAILURE);
    expect(gateway.attempts).toBe(0);
  });
});
