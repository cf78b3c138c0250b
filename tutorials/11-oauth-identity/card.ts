// Step 10: the approval card. On a host that renders MCP Apps, review_invoice shows the invoice
// in the conversation as a small HTML view, and a person decides there, with a click. The view
// calls three tools the model never sees (visibility ["app"]): they read the invoice, and send the
// same approveInvoice / rejectInvoice Updates as step 08's tools, so the workflow's validator still
// decides what is allowed, and the card shows only what the workflow answered.
//
// What the host enforces: it leaves app-only tools out of the list it gives the model, and lets
// only this server's view call them. What this server cannot know: whether a call of an app-only
// tool came from a click. It sees a tools/call like any other; anyone who can speak MCP to it can
// send one. The card keeps the model from deciding; it does not prove who clicked.
//
// Step 11: the card decides as the person the server identified (identify, from server.ts), the
// same one approve_invoice would use, never a name typed in the card. The workflow's rules (four
// eyes, a limit per role) refuse the card's decisions exactly as the tool's, and the card shows
// their words. The card is offered over stdio only, so that person is the local user.
import {
  getUiCapability,
  registerAppResource,
  registerAppTool,
  RESOURCE_MIME_TYPE,
  type McpUiAppResourceConfig,
} from '@modelcontextprotocol/ext-apps/server';
import type { McpServer, RegisteredTool } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { z } from 'zod';
import type { Invoice } from '../../shared/invoice.js';
import { invoiceWorkflowId } from '../../shared/invoice.js';
import type { Identify } from './auth.js';
import { cardHtml } from './view/build.js';
import { approveInvoice, rejectInvoice, type DecisionResult, type InvoiceStatus, type InvoiceWorkflow } from './workflows.js';

/** The card's address: the host reads this resource and shows it in a sandboxed iframe. */
export const CARD_URI = 'ui://invoice-approvals/approval-card.html';
/** The tools only the card calls. */
export const CARD_TOOLS = ['card_get_invoice', 'card_approve_invoice', 'card_reject_invoice'] as const;

/** The invoice as the card shows it: what was submitted, and where it stands now. */
export interface CardInvoice {
  invoice: Pick<Invoice, 'id' | 'customer' | 'lines'>;
  status: InvoiceStatus & { executionStatus: string };
}

/** The Temporal calls the card shares with server.ts's tools: same deadline, same messages, same worker check. */
export interface Temporal {
  withTemporal<T>(invoiceId: string | undefined, fn: (client: Client) => Promise<T>): Promise<T>;
  decide(client: Client, invoiceId: string, update: (handle: WorkflowHandle<typeof InvoiceWorkflow>) => Promise<DecisionResult>): Promise<DecisionResult>;
  readStatus(client: Client, invoiceId: string): Promise<CardInvoice['status']>;
}

// #region csp
// The strictest the extension allows: no network at all (connect-src 'none'), no scripts, styles,
// fonts or images from anywhere but the HTML itself, no nested frames. The view needs nothing
// else: it is one self-contained file and talks to the server only through the host.
const CARD_META: NonNullable<NonNullable<McpUiAppResourceConfig['_meta']>['ui']> = {
  csp: { connectDomains: [], resourceDomains: [], frameDomains: [], baseUriDomains: [] },
  prefersBorder: true,
};
// #endregion csp

const invoiceIdParam = z.string().min(1).max(64).describe('The invoice id given to process_invoice, e.g. "INV-1001".');

function reply<T extends object>(value: T, text: string = JSON.stringify(value, null, 2)): CallToolResult {
  return { content: [{ type: 'text', text }], structuredContent: value as Record<string, unknown> };
}

/**
 * Registers the card and its tools, hidden until a client says it renders MCP Apps. Such a client
 * also loses `modelDecisions` (approve_invoice, reject_invoice): there, a person decides in the card,
 * and the model cannot. Any other client sees step 08's tools, unchanged. Step 11: `identify` is
 * server.ts's, so the card decides as the very person the tools would.
 */
export function registerApprovalCard(server: McpServer, temporal: Temporal, modelDecisions: RegisteredTool[], identify: Identify): void {
  const { withTemporal, decide, readStatus } = temporal;
  /** Everything of the card: hidden until the client says it renders MCP Apps (see "capability" below). */
  const cardParts: { enable(): void; disable(): void }[] = [];

  // #region resource
  const resource = registerAppResource(server, 'Invoice approval card', CARD_URI, { description: 'Approve or reject an invoice with a click.', _meta: { ui: CARD_META } }, async () => ({
    contents: [{ uri: CARD_URI, mimeType: RESOURCE_MIME_TYPE, text: await cardHtml(), _meta: { ui: CARD_META } }],
  }));
  cardParts.push(resource);
  // #endregion resource

  // #region review-invoice
  const review = registerAppTool(
    server,
    'review_invoice',
    {
      title: 'Show an invoice for approval',
      description:
        'Shows the user an approval card for an invoice: its lines, total, live state and deadline, with Approve and ' +
        'Reject buttons. The user decides in the card; you cannot approve or reject. Use it when the user wants to ' +
        'review or decide an invoice.',
      inputSchema: { invoice_id: invoiceIdParam },
      annotations: { readOnlyHint: true, openWorldHint: true },
      _meta: { ui: { resourceUri: CARD_URI } }, // the host renders this resource with the result
    },
    async ({ invoice_id }) => {
      const card = await withTemporal(invoice_id, async (client) => ({
        invoice: await submittedInvoice(client, invoice_id),
        status: await readStatus(client, invoice_id),
      }));
      const { status } = card;
      return reply(
        card,
        `Invoice ${invoice_id} (${status.customer}, ${status.amountDue.toFixed(2)}) is ${status.state}. ` +
          'The approval card is shown to the user, who decides there; do not ask them to tell you the decision.',
      );
    },
  );
  cardParts.push(review);
  // #endregion review-invoice

  // #region app-only-tools
  // visibility ["app"]: the host hides these from the model; only the card calls them.
  const appOnly = { ui: { resourceUri: CARD_URI, visibility: ['app' as const] } };

  const read = registerAppTool(
    server,
    'card_get_invoice',
    {
      title: 'Card: read the invoice',
      description: 'The approval card reads the live state of its invoice.',
      inputSchema: { invoice_id: invoiceIdParam },
      annotations: { readOnlyHint: true, openWorldHint: true },
      _meta: appOnly,
    },
    async ({ invoice_id }) => reply({ status: await withTemporal(invoice_id, (client) => readStatus(client, invoice_id)) }),
  );
  cardParts.push(read);

  // #region card-approve
  const approve = registerAppTool(
    server,
    'card_approve_invoice',
    {
      title: 'Card: approve the invoice',
      description: 'Sent by the approval card when a person clicks Approve.',
      inputSchema: { invoice_id: invoiceIdParam },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
      _meta: appOnly,
    },
    async ({ invoice_id }, extra) => {
      // Step 11: the person the server identified, as for approve_invoice; the card sends no name.
      const by = identify(extra);
      // The same Update as approve_invoice: its validator refuses a second decision, the submitter
      // (four eyes) and an amount over the person's limit, and the refusal comes back as this
      // tool's error, which the card shows as it is.
      const { result, status } = await withTemporal(invoice_id, async (client) => ({
        result: await decide(client, invoice_id, (handle) =>
          handle.executeUpdate(approveInvoice, { args: [{ by }], updateId: `approve-${invoice_id}-by-${by.issuer}|${by.subject}` }),
        ),
        status: await readStatus(client, invoice_id),
      }));
      return reply({ decision: result.decision, status });
    },
  );
  cardParts.push(approve);
  // #endregion card-approve

  const reject = registerAppTool(
    server,
    'card_reject_invoice',
    {
      title: 'Card: reject the invoice',
      description: 'Sent by the approval card when a person clicks Reject and gives a reason.',
      inputSchema: { invoice_id: invoiceIdParam, reason: z.string().trim().min(1).max(500).describe('Why, as typed in the card.') },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
      _meta: appOnly,
    },
    async ({ invoice_id, reason }, extra) => {
      const by = identify(extra);
      const { result, status } = await withTemporal(invoice_id, async (client) => ({
        result: await decide(client, invoice_id, (handle) =>
          handle.executeUpdate(rejectInvoice, { args: [{ by, reason }], updateId: `reject-${invoice_id}-by-${by.issuer}|${by.subject}` }),
        ),
        status: await readStatus(client, invoice_id),
      }));
      return reply({ decision: result.decision, status });
    },
  );
  cardParts.push(reject);
  // #endregion app-only-tools

  // #region capability
  // Hidden until the client says, in its initialize request, that it renders MCP Apps. Over
  // stdio that is one client for the life of the process. (A stateless HTTP server builds a
  // server per request and never sees the capabilities after initialize: there, step 08's tools.)
  for (const part of cardParts) part.disable();
  server.server.oninitialized = () => {
    const ui = getUiCapability(server.server.getClientCapabilities());
    if (!ui?.mimeTypes?.includes(RESOURCE_MIME_TYPE)) return; // step 08's tools, unchanged
    for (const part of cardParts) part.enable();
    for (const tool of modelDecisions) tool.disable(); // the model may show the card; a person decides
  };
  // #endregion capability
}

/** The invoice as it was submitted: the input of the workflow's first event, in Temporal's own record. */
async function submittedInvoice(client: Client, invoiceId: string): Promise<CardInvoice['invoice']> {
  const history = await client.workflow.getHandle(invoiceWorkflowId(invoiceId)).fetchHistory();
  const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  const invoice = input ? client.options.loadedDataConverter.payloadConverter.fromPayload<Invoice>(input) : undefined;
  if (!invoice) throw new Error(`Invoice ${invoiceId} has no submitted invoice in its history.`);
  return { id: invoice.id, customer: invoice.customer, lines: invoice.lines };
}
