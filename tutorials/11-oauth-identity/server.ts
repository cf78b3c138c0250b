// The MCP server: step 08's, serving this step's task queue. Step 10: on a host that renders MCP
// Apps, review_invoice shows an approval card in the conversation, and a person decides there
// (card.ts); every other host gets step 08's tools, unchanged.
//
// Step 11: who submits and who decides comes from authentication, never from a tool argument.
// Over HTTP the server is an OAuth resource server (auth.ts): each request carries a verified
// token, and extra.authInfo says whose it is. Over stdio, the person is the local user.
//
//   npx tsx tutorials/11-oauth-identity/server.ts                      # stdio: what Claude Desktop launches
//   MCP_AUTH_ISSUER=http://127.0.0.1:4000 npx tsx tutorials/11-oauth-identity/server.ts --http --port 3000
//
// stdout is the protocol channel on stdio: this file never writes to it. Logs go to stderr.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import {
  Client,
  Connection,
  isGrpcServiceError,
  WorkflowExecutionAlreadyStartedError,
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
import { authSettingsFromEnv, fromToken, localPerson, protectResource, type Identify } from './auth.js';
import { registerApprovalCard } from './card.js';
import {
  approveInvoice,
  DEFAULT_APPROVAL_TIMEOUT,
  getInvoiceStatus,
  INVOICE_STATES,
  invoiceMetadata,
  InvoiceWorkflow,
  rejectInvoice,
  TASK_QUEUE,
  type DecisionResult,
  type InvoiceStatus,
  type Person,
} from './workflows.js';

/** The worker that must run for these tools to get answers; named in "no worker" messages. */
const WORKER = { taskQueue: TASK_QUEUE, workerScript: 'tutorials/11-oauth-identity/worker.ts' };
/** Every Temporal call of a tool gets this long; then the tool says what is wrong instead of hanging. */
const DEADLINE_MS = 5_000;

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

// The states come from the workflow, and the shape is checked against its InvoiceStatus type:
// a state or field added to the workflow and not here fails to compile.
const stateSchema = z.enum(INVOICE_STATES);
const personSchema = z.object({ issuer: z.string(), subject: z.string(), name: z.string(), roles: z.array(z.string()) }) satisfies z.ZodType<Person>;
const decisionSchema = z.discriminatedUnion('approved', [
  z.object({ approved: z.literal(true), by: personSchema, at: z.string() }),
  z.object({ approved: z.literal(false), by: personSchema, reason: z.string(), at: z.string() }),
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
  submittedBy: personSchema,
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
// #endregion schemas

/** A tool result: the object as structured content, and as JSON text for hosts that show only text. */
function reply<T extends Record<string, unknown>>(value: T): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }], structuredContent: value };
}

const link = (invoiceId: string) => workflowUrl(invoiceWorkflowId(invoiceId));

/** Builds the MCP server with its five tools (and the card's, see card.ts). Cheap: over HTTP, each request gets its own. */
export function createServer(identify: Identify = () => localPerson()): McpServer {
  const server = new McpServer(
    { name: 'invoice-approvals', version: '1.0.0' },
    {
      instructions:
        'Tools to submit invoices for payment, follow them, and approve or reject them. Invoices wait durably ' +
        'for a human decision (5 days by default): process_invoice returns at once, so call get_invoice_status ' +
        'later instead of waiting. Only approve or reject when the user explicitly says so.',
    },
  );

  // #region process-invoice
  server.registerTool(
    'process_invoice',
    {
      title: 'Submit an invoice for approval and payment',
      description:
        'Validates an invoice and starts its durable approval workflow, then returns immediately (it does NOT wait ' +
        'for approval). The invoice then waits for approve_invoice or reject_invoice, up to approval_timeout ' +
        '(default 5 days), after which it is TIMED_OUT and nothing is paid. Each invoice id can be processed only ' +
        'once, ever, so an invoice is never paid twice.',
      inputSchema: InvoiceSchema.extend({
        approval_timeout: z
          .string()
          .max(40)
          .optional()
          .describe(`How long to wait for a decision, e.g. "2 hours" or "3 days". Default "${DEFAULT_APPROVAL_TIMEOUT}".`),
      }),
      outputSchema: { invoiceId: z.string(), workflowId: z.string(), state: stateSchema, webUiUrl: z.string(), message: z.string() },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    },
    async ({ approval_timeout, ...invoice }, extra) => {
      const submittedBy = identify(extra); // step 11: recorded, so the submitter can never approve it
      const approvalTimeout = parseDuration(approval_timeout ?? DEFAULT_APPROVAL_TIMEOUT, 'approval_timeout');
      const handle = await withTemporal(invoice.id, (client) =>
        client.workflow
          .start(InvoiceWorkflow, {
            taskQueue: TASK_QUEUE,
            workflowId: invoiceWorkflowId(invoice.id),
            args: [invoice, { approvalTimeout, submittedBy }],
            // As in step 06: a worker killed while it holds one of this invoice's workflow tasks is noticed
            // after this long, and the task goes to another worker: 10 s by default, 3 s here, as
            // the payments' heartbeat timeout. Too short for a worker that is slow to process a task
            // costs only a retry of that task, never a wrong result.
            workflowTaskTimeout: '3 seconds',
            // Step 08: what an operator sees in the Web UI's list and on the invoice's page.
            ...invoiceMetadata(invoice, submittedBy, approval_timeout ?? DEFAULT_APPROVAL_TIMEOUT),
            // One workflow per invoice id, ever: a second process_invoice with the same id is refused
            // while the first runs (conflict policy FAIL) and after it closed (reuse policy REJECT_DUPLICATE).
            workflowIdConflictPolicy: 'FAIL',
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
          })
          .catch(async (err: unknown) => {
            if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
            const { state } = await client.workflow.getHandle(invoiceWorkflowId(invoice.id)).query(getInvoiceStatus).catch(() => ({ state: 'unknown' }));
            throw new ToolError(
              `Invoice ${invoice.id} was already submitted (its state is ${state}), so it was not started again: an invoice ` +
                'id is processed at most once, which is what keeps it from being paid twice. Use get_invoice_status to ' +
                'follow it, or give a different invoice its own id.',
            );
          }),
      );
      // Return at once: the workflow validates, then waits for a decision, without us. (Asking
      // for its state here would wait for the worker's first step: ~40 ms, or seconds with no worker.)
      return reply({
        invoiceId: invoice.id,
        workflowId: handle.workflowId,
        state: 'VALIDATING' as const,
        webUiUrl: link(invoice.id),
        message:
          `Invoice ${invoice.id} submitted. It is validated, then waits for approve_invoice or reject_invoice ` +
          `(at most ${approval_timeout ?? DEFAULT_APPROVAL_TIMEOUT}). Use get_invoice_status to see where it stands.`,
      });
    },
  );
  // #endregion process-invoice

  // #region decisions
  // #region approve-invoice
  const approveTool = server.registerTool(
    'approve_invoice',
    {
      title: 'Approve an invoice (it will be paid)',
      description:
        'Approves an invoice that is AWAITING_APPROVAL, as the signed-in user; its lines are then paid. Irreversible: ' +
        'only call this when the user explicitly approves. Answers only once the invoice has taken the approval; fails ' +
        'with a clear message if it is not awaiting approval, or if the user may not approve it (they submitted it, ' +
        'or it is over their limit).',
      inputSchema: { invoice_id: invoiceIdParam },
      outputSchema: decisionShape,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    },
    async ({ invoice_id }, extra) => {
      // Step 11: the approver is whoever authenticated, not a name the model typed; the workflow's
      // validator decides whether that person may approve this invoice.
      const by = identify(extra);
      // An Update, not a signal: the workflow validates the decision and answers, so this reply is true.
      // The id makes a retry after a lost reply return the first answer instead of deciding again.
      const result = await withTemporal(invoice_id, (client) =>
        decide(client, invoice_id, (handle) =>
          handle.executeUpdate(approveInvoice, { args: [{ by }], updateId: `approve-${invoice_id}-by-${by.issuer}|${by.subject}` }),
        ),
      );
      return reply({
        ...result,
        message: `Invoice ${invoice_id} approved by ${result.decision.by.name} (${result.decision.by.subject}); its lines are being paid now. Use get_invoice_status to follow it.`,
        webUiUrl: link(invoice_id),
      });
    },
  );
  // #endregion approve-invoice

  const rejectTool = server.registerTool(
    'reject_invoice',
    {
      title: 'Reject an invoice (nothing will be paid)',
      description:
        'Rejects an invoice that is AWAITING_APPROVAL, as the signed-in user, with a reason; nothing is paid. ' +
        'Irreversible: only call this when the user explicitly rejects. Answers only once the invoice has taken the rejection; fails with a ' +
        'clear message (naming any earlier decision) if it is not awaiting approval.',
      inputSchema: {
        invoice_id: invoiceIdParam,
        reason: z.string().trim().min(1).max(500).describe("Why the invoice is rejected, in the user's words."),
      },
      outputSchema: decisionShape,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    },
    async ({ invoice_id, reason }, extra) => {
      const by = identify(extra);
      const result = await withTemporal(invoice_id, (client) =>
        decide(client, invoice_id, (handle) =>
          handle.executeUpdate(rejectInvoice, { args: [{ by, reason }], updateId: `reject-${invoice_id}-by-${by.issuer}|${by.subject}` }),
        ),
      );
      return reply({
        ...result,
        message: `Invoice ${invoice_id} rejected by ${result.decision.by.name} (${result.decision.by.subject}) (${reason}); nothing will be paid.`,
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
    async ({ invoice_id }) => {
      const status = await withTemporal(invoice_id, (client) => readStatus(client, invoice_id));
      return reply({ ...status, webUiUrl: link(invoice_id) });
    },
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

  // Step 10: the approval card and the tools only it calls, for hosts that render MCP Apps.
  // Step 11: the card's decisions are made as the same person the tools see (identify).
  registerApprovalCard(server, { withTemporal, decide, readStatus }, [approveTool, rejectTool], identify);

  return server;
}

/** The invoice's own status, and Temporal's view of its workflow. */
async function readStatus(client: Client, invoiceId: string) {
  const handle = client.workflow.getHandle(invoiceWorkflowId(invoiceId));
  const [description, status] = await Promise.all([handle.describe(), askWorker(client, WORKER, () => handle.query(getInvoiceStatus))]);
  return { ...status, workflowId: handle.workflowId, executionStatus: description.status.name };
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
        const decided = status.decision ? ` (${status.decision.approved ? 'approved' : 'rejected'} by ${status.decision.by.name} at ${status.decision.at})` : '';
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
  if (err instanceof ToolError || err instanceof TemporalUnreachableError || err instanceof NoWorkerError) return err.message;
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
    // No token here: the person is the local user (auth.ts, localPerson).
    const server = createServer(() => localPerson());
    await server.connect(new StdioServerTransport());
    log('mcp', 'serving on stdio');
    stopServing = () => server.close();
    process.stdin.on('close', () => void stop()); // the host closed our stdin: it is done with us
  } else {
    // Streamable HTTP, stateless: each POST gets its own server and transport, so any number of
    // clients share this process, and any replica of it can answer any request.
    // #region http-auth
    // Step 11: a resource server. The audience is this server's own URL unless MCP_AUTH_AUDIENCE
    // says otherwise (behind a proxy, the URL clients use). The metadata routes stay public; /mcp
    // takes a request only with a valid token, and each tool reads whose it is.
    const serverUrl = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}/mcp`;
    const settings = authSettingsFromEnv(serverUrl);
    const app = createHttpApp(options, { oauth: true });
    const requireToken = await protectResource(app, settings);
    app.post('/mcp', requireToken, async (req, res) => {
      const server = createServer(fromToken(settings));
      // #endregion http-auth
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
