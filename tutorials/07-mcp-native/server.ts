// The MCP server: step 06's tools, plus what MCP itself offers for long-running work, each used
// only where the connected client supports it:
// - process_invoice is a task-augmented tool: a client that asks for a task gets one, backed by
//   the invoice workflow (task-store.ts), so tasks survive this process; others get the
//   immediate answer of step 05;
// - request_approval asks the human with a form (elicitation) when the client can show one;
// - wait_for_invoice waits (at most 50 s) with progress notifications;
// - the resource invoice://{id}, with subscriptions that notify when the invoice changes state.
//
//   npx tsx tutorials/07-mcp-native/server.ts                      # stdio: what Claude Desktop launches
//   npx tsx tutorials/07-mcp-native/server.ts --http --port 3000   # Streamable HTTP on 127.0.0.1
//
// stdout is the protocol channel on stdio: this file never writes to it. Logs go to stderr.
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  ErrorCode,
  McpError,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type CallToolRequest,
  type CallToolResult,
  type CreateTaskResult,
  type JSONRPCRequest,
  type Result,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CreateTaskRequestHandlerExtra } from '@modelcontextprotocol/sdk/experimental/tasks/interfaces.js';
import {
  Client,
  Connection,
  isGrpcServiceError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { z } from 'zod';
import { parseDuration } from '../../shared/cli.js';
import { workflowUrl } from '../../shared/config.js';
import { askWorker, NoWorkerError, TemporalUnreachableError } from '../../shared/connection.js';
import { InvoiceSchema, invoiceWorkflowId } from '../../shared/invoice.js';
import { isEntryPoint, log, runMain } from '../../shared/log.js';
import { createHttpApp, listenHttp, parseServeArgs } from '../../shared/mcp.js';
import {
  approveInvoice,
  DEFAULT_APPROVAL_TIMEOUT,
  getInvoiceStatus,
  INVOICE_STATES,
  InvoiceWorkflow,
  rejectInvoice,
  TASK_QUEUE,
  type DecisionResult,
  type InvoiceState,
  type InvoiceStatus,
} from './workflows.js';
import { TaskError, TemporalTaskStore, type InvoiceTaskContext } from './task-store.js';

/** The worker that must run for these tools to get answers; named in "no worker" messages. */
const WORKER = { taskQueue: TASK_QUEUE, workerScript: 'tutorials/07-mcp-native/worker.ts' };
/** Every Temporal call of a tool gets this long; then the tool says what is wrong instead of hanging. */
const DEADLINE_MS = 5_000;
/** wait_for_invoice waits at most this long: hosts give a tool call about 60 s. */
const MAX_WAIT_S = 50;
/** How often a wait or a subscription looks at the invoice, and how often a wait reports progress. */
const WAIT_POLL_MS = 500;
const PROGRESS_EVERY_MS = 1_000;
/** How long request_approval waits for the human to fill in the form. */
const ELICITATION_TIMEOUT_MS = 10 * 60 * 1000;

// #region temporal-client
// One Temporal client for the whole process, connected on the first tool call (so the server
// starts, and lists its tools, even while Temporal is down) and connected again on the next call
// if that failed. Settings come from the environment, as for the worker.
const config = loadClientConnectConfig();
const address = config.connectionOptions.address ?? 'localhost:7233';
let connecting: Promise<Client> | undefined;

function temporal(): Promise<Client> {
  connecting ??= Connection.connect({ ...config.connectionOptions, connectTimeout: DEADLINE_MS })
    .then((connection) => new Client({ connection, namespace: config.namespace }))
    .catch((err: unknown) => {
      connecting = undefined; // try again on the next call
      throw new TemporalUnreachableError(address, err);
    });
  return connecting;
}

/** Runs a tool's Temporal calls under the deadline; failures become messages a user can act on. */
async function withTemporal<T>(invoiceId: string | undefined, fn: (client: Client) => Promise<T>): Promise<T> {
  try {
    const client = await temporal();
    return await client.connection.withDeadline(Date.now() + DEADLINE_MS, () => fn(client));
  } catch (err) {
    const message = explain(err, invoiceId);
    log('mcp', `tool error: ${message}`);
    throw new Error(message); // the SDK turns a thrown error into an isError result with this text
  }
}
// #endregion temporal-client

// #region schemas
const invoiceIdParam = z
  .string()
  .min(1)
  .max(64)
  .describe('The invoice id given to process_invoice, e.g. "INV-1001" (not the workflow id).');
const personParam = (what: string) => z.string().trim().min(1).max(100).describe(`Name of the person ${what}, as the user gave it.`);
/** The form request_approval shows, as it must come back: a name always, a reason when rejecting. */
const approvalAnswer = z.discriminatedUnion('decision', [
  z.object({ decision: z.literal('approve'), name: z.string().trim().min(1, 'a decision needs your name').max(100) }),
  z.object({
    decision: z.literal('reject'),
    name: z.string().trim().min(1, 'a decision needs your name').max(100),
    reason: z.string({ error: 'a rejection needs a reason' }).trim().min(1, 'a rejection needs a reason').max(500),
  }),
]);

// The states come from the workflow, and the shape is checked against its InvoiceStatus type:
// a state or field added to the workflow and not here fails to compile.
const stateSchema = z.enum(INVOICE_STATES);
const decisionSchema = z.discriminatedUnion('approved', [
  z.object({ approved: z.literal(true), by: z.string(), at: z.string() }),
  z.object({ approved: z.literal(false), by: z.string(), reason: z.string(), at: z.string() }),
]);
const invoiceStatusShape = {
  invoiceId: z.string(),
  customer: z.string(),
  state: stateSchema.describe('Where the invoice is in its life.'),
  linesTotal: z.number(),
  linesPaid: z.number(),
  amountDue: z.number(),
  amountPaid: z.number(),
  payments: z.array(z.object({ lineIndex: z.number(), item: z.string(), amount: z.number(), chargeId: z.string() })),
  decision: decisionSchema.nullable(),
  approvalDeadline: z.string().nullable().describe('ISO 8601 time when an undecided invoice is TIMED_OUT.'),
  failure: z.string().nullable(),
} satisfies { [K in keyof InvoiceStatus]-?: z.ZodType<InvoiceStatus[K]> };

/** What get_invoice_status returns: the workflow's own status plus Temporal's view of it. */
const statusShape = {
  ...invoiceStatusShape,
  workflowId: z.string(),
  executionStatus: z.string().describe("Temporal's status of the workflow: RUNNING, COMPLETED, FAILED, TERMINATED, ..."),
  webUiUrl: z.string(),
};
const decisionShape = {
  invoiceId: z.string(),
  previousState: stateSchema,
  decision: decisionSchema,
  message: z.string(),
  webUiUrl: z.string(),
} satisfies { [K in keyof DecisionResult]: z.ZodType<DecisionResult[K]> } & Record<string, z.ZodType>;

const processInvoiceInput = InvoiceSchema.extend({
  approval_timeout: z
    .string()
    .max(40)
    .optional()
    .describe(`How long to wait for a decision, e.g. "2 hours" or "3 days". Default "${DEFAULT_APPROVAL_TIMEOUT}".`),
});
type ProcessInvoiceInput = z.infer<typeof processInvoiceInput>;

/** What the task store needs to start the invoice: the invoice, and its timeout in milliseconds. */
function invoiceTaskContext({ approval_timeout, ...invoice }: ProcessInvoiceInput): InvoiceTaskContext & Record<string, unknown> {
  return { invoice, approvalTimeout: parseDuration(approval_timeout ?? DEFAULT_APPROVAL_TIMEOUT, 'approval_timeout') };
}
// #endregion schemas

/** A tool result: the object as structured content, and as JSON text for hosts that show only text. */
function reply<T extends Record<string, unknown>>(value: T): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }], structuredContent: value };
}

const link = (invoiceId: string) => workflowUrl(invoiceWorkflowId(invoiceId));

// #region task-store
// The tasks live in Temporal, not here: one store for the whole process, holding no state.
const taskStore = new TemporalTaskStore(withTemporal, { ...WORKER, namespace: config.namespace ?? 'default' });
// #endregion task-store

/** How the server is reached, which decides what it may ask of the client. */
export interface ServeMode {
  /**
   * stdio (true): one client, one long connection, so the server can ask it questions
   * (elicitation) and notify it later (subscriptions). Stateless HTTP (false): each POST has its
   * own short-lived server, so an answer or a later notification would have nowhere to go.
   */
  connected: boolean;
}

/** Builds the MCP server with its tools and the invoice resource. Cheap: over HTTP, each request gets its own. */
export function createServer(mode: ServeMode = { connected: true }): McpServer {
  // #region capabilities
  const server = new McpServer(
    { name: 'invoice-approvals', version: '1.0.0' },
    {
      instructions:
        'Tools to submit invoices for payment, follow them, and approve or reject them. Invoices wait durably ' +
        'for a human decision (5 days by default): process_invoice returns at once (or as a task, for clients ' +
        'that support tasks), so call get_invoice_status or wait_for_invoice later instead of waiting. ' +
        'request_approval asks the user with a form where the client can show one. Only approve or reject ' +
        'when the user explicitly says so.',
      // Step 07: tasks (tasks/get, tasks/result, tasks/list, tasks/cancel), answered by the store above.
      taskStore,
      capabilities: {
        tasks: { requests: { tools: { call: {} } }, list: {}, cancel: {} },
        // Subscriptions need a connection to send the notification on later: stdio only here.
        ...(mode.connected ? { resources: { subscribe: true } } : {}),
      },
    },
  );
  // #endregion capabilities

  // #region process-invoice
  // Step 07: a task-augmented tool. With `task` in the call, the client gets a task at once (the
  // invoice workflow) and follows it with tasks/get and tasks/result. Without it (Claude Desktop),
  // it gets the immediate answer of step 05. Both start the workflow through the task store.
  type TaskExtra = Pick<CreateTaskRequestHandlerExtra, 'taskStore' | 'taskRequestedTtl'>;
  const startAsTask = async (input: ProcessInvoiceInput, extra: TaskExtra) => {
    // The store starts the workflow and answers once Temporal has it; the taskId is the workflow id.
    const task = await extra.taskStore.createTask({ ttl: extra.taskRequestedTtl, context: invoiceTaskContext(input) });
    return { task };
  };
  const startAndAnswer = async (input: ProcessInvoiceInput, extra: TaskExtra) => {
    const { task } = await startAsTask(input, extra);
    return reply({
      invoiceId: input.id,
      workflowId: task.taskId,
      taskId: task.taskId,
      state: 'VALIDATING' as const,
      webUiUrl: link(input.id),
      message:
        `Invoice ${input.id} submitted. It is validated, then waits for approve_invoice or reject_invoice ` +
        `(at most ${input.approval_timeout ?? DEFAULT_APPROVAL_TIMEOUT}). Use get_invoice_status or wait_for_invoice to see where it stands.`,
    });
  };
  server.experimental.tasks.registerToolTask(
    'process_invoice',
    {
      title: 'Submit an invoice for approval and payment',
      description:
        'Validates an invoice and starts its durable approval workflow, then returns immediately (it does NOT wait ' +
        'for approval). The invoice then waits for approve_invoice or reject_invoice, up to approval_timeout ' +
        '(default 5 days), after which it is TIMED_OUT and nothing is paid. Each invoice id can be processed only ' +
        'once, ever, so an invoice is never paid twice. Clients with MCP tasks may call it as a task: the task is ' +
        'input_required while the invoice awaits a decision, and its result is the final invoice status.',
      inputSchema: processInvoiceInput,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
      execution: { taskSupport: 'optional' }, // a task if the client asks for one; an immediate answer if not
    },
    {
      // (`input` was validated against inputSchema; the SDK types a whole-object schema as unknown.)
      createTask: (input, extra) => startAsTask(input as ProcessInvoiceInput, extra),
      getTask: (_input, extra) => extra.taskStore.getTask(extra.taskId),
      getTaskResult: async (_input, extra) => (await extra.taskStore.getTaskResult(extra.taskId)) as CallToolResult,
    },
  );
  routeTaskOptionalTool(server, 'process_invoice', processInvoiceInput, { withTask: startAsTask, withoutTask: startAndAnswer });
  // #endregion process-invoice

  // #region decisions
  // #region approve-invoice
  server.registerTool(
    'approve_invoice',
    {
      title: 'Approve an invoice (it will be paid)',
      description:
        'Approves an invoice that is AWAITING_APPROVAL; its lines are then paid. Irreversible: only call this when ' +
        'the user explicitly approves. Answers only once the invoice has taken the approval; fails with a clear ' +
        'message (naming any earlier decision) if it is not awaiting approval.',
      inputSchema: { invoice_id: invoiceIdParam, approved_by: personParam('approving') },
      outputSchema: decisionShape,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    },
    async ({ invoice_id, approved_by }) => {
      // An Update, not a signal: the workflow validates the decision and answers, so this reply is true.
      // The id makes a retry after a lost reply return the first answer instead of deciding again.
      const result = await withTemporal(invoice_id, (client) =>
        decide(client, invoice_id, (handle) =>
          handle.executeUpdate(approveInvoice, { args: [{ by: approved_by }], updateId: `approve-${invoice_id}-by-${approved_by}` }),
        ),
      );
      return reply({
        ...result,
        message: `Invoice ${invoice_id} approved by ${result.decision.by}; its lines are being paid now. Use get_invoice_status to follow it.`,
        webUiUrl: link(invoice_id),
      });
    },
  );
  // #endregion approve-invoice

  server.registerTool(
    'reject_invoice',
    {
      title: 'Reject an invoice (nothing will be paid)',
      description:
        'Rejects an invoice that is AWAITING_APPROVAL, with a reason; nothing is paid. Irreversible: only call this ' +
        'when the user explicitly rejects. Answers only once the invoice has taken the rejection; fails with a ' +
        'clear message (naming any earlier decision) if it is not awaiting approval.',
      inputSchema: {
        invoice_id: invoiceIdParam,
        rejected_by: personParam('rejecting'),
        reason: z.string().trim().min(1).max(500).describe("Why the invoice is rejected, in the user's words."),
      },
      outputSchema: decisionShape,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    },
    async ({ invoice_id, rejected_by, reason }) => {
      const result = await withTemporal(invoice_id, (client) =>
        decide(client, invoice_id, (handle) =>
          handle.executeUpdate(rejectInvoice, { args: [{ by: rejected_by, reason }], updateId: `reject-${invoice_id}-by-${rejected_by}` }),
        ),
      );
      return reply({
        ...result,
        message: `Invoice ${invoice_id} rejected by ${result.decision.by} (${reason}); nothing will be paid.`,
        webUiUrl: link(invoice_id),
      });
    },
  );
  // #endregion decisions

  // #region read-tools
  server.registerTool(
    'get_invoice_status',
    {
      title: 'Get the status of an invoice',
      description:
        `Returns where an invoice stands: its state (${INVOICE_STATES.join(', ')}), lines paid so far, the decision ` +
        'and who made it, the approval deadline, and a Web UI link.',
      inputSchema: { invoice_id: invoiceIdParam },
      outputSchema: statusShape,
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    async ({ invoice_id }) => reply({ ...(await readInvoice(invoice_id)), webUiUrl: link(invoice_id) }),
  );

  server.registerTool(
    'list_invoices',
    {
      title: 'List recent invoices',
      description:
        'Lists the most recent invoices (newest first) with their states, e.g. to answer "what is waiting for my ' +
        'approval?" (state AWAITING_APPROVAL).',
      inputSchema: {
        state: stateSchema.optional().describe('Only invoices in this state.'),
        limit: z.number().int().min(1).max(100).default(20).describe('How many invoices to return at most (1-100).'),
      },
      outputSchema: {
        invoices: z.array(
          z.object({
            invoiceId: z.string(),
            state: stateSchema.nullable().describe('null when no worker answered for it.'),
            executionStatus: z.string(),
            customer: z.string().nullable(),
            amountDue: z.number().nullable(),
            startTime: z.string(),
          }),
        ),
      },
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    async ({ state, limit }) => {
      const invoices = await withTemporal(undefined, async (client) => {
        // Temporal's visibility store lists workflows (newest first); a query per invoice adds its
        // live state. (No ORDER BY: the dev server's SQLite visibility does not support it.)
        const executions = [];
        for await (const wf of client.workflow.list({ query: `WorkflowType = 'InvoiceWorkflow' AND TaskQueue = '${TASK_QUEUE}'` })) {
          executions.push(wf);
          if (executions.length >= (state ? 200 : limit)) break;
        }
        return Promise.all(
          executions.map(async (wf) => {
            const status = await client.workflow.getHandle(wf.workflowId, wf.runId).query(getInvoiceStatus).catch(() => undefined);
            return {
              invoiceId: status?.invoiceId ?? wf.workflowId.replace(/^invoice-/, ''),
              state: status?.state ?? null,
              executionStatus: wf.status.name,
              customer: status?.customer ?? null,
              amountDue: status?.amountDue ?? null,
              startTime: wf.startTime.toISOString(),
            };
          }),
        );
      });
      return reply({ invoices: invoices.filter((i) => !state || i.state === state).slice(0, limit) });
    },
  );
  // #endregion read-tools

  // #region request-approval
  // Step 07: elicitation. Where the client can show a form, the server asks the human directly;
  // the answer goes to the workflow through the same validated Update as approve_invoice. A client
  // that cannot is never sent the question: it is told to use the ordinary tools.
  server.registerTool(
    'request_approval',
    {
      title: 'Ask the user to approve or reject an invoice',
      description:
        'Shows the user a form (MCP elicitation) to approve or reject an invoice that is AWAITING_APPROVAL, with ' +
        'their name and, when rejecting, a reason; the decision is applied exactly as approve_invoice or ' +
        'reject_invoice would. If the user declines or cancels, the invoice keeps waiting, unchanged. If this ' +
        'client cannot show forms, nothing is asked: ask the user in the chat and call approve_invoice or reject_invoice.',
      inputSchema: { invoice_id: invoiceIdParam },
      outputSchema: {
        invoiceId: z.string(),
        outcome: z.enum(['approved', 'rejected', 'declined', 'cancelled', 'not_supported']),
        state: stateSchema.nullable(),
        message: z.string(),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    },
    async ({ invoice_id }, extra) => {
      // #region ask-the-human
      const formsSupported = server.server.getClientCapabilities()?.elicitation?.form !== undefined;
      if (!mode.connected || !formsSupported) {
        return reply({
          invoiceId: invoice_id,
          outcome: 'not_supported' as const,
          state: null,
          message:
            (mode.connected ? 'This client cannot show forms (it does not advertise MCP form elicitation)' : 'Over stateless HTTP the server cannot ask the user a question') +
            `, so nothing was asked. Ask the user whether to approve invoice ${invoice_id} and call approve_invoice or reject_invoice.`,
        });
      }
      const status = await readInvoice(invoice_id);
      if (status.state !== 'AWAITING_APPROVAL') {
        throw new ToolError(`Invoice ${invoice_id} is ${status.state}, not awaiting approval, so nothing was asked and nothing was changed.`);
      }
      const lines = status.linesTotal === 1 ? '1 line' : `${status.linesTotal} lines`;
      const answer = await server.server.elicitInput(
        {
          mode: 'form',
          message: `Invoice ${invoice_id} from ${status.customer}: ${status.amountDue} in ${lines}, awaiting approval until ${status.approvalDeadline}. Approve or reject it?`,
          requestedSchema: {
            type: 'object',
            properties: {
              decision: { type: 'string', title: 'Decision', enum: ['approve', 'reject'], enumNames: ['Approve (it will be paid)', 'Reject (nothing is paid)'] },
              name: { type: 'string', title: 'Your name', minLength: 1, maxLength: 100 },
              reason: { type: 'string', title: 'Reason (required when rejecting)', maxLength: 500 },
            },
            required: ['decision', 'name'],
          },
        },
        { signal: extra.signal, timeout: ELICITATION_TIMEOUT_MS },
      );
      if (answer.action !== 'accept') {
        return reply({
          invoiceId: invoice_id,
          outcome: answer.action === 'decline' ? ('declined' as const) : ('cancelled' as const),
          state: status.state,
          message: `The user ${answer.action === 'decline' ? 'declined to decide' : 'dismissed the form'}; invoice ${invoice_id} is still AWAITING_APPROVAL, unchanged.`,
        });
      }
      // #exercise answer-to-update "Part B: the human's answer, through the Update"
      // The human's answer is input like any other: validated before it reaches the workflow.
      const parsed = approvalAnswer.safeParse(answer.content);
      if (!parsed.success) {
        throw new ToolError(`The answer was not valid (${parsed.error.issues.map((i) => i.message).join('; ')}); invoice ${invoice_id} still awaits a decision, unchanged.`);
      }
      const given = parsed.data;
      const result = await withTemporal(invoice_id, (client) =>
        decide(client, invoice_id, (handle) =>
          given.decision === 'approve'
            ? handle.executeUpdate(approveInvoice, { args: [{ by: given.name }], updateId: `approve-${invoice_id}-by-${given.name}` })
            : handle.executeUpdate(rejectInvoice, { args: [{ by: given.name, reason: given.reason }], updateId: `reject-${invoice_id}-by-${given.name}` }),
        ),
      );
      // #endexercise
      // #endregion ask-the-human
      const approved = result.decision.approved;
      return reply({
        invoiceId: invoice_id,
        outcome: approved ? ('approved' as const) : ('rejected' as const),
        state: approved ? ('PAYING' as const) : ('REJECTED' as const),
        message: approved
          ? `Invoice ${invoice_id} approved by ${result.decision.by}; its lines are being paid now.`
          : `Invoice ${invoice_id} rejected by ${result.decision.by}; nothing will be paid.`,
      });
    },
  );
  // #endregion request-approval

  // #region wait-for-invoice
  // Step 07: a bounded wait. Hosts give a tool call about 60 s, so it waits at most 50 s, returns
  // as soon as the invoice changes state, and meanwhile sends progress notifications: a client
  // that resets its timeout on progress never times out, however long its own timeout is.
  server.registerTool(
    'wait_for_invoice',
    {
      title: 'Wait until an invoice changes state',
      description:
        `Waits until the invoice leaves its current state, or at most timeout_seconds (default and maximum ${MAX_WAIT_S}), ` +
        'sending progress notifications while it waits. Returns the status, whether it changed, and the state it ' +
        'waited in. A finished invoice returns at once. Call it again to keep waiting.',
      inputSchema: {
        invoice_id: invoiceIdParam,
        timeout_seconds: z.number().int().min(1).max(MAX_WAIT_S).default(MAX_WAIT_S).describe(`How long to wait at most, 1-${MAX_WAIT_S} s.`),
      },
      outputSchema: { ...statusShape, changed: z.boolean(), waitedInState: stateSchema, waitedMs: z.number() },
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    async ({ invoice_id, timeout_seconds }, extra) => {
      // #region wait-loop
      const started = Date.now();
      const deadline = started + timeout_seconds * 1000;
      const first = await readInvoice(invoice_id);
      const progressToken = extra._meta?.progressToken;
      let status = first;
      let lastProgress = started;
      // #exercise bounded-wait "Part C: a bounded wait, with progress"
      while (status.executionStatus === 'RUNNING' && status.state === first.state && Date.now() < deadline && !extra.signal.aborted) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(WAIT_POLL_MS, deadline - Date.now())));
        status = await readInvoice(invoice_id);
        if (progressToken !== undefined && Date.now() - lastProgress >= PROGRESS_EVERY_MS) {
          lastProgress = Date.now();
          await extra.sendNotification({
            method: 'notifications/progress',
            params: {
              progressToken,
              progress: Math.round((lastProgress - started) / 1000),
              total: timeout_seconds,
              message: `Invoice ${invoice_id} is still ${status.state}.`,
            },
          });
        }
      }
      // #endexercise
      return reply({ ...status, webUiUrl: link(invoice_id), changed: status.state !== first.state, waitedInState: first.state, waitedMs: Date.now() - started });
      // #endregion wait-loop
    },
  );
  // #endregion wait-for-invoice

  // #region invoice-resource
  // Step 07: the invoice as a resource, invoice://INV-1001, read as JSON. A client may subscribe
  // to it: it then gets notifications/resources/updated each time the invoice changes state.
  server.registerResource(
    'invoice',
    new ResourceTemplate('invoice://{id}', { list: undefined }),
    { title: 'An invoice and where it stands', description: 'The status of invoice {id}, as get_invoice_status returns it.', mimeType: 'application/json' },
    async (uri, { id }) => {
      const invoiceId = String(id);
      const status = await readInvoice(invoiceId);
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ ...status, webUiUrl: link(invoiceId) }, null, 2) }] };
    },
  );
  if (mode.connected) watchSubscriptions(server);
  // #endregion invoice-resource

  return server;
}

// #region subscriptions
/**
 * SDK v1's McpServer has no handler for resources/subscribe, so we add one. Each subscribed
 * invoice is watched (a query every half second) until it finishes, the client unsubscribes or
 * the connection closes; each change of state sends notifications/resources/updated, and the
 * client reads the resource again to see the new state.
 */
function watchSubscriptions(server: McpServer): void {
  const watching = new Map<string, AbortController>();
  server.server.setRequestHandler(SubscribeRequestSchema, async ({ params: { uri } }) => {
    const invoiceId = invoiceIdOfUri(uri);
    if (!watching.has(uri)) {
      const initial = await readInvoice(invoiceId); // fails readably for an unknown invoice
      const stop = new AbortController();
      watching.set(uri, stop);
      void watch(uri, invoiceId, initial.state, stop.signal).finally(() => watching.delete(uri));
    }
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, async ({ params: { uri } }) => {
    watching.get(uri)?.abort();
    watching.delete(uri);
    return {};
  });
  server.server.onclose = () => {
    for (const stop of watching.values()) stop.abort();
  };

  async function watch(uri: string, invoiceId: string, state: InvoiceState, signal: AbortSignal) {
    let running = true;
    while (running && !signal.aborted) {
      await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
      const status = await readInvoice(invoiceId).catch(() => undefined); // Temporal or the worker away: try again
      if (!status || signal.aborted) continue;
      running = status.executionStatus === 'RUNNING';
      if (status.state !== state) {
        state = status.state;
        await server.server.sendResourceUpdated({ uri }).catch(() => {});
      }
    }
  }
}

function invoiceIdOfUri(uri: string): string {
  const invoiceId = /^invoice:\/\/([^/?#]{1,64})$/.exec(uri)?.[1];
  if (!invoiceId) throw new McpError(ErrorCode.InvalidParams, `Cannot subscribe to "${uri}": this server's resources are invoice://<invoice id>, e.g. invoice://INV-1001.`);
  return decodeURIComponent(invoiceId);
}
// #endregion subscriptions

// #region task-optional-call
/**
 * Routes the calls of a task-optional tool ourselves, because SDK v1 gets two cases wrong for a
 * long-running tool (this uses its private handler table: check it when you upgrade the SDK):
 * 1. Called WITHOUT `task`, the SDK creates the task and polls it until it finishes before it
 *    answers: for an invoice that waits days for a human, the call would hang, and Claude Desktop
 *    gives up after about 60 s. We answer at once instead, as step 05 did.
 * 2. Called WITH `task` but failing before the task exists (bad input, an invoice already
 *    submitted), the SDK answers an error tool result that the client refuses as an "Invalid task
 *    creation result", losing the message. We send a JSON-RPC error that carries it.
 * Every other tool goes to the SDK's own handler.
 */
function routeTaskOptionalTool<Input>(
  server: McpServer,
  toolName: string,
  inputSchema: z.ZodType<Input>,
  route: {
    withTask: (input: Input, extra: Pick<CreateTaskRequestHandlerExtra, 'taskStore' | 'taskRequestedTtl'>) => Promise<CreateTaskResult>;
    withoutTask: (input: Input, extra: Pick<CreateTaskRequestHandlerExtra, 'taskStore' | 'taskRequestedTtl'>) => Promise<CallToolResult>;
  },
): void {
  type Handler = (request: JSONRPCRequest, extra: RequestHandlerExtra<ServerRequest, ServerNotification>) => Promise<Result>;
  const handlers = (server.server as unknown as { _requestHandlers: Map<string, Handler> })._requestHandlers;
  const sdkToolsCall = handlers.get('tools/call')!; // registered by the SDK with the first tool
  handlers.set('tools/call', async (request, extra) => {
    const params = request.params as CallToolRequest['params'];
    if (params?.name !== toolName) return sdkToolsCall(request, extra);
    const taskExtra = { taskStore: extra.taskStore!, taskRequestedTtl: extra.taskRequestedTtl };
    const input = inputSchema.safeParse(params.arguments ?? {});
    const invalid = input.success ? undefined : `Invalid arguments for tool ${toolName}:\n${z.prettifyError(input.error!)}`;
    if (params.task) {
      if (invalid) throw new McpError(ErrorCode.InvalidParams, invalid);
      try {
        return await route.withTask(input.data!, taskExtra);
      } catch (err) {
        throw new McpError(ErrorCode.InvalidParams, messageOf(err)); // already a message for the user (withTemporal)
      }
    }
    try {
      if (invalid) throw new ToolError(invalid);
      return await route.withoutTask(input.data!, taskExtra);
    } catch (err) {
      return { content: [{ type: 'text', text: messageOf(err) }], isError: true }; // a tool error, as for every tool
    }
  });
}
// #endregion task-optional-call

/** get_invoice_status's answer: the workflow's own status plus Temporal's view of it. */
function readInvoice(invoiceId: string) {
  return withTemporal(invoiceId, async (client) => {
    const handle = client.workflow.getHandle(invoiceWorkflowId(invoiceId));
    const [description, status] = await Promise.all([handle.describe(), askWorker(client, WORKER, () => handle.query(getInvoiceStatus))]);
    return { ...status, workflowId: handle.workflowId, executionStatus: description.status.name };
  });
}

// #region decide
/**
 * Sends a decision Update. The workflow's validator refuses one it cannot take (the error says
 * why); a finished invoice cannot take Updates at all, and Temporal then answers "not found",
 * so we ask the invoice how it ended and say that instead.
 */
async function decide(client: Client, invoiceId: string, update: (handle: WorkflowHandle<typeof InvoiceWorkflow>) => Promise<DecisionResult>) {
  const handle = client.workflow.getHandle<typeof InvoiceWorkflow>(invoiceWorkflowId(invoiceId));
  try {
    return await askWorker(client, WORKER, () => update(handle), { changes: true });
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      const status = await askWorker(client, WORKER, () => handle.query(getInvoiceStatus)).catch(() => undefined);
      if (status) {
        const decided = status.decision ? ` (${status.decision.approved ? 'approved' : 'rejected'} by ${status.decision.by} at ${status.decision.at})` : '';
        throw new ToolError(`Invoice ${invoiceId} is ${status.state}${decided} and has finished, so it takes no decision; nothing was changed.`);
      }
    }
    throw err; // e.g. there really is no such invoice
  }
}
// #endregion decide

// #region explain
/** An error whose message is already written for the user. */
class ToolError extends Error {}

/** Temporal's errors, as messages a user (or the assistant reading them) can act on. */
function explain(err: unknown, invoiceId: string | undefined): string {
  if (err instanceof ToolError || err instanceof TaskError || err instanceof TemporalUnreachableError || err instanceof NoWorkerError) return err.message;
  if (err instanceof WorkflowUpdateFailedError) return messageOf(err.cause); // the validator's refusal, e.g. "already approved by alice"
  if (err instanceof WorkflowNotFoundError) {
    return `No invoice "${invoiceId}" was found (no workflow ${err.workflowId} in namespace ${config.namespace ?? 'default'}). Check the id; list_invoices shows recent invoices.`;
  }
  if (isGrpcServiceError(err) || isGrpcServiceError((err as Error)?.cause)) {
    const code = isGrpcServiceError(err) ? err.code : (err as { cause: { code: number } }).cause.code;
    if (code === 4 /* DEADLINE_EXCEEDED */ || code === 14 /* UNAVAILABLE */) {
      return `Temporal at ${address} did not answer within ${DEADLINE_MS / 1000} s. Is it running (npm run temporal)? Try again once it is back.`;
    }
  }
  return `Unexpected error: ${messageOf(err)}`;
}
// #endregion explain

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// #region serve
/** Serves the tools on stdio, or on Streamable HTTP with `--http`, until stopped. */
async function main(): Promise<void> {
  const options = parseServeArgs();
  let stopServing: () => Promise<void>;
  if (!options.http) {
    // stdio: the host (Claude Desktop) starts this process and speaks MCP on its stdin and stdout.
    const server = createServer();
    await server.connect(new StdioServerTransport());
    log('mcp', 'serving on stdio');
    stopServing = () => server.close();
    process.stdin.on('close', () => void stop()); // the host closed our stdin: it is done with us
  } else {
    // Streamable HTTP, stateless: each POST gets its own server and transport, so any number of
    // clients share this process, and any replica of it can answer any request.
    const app = createHttpApp(options);
    app.post('/mcp', async (req, res) => {
      const server = createServer({ connected: false });
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
    });
    stopServing = (await listenHttp(app, options)).close;
  }
  log('mcp', `Temporal at ${address}, namespace ${config.namespace ?? 'default'}, task queue ${TASK_QUEUE}`);

  async function stop() {
    await stopServing();
    await connecting?.then((client) => client.connection.close()).catch(() => {});
    process.exit(0);
  }
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}
// #endregion serve

if (isEntryPoint(import.meta.url)) runMain(main);
