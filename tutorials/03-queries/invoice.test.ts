// Proof for step 03: anyone can read the invoice's live state with a query, at every stage.
import { WorkflowFailedError } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existingExecutable } from '../../shared/binaries.js';
import { onFreePort } from '../../shared/dev-server.js';
import { invoiceWorkflowId, sampleInvoice, type Invoice } from '../../shared/invoice.js';
import { Erp, PaymentGateway, type SimulationOptions } from '../../shared/simulated-systems.js';
import { bundleOnce, uniqueName, waitFor } from '../../shared/testing.js';
import { createActivities } from './activities.js';
import { approveInvoice, getInvoiceStatus, InvoiceWorkflow, rejectInvoice, type InvoiceState } from './workflows.js';

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

/** A gateway that holds every charge until `release()`, so a test can look at PAYING. */
class HeldGateway extends PaymentGateway {
  private opened = false;
  release() {
    this.opened = true;
  }
  override async charge(reference: string, amount: number) {
    while (!this.opened) await new Promise((resolve) => setTimeout(resolve, 20));
    return super.charge(reference, amount);
  }
}

/** An ERP that holds every check until `release()`, so a test can look at VALIDATING. */
class HeldErp extends Erp {
  private opened = false;
  release() {
    this.opened = true;
  }
  override async check(invoice: Invoice) {
    while (!this.opened) await new Promise((resolve) => setTimeout(resolve, 20));
    return super.check(invoice);
  }
}

/** Runs `story` with a worker and a started invoice; `story` reads states through the query. */
async function withInvoice<T>(
  systems: { erp: Erp; gateway: PaymentGateway },
  story: (h: {
    stateBecomes: (state: InvoiceState) => Promise<unknown>;
    handle: Awaited<ReturnType<typeof env.client.workflow.start<typeof InvoiceWorkflow>>>;
  }) => Promise<T>,
): Promise<T> {
  const taskQueue = uniqueName('tq'); // each test its own queue, so no worker serves another test's invoice
  const invoice = sampleInvoice(uniqueName('INV'));
  // #region test-worker
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle,
    activities: createActivities(systems.erp, systems.gateway),
  });
  // The worker polls while the story runs, then shuts down: runUntil settles like the story did.
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.start(InvoiceWorkflow, { taskQueue, workflowId: invoiceWorkflowId(invoice.id), args: [invoice] });
    const stateBecomes = (state: InvoiceState) => waitFor(() => handle.query(getInvoiceStatus), (s) => s.state === state);
    try {
      return await story({ handle, stateBecomes });
    } finally {
      // If the story failed half-way, let held activities finish so the worker can shut down.
      for (const system of [systems.erp, systems.gateway]) if (system instanceof HeldErp || system instanceof HeldGateway) system.release();
    }
  });
  // #endregion test-worker
}

describe('03-queries: getInvoiceStatus', () => {
  it('Part A: answers getInvoiceStatus from the live state, with what has been paid', async () => {
    await withInvoice({ erp: new Erp(), gateway: new PaymentGateway() }, async ({ handle }) => {
      const before = await handle.query(getInvoiceStatus);
      expect(before).toMatchObject({ linesTotal: 3, linesPaid: 0, amountDue: 268.49, amountPaid: 0, decision: null, failure: null });
      await handle.signal(approveInvoice, { by: 'alice' });
      const final = await handle.result();
      expect(final).toMatchObject({ linesPaid: 3, amountPaid: 268.49 });
      expect(final.payments.map((p) => p.lineIndex)).toEqual([0, 1, 2]);
      // The query answers from the same object the workflow returned.
      expect(await handle.query(getInvoiceStatus)).toEqual(final);
    });
  });

  it('Part B: shows VALIDATING, AWAITING_APPROVAL, PAYING, then PAID with every line', async () => {
    const erp = new HeldErp();
    const gateway = new HeldGateway();
    await withInvoice({ erp, gateway }, async ({ handle, stateBecomes }) => {
      await stateBecomes('VALIDATING');
      erp.release();

      const waiting = await stateBecomes('AWAITING_APPROVAL');
      expect(waiting).toMatchObject({ linesTotal: 3, linesPaid: 0, amountDue: 268.49, decision: null });

      await handle.signal(approveInvoice, { by: 'alice' });
      const paying = await stateBecomes('PAYING');
      expect(paying).toMatchObject({ linesPaid: 0, decision: { approved: true, by: 'alice' } });
      gateway.release();

      const final = await handle.result();
      expect(final).toMatchObject({ state: 'PAID', linesPaid: 3, amountPaid: 268.49 });
      // Queries are answered after the workflow has finished, too.
      expect(await handle.query(getInvoiceStatus)).toEqual(final);
    });
  });

  it('Part B: shows REJECTED with who rejected it and why', async () => {
    await withInvoice({ erp: new Erp(), gateway: new PaymentGateway() }, async ({ handle, stateBecomes }) => {
      await stateBecomes('AWAITING_APPROVAL');
      await handle.signal(rejectInvoice, { by: 'bob', reason: 'not ordered' });
      const status = await stateBecomes('REJECTED');
      expect(status).toMatchObject({ linesPaid: 0, amountPaid: 0, decision: { approved: false, by: 'bob', reason: 'not ordered' } });
    });
  });

  it('Part C: shows FAILED with the reason when a payment is declined, and what was paid before it', async () => {
    const simulation: SimulationOptions = { gatewayDeclineOver: 100 };
    await withInvoice({ erp: new Erp(simulation), gateway: new PaymentGateway(simulation) }, async ({ handle, stateBecomes }) => {
      await stateBecomes('AWAITING_APPROVAL');
      await handle.signal(approveInvoice, { by: 'alice' });
      const err = await handle.result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      expect((err as WorkflowFailedError).cause?.message).toMatch(/failed: insufficient funds/);
      const status = await handle.query(getInvoiceStatus);
      expect(status).toMatchObject({ state: 'FAILED', linesPaid: 1, amountPaid: 49.99 });
      expect(status.failure).toMatch(/insufficient funds/);
    });
  });
});
