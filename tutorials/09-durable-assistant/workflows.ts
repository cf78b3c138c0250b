// The workflow: the invoice's business process, written as plain code. Temporal records each
// step, so if the worker dies the workflow resumes where it was instead of starting over.
// Workflow code must be deterministic: no Node built-ins, no I/O; that is what activities are for.
//
// Step 08: the business changed while invoices were waiting. The customer is now told before
// their invoice is paid (notifyCustomer), behind patched(), so invoices started on the old code
// replay unchanged and finish the old way. And the workflow tells an operator what it is doing:
// current details, and summaries on its timer and activities, shown in the Web UI.
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  defineQuery,
  defineUpdate,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import ms, { type StringValue } from 'ms';
import type { Invoice, Payment } from '../../shared/invoice.js';
import { stepTaskQueue } from '../../shared/task-queue.js';
import type { createActivities } from './activities.js';

type Activities = ReturnType<typeof createActivities>;

// #region task-queue
/** The queue this step's worker polls and its client starts workflows on. */
export const TASK_QUEUE = stepTaskQueue('09');
// #endregion task-queue

// #region retry-policies
// The ERP check: a few quick retries, then give up.
const { validateInvoice, notifyCustomer } = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 5 },
});

// Payments: each attempt may take up to 30 s; failures are retried with growing pauses
// (1 s, 2 s, 4 s, ... up to 30 s) until the gateway recovers. The payment heartbeats, so a
// worker that dies mid-payment is noticed after 3 s, not after the 30 s timeout.
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
export const INVOICE_STATES = ['VALIDATING', 'AWAITING_APPROVAL', 'PAYING', 'PAID', 'REJECTED', 'TIMED_OUT', 'FAILED'] as const;
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

// #region static-metadata
/**
 * What the Web UI shows for an invoice from the moment it starts: a one-line summary, e.g.
 * `Invoice INV-1001 · ACME Corp · 268.49`, and details (in Temporal's markdown). Whoever starts the workflow passes them (`staticSummary`, `staticDetails`); they
 * are fixed for the life of the workflow.
 */
export function invoiceMetadata(invoice: Invoice, approvalTimeout: string | number = DEFAULT_APPROVAL_TIMEOUT) {
  const lines = invoice.lines.map((line, i) => `${i + 1}. ${line.item}: ${line.amount.toFixed(2)}`);
  return {
    staticSummary: `Invoice ${invoice.id} · ${invoice.customer} · ${sumAmounts(invoice.lines).toFixed(2)}`,
    staticDetails: [`**${invoice.customer}**, ${invoice.lines.length} line(s), approval within ${typeof approvalTimeout === 'number' ? `${approvalTimeout} ms` : approvalTimeout}:`, '', ...lines].join('\n'),
  };
}
// #endregion static-metadata

// #region patch-id
/**
 * The change of this step, by name. The name is recorded in the history of every invoice that
 * takes the new path, so it must never change and never be reused for another change.
 */
export const NOTIFY_CUSTOMER_PATCH = 'notify-customer-before-payment';
// #endregion patch-id

/**
 * Validates the invoice, waits for a human decision (at most `approvalTimeout`), tells the
 * customer (invoices started since step 08's change), then pays its lines one by one.
 */
// #region invoice-workflow
export async function InvoiceWorkflow(invoice: Invoice, options: InvoiceOptions = {}): Promise<InvoiceStatus> {
  // #region patched
  // Decided once, first thing: an invoice started before this change finds no marker here in its
  // history, so patched() is false while it replays and it keeps the old path to the end, even if
  // it is approved after the new code was deployed. A new invoice records the marker and says true.
  const notifiesCustomer = patched(NOTIFY_CUSTOMER_PATCH);
  // #endregion patched
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
    // #region current-details
    // Current details: what the invoice is doing now, on its Web UI page. Not part of the history,
    // so setting them never affects replay; the __temporal_workflow_metadata query reads them.
    setCurrentDetails('Checking the invoice with the ERP.');
    // #endregion current-details
    await validateInvoice.executeWithOptions({ summary: 'check invoice with the ERP' }, [invoice]);

    // #region deadline
    // Wait for a decision or the deadline, whichever comes first. The timer is durable: it lives
    // in Temporal, not in this process, so it fires on time even if every worker was down for days.
    // Date.now() is the workflow's deterministic clock, safe to use here.
    status.state = 'AWAITING_APPROVAL';
    status.approvalDeadline = new Date(Date.now() + toMs(approvalTimeout)).toISOString();
    setCurrentDetails(`Waiting for approval until ${status.approvalDeadline}.`);
    // The summary names the timer in the Web UI's timeline. It rides on the command as metadata,
    // which replay does not compare: adding one to code with running invoices needs no patch.
    const decided = await condition(() => status.decision !== null, approvalTimeout, { summary: 'approval deadline' });
    // #endregion deadline
    if (!decided) {
      status.state = 'TIMED_OUT'; // nobody decided in time: auto-reject, pay nothing
      setCurrentDetails(`Timed out at ${status.approvalDeadline}: nobody decided, nothing was paid.`);
      return status;
    }
    if (!status.decision?.approved) {
      status.state = 'REJECTED';
      setCurrentDetails(`Rejected by ${status.decision?.by}: ${status.decision?.reason}. Nothing was paid.`);
      return status;
    }

    // #region notify-customer
    // The change: the customer hears from us before any money moves. Only invoices that
    // recorded the patch marker take this path; the others pay exactly as before.
    if (notifiesCustomer) {
      setCurrentDetails(`Approved by ${status.decision.by}; telling ${invoice.customer} before paying.`);
      await notifyCustomer.executeWithOptions({ summary: `notify ${invoice.customer}` }, [invoice]);
    }
    // #endregion notify-customer

    status.state = 'PAYING';
    for (const [lineIndex, line] of invoice.lines.entries()) {
      setCurrentDetails(`Paying line ${lineIndex + 1} of ${invoice.lines.length}: ${line.item}, ${line.amount.toFixed(2)}.`);
      // An activity summary per line: the timeline reads "charge line 2: USB-C dock 129.00".
      const payment = await processPayment.executeWithOptions({ summary: `charge line ${lineIndex + 1}: ${line.item} ${line.amount.toFixed(2)}` }, [
        { invoiceId: invoice.id, lineIndex, line },
      ]);
      status.payments.push(payment);
      status.linesPaid = status.payments.length;
      status.amountPaid = sumAmounts(status.payments);
    }
    status.state = 'PAID';
    setCurrentDetails(`Paid ${status.amountPaid.toFixed(2)} in ${status.payments.length} charge(s), approved by ${status.decision.by}.`);
    return status;
  // #region fail-readably
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err; // e.g. a cancellation: not ours to relabel
    // Keep the reason where a query can see it, then fail the workflow with a readable message.
    status.state = 'FAILED';
    status.failure = rootMessage(err);
    setCurrentDetails(`Failed: ${status.failure}`);
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
