// The task-augmented tool: process_invoice, where a task IS the invoice workflow. A client that
// puts `task` in its tools/call gets a task at once and follows it with tasks/get and
// tasks/result (answered by the TemporalTaskStore of task-store.ts, from Temporal); a client
// that does not gets the immediate answer of step 05. Both start the workflow through the store.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CreateTaskRequestHandlerExtra } from '@modelcontextprotocol/sdk/experimental/tasks/interfaces.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  type CallToolRequest,
  type CallToolResult,
  type CreateTaskResult,
  type ServerNotification,
  type ServerRequest,
  type ServerResult,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { parseDuration } from '../../shared/cli.js';
import { isRefusal, JsonRpcError, link, messageOf, namespace, processInvoiceInput, reply, ToolError, withTemporal, WORKER, type ProcessInvoiceInput } from './invoices.js';
import { TemporalTaskStore, type InvoiceTaskContext } from './task-store.js';
import { DEFAULT_APPROVAL_TIMEOUT } from './workflows.js';

// #region task-store
// The tasks live in Temporal, not here: one store for the whole process, holding no state. The
// server hands it to the SDK (`taskStore` in McpServer's options), which answers tasks/* with it.
export const taskStore = new TemporalTaskStore(withTemporal, { ...WORKER, namespace });
// #endregion task-store

/** What the task store needs to start the invoice: the invoice, and its timeout in milliseconds. */
function invoiceTaskContext({ approval_timeout, ...invoice }: ProcessInvoiceInput): InvoiceTaskContext & Record<string, unknown> {
  return { invoice, approvalTimeout: parseDuration(approval_timeout ?? DEFAULT_APPROVAL_TIMEOUT, 'approval_timeout') };
}

type TaskExtra = Pick<CreateTaskRequestHandlerExtra, 'taskStore' | 'taskRequestedTtl'>;

/** Registers process_invoice on the server: a task for clients that ask for one, an immediate answer for the others. */
export function registerInvoiceTask(server: McpServer): void {
  // #region process-invoice
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
}

// #region task-optional-call
/**
 * Routes the calls of a task-optional tool ourselves, because SDK v1 gets two cases wrong for a
 * long-running tool:
 * 1. Called WITHOUT `task`, the SDK creates the task and polls it until it finishes before it
 *    answers: for an invoice that waits days for a human, the call would hang, and Claude Desktop
 *    gives up after about 60 s. We answer at once instead, as step 05 did.
 * 2. Called WITH `task` but failing before the task exists, the SDK answers an error tool result
 *    that the client refuses as an "Invalid task creation result", losing the message. We answer
 *    a JSON-RPC error with its true code and one clean message: -32602 (invalid params) when the
 *    call was refused (bad input, an invoice already submitted), -32603 (internal error) when the
 *    server could not do it (Temporal away, a bug).
 * Every other tool goes on to the SDK's own handler.
 */
function routeTaskOptionalTool<Input>(
  server: McpServer,
  toolName: string,
  inputSchema: z.ZodType<Input>,
  route: {
    withTask: (input: Input, extra: TaskExtra) => Promise<CreateTaskResult>;
    withoutTask: (input: Input, extra: TaskExtra) => Promise<CallToolResult>;
  },
): void {
  const sdkToolsCall = sdkToolsCallHandler(server);
  server.server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const { params } = request;
    if (params.name !== toolName) return sdkToolsCall(request, extra);
    const taskExtra = { taskStore: extra.taskStore!, taskRequestedTtl: extra.taskRequestedTtl };
    const input = inputSchema.safeParse(params.arguments ?? {});
    const invalid = input.success ? undefined : `Invalid arguments for tool ${toolName}:\n${z.prettifyError(input.error!)}`;
    if (params.task) {
      if (invalid) throw new JsonRpcError(ErrorCode.InvalidParams, invalid);
      try {
        return await route.withTask(input.data!, taskExtra);
      } catch (err) {
        throw new JsonRpcError(isRefusal(err) ? ErrorCode.InvalidParams : ErrorCode.InternalError, messageOf(err)); // messages come from withTemporal
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

// #region sdk-workaround
type ToolsCallHandler = (request: CallToolRequest, extra: RequestHandlerExtra<ServerRequest, ServerNotification>) => Promise<ServerResult>;
/**
 * WORKAROUND (SDK 1.32): the SDK's own tools/call handler, so that calls of the other tools still
 * reach it. McpServer has no public way to read, wrap or bypass it (no hook for a task-optional
 * tool either), so this reads the private handler table of the SDK's Protocol class: check it when
 * you upgrade the SDK. The public way it needs is asked for in modelcontextprotocol/typescript-sdk#1094.
 */
function sdkToolsCallHandler(server: McpServer): ToolsCallHandler {
  const handlers = (server.server as unknown as { _requestHandlers: Map<string, ToolsCallHandler> })._requestHandlers;
  return handlers.get('tools/call')!; // registered by McpServer with its first tool
}
// #endregion sdk-workaround
