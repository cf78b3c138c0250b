// Proof for step 05: the invoice tools work through a real MCP client, exactly as an assistant
// uses them — over stdio (the server spawned as Claude Desktop would), over Streamable HTTP, and
// from the MCP Inspector's CLI — against a real Temporal dev server started by this test.
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { promisify } from 'node:util';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, tsxCommand } from '../../shared/binaries.js';
import { freePort, startDevServer, type DevServer } from '../../shared/dev-server.js';
import { invoiceWorkflowId, MAX_LINES, sampleInvoice } from '../../shared/invoice.js';
import { connectMcpHttp, resultText, spawnMcpServer, type McpSession } from '../../shared/mcp-client.js';
import { Erp, PaymentGateway } from '../../shared/simulated-systems.js';
import { bundleOnce, startDevServerEnv, uniqueName, waitFor } from '../../shared/testing.js';
import { createActivities } from './activities.js';
import { getInvoiceStatus, InvoiceWorkflow, rejectInvoice, TASK_QUEUE, type InvoiceState } from './workflows.js';

const SERVER = new URL('./server.ts', import.meta.url);
/** The gateway, with a latch: `hold(id)` holds that invoice's charges until the returned function is called. */
class HoldingGateway extends PaymentGateway {
  private readonly held = new Map<string, Promise<void>>();
  hold(invoiceId: string): () => void {
    let release!: () => void;
    this.held.set(`invoice-${invoiceId}/`, new Promise<void>((resolve) => (release = resolve)));
    return release;
  }
  override async charge(reference: string, amount: number) {
    for (const [prefix, latch] of this.held) if (reference.startsWith(prefix)) await latch;
    return super.charge(reference, amount);
  }
}
const gateway = new HoldingGateway();
let temporal: DevServer;
let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
let mcp: McpSession;

const newInvoice = () => sampleInvoice(uniqueName('INV'));
const structured = (r: CallToolResult) => r.structuredContent as Record<string, any>;
const chargesOf = (invoiceId: string) => gateway.charges.filter((c) => c.reference.startsWith(`invoice-${invoiceId}/`));

async function stateOf(session: McpSession, invoiceId: string): Promise<InvoiceState | undefined> {
  // undefined while the tool answers with an error (e.g. a deadline on a loaded machine): waitFor asks again.
  return (await session.call('get_invoice_status', { invoice_id: invoiceId })).structuredContent?.state as InvoiceState | undefined;
}
function stateBecomes(invoiceId: string, state: InvoiceState, session = mcp) {
  // 30 s: ample on a laptop; on a CI machine running every test file at once, seconds go missing.
  return waitFor(() => stateOf(session, invoiceId), (s) => s === state, 30_000);
}
/** Asserts a tool error whose text matches `pattern`. */
function expectToolError(result: CallToolResult, pattern: RegExp) {
  expect(result.isError, resultText(result)).toBe(true);
  expect(resultText(result)).toMatch(pattern);
}
async function workflowExists(invoiceId: string): Promise<boolean> {
  try {
    await env.client.workflow.getHandle(invoiceWorkflowId(invoiceId)).describe();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

// The tests are independent (each uses its own invoices), so they run side by side. The two below
// need a Temporal of their own (one down at first, one with no worker), so they have a group of
// their own that starts at once, while the other group starts its Temporal server, worker and MCP
// server; the slowest, which waits 21 s with no worker, sets the pace of the whole file.
describe.concurrent('05-mcp-server when Temporal or the worker is missing', () => {
  it('says Temporal is unreachable, and recovers by itself once it is back', async () => {
    const port = await freePort();
    const lonely = await spawnMcpServer(SERVER, { env: { TEMPORAL_ADDRESS: `127.0.0.1:${port}` }, stderr: 'ignore' });
    let later: TestWorkflowEnvironment | undefined;
    try {
      // An answer, not a hang: how soon depends on the machine's load, so only its words are checked.
      const down = await lonely.call('get_invoice_status', { invoice_id: 'INV-1' });
      expectToolError(down, new RegExp(`Cannot reach Temporal at 127\\.0\\.0\\.1:${port}.*temporal server start-dev`));

      later = await startDevServerEnv({ port }); // Temporal comes back on the same address
      const invoice = newInvoice();
      const back = await lonely.call('process_invoice', invoice);
      expect(back.isError, resultText(back)).toBeFalsy();
      expect(structured(back).invoiceId).toBe(invoice.id);
    } finally {
      await lonely.close();
      await later?.teardown();
    }
  });

  it('says no worker is polling, at once and still after 20 s, and a refused approval is never sent', { timeout: 90_000 }, async () => {
    const alone = await startDevServerEnv(); // a Temporal where no worker polls invoices-05
    const lonely = await spawnMcpServer(SERVER, { env: { TEMPORAL_ADDRESS: alone.address }, stderr: 'ignore' });
    try {
      const invoice = newInvoice();
      const submitted = await lonely.call('process_invoice', invoice);
      expect(submitted.isError, resultText(submitted)).toBeFalsy();

      // Every tool that needs a worker says so, and what to run (without its deadline it would wait
      // for a worker forever, and the test would time out); Temporal's own answers change after
      // about 20 s, ours must not.
      const noWorker = /No worker is polling task queue "invoices-05".*npx tsx tutorials\/05-mcp-server\/worker\.ts/;
      for (const when of ['at once', 'after 21 s']) {
        if (when !== 'at once') await new Promise((resolve) => setTimeout(resolve, 21_000));
        const answers = await Promise.all([
          lonely.call('get_invoice_status', { invoice_id: invoice.id }),
          lonely.call('approve_invoice', { invoice_id: invoice.id, approved_by: 'alice' }),
        ]);
        for (const result of answers) {
          expect(result.isError, when).toBe(true);
          expect(resultText(result), when).toMatch(noWorker);
        }
      }

      // The refused approval was never sent: once a worker runs, the invoice is still undecided.
      const worker = await Worker.create({
        connection: alone.nativeConnection,
        taskQueue: TASK_QUEUE,
        workflowBundle: await bundleOnce(new URL('./workflows.ts', import.meta.url)),
        activities: createActivities(new Erp(), gateway),
      });
      const status = await worker.runUntil(async () => {
        await stateBecomes(invoice.id, 'AWAITING_APPROVAL', lonely);
        return structured(await lonely.call('get_invoice_status', { invoice_id: invoice.id }));
      });
      expect(status.decision).toBeNull();
      expect(chargesOf(invoice.id)).toHaveLength(0);
    } finally {
      await lonely.close();
      await alone.teardown();
    }
  });
});

describe.concurrent('05-mcp-server', () => {
  beforeAll(async () => {
    // #region test-env
    // A real `temporal server start-dev` on free loopback ports: Updates and the tools' deadlines
    // run in real time, which the time-skipping server does not do while a client waits on an Update.
    // startDevServer starts it again on fresh ports if another program takes one of them first.
    temporal = await startDevServer();
    env = await TestWorkflowEnvironment.createFromExistingServer({ address: temporal.address });
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: TASK_QUEUE, // the server starts workflows on the step's own queue
      workflowBundle: await bundleOnce(new URL('./workflows.ts', import.meta.url)),
      activities: createActivities(new Erp(), gateway),
    });
    running = worker.run();
    // #endregion test-env
    mcp = await spawnMcpServer(SERVER, { env: { TEMPORAL_ADDRESS: env.address }, stderr: 'ignore' });
  });

  afterAll(async () => {
    await mcp?.close();
    worker?.shutdown();
    await running;
    await env?.teardown();
    await temporal?.stop();
  });

  describe('05-mcp-server: the rejectInvoice Update, straight through Temporal', () => {
    it('Part A: takes a rejection with its reason, refuses one without, and pays nothing', async () => {
      const invoice = newInvoice();
      const handle = await env.client.workflow.start(InvoiceWorkflow, { taskQueue: TASK_QUEUE, workflowId: invoiceWorkflowId(invoice.id), args: [invoice] });
      await waitFor(() => handle.query(getInvoiceStatus), (s) => s.state === 'AWAITING_APPROVAL', { retryErrors: true });
      // The validator refuses before anything is recorded; the caller is told why.
      const refused = await handle.executeUpdate(rejectInvoice, { args: [{ by: 'bob', reason: '  ' }] }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
      expect((refused as WorkflowUpdateFailedError).cause?.message).toBe('A rejection needs a reason.');
      expect((await handle.query(getInvoiceStatus)).decision).toBeNull();
      // Taken: the caller gets the decision as the workflow recorded it.
      const taken = await handle.executeUpdate(rejectInvoice, { args: [{ by: 'bob', reason: 'not ordered' }] });
      expect(taken).toMatchObject({ invoiceId: invoice.id, previousState: 'AWAITING_APPROVAL', decision: { approved: false, by: 'bob', reason: 'not ordered' } });
      expect(await handle.result()).toMatchObject({ state: 'REJECTED', amountPaid: 0, decision: taken.decision });
      expect(chargesOf(invoice.id)).toHaveLength(0);
    });
  });

  describe('05-mcp-server over stdio', () => {
    it('Part C: tells the second of two deciders who decided first, and that nothing was changed', async () => {
      const invoice = newInvoice();
      await mcp.call('process_invoice', invoice);
      await stateBecomes(invoice.id, 'AWAITING_APPROVAL');
      const [approve, reject] = await Promise.all([
        mcp.call('approve_invoice', { invoice_id: invoice.id, approved_by: 'alice' }),
        mcp.call('reject_invoice', { invoice_id: invoice.id, rejected_by: 'bob', reason: 'not ordered' }),
      ]);
      const approved = !approve.isError;
      expect([approve, reject].filter((r) => !r.isError), `${resultText(approve)} | ${resultText(reject)}`).toHaveLength(1);
      // The validator's words reach the user, not "Workflow Update failed".
      // The loser may arrive while the winner's workflow runs, or after it has finished (a reject ends
      // it at once; an approval once paid): either way the winner is named and nothing changed.
      expectToolError(
        approved ? reject : approve,
        approved ? /(already approved by alice at |is PAID \(approved by alice at ).*nothing was changed/ : /(already rejected by bob at |is REJECTED \(rejected by bob at ).*nothing was changed/,
      );
    });

    it('Part B: offers five tools, read-only and destructive ones marked as such', async () => {
      const { tools } = await mcp.client.listTools();
      const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
      expect(Object.keys(byName).sort()).toEqual(['approve_invoice', 'get_invoice_status', 'list_invoices', 'process_invoice', 'reject_invoice']);
      expect(byName.get_invoice_status.annotations?.readOnlyHint).toBe(true);
      expect(byName.list_invoices.annotations?.readOnlyHint).toBe(true);
      expect(byName.approve_invoice.annotations?.destructiveHint).toBe(true);
      expect(byName.reject_invoice.annotations?.destructiveHint).toBe(true);
      expect(byName.process_invoice.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: false, idempotentHint: true });
      // What an assistant can rely on in each answer: the fields, each required, and the states by name.
      const output = byName.process_invoice.outputSchema as { properties: Record<string, { type?: string; enum?: string[] }>; required: string[] };
      expect(Object.keys(output.properties).sort()).toEqual(['invoiceId', 'message', 'state', 'webUiUrl', 'workflowId']);
      expect(output.required.sort()).toEqual(['invoiceId', 'message', 'state', 'webUiUrl', 'workflowId']);
      expect(output.properties.state.enum).toEqual(expect.arrayContaining(['AWAITING_APPROVAL', 'PAID', 'REJECTED', 'TIMED_OUT']));
      for (const tool of ['approve_invoice', 'reject_invoice']) {
        const decision = byName[tool].outputSchema as { properties: Record<string, unknown>; required: string[] };
        expect(Object.keys(decision.properties).sort(), tool).toEqual(['decision', 'invoiceId', 'message', 'previousState', 'webUiUrl']);
      }
      expect(Object.keys((byName.get_invoice_status.outputSchema as { properties: object }).properties)).toEqual(
        expect.arrayContaining(['invoiceId', 'state', 'decision', 'workflowId', 'executionStatus', 'webUiUrl']),
      );
    });

    it('approve story: process → AWAITING_APPROVAL → approve → PAID, each line charged once', async () => {
      const invoice = newInvoice();
      const started = await mcp.call('process_invoice', invoice);
      expect(started.isError).toBeFalsy();
      expect(structured(started)).toMatchObject({ invoiceId: invoice.id, workflowId: `invoice-${invoice.id}` });
      expect(structured(started).webUiUrl).toContain(`/workflows/invoice-${invoice.id}`);

      await stateBecomes(invoice.id, 'AWAITING_APPROVAL');
      expect(chargesOf(invoice.id)).toHaveLength(0);
      const approved = await mcp.call('approve_invoice', { invoice_id: invoice.id, approved_by: 'alice' });
      expect(structured(approved)).toMatchObject({ invoiceId: invoice.id, previousState: 'AWAITING_APPROVAL' });

      await stateBecomes(invoice.id, 'PAID');
      const status = structured(await mcp.call('get_invoice_status', { invoice_id: invoice.id }));
      expect(status).toMatchObject({ linesPaid: 3, amountPaid: 268.49, executionStatus: 'COMPLETED', decision: { approved: true, by: 'alice' } });
      expect(chargesOf(invoice.id).map((c) => c.amount)).toEqual([49.99, 129, 89.5]);
    });

    it('Part B: reject story: process → reject → REJECTED, nothing charged', async () => {
      const invoice = newInvoice();
      await mcp.call('process_invoice', invoice);
      await stateBecomes(invoice.id, 'AWAITING_APPROVAL');
      const rejected = await mcp.call('reject_invoice', { invoice_id: invoice.id, reason: 'not ordered', rejected_by: 'bob' });
      expect(rejected.isError).toBeFalsy();
      await stateBecomes(invoice.id, 'REJECTED');
      expect(structured(await mcp.call('get_invoice_status', { invoice_id: invoice.id })).decision).toMatchObject({ approved: false, by: 'bob', reason: 'not ordered' });
      expect(chargesOf(invoice.id)).toHaveLength(0);
    });

    const bad = (change: (inv: Record<string, any>) => void) => {
      const invoice: Record<string, any> = structuredClone(newInvoice());
      change(invoice);
      return invoice;
    };
    it.each([
      ['a missing id', bad((i) => delete i.id), /id is required/],
      ['an id with spaces', bad((i) => (i.id = 'INV 1')), /id must be 1-64 letters/],
      ['missing lines', bad((i) => delete i.lines), /lines is required/],
      ['empty lines', bad((i) => (i.lines = [])), /at least one line/],
      ['a negative amount', bad((i) => (i.lines[1].amount = -5)), /amount must be greater than 0.*lines\[1\]\.amount|lines\.1\.amount/],
      ['a zero amount', bad((i) => (i.lines[0].amount = 0)), /amount must be greater than 0/],
      ['a non-number amount', bad((i) => (i.lines[0].amount = '12')), /amount must be a number/],
      ['an infinite amount (null in JSON)', bad((i) => (i.lines[0].amount = Infinity)), /amount must be a number/],
      ['too many lines', bad((i) => (i.lines = Array.from({ length: MAX_LINES + 1 }, () => ({ item: 'x', amount: 1 })))), /at most 50 lines/],
      ['an overlong customer', bad((i) => (i.customer = 'x'.repeat(201))), /customer must be at most 200 characters/],
      ['an unknown field', bad((i) => (i.purchaseOrder = 'PO-1')), /unknown field.*purchaseOrder/],
      ['an unknown line field', bad((i) => (i.lines[0].ammount = 3)), /unknown field.*ammount/],
      ['a bad approval_timeout', bad((i) => (i.approval_timeout = 'soonish')), /approval_timeout "soonish" is not a duration/],
    ])('refuses %s with a clear tool error, and starts no workflow', async (_what, invoice, message) => {
      const result = await mcp.call('process_invoice', invoice);
      expectToolError(result, message);
      if (typeof invoice.id === 'string' && /^[A-Za-z0-9]/.test(invoice.id)) expect(await workflowExists(invoice.id)).toBe(false);
    });

    it('never processes an invoice id twice: refused while it waits and after it is paid', async () => {
      const invoice = newInvoice();
      await mcp.call('process_invoice', invoice);
      await stateBecomes(invoice.id, 'AWAITING_APPROVAL');
      expectToolError(await mcp.call('process_invoice', invoice), /already submitted \(its state is AWAITING_APPROVAL\)/);

      await mcp.call('approve_invoice', { invoice_id: invoice.id, approved_by: 'alice' });
      await stateBecomes(invoice.id, 'PAID');
      expectToolError(await mcp.call('process_invoice', invoice), /already submitted \(its state is PAID\).*at most once/);
      expect(chargesOf(invoice.id)).toHaveLength(3);
    });

    it('says so for an unknown invoice id', async () => {
      for (const tool of ['get_invoice_status', 'approve_invoice'] as const) {
        const result = await mcp.call(tool, { invoice_id: 'NO-SUCH-INVOICE', approved_by: 'alice' });
        expectToolError(result, /No invoice "NO-SUCH-INVOICE" was found.*list_invoices/);
      }
    });

    it('Part C: refuses a decision on an invoice that is not awaiting approval, naming the decision that was made', async () => {
      const invoice = newInvoice();
      await mcp.call('process_invoice', invoice);
      await stateBecomes(invoice.id, 'AWAITING_APPROVAL');
      await mcp.call('reject_invoice', { invoice_id: invoice.id, reason: 'duplicate', rejected_by: 'bob' });
      await stateBecomes(invoice.id, 'REJECTED');
      expectToolError(await mcp.call('approve_invoice', { invoice_id: invoice.id, approved_by: 'alice' }), /is REJECTED \(rejected by bob at .*\) and has finished.*nothing was changed/);

      const late = newInvoice();
      await mcp.call('process_invoice', { ...late, approval_timeout: '1 second' });
      await stateBecomes(late.id, 'TIMED_OUT');
      expectToolError(await mcp.call('approve_invoice', { invoice_id: late.id, approved_by: 'alice' }), /is TIMED_OUT and has finished.*nothing was changed/);
      expect(chargesOf(late.id)).toHaveLength(0);
    });

    it('tells exactly one of two racing deciders that they decided: 20 approve/reject pairs at once', { timeout: 120_000 }, async () => {
      const invoices = Array.from({ length: 20 }, newInvoice);
      await Promise.all(invoices.map((invoice) => mcp.call('process_invoice', invoice)));
      await Promise.all(invoices.map((invoice) => stateBecomes(invoice.id, 'AWAITING_APPROVAL')));

      const races = await Promise.all(
        invoices.map(async (invoice) => {
          const [approve, reject] = await Promise.all([
            mcp.call('approve_invoice', { invoice_id: invoice.id, approved_by: 'alice' }),
            mcp.call('reject_invoice', { invoice_id: invoice.id, rejected_by: 'bob', reason: 'not ordered' }),
          ]);
          return { invoice, approve, reject };
        }),
      );
      for (const { invoice, approve, reject } of races) {
        const winners = [approve, reject].filter((r) => !r.isError);
        expect(winners, `${invoice.id}: ${resultText(approve)} | ${resultText(reject)}`).toHaveLength(1);
        const approved = winners[0] === approve;
        // The loser is told who won, and that nothing changed, whether it came while the winner's
        // workflow still ran or after it had finished (REJECTED at once, or PAID): both are true.
        expectToolError(
          approved ? reject : approve,
          approved ? /(already approved by alice|is PAID \(approved by alice).*nothing was changed/ : /(already rejected by bob|is REJECTED \(rejected by bob).*nothing was changed/,
        );
        // What the winner was told is what happened.
        expect(structured(winners[0]).decision).toMatchObject({ approved, by: approved ? 'alice' : 'bob' });
        await stateBecomes(invoice.id, approved ? 'PAID' : 'REJECTED');
        expect(chargesOf(invoice.id)).toHaveLength(approved ? 3 : 0);
      }
    });

    it('answers a retried approval (after a lost reply) with the first answer, while it pays and after it has finished, and pays once', async () => {
      // While it pays: the gateway holds this invoice's charges, so the retry surely finds it PAYING.
      const paying = newInvoice();
      const release = gateway.hold(paying.id);
      await mcp.call('process_invoice', paying);
      await stateBecomes(paying.id, 'AWAITING_APPROVAL');
      const first = await mcp.call('approve_invoice', { invoice_id: paying.id, approved_by: 'alice' });
      expect(structured(first)).toMatchObject({ previousState: 'AWAITING_APPROVAL', decision: { approved: true, by: 'alice' } });
      await stateBecomes(paying.id, 'PAYING');
      const retry = await mcp.call('approve_invoice', { invoice_id: paying.id, approved_by: 'alice' });
      expect(retry.isError, resultText(retry)).toBeFalsy();
      expect(structured(retry).decision).toEqual(structured(first).decision); // same `at`: nothing was decided again
      release();
      await stateBecomes(paying.id, 'PAID');
      expect(chargesOf(paying.id)).toHaveLength(3);

      // After it was paid and its workflow finished: Temporal keeps the outcome of an Update by its
      // id, so the same retry still gets the first answer, the same `at`, and nothing happens again.
      const paid = newInvoice();
      await mcp.call('process_invoice', paid);
      await stateBecomes(paid.id, 'AWAITING_APPROVAL');
      const once = await mcp.call('approve_invoice', { invoice_id: paid.id, approved_by: 'alice' });
      await env.client.workflow.getHandle(invoiceWorkflowId(paid.id)).result(); // PAID, and finished
      const late = await mcp.call('approve_invoice', { invoice_id: paid.id, approved_by: 'alice' });
      expect(late.isError, resultText(late)).toBeFalsy();
      expect(structured(late).decision).toEqual(structured(once).decision);
      expect(chargesOf(paid.id)).toHaveLength(3);
    });

    it('lists recent invoices and filters them by state', async () => {
      const [waiting, rejected] = [newInvoice(), newInvoice()];
      await Promise.all([mcp.call('process_invoice', waiting), mcp.call('process_invoice', rejected)]);
      await Promise.all([stateBecomes(waiting.id, 'AWAITING_APPROVAL'), stateBecomes(rejected.id, 'AWAITING_APPROVAL')]);
      await mcp.call('reject_invoice', { invoice_id: rejected.id, rejected_by: 'bob', reason: 'not ordered' });
      await stateBecomes(rejected.id, 'REJECTED');
      // Visibility (the list) is eventually consistent: give it a moment to see the new invoices. And
      // the list asks every invoice of this file for its state: 30 s, as stateBecomes gives, for a
      // machine running every test file at once.
      const list = (state: InvoiceState) => async () => structured(await mcp.call('list_invoices', { state, limit: 100 })).invoices as { invoiceId: string; state: string }[];
      const awaiting = await waitFor(list('AWAITING_APPROVAL'), (invoices) => invoices.some((i) => i.invoiceId === waiting.id), 30_000);
      expect(awaiting.every((i) => i.state === 'AWAITING_APPROVAL')).toBe(true);
      expect(awaiting.map((i) => i.invoiceId)).not.toContain(rejected.id);
      const rejectedOnes = await waitFor(list('REJECTED'), (invoices) => invoices.some((i) => i.invoiceId === rejected.id), 30_000);
      expect(rejectedOnes.map((i) => i.invoiceId)).not.toContain(waiting.id);
    });
  });

  describe('05-mcp-server over Streamable HTTP', () => {
    it('runs the approve story for a client on 127.0.0.1, and refuses a foreign Host header', async () => {
      const { command, args } = tsxCommand(SERVER, ['--http', '--port', '0']);
      const { spawn } = await import('node:child_process');
      const child = spawn(command, args, { env: { ...process.env, TEMPORAL_ADDRESS: env.address }, stdio: ['ignore', 'ignore', 'pipe'] });
      try {
        const url = await new Promise<string>((resolve, reject) => {
          let seen = '';
          child.stderr.on('data', (chunk: Buffer) => {
            seen += chunk.toString();
            const match = /serving Streamable HTTP on (http:\/\/\S+)/.exec(seen);
            if (match) resolve(match[1]);
          });
          child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${seen}`)));
        });
        expect(new URL(url).hostname).toBe('127.0.0.1');

        const http = await connectMcpHttp(url);
        const invoice = newInvoice();
        await http.call('process_invoice', invoice);
        await stateBecomes(invoice.id, 'AWAITING_APPROVAL', http);
        await http.call('approve_invoice', { invoice_id: invoice.id, approved_by: 'carol' });
        await stateBecomes(invoice.id, 'PAID', http);
        expect(chargesOf(invoice.id)).toHaveLength(3);
        await http.close();

        // A DNS-rebinding page would arrive with its own host name: refused before any tool runs.
        const refused = await rawPost(url, { Host: 'evil.example:80' });
        expect(refused.status).toBe(403);
        const foreignOrigin = await rawPost(url, { Origin: 'http://evil.example' });
        expect(foreignOrigin.status).toBe(403);

        // Bad bodies get a JSON-RPC error, never Express's HTML page with a stack trace and our file paths.
        const malformed = await rawPost(url, {}, '{"jsonrpc": "2.0", "id": 1, "method": ');
        expect(malformed.status).toBe(400);
        expect(JSON.parse(malformed.body)).toMatchObject({ jsonrpc: '2.0', error: { code: -32700 }, id: null });
        const huge = await rawPost(url, {}, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { pad: 'x'.repeat(200_000) } }));
        expect(huge.status).toBe(413);
        expect(JSON.parse(huge.body).error.message).toMatch(/too large/);
        for (const answer of [malformed.body, huge.body]) expect(answer).not.toMatch(/<html|at .*\(|node_modules|\/work\//i);
      } finally {
        child.kill('SIGTERM');
      }
    });
  });

  describe('05-mcp-server from the MCP Inspector CLI (an independent client)', () => {
    const inspector = async (...methodArgs: string[]) => {
      const { command, args } = tsxCommand(SERVER);
      const { stdout } = await promisify(execFile)(
        'npx',
        ['mcp-inspector-cli', '--cli', '-e', `TEMPORAL_ADDRESS=${env.address}`, command, ...args, ...methodArgs],
        { cwd: REPO_ROOT, timeout: 60_000 },
      );
      return JSON.parse(stdout);
    };

    it('lists the tools and calls one', { timeout: 120_000 }, async () => {
      const listed = await inspector('--method', 'tools/list');
      expect(listed.tools.map((t: { name: string }) => t.name).sort()).toEqual(['approve_invoice', 'get_invoice_status', 'list_invoices', 'process_invoice', 'reject_invoice']);

      const invoice = newInvoice();
      const called = await inspector('--method', 'tools/call', '--tool-name', 'process_invoice', '--tool-arg', `id=${invoice.id}`, '--tool-arg', 'customer=Initech', '--tool-arg', `lines=${JSON.stringify(invoice.lines)}`);
      expect(called.isError).toBeFalsy();
      expect(called.structuredContent).toMatchObject({ invoiceId: invoice.id, workflowId: `invoice-${invoice.id}` });

      // Its exit code is 0 even for a tool error, so the JSON is what we check.
      const unknown = await inspector('--method', 'tools/call', '--tool-name', 'get_invoice_status', '--tool-arg', 'invoice_id=NOPE-1');
      expect(unknown.isError).toBe(true);
      expect(unknown.content[0].text).toMatch(/No invoice "NOPE-1"/);
    });
  });
});

function rawPost(url: string, headers: Record<string, string>, body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' })): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers } },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
