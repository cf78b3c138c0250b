// The MCP server: the invoice workflow as tools an AI assistant (Claude Desktop, any MCP host)
// can call. Every tool returns at once; the waiting (for approval, for the gateway) happens
// durably in Temporal, never inside a tool call, which hosts cancel after about 60 s.
//
//   npx tsx tutorials/05-mcp-server/server.ts                 # stdio: what Claude Desktop launches
//   npx tsx tutorials/05-mcp-server/server.ts --http --port 3000   # Streamable HTTP on 127.0.0.1
//
// stdout is the protocol channel on stdio: this file never writes to it. Logs go to stderr.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import {
  isGrpcDeadlineError,
  isGrpcServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
} from '@temporalio/client';
import { z } from 'zod';
import { parseDuration } from '../../shared/cli.js';
import { workflowUrl } from '../../shared/config.js';
import { SharedClient, TemporalUnreachableError } from '../../shared/connection.js';
import { InvoiceSchema, invoiceWorkflowId } from '../../shared/invoice.js';
import { isEntryPoint, log, runMain } from '../../shared/log.js';
import { parseServeArgs, serveMcp } from '../../shared/mcp.js';
import {
  approveInvoice,
  DEFAULT_APPROVAL_TIMEOUT,
  getInvoiceStatus,
  InvoiceWorkflow,
  rejectInvoice,
  TASK_QUEUE,
  type InvoiceState,
  type InvoiceStatus,
} from './workflows.js';

/** Which step's workflows the tools drive: its task queue, and the worker to start for it. */
export interface ToolTarget {
  taskQueue: string;
  /** The worker script, for "is the worker running?" hints. */
  workerScript: string;
}

/** This step's target; step 06 serves the same tools for its own task queue. */
export const STEP_05: ToolTarget = { taskQueue: TASK_QUEUE, workerScript: 'tutorials/05-mcp-server/worker.ts' };

// #region schemas
const invoiceIdParam = z
  .string()
  .min(1)
  .max(64)
  .describe('The invoice id given to process_invoice, e.g. "INV-1001" (not the workflow id).');

const STATES = ['VALIDATING', 'AWAITING_APPROVAL', 'PAYING', 'PAID', 'REJECTED', 'TIMED_OUT', 'FAILED'] as const satisfies readonly InvoiceState[];

const paymentShape = z.object({ lineIndex: z.number(), item: z.string(), amount: z.number(), chargeId: z.string() });
const decisionShape = z.object({ approved: z.boolean(), by: z.string(), reason: z.string().optional(), at: z.string() });

/** The invoice's status as get_invoice_status returns it: the workflow's query plus Temporal's view. */
const statusShape = {
  invoiceId: z.string(),
  workflowId: z.string(),
  customer: z.string(),
  state: z.enum(STATES).describe('Where the invoice is in its life.'),
  executionStatus: z.string().describe("Temporal's status of the workflow: RUNNING, COMPLETED, FAILED, TERMINATED, ..."),
  linesTotal: z.number(),
  linesPaid: z.number(),
  amountDue: z.number(),
  amountPaid: z.number(),
  payments: z.array(paymentShape),
  decision: decisionShape.nullable(),
  approvalDeadline: z.string().nullable().describe('ISO 8601 time when an undecided invoice is TIMED_OUT.'),
  failure: z.string().nullable(),
  webUiUrl: z.string(),
};
// #endregion schemas

/** A tool error the user can act on; its message is what the assistant reads. */
class ToolError extends Error {}

/** Runs an input check whose error message is meant for the user. */
function toolInput<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    throw new ToolError((err as Error).message);
  }
}

/** Builds the MCP server with its five tools around one shared Temporal client. */
export function createInvoiceServer(temporal: SharedClient, target: ToolTarget = STEP_05): McpServer {
  const workerHint = `Is the worker running? Start it with: npx tsx ${target.workerScript}`;
  const server = new McpServer(
    { name: 'invoice-approvals', version: '1.0.0' },
    {
      instructions:
        'Tools to submit invoices for payment, follow them, and approve or reject them. Invoices wait durably ' +
        'for a human decision (5 days by default): process_invoice returns at once, so call get_invoice_status ' +
        'later instead of waiting. Only approve or reject when the user explicitly says so.',
    },
  );
  const settings = temporal.settings;
  const link = (invoiceId: string) => workflowUrl(settings, invoiceWorkflowId(invoiceId));

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
      outputSchema: {
        invoiceId: z.string(),
        workflowId: z.string(),
        state: z.enum(STATES),
        webUiUrl: z.string(),
        message: z.string(),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    },
    ({ approval_timeout, ...invoice }) =>
      answer(async () => {
        const approvalTimeout = toolInput(() => parseDuration(approval_timeout ?? DEFAULT_APPROVAL_TIMEOUT, 'approval_timeout'));
        const handle = await temporal.call(async (client) => {
          try {
            return await client.workflow.start(InvoiceWorkflow, {
              taskQueue: target.taskQueue,
              workflowId: invoiceWorkflowId(invoice.id),
              args: [invoice, { approvalTimeout }],
              // One workflow per invoice id, ever: a second process_invoice with the same id is refused
              // while the first runs (conflict policy FAIL) and after it closed (reuse policy REJECT_DUPLICATE).
              workflowIdConflictPolicy: 'FAIL',
              workflowIdReusePolicy: 'REJECT_DUPLICATE',
            });
          } catch (err) {
            if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
            const state = await currentState(client, invoice.id).catch(() => 'unknown');
            throw new ToolError(
              `Invoice ${invoice.id} was already submitted (its state is ${state}), so it was not started again: ` +
                'an invoice id is processed at most once, which is what keeps it from being paid twice. ' +
                'Use get_invoice_status to follow it, or give a different invoice its own id.',
            );
          }
        });
        // Return at once: the workflow validates, then waits for a decision, without us. (Asking
        // for its state here would wait for the worker's first step: ~40 ms, or 5 s with no worker.)
        return {
          invoiceId: invoice.id,
          workflowId: handle.workflowId,
          state: 'VALIDATING' as const,
          webUiUrl: link(invoice.id),
          message:
            `Invoice ${invoice.id} submitted. It is validated, then waits for approve_invoice or reject_invoice ` +
            `(at most ${approval_timeout ?? DEFAULT_APPROVAL_TIMEOUT}). Use get_invoice_status to see where it stands.`,
        };
      }),
  );
  // #endregion process-invoice

  // #region decisions
  // #region approve-invoice
  server.registerTool(
    'approve_invoice',
    {
      title: 'Approve an invoice (it will be paid)',
      description:
        'Approves an invoice that is AWAITING_APPROVAL; its lines are then paid. Irreversible: only call this when ' +
        'the user explicitly approves. Fails with a clear message if the invoice is not awaiting approval.',
      inputSchema: {
        invoice_id: invoiceIdParam,
        approver: z.string().trim().min(1).max(100).describe('Name of the person approving, as the user gave it.'),
      },
      outputSchema: { invoiceId: z.string(), previousState: z.enum(STATES), message: z.string(), webUiUrl: z.string() },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    },
    ({ invoice_id, approver }) =>
      answer(() =>
        temporal.call(async (client) => {
          const previousState = await requireAwaitingApproval(client, invoice_id);
          await client.workflow.getHandle(invoiceWorkflowId(invoice_id)).signal(approveInvoice, { by: approver });
          return {
            invoiceId: invoice_id,
            previousState,
            message: `Invoice ${invoice_id} approved by ${approver}; its lines are being paid now. Use get_invoice_status to follow it.`,
            webUiUrl: link(invoice_id),
          };
        }),
      ),
  );
  // #endregion approve-invoice

  server.registerTool(
    'reject_invoice',
    {
      title: 'Reject an invoice (nothing will be paid)',
      description:
        'Rejects an invoice that is AWAITING_APPROVAL, with a reason; nothing is paid. Irreversible: only call this ' +
        'when the user explicitly rejects. Fails with a clear message if the invoice is not awaiting approval.',
      inputSchema: {
        invoice_id: invoiceIdParam,
        reason: z.string().trim().min(1).max(500).describe('Why the invoice is rejected, in the user\'s words.'),
        rejected_by: z.string().trim().min(1).max(100).describe('Name of the person rejecting, as the user gave it.'),
      },
      outputSchema: { invoiceId: z.string(), previousState: z.enum(STATES), message: z.string(), webUiUrl: z.string() },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    },
    ({ invoice_id, reason, rejected_by }) =>
      answer(() =>
        temporal.call(async (client) => {
          const previousState = await requireAwaitingApproval(client, invoice_id);
          await client.workflow.getHandle(invoiceWorkflowId(invoice_id)).signal(rejectInvoice, { by: rejected_by, reason });
          return {
            invoiceId: invoice_id,
            previousState,
            message: `Invoice ${invoice_id} rejected by ${rejected_by} (${reason}); nothing will be paid.`,
            webUiUrl: link(invoice_id),
          };
        }),
      ),
  );
  // #endregion decisions

  // #region read-tools
  server.registerTool(
    'get_invoice_status',
    {
      title: 'Get the status of an invoice',
      description:
        'Returns where an invoice stands: its state (VALIDATING, AWAITING_APPROVAL, PAYING, PAID, REJECTED, TIMED_OUT, ' +
        'FAILED), lines paid so far, the decision and who made it, the approval deadline, and a Web UI link.',
      inputSchema: { invoice_id: invoiceIdParam },
      outputSchema: statusShape,
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    ({ invoice_id }) =>
      answer(() =>
        temporal.call(async (client) => {
          const handle = client.workflow.getHandle(invoiceWorkflowId(invoice_id));
          const [description, status] = await Promise.all([handle.describe(), queryStatus(client, invoice_id)]);
          return { ...status, workflowId: handle.workflowId, executionStatus: description.status.name, webUiUrl: link(invoice_id) };
        }),
      ),
  );

  server.registerTool(
    'list_invoices',
    {
      title: 'List recent invoices',
      description:
        'Lists the most recent invoices (newest first) with their states, e.g. to answer "what is waiting for my ' +
        'approval?" (state AWAITING_APPROVAL).',
      inputSchema: {
        state: z.enum(STATES).optional().describe('Only invoices in this state.'),
        limit: z.number().int().min(1).max(100).default(20).describe('How many invoices to return at most (1-100).'),
      },
      outputSchema: {
        invoices: z.array(
          z.object({
            invoiceId: z.string(),
            state: z.enum(STATES).nullable().describe('null when no worker answered for it.'),
            executionStatus: z.string(),
            customer: z.string().nullable(),
            amountDue: z.number().nullable(),
            startTime: z.string(),
          }),
        ),
      },
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    ({ state, limit }) =>
      answer(() =>
        temporal.call(async (client) => {
          // Temporal's visibility store lists workflows (newest first); a query per invoice adds its
          // live state. (No ORDER BY: the dev server's SQLite visibility does not support it.)
          const executions = [];
          for await (const wf of client.workflow.list({ query: `WorkflowType = 'InvoiceWorkflow' AND TaskQueue = '${target.taskQueue}'` })) {
            executions.push(wf);
            if (executions.length >= (state ? 200 : limit)) break;
          }
          const invoices = await Promise.all(
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
          return { invoices: invoices.filter((i) => !state || i.state === state).slice(0, limit) };
        }),
      ),
  );
  // #endregion read-tools

  // #region check-before-signal
  /** Refuses a decision unless the invoice can still take one (VALIDATING keeps an early decision). */
  async function requireAwaitingApproval(client: Client, invoiceId: string): Promise<InvoiceState> {
    const status = await queryStatus(client, invoiceId);
    if (status.state !== 'AWAITING_APPROVAL' && status.state !== 'VALIDATING') {
      const decided = status.decision ? ` (${status.decision.approved ? 'approved' : 'rejected'} by ${status.decision.by})` : '';
      throw new ToolError(`Invoice ${invoiceId} is ${status.state}${decided}, not awaiting approval; nothing was changed.`);
    }
    return status.state;
  }
  // #endregion check-before-signal

  /** The query, with "unknown invoice" and "no worker" turned into messages a user can act on. */
  async function queryStatus(client: Client, invoiceId: string): Promise<InvoiceStatus> {
    try {
      return await client.workflow.getHandle(invoiceWorkflowId(invoiceId)).query(getInvoiceStatus);
    } catch (err) {
      if (isGrpcDeadlineError(err)) throw new ToolError(`No worker answered for invoice ${invoiceId} in time. ${workerHint}`);
      throw err;
    }
  }

  async function currentState(client: Client, invoiceId: string): Promise<string> {
    return (await queryStatus(client, invoiceId)).state;
  }

  /**
   * Runs a tool body and turns its outcome into a tool result: structured content on success,
   * an `isError` result with an actionable message on failure. The server never crashes on a bad call.
   */
  // #region answer
  async function answer<T extends Record<string, unknown>>(body: () => Promise<T>): Promise<CallToolResult> {
    try {
      const result = await body();
      return { content: [{ type: 'text', text: JSON.stringify(result, null, 2) }], structuredContent: result };
    } catch (err) {
      const text = explain(err);
      log('mcp', `tool error: ${text}`);
      return { content: [{ type: 'text', text }], isError: true };
    }
  }
  // #endregion answer

  function explain(err: unknown): string {
    if (err instanceof ToolError || err instanceof TemporalUnreachableError) return err.message;
    if (err instanceof WorkflowNotFoundError) {
      const id = err.workflowId.replace(/^invoice-/, '');
      return `No invoice "${id}" was found (no workflow ${err.workflowId} in namespace ${settings.namespace}). Check the id; list_invoices shows recent invoices.`;
    }
    if (isGrpcDeadlineError(err) || (isGrpcServiceError(err) && err.code === 14 /* UNAVAILABLE */)) {
      return `Temporal at ${settings.address} did not answer within ${temporal.deadlineMs / 1000} s. Is it running (npm run temporal)? Try again once it is back.`;
    }
    return `Unexpected error: ${err instanceof Error ? err.message : String(err)}`;
  }

  return server;
}

// #region serve
/** Serves the tools on stdio, or on Streamable HTTP with `--http`, until stopped. */
export async function serveInvoiceTools(target: ToolTarget = STEP_05): Promise<void> {
  const options = parseServeArgs();
  const temporal = new SharedClient(); // one Temporal client for the whole process, reused by every call
  const serving = await serveMcp(() => createInvoiceServer(temporal, target), options);
  log('mcp', `Temporal at ${temporal.settings.address}, namespace ${temporal.settings.namespace}, task queue ${target.taskQueue}`);
  const stop = async () => {
    await serving.close();
    await temporal.close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  if (!options.http) process.stdin.on('close', stop); // the host closed our stdin: it is done with us
}
// #endregion serve

if (isEntryPoint(import.meta.url)) runMain(() => serveInvoiceTools());
