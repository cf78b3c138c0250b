/**
 * The conformance fixture server for `scripts/conformance-2026.ts`: the tools the 2026 suite
 * requires (`greet`, `slow_compute`, `failing_job`, `protocol_error_job`, `confirm_delete`,
 * `multi_input`, `test_tool_with_task`, the `test_input_required_result_*` tools and the
 * stateless-core probes), served through step 12's own Tasks extension (tutorials/12-mcp-2026/tasks.ts)
 * and backed by Temporal: each fixture task is a FixtureJobWorkflow, run by a worker in this process.
 *
 *   npx tsx scripts/conformance-2026-fixtures.ts --http --port 3100   # needs Temporal (TEMPORAL_ADDRESS)
 *
 * @module
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { toNodeHandler } from '@modelcontextprotocol/node';
import {
  acceptedContent,
  createMcpHandler,
  createRequestStateCodec,
  inputRequired,
  inputResponse,
  McpServer,
  type CallToolResult,
  type McpHttpHandler,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection, Worker } from '@temporalio/worker';
import { z } from 'zod';
import { declaresTasks, serveTasks, taskCreated, withTaskNotifications, type TaskBackend, type TaskRecord } from '../tutorials/12-mcp-2026/tasks.js';
import { log, runMain } from '../shared/log.js';
import { createHttpApp, listenHttp, parseServeArgs } from '../shared/mcp.js';
import { workflowBundle } from '../shared/worker.js';
import { answerInputs, FixtureJobWorkflow, pendingInputs, type FixtureJob } from './conformance-2026-workflows.js';

const TASK_QUEUE = 'conformance-2026-fixtures';
const config = loadClientConnectConfig();
let temporal: Client;
let handler: McpHttpHandler;
const codec = createRequestStateCodec<Record<string, unknown>>({ key: randomBytes(32), bind: (ctx) => `${ctx.mcpReq.method}` });

// #region fixture-tasks
/** The fixture tasks, read from their workflows: the same TaskBackend contract as step 12's invoices. */
const fixtureTasks: TaskBackend & { start(job: FixtureJob): Promise<TaskRecord> } = {
  async start(job) {
    const handle = await temporal.workflow.start(FixtureJobWorkflow, { taskQueue: TASK_QUEUE, workflowId: `fixture-${randomUUID()}`, args: [job] });
    const { startTime } = await handle.describe(); // Temporal has it: tasks/get answers from now on
    return { taskId: handle.workflowId, status: 'working', createdAt: startTime, lastUpdatedAt: startTime, ttlMs: 600_000, pollIntervalMs: 200 };
  },
  async get(taskId) {
    if (!/^fixture-[0-9a-f-]{36}$/.test(taskId)) return undefined;
    const handle = temporal.workflow.getHandle<typeof FixtureJobWorkflow>(taskId);
    const wf = await handle.describe().catch((err: unknown) => (err instanceof WorkflowNotFoundError ? undefined : Promise.reject(err)));
    if (!wf) return undefined;
    const base = { taskId, createdAt: wf.startTime, lastUpdatedAt: wf.closeTime ?? wf.startTime, ttlMs: 600_000, pollIntervalMs: 200 };
    switch (wf.status.name) {
      case 'RUNNING': {
        const pending = await handle.query(pendingInputs).catch(() => ({})); // before its first workflow task: nothing asked yet
        return Object.keys(pending).length > 0 ? { ...base, status: 'input_required', inputRequests: pending } : { ...base, status: 'working' };
      }
      case 'COMPLETED':
        return { ...base, status: 'completed', result: (await handle.result()) as CallToolResult };
      case 'CANCELLED':
        return { ...base, status: 'cancelled' };
      default:
        return { ...base, status: 'failed', error: { code: -32603, message: `The job's workflow ${wf.status.name.toLowerCase()}.` } };
    }
  },
  async update(taskId, answers) {
    await temporal.workflow.getHandle(taskId).executeUpdate(answerInputs, { args: [answers] });
  },
  async cancel(taskId) {
    const handle = temporal.workflow.getHandle(taskId);
    await handle.cancel();
    await handle.result().catch(() => {});
  },
};
// #endregion fixture-tasks

const text = (value: string): CallToolResult => ({ content: [{ type: 'text', text: value }] });
const elicitName = (message: string) => inputRequired.elicit({ message, requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } });
const name = z.object({ name: z.string() });
const none = z.object({});

/** A task when the request declares the Tasks extension; `inline` otherwise (a task-optional tool). */
async function asTask(ctx: ServerContext, job: FixtureJob, inline?: () => Promise<CallToolResult>): Promise<CallToolResult> {
  if (!declaresTasks(ctx) && inline) return inline();
  return taskCreated(await fixtureTasks.start(job));
}

function registerTaskFixtures(server: McpServer): void {
  server.registerTool('greet', { description: 'Says hello, at once.', inputSchema: z.object({ name: z.string() }) }, async ({ name }) => text(`Hello, ${name}!`));
  server.registerTool(
    'slow_compute',
    { description: 'Sleeps `seconds`, as a task when the client declares tasks.', inputSchema: z.object({ seconds: z.number().min(0).max(120), label: z.string().default('job') }) },
    async ({ seconds, label }, ctx) =>
      asTask(ctx, { kind: 'slow_compute', seconds, label }, async () => {
        await new Promise((resolve) => setTimeout(resolve, Math.min(seconds, 5) * 1000));
        return text(`Computed ${label} in ${seconds} s.`);
      }),
  );
  server.registerTool('failing_job', { description: 'A task whose tool reports an error.' , inputSchema: none }, async (_args, ctx) => asTask(ctx, { kind: 'failing_job' }));
  server.registerTool('protocol_error_job', { description: 'A task that fails before any answer.' , inputSchema: none }, async (_args, ctx) => asTask(ctx, { kind: 'protocol_error_job' }));
  server.registerTool('confirm_delete', { description: 'A task that asks one question.', inputSchema: z.object({ filename: z.string() }) }, async ({ filename }, ctx) =>
    asTask(ctx, { kind: 'confirm_delete', filename }),
  );
  server.registerTool('multi_input', { description: 'A task that asks two questions at once.' , inputSchema: none }, async (_args, ctx) => asTask(ctx, { kind: 'multi_input' }));
  server.registerTool('test_tool_with_task', { description: 'Asks a name (multi round-trip), then runs as a task.' , inputSchema: none }, async (_args, ctx) => {
    const given = acceptedContent(ctx.mcpReq.inputResponses, 'user_name', name);
    if (!given) return inputRequired({ inputRequests: { user_name: elicitName('What is your name?') } }) as unknown as CallToolResult;
    return asTask(ctx, { kind: 'greet_later', name: given.name });
  });
}

// #region input-required-fixtures
function registerInputRequiredFixtures(server: McpServer): void {
  const ask = (spec: Parameters<typeof inputRequired>[0]) => inputRequired(spec) as unknown as CallToolResult;
  server.registerTool('test_input_required_result_elicitation', { description: 'Asks a name.' , inputSchema: none }, async (_args, ctx) => {
    const given = acceptedContent(ctx.mcpReq.inputResponses, 'user_name', name);
    return given ? text(`Hello, ${given.name}!`) : ask({ inputRequests: { user_name: elicitName('What is your name?') } });
  });
  server.registerTool('test_input_required_result_sampling', { description: 'Asks the model.' , inputSchema: none }, async (_args, ctx) => {
    const answer = inputResponse(ctx.mcpReq.inputResponses, 'capital_question');
    if (answer.kind === 'sampling') return text(`The model said: ${JSON.stringify(answer.result.content)}`);
    return ask({ inputRequests: { capital_question: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'What is the capital of France?' } }], maxTokens: 100 }) } });
  });
  server.registerTool('test_input_required_result_list_roots', { description: 'Asks the roots.' , inputSchema: none }, async (_args, ctx) => {
    const answer = inputResponse(ctx.mcpReq.inputResponses, 'client_roots');
    return answer.kind === 'roots' ? text(`Roots: ${answer.roots.map((r) => r.uri).join(', ')}`) : ask({ inputRequests: { client_roots: inputRequired.listRoots() } });
  });
  const confirmOnce = async (ctx: ServerContext) => {
    if (ctx.mcpReq.requestState() && acceptedContent(ctx.mcpReq.inputResponses, 'confirm')) return text('Confirmed, with the state echoed back.');
    const confirm = inputRequired.elicit({ message: 'Please confirm', requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] } });
    return ask({ inputRequests: { confirm }, requestState: await codec.mint({ round: 1 }, ctx) });
  };
  server.registerTool('test_input_required_result_request_state', { description: 'Asks with a signed requestState.' , inputSchema: none }, async (_args, ctx) => confirmOnce(ctx));
  server.registerTool('test_input_required_result_tampered_state', { description: 'Refuses a tampered requestState.' , inputSchema: none }, async (_args, ctx) => confirmOnce(ctx));
  server.registerTool('test_input_required_result_multiple_inputs', { description: 'Asks three things at once.' , inputSchema: none }, async (_args, ctx) => {
    const answers = ctx.mcpReq.inputResponses ?? {};
    if (ctx.mcpReq.requestState() && ['user_name', 'greeting', 'client_roots'].every((k) => k in answers)) return text('All three answered.');
    const greeting = inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'Generate a greeting' } }], maxTokens: 50 });
    return ask({ inputRequests: { user_name: elicitName('What is your name?'), greeting, client_roots: inputRequired.listRoots() }, requestState: await codec.mint({ round: 1 }, ctx) });
  });
  server.registerTool('test_input_required_result_multi_round', { description: 'Asks twice, keeping what it learned in the state.' , inputSchema: none }, async (_args, ctx) => {
    const state = ctx.mcpReq.requestState<{ name?: string }>();
    const color = acceptedContent(ctx.mcpReq.inputResponses, 'step2', z.object({ color: z.string() }));
    if (state?.name && color) return text(`${state.name} likes ${color.color}.`);
    const given = acceptedContent(ctx.mcpReq.inputResponses, 'step1', name);
    if (state && given) {
      const step2 = inputRequired.elicit({ message: 'Step 2: What is your favorite color?', requestedSchema: { type: 'object', properties: { color: { type: 'string' } }, required: ['color'] } });
      return ask({ inputRequests: { step2 }, requestState: await codec.mint({ name: given.name }, ctx) });
    }
    return ask({ inputRequests: { step1: elicitName('Step 1: What is your name?') }, requestState: await codec.mint({}, ctx) });
  });
  server.registerTool('test_input_required_result_capabilities', { description: 'Asks only what the client declared it can answer.' , inputSchema: none }, async (_args, ctx) => {
    const declared = ((ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.['io.modelcontextprotocol/clientCapabilities'] ?? {}) as Record<string, unknown>;
    const inputRequests: Record<string, ReturnType<typeof inputRequired.listRoots>> = {};
    if (declared.sampling) inputRequests.model = inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'Say hi' } }], maxTokens: 20 });
    if (declared.elicitation) inputRequests.user_name = elicitName('What is your name?');
    if (declared.roots) inputRequests.client_roots = inputRequired.listRoots();
    return Object.keys(inputRequests).length > 0 && !ctx.mcpReq.inputResponses ? ask({ inputRequests }) : text('Nothing (more) to ask.');
  });
  server.registerPrompt('test_input_required_result_prompt', { description: 'A prompt that asks first.' }, async (ctx) => {
    const given = acceptedContent(ctx.mcpReq.inputResponses, 'context', z.object({ context: z.string() }));
    if (!given) {
      const question = inputRequired.elicit({ message: 'What context?', requestedSchema: { type: 'object', properties: { context: { type: 'string' } }, required: ['context'] } });
      return inputRequired({ inputRequests: { context: question } }) as never;
    }
    return { messages: [{ role: 'user', content: { type: 'text', text: `Context: ${given.context}` } }] };
  });
}
// #endregion input-required-fixtures

/** The stateless-core probes of server-stateless. */
function registerStatelessFixtures(server: McpServer): void {
  // Needs sampling: a client that did not declare it gets -32021 from the SDK's own capability check.
  server.registerTool('test_missing_capability', { description: 'Needs sampling.' , inputSchema: none }, async () =>
    inputRequired({ inputRequests: { model: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }], maxTokens: 10 }) } }) as unknown as CallToolResult,
  );
  server.registerTool('test_streaming_elicitation', { description: 'Asks, as a result (never a request).' , inputSchema: none }, async () => inputRequired({ inputRequests: { user_name: elicitName('What is your name?') } }) as unknown as CallToolResult);
  server.registerTool('test_logging_tool', { description: 'Logs nothing unless asked to.' , inputSchema: none }, async () => text('Done, without logging.'));
  server.registerTool('test_trigger_tool_change', { description: 'Publishes tools/list_changed.' , inputSchema: none }, async () => (handler.notify.toolsChanged(), text('tools changed')));
  server.registerTool('test_trigger_prompt_change', { description: 'Publishes prompts/list_changed.' , inputSchema: none }, async () => (handler.notify.promptsChanged(), text('prompts changed')));
  server.registerPrompt('test_simple_prompt', { description: 'A simple prompt.' }, () => ({ messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }] }));
}

/** The fixture server: built per request, as step 12's server is. */
function createFixtureServer(): McpServer {
  const server = new McpServer(
    { name: 'conformance-2026-fixtures', version: '1.0.0' },
    { capabilities: { tools: { listChanged: true }, prompts: { listChanged: true } }, requestState: { verify: codec.verify } },
  );
  registerTaskFixtures(server);
  registerInputRequiredFixtures(server);
  registerStatelessFixtures(server);
  serveTasks(server, fixtureTasks, { taskOnlyTools: ['failing_job', 'protocol_error_job', 'confirm_delete', 'multi_input', 'test_tool_with_task'] });
  return server;
}

runMain(async () => {
  const options = parseServeArgs();
  if (!options.http) throw new Error('The fixture server serves HTTP only: run it with --http [--port N].');
  const connection = await NativeConnection.connect(config.connectionOptions);
  const worker = await Worker.create({ connection, namespace: config.namespace, taskQueue: TASK_QUEUE, workflowBundle: await workflowBundle(new URL('./conformance-2026-workflows.ts', import.meta.url)) });
  const running = worker.run();
  temporal = new Client({ connection: await Connection.connect(config.connectionOptions), namespace: config.namespace });
  handler = createMcpHandler(createFixtureServer, { onerror: (err) => log('fixtures', err.message) });
  const endpoint = toNodeHandler(withTaskNotifications(handler, fixtureTasks));
  const app = createHttpApp(options);
  app.post('/mcp', (req, res) => endpoint(req, res, req.body));
  const http = await listenHttp(app, options);
  const stop = async () => {
    await handler.close();
    await http.close();
    await running.catch(() => {}); // the worker stops on the same signal by itself
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
});
