// The MCP server: step 06's tools, plus what MCP itself offers for long-running work, each in its
// own module and used only where the connected client supports it:
// - process_invoice, a task-augmented tool: a task IS the invoice workflow (invoice-task.ts,
//   over the TaskStore of task-store.ts), so tasks outlive this process;
// - request_approval asks the human with a form: elicitation (elicitation.ts);
// - wait_for_invoice waits at most 50 s, with progress notifications (bounded-wait.ts);
// - the resource invoice://{id}, with subscriptions that notify when it changes (subscriptions.ts).
// This file keeps the server, the plain tools and the transports; invoices.ts is how every tool
// reaches Temporal.
//
//   npx tsx tutorials/07-mcp-native/server.ts                      # stdio: what Claude Desktop launches
//   npx tsx tutorials/07-mcp-native/server.ts --http --port 3000   # Streamable HTTP on 127.0.0.1
//
// stdout is the protocol channel on stdio: this file never writes to it. Logs go to stderr.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import { isEntryPoint, log, runMain } from '../../shared/log.js';
import { createHttpApp, listenHttp, parseServeArgs } from '../../shared/mcp.js';
import { registerBoundedWait } from './bounded-wait.js';
import { registerApprovalByForm } from './elicitation.js';
import { registerInvoiceTask, taskStore } from './invoice-task.js';
import {
  address,
  closeTemporal,
  decide,
  decisionShape,
  invoiceIdParam,
  link,
  namespace,
  personParam,
  readInvoice,
  reply,
  stateSchema,
  statusShape,
  withTemporal,
} from './invoices.js';
import { registerInvoiceResource } from './subscriptions.js';
import { approveInvoice, getInvoiceStatus, INVOICE_STATES, rejectInvoice, TASK_QUEUE } from './workflows.js';

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
      // Step 07: tasks (tasks/get, tasks/result, tasks/list, tasks/cancel), answered from Temporal.
      taskStore,
      capabilities: {
        tasks: { requests: { tools: { call: {} } }, list: {}, cancel: {} },
        // Subscriptions need a connection to send the notification on later: stdio only here.
        ...(mode.connected ? { resources: { subscribe: true } } : {}),
      },
    },
  );
  // #endregion capabilities

  // #region features
  // Step 07: each feature registers itself; read its module to see the SDK calls it makes.
  registerInvoiceTask(server); // process_invoice: a task for clients that ask, an immediate answer for others
  registerApprovalByForm(server, mode); // request_approval: elicitation
  registerBoundedWait(server); // wait_for_invoice: a bounded wait with progress
  registerInvoiceResource(server, mode); // invoice://{id}, with subscriptions on stdio
  // #endregion features

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

  return server;
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
