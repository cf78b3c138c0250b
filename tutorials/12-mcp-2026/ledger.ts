// The payment gateway's ledger, on disk, shared by every worker process: when a worker dies and
// another takes over, the record of what was charged survives both of them. And it honours
// idempotency keys, as real gateways do: a charge whose key it has seen before is not made again;
// the first charge is returned instead.
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** One line of the ledger: money that moved. */
export interface LedgerCharge {
  chargeId: string;
  /** The caller's key: the same key twice means "the same charge". */
  idempotencyKey: string;
  /** What the charge was for, e.g. `invoice-INV-1/line-0`. */
  reference: string;
  amount: number;
  at: string;
}

/** A payment gateway whose charges are one JSON line each in `path`. */
export class LedgerGateway {
  constructor(
    readonly path: string,
    /** How long a charge takes in total; half before the money moves, half after. */
    private readonly delayMs = 0,
  ) {
    mkdirSync(dirname(path), { recursive: true });
  }

  /** Every charge in the ledger, in order. */
  charges(): LedgerCharge[] {
    if (!existsSync(this.path)) return [];
    return readFileSync(this.path, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as LedgerCharge);
  }

  // #region charge
  /**
   * Charges `amount` once per `idempotencyKey`. `onProgress` is called while the gateway works
   * (the activity heartbeats there), and may throw to abandon the call.
   */
  async charge(idempotencyKey: string, reference: string, amount: number, onProgress: () => void = () => {}): Promise<LedgerCharge> {
    await this.wait(this.delayMs / 2, onProgress);
    // A retry after a crash lands here with a key that was already charged: return that charge.
    // Read-then-append is enough here because the old worker is really dead (SIGKILL) before a
    // retry runs. A real gateway checks and records the key atomically, which also covers a worker
    // that is stalled rather than dead and still finishing its attempt.
    const existing = this.charges().find((c) => c.idempotencyKey === idempotencyKey);
    if (existing) return existing;
    const charge: LedgerCharge = {
      chargeId: `ch_${idempotencyKey.replace(/[^A-Za-z0-9]+/g, '_')}`,
      idempotencyKey,
      reference,
      amount,
      at: new Date().toISOString(),
    };
    appendFileSync(this.path, `${JSON.stringify(charge)}\n`); // one small append: all or nothing
    // The money has moved; the answer has not reached the worker yet. A crash in this window is
    // exactly what the idempotency key is for.
    await this.wait(this.delayMs / 2, onProgress);
    return charge;
  }
  // #endregion charge

  private async wait(ms: number, onProgress: () => void): Promise<void> {
    for (let left = ms; left > 0; left -= 100) {
      onProgress();
      await new Promise((resolve) => setTimeout(resolve, Math.min(100, left)));
    }
  }
}

/** References charged more than once: the number a learner checks is 0. */
export function duplicateCharges(charges: LedgerCharge[]): string[] {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const c of charges) (seen.has(c.reference) ? duplicates : seen).add(c.reference);
  return [...duplicates];
}
