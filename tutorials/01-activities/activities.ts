// Activities: the code that talks to the outside world. Temporal retries them when they fail,
// so a flaky ERP or payment gateway costs a few seconds, not a lost invoice.
import { ApplicationFailure, log } from '@temporalio/activity';
import type { Invoice, InvoiceLine, Payment } from '../../shared/invoice.js';
import {
  InvoiceMismatchError,
  PaymentDeclinedError,
  type Erp,
  type PaymentGateway,
} from '../../shared/simulated-systems.js';

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
export function createActivities(erp: Erp, gateway: PaymentGateway) {
  return {
    /** Checks the invoice against the ERP. A mismatch is final; a timeout is retried. */
    async validateInvoice(invoice: Invoice): Promise<void> {
      try {
        await erp.check(invoice);
      } catch (err) {
        // #exercise final-mismatch "Part C: final failures are not retried"
        // Retrying cannot fix a mismatch, so tell Temporal not to: non-retryable.
        if (err instanceof InvoiceMismatchError) throw ApplicationFailure.nonRetryable(err.message, 'InvoiceMismatch');
        // #endexercise
        throw err; // anything else (an ERP timeout) is retried by Temporal
      }
    },

    // #region process-payment
    /** Charges one invoice line. A decline is final; a gateway outage is retried. */
    async processPayment({ invoiceId, lineIndex, line }: PaymentRequest): Promise<Payment> {
      try {
        const charge = await gateway.charge(`invoice-${invoiceId}/line-${lineIndex}`, line.amount);
        log.info('charged', { invoiceId, lineIndex, amount: line.amount, chargeId: charge.chargeId });
        return { lineIndex, item: line.item, amount: line.amount, chargeId: charge.chargeId };
      } catch (err) {
        // #exercise final-decline "Part C: final failures are not retried"
        // A declined card is declined again a second later: non-retryable, the workflow fails at once.
        if (err instanceof PaymentDeclinedError) throw ApplicationFailure.nonRetryable(err.message, 'PaymentDeclined');
        // #endexercise
        throw err;
      }
    },
    // #endregion process-payment
  };
}
