// Proof for step 07: MCP's own long-running features, each through a real MCP client, against a
// real Temporal dev server: tasks (full life, a server restart, two servers at once, cancel),
// elicitation, progress and resource subscriptions, and the ordinary tools for a client with none.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CallToolResultSchema,
  ElicitRequestSchema,
  ErrorCode,
  McpError,
  ResourceUpdatedNotificationSchema,
  type CallToolResult,
  type ClientCapabilities,
  type ElicitResult,
  type JSONRPCMessage,
} from '@modelcontextprotocol/sdk/types.js';
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, tsxCommand } from '../../shared/binaries.js';
import { freePort, startDevServer, type DevServer } from '../../shared/dev-server.js';
import { invoiceWorkflowId, sampleInvoice, type Invoice } from '../../shared/invoice.js';
import { startScript, type ScriptProcess } from '../../shared/processes.js';
import { Erp } from '../../shared/simulated-systems.js';
import { bundleOnce, uniqueName, waitFor } from '../../shared/testing.js';
import { createActivities } from './activities.js';
import { LedgerGateway } from './ledger.js';
import { getInvoiceStatus, TASK_QUEUE, type InvoiceState } from './workflows.js';

const SERVER = new URL('./server.ts', import.meta.url);
let temporal: DevServer;
let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
let dir: string;
let gateway: LedgerGateway;
let temporalAddress: string;
const cleanup: (() => Promise<unknown>)[] = [];
/** A client with every feature, like the Inspector or an IDE client; and one with none, like Claude Desktop. */
let full: Client;
let bare: Awaited<ReturnType<typeof stdioClient>>;
/** The human at the full client, scripted: how the form is answered, per invoice; and which invoices were asked about. */
const answers = new Map<string, ElicitResult>();
const asked: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(REPO_ROOT, '.temporal', 'test-07-'));
  const port = await freePort();
  temporalAddress = `127.0.0.1:${port}`;
  // The MCP servers connect to Temporal on their first call, so they start while Temporal does.
  const clients = Promise.all([stdioClient(FULL), stdioClient()]);
  // #region test-env
  // A real `temporal server start-dev`: Updates, waits and polling run in real time. Its port is
  // kept if startDevServer has to start it again (the MCP servers above already know it).
  temporal = await startDevServer({ port });
  env = await TestWorkflowEnvironment.createFromExistingServer({ address: temporal.address });
  // Each charge takes 200 ms, so a test can catch an invoice while it is PAYING.
  gateway = new LedgerGateway(join(dir, 'ledger.jsonl'), 200);
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUE,
    workflowBundle: await bundleOnce(new URL('./workflows.ts', import.meta.url)),
    activities: createActivities(new Erp(), gateway),
  });
  running = worker.run();
  // #endregion test-env
  [{ client: full }, bare] = await clients;
  full.setRequestHandler(ElicitRequestSchema, async (request) => {
    const invoiceId = [...answers.keys()].find((id) => request.params.message.includes(id))!;
    asked.push(invoiceId);
    return answers.get(invoiceId)!;
  });
}, 120_000);

afterAll(async () => {
  for (const close of cleanup.reverse()) await close().catch(() => {});
  worker?.shutdown();
  await running;
  await env?.teardown();
  await temporal?.stop();
  rmSync(dir, { recursive: true, force: true });
});

// #region mcp-clients
/** A client as an IDE or the Inspector has it: tasks, and forms when asked for. */
const FULL: ClientCapabilities = { tasks: { list: {}, cancel: {} }, elicitation: { form: {} } };

/** Spawns this step's server on stdio, as a host does, and connects a client with `capabilities`. */
async function stdioClient(capabilities: ClientCapabilities = {}, address = temporalAddress) {
  const { command, args } = tsxCommand(SERVER);
  const transport = new StdioClientTransport({ command, args, env: { ...(process.env as Record<string, string>), TEMPORAL_ADDRESS: address }, stderr: 'ignore' });
  const client = new Client({ name: 'test-07', version: '1.0.0' }, { capabilities });
  await client.connect(transport);
  cleanup.push(() => client.close());
  return { client, transport };
}

/** Starts this step's server on Streamable HTTP, as a second process, and connects a client. */
async function httpServerAndClient() {
  const port = await freePort();
  const server = await startScript(SERVER, {
    name: `server :${port}`,
    args: ['--http', '--port', String(port)],
    env: { TEMPORAL_ADDRESS: temporalAddress },
    readyWhen: /serving Streamable HTTP/,
  });
  cleanup.push(() => server.kill());
  const client = new Client({ name: 'test-07-http', version: '1.0.0' }, { capabilities: { tasks: { list: {}, cancel: {} } } });
  await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)));
  cleanup.push(() => client.close());
  return { server, client };
}

/** Calls process_invoice as a task: returns the task the server created, without waiting for it. */
async function createTask(client: Client, invoice: Invoice, ttl = 10 * 60_000) {
  const stream = client.experimental.tasks.callToolStream({ name: 'process_invoice', arguments: invoice }, CallToolResultSchema, { task: { ttl } });
  for await (const message of stream) {
    if (message.type === 'taskCreated') return message.task;
    throw message.type === 'error' ? message.error : new Error(`expected a task, got ${JSON.stringify(message)}`);
  }
  throw new Error('no task');
}
// #endregion mcp-clients

const newInvoice = () => sampleInvoice(uniqueName('INV'));
const structured = (r: unknown) => (r as CallToolResult).structuredContent as Record<string, any>;
const call = async (client: Client, name: string, args: Record<string, unknown>) => (await client.callTool({ name, arguments: args })) as CallToolResult;
const textOf = (r: CallToolResult) => (r.content[0] as { text: string }).text;
const chargesOf = (invoiceId: string) => gateway.charges().filter((c) => c.reference.startsWith(`invoice-${invoiceId}/`));
const taskStatusBecomes = (client: Client, taskId: string, status: string) =>
  waitFor(() => client.experimental.tasks.getTask(taskId), (t) => t.status === status, 30_000);
const stateBecomes = (client: Client, invoiceId: string, state: InvoiceState) =>
  waitFor(async () => structured(await call(client, 'get_invoice_status', { invoice_id: invoiceId })).state, (s) => s === state, 30_000);

describe.concurrent('07-mcp-native', () => {
  // #region test-task-life
  it('Part A: task full life: create, tasks/get shows input_required, approve, tasks/result shows PAID', async () => {
    const client = full;
    const invoice = newInvoice();
    const task = await createTask(client, invoice, 120_000);
    expect(task).toMatchObject({ taskId: invoiceWorkflowId(invoice.id), status: 'working', ttl: 120_000, pollInterval: 1000 });

    const waiting = await taskStatusBecomes(client, task.taskId, 'input_required');
    expect(waiting.statusMessage).toMatch(/awaits a human decision/);
    // tasks/list reads Temporal's visibility, 20 a page; other tests add tasks, so follow the cursor.
    const listed: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.experimental.tasks.listTasks(cursor);
      listed.push(...page.tasks.map((t) => t.taskId));
      cursor = page.nextCursor;
    } while (cursor && !listed.includes(task.taskId));
    expect(listed).toContain(task.taskId);

    const approved = await call(client, 'approve_invoice', { invoice_id: invoice.id, approved_by: 'alice' });
    expect(approved.isError, textOf(approved)).toBeFalsy();
    const result = await client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema); // waits until the task ends
    expect(structured(result)).toMatchObject({ state: 'PAID', amountPaid: 268.49, decision: { approved: true, by: 'alice' } });
    expect((await client.experimental.tasks.getTask(task.taskId)).status).toBe('completed');
    expect(chargesOf(invoice.id)).toHaveLength(3);
  });
  // #endregion test-task-life

  it('a client without tasks gets the immediate answer of step 05, and the ordinary tools work', async () => {
    const { client } = bare; // no capabilities at all, like Claude Desktop
    const { tools } = await client.listTools();
    expect(tools.find((t) => t.name === 'process_invoice')?.execution?.taskSupport).toBe('optional');
    const invoice = newInvoice();
    // Not held until the invoice is paid, which would be never (nobody has approved it): it answers
    // while the invoice is still undecided (held, it would never answer, and the test would time out).
    const submitted = await call(client, 'process_invoice', invoice);
    expect(structured(submitted)).toMatchObject({ invoiceId: invoice.id, taskId: invoiceWorkflowId(invoice.id) });
    const live = await env.client.workflow.getHandle(invoiceWorkflowId(invoice.id)).query(getInvoiceStatus);
    expect(['VALIDATING', 'AWAITING_APPROVAL']).toContain(live.state);
    await stateBecomes(client, invoice.id, 'AWAITING_APPROVAL');
    await call(client, 'reject_invoice', { invoice_id: invoice.id, rejected_by: 'bob', reason: 'duplicate' });
    await stateBecomes(client, invoice.id, 'REJECTED');

    const again = await call(client, 'process_invoice', invoice);
    expect(again.isError).toBe(true);
    expect(textOf(again)).toMatch(/^Invoice .* was already submitted \(its state is REJECTED\), so it was not started again/);
    const bad = await call(client, 'process_invoice', { ...invoice, lines: [] });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toMatch(/Invalid arguments for tool process_invoice.*\n.*at lines/s);
  });

  // #region test-task-start-error
  it('a task that cannot start answers a JSON-RPC error with its true code and one clean message', async () => {
    const failure = (invoice: Invoice, client = full) => createTask(client, invoice).then(() => expect.fail('a task was created'), (err: unknown) => err as McpError);
    const invoice = newInvoice();
    await createTask(full, invoice);

    // Refused, -32602 (invalid params): the invoice id was used before, or the input is not an invoice.
    const again = await failure(invoice);
    expect(again).toBeInstanceOf(McpError);
    expect(again.code).toBe(ErrorCode.InvalidParams);
    expect(again.message).toMatch(new RegExp(`^MCP error -32602: Invoice ${invoice.id} was already submitted \\(its state is [A-Z_]+\\), so it was not started again: .* tasks/get invoice-${invoice.id}\\) to follow it, or give a different invoice its own id\\.$`));
    const bad = await failure({ ...invoice, id: uniqueName('INV'), customer: '' });
    expect(bad.code).toBe(ErrorCode.InvalidParams);
    expect(bad.message).toMatch(/^MCP error -32602: Invalid arguments for tool process_invoice:\n.*at customer/s);

    // Failed, -32603 (internal error): this server cannot reach Temporal (nothing listens on that port).
    const away = await stdioClient(FULL, `127.0.0.1:${await freePort()}`);
    const unreachable = await failure(newInvoice(), away.client);
    expect(unreachable.code).toBe(ErrorCode.InternalError);
    expect(unreachable.message).toMatch(/^MCP error -32603: Cannot reach Temporal at 127\.0\.0\.1:\d+\. /);

    // One prefix, the one the client's McpError adds: the server's message carries none.
    for (const err of [again, bad, unreachable]) expect(err.message.match(/MCP error/g)).toHaveLength(1);
  });
  // #endregion test-task-start-error

  // #region test-restart
  it('tasks survive the server: 5 tasks, the server killed twice, every task still readable from a new client', { timeout: 120_000 }, async () => {
    const first = await stdioClient(FULL);
    const invoices = Array.from({ length: 5 }, newInvoice);
    const tasks = await Promise.all(invoices.map((invoice) => createTask(first.client, invoice)));
    await Promise.all(tasks.map((t) => taskStatusBecomes(first.client, t.taskId, 'input_required')));
    let pid = first.transport.pid!;
    const readable: number[] = [];
    for (let restart = 1; restart <= 2; restart++) {
      process.kill(pid, 'SIGKILL'); // the server dies with everything in its memory
      const next = await stdioClient(FULL); // a new process, a new connection, a new session
      pid = next.transport.pid!;
      const seen = await Promise.all(tasks.map((t) => next.client.experimental.tasks.getTask(t.taskId)));
      readable.push(seen.filter((t) => t.status === 'input_required').length);
      if (restart === 2) {
        await call(next.client, 'approve_invoice', { invoice_id: invoices[0].id, approved_by: 'carol' });
        const result = await next.client.experimental.tasks.getTaskResult(tasks[0].taskId, CallToolResultSchema);
        expect(structured(result).state).toBe('PAID');
      }
    }
    expect(readable).toEqual([5, 5]); // tasks created: 5; restarts: 2; still readable: 5 after each
  });
  // #endregion test-restart

  // #region test-scale-out
  it('scale-out: a task created through one HTTP server is read, approved and its result fetched through another', { timeout: 120_000 }, async () => {
    const [a, b] = await Promise.all([httpServerAndClient(), httpServerAndClient()]);
    const invoice = newInvoice();
    const task = await createTask(a.client, invoice);
    expect((await taskStatusBecomes(b.client, task.taskId, 'input_required')).taskId).toBe(task.taskId);
    const approved = await call(b.client, 'approve_invoice', { invoice_id: invoice.id, approved_by: 'dave' });
    expect(approved.isError, textOf(approved)).toBeFalsy();
    const result = await b.client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema);
    expect(structured(result)).toMatchObject({ state: 'PAID', decision: { by: 'dave' } });
    expect((await a.client.experimental.tasks.getTask(task.taskId)).status).toBe('completed');
  });
  // #endregion test-scale-out

  // #region test-cancel
  it('task cancel: a waiting invoice is cancelled (nothing paid); a PAYING one is refused and ends PAID, never half-paid', async () => {
    const client = full;
    const waiting = newInvoice();
    const task = await createTask(client, waiting);
    await taskStatusBecomes(client, task.taskId, 'input_required');
    const cancelled = await client.experimental.tasks.cancelTask(task.taskId);
    expect(cancelled.status).toBe('cancelled');
    const handle = env.client.workflow.getHandle(task.taskId);
    expect((await handle.describe()).status.name).toBe('CANCELLED');
    expect((await handle.query(getInvoiceStatus)).state).toBe('CANCELLED');
    const { events } = await handle.fetchHistory();
    const requested = events?.find((e) => e.workflowExecutionCancelRequestedEventAttributes)?.workflowExecutionCancelRequestedEventAttributes;
    expect(requested?.cause).toBe('Client cancelled task execution.'); // the reason, in the history the Web UI shows
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    expect(chargesOf(waiting.id)).toHaveLength(0);
    const result = await client.experimental.tasks.getTaskResult(task.taskId, CallToolResultSchema);
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/cancelled before anything was paid/);

    const paying = newInvoice();
    const payingTask = await createTask(client, paying);
    await taskStatusBecomes(client, payingTask.taskId, 'input_required');
    await call(client, 'approve_invoice', { invoice_id: paying.id, approved_by: 'erin' });
    await stateBecomes(client, paying.id, 'PAYING');
    await expect(client.experimental.tasks.cancelTask(payingTask.taskId)).rejects.toThrow(/is PAYING, so it was not cancelled.*half-paid/);
    const paid = await client.experimental.tasks.getTaskResult(payingTask.taskId, CallToolResultSchema);
    expect(structured(paid).state).toBe('PAID');
    expect(chargesOf(paying.id)).toHaveLength(3);
  });
  // #endregion test-cancel

  it('cancel races approval: 5 invoices approved and cancelled at once each end PAID (3 charges) or CANCELLED (none), never half-paid', async () => {
    const invoices = Array.from({ length: 5 }, newInvoice);
    const tasks = await Promise.all(invoices.map((invoice) => createTask(full, invoice)));
    await Promise.all(tasks.map((t) => taskStatusBecomes(full, t.taskId, 'input_required')));
    const replies = await Promise.all(
      invoices.map((invoice, i) =>
        Promise.allSettled([call(full, 'approve_invoice', { invoice_id: invoice.id, approved_by: 'judy' }), full.experimental.tasks.cancelTask(tasks[i].taskId)]),
      ),
    );
    for (const [i, invoice] of invoices.entries()) {
      const handle = env.client.workflow.getHandle(tasks[i].taskId);
      const finalState = await handle.result().then((s) => s.state, (err: unknown) => (err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure ? 'CANCELLED' : String(err)));
      const task = await full.experimental.tasks.getTask(tasks[i].taskId);
      const charges = chargesOf(invoice.id).length;
      const [approve, cancel] = replies[i];
      const said = `${invoice.id}: approve ${JSON.stringify(approve)} | cancel ${JSON.stringify(cancel)}`;
      // Each caller was told the truth, whichever came first.
      if (finalState === 'PAID') {
        expect({ charges, task: task.status }).toEqual({ charges: 3, task: 'completed' });
        expect(approve.status === 'fulfilled' && !approve.value.isError && structured(approve.value).decision, said).toMatchObject({ approved: true, by: 'judy' });
        // Refused (the approval came first), or it crossed the approval and its answer is the task as it ended.
        if (cancel.status === 'rejected') expect(String(cancel.reason), said).toMatch(/is (PAYING|PAID), so it was not cancelled/);
        else expect(cancel.value.status, said).toBe('completed');
      } else {
        expect({ finalState, charges, task: task.status }, said).toEqual({ finalState: 'CANCELLED', charges: 0, task: 'cancelled' });
        expect(cancel.status === 'fulfilled' && cancel.value.status, said).toBe('cancelled');
        // The approval was refused, naming why; never told it took effect.
        expect(approve.status === 'fulfilled' && approve.value.isError, said).toBe(true);
        if (approve.status === 'fulfilled') expect(textOf(approve.value), said).not.toMatch(/approved by judy;/);
      }
    }

    // The crossing the server cannot see: its check passed, then the approval started the payments.
    // Cancel straight through Temporal while the invoice pays: the workflow still pays every line.
    const crossing = newInvoice();
    const crossingTask = await createTask(full, crossing);
    await taskStatusBecomes(full, crossingTask.taskId, 'input_required');
    await call(full, 'approve_invoice', { invoice_id: crossing.id, approved_by: 'judy' });
    const handle = env.client.workflow.getHandle(crossingTask.taskId);
    await handle.cancel();
    expect((await handle.result()).state).toBe('PAID');
    expect(chargesOf(crossing.id)).toHaveLength(3);
  });

  it('TTL: a finished task is reported with its TTL, and is gone once the TTL has passed', async () => {
    const invoice = newInvoice();
    const task = await createTask(full, invoice, 1_000);
    expect(task.ttl).toBe(1_000);
    await taskStatusBecomes(full, task.taskId, 'input_required');
    expect((await full.experimental.tasks.cancelTask(task.taskId)).status).toBe('cancelled');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await expect(full.experimental.tasks.getTask(task.taskId)).rejects.toThrow(/Task not found/);
    // Temporal still has the workflow (its own retention is longer): the TTL is the task's, not the invoice's.
    expect((await env.client.workflow.getHandle(task.taskId).describe()).status.name).toBe('CANCELLED');
  });

  // #region test-elicitation
  it('Part B: elicitation: accept → PAID; decline → still waiting; an invalid answer → refused; no capability → no request', async () => {
    const client = full; // answers the form as scripted in `answers`
    const [accept, decline, invalid, plain] = [newInvoice(), newInvoice(), newInvoice(), newInvoice()];
    answers.set(accept.id, { action: 'accept', content: { decision: 'approve', name: 'frank' } });
    answers.set(decline.id, { action: 'decline' });
    answers.set(invalid.id, { action: 'accept', content: { decision: 'reject', name: 'grace' } }); // no reason
    for (const invoice of [accept, decline, invalid, plain]) await call(client, 'process_invoice', invoice);
    await Promise.all([accept, decline, invalid, plain].map((i) => stateBecomes(client, i.id, 'AWAITING_APPROVAL')));

    const approved = await call(client, 'request_approval', { invoice_id: accept.id });
    expect(structured(approved)).toMatchObject({ outcome: 'approved' });
    // What the workflow says, not the reply: frank's approval took effect, and it pays.
    await stateBecomes(client, accept.id, 'PAID');
    const status = structured(await call(client, 'get_invoice_status', { invoice_id: accept.id }));
    expect(status.decision).toMatchObject({ approved: true, by: 'frank' });

    expect(structured(await call(client, 'request_approval', { invoice_id: decline.id }))).toMatchObject({ outcome: 'declined', state: 'AWAITING_APPROVAL' });
    const refused = await call(client, 'request_approval', { invoice_id: invalid.id });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toMatch(/not valid.*a rejection needs a reason.*still awaits a decision/);
    for (const i of [decline, invalid]) {
      const after = structured(await call(client, 'get_invoice_status', { invoice_id: i.id }));
      expect(after).toMatchObject({ state: 'AWAITING_APPROVAL', decision: null });
    }
    expect(asked.filter((id) => [accept.id, decline.id, invalid.id, plain.id].includes(id)).sort()).toEqual([accept.id, decline.id, invalid.id].sort());

    // A client that does not advertise elicitation: the server must not send it a request at all.
    const received: JSONRPCMessage[] = [];
    const deliver = bare.transport.onmessage!;
    bare.transport.onmessage = (message) => {
      received.push(message);
      deliver(message);
    };
    const notSupported = await call(bare.client, 'request_approval', { invoice_id: plain.id });
    expect(structured(notSupported)).toMatchObject({ outcome: 'not_supported' });
    expect(textOf(notSupported)).toMatch(/cannot show forms.*approve_invoice or reject_invoice/);
    expect(received.filter((m) => 'method' in m && m.method === 'elicitation/create')).toEqual([]);
    expect(structured(await call(bare.client, 'get_invoice_status', { invoice_id: plain.id })).state).toBe('AWAITING_APPROVAL');
  });
  // #endregion test-elicitation

  // #region test-progress
  it('Part C: progress: a 5 s wait succeeds under a 3 s request timeout because progress resets it; a change ends the wait early', async () => {
    const client = full;
    const invoice = newInvoice();
    await call(client, 'process_invoice', invoice);
    await stateBecomes(client, invoice.id, 'AWAITING_APPROVAL');

    // When each progress notification arrived, from the start of the call.
    const progress: { progress: number; at: number }[] = [];
    const started = Date.now();
    const wait = { name: 'wait_for_invoice', arguments: { invoice_id: invoice.id, timeout_seconds: 5 } };
    const [waited, withoutReset] = await Promise.allSettled([
      client.callTool(wait, undefined, {
        timeout: 3_000,
        resetTimeoutOnProgress: true,
        onprogress: (p) => progress.push({ progress: p.progress, at: Date.now() - started }),
      }),
      // The same wait without resetting on progress times out: the progress is what keeps the first alive.
      client.callTool(wait, undefined, { timeout: 3_000, onprogress: () => {} }),
    ]);
    const ended = Date.now() - started;
    // The server waits the whole 5 s (nothing changes), so neither call can end sooner.
    expect(ended).toBeGreaterThanOrEqual(5_000);
    expect(progress.map((p) => p.progress)).toEqual(progress.map((p) => p.progress).sort((a, b) => a - b));
    expect(withoutReset.status === 'rejected' && String(withoutReset.reason)).toMatch(/timed out/i);
    // Progress comes about once a second, after each status read. On a machine so loaded that two
    // notifications came 3 s apart, the 3 s timeout rightly ran out between them: then that gap
    // must be in the record. Otherwise the reset kept the call alive to its answer.
    const gaps = [...progress.map((p) => p.at), ended].map((at, i, all) => at - (i === 0 ? 0 : all[i - 1]));
    if (waited.status === 'rejected') expect(Math.max(...gaps), String(waited.reason)).toBeGreaterThanOrEqual(2_900);
    else {
      expect(structured(waited.value)).toMatchObject({ changed: false, state: 'AWAITING_APPROVAL' });
      expect(progress.length).toBeGreaterThanOrEqual(1); // 5 s under a 3 s timeout needs at least one reset
    }

    // A change ends the wait early. The approval is sent once the first progress shows the wait has
    // read the invoice while it waited for approval, so the change happens during the wait.
    let waiting!: () => void;
    const waitHasRead = new Promise<void>((resolve) => (waiting = resolve));
    const [changed] = await Promise.all([
      client.callTool({ name: 'wait_for_invoice', arguments: { invoice_id: invoice.id, timeout_seconds: 50 } }, undefined, {
        timeout: 60_000,
        onprogress: () => waiting(),
      }),
      waitHasRead.then(() => call(client, 'approve_invoice', { invoice_id: invoice.id, approved_by: 'heidi' })),
    ]);
    // Changed, so the change ended it, not its 50 s bound (which would answer changed: false).
    expect(structured(changed)).toMatchObject({ changed: true, waitedInState: 'AWAITING_APPROVAL' });
  });
  // #endregion test-progress

  // #region test-resource
  it('resource: invoice://{id} reads as JSON; a subscribed client is notified from AWAITING_APPROVAL to PAID', async () => {
    const client = full;
    const invoice = newInvoice();
    const uri = `invoice://${invoice.id}`;
    await call(client, 'process_invoice', invoice);
    await stateBecomes(client, invoice.id, 'AWAITING_APPROVAL');
    const read = async () => {
      const [content] = (await client.readResource({ uri })).contents;
      return JSON.parse('text' in content ? content.text : '') as { state: InvoiceState };
    };
    expect((await read()).state).toBe('AWAITING_APPROVAL');

    // Each notification, and the state read when it came: they arrive as the state changes.
    const seen: InvoiceState[] = [];
    let notifications = 0;
    const paid = new Promise<void>((resolve) =>
      client.setNotificationHandler(ResourceUpdatedNotificationSchema, async (n) => {
        if (n.params.uri !== uri) return;
        notifications++;
        const { state } = await read();
        seen.push(state);
        if (state === 'PAID') resolve();
      }),
    );
    await client.subscribeResource({ uri });
    // Subscribed, and nothing has changed yet: no notification.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(notifications).toBe(0);
    await call(client, 'approve_invoice', { invoice_id: invoice.id, approved_by: 'ivan' });
    await paid;
    // Only after the approval, in the workflow's order (a read may already see a later state, never an earlier one).
    const order: InvoiceState[] = ['AWAITING_APPROVAL', 'PAYING', 'PAID'];
    expect(seen).not.toContain('AWAITING_APPROVAL');
    expect(seen.map((s) => order.indexOf(s))).toEqual([...seen.map((s) => order.indexOf(s))].sort((a, b) => a - b));
    expect(seen.at(-1)).toBe('PAID');
  });
  // #endregion test-resource
});
