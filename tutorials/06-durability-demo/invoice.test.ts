// Proof for step 06: crash the assistant, the worker and Temporal itself, with 20 invoices each,
// and check that every invoice is PAID, every line charged exactly once, and no approval lost.
// First, in-process and in a second: the idempotency key that makes a retried payment harmless.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existingExecutable, REPO_ROOT } from '../../shared/binaries.js';
import { invoiceWorkflowId, sampleInvoice } from '../../shared/invoice.js';
import type { ScriptProcess } from '../../shared/processes.js';
import { Erp } from '../../shared/simulated-systems.js';
import { bundleOnce, freePort, uniqueName } from '../../shared/testing.js';
import { createActivities } from './activities.js';
import { duplicateCharges, LedgerGateway } from './ledger.js';
import { sceneAssistantGoesAway, sceneTemporalRestarts, sceneWorkerDies, Stage } from './scenes.js';
import { approveInvoice, getInvoiceStatus, InvoiceWorkflow } from './workflows.js';

const INVOICES = 20;
let stage: Stage;
let worker: ScriptProcess;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(REPO_ROOT, '.temporal', 'test-06-'));
  stage = await Stage.open({ dir, port: await freePort(), paymentDelayMs: 300, say: () => {} });
  worker = await stage.startWorker();
}, 120_000);

afterAll(async () => {
  await stage?.close(); // every process this file started, also when a test failed
  rmSync(dir, { recursive: true, force: true });
});

/** A gateway whose first reply for each line is lost after the money moved: what a crash looks like to Temporal. */
class LosesFirstReply extends LedgerGateway {
  calls = 0;
  private answered = new Set<string>();
  override async charge(...args: Parameters<LedgerGateway['charge']>) {
    this.calls++;
    const charge = await super.charge(...args);
    if (!this.answered.has(args[0])) {
      this.answered.add(args[0]);
      throw new Error('connection reset after the charge went through');
    }
    return charge;
  }
}

describe('06-durability-demo: the idempotency key', () => {
  it('charges each line once when every payment is retried after its charge went through', async () => {
    const dir = mkdtempSync(join(REPO_ROOT, '.temporal', 'test-06-key-'));
    const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: existingExecutable('testServer') } });
    try {
      const gateway = new LosesFirstReply(join(dir, 'ledger.jsonl'));
      const taskQueue = uniqueName('tq');
      const invoice = sampleInvoice(uniqueName('INV'));
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle: await bundleOnce(new URL('./workflows.ts', import.meta.url)),
        activities: createActivities(new Erp(), gateway),
      });
      const result = await worker.runUntil(async () => {
        const handle = await env.client.workflow.start(InvoiceWorkflow, { taskQueue, workflowId: invoiceWorkflowId(invoice.id), args: [invoice] });
        while ((await handle.query(getInvoiceStatus)).state !== 'AWAITING_APPROVAL') await new Promise((r) => setTimeout(r, 20));
        await handle.executeUpdate(approveInvoice, { args: [{ by: 'alice' }] });
        return handle.result();
      });
      expect(result.state).toBe('PAID');
      expect(gateway.calls).toBe(6); // every line tried twice ...
      const charges = gateway.charges();
      expect(charges.map((c) => c.amount)).toEqual([49.99, 129, 89.5]); // ... and charged once
      expect(duplicateCharges(charges)).toEqual([]);
      expect(result.payments.map((p) => p.chargeId)).toEqual(charges.map((c) => c.chargeId));
    } finally {
      await env.teardown();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('06-durability-demo: three crash scenes', () => {
  it('scene 1: a new MCP server finds every waiting invoice after the old one was killed', { timeout: 120_000 }, async () => {
    const verdict = await sceneAssistantGoesAway(stage, INVOICES);
    expect(verdict).toMatchObject({ paid: INVOICES, charges: INVOICES * 3, duplicates: 0, checks: { 'all found by the new server': true } });
    expect(verdict.ok).toBe(true);
  });

  it('scene 2: workers killed mid-payment, twice: every line charged exactly once', { timeout: 180_000 }, async () => {
    const result = await sceneWorkerDies(stage, INVOICES, worker);
    worker = result.worker;
    expect(result.verdict).toMatchObject({ paid: INVOICES, charges: INVOICES * 3, duplicates: 0 });
    expect(result.verdict.ok).toBe(true);
  });

  it('scene 3: Temporal restarts on its database file: invoices still waiting, deadlines unchanged, approvals pay', { timeout: 180_000 }, async () => {
    const verdict = await sceneTemporalRestarts(stage, INVOICES);
    expect(verdict.checks).toEqual({ 'still waiting after restart': true, 'deadlines unchanged': true });
    expect(verdict).toMatchObject({ paid: INVOICES, charges: INVOICES * 3, duplicates: 0 });
  });
});

