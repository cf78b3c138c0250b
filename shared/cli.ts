/**
 * Small pieces the steps' command-line clients share.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time.js';
import { newInvoiceId, parseInvoice, sampleInvoice, type Invoice } from './invoice.js';

/**
 * The invoice a client starts: read from `--file` (JSON, validated), or the sample invoice
 * with `--id` or a fresh id.
 */
export async function invoiceFromOptions(options: { file?: string; id?: string }): Promise<Invoice> {
  if (!options.file) return sampleInvoice(options.id ?? newInvoiceId());
  let json: unknown;
  try {
    json = JSON.parse(await readFile(options.file, 'utf8'));
  } catch (err) {
    throw new Error(`Cannot read an invoice from ${options.file}: ${(err as Error).message}`);
  }
  const invoice = parseInvoice(json);
  return options.id ? { ...invoice, id: options.id } : invoice;
}

/**
 * Reads a human duration such as `"2 minutes"`, `"12 hours"`, `"5 days"` or `"90s"` as
 * milliseconds.
 *
 * @param what - names the input in the error, e.g. `--approval-timeout`.
 * @throws Error saying what was wrong and giving examples, for anything that is not a duration of at least 1 s.
 */
export function parseDuration(text: string, what: string): number {
  let ms: number;
  try {
    ms = msToNumber(text.trim() as Duration);
  } catch {
    ms = NaN;
  }
  if (!(ms >= 1000)) throw new Error(`${what} "${text}" is not a duration of 1 second or more; try "2 minutes", "12 hours" or "5 days".`);
  return ms;
}
