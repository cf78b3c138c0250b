/**
 * Stand-ins for the external systems an invoice touches: an ERP that checks invoices and a
 * payment gateway that charges lines. They are not the lesson, so they live here; what the
 * steps teach is how a workflow copes when such systems are slow, flaky or say no.
 *
 * Switches (environment variables read by every step's worker, or options in tests):
 *
 * | variable | effect |
 * | --- | --- |
 * | `GATEWAY_FAIL_FIRST=N` | the first N charges fail with a transient "gateway unavailable" error |
 * | `GATEWAY_DECLINE_OVER=X` | a charge above amount X is declined: "insufficient funds", not worth retrying |
 * | `ERP_FAIL_FIRST=N` | the first N ERP checks fail with a transient "ERP timeout" |
 * | `ERP_MAX_TOTAL=X` | an invoice whose total is above X does not match its purchase order (default 100000) |
 *
 * @module
 */
import { invoiceTotal, type Invoice } from './invoice.js';

/** Options of the simulated systems; all off by default. */
export interface SimulationOptions {
  /** The first N charges fail with a transient error (default 0). */
  gatewayFailFirst?: number;
  /** Charges above this amount are declined (default: none). */
  gatewayDeclineOver?: number;
  /** The first N ERP checks fail with a transient error (default 0). */
  erpFailFirst?: number;
  /** Invoices whose total is above this do not match their purchase order (default 100000). */
  erpMaxTotal?: number;
}

/** A failure that may go away if tried again (the network, a timeout). */
export class TransientError extends Error {
  override name = 'TransientError';
}

/** The gateway refused the charge; trying again cannot help. */
export class PaymentDeclinedError extends Error {
  override name = 'PaymentDeclinedError';
}

/** The ERP says the invoice does not match its records; trying again cannot help. */
export class InvoiceMismatchError extends Error {
  override name = 'InvoiceMismatchError';
}

/** A charge the gateway made. */
export interface Charge {
  chargeId: string;
  /** Free text the caller attached, e.g. `invoice-INV-1/line-0`. */
  reference: string;
  amount: number;
}

/** An in-memory payment gateway that records every charge it makes. */
export class PaymentGateway {
  /** Every successful charge, in order. Tests read it to prove what was paid. */
  readonly charges: Charge[] = [];
  /** How many times `charge` was called, successful or not. */
  attempts = 0;

  constructor(private readonly options: SimulationOptions = {}) {}

  /** Charges `amount`, or throws {@link TransientError} / {@link PaymentDeclinedError}. */
  async charge(reference: string, amount: number): Promise<Charge> {
    this.attempts += 1;
    if (this.attempts <= (this.options.gatewayFailFirst ?? 0)) {
      throw new TransientError(`payment gateway unavailable (simulated failure ${this.attempts} of ${this.options.gatewayFailFirst})`);
    }
    const limit = this.options.gatewayDeclineOver;
    if (limit !== undefined && amount > limit) {
      throw new PaymentDeclinedError(`insufficient funds: ${reference} needs ${amount.toFixed(2)}, the limit is ${limit.toFixed(2)}`);
    }
    const charge = { chargeId: `ch_${String(this.charges.length + 1).padStart(6, '0')}`, reference, amount };
    this.charges.push(charge);
    return charge;
  }
}

/** An in-memory ERP that checks an invoice against its purchase order. */
export class Erp {
  private attempts = 0;

  constructor(private readonly options: SimulationOptions = {}) {}

  /** Resolves when the invoice matches; throws {@link TransientError} or {@link InvoiceMismatchError}. */
  async check(invoice: Invoice): Promise<void> {
    this.attempts += 1;
    if (this.attempts <= (this.options.erpFailFirst ?? 0)) {
      throw new TransientError(`ERP timed out (simulated failure ${this.attempts} of ${this.options.erpFailFirst})`);
    }
    const total = invoiceTotal(invoice.lines);
    const max = this.options.erpMaxTotal ?? 100_000;
    if (total > max) {
      throw new InvoiceMismatchError(`invoice ${invoice.id} totals ${total.toFixed(2)}, above its purchase order of ${max.toFixed(2)}`);
    }
  }
}

/** Reads the switches from the environment; a malformed value is an error, not a silent default. */
export function simulationFromEnv(env: NodeJS.ProcessEnv = process.env): SimulationOptions {
  return {
    gatewayFailFirst: numberVar(env, 'GATEWAY_FAIL_FIRST'),
    gatewayDeclineOver: numberVar(env, 'GATEWAY_DECLINE_OVER'),
    erpFailFirst: numberVar(env, 'ERP_FAIL_FIRST'),
    erpMaxTotal: numberVar(env, 'ERP_MAX_TOTAL'),
  };
}

function numberVar(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number of 0 or more, not "${raw}".`);
  return value;
}
