/**
 * The invoice every step works on: its type, and the one zod schema that validates it.
 *
 * Workflows import only the types (`import type`), so zod never enters the workflow bundle.
 *
 * @module
 */
import { z } from 'zod';

/** Most lines one invoice may carry; a longer one is split by the sender. */
export const MAX_LINES = 50;
/** Largest amount of one line, in the invoice's currency. */
export const MAX_LINE_AMOUNT = 1_000_000;

/** "is required" for a missing field, "must be <kind>" for a wrong type. */
const typeError = (field: string, kind: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? `${field} is required` : `${field} must be ${kind}`;

const text = (field: string, max: number) =>
  z
    .string({ error: typeError(field, 'a string') })
    .trim()
    .min(1, `${field} must not be empty`)
    .max(max, `${field} must be at most ${max} characters`);

/** Names unknown fields (typos such as "ammount") and says what shape was expected. */
function objectError(expected: string) {
  return (issue: z.core.$ZodRawIssue) =>
    issue.code === 'unrecognized_keys'
      ? `unknown field(s) ${issue.keys.join(', ')} (remove them, or check the spelling)`
      : issue.code === 'invalid_type'
        ? expected
        : undefined;
}

/** One line of an invoice: what was bought and what it costs. */
export const InvoiceLineSchema = z.strictObject(
  {
    item: text('item', 100).describe('What was bought, e.g. "Laptop stand".'),
    amount: z
      .number({
        error: (issue) =>
          typeof issue.input === 'number' ? 'amount must be a finite number' : typeError('amount', 'a number')(issue),
      })
      .refine((n) => n > 0, 'amount must be greater than 0')
      .refine((n) => n <= MAX_LINE_AMOUNT, `amount must be at most ${MAX_LINE_AMOUNT}`)
      .refine((n) => Math.round(n * 100) / 100 === n, 'amount must have at most 2 decimal places')
      .describe('Price of this line, a positive number with at most 2 decimals.'),
    description: text('description', 500).optional().describe('Optional free text about the line.'),
  },
  { error: objectError('each line must be an object with item, amount and optional description') },
);

/** An invoice to approve and pay. Unknown fields are rejected, so a typo never passes silently. */
export const InvoiceSchema = z.strictObject(
  {
    id: z
      .string({ error: typeError('id', 'a string') })
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
        'id must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit',
      )
      .describe('Your invoice number, e.g. "INV-1001". It becomes the workflow id invoice-<id>.'),
    customer: text('customer', 200).describe('Who is being paid, e.g. "ACME Corp".'),
    lines: z
      .array(InvoiceLineSchema, { error: typeError('lines', 'a list of invoice lines') })
      .min(1, 'lines must contain at least one line')
      .max(MAX_LINES, `lines must contain at most ${MAX_LINES} lines`)
      .describe(`The lines to pay, 1 to ${MAX_LINES}.`),
  },
  { error: objectError('the invoice must be an object with id, customer and lines') },
);

/** A validated invoice. */
export type Invoice = z.infer<typeof InvoiceSchema>;
/** One validated invoice line. */
export type InvoiceLine = z.infer<typeof InvoiceLineSchema>;

/** One line that was charged. */
export interface Payment {
  /** Position of the line in the invoice, from 0. */
  lineIndex: number;
  item: string;
  amount: number;
  /** The gateway's id for the charge. */
  chargeId: string;
}

/** The invoice did not pass validation; `issues` names each bad field. */
export class InvoiceValidationError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid invoice: ${issues.join('; ')}.`);
    this.name = 'InvoiceValidationError';
  }
}

/**
 * Validates untrusted input (a CLI argument, an MCP tool call) as an {@link Invoice}.
 *
 * @throws {@link InvoiceValidationError} naming every bad field, e.g. `lines[1].amount: amount must be greater than 0`.
 */
export function parseInvoice(input: unknown): Invoice {
  const result = InvoiceSchema.safeParse(input);
  if (result.success) return result.data;
  throw new InvoiceValidationError(result.error.issues.map((i) => `${fieldPath(i.path)}: ${i.message}`));
}

/** `['lines', 1, 'amount']` → `lines[1].amount`; the empty path is the invoice itself. */
export function fieldPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'invoice';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('');
}

/** Sum of the line amounts, rounded to cents (0.1 + 0.2 is 0.3 here). */
export function invoiceTotal(lines: readonly { amount: number }[]): number {
  return Math.round(lines.reduce((sum, l) => sum + l.amount * 100, 0)) / 100;
}

/** The workflow id of an invoice: one workflow per invoice, found again by its id. */
export function invoiceWorkflowId(invoiceId: string): string {
  return `invoice-${invoiceId}`;
}

/** A fresh invoice id such as `INV-LZ3K9Q`, so every run of a client starts a new invoice. */
export function newInvoiceId(): string {
  return `INV-${Date.now().toString(36).toUpperCase()}`;
}

/** A small invoice to try things with; `id` should be unique per run. */
export function sampleInvoice(id: string): Invoice {
  return {
    id,
    customer: 'ACME Corp',
    lines: [
      { item: 'Laptop stand', amount: 49.99, description: 'Aluminium, adjustable' },
      { item: 'USB-C dock', amount: 129.0 },
      { item: 'Ergonomic keyboard', amount: 89.5 },
    ],
  };
}
