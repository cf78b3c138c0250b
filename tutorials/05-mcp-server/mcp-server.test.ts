// Proof for step 05: the invoice tools work through a real MCP client, exactly as an assistant
// uses them — over stdio (the server spawned as Claude Desktop would), over Streamable HTTP, and
// from the MCP Inspector's CLI — against a real Temporal dev server started by this test.
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { promisify } from 'node:util';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, tsxCommand } from '../../shared/binaries.js';
import { invoiceWorkflowId, MAX_LINES, sampleInvoice } from '../../shared/invoice.js';
import { connectMcpHttp, resultText, spawnMcpServer, type McpSession } from '../../shared/mcp-client.js';
import { Erp, PaymentGateway } from '../../shared/simulated-systems.js';
import { freePort, startDevServerEnv, uniqueName, waitFor } from '../../shared/testing.js';
import { createWorker } from '../../shared/worker.js';
import { createActivities } from './activities.js';
import { TASK_QUEUE, type InvoiceState } from './workflows.js';

const SERVER = new URL('./server.ts', import.meta.url);
const gateway = new PaymentGateway();
let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
let mcp: McpSession;

beforeAll(async () => {
  env = await startDevServerEnv();
  worker = await createWorker(env.nativeConnection, 'default', {
    workflowsPath: new URL('./workflows.ts', import.meta.url),
    activities: createActivities(new Erp(), gateway),
    taskQueue: TASK_QUEUE, // the server starts workflows on the step's own queue
  });
  running = worker.run();
  mcp = await spawnMcpServer(SERVER, { env: { TEMPORAL_ADDRESS: env.address }, stderr: 'ignore' });
});

afterAll(async () => {
  await mcp?.close();
  worker?.shutdown();
  await running;
  await env?.teardown();
});

const newInvoice = () => sampleInvoice(uniqueName('INV'));
const structured = (r: CallToolResult) => r.structuredContent as Record<string, any>;
const chargesOf = (invoiceId: string) => gateway.charges.filter((c) => c.reference.startsWith(`invoice-${invoiceId}/`));

async function stateOf(session: McpSession, invoiceId: string): Promise<InvoiceState> {
  return structured(await session.call('get_invoice_status', { invoice_id: invoiceId })).state;
}
function stateBecomes(invoiceId: string, state: InvoiceState, session = mcp) {
  return waitFor(() => stateOf(session, invoiceId), (s) => s === state);
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

describe('05-mcp-server over stdio', () => {
  it('offers five tools, read-only and destructive ones marked as such', async () => {
    const { tools } = await mcp.client.listTools();
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    expect(Object.keys(byName).sort()).toEqual(['approve_invoice', 'get_invoice_status', 'list_invoices', 'process_invoice', 'reject_invoice']);
    expect(byName.get_invoice_status.annotations?.readOnlyHint).toBe(true);
    expect(byName.list_invoices.annotations?.readOnlyHint).toBe(true);
    expect(byName.approve_invoice.annotations?.destructiveHint).toBe(true);
    expect(byName.process_invoice.outputSchema).toBeDefined();
  });

  it('approve story: process → AWAITING_APPROVAL → approve → PAID, each line charged once', async () => {
    const invoice = newInvoice();
    const started = await mcp.call('process_invoice', invoice);
    expect(started.isError).toBeFalsy();
    expect(structured(started)).toMatchObject({ invoiceId: invoice.id, workflowId: `invoice-${invoice.id}` });
    expect(structured(started).webUiUrl).toContain(`/workflows/invoice-${invoice.id}`);

    await stateBecomes(invoice.id, 'AWAITING_APPROVAL');
    expect(chargesOf(invoice.id)).toHaveLength(0);
    const approved = await mcp.call('approve_invoice', { invoice_id: invoice.id, approver: 'alice' });
    expect(structured(approved)).toMatchObject({ invoiceId: invoice.id, previousState: 'AWAITING_APPROVAL' });

    await stateBecomes(invoice.id, 'PAID');
    const status = structured(await mcp.call('get_invoice_status', { invoice_id: invoice.id }));
    expect(status).toMatchObject({ linesPaid: 3, amountPaid: 268.49, executionStatus: 'COMPLETED', decision: { approved: true, by: 'alice' } });
    expect(chargesOf(invoice.id).map((c) => c.amount)).toEqual([49.99, 129, 89.5]);
  });

  it('reject story: process → reject → REJECTED, nothing charged', async () => {
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

    await mcp.call('approve_invoice', { invoice_id: invoice.id, approver: 'alice' });
    await stateBecomes(invoice.id, 'PAID');
    expectToolError(await mcp.call('process_invoice', invoice), /already submitted \(its state is PAID\).*at most once/);
    expect(chargesOf(invoice.id)).toHaveLength(3);
  });

  it('says so for an unknown invoice id', async () => {
    for (const tool of ['get_invoice_status', 'approve_invoice'] as const) {
      const result = await mcp.call(tool, { invoice_id: 'NO-SUCH-INVOICE', approver: 'alice' });
      expectToolError(result, /No invoice "NO-SUCH-INVOICE" was found.*list_invoices/);
    }
  });

  it('refuses a decision on an invoice that is not awaiting approval', async () => {
    const invoice = newInvoice();
    await mcp.call('process_invoice', invoice);
    await stateBecomes(invoice.id, 'AWAITING_APPROVAL');
    await mcp.call('reject_invoice', { invoice_id: invoice.id, reason: 'duplicate', rejected_by: 'bob' });
    await stateBecomes(invoice.id, 'REJECTED');
    expectToolError(await mcp.call('approve_invoice', { invoice_id: invoice.id, approver: 'alice' }), /is REJECTED \(rejected by bob\), not awaiting approval; nothing was changed/);

    const late = newInvoice();
    await mcp.call('process_invoice', { ...late, approval_timeout: '1 second' });
    await stateBecomes(late.id, 'TIMED_OUT');
    expectToolError(await mcp.call('approve_invoice', { invoice_id: late.id, approver: 'alice' }), /is TIMED_OUT, not awaiting approval/);
    expect(chargesOf(late.id)).toHaveLength(0);
  });

  it('lists recent invoices and filters the ones waiting for approval', async () => {
    const waiting = newInvoice();
    await mcp.call('process_invoice', waiting);
    await stateBecomes(waiting.id, 'AWAITING_APPROVAL');
    // Visibility (the list) is eventually consistent: give it a moment to see the new invoice.
    const listed = await waitFor(
      async () => structured(await mcp.call('list_invoices', { state: 'AWAITING_APPROVAL' })).invoices as { invoiceId: string; state: string }[],
      (invoices) => invoices.some((i) => i.invoiceId === waiting.id),
    );
    expect(listed.every((i) => i.state === 'AWAITING_APPROVAL')).toBe(true);
    const all = structured(await mcp.call('list_invoices', { limit: 100 })).invoices as { state: string }[];
    expect(all.map((i) => i.state)).toEqual(expect.arrayContaining(['PAID', 'REJECTED', 'AWAITING_APPROVAL']));
  });
});

describe('05-mcp-server when Temporal is unreachable', () => {
  it('answers within a few seconds saying so, then recovers by itself once Temporal is back', async () => {
    const port = await freePort();
    const lonely = await spawnMcpServer(SERVER, { env: { TEMPORAL_ADDRESS: `127.0.0.1:${port}` }, stderr: 'ignore' });
    let later: TestWorkflowEnvironment | undefined;
    try {
      const started = Date.now();
      const down = await lonely.call('get_invoice_status', { invoice_id: 'INV-1' });
      expect(Date.now() - started).toBeLessThan(8_000);
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
      await http.call('approve_invoice', { invoice_id: invoice.id, approver: 'carol' });
      await stateBecomes(invoice.id, 'PAID', http);
      expect(chargesOf(invoice.id)).toHaveLength(3);
      await http.close();

      // A DNS-rebinding page would arrive with its own host name: refused before any tool runs.
      const refused = await rawPost(url, { Host: 'evil.example:80' });
      expect(refused.status).toBe(403);
      const foreignOrigin = await rawPost(url, { Origin: 'http://evil.example' });
      expect(foreignOrigin.status).toBe(403);
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
      ['mcp-inspector', '--cli', '-e', `TEMPORAL_ADDRESS=${env.address}`, command, ...args, ...methodArgs],
      { cwd: REPO_ROOT, timeout: 60_000 },
    );
    return JSON.parse(stdout);
  };

  it('lists the tools and calls one', async () => {
    const listed = await inspector('--method', 'tools/list');
    expect(listed.tools.map((t: { name: string }) => t.name)).toContain('process_invoice');

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


function rawPost(url: string, headers: Record<string, string>): Promise<{ status: number }> {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers } },
      (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0 });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
