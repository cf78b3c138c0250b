/// <reference lib="dom" />
// The approval card's view: runs in the host's sandboxed iframe, bundled into card.html by
// build.ts. It talks to nothing but the host (postMessage, through the App class), and the host
// passes its calls on to this server: the tool result that opened it, then the card_* tools.
// It shows only what the workflow said: after a click, the Update's answer or its refusal.
// Step 11: no name to type. The server decides as the person it identified, and the card shows
// who submitted the invoice and who decided it, by name, as the workflow recorded them.
import { App, applyDocumentTheme, applyHostFonts, applyHostStyleVariables } from '@modelcontextprotocol/ext-apps';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { CardInvoice } from '../card.js';

/** How often an open card asks the workflow where the invoice stands, until it is final. */
const REFRESH_MS = 2_000;
const FINAL = ['PAID', 'REJECTED', 'TIMED_OUT', 'FAILED'];

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const reasonInput = $<HTMLInputElement>('reason');

let invoiceId: string | undefined;
let status: CardInvoice['status'] | undefined;
/** What the host says about itself: theme, style variables, fonts, locale. */
type HostContext = NonNullable<ReturnType<App['getHostContext']>>;

// #region app
const app = new App({ name: 'Invoice approval card', version: '1.0.0' });

// The result of review_invoice, which opened this card: the invoice and its state.
app.ontoolresult = (result) => {
  const card = result.structuredContent as CardInvoice | undefined;
  if (!card?.invoice) return showMessage(textOf(result as CallToolResult) || 'The invoice could not be read.', true);
  invoiceId = card.invoice.id;
  showInvoice(card.invoice);
  showStatus(card.status);
  void refresh();
};

// Light or dark, colours and fonts: whatever the host uses, now and when it changes.
function followHost(context: HostContext): void {
  if (context.theme) applyDocumentTheme(context.theme);
  if (context.styles?.variables) applyHostStyleVariables(context.styles.variables);
  if (context.styles?.css?.fonts) applyHostFonts(context.styles.css.fonts);
}
app.onhostcontextchanged = followHost;
// #endregion app

// #region refresh
/** Reads the live state through the app-only read tool, again and again while the invoice can still change. */
async function refresh(): Promise<void> {
  if (!invoiceId) return;
  try {
    const result = await app.callServerTool({ name: 'card_get_invoice', arguments: { invoice_id: invoiceId } });
    if (!result.isError) showStatus((result.structuredContent as Pick<CardInvoice, 'status'>).status);
  } catch {
    // The host or the server is away for a moment: the card keeps what it last knew, and asks again.
  }
  if (!status || !FINAL.includes(status.state)) setTimeout(() => void refresh(), REFRESH_MS);
}
// #endregion refresh

// #region approve-click
$('approve').addEventListener('click', () => {
  // No name: the server knows who is deciding, and the workflow decides whether they may.
  void send('card_approve_invoice', { invoice_id: invoiceId });
});
// #endregion approve-click

$('reject').addEventListener('click', () => {
  const reason = reasonInput.value.trim();
  if (!reason) return showMessage('Type the reason to reject.', true);
  void send('card_reject_invoice', { invoice_id: invoiceId, reason });
});

// #region send
/** Sends a decision and shows what the workflow answered: its new state, or why it refused. */
async function send(tool: string, args: Record<string, unknown>): Promise<void> {
  setBusy(true);
  showMessage('Sending your decision…');
  try {
    const result = await app.callServerTool({ name: tool, arguments: args });
    if (result.isError) {
      showMessage(textOf(result), true); // the validator's words, e.g. "... so cannot also approve it (four eyes)"
    } else {
      const { status: after } = result.structuredContent as Pick<CardInvoice, 'status'>;
      showStatus(after);
      showMessage(`The invoice took your decision: it is ${after.state}.`);
    }
  } catch (err) {
    showMessage(`Your decision could not be sent (${err instanceof Error ? err.message : String(err)}); nothing was decided. Try again.`, true);
  } finally {
    setBusy(false);
  }
}
// #endregion send

function showInvoice(invoice: CardInvoice['invoice']): void {
  $('title').textContent = `Invoice ${invoice.id} · ${invoice.customer}`;
  $('lines').replaceChildren(
    ...invoice.lines.map((line) => {
      const row = document.createElement('tr');
      row.append(cell(line.item), cell(money(line.amount), 'amount'));
      return row;
    }),
  );
  $('total').textContent = money(invoice.lines.reduce((sum, line) => sum + line.amount, 0));
}

/** Shows the workflow's status: its state, its decision, and the form while it awaits one. */
function showStatus(next: CardInvoice['status']): void {
  status = next;
  const state = $('state');
  state.textContent = next.state;
  state.dataset.state = next.state;
  $('submitted').textContent = `Submitted by ${next.submittedBy.name}`; // step 11: who may not approve it
  const d = next.decision;
  $('decision').textContent = d ? `${d.approved ? 'Approved' : `Rejected (${d.reason})`} by ${d.by.name}, ${when(d.at)}` : '';
  $<HTMLFormElement>('decide').hidden = d !== null || FINAL.includes(next.state);
  if (next.state === 'PAID') $('decision').textContent += ` · paid ${money(next.amountPaid)}`;
  tick();
}

/** The deadline, counting down each second while the invoice waits for a decision. */
function tick(): void {
  const el = $('deadline');
  if (!status?.approvalDeadline || status.decision || FINAL.includes(status.state)) {
    el.textContent = status?.state === 'TIMED_OUT' ? 'The approval deadline passed; nothing was paid.' : '';
    return;
  }
  const left = Math.max(0, Date.parse(status.approvalDeadline) - Date.now());
  el.textContent = `Decide within ${duration(left)} (by ${when(status.approvalDeadline)}).`;
}
setInterval(tick, 1000);

function setBusy(busy: boolean): void {
  for (const id of ['approve', 'reject']) $<HTMLButtonElement>(id).disabled = busy;
}

function showMessage(text: string, refused = false): void {
  const el = $('message');
  el.textContent = text;
  el.classList.toggle('refused', refused);
}

function cell(text: string, className?: string): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text; // text, never HTML: an invoice's item names come from outside
  if (className) td.className = className;
  return td;
}

const money = (n: number) => n.toFixed(2);
const when = (iso: string) => new Date(iso).toLocaleString(app.getHostContext()?.locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: app.getHostContext()?.timeZone });
function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const [d, h, m] = [Math.floor(s / 86400), Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60)];
  return d > 0 ? `${d}d ${h}h ${m}m` : h > 0 ? `${h}h ${m}m ${s % 60}s` : `${m}m ${s % 60}s`;
}
function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : '')).join(' ').trim();
}

// #region connect
// Connect last, once every handler is set, so the first tool result is not missed.
app.connect().then(
  () => followHost(app.getHostContext() ?? {}),
  (err: unknown) => showMessage(`The card could not reach the host: ${err instanceof Error ? err.message : String(err)}`, true),
);
// #endregion connect
