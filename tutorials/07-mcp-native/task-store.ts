// The MCP SDK's TaskStore, implemented over Temporal: a task IS an invoice workflow. Nothing about
// a task lives in this process, so any MCP server process (a restarted one, or a second replica)
// answers tasks/get, tasks/result, tasks/list and tasks/cancel (MCP 2025-11-25) for any task.
//
//   taskId          = the workflow id, `invoice-<invoice id>`: stable, and found again by any server
//   status          = the workflow's Temporal status plus the invoice's state (a query)
//   result          = the workflow's result (its final InvoiceStatus)
//   ttl, pollInterval = kept in the workflow's memo, so they outlive the server that set them
//   sessions        = ignored on purpose: see "Who may see a task" in the README
import { randomUUID } from 'node:crypto';
import type { CreateTaskOptions, TaskStore } from '@modelcontextprotocol/sdk/experimental/tasks/interfaces.js';
import type { CallToolResult, Request, RequestId, Result, Task } from '@modelcontextprotocol/sdk/types.js';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, WorkflowNotFoundError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import { askWorker, NoWorkerError } from '../../shared/connection.js';
import { invoiceWorkflowId, type Invoice } from '../../shared/invoice.js';
import { getInvoiceStatus, InvoiceWorkflow, type InvoiceState, type InvoiceStatus } from './workflows.js';

/** How a task's Temporal calls are run: the server's shared client, with its deadline and readable errors. */
export type WithTemporal = <T>(invoiceId: string | undefined, fn: (client: Client) => Promise<T>) => Promise<T>;

/** What process_invoice hands to createTask (as `context`): the invoice to start. */
export interface InvoiceTaskContext {
  invoice: Invoice;
  approvalTimeout: number;
}

/** Kept in the workflow's memo: the task's settings, readable by every server process. */
interface TaskMemo {
  ttl: number | null;
  pollInterval: number;
}

// #region task-settings
/** How long a finished task's result stays readable, unless the client asks otherwise: 1 hour. */
export const DEFAULT_TTL_MS = 60 * 60 * 1000;
/** How often a client should poll tasks/get, unless it asks otherwise; also how often tasks/result looks. */
export const DEFAULT_POLL_INTERVAL_MS = 1_000;
/** Polling faster than this only loads Temporal. */
const MIN_POLL_INTERVAL_MS = 250;
// #endregion task-settings

/** An error whose message is already written for the user. */
export class TaskError extends Error {}

/** The invoice of a task id: `invoice-INV-1` → `INV-1`; undefined for an id that is not ours. */
export function invoiceIdOf(taskId: string): string | undefined {
  return /^invoice-(.{1,64})$/.exec(taskId)?.[1];
}

export class TemporalTaskStore implements TaskStore {
  constructor(
    private readonly withTemporal: WithTemporal,
    private readonly where: { taskQueue: string; workerScript: string; namespace: string },
  ) {}

  // #region create-task
  /** Starts the invoice workflow; resolves only once Temporal has it, with the task as Temporal sees it. */
  async createTask(params: CreateTaskOptions, _requestId: RequestId, _request: Request, _sessionId?: string): Promise<Task> {
    const { invoice, approvalTimeout } = params.context as unknown as InvoiceTaskContext;
    const memo: TaskMemo = {
      ttl: await this.allowedTtl(params.ttl),
      pollInterval: Math.max(MIN_POLL_INTERVAL_MS, params.pollInterval ?? DEFAULT_POLL_INTERVAL_MS),
    };
    return this.withTemporal(invoice.id, async (client) => {
      const handle = await client.workflow
        .start(InvoiceWorkflow, {
          taskQueue: this.where.taskQueue,
          workflowId: invoiceWorkflowId(invoice.id),
          args: [invoice, { approvalTimeout }],
          // As in step 06: a worker killed while it holds one of this invoice's workflow tasks is noticed
          // after this long, and the task goes to another worker: 10 s by default, 3 s here, as
          // the payments' heartbeat timeout. Too short for a worker that is slow to process a task
          // costs only a retry of that task, never a wrong result.
          workflowTaskTimeout: '3 seconds',
          workflowIdConflictPolicy: 'FAIL', // one workflow per invoice id, ever (as in step 05)
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          memo: { mcpTask: memo }, // the task's settings travel with the workflow, not with this process
        })
        .catch(async (err: unknown) => {
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
          const handle = client.workflow.getHandle<typeof InvoiceWorkflow>(invoiceWorkflowId(invoice.id));
          const { state } = await handle.query(getInvoiceStatus).catch(() => ({ state: 'unknown' }));
          throw new TaskError(
            `Invoice ${invoice.id} was already submitted (its state is ${state}), so it was not started again: an invoice ` +
              'id is processed at most once, which is what keeps it from being paid twice. Use get_invoice_status (or ' +
              `tasks/get ${handle.workflowId}) to follow it, or give a different invoice its own id.`,
          );
        });
      // Temporal accepted the start; describe() reads it back, so the task we report really exists.
      return toTask(await handle.describe(), memo, { state: 'VALIDATING' });
    });
  }
  // #endregion create-task

  // #region get-task
  /** The task as Temporal sees it now; null when there is no such invoice or its TTL has passed. */
  async getTask(taskId: string, _sessionId?: string): Promise<Task | null> {
    const invoiceId = invoiceIdOf(taskId);
    if (!invoiceId) return null;
    return this.withTemporal(invoiceId, async (client) => {
      const description = await this.describe(client, taskId);
      if (!description) return null;
      const memo = memoOf(description);
      if (expired(description, memo)) return null;
      return toTask(description, memo, await this.invoiceOf(client, description));
    });
  }
  // #endregion get-task

  // #region get-task-result
  /** The workflow's result as a tool result: the final invoice status, or why it failed or was cancelled. */
  async getTaskResult(taskId: string, _sessionId?: string): Promise<Result> {
    const invoiceId = invoiceIdOf(taskId) ?? taskId;
    return this.withTemporal(invoiceId, async (client): Promise<CallToolResult> => {
      const description = await this.describe(client, taskId);
      if (!description || expired(description, memoOf(description))) throw new TaskError(`No task ${taskId}: no such invoice, or its TTL has passed.`);
      if (description.status.name === 'RUNNING') throw new TaskError(`Task ${taskId} has not finished yet; tasks/get shows where it stands.`);
      try {
        // From the workflow's history: no worker needed, however long ago it finished.
        const status = await client.workflow.getHandle<typeof InvoiceWorkflow>(taskId).result();
        return { content: [{ type: 'text', text: JSON.stringify(status, null, 2) }], structuredContent: { ...status } };
      } catch (err) {
        if (!(err instanceof WorkflowFailedError)) throw err;
        return { content: [{ type: 'text', text: closedMessage(invoiceId, description, err) }], isError: true };
      }
    });
  }
  // #endregion get-task-result

  // #region cancel-task
  /**
   * The SDK calls this with 'cancelled' for tasks/cancel. Cancelling asks the workflow to cancel,
   * with a reason, and only while nothing is paid yet: a PAYING invoice is refused (cancelling it
   * could leave it half-paid), and the workflow pays its lines in a scope no cancellation reaches,
   * in case an approval and a cancellation cross. Other statuses come from the workflow itself,
   * so the SDK's 'input_required' (set when it sends a request for a task) changes nothing.
   */
  async updateTaskStatus(taskId: string, status: Task['status'], statusMessage?: string, _sessionId?: string): Promise<void> {
    if (status !== 'cancelled') return;
    const invoiceId = invoiceIdOf(taskId);
    if (!invoiceId) throw new TaskError(`No task ${taskId}.`);
    await this.withTemporal(invoiceId, async (client) => {
      const handle = client.workflow.getHandle<typeof InvoiceWorkflow>(taskId);
      const { state } = await askWorker(client, this.where, () => handle.query(getInvoiceStatus));
      if (state !== 'VALIDATING' && state !== 'AWAITING_APPROVAL') {
        throw new TaskError(
          `Invoice ${invoiceId} is ${state}, so it was not cancelled: ${state === 'PAYING' ? 'its lines are being paid, and stopping now would leave it half-paid' : 'it has finished'}. Nothing was changed.`,
        );
      }
      // handle.cancel() takes no reason; the service call does, and the Web UI shows it in the history.
      await client.workflowService.requestCancelWorkflowExecution({
        namespace: this.where.namespace,
        workflowExecution: { workflowId: taskId },
        identity: client.options.identity,
        requestId: randomUUID(),
        reason: statusMessage ?? 'MCP tasks/cancel',
      });
      // Answer once the workflow has really ended, so the task the SDK reads next says so.
      await handle.result().catch(() => {});
    });
  }
  // #endregion cancel-task

  /** Results are the workflow's own (its return value, kept by Temporal): nothing to store here. */
  async storeTaskResult(taskId: string): Promise<void> {
    throw new TaskError(`Task ${taskId}'s result is the invoice workflow's own result; it cannot be set from outside.`);
  }

  // #region list-tasks
  /** Invoices of this step, newest first, from Temporal's visibility store; the cursor is an offset. */
  async listTasks(cursor?: string, _sessionId?: string): Promise<{ tasks: Task[]; nextCursor?: string }> {
    const PAGE = 20;
    const offset = cursor === undefined ? 0 : Number(cursor);
    if (!Number.isInteger(offset) || offset < 0) throw new TaskError(`Invalid cursor "${cursor}": pass back the nextCursor of the previous page.`);
    return this.withTemporal(undefined, async (client) => {
      const page: WorkflowExecutionDescription[] = [];
      let seen = 0;
      let more = false;
      for await (const wf of client.workflow.list({ query: `WorkflowType = 'InvoiceWorkflow' AND TaskQueue = '${this.where.taskQueue}'` })) {
        if (expired(wf, memoOf(wf))) continue;
        if (seen++ < offset) continue;
        if (page.length === PAGE) {
          more = true;
          break;
        }
        page.push(wf as WorkflowExecutionDescription);
      }
      const tasks = await Promise.all(page.map(async (wf) => toTask(wf, memoOf(wf), await this.invoiceOf(client, wf, { noResults: true }))));
      return more ? { tasks, nextCursor: String(offset + PAGE) } : { tasks };
    });
  }
  // #endregion list-tasks

  /** The workflow behind a task id, if it is one of this step's invoices. */
  private async describe(client: Client, taskId: string): Promise<WorkflowExecutionDescription | undefined> {
    try {
      const description = await client.workflow.getHandle(taskId).describe();
      return description.type === 'InvoiceWorkflow' && description.taskQueue === this.where.taskQueue ? description : undefined;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  /** What the invoice says about itself: its result once finished, a query while running. */
  private async invoiceOf(client: Client, wf: Pick<WorkflowExecutionDescription, 'workflowId' | 'status'>, { noResults = false } = {}): Promise<InvoiceView> {
    const handle = client.workflow.getHandle<typeof InvoiceWorkflow>(wf.workflowId);
    if (wf.status.name === 'RUNNING') {
      try {
        return await askWorker(client, this.where, () => handle.query(getInvoiceStatus));
      } catch (err) {
        if (err instanceof NoWorkerError) return { state: undefined, note: err.message };
        throw err;
      }
    }
    if (wf.status.name !== 'COMPLETED' || noResults) return { state: undefined };
    return handle.result();
  }

  /** The TTL asked for (or the default), no longer than Temporal keeps finished workflows. */
  private async allowedTtl(requested: number | null | undefined): Promise<number | null> {
    this.retentionMs ??= this.withTemporal(undefined, async (client) => {
      const { config } = await client.workflowService.describeNamespace({ namespace: this.where.namespace });
      const seconds = Number(config?.workflowExecutionRetentionTtl?.seconds ?? 0);
      return seconds > 0 ? seconds * 1000 : null;
    }).catch((err: unknown) => {
      this.retentionMs = undefined;
      throw err;
    });
    const retention = await this.retentionMs;
    const wanted = requested === undefined ? DEFAULT_TTL_MS : requested; // null: "keep it as long as you can"
    if (wanted === null) return retention;
    return retention === null ? wanted : Math.min(wanted, retention);
  }
  private retentionMs?: Promise<number | null>;
}

/** Enough of an InvoiceStatus to tell the task's status; `state` undefined when nobody could say. */
type InvoiceView = Partial<InvoiceStatus> & { state: InvoiceState | undefined; note?: string };

// #region status-mapping
/** Temporal's status and the invoice's state → the MCP task. */
function toTask(wf: Pick<WorkflowExecutionDescription, 'workflowId' | 'status' | 'startTime' | 'closeTime'>, memo: TaskMemo, invoice: InvoiceView): Task {
  const invoiceId = invoiceIdOf(wf.workflowId) ?? wf.workflowId;
  const [status, statusMessage] = ((): [Task['status'], string] => {
    // #exercise task-status "Part A: the invoice as an MCP task"
    switch (wf.status.name) {
      case 'RUNNING':
        if (invoice.state === 'AWAITING_APPROVAL') {
          return ['input_required', `Invoice ${invoiceId} awaits a human decision until ${invoice.approvalDeadline}: approve_invoice, reject_invoice or request_approval.`];
        }
        return ['working', invoice.note ?? `Invoice ${invoiceId} is ${invoice.state ?? 'running'}.`];
      case 'COMPLETED': // PAID, REJECTED or TIMED_OUT: the invoice's own final status is the result
        return ['completed', `Invoice ${invoiceId} finished: ${invoice.state ?? 'see tasks/result'}.`];
      case 'CANCELLED':
        return ['cancelled', `Invoice ${invoiceId} was cancelled before anything was paid.`];
      case 'TERMINATED':
        return ['failed', `Invoice ${invoiceId}'s workflow was terminated by an operator; see the Web UI for the reason.`];
      default: // FAILED, TIMED_OUT (the workflow's own timeout)
        return ['failed', `Invoice ${invoiceId} ${wf.status.name.toLowerCase().replace('_', ' ')}; tasks/result says why.`];
    }
    // #endexercise
  })();
  const decidedAt = invoice.decision?.at;
  return {
    taskId: wf.workflowId,
    status,
    statusMessage,
    createdAt: wf.startTime.toISOString(),
    lastUpdatedAt: (wf.closeTime ?? (decidedAt ? new Date(decidedAt) : wf.startTime)).toISOString(),
    ttl: memo.ttl,
    pollInterval: memo.pollInterval,
  };
}
// #endregion status-mapping

/** Why a closed workflow has no InvoiceStatus to return. */
function closedMessage(invoiceId: string, wf: WorkflowExecutionDescription, err: WorkflowFailedError): string {
  if (wf.status.name === 'CANCELLED') return `Invoice ${invoiceId} was cancelled before anything was paid; nothing was charged.`;
  if (wf.status.name === 'TERMINATED') return `Invoice ${invoiceId}'s workflow was terminated: ${err.cause?.message ?? 'no reason given'}.`;
  let e: unknown = err;
  while (e instanceof Error && e.cause) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}

/** The memo process_invoice wrote; defaults for invoices started some other way (e.g. step 05's tools). */
function memoOf(wf: { memo?: Record<string, unknown> }): TaskMemo {
  const memo = wf.memo?.mcpTask as Partial<TaskMemo> | undefined;
  return { ttl: memo?.ttl === undefined ? DEFAULT_TTL_MS : memo.ttl, pollInterval: memo?.pollInterval ?? DEFAULT_POLL_INTERVAL_MS };
}

/** A finished task whose TTL has passed is gone, as the spec asks, even if Temporal still keeps it. */
function expired(wf: { closeTime?: Date }, memo: TaskMemo): boolean {
  return memo.ttl !== null && wf.closeTime !== undefined && wf.closeTime.getTime() + memo.ttl < Date.now();
}
