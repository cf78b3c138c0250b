/**
 * Stand-ins for the external systems an invoice touches: an ERP that checks invoices and a
 * payment gateway that charges lines. They are not the lesson, so they live here; what the
 * steps teach is how a workflow copes when such systems are slow, flaky or say no.
 *
 * Switches, read by every step's worker from its command line or its environment (options in tests).
 * The flags work in every shell, PowerShell and cmd included; a flag wins over its variable:
 *
 * | flag | variable | effect |
 * | --- | --- | --- |
 * | `--gateway-fail-first N` | `GATEWAY_FAIL_FIRST=N` | the first N charges fail with a transient "gateway unavailable" error |
 * | `--gateway-decline-over X` | `GATEWAY_DECLINE_OVER=X` | a charge above amount X is declined: "insufficient funds", not worth retrying |
 * | `--erp-fail-first N` | `ERP_FAIL_FIRST=N` | the first N ERP checks fail with a transient "ERP timeout" |
 * | `--erp-max-total X` | `ERP_MAX_TOTAL=X` | an invoice whose total is above X does not match its purchase order (default 100000) |
 *
 * e.g. `npx tsx tutorials/01-activities/worker.ts --gateway-fail-first 3`.
 *
 * @module
 */
import { parseArgs } from 'node:util';
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

/** Each switch: its flag, its environment variable, and the option it sets. */
const SWITCHES = [
  { flag: 'gateway-fail-first', envVar: 'GATEWAY_FAIL_FIRST', option: 'gatewayFailFirst', example: '3' },
  { flag: 'gateway-decline-over', envVar: 'GATEWAY_DECLINE_OVER', option: 'gatewayDeclineOver', example: '100' },
  { flag: 'erp-fail-first', envVar: 'ERP_FAIL_FIRST', option: 'erpFailFirst', example: '2' },
  { flag: 'erp-max-total', envVar: 'ERP_MAX_TOTAL', option: 'erpMaxTotal', example: '100' },
] as const satisfies readonly { flag: string; envVar: string; option: keyof SimulationOptions; example: string }[];

/**
 * Reads the switches from the worker's command line and from the environment; a flag wins over
 * its variable. A malformed value is an error naming the flag or variable, not a silent default.
 * Other arguments are left alone (a worker may have flags of its own), except an unknown
 * `--gateway-...` or `--erp-...` flag: that is a typo of a switch, and ignoring it would run the
 * worker without the failure the learner asked for.
 *
 * @param env - the environment; defaults to `process.env`.
 * @param argv - the arguments after the script; defaults to `process.argv.slice(2)`.
 */
export function simulationFromEnv(env: NodeJS.ProcessEnv = process.env, argv: string[] = process.argv.slice(2)): SimulationOptions {
  const flags = simulationFlags(argv);
  const options: SimulationOptions = {};
  for (const s of SWITCHES) {
    options[s.option] = flags[s.option] ?? numberVar(env, s.envVar);
  }
  return options;
}

/** Only the switches given as flags, e.g. `['--gateway-fail-first', '3']` → `{ gatewayFailFirst: 3 }`. */
export function simulationFlags(argv: string[]): SimulationOptions {
  const { tokens } = parseArgs({
    args: argv,
    strict: false,
    allowPositionals: true,
    tokens: true,
    options: Object.fromEntries(SWITCHES.map((s) => [s.flag, { type: 'string' as const }])),
  });
  const options: SimulationOptions = {};
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const known = SWITCHES.find((s) => s.flag === token.name);
    if (!known) {
      if (/^(gateway|erp)-/.test(token.name)) {
        throw new Error(`${token.rawName} is not a switch of the simulated systems; they are ${SWITCHES.map((s) => `--${s.flag}`).join(', ')}.`);
      }
      continue;
    }
    const usage = `for example --${known.flag} ${known.example}`;
    if (token.value === undefined) throw new Error(`--${known.flag} needs a number of 0 or more after it, ${usage}.`);
    options[known.option] = parseCount(token.value, `--${known.flag}`, usage);
  }
  return options;
}

function numberVar(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  return parseCount(raw, name, `for example ${name}=${SWITCHES.find((s) => s.envVar === name)?.example ?? '3'}`);
}

function parseCount(raw: string, name: string, usage: string): number {
  const value = raw.trim() === '' ? NaN : Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number of 0 or more, not "${raw}" (${usage}).`);
  return value;
}
