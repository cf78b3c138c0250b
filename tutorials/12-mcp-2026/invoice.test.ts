// Proof for step 12: the invoice task on the MCP of 2026, against a real Temporal dev server and two
// HTTP server processes: the task's life from the workflow (working, input_required with its form,
// completed, cancelled), the approval through tasks/update (true, and only once), the gate on the
// declared capability, bad input refused with nothing changed, the signed multi round-trip, any
// replica answering any task (and both restarted), notifications/tasks, the ext-tasks client, and
// 2025-11-25 clients through the fallback and on stdio.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioClientTransportV2 } from '@modelcontextprotocol/client/stdio';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { WorkflowNotFoundError } from '@temporalio/client';
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
import { TASK_QUEUE } from './workflows.js';

const SERVER = new URL('./server.ts', import.meta.url);
const TASKS = 'io.modelcontextprotocol/tasks';
let temporal: DevServer;
let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
let dir: string;
let gateway: LedgerGateway;
/** Replicas of the server, each its own process on its own port: A and B (0, 1) for every test; C and D (2, 3) the restart test kills. */
const replicas: { port: number; process?: ScriptProcess }[] = [];
const serverEnv = () => ({ TEMPORAL_ADDRESS: temporal.address, MCP_REQUEST_STATE_KEY: 'a-test-key-that-is-32-bytes-or-more!!' });

beforeAll(async () => {
  dir = mkdtempSync(join(REPO_ROOT, '.temporal', 'test-12-'));
  // #region test-env
  temporal = await startDevServer();
  env = await TestWorkflowEnvironment.createFromExistingServer({ address: temporal.address });
  gateway = new LedgerGateway(join(dir, 'ledger.jsonl'), 200);
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUE,
    workflowBundle: await bundleOnce(new URL('./workflows.ts', import.meta.url)),
    activities: createActivities(new Erp(), gateway),
  });
  running = worker.run();
  // #endregion test-env
  for (let i = 0; i < 4; i++) replicas.push({ port: await freePort() });
  await Promise.all(replicas.map((_, i) => restart(i)));
}, 120_000);

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.process?.kill()));
  worker?.shutdown();
  await running;
  await env?.teardown();
  await temporal?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** (Re)starts replica i on its own port: SIGKILL first, as a crash would, if it runs. */
async function restart(i: number): Promise<void> {
  await replicas[i].process?.kill('SIGKILL');
  const { port } = replicas[i];
  replicas[i].process = await startScript(SERVER, { name: `server ${i} :${port}`, args: ['--http', '--port', String(port)], env: serverEnv(), readyWhen: /serving Streamable HTTP/ });
}
const url = (i = 0) => `http://127.0.0.1:${replicas[i].port}/mcp`;

// #region rpc
/** Options of one raw request: what a 2026 client declares, and headers to send or leave out. */
interface RpcOptions {
  replica?: number;
  capabilities?: Record<string, unknown>;
  headers?: Record<string, string>;
  meta?: Record<string, unknown> | null;
}
const WITH_TASKS = { elicitation: { form: {} }, extensions: { [TASKS]: {} } };
let nextId = 1;
/** One JSON-RPC request on the 2026 wire, as any client sends it: _meta in the body, the headers to match. */
async function rpc(method: string, params: Record<string, unknown> = {}, o: RpcOptions = {}) {
  const id = nextId++;
  const meta = o.meta === null ? undefined : { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': o.capabilities ?? WITH_TASKS, ...o.meta };
  const name = (params.taskId ?? params.name) as string | undefined;
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': method, ...(name ? { 'mcp-name': name } : {}), ...o.headers };
  const res = await fetch(url(o.replica), { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, ...(meta && { _meta: meta }) } }) });
  const body = (await res.json()) as { id: number; result?: Record<string, any>; error?: { code: number; message: string; data?: any } };
  return { sentId: id, status: res.status, ...body };
}
// #endregion rpc

const newInvoice = (): Invoice => sampleInvoice(uniqueName('INV'));
const chargesOf = (invoiceId: string) => gateway.charges().filter((c) => c.reference.startsWith(`invoice-${invoiceId}/`));
const createTask = async (invoice: Invoice, replica = 0) => {
  const created = await rpc('tools/call', { name: 'process_invoice', arguments: invoice }, { replica });
  expect(created.result, JSON.stringify(created.error)).toMatchObject({ resultType: 'task', status: 'working' });
  return created.result!.taskId as string;
};
const taskBecomes = (taskId: string, status: string, replica = 0) =>
  waitFor(async () => (await rpc('tasks/get', { taskId }, { replica })).result, (t) => t?.status === status, 30_000);
const approve = (taskId: string, name: string, replica = 0) =>
  rpc('tasks/update', { taskId, inputResponses: { decision: { action: 'accept', content: { decision: 'approve', name } } } }, { replica });
const workflowExists = (invoiceId: string) =>
  env.client.workflow.getHandle(invoiceWorkflowId(invoiceId)).describe().then(() => true, (err: unknown) => (err instanceof WorkflowNotFoundError ? false : Promise.reject(err)));

describe.concurrent('12-mcp-2026', () => {
  // #region test-task-life
  it('Part A: the task from the workflow: working, input_required with the form, tasks/update approves (once), completed PAID', async () => {
    const invoice = newInvoice();
    const taskId = await createTask(invoice);
    expect(taskId).toMatch(new RegExp(`^invoice-${invoice.id}\\.[A-Za-z0-9_-]{22}$`)); // the workflow id, and a secret
    const waiting = await taskBecomes(taskId, 'input_required');
    expect(waiting).toMatchObject({ ttlMs: 3_600_000, pollIntervalMs: 1000, inputRequests: { decision: { method: 'elicitation/create' } } });
    expect(Number.isInteger(waiting!.ttlMs) && new Date(waiting!.createdAt).toISOString()).toBe(waiting!.createdAt);

    const ack = await approve(taskId, 'alice');
    expect(ack.result).toMatchObject({ resultType: 'complete' }); // sent only once the workflow took the Update
    const again = await rpc('tasks/update', { taskId, inputResponses: { decision: { action: 'accept', content: { decision: 'reject', name: 'bob', reason: 'late' } } } });
    // Refused by the validator, or (if the invoice was paid in between) because it has finished: either way, said so.
    expect(again.error).toMatchObject({ code: -32602, message: expect.stringMatching(/(already approved by alice|approved by alice at .* has finished).*nothing was changed/) });

    const done = await taskBecomes(taskId, 'completed');
    expect(done!.result).toMatchObject({ resultType: 'complete', structuredContent: { state: 'PAID', amountPaid: 268.49, decision: { approved: true, by: 'alice' } } });
    expect(chargesOf(invoice.id)).toHaveLength(3);
  });
  // #endregion test-task-life

  it('Part B: tasks/update decides through the Update: reject → completed REJECTED, nothing paid; a declined form or an invalid answer changes nothing', async () => {
    const invoice = newInvoice();
    const taskId = await createTask(invoice);
    await taskBecomes(taskId, 'input_required');
    expect((await rpc('tasks/update', { taskId, inputResponses: { decision: { action: 'decline' } } })).result).toBeDefined();
    expect((await rpc('tasks/get', { taskId })).result!.status).toBe('input_required');
    const noReason = await rpc('tasks/update', { taskId, inputResponses: { decision: { action: 'accept', content: { decision: 'reject', name: 'bob' } } } });
    expect(noReason.error).toMatchObject({ code: -32602, message: expect.stringMatching(/a rejection needs a reason.*unchanged/) });
    await rpc('tasks/update', { taskId, inputResponses: { decision: { action: 'accept', content: { decision: 'reject', name: 'bob', reason: 'duplicate' } } } });
    expect((await taskBecomes(taskId, 'completed'))!.result.structuredContent).toMatchObject({ state: 'REJECTED', amountPaid: 0 });
    expect(chargesOf(invoice.id)).toHaveLength(0);
  });

  it('tasks/cancel cancels the workflow, is idempotent once it has ended; unknown or forged ids get -32602', async () => {
    const invoice = newInvoice();
    const taskId = await createTask(invoice);
    await taskBecomes(taskId, 'input_required');
    expect((await rpc('tasks/cancel', { taskId })).result).toMatchObject({ resultType: 'complete' });
    expect((await rpc('tasks/get', { taskId })).result!.status).toBe('cancelled');
    expect((await env.client.workflow.getHandle(invoiceWorkflowId(invoice.id)).describe()).status.name).toBe('CANCELLED');
    expect((await rpc('tasks/cancel', { taskId })).result).toMatchObject({ resultType: 'complete' });
    expect(chargesOf(invoice.id)).toHaveLength(0);

    const forged = `${taskId.slice(0, taskId.lastIndexOf('.'))}.${'A'.repeat(22)}`; // the right workflow, a guessed secret
    for (const id of ['no-such-task', `invoice-${uniqueName('INV')}.${'A'.repeat(22)}`, forged]) {
      for (const method of ['tasks/get', 'tasks/cancel']) expect((await rpc(method, { taskId: id })).error?.code, `${method} ${id}`).toBe(-32602);
    }
  });

  it('the gate: without the extension declared, task methods get -32021 and process_invoice answers at once (no task)', async () => {
    const discover = await rpc('server/discover', {});
    expect(discover.result).toMatchObject({ supportedVersions: ['2026-07-28'], capabilities: { extensions: { [TASKS]: {} } } });
    // 2026 tools carry no taskSupport: the server decides, per call, from what the request declares.
    expect((await rpc('tools/list')).result!.tools.map((t: { name: string }) => t.name)).toContain('process_invoice');

    const invoice = newInvoice();
    const plain = await rpc('tools/call', { name: 'process_invoice', arguments: invoice }, { capabilities: {} });
    expect(plain.result).toMatchObject({ resultType: 'complete', structuredContent: { invoiceId: invoice.id, state: 'VALIDATING' } });
    expect(plain.result!.taskId).toBeUndefined();
    for (const method of ['tasks/get', 'tasks/update', 'tasks/cancel']) {
      const refused = await rpc(method, { taskId: 'whatever', inputResponses: {} }, { capabilities: {} });
      expect(refused.status, method).toBe(400);
      expect(refused.error, method).toMatchObject({ code: -32021, data: { requiredCapabilities: { extensions: { [TASKS]: {} } } } });
    }
  });

  it('bad input gets a clear error and changes nothing', async () => {
    const invoice = newInvoice();
    const taskId = await createTask(invoice);
    await taskBecomes(taskId, 'input_required');
    const noMeta = await rpc('tools/list', {}, { meta: null });
    expect(noMeta).toMatchObject({ status: 400, id: noMeta.sentId, error: { code: -32602 } });
    const future = await rpc('tools/list', {}, { meta: { 'io.modelcontextprotocol/protocolVersion': '2099-01-01' }, headers: { 'mcp-protocol-version': '2099-01-01' } });
    expect(future).toMatchObject({ status: 400, id: future.sentId, error: { code: -32022, data: { supported: ['2026-07-28'], requested: '2099-01-01' } } });
    const mismatch = await rpc('tasks/get', { taskId }, { headers: { 'mcp-name': 'another-task' } });
    expect(mismatch).toMatchObject({ status: 400, error: { code: -32020 } });
    const wrongShape = await rpc('tasks/update', { taskId, inputResponses: { decision: { action: 'accept', content: { decision: 'pay it all', name: 'mallory' } } } });
    expect(wrongShape.error).toMatchObject({ code: -32602, message: expect.stringMatching(/not valid.*unchanged/) });
    const noAnswer = await rpc('tasks/update', { taskId, inputResponses: { something: { action: 'accept', content: {} } } });
    expect(noAnswer.error).toMatchObject({ code: -32602, message: expect.stringMatching(/no answer to "decision"/) });
    expect((await rpc('tasks/get', { taskId })).result!.status).toBe('input_required');
    expect(chargesOf(invoice.id)).toHaveLength(0);
  });

  // #region test-request-state
  it('Part C: a large invoice asks first; its signed requestState, tampered, moved to another invoice or replayed, starts nothing', async () => {
    const big = { ...newInvoice(), lines: [{ item: 'Server rack', amount: 12_000 }] };
    const yes = { confirm: { action: 'accept', content: { confirm: true } } };
    const asked = await rpc('tools/call', { name: 'process_invoice', arguments: big });
    expect(asked.result).toMatchObject({ resultType: 'input_required', inputRequests: { confirm: { method: 'elicitation/create' } }, requestState: expect.any(String) });
    expect(await workflowExists(big.id)).toBe(false);
    const state = asked.result!.requestState as string;

    const tampered = await rpc('tools/call', { name: 'process_invoice', arguments: big, inputResponses: yes, requestState: `${state.slice(0, -4)}AAAA` });
    expect(tampered.error).toMatchObject({ code: -32602, message: 'Invalid or expired requestState' });
    const other = { ...big, id: uniqueName('INV') };
    const moved = await rpc('tools/call', { name: 'process_invoice', arguments: other, inputResponses: yes, requestState: state }, { replica: 1 });
    expect(moved.result).toMatchObject({ isError: true, content: [{ text: expect.stringMatching(/another invoice.*nothing was started/) }] });
    const declined = await rpc('tools/call', { name: 'process_invoice', arguments: big, inputResponses: { confirm: { action: 'decline' } }, requestState: state });
    expect(declined.result!.structuredContent).toMatchObject({ submitted: false });
    expect([await workflowExists(big.id), await workflowExists(other.id)]).toEqual([false, false]);

    const started = await rpc('tools/call', { name: 'process_invoice', arguments: big, inputResponses: yes, requestState: state }, { replica: 1 }); // round two on the other replica
    expect(started.result).toMatchObject({ resultType: 'task' });
    const replayed = await rpc('tools/call', { name: 'process_invoice', arguments: big, inputResponses: yes, requestState: state });
    expect(replayed.result).toMatchObject({ isError: true, content: [{ text: expect.stringMatching(/already submitted.*not started again/) }] });
    await rpc('tasks/cancel', { taskId: started.result!.taskId });
  });
  // #endregion test-request-state

  // #region test-replicas
  it('any replica answers any task: created on C, read on D, both restarted, approved on D, read on C, cancelled across', { timeout: 120_000 }, async () => {
    const invoice = newInvoice();
    const taskId = await createTask(invoice, 2);
    expect((await rpc('tasks/get', { taskId }, { replica: 3 })).result!.taskId).toBe(taskId);
    await taskBecomes(taskId, 'input_required', 3);
    const second = newInvoice();
    const secondTask = await createTask(second, 3);

    await Promise.all([restart(2), restart(3)]); // both processes killed and started again: nothing was in them
    expect((await approve(taskId, 'carol', 3)).result).toMatchObject({ resultType: 'complete' });
    expect((await taskBecomes(taskId, 'completed', 2))!.result.structuredContent).toMatchObject({ state: 'PAID', decision: { by: 'carol' } });
    expect((await rpc('tasks/cancel', { taskId: secondTask }, { replica: 2 })).result).toMatchObject({ resultType: 'complete' });
    expect((await rpc('tasks/get', { taskId: secondTask }, { replica: 3 })).result!.status).toBe('cancelled');
    expect([chargesOf(invoice.id).length, chargesOf(second.id).length]).toEqual([3, 0]);
  });
  // #endregion test-replicas

  it('notifications/tasks over subscriptions/listen: the task as it changes, on another replica than the one that made it', async () => {
    const taskId = await createTask(newInvoice(), 0);
    const listen = await fetch(url(1), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'subscriptions/listen' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 'sub-1', method: 'subscriptions/listen', params: { notifications: { taskIds: [taskId, 'no-such-task'] }, _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': WITH_TASKS } } }),
    });
    const frames: { method?: string; params?: Record<string, any> }[] = [];
    let buffered = '';
    const decoder = new TextDecoder();
    const reader = listen.body!.getReader();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      buffered += decoder.decode(chunk.value, { stream: true });
      for (let end = buffered.indexOf('\n\n'); end >= 0; end = buffered.indexOf('\n\n')) {
        const data = buffered.slice(0, end).split('\n').find((l) => l.startsWith('data:'));
        buffered = buffered.slice(end + 2);
        if (!data) continue;
        const frame = JSON.parse(data.slice(5));
        frames.push(frame);
        if (frame.params?.status === 'input_required') void approve(taskId, 'dave', 0);
      }
    }
    expect(frames[0]).toMatchObject({ method: 'notifications/subscriptions/acknowledged', params: { notifications: { taskIds: [taskId] } } });
    const statuses = frames.filter((f) => f.method === 'notifications/tasks').map((f) => f.params!.status);
    expect(statuses).toContain('input_required');
    expect(statuses.at(-1)).toBe('completed');
    expect(frames.filter((f) => f.method === 'notifications/tasks').every((f) => f.params!._meta['io.modelcontextprotocol/subscriptionId'] === 'sub-1')).toBe(true);
  });

  it('client.ts on both revisions: the ext-tasks requester on 2026-07-28, the tools through the fallback on 2025-11-25', { timeout: 120_000 }, async () => {
    const run = (...args: string[]) => {
      const { command, args: argv } = tsxCommand(new URL('./client.ts', import.meta.url), ['--url', url(1), ...args]);
      return promisify(execFile)(command, argv, { env: { ...process.env, ...serverEnv() } }).then((r) => r.stdout);
    };
    const [modern, legacy] = await Promise.all([run('--amount', '12000'), run('--revision', '2025-11-25')]);
    expect(modern).toMatch(/the server asks: .* above 10000/);
    expect(modern).toMatch(/tasks\/get: input_required/);
    expect(modern).toMatch(/✔ 2026-07-28: invoice .* is PAID, 1 line, 12000\.00 paid/);
    expect(legacy).toMatch(/✔ 2025-11-25: invoice .* is PAID, 3 lines, 268\.49 paid/);
  });

  it('stdio: a 2025-11-25 client (what Claude Desktop launches) gets the same tools and the large-amount question as a form; a 2026-07-28 client too', async () => {
    const { command, args } = tsxCommand(SERVER);
    const client = new ClientV1({ name: 'test-12-stdio', version: '1.0.0' }, { capabilities: { elicitation: { form: {} } } });
    const asked: string[] = [];
    client.setRequestHandler(ElicitRequestSchema, async (request) => (asked.push(request.params.message), { action: 'accept', content: { confirm: true } }));
    await client.connect(new StdioClientTransport({ command, args, env: { ...(process.env as Record<string, string>), ...serverEnv() }, stderr: 'ignore' }));
    try {
      expect(client.getServerVersion()).toMatchObject({ name: 'invoice-approvals' });
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(['approve_invoice', 'get_invoice_status', 'list_invoices', 'process_invoice', 'reject_invoice', 'wait_for_invoice']);
      // The same inputRequired, on a 2025 connection: the SDK asks with elicitation/create, then calls the tool again.
      const big = { ...newInvoice(), lines: [{ item: 'Server rack', amount: 12_000 }] };
      const submitted = (await client.callTool({ name: 'process_invoice', arguments: big })) as { structuredContent?: Record<string, unknown> };
      expect(asked).toEqual([expect.stringMatching(/totals 12000\.00, above 10000/)]);
      expect(submitted.structuredContent).toMatchObject({ invoiceId: big.id, state: 'VALIDATING' });
    } finally {
      await client.close();
    }
    // And a 2026-07-28 client on stdio: the same process kind, the other revision.
    const modern = new Client({ name: 'test-12-stdio-2026', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await modern.connect(new StdioClientTransportV2({ command, args, env: { ...(process.env as Record<string, string>), ...serverEnv() }, stderr: 'ignore' }));
    expect([modern.getProtocolEra(), (await modern.listTools()).tools.length]).toEqual(['modern', 6]);
    await modern.close();
  });
});
