/**
 * Small pieces the steps' command-line clients share.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import ms, { type StringValue } from 'ms';
import { workflowUrl } from './config.js';
import { invoiceWorkflowId, newInvoiceId, parseInvoice, sampleInvoice, type Invoice } from './invoice.js';

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
  let millis: number;
  try {
    millis = ms(text.trim() as StringValue); // the same parser Temporal uses for '5 days'
  } catch {
    millis = NaN;
  }
  if (!(millis >= 1000)) throw new Error(`${what} "${text}" is not a duration of 1 second or more; try "2 minutes", "12 hours" or "5 days".`);
  return millis;
}

/**
 * For `.catch()` after `client.workflow.start(...)`: turns "a workflow with this id already
 * exists" into what it means for an invoice, and rethrows anything else.
 */
export function alreadyProcessed(invoiceId: string): (err: unknown) => never {
  return (err) => {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    throw new Error(
      `Invoice ${invoiceId} was already submitted, so it was not started again: an invoice id is processed once, ` +
        `which is what keeps it from being paid twice. See it at ${workflowUrl(invoiceWorkflowId(invoiceId))}, or give ` +
        'this invoice a new --id.',
    );
  };
}
