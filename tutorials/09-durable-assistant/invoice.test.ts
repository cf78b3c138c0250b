// Proof for step 09: the assistant is a workflow, and every model step and every tool call is an
// activity, counted here through the activities themselves (an observer injected in
// createAssistantActivities), not taken on trust.
//   1. A scripted conversation through the real invoice MCP server (over stdio), the real invoice
//      workflow and a worker: processed, asked before approving, confirmed by a person, PAID.
//      (1b: a "no" runs nothing; 1c: a model that refuses for good is called once; 1d: the pool
//      reopens a connection whose server died.)
//   2. A third-party MCP server from npm (server-memory) beside ours; the conversation continues
//      as new with its messages carried over.
//   3. A worker SIGKILLed inside a tool call, its reply lost: another worker retries the call, which
//      the server refuses as already submitted; one invoice, paid once. (3b: a worker shut down
//      gently reports its call first, so nothing is retried.)
//   4. Pause, resume, and cancel while a tool call is on its way to the server.
//   5. "Review everything awaiting approval" fans out, at most N children at a time.
//   6. The confirmation times out after 24 simulated hours: nothing approved, the model is told.
//   7. The terminal chat is killed and resumed, and the conversation goes on.
//   8. The recorded histories replay.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { APICallError } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existingExecutable, REPO_ROOT, tsxCommand } from '../../shared/binaries.js';
import { freePort, onFreePort, startDevServer, type DevServer } from '../../shared/dev-server.js';
import { invoiceWorkflowId, sampleInvoice, type Invoice } from '../../shared/invoice.js';
import { startScript, type ScriptProcess } from '../../shared/processes.js';
import { Erp } from '../../shared/simulated-systems.js';
import { bundleOnce, uniqueName, waitFor } from '../../shared/testing.js';
import { createActivities, Outbox } from './activities.js';
import { createAssistantActivities, type AssistantObserver } from './assistant-activities.js';
import {
  AssistantWorkflow,
  confirmToolCall,
  getAssistantStatus,
  pauseAssistant,
  resumeAssistant,
  sendMessage,
  type AssistantConfig,
  type ModelStepInput,
  type ToolCallInput,
} from './assistant-workflow.js';
import { LedgerGateway } from './ledger.js';
import { invoiceServer, McpPool, type McpServers } from './mcp-pool.js';
import { scriptedStandIn } from './model.js';
import { approveInvoice, getInvoiceStatus, InvoiceWorkflow, TASK_QUEUE } from './workflows.js';

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

const MEMORY_SERVER = join(REPO_ROOT, 'node_modules', '@modelcontextprotocol', 'server-memory', 'dist', 'index.js');

let temporal: DevServer;
let env: TestWorkflowEnvironment;
let skipping: TestWorkflowEnvironment;
let bundle: WorkflowBundle;
let invoiceBundle: WorkflowBundle;
let dir: string;
let servers: McpServers;
let pool: McpPool;
let invoiceWorker: Worker;
let invoiceWorkerRun: Promise<void>;

/** Every real model call and tool run of one worker. */
function counters() {
  const counts = { modelCalls: 0, toolCalls: [] as ToolCallInput[], modelInputs: [] as ModelStepInput[] };
  const observer = {
    onModelCall: (input: ModelStepInput) => void (counts.modelCalls++, counts.modelInputs.push(input)),
    onToolCall: (call: ToolCallInput) => void counts.toolCalls.push(call),
  };
  return { counts, observer };
}

/** The activities a workflow ran, in order, each with the attempt that completed it (from its history). */
async function activitiesRun(handle: { fetchHistory(): Promise<{ events?: HistoryEvent[] | null }> }) {
  const events = (await handle.fetchHistory()).events ?? [];
  const scheduled = new Map(events.flatMap((e) => (e.activityTaskScheduledEventAttributes ? [[String(e.eventId), e.activityTaskScheduledEventAttributes.activityType?.name ?? '']] : [])));
  return events.flatMap((e) => {
    const started = e.activityTaskStartedEventAttributes;
    return started ? [{ activity: scheduled.get(String(started.scheduledEventId)) ?? '', attempt: started.attempt ?? 0 }] : [];
  });
}
const toolNames = (calls: ToolCallInput[]) => calls.map((c) => `${c.server}/${c.tool}`);

/** The invoice side, as in step 08: its workflow and activities on the invoices' task queue, for the whole file. */
async function startInvoiceWorker(testEnv: TestWorkflowEnvironment, workflowBundle: WorkflowBundle, ledger: string) {
  const worker = await Worker.create({
    connection: testEnv.nativeConnection,
    taskQueue: TASK_QUEUE,
    workflowBundle,
    activities: createActivities(new Erp(), new LedgerGateway(ledger), new Outbox()),
  });
  return { worker, running: worker.run() };
}

beforeAll(async () => {
  dir = mkdtempSync(join(REPO_ROOT, '.temporal', 'test-09-'));
  [env, skipping, bundle, invoiceBundle] = await Promise.all([
    (async () => {
      temporal = await startDevServer();
      return TestWorkflowEnvironment.createFromExistingServer({ address: temporal.address });
    })(),
    // Temporal's time-skipping test server, for proof 6: its 24-hour wait passes in a moment.
    onFreePort((port) => TestWorkflowEnvironment.createTimeSkipping({ server: { executable: existingExecutable('testServer'), port } })),
    bundleOnce(new URL('./assistant-workflow.ts', import.meta.url)),
    bundleOnce(new URL('./workflows.ts', import.meta.url)),
  ]);
  ({ worker: invoiceWorker, running: invoiceWorkerRun } = await startInvoiceWorker(env, invoiceBundle, join(dir, 'ledger.jsonl')));
  // #region test-servers
  // The servers by name: ours over stdio, pointed at this test's Temporal, and a third-party one from npm.
  servers = {
    invoices: invoiceServer({ TEMPORAL_ADDRESS: temporal.address }),
    memory: { command: process.execPath, args: [MEMORY_SERVER], env: { MEMORY_FILE_PATH: join(dir, 'memory.jsonl') } },
  };
  // #endregion test-servers
  pool = new McpPool(servers);
}, 60_000);

afterAll(async () => {
  invoiceWorker?.shutdown();
  await invoiceWorkerRun;
  await pool?.close();
  await (await invoiceHttpServer?.catch(() => undefined))?.kill();
  await env?.teardown();
  await skipping?.teardown();
  await temporal?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** An assistant worker on a task queue of its own, with the scripted stand-in and counters. */
async function assistantWorker(taskQueue: string, observer: AssistantObserver, workerPool = pool, extra: Partial<Parameters<typeof Worker.create>[0]> = {}) {
  return Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities: createAssistantActivities(scriptedStandIn(), workerPool, observer),
    ...extra,
  });
}

/**
 * The network between a worker and the invoice server over Streamable HTTP: a front that passes
 * every request on, and hands each tools/call to `tap` first, which may hold it (resolve later),
 * or lose its reply after the server has answered (the call took effect; the caller never hears).
 */
type Tap = (body: string) => Promise<{ loseReply: () => Promise<void> } | void>;
async function network(target: string, tap: Tap) {
  const front = createHttpServer(async (req, res) => {
    if (req.method !== 'POST') return void res.writeHead(405).end();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString();
    const plan = /"method"\s*:\s*"tools\/call"/.test(body) ? await tap(body) : undefined;
    const pass = ['content-type', 'accept', 'mcp-protocol-version', 'mcp-session-id'];
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => pass.includes(name))) as Record<string, string>;
    const answer = await fetch(target, { method: 'POST', headers, body });
    const text = await answer.text();
    if (plan) {
      await plan.loseReply();
      return void res.destroy();
    }
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(text);
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(front.address() as AddressInfo).port}/mcp`, close: () => new Promise<void>((resolve) => front.close(() => resolve())) };
}

let invoiceHttpServer: Promise<ScriptProcess & { url: string }> | undefined;
/** The invoice server over Streamable HTTP, started once for the proofs that put a network in front of it. */
function invoiceHttp() {
  invoiceHttpServer ??= (async () => {
    const port = await freePort();
    const server = await startScript(new URL('./server.ts', import.meta.url), {
      name: 'invoice server (HTTP)',
      args: ['--http', '--port', String(port)],
      env: { TEMPORAL_ADDRESS: temporal.address },
      readyWhen: /Temporal at/,
    });
    return Object.assign(server, { url: `http://127.0.0.1:${port}/mcp` });
  })();
  return invoiceHttpServer;
}

/**
 * An assistant worker in a process of its own, with the scripted stand-in and one MCP server at
 * `mcpUrl`: a worker the test can SIGKILL. Only the assistant's task queue: the file's own worker
 * runs the invoices.
 */
function assistantWorkerProcess(taskQueue: string, mcpUrl: string) {
  const here = (file: string) => JSON.stringify(new URL(file, import.meta.url).href);
  const script = join(dir, `worker-${taskQueue}.ts`);
  writeFileSync(
    script,
    [
      "import { NativeConnection, Worker } from '@temporalio/worker';",
      `import { createAssistantActivities } from ${here('./assistant-activities.ts')};`,
      `import { McpPool } from ${here('./mcp-pool.ts')};`,
      `import { scriptedStandIn } from ${here('./model.ts')};`,
      `import { workflowBundle } from ${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'shared', 'worker.ts')).href)};`,
      'const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS });',
      'const pool = new McpPool({ invoices: { url: process.env.MCP_URL! } });',
      `const worker = await Worker.create({ connection, taskQueue: process.env.TASK_QUEUE!, workflowBundle: await workflowBundle(new URL(${here('./assistant-workflow.ts')})), activities: createAssistantActivities(scriptedStandIn(), pool) });`,
      "console.error('worker A: polling');",
      'await worker.run();',
    ].join('\n'),
  );
  return startScript(script, { name: 'worker A', env: { TEMPORAL_ADDRESS: temporal.address, TASK_QUEUE: taskQueue, MCP_URL: mcpUrl }, readyWhen: /worker A: polling/ });
}

function startAssistant(taskQueue: string, config: Partial<AssistantConfig> = {}, workflowId = uniqueName('assistant')) {
  return env.client.workflow.start(AssistantWorkflow, { taskQueue, workflowId, args: [{ config }] });
}

const invoiceHandle = (invoice: Invoice) => env.client.workflow.getHandle<typeof InvoiceWorkflow>(invoiceWorkflowId(invoice.id));
const awaitingApproval = (invoice: Invoice) => waitFor(() => invoiceHandle(invoice).query(getInvoiceStatus), (s) => s.state === 'AWAITING_APPROVAL', { retryErrors: true });

// Every proof has its own task queue, worker, invoices and conversation (proof 6 even its own
// Temporal), so they all run side by side: most of a proof's time is spent waiting on a server,
// a child process or a timer, and one after the other they took a minute and a half in a full run.
describe.concurrent('09-durable-assistant: a conversation through the real MCP server', () => {
  it('Part A: proof 1: processes an invoice, asks before approving, a person confirms, and it is PAID; one model call per step', async () => {
    const taskQueue = uniqueName('assistant');
    const { counts, observer } = counters();
    const worker = await assistantWorker(taskQueue, observer);
    const invoice = sampleInvoice(uniqueName('INV'));
    await worker.runUntil(async () => {
      const handle = await startAssistant(taskQueue);
      // #region seed-conversation
      const processed = await handle.executeUpdate(sendMessage, { args: [`Process this invoice: ${JSON.stringify(invoice)}`] });
      expect(processed.reply).toMatch(new RegExp(`^Invoice ${invoice.id} submitted`));
      await awaitingApproval(invoice);
      const status = await handle.executeUpdate(sendMessage, { args: [`What's the status of ${invoice.id}?`] });
      expect(status.reply).toBe(`${invoice.id} is AWAITING_APPROVAL: 0 of 3 line(s) paid.`);

      // The model proposes the approval; the turn stops and asks a person instead of running it.
      const asked = await handle.executeUpdate(sendMessage, { args: [`Approve invoice ${invoice.id}`] });
      expect(asked.reply).toBeNull();
      expect(asked.awaiting).toMatchObject({ server: 'invoices', tool: 'approve_invoice', args: { invoice_id: invoice.id } });
      expect((await handle.query(getAssistantStatus)).phase).toBe('awaiting-confirmation');
      expect((await invoiceHandle(invoice).query(getInvoiceStatus)).state).toBe('AWAITING_APPROVAL'); // nothing ran yet

      const confirmed = await handle.executeUpdate(confirmToolCall, { args: [{ by: 'carol', approved: true }] });
      // #endregion seed-conversation
      expect(confirmed.reply).toMatch(new RegExp(`^Invoice ${invoice.id} approved by carol`));
    });
    // Paid, and approved by the person who confirmed, not by the name the model typed ("the assistant").
    expect(await invoiceHandle(invoice).result()).toMatchObject({ state: 'PAID', amountPaid: 268.49, decision: { approved: true, by: 'carol' } });
    // Three turns of two model steps each (a tool call, then the answer), and each tool ran once.
    expect(counts.modelCalls).toBe(6);
    expect(toolNames(counts.toolCalls)).toEqual(['invoices/process_invoice', 'invoices/get_invoice_status', 'invoices/approve_invoice']);
    expect(counts.toolCalls[2]!.args).toEqual({ invoice_id: invoice.id, approved_by: 'carol' });
  });

  it('proof 1b: a refused confirmation runs nothing, and the model is told who refused', async () => {
    const taskQueue = uniqueName('assistant');
    const { counts, observer } = counters();
    const worker = await assistantWorker(taskQueue, observer);
    const invoice = sampleInvoice(uniqueName('INV'));
    await env.client.workflow.start(InvoiceWorkflow, { taskQueue: TASK_QUEUE, workflowId: invoiceWorkflowId(invoice.id), args: [invoice] });
    await awaitingApproval(invoice);
    await worker.runUntil(async () => {
      const handle = await startAssistant(taskQueue);
      await handle.executeUpdate(sendMessage, { args: [`Approve invoice ${invoice.id}`] });
      const refused = await handle.executeUpdate(confirmToolCall, { args: [{ by: 'dave', approved: false }] });
      expect(refused.reply).toBe(`I did not approve ${invoice.id}: Not run: dave declined approve_invoice. Nothing was changed.`);
    });
    expect(counts.toolCalls).toEqual([]);
    expect((await invoiceHandle(invoice).query(getInvoiceStatus)).state).toBe('AWAITING_APPROVAL');
  });

  it('proof 1c: a model that refuses for good (a bad key) is called once, not retried, and the turn says so', async () => {
    const taskQueue = uniqueName('assistant');
    let calls = 0;
    const badKey = new MockLanguageModelV4({
      doGenerate: async () => {
        calls++;
        throw new APICallError({ message: 'invalid x-api-key', url: 'https://api.example/v1', requestBodyValues: {}, statusCode: 401, isRetryable: false });
      },
    });
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: createAssistantActivities(badKey, pool) });
    await worker.runUntil(async () => {
      const handle = await startAssistant(taskQueue);
      const { reply } = await handle.executeUpdate(sendMessage, { args: ['Review invoice INV-1'] });
      expect(reply).toBe("The model could not be reached (invalid x-api-key); nothing more was done. Check the worker's model settings, then ask again.");
      expect((await handle.describe()).status.name).toBe('RUNNING'); // the conversation lives on
    });
    expect(calls).toBe(1); // maxRetries: 0 in the client, and non-retryable for Temporal
  });

  it('proof 1d: the invoice server dies under the pool; the next tool call opens a new connection and succeeds', async () => {
    const taskQueue = uniqueName('assistant');
    const { counts, observer } = counters();
    const ownPool = new McpPool({ invoices: servers.invoices! });
    const worker = await assistantWorker(taskQueue, observer, ownPool);
    const invoice = sampleInvoice(uniqueName('INV'));
    await env.client.workflow.start(InvoiceWorkflow, { taskQueue: TASK_QUEUE, workflowId: invoiceWorkflowId(invoice.id), args: [invoice] });
    await awaitingApproval(invoice);
    try {
      await worker.runUntil(async () => {
        const handle = await startAssistant(taskQueue); // lists the tools: the connection is open
        const before = await waitFor(() => ownPool.processId('invoices'), (pid) => pid !== null);
        process.kill(before!, 'SIGKILL');
        const { reply } = await handle.executeUpdate(sendMessage, { args: [`What's the status of ${invoice.id}?`] });
        expect(reply).toBe(`${invoice.id} is AWAITING_APPROVAL: 0 of 3 line(s) paid.`);
        const after = await ownPool.processId('invoices');
        expect(after).toBeGreaterThan(0);
        expect(after).not.toBe(before);
        // The pool opened the new connection within the first attempt: Temporal did not have to retry.
        expect((await activitiesRun(handle)).filter((a) => a.activity === 'callTool')).toEqual([{ activity: 'callTool', attempt: 1 }]);
      });
    } finally {
      await ownPool.close();
    }
    expect(toolNames(counts.toolCalls)).toEqual(['invoices/get_invoice_status']);
  });

  it('Part B: proof 2: a third-party MCP server from npm beside ours; the conversation continues as new, its messages carried over', async () => {
    const taskQueue = uniqueName('assistant');
    const { counts, observer } = counters();
    const worker = await assistantWorker(taskQueue, observer);
    await worker.runUntil(async () => {
      const handle = await startAssistant(taskQueue, { turnsPerRun: 1 });
      const firstRunId = handle.firstExecutionRunId;
      const noted = await handle.executeUpdate(sendMessage, { args: ['Remember that ACME Corp: pays on the 5th of the month'] });
      expect(noted.reply).toBe('Noted about ACME Corp: pays on the 5th of the month');
      // One turn per run here: the next turn is answered by a new run, which got the messages.
      const recalled = await env.client.workflow.getHandle(handle.workflowId).executeUpdate(sendMessage, { args: ['What do you remember about ACME Corp?'] });
      expect(recalled.reply).toBe('About ACME Corp: pays on the 5th of the month');
      const latest = env.client.workflow.getHandle(handle.workflowId);
      expect((await latest.describe()).runId).not.toBe(firstRunId);
      expect(await latest.query(getAssistantStatus)).toMatchObject({ turns: 2, messages: 8 }); // 4 messages per turn, both turns
      // The first run's history stops at the continue-as-new: bounded, however long the chat.
      const firstEvents = (await env.client.workflow.getHandle(handle.workflowId, firstRunId).fetchHistory()).events ?? [];
      expect(firstEvents.at(-1)?.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();
    });
    expect(toolNames(counts.toolCalls)).toEqual(['memory/create_entities', 'memory/search_nodes']);
    expect(counts.modelCalls).toBe(4);
    // The new run's model saw the whole conversation: the first run's message and its tool's result.
    const lastInput = JSON.stringify(counts.modelInputs.at(-1)!.messages);
    expect(lastInput).toContain('Remember that ACME Corp: pays on the 5th of the month');
    const toolResults = counts.modelInputs.at(-1)!.messages.filter((m) => m.role === 'tool').map((m) => JSON.stringify(m));
    expect(toolResults.some((r) => r.includes('create_entities')), lastInput).toBe(true);
  });
});

describe.concurrent('09-durable-assistant: crashes and control', () => {
  it('proof 3: a worker killed inside a tool call, its reply lost: another worker retries the call, the server refuses it as already submitted; one invoice, paid once', { timeout: 120_000 }, async () => {
    const taskQueue = uniqueName('assistant');
    const invoice = sampleInvoice(uniqueName('INV'));
    // Worker A, a process of its own, reaches the invoice server through a network that lets its
    // first tool call through to the server, then SIGKILLs worker A before the reply gets back.
    let workerA: ScriptProcess | undefined;
    let lost = false;
    const lossy = await network((await invoiceHttp()).url, async () => {
      if (lost) return;
      lost = true;
      return { loseReply: () => workerA!.kill('SIGKILL') };
    });
    try {
      workerA = await assistantWorkerProcess(taskQueue, lossy.url);
      const handle = await startAssistant(taskQueue);
      const turn = handle.executeUpdate(sendMessage, { args: [`Process this invoice: ${JSON.stringify(invoice)}`] });
      expect(await workerA.exited).toBeNull(); // killed by a signal, in the middle of the call
      expect(lost).toBe(true);
      expect((await awaitingApproval(invoice)).invoiceId).toBe(invoice.id); // the call had taken effect

      // Worker B, with MCP connections of its own (the file's pool). Temporal notices A's silence
      // (no heartbeat for 5 s), and tries the call again here: the server refuses a second start.
      const b = counters();
      const workerB = await assistantWorker(taskQueue, b.observer);
      const result = await workerB.runUntil(turn);
      expect(result.reply).toMatch(new RegExp(`${invoice.id} was already submitted`));
      expect(toolNames(b.counts.toolCalls)).toEqual(['invoices/process_invoice']); // the retry, refused
      expect(b.counts.modelCalls).toBe(1); // only the step after the tool: the first was recorded
      const callTool = (await activitiesRun(handle)).filter((a) => a.activity === 'callTool');
      expect(callTool).toHaveLength(1);
      expect(callTool[0]!.attempt).toBeGreaterThanOrEqual(2);
    } finally {
      await workerA?.kill('SIGKILL');
      await lossy.close();
    }
    // One invoice, and once approved, each line charged once.
    const invoiceRun = invoiceHandle(invoice);
    await invoiceRun.executeUpdate(approveInvoice, { args: [{ by: 'carol' }] });
    expect(await invoiceRun.result()).toMatchObject({ state: 'PAID', amountPaid: 268.49 });
    expect(new LedgerGateway(join(dir, 'ledger.jsonl')).charges().filter((c) => c.reference.startsWith(`invoice-${invoice.id}/`))).toHaveLength(3);
  });

  it('proof 3b: a worker shut down (Ctrl-C) right after a tool call reports the call before it goes; a new worker makes one model call and runs no tool twice', async () => {
    const taskQueue = uniqueName('assistant');
    const a = counters();
    const b = counters();
    const invoice = sampleInvoice(uniqueName('INV'));
    // Worker A is asked to shut down the moment its tool call has run: shutting down, a worker
    // finishes what it holds (within its grace time) and reports it, so nothing is retried.
    let workerA: Worker | undefined;
    const shutDownAfterTool = { ...a.observer, onToolCall: (call: ToolCallInput) => (a.observer.onToolCall(call), workerA!.shutdown()) };
    const poolA = new McpPool(servers);
    workerA = await assistantWorker(taskQueue, shutDownAfterTool, poolA, { shutdownGraceTime: '10 seconds' });
    const runningA = workerA.run();
    const handle = await startAssistant(taskQueue);
    const turn = handle.executeUpdate(sendMessage, { args: [`Process this invoice: ${JSON.stringify(invoice)}`] });
    await runningA; // worker A is gone
    await poolA.close(); // and its MCP connections with it
    expect(a.counts).toMatchObject({ modelCalls: 1 });
    expect(toolNames(a.counts.toolCalls)).toEqual(['invoices/process_invoice']);

    const workerB = await assistantWorker(taskQueue, b.observer, pool);
    const result = await workerB.runUntil(turn);
    expect(result.reply).toMatch(new RegExp(`^Invoice ${invoice.id} submitted`));
    // Worker B made the second model call and no tool call: the first was reported, not repeated.
    expect(b.counts.modelCalls).toBe(1);
    expect(b.counts.toolCalls).toEqual([]);
    // The history agrees: each activity completed on its first attempt.
    expect(await activitiesRun(handle)).toEqual(['listTools', 'modelStep', 'callTool', 'modelStep'].map((activity) => ({ activity, attempt: 1 })));
    expect((await awaitingApproval(invoice)).invoiceId).toBe(invoice.id);
  });

  it('Part C: proof 4a: pause holds the next model step until resume', async () => {
    const taskQueue = uniqueName('assistant');
    const { counts, observer } = counters();
    const worker = await assistantWorker(taskQueue, observer);
    const invoice = sampleInvoice(uniqueName('INV'));
    await env.client.workflow.start(InvoiceWorkflow, { taskQueue: TASK_QUEUE, workflowId: invoiceWorkflowId(invoice.id), args: [invoice] });
    await worker.runUntil(async () => {
      const handle = await startAssistant(taskQueue);
      await handle.signal(pauseAssistant);
      const turn = handle.executeUpdate(sendMessage, { args: [`What's the status of ${invoice.id}?`] });
      await waitFor(() => handle.query(getAssistantStatus), (s) => s.phase === 'paused', { retryErrors: true });
      expect(counts.modelCalls).toBe(0); // paused: the model was not asked
      await handle.signal(resumeAssistant);
      expect((await turn).reply).toMatch(new RegExp(`^${invoice.id} is `));
      // The history says when: no model step was scheduled before the resume signal arrived.
      const events = (await handle.fetchHistory()).events ?? [];
      const resumedAt = events.findIndex((e) => e.workflowExecutionSignaledEventAttributes?.signalName === resumeAssistant.name);
      const firstModelStep = events.findIndex((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'modelStep');
      expect(resumedAt).toBeGreaterThan(0);
      expect(firstModelStep).toBeGreaterThan(resumedAt);
    });
    expect(counts.modelCalls).toBe(2);
  });

  it('proof 4b: cancelling during a tool call lets the call finish, then stops: no next model step', { timeout: 120_000 }, async () => {
    const taskQueue = uniqueName('assistant');
    const { counts, observer } = counters();
    const invoice = sampleInvoice(uniqueName('INV'));
    // The network holds the tool call on its way to the server: it is in flight, nothing has run yet.
    let arrived!: () => void;
    const inFlight = new Promise<void>((resolve) => (arrived = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const held = await network((await invoiceHttp()).url, async () => {
      arrived();
      await released;
    });
    const heldPool = new McpPool({ invoices: { url: held.url } });
    const worker = await assistantWorker(taskQueue, observer, heldPool);
    try {
      await worker.runUntil(async () => {
        const handle = await startAssistant(taskQueue);
        const turn = handle.executeUpdate(sendMessage, { args: [`Process this invoice: ${JSON.stringify(invoice)}`] }).then(
          (answer) => ({ answer }),
          (error: unknown) => ({ error }),
        );
        await inFlight;
        expect(await invoiceHandle(invoice).describe().then(() => 'started', () => 'not started')).toBe('not started');
        await handle.cancel();
        await waitFor(() => handle.fetchHistory(), (h) => (h.events ?? []).some((e) => e.workflowExecutionCancelRequestedEventAttributes));
        release(); // now the call reaches the server, and runs to its end
        const err = await handle.result().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(WorkflowFailedError);
        expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
        const events = (await handle.fetchHistory()).events ?? [];
        expect(events.filter((e) => e.activityTaskCompletedEventAttributes)).toHaveLength(3); // listTools, modelStep, and the tool call, completed
        expect(events.filter((e) => e.activityTaskCancelRequestedEventAttributes)).toEqual([]);
        // The person who sent the message is told the turn failed because the conversation was
        // cancelled, not that it was answered.
        const told = await turn;
        expect('error' in told && told.error, JSON.stringify(told)).toBeInstanceOf(WorkflowUpdateFailedError);
        expect('error' in told && (told.error as WorkflowUpdateFailedError).cause).toBeInstanceOf(CancelledFailure);
      });
    } finally {
      await heldPool.close();
      await held.close();
    }
    expect(counts.modelCalls).toBe(1);
    expect(toolNames(counts.toolCalls)).toEqual(['invoices/process_invoice']);
    expect((await awaitingApproval(invoice)).invoiceId).toBe(invoice.id); // the call took full effect, once
  });
});

describe.concurrent('09-durable-assistant: fan-out', () => {
  it('proof 5: "Review everything awaiting approval" reviews 5 invoices, one child each, at most 2 at a time', async () => {
    const taskQueue = uniqueName('assistant');
    const { observer } = counters();
    const worker = await assistantWorker(taskQueue, observer);
    const invoices = Array.from({ length: 5 }, () => sampleInvoice(uniqueName('INV-R')));
    for (const invoice of invoices) {
      await env.client.workflow.start(InvoiceWorkflow, { taskQueue: TASK_QUEUE, workflowId: invoiceWorkflowId(invoice.id), args: [invoice] });
    }
    for (const invoice of invoices) await awaitingApproval(invoice);
    await worker.runUntil(async () => {
      const handle = await startAssistant(taskQueue, { maxConcurrentReviews: 2 });
      const { reply } = await handle.executeUpdate(sendMessage, { args: ['Review everything awaiting approval'] });
      for (const invoice of invoices) expect(reply).toContain(`- ${invoice.id}: ${invoice.customer}, 268.49 in 3 line(s), AWAITING_APPROVAL.`);
      // #region max-concurrent
      // How many children ran at once, from the parent's own history: +1 at each start, -1 at each end.
      let running = 0;
      let most = 0;
      for (const e of (await handle.fetchHistory()).events ?? []) {
        if (e.startChildWorkflowExecutionInitiatedEventAttributes) most = Math.max(most, ++running);
        if (e.childWorkflowExecutionCompletedEventAttributes) running--;
      }
      // #endregion max-concurrent
      expect(most).toBe(2);
      // One child per invoice listed, and only one: other proofs' invoices may await approval too, so
      // the count is the reply's own, and each listed invoice had exactly one child review.
      const listed = Number(/^Reviewed (\d+) invoice\(s\) awaiting approval:/.exec(reply ?? '')?.[1]);
      const events = (await handle.fetchHistory()).events ?? [];
      const children = events.flatMap((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ?? []) as string[];
      const reviewed = children.map((id) => /^review-(.+)-[0-9a-f-]{36}$/.exec(id)?.[1]);
      expect(children).toHaveLength(listed);
      expect(new Set(reviewed).size).toBe(listed);
      for (const invoice of invoices) expect(reviewed).toContain(invoice.id);
      expect(events.filter((e) => e.childWorkflowExecutionCompletedEventAttributes)).toHaveLength(listed);
    });
  });
});

describe.concurrent('09-durable-assistant: the terminal chat', () => {
  it('proof 7: chat.ts is killed mid-conversation; --resume continues the same one, and the approval is confirmed there', async () => {
    const taskQueue = uniqueName('assistant');
    const { counts, observer } = counters();
    const worker = await assistantWorker(taskQueue, observer);
    const invoice = { ...sampleInvoice('INV-001'), customer: 'ACME Corp' };
    await worker.runUntil(async () => {
      const first = chat([], taskQueue);
      await first.expect(/you> $/);
      first.type(`Process this invoice: ${JSON.stringify(invoice)}`);
      await first.expect(/assistant> Invoice INV-001 submitted[^\n]*\nyou> $/);
      const workflowId = /Conversation (assistant-\w+)/.exec(first.output())![1]!;
      await awaitingApproval(invoice);
      first.type("What's the status of INV-001?");
      await first.expect(/assistant> INV-001 is AWAITING_APPROVAL: 0 of 3 line\(s\) paid\.\nyou> $/);
      first.process.kill('SIGKILL');

      const second = chat(['--resume', workflowId, '--as', 'erin'], taskQueue);
      await second.expect(/Resumed after 2 turn\(s\)\.\nassistant> INV-001 is AWAITING_APPROVAL[^\n]*\nyou> $/);
      second.type('Approve invoice INV-001');
      await second.expect(/assistant wants to run approve_invoice \{"invoice_id":"INV-001","approved_by":"the assistant"\}[^\n]*\nconfirm as erin\? \(yes\/no\) $/);
      second.type('yes');
      await second.expect(/assistant> Invoice INV-001 approved by erin[^\n]*\nyou> $/);
      second.process.stdin.end();
      await new Promise((resolve) => second.process.once('exit', resolve));
    });
    expect(await invoiceHandle(invoice).result()).toMatchObject({ state: 'PAID', decision: { by: 'erin' } });
    expect(toolNames(counts.toolCalls)).toEqual(['invoices/process_invoice', 'invoices/get_invoice_status', 'invoices/approve_invoice']);
  });
});

/** chat.ts in a child process, driven through its stdin and read from its stdout. */
function chat(args: string[], taskQueue: string) {
  const { command, args: tsxArgs } = tsxCommand(new URL('./chat.ts', import.meta.url), args);
  const child: ChildProcessWithoutNullStreams = spawn(command, tsxArgs, {
    env: { ...process.env, TEMPORAL_ADDRESS: temporal.address, ASSISTANT_TASK_QUEUE: taskQueue },
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return {
    process: child,
    output: () => out,
    type: (line: string) => child.stdin.write(`${line}\n`),
    expect: (pattern: RegExp) => waitFor(async () => out, (o) => pattern.test(o), 60_000),
  };
}

describe.concurrent('09-durable-assistant: a confirmation nobody gives', () => {
  it('proof 6: refused after 24 simulated hours; nothing approved, and the model is told', async () => {
    const { worker: invoices, running } = await startInvoiceWorker(skipping, invoiceBundle, join(dir, 'ledger-skipping.jsonl'));
    const skippingPool = new McpPool({ invoices: invoiceServer({ TEMPORAL_ADDRESS: skipping.address }) });
    const { counts, observer } = counters();
    const taskQueue = uniqueName('assistant');
    const worker = await Worker.create({
      connection: skipping.nativeConnection,
      taskQueue,
      workflowBundle: bundle,
      activities: createAssistantActivities(scriptedStandIn(), skippingPool, observer),
    });
    const invoice = sampleInvoice(uniqueName('INV'));
    try {
      await worker.runUntil(async () => {
        await skipping.client.workflow.start(InvoiceWorkflow, { taskQueue: TASK_QUEUE, workflowId: invoiceWorkflowId(invoice.id), args: [invoice] });
        const handle: WorkflowHandle<typeof AssistantWorkflow> = await skipping.client.workflow.start(AssistantWorkflow, {
          taskQueue,
          workflowId: uniqueName('assistant'),
          args: [{ config: { confirmationTimeout: '24 hours' } }],
        });
        const asked = await handle.executeUpdate(sendMessage, { args: [`Approve invoice ${invoice.id}`] });
        expect(asked.awaiting?.tool).toBe('approve_invoice');
        await skipping.sleep('25 hours');
        const status = await waitFor(() => handle.query(getAssistantStatus), (s) => s.turns === 1, { retryErrors: true });
        expect(status.lastReply).toBe(`I did not approve ${invoice.id}: Not run: nobody confirmed approve_invoice within 24 hours, so it was refused. Nothing was changed.`);
      });
      expect(counts.toolCalls).toEqual([]); // approve_invoice never ran
      expect(counts.modelCalls).toBe(2); // and the model was asked again, to tell the user
      expect((await skipping.client.workflow.getHandle(invoiceWorkflowId(invoice.id)).query(getInvoiceStatus)).state).toBe('AWAITING_APPROVAL');
    } finally {
      await skippingPool.close();
      invoices.shutdown();
      await running;
    }
  });
});

describe.concurrent('09-durable-assistant: replay', () => {
  it('proof 8: the recorded assistant histories replay against the current workflow code', async () => {
    const folder = new URL('./histories/', import.meta.url);
    const files = readdirSync(folder).filter((f) => f.startsWith('assistant-')).sort();
    expect(files.length).toBeGreaterThanOrEqual(3);
    const histories = files.map((f) => ({ workflowId: f, history: JSON.parse(readFileSync(new URL(f, folder), 'utf8')) }));
    const failed: string[] = [];
    for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, histories)) {
      if (result.error) failed.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failed).toEqual([]);
  });
});
