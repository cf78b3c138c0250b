// The task tool: process_invoice, where a task IS the invoice workflow. The server decides, per
// request: a client that declares the Tasks extension gets a task at once (resultType "task") and
// follows it with tasks/get, answering the approval form with tasks/update; a client that does not
// (every 2025-11-25 client) gets the immediate answer of step 05, and the ordinary tools.
//
// Before anything starts, a large invoice asks a question in the same call: the 2026 multi
// round-trip. The tool answers "input required" with a form and a signed requestState; the client
// asks its human and calls again with the answer and the state, echoed. No session holds the
// question in between, so any replica can take the second round.
import { createHash, randomBytes } from 'node:crypto';
import { acceptedContent, createRequestStateCodec, inputRequired, type CallToolResult, type McpServer, type ServerContext } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { parseDuration } from '../../shared/cli.js';
import { invoiceTotal } from '../../shared/invoice.js';
import { log } from '../../shared/log.js';
import { link, processInvoiceInput, reply, ToolError, withTemporal, type ProcessInvoiceInput } from './invoices.js';
import { TemporalTaskStore } from './task-store.js';
import { declaresTasks, taskCreated } from './tasks.js';
import { DEFAULT_APPROVAL_TIMEOUT } from './workflows.js';

// #region task-store
// The tasks live in Temporal, not here: one store for the whole process, holding no state.
export const taskStore = new TemporalTaskStore(withTemporal);
// #endregion task-store

// #region request-state
/** Invoices above this total are confirmed by a human before anything starts. */
export const CONFIRM_ABOVE = 10_000;

/** What the signed requestState carries between the two rounds: which invoice was asked about. */
interface ConfirmState {
  invoiceSha256: string;
}
// Every replica needs the same key, or the second round fails on another replica than the first:
// set MCP_REQUEST_STATE_KEY (32 bytes or more) where more than one process serves.
const key = process.env.MCP_REQUEST_STATE_KEY ?? randomBytes(32).toString('base64url');
if (!process.env.MCP_REQUEST_STATE_KEY) log('mcp', 'MCP_REQUEST_STATE_KEY is not set: a random key signs requestState, so only this process can take a second round');
/** Signs requestState with HMAC, bound to the method, valid 10 minutes; the server refuses any other. */
export const requestStateCodec = createRequestStateCodec<ConfirmState>({ key, ttlSeconds: 600, bind: (ctx) => ctx.mcpReq.method });
// #endregion request-state

const invoiceSha256 = (input: ProcessInvoiceInput) => createHash('sha256').update(JSON.stringify(input)).digest('base64url');
const confirmation = z.object({ confirm: z.boolean() });

// #region confirm-amount
/**
 * Round one: a large invoice gets a question instead of a start. Round two: the SDK has verified
 * the echoed state (a tampered or expired one is refused with -32602 before this runs); the state
 * must name this very invoice, and the human must have said yes. Undefined: go ahead and start.
 */
async function confirmLargeAmount(input: ProcessInvoiceInput, ctx: ServerContext): Promise<CallToolResult | undefined> {
  const total = invoiceTotal(input.lines);
  if (total <= CONFIRM_ABOVE) return undefined;
  // #exercise confirm-first "Part C: ask before anything starts"
  const state = ctx.mcpReq.requestState<ConfirmState>();
  if (!state) {
    return inputRequired({
      inputRequests: {
        confirm: inputRequired.elicit({
          message: `Invoice ${input.id} for ${input.customer} totals ${total.toFixed(2)}, above ${CONFIRM_ABOVE}. Submit it for approval?`,
          requestedSchema: { type: 'object', properties: { confirm: { type: 'boolean', title: 'Submit it' } }, required: ['confirm'] },
        }),
      },
      requestState: await requestStateCodec.mint({ invoiceSha256: invoiceSha256(input) }, ctx),
    }) as unknown as CallToolResult;
  }
  if (state.invoiceSha256 !== invoiceSha256(input)) {
    throw new ToolError(`This confirmation was given for another invoice than ${input.id}, so nothing was started. Call process_invoice again without requestState to be asked about this one.`);
  }
  if (acceptedContent(ctx.mcpReq.inputResponses, 'confirm', confirmation)?.confirm !== true) {
    return reply({ invoiceId: input.id, submitted: false, message: `Invoice ${input.id} was not submitted: the large amount was not confirmed. Nothing was started.` });
  }
  // #endexercise
  return undefined;
}
// #endregion confirm-amount

/** Registers process_invoice on the server: a task for clients that declare tasks, an immediate answer for the others. */
export function registerInvoiceTask(server: McpServer): void {
  // #region process-invoice
  server.registerTool(
    'process_invoice',
    {
      title: 'Submit an invoice for approval and payment',
      description:
        'Validates an invoice and starts its durable approval workflow, then returns immediately (it does NOT wait ' +
        'for approval). The invoice then waits for approve_invoice or reject_invoice, up to approval_timeout ' +
        '(default 5 days), after which it is TIMED_OUT and nothing is paid. Each invoice id can be processed only ' +
        `once, ever, so an invoice is never paid twice. An invoice above ${CONFIRM_ABOVE} is confirmed by the user first. ` +
        'Clients with the MCP Tasks extension get a task: input_required (with the approval form) while the ' +
        'invoice awaits a decision, completed with the final invoice status.',
      inputSchema: processInvoiceInput,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    },
    async (input, ctx) => {
      const asked = await confirmLargeAmount(input, ctx);
      if (asked) return asked;
      const approvalTimeout = parseDuration(input.approval_timeout ?? DEFAULT_APPROVAL_TIMEOUT, 'approval_timeout');
      const { approval_timeout: _, ...invoice } = input;
      const task = await taskStore.start(invoice, approvalTimeout); // answers once Temporal has the workflow
      if (declaresTasks(ctx)) return taskCreated(task);
      return reply({
        invoiceId: input.id,
        workflowId: task.taskId.slice(0, task.taskId.lastIndexOf('.')),
        state: 'VALIDATING' as const,
        webUiUrl: link(input.id),
        message:
          `Invoice ${input.id} submitted. It is validated, then waits for approve_invoice or reject_invoice ` +
          `(at most ${input.approval_timeout ?? DEFAULT_APPROVAL_TIMEOUT}). Use get_invoice_status or wait_for_invoice to see where it stands.`,
      });
    },
  );
  // #endregion process-invoice
}
