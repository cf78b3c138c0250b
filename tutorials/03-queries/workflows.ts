// The workflow: the invoice's business process, written as plain code. Temporal records each
// step, so if the worker dies the workflow resumes where it was instead of starting over.
// Workflow code must be deterministic: no Node built-ins, no I/O; that is what activities are for.
import { ActivityFailure, ApplicationFailure, condition, defineQuery, defineSignal, log, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Invoice, Payment } from '../../shared/invoice.js';
import { stepTaskQueue } from '../../shared/task-queue.js';
import type { createActivities } from './activities.js';

type Activities = ReturnType<typeof createActivities>;

// #region task-queue
/** The queue this step's worker polls and its client starts workflows on. */
export const TASK_QUEUE = stepTaskQueue('03');
// #endregion task-queue

// #region retry-policies
// The ERP check: a few quick retries, then give up.
const { validateInvoice } = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 5 },
});

// Payments: each attempt may take up to 30 s; failures are retried with growing pauses
// (1 s, 2 s, 4 s, ... up to 30 s) until the gateway recovers.
const { processPayment } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10 },
});
// #endregion retry-policies

/** A person approves the invoice: it will be paid. */
export interface Approval {
  by: string;
}
/** A person rejects the invoice, saying why: nothing will be paid. */
export interface Rejection {
  by: string;
  reason: string;
}
/** The human decision the workflow waits for, and when it arrived. */
export type Decision = ({ approved: true } & Approval | { approved: false } & Rejection) & { at: string };

// #region signals
// Signals: messages a human (through a client) sends to a running workflow. Exported so the
// client and the tests send exactly the signal the workflow listens for.
export const approveInvoice = defineSignal<[Approval]>('approveInvoice');
export const rejectInvoice = defineSignal<[Rejection]>('rejectInvoice');
// #endregion signals

// #region invoice-state
/** Where the invoice is in its life. */
export type InvoiceState = 'VALIDATING' | 'AWAITING_APPROVAL' | 'PAYING' | 'PAID' | 'REJECTED' | 'FAILED';

/** Everything anyone may want to know about the invoice, at any moment. */
export interface InvoiceStatus {
  invoiceId: string;
  customer: string;
  state: InvoiceState;
  linesTotal: number;
  linesPaid: number;
  amountDue: number;
  amountPaid: number;
  payments: Payment[];
  /** null until a human decides. */
  decision: Decision | null;
  /** Why the invoice FAILED, else null. */
  failure: string | null;
}
// #endregion invoice-state

// #region query
// A query: a read-only question any client may ask a workflow, answered from its live state.
// Queries never change the workflow and are answered even after it has finished.
export const getInvoiceStatus = defineQuery<InvoiceStatus>('getInvoiceStatus');
// #endregion query

/** Validates the invoice, waits for a human decision, then pays its lines one by one. */
// #region invoice-workflow
export async function InvoiceWorkflow(invoice: Invoice): Promise<InvoiceStatus> {
  const status: InvoiceStatus = {
    invoiceId: invoice.id,
    customer: invoice.customer,
    state: 'VALIDATING',
    linesTotal: invoice.lines.length,
    linesPaid: 0,
    amountDue: sumAmounts(invoice.lines),
    amountPaid: 0,
    payments: [],
    decision: null,
    failure: null,
  };
  // #exercise add-the-query "Part A: answer the query"
  setHandler(getInvoiceStatus, () => status);
  // #endexercise
  const decide = (next: Decision) => {
    // The first decision wins: a second approve or reject is ignored, it cannot undo the first.
    if (status.decision !== null) {
      log.warn('Decision ignored: the invoice is already decided', { invoiceId: invoice.id, decided: status.decision, ignored: next });
      return;
    }
    status.decision = next;
  };
  // Handlers are set first thing, so a decision that arrives during validation is kept.
  setHandler(approveInvoice, ({ by }) => decide({ approved: true, by, at: new Date().toISOString() }));
  setHandler(rejectInvoice, ({ by, reason }) => decide({ approved: false, by, reason, at: new Date().toISOString() }));

  try {
    await validateInvoice(invoice);

    // Wait, for as long as it takes, without holding a thread or a process: the worker can
    // restart meanwhile and the workflow still wakes up when the signal arrives.
    // #exercise state-awaiting-approval "Part B: keep the state current"
    status.state = 'AWAITING_APPROVAL';
    // #endexercise
    await condition(() => status.decision !== null);
    if (!status.decision?.approved) {
      // #exercise state-rejected "Part B: keep the state current"
      status.state = 'REJECTED';
      // #endexercise
      return status;
    }

    // #exercise state-paying "Part B: keep the state current"
    status.state = 'PAYING';
    // #endexercise
    for (const [lineIndex, line] of invoice.lines.entries()) {
      status.payments.push(await processPayment({ invoiceId: invoice.id, lineIndex, line }));
      // #exercise progress "Part A: answer the query"
      status.linesPaid = status.payments.length;
      status.amountPaid = sumAmounts(status.payments);
      // #endexercise
    }
    // #exercise state-paid "Part B: keep the state current"
    status.state = 'PAID';
    // #endexercise
    return status;
  // #region fail-readably
  } catch (err) {
    // #exercise fail-readably-catch "Part C: fail readably"
    if (!(err instanceof ActivityFailure)) throw err; // e.g. a cancellation: not ours to relabel
    // Keep the reason where a query can see it, then fail the workflow with a readable message.
    status.state = 'FAILED';
    status.failure = rootMessage(err);
    throw ApplicationFailure.nonRetryable(`Invoice ${invoice.id} failed: ${status.failure}`, 'InvoiceFailed');
    // #endexercise
  }
  // #endregion fail-readably
}
// #endregion invoice-workflow

/** Sum in cents, so 0.1 + 0.2 pays 0.30 and not 0.30000000000000004. */
function sumAmounts(items: { amount: number }[]): number {
  return Math.round(items.reduce((sum, p) => sum + p.amount * 100, 0)) / 100;
}

/** The innermost message: "insufficient funds ...", not "Activity task failed". */
function rootMessage(err: unknown): string {
  let e = err;
  while (e instanceof Error && e.cause) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}
