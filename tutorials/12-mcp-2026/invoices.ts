// The invoices as every tool of this step reaches them: one Temporal client, a deadline on each
// call, errors a user can act on, and the shapes tools answer with. Step 06 kept all this in
// server.ts; here server.ts and each feature module (invoice-task.ts, bounded-wait.ts,
// task-store.ts) import it, so each file teaches one idea.
import type { CallToolResult } from '@modelcontextprotocol/server';
import { Client, Connection, isGrpcServiceError, WorkflowNotFoundError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { z } from 'zod';
import { loadTemporalSettings, workflowUrl } from '../../shared/config.js';
import { askWorker, NoWorkerError, TemporalUnreachableError } from '../../shared/connection.js';
import { InvoiceSchema, invoiceWorkflowId } from '../../shared/invoice.js';
import { log } from '../../shared/log.js';
import { TaskRefusal } from './tasks.js';
import { DEFAULT_APPROVAL_TIMEOUT, getInvoiceStatus, INVOICE_STATES, InvoiceWorkflow, TASK_QUEUE, type DecisionResult, type InvoiceStatus } from './workflows.js';

/** The worker that must run for these tools to get answers; named in "no worker" messages. */
export const WORKER = { taskQueue: TASK_QUEUE, workerScript: 'tutorials/07-mcp-native/worker.ts' };
/** Every Temporal call of a tool gets this long; then the tool says what is wrong instead of hanging. */
const DEADLINE_MS = 5_000;
/** How often a wait or a subscription looks at the invoice. */
export const WAIT_POLL_MS = 500;

// #region temporal-client
// One Temporal client for the whole process, connected on the first tool call (so the server
// starts, and lists its tools, even while Temporal is down) and connected again on the next call
// if that failed. Settings come from the environment, as for the worker.
const config = loadClientConnectConfig();
export const address = config.connectionOptions.address ?? 'localhost:7233';
export const namespace = config.namespace ?? 'default';
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
export async function withTemporal<T>(invoiceId: string | undefined, fn: (client: Client) => Promise<T>): Promise<T> {
  try {
    const client = await temporal();
    return await client.connection.withDeadline(Date.now() + DEADLINE_MS, () => fn(client));
  } catch (err) {
    const message = explain(err, invoiceId);
    log('mcp', `tool error: ${message}`);
    // A refusal keeps its class, so the Tasks extension can answer it as invalid params (tasks.ts);
    // anything else is the server's trouble. The SDK turns either into an isError tool result.
    throw isRefusal(err) ? err : new Error(message);
  }
}
// #endregion temporal-client

/** Closes the Temporal connection, if one was made; for a clean exit. */
export async function closeTemporal(): Promise<void> {
  await connecting?.then((client) => client.connection.close()).catch(() => {});
}

// #region schemas
export const invoiceIdParam = z
  .string()
  .min(1)
  .max(64)
  .describe('The invoice id given to process_invoice, e.g. "INV-1001" (not the workflow id).');
export const personParam = (what: string) => z.string().trim().min(1).max(100).describe(`Name of the person ${what}, as the user gave it.`);

// The states come from the workflow, and the shape is checked against its InvoiceStatus type:
// a state or field added to the workflow and not here fails to compile.
export const stateSchema = z.enum(INVOICE_STATES);
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
export const statusShape = {
  ...invoiceStatusShape,
  workflowId: z.string(),
  executionStatus: z.string().describe("Temporal's status of the workflow: RUNNING, COMPLETED, FAILED, TERMINATED, ..."),
  webUiUrl: z.string(),
};
export const decisionShape = {
  invoiceId: z.string(),
  previousState: stateSchema,
  decision: decisionSchema,
  message: z.string(),
  webUiUrl: z.string(),
} satisfies { [K in keyof DecisionResult]: z.ZodType<DecisionResult[K]> } & Record<string, z.ZodType>;

export const processInvoiceInput = convertOnce(
  InvoiceSchema.extend({
    approval_timeout: z
      .string()
      .max(40)
      .optional()
      .describe(`How long to wait for a decision, e.g. "2 hours" or "3 days". Default "${DEFAULT_APPROVAL_TIMEOUT}".`),
  }),
);
export type ProcessInvoiceInput = z.infer<typeof processInvoiceInput>;
// #endregion schemas

// #region convert-once
/**
 * A tool's schema, converted to JSON Schema once for the whole process. Every request builds a fresh
 * server (that is what makes it stateless), and the SDK converts each tool's schemas again for every
 * tools/list and every tools/call with an output schema: most of a request's CPU. Memoized here, on
 * the schema's own Standard Schema interface, it costs that once.
 */
export function convertOnce<T extends z.ZodType>(schema: T): T {
  const standard = schema['~standard'];
  const cache = new Map<string, Record<string, unknown>>();
  const memo = (io: 'input' | 'output') => (options: { target: string }) => {
    const key = `${io} ${options.target}`;
    if (!cache.has(key)) cache.set(key, standard.jsonSchema[io](options));
    return cache.get(key)!;
  };
  (schema as { '~standard': unknown })['~standard'] = { ...standard, jsonSchema: { input: memo('input'), output: memo('output') } };
  return schema;
}
// #endregion convert-once

/** A tool result: the object as structured content, and as JSON text for hosts that show only text. */
export function reply<T extends Record<string, unknown>>(value: T): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }], structuredContent: value };
}

// Read once: every reply carries a link, and reading the settings (a config file) per request costs CPU.
const settings = loadTemporalSettings();
export const link = (invoiceId: string) => workflowUrl(invoiceWorkflowId(invoiceId), settings);

/** get_invoice_status's answer: the workflow's own status plus Temporal's view of it. */
export function readInvoice(invoiceId: string) {
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
export async function decide(client: Client, invoiceId: string, update: (handle: WorkflowHandle<typeof InvoiceWorkflow>) => Promise<DecisionResult>) {
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
/** An error whose message is already written for the user: the request was refused, not failed. */
export class ToolError extends Error {}

/** A refusal of what the caller asked (a bad answer, an invoice already submitted), not a failure of the server. */
export const isRefusal = (err: unknown): err is ToolError | TaskRefusal => err instanceof ToolError || err instanceof TaskRefusal;

/** Temporal's errors, as messages a user (or the assistant reading them) can act on. */
function explain(err: unknown, invoiceId: string | undefined): string {
  if (isRefusal(err) || err instanceof TemporalUnreachableError || err instanceof NoWorkerError) return err.message;
  if (err instanceof WorkflowUpdateFailedError) return messageOf(err.cause); // the validator's refusal, e.g. "already approved by alice"
  if (err instanceof WorkflowNotFoundError) {
    return `No invoice "${invoiceId}" was found (no workflow ${err.workflowId} in namespace ${namespace}). Check the id; list_invoices shows recent invoices.`;
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

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
