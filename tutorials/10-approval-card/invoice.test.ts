// Proof for step 10: the approval card, in a real browser, on a real Temporal with the step's worker.
// A minimal host (shared/mcp-app-host/: ext-apps' own AppBridge and PostMessageTransport in headless
// Chromium) shows the card that review_invoice opens, connected to the step's real MCP server.
//   1. A client without MCP Apps sees step 08's tools, unchanged.
//   2. The host hands the model review_invoice, and neither the card's tools nor approve/reject.
//   3. The card shows the invoice from a real review_invoice result; Approve sends the Update, and
//      the card shows PAID once the workflow has paid.
//   4. Reject with a reason: the card shows REJECTED, and nothing is paid.
//   5. A click in a card left stale after another person approved: the card shows the workflow's
//      refusal, and nothing changes (paid once).
// Without Chrome/Chromium the browser proofs say so and are skipped, except in CI, where they fail.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { Browser, FrameLocator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../shared/binaries.js';
import { findBrowser, INSTALL_BROWSER, launchBrowser } from '../../shared/browser.js';
import { startDevServer, type DevServer } from '../../shared/dev-server.js';
import { invoiceWorkflowId, sampleInvoice } from '../../shared/invoice.js';
import { Erp } from '../../shared/simulated-systems.js';
import { bundleOnce, uniqueName, waitFor } from '../../shared/testing.js';
import { createActivities, Outbox } from './activities.js';
import { CARD_TOOLS, CARD_URI } from './card.js';
import { LedgerGateway } from './ledger.js';
import { cardHtml } from './view/build.js';
import { connectClient, openTestHost, type TestHost } from '../../shared/mcp-app-host/index.js';
import { getInvoiceStatus, TASK_QUEUE } from './workflows.js';

const browserPath = findBrowser();
if (!browserPath) console.warn(`step 10: no Chrome or Chromium was found, so the card's browser proofs are ${process.env.CI ? 'FAILING (CI must run them)' : 'skipped'}.\n${INSTALL_BROWSER}`);

let temporal: DevServer;
let env: TestWorkflowEnvironment;
let gateway: LedgerGateway;
let worker: Worker;
let running: Promise<void>;
let dir: string;
let createServer: typeof import('./server.js').createServer;
let saved: { address?: string; namespace?: string } = {};
const clients: McpClient[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(REPO_ROOT, '.temporal', 'test-10-'));
  // The dev server starts while the workflows and the card are bundled.
  const [server, workflowBundle] = await Promise.all([startDevServer(), bundleOnce(new URL('./workflows.ts', import.meta.url)), cardHtml()]);
  temporal = server;
  // server.ts reads where Temporal is when it loads, as it does when Claude Desktop starts it.
  saved = { address: process.env.TEMPORAL_ADDRESS, namespace: process.env.TEMPORAL_NAMESPACE };
  process.env.TEMPORAL_ADDRESS = temporal.address;
  process.env.TEMPORAL_NAMESPACE = 'default';
  ({ createServer } = await import('./server.js'));
  env = await TestWorkflowEnvironment.createFromExistingServer({ address: temporal.address });
  gateway = new LedgerGateway(join(dir, 'ledger.jsonl'));
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUE,
    workflowBundle,
    activities: createActivities(new Erp(), gateway, new Outbox()),
  });
  running = worker.run();
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running?.catch(() => {});
  await env?.teardown();
  await temporal?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  // Other test files may share this process: leave its environment as it was.
  for (const [name, value] of [['TEMPORAL_ADDRESS', saved.address], ['TEMPORAL_NAMESPACE', saved.namespace]] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

/** An MCP client on a fresh server of the step; `apps`: it says it renders MCP Apps, as a host does. */
async function client(apps: boolean): Promise<McpClient> {
  const c = await connectClient(createServer(), apps);
  clients.push(c);
  return c;
}

const STEP_08_TOOLS = ['process_invoice', 'approve_invoice', 'reject_invoice', 'get_invoice_status', 'list_invoices'];

describe('10-approval-card: what each client is offered', () => {
  // That they are unchanged, schemas and annotations too, is compared with step 08's own server in
  // scripts/step-contracts.test.ts (a step's test imports no other step).
  it('proof 1: a client without MCP Apps sees step 08 tools, by name and in order', async () => {
    const plain = await client(false);
    expect((await plain.listTools()).tools.map((t) => t.name)).toEqual(STEP_08_TOOLS);
  });

  it('the card declares the strictest CSP there is: no domain of any kind, in the listing and in the resource', async () => {
    const host = await client(true);
    // Exactly this: a host builds the card's Content-Security-Policy from it, so anything looser (or
    // nothing at all, which a host may fill with its own defaults) would let the card reach out.
    const strictest = { connectDomains: [], resourceDomains: [], frameDomains: [], baseUriDomains: [] };
    const listed = (await host.listResources()).resources.find((r) => r.uri === CARD_URI);
    expect((listed?._meta?.ui as { csp?: unknown } | undefined)?.csp).toEqual(strictest);
    const [content] = (await host.readResource({ uri: CARD_URI })).contents;
    expect((content._meta?.ui as { csp?: unknown } | undefined)?.csp).toEqual(strictest);
  });

  it('Part A: proof 2: the host hands the model review_invoice, not the card tools nor approve/reject', async () => {
    const host = await client(true);
    const tools = (await host.listTools()).tools;
    // The server lists the card's tools, marked for the app only; the host leaves them out for the model.
    const appOnly = tools.filter((t) => (t._meta?.ui as { visibility?: string[] } | undefined)?.visibility?.join() === 'app').map((t) => t.name);
    expect(appOnly).toEqual([...CARD_TOOLS]);
    const { isToolVisibilityAppOnly } = await import('@modelcontextprotocol/ext-apps/app-bridge');
    expect(tools.filter((t) => !isToolVisibilityAppOnly(t)).map((t) => t.name)).toEqual(['process_invoice', 'get_invoice_status', 'list_invoices', 'review_invoice']);
  });
});

/**
 * Runs `code` in the first card's frame as the card's own script (an inline script it adds, on a
 * later tick): code the test evaluates directly comes from the browser's devtools, which the CSP
 * lets eval.
 */
function asCard(host: TestHost, code: string): Promise<unknown> {
  const frame = host.page.frames().find((f) => f !== host.page.mainFrame())!;
  return frame.evaluate(
    (body) =>
      new Promise((resolve) =>
        setTimeout(() => {
          const script = document.createElement('script');
          script.textContent = `window.cardResult = (async () => { ${body} })();`;
          document.body.append(script);
          resolve((window as unknown as { cardResult: Promise<unknown> }).cardResult);
        }),
      ),
    code,
  );
}

describe.skipIf(!browserPath && !process.env.CI)('10-approval-card: the card in a real browser', () => {
  let browser: Browser;
  let host: TestHost;
  let model: McpClient; // the host's MCP connection, which its model's tool calls use too

  beforeAll(async () => {
    if (!browserPath) throw new Error(`CI is set, and the card's browser proofs need Chrome or Chromium.\n${INSTALL_BROWSER}`);
    browser = await launchBrowser(browserPath);
    model = await client(true);
    host = await openTestHost(browser, model);
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** Submits an invoice as the model would, and waits until it awaits approval. */
  async function submitted(): Promise<string> {
    const invoice = sampleInvoice(uniqueName('INV'));
    const result = await model.callTool({ name: 'process_invoice', arguments: invoice });
    expect(result.isError).toBeFalsy();
    await waitFor(() => env.client.workflow.getHandle(invoiceWorkflowId(invoice.id)).query(getInvoiceStatus), (s) => s.state === 'AWAITING_APPROVAL', { retryErrors: true });
    return invoice.id;
  }
  const text = (card: FrameLocator, id: string) => card.locator(`#${id}`).textContent();
  const shows = (card: FrameLocator, id: string, expected: RegExp) => waitFor(() => text(card, id), (t) => expected.test(t ?? ''));
  const charges = (invoiceId: string) => gateway.charges().filter((c) => c.idempotencyKey.startsWith(`${invoiceWorkflowId(invoiceId)}/`));

  it('proof 3: the card shows the invoice from review_invoice; Approve sends the Update, then the card shows PAID', async () => {
    const id = await submitted();
    const card = await host.showCard('review_invoice', { invoice_id: id });
    await shows(card, 'title', new RegExp(`Invoice ${id} · ACME Corp`));
    expect(await card.locator('#lines tr').allTextContents()).toEqual(['Laptop stand49.99', 'USB-C dock129.00', 'Ergonomic keyboard89.50']);
    expect(await text(card, 'total')).toBe('268.49');
    await shows(card, 'state', /^AWAITING_APPROVAL$/);
    await shows(card, 'deadline', /^Decide within 4d 23h \d+m/); // 5 days, counting down

    await card.locator('#name').fill('alice');
    await card.locator('#approve').click();
    await shows(card, 'state', /^PAID$/);
    await shows(card, 'decision', /^Approved by alice, .* · paid 268\.49$/);
    expect(charges(id).map((c) => c.amount)).toEqual([49.99, 129, 89.5]);
    expect(host.appCalls).toContain('card_approve_invoice');
    expect(host.consoleErrors).toEqual([]); // under the card's CSP: nothing refused, no eval, no network
    // And that CSP is in force in the card's frame: the card's own code could not eval, nor fetch.
    expect(await asCard(host, `try { new Function('return 1')(); return 'eval ran'; } catch { return 'eval refused'; }`)).toBe('eval refused');
    const refused = `new Promise((r) => { document.addEventListener('securitypolicyviolation', (e) => r(e.violatedDirective)); fetch('http://127.0.0.1:9/').catch(() => {}); })`;
    expect(await asCard(host, `return ${refused};`)).toBe('connect-src');
  });

  it('Part A, Part B, Part C: proof 4: Reject with a reason: the card shows REJECTED and nothing is paid', async () => {
    const id = await submitted();
    const card = await host.showCard('review_invoice', { invoice_id: id });
    await shows(card, 'state', /^AWAITING_APPROVAL$/);
    await card.locator('#name').fill('alice');
    await card.locator('#reason').fill('Wrong customer');
    await card.locator('#reject').click();
    await shows(card, 'state', /^REJECTED$/);
    await shows(card, 'decision', /^Rejected \(Wrong customer\) by alice/);
    const status = await env.client.workflow.getHandle(invoiceWorkflowId(id)).query(getInvoiceStatus);
    expect(status).toMatchObject({ state: 'REJECTED', amountPaid: 0, decision: { approved: false, by: 'alice', reason: 'Wrong customer' } });
    expect(charges(id)).toEqual([]);
  });

  it('proof 5: a click in a stale card after another decision shows the refusal, and nothing changes', async () => {
    const id = await submitted();
    const approvalsBefore = host.appCalls.filter((c) => c === 'card_approve_invoice').length;
    const [mine, theirs] = [await host.showCard('review_invoice', { invoice_id: id }), await host.showCard('review_invoice', { invoice_id: id })];
    await shows(mine, 'state', /^AWAITING_APPROVAL$/);
    await host.holdReads(); // my card refreshes no more, as on a slow network: it still offers Approve
    try {
      await theirs.locator('#name').fill('bob');
      await theirs.locator('#approve').click();
      await shows(theirs, 'decision', /^Approved by bob/);

      expect(await text(mine, 'state')).toBe('AWAITING_APPROVAL');
      await mine.locator('#name').fill('alice');
      await mine.locator('#approve').click();
      // The workflow's words, not the card's guess: the click reached the server and was refused.
      await shows(mine, 'message', /approved by bob/);
      expect(await text(mine, 'decision')).toBe('');
    } finally {
      host.releaseReads();
    }
    await shows(mine, 'state', /^PAID$/); // and the card catches up with the truth
    await shows(mine, 'decision', /^Approved by bob/);
    const status = await env.client.workflow.getHandle(invoiceWorkflowId(id)).query(getInvoiceStatus);
    expect(status).toMatchObject({ state: 'PAID', amountPaid: 268.49, decision: { approved: true, by: 'bob' } });
    expect(charges(id)).toHaveLength(3); // paid once, not twice
    // Two clicks reached the server, bob's and mine; only bob's decided.
    expect(host.appCalls.filter((c) => c === 'card_approve_invoice').length - approvalsBefore).toBe(2);
  });
});
