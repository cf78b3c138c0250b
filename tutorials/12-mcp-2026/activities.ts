// Activities: the code that talks to the outside world. Temporal retries them when they fail,
// so a flaky ERP or payment gateway costs a few seconds, not a lost invoice.
//
// Step 06: Temporal runs an activity AT LEAST once. A worker that dies after the gateway charged
// but before Temporal heard back means the payment runs again. So the payment carries an
// idempotency key derived from the workflow and the line, never from the attempt: every retry
// of one line sends the same key, and the gateway charges it only once.
import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { Invoice, InvoiceLine, Payment } from '../../shared/invoice.js';
import { InvoiceMismatchError, type Erp } from '../../shared/simulated-systems.js';
import type { LedgerGateway } from './ledger.js';

/** What `processPayment` needs to charge one line. */
export interface PaymentRequest {
  invoiceId: string;
  lineIndex: number;
  line: InvoiceLine;
}

/**
 * The activities get their external systems handed in, so the worker uses real (simulated)
 * ones and a test can build its own flaky or declining versions.
 */
export function createActivities(erp: Erp, gateway: LedgerGateway) {
  return {
    /** Checks the invoice against the ERP. A mismatch is final; a timeout is retried. */
    async validateInvoice(invoice: Invoice): Promise<void> {
      try {
        await erp.check(invoice);
      } catch (err) {
        // Retrying cannot fix a mismatch, so tell Temporal not to: non-retryable.
        if (err instanceof InvoiceMismatchError) throw ApplicationFailure.nonRetryable(err.message, 'InvoiceMismatch');
        throw err; // anything else (an ERP timeout) is retried by Temporal
      }
    },

    // #region process-payment
    /** Charges one invoice line, exactly once however often it is retried. */
    async processPayment({ invoiceId, lineIndex, line }: PaymentRequest): Promise<Payment> {
      // #region idempotency-key
      const { info } = Context.current();
      // Same workflow + same line = same key, on every attempt and on every worker. (Never
      // info.attempt: a key that changes per attempt would charge again on every retry.)
      const workflowId = info.workflowExecution?.workflowId ?? `invoice-${invoiceId}`;
      const idempotencyKey = `${workflowId}/line-${lineIndex}`;
      // Heartbeats tell Temporal this worker is alive; when they stop (the worker was killed),
      // Temporal retries the payment on another worker after the heartbeat timeout.
      const charge = await gateway.charge(idempotencyKey, `invoice-${invoiceId}/line-${lineIndex}`, line.amount, () =>
        Context.current().heartbeat(),
      );
      // #endregion idempotency-key
      log.info('charged', { invoiceId, lineIndex, amount: line.amount, chargeId: charge.chargeId, attempt: info.attempt });
      return { lineIndex, item: line.item, amount: line.amount, chargeId: charge.chargeId };
    },
    // #endregion process-payment
  };
}
