// The workflow: the invoice's business process, written as plain code. Temporal records each
// step, so if the worker dies the workflow resumes where it was instead of starting over.
// Workflow code must be deterministic: no Node built-ins, no I/O; that is what activities are for.
import { ActivityFailure, ApplicationFailure, CancellationScope, condition, defineQuery, defineUpdate, isCancellation, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import ms, { type StringValue } from 'ms';
import type { Invoice, Payment } from '../../shared/invoice.js';
import { stepTaskQueue } from '../../shared/task-queue.js';
import type { createActivities } from './activities.js';

type Activities = ReturnType<typeof createActivities>;

// #region task-queue
/** The queue this step's worker polls and its client starts workflows on. */
export const TASK_QUEUE = stepTaskQueue('12');
// #endregion task-queue

// #region retry-policies
// The ERP check: a few quick retries, then give up.
const { validateInvoice } = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 5 },
});

// Payments: each attempt may take up to 30 s; failures are retried with growing pauses
// (1 s, 2 s, 4 s, ... up to 30 s) until the gateway recovers. Step 06: the payment heartbeats,
// so a worker that dies mid-payment is noticed after 3 s, not after the 30 s timeout.
const { processPayment } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: '3 seconds',
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

// #region invoice-state
/** Every state an invoice can be in, in the order it goes through them. The MCP tools' schemas use this list. */
// Step 07: CANCELLED, for an invoice whose MCP task was cancelled before anything was paid.
export const INVOICE_STATES = ['VALIDATING', 'AWAITING_APPROVAL', 'PAYING', 'PAID', 'REJECTED', 'TIMED_OUT', 'FAILED', 'CANCELLED'] as const;
/** Where the invoice is in its life. */
export type InvoiceState = (typeof INVOICE_STATES)[number];

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
  /** When the invoice stops waiting and is TIMED_OUT (ISO 8601); null until validated. */
  approvalDeadline: string | null;
  /** Why the invoice FAILED, else null. */
  failure: string | null;
}
// #endregion invoice-state

// #region query
// A query: a read-only question any client may ask a workflow, answered from its live state.
// Queries never change the workflow and are answered even after it has finished.
export const getInvoiceStatus = defineQuery<InvoiceStatus>('getInvoiceStatus');
// #endregion query

// #region updates
/** What a decision answers its caller: the state it found, and the decision as the workflow recorded it. */
export interface DecisionResult {
  invoiceId: string;
  /** VALIDATING (a decision kept for later) or AWAITING_APPROVAL. */
  previousState: InvoiceState;
  decision: Decision;
}

// Updates, since step 05: a message that changes the workflow, like the signals of step 02,
// but the caller waits for the workflow's answer. A validator runs first and may refuse; a
// refused update leaves no trace in the history and the caller is told why. An MCP tool must
// not say "approved" unless the workflow took the approval: with a signal it could not know.
export const approveInvoice = defineUpdate<DecisionResult, [Approval]>('approveInvoice');
export const rejectInvoice = defineUpdate<DecisionResult, [Rejection]>('rejectInvoice');
// #endregion updates

// #region approval-timeout
/** How long an invoice waits for a decision unless its options say otherwise. */
export const DEFAULT_APPROVAL_TIMEOUT = '5 days';

/** Per-invoice settings. */
export interface InvoiceOptions {
  /** How long to wait for approval, e.g. `'5 days'`, `'2 hours'` or milliseconds. */
  approvalTimeout?: Duration;
}
// #endregion approval-timeout

/**
 * Validates the invoice, waits for a human decision (at most `approvalTimeout`), then pays its
 * lines one by one.
 */
// #region invoice-workflow
export async function InvoiceWorkflow(invoice: Invoice, options: InvoiceOptions = {}): Promise<InvoiceStatus> {
  const approvalTimeout = approvalTimeoutOf(options);
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
    approvalDeadline: null,
    failure: null,
  };
  setHandler(getInvoiceStatus, () => status);
  // #region decision-handlers
  // Handlers are set first thing, so a decision that arrives during validation is kept.
  // The validator refuses a decision the invoice can no longer take: the first decision wins, and
  // the caller of the second is told who made the first. The handler is synchronous, so of two
  // decisions arriving together the second is validated after the first was recorded.
  const decide = (decision: Decision): DecisionResult => {
    const previousState = status.state;
    status.decision = decision;
    return { invoiceId: invoice.id, previousState, decision };
  };
  const canDecide = (by: string) => {
    if (!by.trim()) throw new Error('A decision needs the name of the person making it.');
    if (status.decision) {
      const { approved, by: who, at } = status.decision;
      throw new Error(`Invoice ${invoice.id} was already ${approved ? 'approved' : 'rejected'} by ${who} at ${at}; nothing was changed.`);
    }
    if (status.state !== 'VALIDATING' && status.state !== 'AWAITING_APPROVAL') {
      throw new Error(`Invoice ${invoice.id} is ${status.state}, not awaiting approval; nothing was changed.`);
    }
  };
  setHandler(approveInvoice, ({ by }) => decide({ approved: true, by, at: new Date().toISOString() }), {
    validator: ({ by }) => canDecide(by),
  });
  setHandler(rejectInvoice, ({ by, reason }) => decide({ approved: false, by, reason, at: new Date().toISOString() }), {
    validator: ({ by, reason }) => {
      canDecide(by);
      if (!reason.trim()) throw new Error('A rejection needs a reason.');
    },
  });
  // #endregion decision-handlers

  try {
    await validateInvoice(invoice);

    // #region deadline
    // Wait for a decision or the deadline, whichever comes first. The timer is durable: it lives
    // in Temporal, not in this process, so it fires on time even if every worker was down for days.
    // Date.now() is the workflow's deterministic clock, safe to use here.
    status.state = 'AWAITING_APPROVAL';
    status.approvalDeadline = new Date(Date.now() + toMs(approvalTimeout)).toISOString();
    // #endregion deadline
    const decided = await condition(() => status.decision !== null, approvalTimeout);
    if (!decided) {
      status.state = 'TIMED_OUT'; // nobody decided in time: auto-reject, pay nothing
      return status;
    }
    if (!status.decision?.approved) {
      status.state = 'REJECTED';
      return status;
    }

    // #region pay-uncancellable
    // Step 07: once paying starts, a cancellation (tasks/cancel) is not obeyed: the lines are paid
    // to the end in a scope no cancellation reaches, so an invoice is never left half-paid. The
    // server refuses to cancel a PAYING invoice; this scope covers the race where the approval
    // and the cancellation arrive together.
    status.state = 'PAYING';
    await CancellationScope.nonCancellable(async () => {
      for (const [lineIndex, line] of invoice.lines.entries()) {
        status.payments.push(await processPayment({ invoiceId: invoice.id, lineIndex, line }));
        status.linesPaid = status.payments.length;
        status.amountPaid = sumAmounts(status.payments);
      }
    });
    // #endregion pay-uncancellable
    status.state = 'PAID';
    return status;
  // #region fail-readably
  } catch (err) {
    // Step 07: cancelled before any payment (while validating or waiting): say so, and end the
    // workflow as cancelled, which is what the MCP task reports.
    if (isCancellation(err)) {
      status.state = 'CANCELLED';
      throw err;
    }
    if (!(err instanceof ActivityFailure)) throw err; // not ours to relabel
    // Keep the reason where a query can see it, then fail the workflow with a readable message.
    status.state = 'FAILED';
    status.failure = rootMessage(err);
    throw ApplicationFailure.nonRetryable(`Invoice ${invoice.id} failed: ${status.failure}`, 'InvoiceFailed');
  }
  // #endregion fail-readably
}
// #endregion invoice-workflow

/**
 * How long this invoice waits for a decision: its own `approvalTimeout`, else the default. A value
 * that is not a positive duration fails the invoice at once, saying why, instead of waiting wrongly.
 */
function approvalTimeoutOf(options: InvoiceOptions): Duration {
  const timeout = options.approvalTimeout;
  if (timeout !== undefined) {
    // A typo ('5 dyas') must not become "no deadline" or a workflow task that fails forever.
    if (!(toMs(timeout) > 0)) {
      throw ApplicationFailure.nonRetryable(`approvalTimeout must be a positive duration such as '5 days', got ${JSON.stringify(timeout)}`, 'InvalidApprovalTimeout');
    }
    return timeout;
  }
  return DEFAULT_APPROVAL_TIMEOUT;
}

/** '5 days' → 432000000, with the same parser Temporal uses for durations; numbers are milliseconds already. */
function toMs(duration: Duration): number {
  return typeof duration === 'number' ? duration : ms(duration as StringValue);
}

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
