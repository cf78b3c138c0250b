// The MCP server of step 07, on the MCP of 2026: the SDK v2 (@modelcontextprotocol/server), one
// factory that builds the server, and one endpoint that speaks both wire revisions:
// - 2026-07-28, stateless: no initialize, no session; each request carries its own _meta (revision,
//   client capabilities), so any replica answers any request;
// - 2025-11-25 (Claude Desktop, step 07's clients), through the SDK's stateless legacy fallback.
// What step 07 did with MCP's long-running features, this step does with 2026's:
// - process_invoice, a task of the Tasks extension (tasks.ts), answered from Temporal (task-store.ts);
//   the approval is the task's question, answered with tasks/update (no server-to-client request);
// - a large invoice asks before anything starts: a multi round-trip with a signed requestState;
// - notifications/tasks over subscriptions/listen, from the workflow's own history.
//
//   npx tsx tutorials/12-mcp-2026/server.ts                      # stdio: what Claude Desktop launches
//   npx tsx tutorials/12-mcp-2026/server.ts --http --port 3000   # Streamable HTTP on 127.0.0.1
//
// stdout is the protocol channel on stdio: this file never writes to it. Logs go to stderr.
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler, McpServer, ResourceTemplate } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { z } from 'zod';
import { isEntryPoint, log, runMain } from '../../shared/log.js';
import { createHttpApp, listenHttp, parseServeArgs } from '../../shared/mcp.js';
import { registerBoundedWait } from './bounded-wait.js';
import { CONFIRM_ABOVE, registerInvoiceTask, requestStateCodec, taskStore } from './invoice-task.js';
import { address, closeTemporal, convertOnce, decide, decisionShape, invoiceIdParam, link, namespace, personParam, readInvoice, reply, stateSchema, statusShape, withTemporal } from './invoices.js';
import { serveTasks, withTaskNotifications } from './tasks.js';
import { approveInvoice, DEFAULT_APPROVAL_TIMEOUT, getInvoiceStatus, INVOICE_STATES, rejectInvoice, TASK_QUEUE } from './workflows.js';

// Built once for the process, not per request, each converted to JSON Schema once (convertOnce).
const approveInput = convertOnce(z.object({ invoice_id: invoiceIdParam, approved_by: personParam('approving') }));
const rejectInput = convertOnce(
  z.object({
    invoice_id: invoiceIdParam,
    rejected_by: personParam('rejecting'),
    reason: z.string().trim().min(1).max(500).describe("Why the invoice is rejected, in the user's words."),
  }),
);
const decisionOutput = convertOnce(z.object(decisionShape));
const statusInput = convertOnce(z.object({ invoice_id: invoiceIdParam }));
const statusOutput = convertOnce(z.object(statusShape));
const listInput = convertOnce(
  z.object({
    state: stateSchema.optional().describe('Only invoices in this state.'),
    limit: z.number().int().min(1).max(100).default(20).describe('How many invoices to return at most (1-100).'),
  }),
);

// #region factory
/**
 * Builds the MCP server with its tools, resources and prompt. Cheap, and holding nothing: the HTTP
 * endpoint builds one per request, of either revision; stdio builds one per connection.
 */
export function createServer(): McpServer {
  const server = new McpServer(
    { name: 'invoice-approvals', version: '2.0.0' },
    {
      instructions:
        'Tools to submit invoices for payment, follow them, and approve or reject them. Invoices wait durably ' +
        'for a human decision (5 days by default): process_invoice returns at once (as a task, for clients with ' +
        'the Tasks extension), so call get_invoice_status or wait_for_invoice later instead of waiting. Only ' +
        'approve or reject when the user explicitly says so.',
      // No list ever changes while the server runs, so no listen stream needs to hear about it.
      capabilities: { tools: { listChanged: false }, resources: { listChanged: false }, prompts: { listChanged: false } },
      // 2026 results say how long they may be cached: the tool list is the same for every caller.
      cacheHints: { 'tools/list': { ttlMs: 60_000, cacheScope: 'public' }, 'server/discover': { ttlMs: 60_000, cacheScope: 'public' } },
      // The second round of a multi round-trip is verified before the tool runs (invoice-task.ts).
      requestState: { verify: requestStateCodec.verify },
    },
  );
  registerInvoiceTask(server); // process_invoice: a task for clients that declare tasks, an immediate answer for others
  registerBoundedWait(server); // wait_for_invoice: a bounded wait with progress
  registerDecisions(server);
  registerReadTools(server);
  registerReadables(server);
  serveTasks(server, taskStore); // last: the Tasks extension, answered from Temporal
  return server;
}
// #endregion factory

function registerDecisions(server: McpServer): void {
  // #region approve-invoice
  server.registerTool(
    'approve_invoice',
    {
      title: 'Approve an invoice (it will be paid)',
      description:
        'Approves an invoice that is AWAITING_APPROVAL; its lines are then paid. Irreversible: only call this when ' +
        'the user explicitly approves. Answers only once the invoice has taken the approval; fails with a clear ' +
        'message (naming any earlier decision) if it is not awaiting approval.',
      inputSchema: approveInput,
      outputSchema: decisionOutput,
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
    },
    async ({ invoice_id, approved_by }) => {
      // An Update, not a signal: the workflow validates the decision and answers, so this reply is true.
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
      inputSchema: rejectInput,
      outputSchema: decisionOutput,
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
}

function registerReadTools(server: McpServer): void {
  server.registerTool(
    'get_invoice_status',
    {
      title: 'Get the status of an invoice',
      description:
        `Returns where an invoice stands: its state (${INVOICE_STATES.join(', ')}), lines paid so far, the decision ` +
        'and who made it, the approval deadline, and a Web UI link.',
      inputSchema: statusInput,
      outputSchema: statusOutput,
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    async ({ invoice_id }) => reply({ ...(await readInvoice(invoice_id)), webUiUrl: link(invoice_id) }),
  );

  server.registerTool(
    'list_invoices',
    {
      title: 'List recent invoices',
      description: 'Lists the most recent invoices with their states, e.g. to answer "what is waiting for my approval?" (state AWAITING_APPROVAL).',
      inputSchema: listInput,
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    async ({ state, limit }) => {
      const invoices = await withTemporal(undefined, async (client) => {
        // Temporal's visibility store lists workflows; a query per invoice adds its live state.
        const found = [];
        for await (const wf of client.workflow.list({ query: `WorkflowType = 'InvoiceWorkflow' AND TaskQueue = '${TASK_QUEUE}'` })) {
          const status = await client.workflow.getHandle(wf.workflowId, wf.runId).query(getInvoiceStatus).catch(() => undefined);
          if (!state || status?.state === state) found.push({ invoiceId: wf.workflowId.replace(/^invoice-/, ''), state: status?.state ?? null, executionStatus: wf.status.name, amountDue: status?.amountDue ?? null });
          if (found.length >= limit) break;
        }
        return found;
      });
      return reply({ invoices });
    },
  );
}

// #region readables
/** What a client can read without calling a tool: each invoice, the approval policy, and a prompt. */
function registerReadables(server: McpServer): void {
  server.registerResource(
    'invoice',
    new ResourceTemplate('invoice://{id}', { list: undefined }),
    { title: 'An invoice and where it stands', description: 'The status of invoice {id}, as get_invoice_status returns it.', mimeType: 'application/json' },
    async (uri, { id }) => ({ contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ ...(await readInvoice(String(id))), webUiUrl: link(String(id)) }, null, 2) }] }),
  );
  server.registerResource(
    'approval-policy',
    'invoices://approval-policy',
    { title: 'How invoices are approved', description: 'The rules process_invoice and the approvals follow.', mimeType: 'text/markdown', cacheHint: { ttlMs: 3_600_000, cacheScope: 'public' } },
    async (uri) => ({
      contents: [{
        uri: uri.href,
        mimeType: 'text/markdown',
        text: `- An invoice above ${CONFIRM_ABOVE} is confirmed by the user before it is submitted.\n- A submitted invoice waits for a human decision, ${DEFAULT_APPROVAL_TIMEOUT} by default, then is TIMED_OUT and nothing is paid.\n- Only a person approves or rejects; the first decision is final.\n`,
      }],
    }),
  );
  server.registerPrompt(
    'review_invoice',
    { title: 'Review an invoice with me', description: 'Looks an invoice up and asks the user whether to approve it.', argsSchema: statusInput },
    ({ invoice_id }) => ({
      messages: [{ role: 'user', content: { type: 'text', text: `Look up invoice ${invoice_id} with get_invoice_status, summarize it for me, and ask me whether to approve or reject it. Do not decide on your own.` } }],
    }),
  );
}
// #endregion readables

// #region serve
/** Serves on stdio, or on Streamable HTTP with `--http`, until stopped. */
async function main(): Promise<void> {
  const options = parseServeArgs();
  let stopServing: () => Promise<void>;
  if (!options.http) {
    // stdio: the host starts this process and speaks either revision on its stdin and stdout.
    const stdio = serveStdio(createServer);
    log('mcp', 'serving on stdio');
    stopServing = () => stdio.close();
    process.stdin.on('close', () => void stop()); // the host closed our stdin: it is done with us
  } else {
    // One endpoint, both revisions: 2026-07-28 requests are served by a fresh server from the
    // factory each; 2025-11-25 requests (no _meta envelope) by the SDK's stateless legacy fallback,
    // from the same factory. A listen stream for task ids is served by the Tasks extension.
    const handler = createMcpHandler(createServer, { legacy: 'stateless', onerror: (err) => log('mcp', err.message) });
    const endpoint = toNodeHandler(withTaskNotifications(handler, taskStore));
    const app = createHttpApp(options); // Host and Origin checks (DNS rebinding), JSON bodies
    app.post('/mcp', (req, res) => endpoint(req, res, req.body));
    const http = await listenHttp(app, options);
    stopServing = async () => {
      await handler.close();
      await http.close();
    };
  }
  log('mcp', `Temporal at ${address}, namespace ${namespace}, task queue ${TASK_QUEUE}`);

  async function stop() {
    await stopServing();
    await closeTemporal();
    process.exit(0);
  }
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}
// #endregion serve

if (isEntryPoint(import.meta.url)) runMain(main);
