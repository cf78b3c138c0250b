// Elicitation: request_approval asks the human with a form, where the client can show one. The
// answer goes to the workflow through the same validated Update as approve_invoice, so what the
// tool replies is what the workflow accepted. A client that cannot show forms is never sent the
// question: it is told to ask in the chat and use the ordinary tools.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { decide, invoiceIdParam, readInvoice, reply, stateSchema, ToolError, withTemporal } from './invoices.js';
import type { ServeMode } from './server.js';
import { approveInvoice, rejectInvoice } from './workflows.js';

/** How long request_approval waits for the human to fill in the form. */
const ELICITATION_TIMEOUT_MS = 10 * 60 * 1000;

/** The form request_approval shows, as it must come back: a name always, a reason when rejecting. */
const approvalAnswer = z.discriminatedUnion('decision', [
  z.object({ decision: z.literal('approve'), name: z.string().trim().min(1, 'a decision needs your name').max(100) }),
  z.object({
    decision: z.literal('reject'),
    name: z.string().trim().min(1, 'a decision needs your name').max(100),
    reason: z.string({ error: 'a rejection needs a reason' }).trim().min(1, 'a rejection needs a reason').max(500),
  }),
]);

/** Registers request_approval on the server. */
export function registerApprovalByForm(server: McpServer, mode: ServeMode): void {
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
            (mode.connected ? 'This client cannot show forms (it does not advertise MCP form elicitation)' : 'Over stateless HTTP this server does not ask the user a question') +
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
}
