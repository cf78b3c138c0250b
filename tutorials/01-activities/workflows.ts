// The workflow: the invoice's business process, written as plain code. Temporal records each
// step, so if the worker dies the workflow resumes where it was instead of starting over.
// Workflow code must be deterministic: no Node built-ins, no I/O; that is what activities are for.
import { proxyActivities } from '@temporalio/workflow';
import type { Invoice, Payment } from '../../shared/invoice.js';
import { stepTaskQueue } from '../../shared/task-queue.js';
import type { createActivities } from './activities.js';

type Activities = ReturnType<typeof createActivities>;

// #region task-queue
/** The queue this step's worker polls and its client starts workflows on. */
export const TASK_QUEUE = stepTaskQueue('01');
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
  // #exercise payment-retry-policy "Part B: a retry policy for payments"
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 10 },
  // #endexercise
});
// #endregion retry-policies

/** What the workflow returns: every line it paid. */
export interface InvoiceResult {
  invoiceId: string;
  payments: Payment[];
  amountPaid: number;
}

/** Validates the invoice, then pays its lines one by one. */
// #region invoice-workflow
export async function InvoiceWorkflow(invoice: Invoice): Promise<InvoiceResult> {
  await validateInvoice(invoice);
  const payments: Payment[] = [];
  // #exercise pay-each-line "Part A: pay each line"
  for (const [lineIndex, line] of invoice.lines.entries()) {
    payments.push(await processPayment({ invoiceId: invoice.id, lineIndex, line }));
  }
  // #endexercise
  return { invoiceId: invoice.id, payments, amountPaid: sumAmounts(payments) };
}
// #endregion invoice-workflow

/** Sum in cents, so 0.1 + 0.2 pays 0.30 and not 0.30000000000000004. */
function sumAmounts(payments: Payment[]): number {
  return Math.round(payments.reduce((sum, p) => sum + p.amount * 100, 0)) / 100;
}
