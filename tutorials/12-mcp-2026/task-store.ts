// Where the invoice tasks live: in Temporal. A task IS the invoice workflow, as in step 07; this
// file is the TaskBackend the Tasks extension (tasks.ts) answers from, so every server process, and
// every restart of one, answers every task. Step 07's TaskStore is gone with SDK v1: 2026 has no
// tasks/list and no tasks/result, and tasks/get inlines the result or the question instead.
//
// The task id: `invoice-<invoice id>.<secret>`. The first part is the workflow id (so any replica
// finds the workflow at once, with no visibility lookup that may lag); the secret is 128 random
// bits, minted when the workflow starts, and only its SHA-256 is kept, in the workflow's memo. So
// nobody who only knows the invoice id can read, answer or cancel its task, and an id is never
// reused: one workflow per invoice, ever.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import { z } from 'zod';
import { askWorker, NoWorkerError } from '../../shared/connection.js';
import { invoiceWorkflowId, type Invoice } from '../../shared/invoice.js';
import { decide, messageOf, reply, ToolError, WORKER, type withTemporal } from './invoices.js';
import { TaskRefusal, type InputRequest, type InputResponse, type TaskBackend, type TaskRecord } from './tasks.js';
import { approveInvoice, getInvoiceStatus, InvoiceWorkflow, rejectInvoice, type InvoiceStatus } from './workflows.js';

// #region task-settings
/** How long a finished task stays readable: 1 hour (the workflow itself stays as long as the namespace keeps it). */
export const TASK_TTL_MS = 60 * 60 * 1000;
/** How often a client should poll tasks/get: once a second is plenty for a human decision. */
export const POLL_INTERVAL_MS = 1_000;
// #endregion task-settings

/** Kept in the workflow's memo: what any server process needs to answer for the task. */
interface TaskMemo {
  secretSha256: string;
  ttlMs: number;
  pollIntervalMs: number;
}

// #region task-id
const TASK_ID = /^(invoice-[A-Za-z0-9][A-Za-z0-9._-]{0,63})\.([A-Za-z0-9_-]{22})$/;
const sha256 = (text: string) => createHash('sha256').update(text).digest();

/** The workflow behind a task id, if the id has the shape of ours. */
function workflowIdOf(taskId: string): { workflowId: string; secret: string } | undefined {
  const match = TASK_ID.exec(taskId);
  return match ? { workflowId: match[1], secret: match[2] } : undefined;
}

/** True when `secret` is the one minted for this workflow (compared in constant time). */
function holdsSecret(memo: TaskMemo | undefined, secret: string): boolean {
  const expected = Buffer.from(memo?.secretSha256 ?? '', 'base64url');
  const given = sha256(secret);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
// #endregion task-id

/** The form a human answers while the invoice waits: it becomes the approve or reject Update. */
const approvalAnswer = z.discriminatedUnion('decision', [
  z.object({ decision: z.literal('approve'), name: z.string().trim().min(1, 'a decision needs your name').max(100) }),
  z.object({
    decision: z.literal('reject'),
    name: z.string().trim().min(1, 'a decision needs your name').max(100),
    reason: z.string({ error: 'a rejection needs a reason' }).trim().min(1, 'a rejection needs a reason').max(500),
  }),
]);

export class TemporalTaskStore implements TaskBackend {
  constructor(private readonly temporal: typeof withTemporal) {}

  // #region start-task
  /** Starts the invoice workflow; resolves once Temporal has it, so tasks/get answers at once, anywhere. */
  async start(invoice: Invoice, approvalTimeout: number): Promise<TaskRecord> {
    const secret = randomBytes(16).toString('base64url');
    const memo: TaskMemo = { secretSha256: sha256(secret).toString('base64url'), ttlMs: TASK_TTL_MS, pollIntervalMs: POLL_INTERVAL_MS };
    return this.temporal(invoice.id, async (client) => {
      const handle = await client.workflow
        .start(InvoiceWorkflow, {
          taskQueue: WORKER.taskQueue,
          workflowId: invoiceWorkflowId(invoice.id),
          args: [invoice, { approvalTimeout }],
          workflowTaskTimeout: '3 seconds', // as in step 07: a killed worker's task moves on after 3 s
          workflowIdConflictPolicy: 'FAIL', // one workflow per invoice id, ever (as in step 05)
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          memo: { mcpTask: memo }, // the task's settings travel with the workflow, not with this process
        })
        .catch(async (err: unknown) => {
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
          const existing = client.workflow.getHandle<typeof InvoiceWorkflow>(invoiceWorkflowId(invoice.id));
          const { state } = await existing.query(getInvoiceStatus).catch(() => ({ state: 'unknown' }));
          throw new TaskRefusal(
            `Invoice ${invoice.id} was already submitted (its state is ${state}), so it was not started again: an invoice ` +
              'id is processed at most once, which is what keeps it from being paid twice. Use get_invoice_status to ' +
              'follow it, or give a different invoice its own id.',
          );
        });
      // Temporal accepted the start; describe() reads it back, so the task we report really exists.
      const { startTime } = await handle.describe();
      return { taskId: `${handle.workflowId}.${secret}`, status: 'working', statusMessage: `Invoice ${invoice.id} is VALIDATING.`, createdAt: startTime, lastUpdatedAt: startTime, ttlMs: memo.ttlMs, pollIntervalMs: memo.pollIntervalMs };
    });
  }
  // #endregion start-task

  // #region get-task
  /** The task as the workflow tells it now; undefined for an unknown id, a wrong secret or a passed TTL. */
  async get(taskId: string): Promise<TaskRecord | undefined> {
    const ids = workflowIdOf(taskId);
    if (!ids) return undefined;
    return this.temporal(undefined, async (client) => {
      const description = await describe(client, ids.workflowId);
      const memo = description?.memo?.mcpTask as TaskMemo | undefined;
      if (!description || !memo || !holdsSecret(memo, ids.secret)) return undefined;
      if (description.closeTime && description.closeTime.getTime() + memo.ttlMs < Date.now()) return undefined;
      return toTask(taskId, description, memo, await invoiceOf(client, description));
    });
  }
  // #endregion get-task

  // #region update-task
  /** The human's answer to the approval form, sent as the approve or reject Update; true once the workflow took it. */
  async update(taskId: string, answers: Record<string, InputResponse>): Promise<void> {
    const answer = answers.decision as { action?: string; content?: unknown } | undefined;
    if (!answer) throw new TaskRefusal(`tasks/update for ${taskId} carries no answer to "decision", the one question this task asks; nothing was changed.`);
    if (answer.action !== 'accept') return; // declined or dismissed: the invoice keeps waiting, unchanged
    // #exercise answer-to-update "Part B: the answer, through the Update"
    const parsed = approvalAnswer.safeParse(answer.content);
    if (!parsed.success) {
      throw new TaskRefusal(`The answer to "decision" is not valid (${parsed.error.issues.map((i) => i.message).join('; ')}); the invoice still awaits a decision, unchanged.`);
    }
    const given = parsed.data;
    const invoiceId = workflowIdOf(taskId)!.workflowId.replace(/^invoice-/, '');
    await this.temporal(invoiceId, async (client) => {
      try {
        await decide(client, invoiceId, (handle) =>
          given.decision === 'approve'
            ? handle.executeUpdate(approveInvoice, { args: [{ by: given.name }], updateId: `approve-${invoiceId}-by-${given.name}` })
            : handle.executeUpdate(rejectInvoice, { args: [{ by: given.name, reason: given.reason }], updateId: `reject-${invoiceId}-by-${given.name}` }),
        );
      } catch (err) {
        // The validator's refusal ("already approved by alice ..."), or an invoice that has finished:
        // the caller's mistake, told as it is.
        if (err instanceof WorkflowUpdateFailedError) throw new TaskRefusal(messageOf(err.cause));
        throw err instanceof ToolError ? new TaskRefusal(err.message) : err;
      }
    });
    // #endexercise
  }
  // #endregion update-task

  // #region cancel-task
  /**
   * Cancels the invoice workflow, with a reason, while nothing is paid yet; a PAYING invoice is
   * refused (stopping it would leave it half-paid) and the workflow pays in a scope no cancellation
   * reaches, for the race where an approval and a cancellation cross. Answers once it has ended.
   */
  async cancel(taskId: string): Promise<void> {
    const { workflowId } = workflowIdOf(taskId)!;
    await this.temporal(workflowId.replace(/^invoice-/, ''), async (client) => {
      const handle = client.workflow.getHandle<typeof InvoiceWorkflow>(workflowId);
      const { state } = await askWorker(client, WORKER, () => handle.query(getInvoiceStatus));
      if (state === 'PAYING') throw new TaskRefusal(`Invoice ${workflowId} is PAYING, so it was not cancelled: stopping now would leave it half-paid. Nothing was changed.`);
      await client.workflowService.requestCancelWorkflowExecution({
        namespace: client.options.namespace,
        workflowExecution: { workflowId },
        identity: client.options.identity,
        requestId: randomUUID(),
        reason: 'MCP tasks/cancel',
      });
      await handle.result().catch(() => {});
    });
  }
  // #endregion cancel-task

  // #region task-changes
  /**
   * Yields each time the workflow's history grows: Temporal's long poll (`waitNewEvent`) answers
   * only when there is a new event, so a quiet task costs one open call and no reads. Ends when
   * the workflow has closed or `signal` aborts.
   */
  async *changes(taskId: string, signal: AbortSignal): AsyncGenerator<void> {
    const ids = workflowIdOf(taskId);
    if (!ids) return;
    let nextPageToken: Uint8Array | undefined;
    while (!signal.aborted) {
      const page = await this.temporal(undefined, (client) =>
        client.connection.withAbortSignal(signal, () =>
          client.connection.withDeadline(Date.now() + 30_000, () =>
            client.workflowService.getWorkflowExecutionHistory({ namespace: client.options.namespace, execution: { workflowId: ids.workflowId }, nextPageToken, waitNewEvent: true }),
          ),
        ),
      ).catch(() => undefined); // a long poll that timed out, or Temporal away for a moment: ask again
      if (signal.aborted) return;
      if (!page) {
        await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS)); // not in a tight loop
        continue;
      }
      if (page.history?.events?.length) yield;
      if (!page.nextPageToken?.length) return; // the workflow has closed: no more events will come
      nextPageToken = page.nextPageToken;
    }
  }
  // #endregion task-changes
}

/** The workflow, if it is one of this step's invoices. */
async function describe(client: Client, workflowId: string): Promise<WorkflowExecutionDescription | undefined> {
  try {
    const description = await client.workflow.getHandle(workflowId).describe();
    return description.type === 'InvoiceWorkflow' && description.taskQueue === WORKER.taskQueue ? description : undefined;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/** What the invoice says about itself: a query while it runs, its result once it has completed. */
async function invoiceOf(client: Client, wf: WorkflowExecutionDescription): Promise<InvoiceStatus | { note: string } | undefined> {
  const handle = client.workflow.getHandle<typeof InvoiceWorkflow>(wf.workflowId);
  if (wf.status.name === 'RUNNING') return askWorker(client, WORKER, () => handle.query(getInvoiceStatus)).catch((err: unknown) => (err instanceof NoWorkerError ? { note: err.message } : Promise.reject(err)));
  if (wf.status.name === 'COMPLETED') return handle.result();
  if (wf.status.name === 'FAILED') return handle.result().then(() => undefined, (err: unknown) => ({ note: rootMessage(err) }));
  return undefined;
}

// #region status-mapping
/** Temporal's status and the invoice's state → the MCP task, with its question or its result. */
function toTask(taskId: string, wf: WorkflowExecutionDescription, memo: TaskMemo, invoice: Awaited<ReturnType<typeof invoiceOf>>): TaskRecord {
  const id = wf.workflowId.replace(/^invoice-/, '');
  const status = invoice && 'state' in invoice ? invoice : undefined;
  const decidedAt = status?.decision?.at;
  const base = { taskId, createdAt: wf.startTime, lastUpdatedAt: wf.closeTime ?? (decidedAt ? new Date(decidedAt) : wf.startTime), ttlMs: memo.ttlMs, pollIntervalMs: memo.pollIntervalMs };
  // #exercise task-status "Part A: the invoice as a 2026 task"
  switch (wf.status.name) {
    case 'RUNNING':
      if (status?.state === 'AWAITING_APPROVAL') return { ...base, status: 'input_required', statusMessage: `Invoice ${id} awaits a human decision until ${status.approvalDeadline}.`, inputRequests: { decision: approvalForm(status) } };
      return { ...base, status: 'working', statusMessage: invoice && 'note' in invoice ? invoice.note : `Invoice ${id} is ${status?.state ?? 'running'}.` };
    case 'COMPLETED': // PAID, REJECTED or TIMED_OUT: the invoice's own final status is the tool's result
      return { ...base, status: 'completed', statusMessage: `Invoice ${id} finished: ${status?.state}.`, result: reply({ ...status! }) };
    case 'FAILED': // the invoice could not be paid (a declined card, a mismatch): the tool ran and failed
      return { ...base, status: 'completed', statusMessage: `Invoice ${id} failed.`, result: { content: [{ type: 'text', text: invoice && 'note' in invoice ? invoice.note : 'The invoice failed.' }], isError: true } };
    case 'CANCELLED':
      return { ...base, status: 'cancelled', statusMessage: `Invoice ${id} was cancelled before anything was paid.` };
    default: // TERMINATED by an operator, or the workflow's own timeout: no answer from the tool at all
      return { ...base, status: 'failed', error: { code: -32603, message: `Invoice ${id}'s workflow ${wf.status.name.toLowerCase()}; see the Web UI for why.` } };
  }
  // #endexercise
}
// #endregion status-mapping

/** The approval form, as an elicitation the client shows a human; answered with tasks/update. */
function approvalForm(status: InvoiceStatus): InputRequest {
  const lines = status.linesTotal === 1 ? '1 line' : `${status.linesTotal} lines`;
  return {
    method: 'elicitation/create',
    params: {
      mode: 'form',
      message: `Invoice ${status.invoiceId} from ${status.customer}: ${status.amountDue} in ${lines}, awaiting approval until ${status.approvalDeadline}. Approve or reject it?`,
      requestedSchema: {
        type: 'object',
        properties: {
          decision: { type: 'string', title: 'Decision', enum: ['approve', 'reject'] },
          name: { type: 'string', title: 'Your name', minLength: 1, maxLength: 100 },
          reason: { type: 'string', title: 'Reason (required when rejecting)', maxLength: 500 },
        },
        required: ['decision', 'name'],
      },
    },
  };
}

/** The innermost message: "insufficient funds ...", not "Workflow execution failed". */
function rootMessage(err: unknown): string {
  let e = err;
  while (e instanceof Error && e.cause) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}
