// The Tasks extension of MCP 2026-07-28, `io.modelcontextprotocol/tasks` (SEP-2663), for a server on
// the SDK v2. The SDK speaks the 2026 core but not this extension, so this file adds it on the SDK's
// public APIs: a capability in server/discover, three request handlers (tasks/get, tasks/update,
// tasks/cancel), the flat CreateTaskResult a tool returns, and the gate that every one of them checks.
// It keeps no task: a TaskBackend answers from wherever the tasks live (here: Temporal workflows).
//
// What the SDK lacks, in one place (typescript-sdk PR #2782, the draft server side of the extension):
// - no registerToolTask / task store for 2026: a tool returns the CreateTaskResult itself, and the
//   SDK adds `content: []` to it (its tools/call seam normalizes every result);
// - a tool cannot throw a JSON-RPC error: task-only tools are gated around the SDK's tools/call;
// - the subscriptions/listen router knows only the four list/resource events: no `taskIds` filter
//   and no notifications/tasks, so withTaskNotifications (at the end) serves those streams itself.
import {
  MissingRequiredClientCapabilityError,
  ProtocolError,
  ProtocolErrorCode,
  SUBSCRIPTION_ID_META_KEY,
  type CallToolResult,
  type McpHandlerRequestOptions,
  type McpServer,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { z } from 'zod';

/** The extension's id: in server/discover's capabilities, and in each request's client capabilities. */
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

export type TaskStatus = 'working' | 'input_required' | 'completed' | 'failed' | 'cancelled';

/** A question the task waits on: the request a client answers with tasks/update. */
export interface InputRequest {
  method: 'elicitation/create' | 'sampling/createMessage' | 'roots/list';
  params?: Record<string, unknown>;
}

// #region task-record
/** A task as its backend reads it, now: what tasks/get and notifications/tasks report. */
export interface TaskRecord {
  taskId: string;
  status: TaskStatus;
  statusMessage?: string;
  createdAt: Date;
  lastUpdatedAt: Date;
  /** How long the task stays readable after it ends, in whole milliseconds. */
  ttlMs: number;
  /** How often a client should poll tasks/get, in whole milliseconds. */
  pollIntervalMs: number;
  /** status 'completed': the tool's result, isError true when the tool reported a failure. */
  result?: CallToolResult;
  /** status 'failed': a JSON-RPC error, for a task that could not run to an answer. */
  error?: { code: number; message: string; data?: unknown };
  /** status 'input_required': the questions still open, keyed by ids the server chose. */
  inputRequests?: Record<string, InputRequest>;
}

/** Where tasks live. Every method answers from there, so any server process can answer any task. */
export interface TaskBackend {
  /** The task now; undefined when there is no such task (or its id is not valid). */
  get(taskId: string): Promise<TaskRecord | undefined>;
  /** Delivers answers to the task's open inputRequests; throws a TaskRefusal when it cannot take them. */
  update(taskId: string, inputResponses: Record<string, InputResponse>): Promise<void>;
  /** Asks the task to stop; a task that has already ended is left as it is. */
  cancel(taskId: string): Promise<void>;
  /** Yields whenever the task may have changed; without it, a listen stream polls get() at pollIntervalMs. */
  changes?(taskId: string, signal: AbortSignal): AsyncIterable<void>;
}
// #endregion task-record

/** A refusal whose message is written for the caller: answered as -32602 (invalid params). */
export class TaskRefusal extends Error {}

// #region gate
/** True when this request's client declared the extension (per request: 2026 has no session). */
export function declaresTasks(ctx: ServerContext): boolean {
  const envelope = ctx.mcpReq.envelope as Record<string, { extensions?: Record<string, unknown> } | undefined> | undefined;
  const capabilities = envelope?.['io.modelcontextprotocol/clientCapabilities'];
  return capabilities?.extensions?.[TASKS_EXTENSION] !== undefined;
}

/** -32021 (HTTP 400) naming the missing capability, for a task method or a task-only tool. */
export function requireTasks(ctx: ServerContext, what: string): void {
  if (declaresTasks(ctx)) return;
  throw new MissingRequiredClientCapabilityError(
    { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } },
    `${what} needs the ${TASKS_EXTENSION} extension: declare it in _meta["io.modelcontextprotocol/clientCapabilities"].extensions of this request.`,
  );
}
// #endregion gate

// #region wire-shapes
const iso = (at: Date) => at.toISOString();
const taskBase = (task: TaskRecord) => ({
  taskId: task.taskId,
  status: task.status,
  ...(task.statusMessage !== undefined && { statusMessage: task.statusMessage }),
  createdAt: iso(task.createdAt),
  lastUpdatedAt: iso(task.lastUpdatedAt),
  ttlMs: Math.round(task.ttlMs),
  pollIntervalMs: Math.round(task.pollIntervalMs),
});

/** What a tool returns when its call became a task: the flat CreateTaskResult (no result yet). */
export function taskCreated(task: TaskRecord): CallToolResult {
  return { resultType: 'task', ...taskBase(task) } as unknown as CallToolResult;
}

/** tasks/get's answer, and a notification's params: the task with its result, error or questions inlined. */
export function detailedTask(task: TaskRecord): Record<string, unknown> {
  return {
    ...taskBase(task),
    ...(task.status === 'completed' && { result: { resultType: 'complete', content: [], ...task.result } }), // the tool's own result, as tools/call would have answered it
    ...(task.status === 'failed' && { error: task.error ?? { code: ProtocolErrorCode.InternalError, message: 'The task failed.' } }),
    ...(task.status === 'input_required' && { inputRequests: task.inputRequests ?? {} }),
  };
}
// #endregion wire-shapes

// #region input-responses
const elicitResult = z.object({
  action: z.enum(['accept', 'decline', 'cancel']),
  content: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.string())])).optional(),
});
/** One answer in tasks/update: an elicitation result, or any other result object (sampling, roots). */
export type InputResponse = z.infer<typeof elicitResult> | Record<string, unknown>;
const inputResponses = z.record(z.string(), z.union([elicitResult, z.record(z.string(), z.unknown())]), {
  error: 'inputResponses must be an object mapping each inputRequests key to its answer, e.g. {"decision": {"action": "accept", "content": {...}}}',
});

/** The answers of tasks/update, checked before anything reaches the task: a clear -32602 otherwise. */
function parseInputResponses(value: unknown): Record<string, InputResponse> {
  const parsed = inputResponses.safeParse(value);
  if (parsed.success) return parsed.data;
  const where = parsed.error.issues.map((i) => `${['inputResponses', ...i.path].join('.')}: ${i.message}`).join('; ');
  throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Invalid tasks/update: ${where}. Nothing was changed.`);
}
// #endregion input-responses

// #region serve-tasks
const taskIdParams = z.looseObject({ taskId: z.string({ error: 'taskId (a string) is required' }).min(1).max(300) });
const taskMethod = { params: taskIdParams, result: z.looseObject({}) };

/**
 * Opts `server` into the extension: advertises it in server/discover, and answers tasks/get,
 * tasks/update and tasks/cancel from `backend`, each only for a request that declares it. Call it
 * after the tools are registered; `taskOnlyTools` (taskSupport 'required') answer -32021 to a
 * request that does not declare the extension, before their handler runs.
 */
export function serveTasks(server: McpServer, backend: TaskBackend, { taskOnlyTools = [] as string[] } = {}): void {
  server.server.registerCapabilities({ extensions: { [TASKS_EXTENSION]: {} } });
  if (taskOnlyTools.length > 0) gateTaskOnlyTools(server, new Set(taskOnlyTools));
  const known = async (taskId: string) => {
    const task = await backend.get(taskId);
    if (!task) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `No task "${taskId}": it does not exist, or its TTL has passed.`);
    return task;
  };
  const refusalsAsInvalidParams = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof TaskRefusal) throw new ProtocolError(ProtocolErrorCode.InvalidParams, err.message);
      throw err;
    }
  };
  server.server.setRequestHandler('tasks/get', taskMethod, async ({ taskId }, ctx) => {
    requireTasks(ctx, 'tasks/get');
    return detailedTask(await known(taskId));
  });
  server.server.setRequestHandler('tasks/update', taskMethod, async (params, ctx) => {
    requireTasks(ctx, 'tasks/update');
    // The SDK lifts inputResponses out of params (entries that are not answers are dropped, by key).
    const answers = parseInputResponses(ctx.mcpReq.inputResponses ?? params.inputResponses);
    await known(params.taskId);
    await refusalsAsInvalidParams(() => backend.update(params.taskId, answers));
    return {}; // an ack: the task's new state is read with tasks/get
  });
  server.server.setRequestHandler('tasks/cancel', taskMethod, async ({ taskId }, ctx) => {
    requireTasks(ctx, 'tasks/cancel');
    const task = await known(taskId);
    const ended = task.status === 'completed' || task.status === 'failed' || task.status === 'cancelled';
    if (!ended) await refusalsAsInvalidParams(() => backend.cancel(taskId));
    return {}; // the same empty ack for a task that had already ended: cancel is idempotent
  });
}
// #endregion serve-tasks

type Handler = (request: { params: { name?: string } }, ctx: ServerContext) => Promise<unknown>;
/**
 * WORKAROUND (SDK 2.4.0): McpServer turns every error a tool throws into an isError result, so a
 * tool cannot answer the JSON-RPC error -32021 itself. This puts the gate in front of the SDK's
 * tools/call handler in the Server's private handler table (through setRequestHandler it would be
 * wrapped a second time, and the requestState check would run twice). The extension's own hook
 * for it is part of typescript-sdk PR #2782. Check it when you upgrade the SDK.
 */
function gateTaskOnlyTools(server: McpServer, names: Set<string>): void {
  const handlers = (server.server as unknown as { _requestHandlers: Map<string, Handler> })._requestHandlers;
  const sdkToolsCall = handlers.get('tools/call');
  if (!sdkToolsCall) throw new Error('serveTasks: register the tools before calling it.');
  handlers.set('tools/call', async (request, ctx) => {
    const name = request.params.name ?? '';
    if (names.has(name)) requireTasks(ctx, `Tool ${name} (it runs only as a task)`);
    return sdkToolsCall(request, ctx);
  });
}

// #region task-notifications
type FetchHandler = { fetch: (request: Request, options?: McpHandlerRequestOptions) => Promise<Response> };
const ended = (status: TaskStatus) => status === 'completed' || status === 'failed' || status === 'cancelled';

/**
 * notifications/tasks over subscriptions/listen: wraps an HTTP handler (createMcpHandler's) so a
 * listen request whose filter names `taskIds` gets an SSE stream here (ack first, then the task as
 * it is, then each change, each stamped with the subscription id) and everything else goes on to
 * `handler`. A stream costs, per task, what `backend.changes` costs while the task is quiet, plus
 * one get() per change; it closes once every task has ended, or when the client goes.
 */
export function withTaskNotifications(handler: FetchHandler, backend: TaskBackend, { maxStreams = 1024 } = {}): FetchHandler {
  let open = 0; // streams are cheap while their tasks are quiet, but not free: a cap, as the SDK's own listen router has
  return {
    fetch: async (request, options) => {
      const body = (options?.parsedBody ?? (await request.clone().json().catch(() => undefined))) as
        | { id?: string | number; method?: string; params?: { notifications?: { taskIds?: unknown }; _meta?: Record<string, unknown> } }
        | undefined;
      const taskIds = body?.method === 'subscriptions/listen' ? body.params?.notifications?.taskIds : undefined;
      if (!Array.isArray(taskIds) || body?.id === undefined) return handler.fetch(request, options);
      const capabilities = body.params?._meta?.['io.modelcontextprotocol/clientCapabilities'] as { extensions?: Record<string, unknown> } | undefined;
      if (capabilities?.extensions?.[TASKS_EXTENSION] === undefined) {
        const message = `notifications/tasks need the ${TASKS_EXTENSION} extension: declare it in this request's client capabilities.`;
        const error = { code: ProtocolErrorCode.MissingRequiredClientCapability, message, data: { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } } };
        return Response.json({ jsonrpc: '2.0', id: body.id, error }, { status: 400 });
      }
      if (open >= maxStreams) return Response.json({ jsonrpc: '2.0', id: body.id, error: { code: ProtocolErrorCode.InternalError, message: 'Subscription limit reached' } });
      open++;
      return listen(body.id, taskIds.filter((t): t is string => typeof t === 'string').slice(0, 100), backend, request.signal, () => open--);
    },
  };
}

function listen(subscriptionId: string | number, taskIds: string[], backend: TaskBackend, clientGone: AbortSignal, closed: () => void): Response {
  const stop = new AbortController();
  stop.signal.addEventListener('abort', closed, { once: true });
  clientGone.addEventListener('abort', () => stop.abort(), { once: true });
  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    async start(out) {
      const write = (message: object) => !stop.signal.aborted && out.enqueue(encoder.encode(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', ...message })}\n\n`));
      const notify = (method: string, params: Record<string, unknown>) => write({ method, params: { ...params, _meta: { [SUBSCRIPTION_ID_META_KEY]: subscriptionId } } });
      const known = (await Promise.all(taskIds.map(async (id) => ((await backend.get(id).catch(() => undefined)) ? id : undefined)))).filter((id) => id !== undefined);
      notify('notifications/subscriptions/acknowledged', { notifications: { taskIds: known } }); // unknown ids are left out
      const keepAlive = setInterval(() => !stop.signal.aborted && out.enqueue(encoder.encode(': keepalive\n\n')), 15_000);
      await Promise.all(known.map((taskId) => follow(taskId, backend, stop.signal, (task) => notify('notifications/tasks', detailedTask(task)))));
      clearInterval(keepAlive);
      write({ id: subscriptionId, result: { resultType: 'complete', _meta: { [SUBSCRIPTION_ID_META_KEY]: subscriptionId } } });
      if (!stop.signal.aborted) out.close();
      stop.abort(); // ended: counted as closed
    },
    cancel: () => stop.abort(),
  });
  return new Response(stream, { headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive' } });
}

/** Sends the task as it is, then again each time it changes, until it ends or `signal` aborts. */
async function follow(taskId: string, backend: TaskBackend, signal: AbortSignal, send: (task: TaskRecord) => void): Promise<void> {
  let last = '';
  const report = async (): Promise<boolean> => {
    const task = await backend.get(taskId).catch(() => 'unreadable' as const);
    if (task === 'unreadable') return false; // Temporal away for a moment: look again at the next change
    if (!task || signal.aborted) return true;
    const seen = `${task.status}|${task.lastUpdatedAt.getTime()}|${Object.keys(task.inputRequests ?? {}).join()}`;
    if (seen !== last) send(task);
    last = seen;
    return ended(task.status);
  };
  if (await report()) return;
  const changes = backend.changes?.(taskId, signal) ?? polls(backend, taskId, signal);
  for await (const _ of changes) if (await report()) return;
}

async function* polls(backend: TaskBackend, taskId: string, signal: AbortSignal): AsyncGenerator<void> {
  const every = (await backend.get(taskId).catch(() => undefined))?.pollIntervalMs ?? 1_000;
  while (!signal.aborted) {
    await new Promise((resolve) => setTimeout(resolve, every));
    yield;
  }
}
// #endregion task-notifications
