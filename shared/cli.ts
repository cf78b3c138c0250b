/**
 * Small pieces the steps' command-line clients share.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
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
