// The workflow: the invoice's business process, written as plain code. Temporal records each
// step, so if the worker dies the workflow resumes where it was instead of starting over.
// Workflow code must be deterministic: no Node built-ins, no I/O; that is what activities are for.
import { condition, defineSignal, log, proxyActivities, setHandler } from '@temporalio/workflow';
import type { Invoice, Payment } from '../../shared/invoice.js';
import { stepTaskQueue } from '../../shared/task-queue.js';
import type { createActivities } from './activities.js';

type Activities = ReturnType<typeof createActivities>;

// #region task-queue
/** The queue this step's worker polls and its client starts workflows on. */
export const TASK_QUEUE = stepTaskQueue('02');
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
/** The human decision the workflow waits for. */
export type Decision = ({ approved: true } & Approval) | ({ approved: false } & Rejection);

// #region signals
// Signals: messages a human (through a client) sends to a running workflow. Exported so the
// client and the tests send exactly the signal the workflow listens for.
export const approveInvoice = defineSignal<[Approval]>('approveInvoice');
export const rejectInvoice = defineSignal<[Rejection]>('rejectInvoice');
// #endregion signals

/** What the workflow returns: the decision, and every line it paid. */
export interface InvoiceResult {
  invoiceId: string;
  state: 'PAID' | 'REJECTED';
  decision: Decision;
  payments: Payment[];
  amountPaid: number;
}

/** Validates the invoice, waits for a human decision, then pays its lines one by one. */
// #region invoice-workflow
export async function InvoiceWorkflow(invoice: Invoice): Promise<InvoiceResult> {
  let decision: Decision | undefined;
  const decide = (next: Decision) => {
    // #exercise first-decision-wins "Part C: the first decision wins"
    // The first decision wins: a second approve or reject is ignored, it cannot undo the first.
    if (decision !== undefined) {
      log.warn('Decision ignored: the invoice is already decided', { invoiceId: invoice.id, decided: decision, ignored: next });
      return;
    }
    // #endexercise
    decision = next;
  };
  // Handlers are set first thing, so a decision that arrives during validation is kept.
  // #exercise approve-handler "Part A: approve, and wait for it"
  setHandler(approveInvoice, ({ by }) => decide({ approved: true, by }));
  // #endexercise
  // #exercise reject-handler "Part B: reject, saying why"
  setHandler(rejectInvoice, ({ by, reason }) => decide({ approved: false, by, reason }));
  // #endexercise

  await validateInvoice(invoice);

  // #exercise wait-for-decision "Part A: approve, and wait for it"
  // Wait, for as long as it takes, without holding a thread or a process: the worker can
  // restart meanwhile and the workflow still wakes up when the signal arrives.
  await condition(() => decision !== undefined);
  // #endexercise
  const decided = decision as Decision; // set by a signal handler, which TypeScript cannot follow
  // #exercise rejected-pays-nothing "Part B: reject, saying why"
  if (!decided.approved) return { invoiceId: invoice.id, state: 'REJECTED', decision: decided, payments: [], amountPaid: 0 };
  // #endexercise

  const payments: Payment[] = [];
  for (const [lineIndex, line] of invoice.lines.entries()) {
    payments.push(await processPayment({ invoiceId: invoice.id, lineIndex, line }));
  }
  return { invoiceId: invoice.id, state: 'PAID', decision: decided, payments, amountPaid: sumAmounts(payments) };
}
// #endregion invoice-workflow

/** Sum in cents, so 0.1 + 0.2 pays 0.30 and not 0.30000000000000004. */
function sumAmounts(payments: Payment[]): number {
  return Math.round(payments.reduce((sum, p) => sum + p.amount * 100, 0)) / 100;
}
