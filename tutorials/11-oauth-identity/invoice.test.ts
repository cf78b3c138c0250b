// Proof for step 11: who may approve comes from OAuth, and the workflow enforces the rules.
//   1. The rules, on the workflow itself (the path every caller takes): the submitter cannot approve
//      their own invoice (four eyes); an approver cannot approve over their role's limit.
//   2. Through a real MCP client over HTTP, signed in at a real authorization server (oidc-provider,
//      authorization code + PKCE): bob cannot approve his own invoice, carol cannot approve above her
//      limit, alice can, and the status and the Web UI name alice's subject.
//   3. The resource server refuses what it should: no token, an expired one, one for another
//      audience, a tampered signature (401), a token without the scope (403 insufficient_scope).
//   4. Its protected resource metadata has RFC 9728's fields, and the SDK's client finds its way from
//      a 401 through discovery and sign-in to the call.
//   5. The CLI client meets the same refusals as the tool: the rules are in the workflow.
// And step 10's approval card, carrying identity (over stdio, as the local user, MCP_LOCAL_USER):
//   6. A client without MCP Apps gets step 08's tools, without approved_by; a host's model gets
//      review_invoice, and the card's decision tools take no name.
//   7. In a real browser (shared/mcp-app-host/, headless Chromium), alice's card approves bob's invoice: PAID,
//      "Approved by alice", and the workflow recorded the local alice.
//   8. Reject with a reason in alice's card: REJECTED, nothing paid.
//   9. A click in a stale card after carol approved shows the workflow's refusal; paid once.
//  10. The rules through the card: bob's card refuses bob's own invoice (four eyes), carol's refuses
//      12,000 (over her limit), as the tool and the CLI do; nothing is paid.
// Without Chrome/Chromium the browser proofs say so and are skipped, except in CI, where they fail.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { OAuthProtectedResourceMetadataSchema } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { workflowMetadataQuery } from '@temporalio/workflow';
import { decodeJwt, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import type { Browser, FrameLocator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuthServer, signInAs, DEMO_USERS, type AuthServer } from '../../shared/auth-server.js';
import { REPO_ROOT, tsxCommand } from '../../shared/binaries.js';
import { findBrowser, INSTALL_BROWSER, launchBrowser } from '../../shared/browser.js';
import { freePort, startDevServer, type DevServer } from '../../shared/dev-server.js';
import { invoiceWorkflowId, sampleInvoice, type Invoice } from '../../shared/invoice.js';
import { startScript, type ScriptProcess } from '../../shared/processes.js';
import { Erp } from '../../shared/simulated-systems.js';
import { bundleOnce, uniqueName, waitFor } from '../../shared/testing.js';
import { createActivities, Outbox } from './activities.js';
import { localPerson } from './auth.js';
import { CARD_TOOLS, CARD_URI } from './card.js';
import { connectHttp, SignInProvider } from './client.js';
import { LedgerGateway } from './ledger.js';
import { connectClient, openTestHost, type TestHost } from '../../shared/mcp-app-host/index.js';
import { cardHtml } from './view/build.js';
import { approveInvoice, getInvoiceStatus, InvoiceWorkflow, TASK_QUEUE, type InvoiceStatus, type Person } from './workflows.js';

let temporal: DevServer;
let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
let auth: AuthServer;
let mcpServer: ScriptProcess;
let mcpUrl: string;
let signingKey: JWK;
let dir: string;
let gateway: LedgerGateway;
let createServer: typeof import('./server.js').createServer;
let saved: { address?: string; namespace?: string } = {};
const clients: McpClient[] = [];
/** Launched while the servers start, for the card's browser proofs. */
let browserLaunch: Promise<Browser> | undefined;

const browserPath = findBrowser();
if (!browserPath) console.warn(`step 11: no Chrome or Chromium was found, so the card's browser proofs are ${process.env.CI ? 'FAILING (CI must run them)' : 'skipped'}.\n${INSTALL_BROWSER}`);

beforeAll(async () => {
  dir = mkdtempSync(join(REPO_ROOT, '.temporal', 'test-11-'));
  // The test holds the authorization server's signing key, so it can also make the tokens a real
  // server would rarely hand out (expired, another audience, without the scope), signed for real.
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  signingKey = { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'test-key' };
  mcpUrl = `http://127.0.0.1:${await freePort()}/mcp`;
  if (browserPath) {
    browserLaunch = launchBrowser(browserPath);
    browserLaunch.catch(() => {}); // its failure is reported by the browser proofs, which await it
  }
  const [workflowBundle] = await Promise.all([
    bundleOnce(new URL('./workflows.ts', import.meta.url)),
    cardHtml(),
    (async () => {
      temporal = await startDevServer(); // a real `temporal server start-dev` on free loopback ports
      env = await TestWorkflowEnvironment.createFromExistingServer({ address: temporal.address });
    })(),
    (async () => {
      auth = await startAuthServer({ resources: [mcpUrl, 'http://127.0.0.1:9/another-mcp'], signingKey });
    })(),
  ]);
  // The card's server runs in this process (as in step 10's test); it reads where Temporal is when it loads.
  saved = { address: process.env.TEMPORAL_ADDRESS, namespace: process.env.TEMPORAL_NAMESPACE };
  process.env.TEMPORAL_ADDRESS = temporal.address;
  process.env.TEMPORAL_NAMESPACE = 'default';
  ({ createServer } = await import('./server.js'));
  gateway = new LedgerGateway(join(dir, 'ledger.jsonl'));
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUE,
    workflowBundle,
    activities: createActivities(new Erp(), gateway, new Outbox()),
  });
  running = worker.run();
  // The MCP server as a learner runs it: its own process, trusting the local authorization server.
  mcpServer = await startScript(new URL('./server.ts', import.meta.url), {
    name: 'mcp server',
    args: ['--http', '--port', new URL(mcpUrl).port],
    env: { TEMPORAL_ADDRESS: temporal.address, MCP_AUTH_ISSUER: auth.issuer },
    readyWhen: /serving Streamable HTTP/,
  });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
  await mcpServer?.kill();
  worker?.shutdown();
  await running;
  await env?.teardown();
  await temporal?.stop();
  await auth?.close();
  await (await browserLaunch?.catch(() => undefined))?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  // Other test files may share this process: leave its environment as it was.
  for (const [name, value] of [['TEMPORAL_ADDRESS', saved.address], ['TEMPORAL_NAMESPACE', saved.namespace]] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

/** An invoice for one amount, from one line. */
const invoiceFor = (amount: number): Invoice => ({ id: uniqueName('INV'), customer: 'ACME Corp', lines: [{ item: 'Consulting', amount }] });

/** A Person as the server makes it from a token of the local authorization server. */
const person = (login: keyof typeof DEMO_USERS): Person => ({ issuer: auth.issuer, subject: DEMO_USERS[login]!.sub, name: DEMO_USERS[login]!.name, roles: [...DEMO_USERS[login]!.roles] });

/** The workflow's refusals, word for word, whichever path the decision took. */
const literally = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const FOUR_EYES = (who: string) => new RegExp(`${literally(who)} submitted invoice .+, so cannot also approve it \\(four eyes\\)`);
const OVER_LIMIT = (who: string) => new RegExp(`over the 10000\\.00 that ${literally(who)} may approve`);

/** A real MCP client over HTTP, signed in as `login` by the authorization code flow with PKCE. */
async function signedIn(login: string): Promise<{ mcp: McpClient; provider: SignInProvider }> {
  const provider = new SignInProvider('http://127.0.0.1/callback');
  const mcp = await connectHttp(mcpUrl, provider, (authorizationUrl) => signInAs(authorizationUrl, login));
  return { mcp, provider };
}

async function call(mcp: McpClient, name: string, args: Record<string, unknown>) {
  const result = (await mcp.callTool({ name, arguments: args })) as CallToolResult;
  const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
  return { isError: result.isError === true, text, data: result.structuredContent as Record<string, unknown> | undefined };
}

describe('11-oauth-identity: the rules live in the workflow', () => {
  it('Part A: four eyes: whoever submitted an invoice cannot approve it, even a finance-lead', async () => {
    const invoice = sampleInvoice(uniqueName('INV'));
    const handle = await env.client.workflow.start(InvoiceWorkflow, { taskQueue: TASK_QUEUE, workflowId: invoiceWorkflowId(invoice.id), args: [invoice, { submittedBy: person('alice') }] });
    await waitFor(() => handle.query(getInvoiceStatus), (s) => s.state === 'AWAITING_APPROVAL', { retryErrors: true });
    // #region refused
    await expect(handle.executeUpdate(approveInvoice, { args: [{ by: person('alice') }] })).rejects.toMatchObject({
      cause: { message: expect.stringMatching(/Alice Archer \(u-1001\) submitted invoice .+, so cannot also approve it \(four eyes\)/) },
    });
    // #endregion refused
    expect((await handle.query(getInvoiceStatus)).decision).toBeNull();
    await handle.executeUpdate(approveInvoice, { args: [{ by: person('bob') }] });
    expect(await handle.result()).toMatchObject({ state: 'PAID', amountPaid: 268.49, decision: { by: { subject: 'u-1002' } }, submittedBy: { subject: 'u-1001' } });
  });

  it('Part B: a limit per role: an approver stops at 10,000, a finance-lead does not', async () => {
    const invoice = invoiceFor(12_000);
    const handle = await env.client.workflow.start(InvoiceWorkflow, { taskQueue: TASK_QUEUE, workflowId: invoiceWorkflowId(invoice.id), args: [invoice, { submittedBy: person('bob') }] });
    await waitFor(() => handle.query(getInvoiceStatus), (s) => s.state === 'AWAITING_APPROVAL', { retryErrors: true });
    await expect(handle.executeUpdate(approveInvoice, { args: [{ by: person('carol') }] })).rejects.toMatchObject({
      cause: { message: expect.stringMatching(/is for 12000\.00, over the 10000\.00 that Carol Chen \(u-1003\) may approve \(roles: approver\); it needs a finance-lead/) },
    });
    const noRole = { ...person('carol'), subject: 'u-1999', name: 'Dan', roles: ['submitter'] };
    await expect(handle.executeUpdate(approveInvoice, { args: [{ by: noRole }] })).rejects.toMatchObject({ cause: { message: expect.stringMatching(/Dan \(u-1999\) has no approver role \(submitter\)/) } });
    await handle.executeUpdate(approveInvoice, { args: [{ by: person('alice') }] });
    expect(await handle.result()).toMatchObject({ state: 'PAID', amountPaid: 12_000, decision: { approved: true, by: { subject: 'u-1001', roles: ['finance-lead'] } } });
  });
});

describe('11-oauth-identity: identity from the token, through MCP over HTTP', () => {
  it('Part A, Part B, Part C: proof 1: bob cannot approve his own invoice, carol cannot approve above her limit, alice can; the status and the Web UI name alice', async () => {
    const [bob, carol, alice] = await Promise.all([signedIn('bob'), signedIn('carol'), signedIn('alice')]);
    try {
      const invoice = invoiceFor(12_000);
      const submitted = await call(bob.mcp, 'process_invoice', invoice);
      expect(submitted.isError).toBe(false);
      await waitFor(() => call(bob.mcp, 'get_invoice_status', { invoice_id: invoice.id }), (r) => r.data?.state === 'AWAITING_APPROVAL');

      // No approved_by argument: the server takes the approver from the token.
      const byBob = await call(bob.mcp, 'approve_invoice', { invoice_id: invoice.id });
      expect(byBob).toMatchObject({ isError: true, text: expect.stringMatching(FOUR_EYES('Bob Baker (u-1002)')) });
      const byCarol = await call(carol.mcp, 'approve_invoice', { invoice_id: invoice.id });
      expect(byCarol).toMatchObject({ isError: true, text: expect.stringMatching(OVER_LIMIT('Carol Chen (u-1003)')) });
      // The model cannot name someone else: an approved_by argument is ignored, the token still says carol.
      const asAlice = await call(carol.mcp, 'approve_invoice', { invoice_id: invoice.id, approved_by: 'Alice Archer' });
      expect(asAlice).toMatchObject({ isError: true, text: expect.stringMatching(/that Carol Chen \(u-1003\) may approve/) });

      const byAlice = await call(alice.mcp, 'approve_invoice', { invoice_id: invoice.id });
      expect(byAlice).toMatchObject({ isError: false, text: expect.stringContaining('approved by Alice Archer (u-1001)') });
      const paid = await waitFor(() => call(alice.mcp, 'get_invoice_status', { invoice_id: invoice.id }), (r) => r.data?.state === 'PAID');
      const status = paid.data as unknown as InvoiceStatus;
      expect(status.decision).toMatchObject({ approved: true, by: { issuer: auth.issuer, subject: 'u-1001', name: 'Alice Archer', roles: ['finance-lead'] } });
      expect(status.submittedBy).toEqual({ issuer: auth.issuer, subject: 'u-1002', name: 'Bob Baker', roles: ['submitter', 'approver'] });

      // What an operator sees in the Web UI: who submitted, and who approved.
      const handle = env.client.workflow.getHandle(invoiceWorkflowId(invoice.id));
      const description = await handle.describe();
      expect(await description.staticSummary()).toBe(`Invoice ${invoice.id} · ACME Corp · 12000.00 · by Bob Baker`);
      expect(await description.staticDetails()).toMatch(/Submitted by Bob Baker \(u-1002\)\.$/);
      expect((await handle.query(workflowMetadataQuery)).currentDetails).toBe('Paid 12000.00 in 1 charge(s), approved by Alice Archer (u-1001).');
    } finally {
      await Promise.all([bob.mcp.close(), carol.mcp.close(), alice.mcp.close()]);
    }
  });
});

describe('11-oauth-identity: the resource server', () => {
  const metadataUrl = () => `${new URL(mcpUrl).origin}/.well-known/oauth-protected-resource/mcp`;
  const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } };
  const post = (token?: string) =>
    fetch(mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(initialize),
    });
  /** A token signed with the authorization server's own key: valid in every way `claims` does not change. */
  const forge = async (claims: Record<string, unknown>, expiresAt = Math.floor(Date.now() / 1000) + 600) =>
    new SignJWT({ iss: auth.issuer, sub: 'u-1001', aud: mcpUrl, iat: expiresAt - 600, exp: expiresAt, scope: 'invoices', client_id: 'invoice-cli', name: 'Alice Archer', roles: ['finance-lead'], ...claims })
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: signingKey.kid })
      .sign(await importJWK(signingKey, 'RS256'));

  it('proof 2: no token, an expired token, another audience and a tampered signature get 401; a token without the scope gets 403 insufficient_scope', async () => {
    const resourceMetadata = `resource_metadata="${metadataUrl()}"`;
    const { provider, mcp } = await signedIn('alice');
    await mcp.close();
    const real = provider.tokens()!.access_token;
    const [head, body, signature] = real.split('.');
    const tampered = `${head}.${body}.${signature!.slice(0, -4)}${signature!.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;

    // #region refusals
    const cases = {
      'no token': await post(),
      expired: await post(await forge({}, Math.floor(Date.now() / 1000) - 120)),
      'another audience': await post(await forge({ aud: 'http://127.0.0.1:9/another-mcp' })),
      'tampered signature': await post(tampered),
      'no invoices scope': await post(await forge({ scope: 'openid profile' })),
    };
    // #endregion refusals
    const seen: Record<string, { status: number; challenge: string | null; body: string }> = Object.fromEntries(
      await Promise.all(Object.entries(cases).map(async ([name, res]) => [name, { status: res.status, challenge: res.headers.get('www-authenticate'), body: await res.text() }])),
    );
    expect(seen['no token']).toMatchObject({ status: 401, challenge: expect.stringContaining(resourceMetadata) });
    expect(seen.expired).toMatchObject({ status: 401, challenge: expect.stringMatching(/^Bearer error="invalid_token", error_description="The access token has expired\."/) });
    for (const name of ['another audience', 'tampered signature']) {
      // One vague answer for both: an attacker learns nothing about which check failed.
      expect(seen[name]).toMatchObject({ status: 401, challenge: expect.stringMatching(/^Bearer error="invalid_token", error_description="The access token is not valid for this server\."/) });
      expect(seen[name]!.challenge).toContain(resourceMetadata);
    }
    expect(seen['no invoices scope']).toMatchObject({ status: 403, challenge: expect.stringMatching(/^Bearer error="insufficient_scope", .*scope="invoices"/) });
    for (const { body } of Object.values(seen)) expect(body).not.toMatch(/at .+\.(ts|js):\d+|node_modules/); // no stack trace, no paths

    // And the real token, untouched, goes through.
    expect((await post(real)).status).toBe(200);
    expect(decodeJwt(real)).toMatchObject({ iss: auth.issuer, aud: mcpUrl, sub: 'u-1001', scope: 'invoices' });
  });

  it('proof 3: the protected resource metadata has the fields RFC 9728 defines, naming this server and its authorization server', async () => {
    const res = await fetch(metadataUrl());
    expect(res.status).toBe(200);
    const metadata = OAuthProtectedResourceMetadataSchema.parse(await res.json());
    // RFC 9728 §3.3: `resource` must be the URL the client asked about, or the client must not use it.
    expect(metadata).toMatchObject({ resource: mcpUrl, authorization_servers: [auth.issuer], scopes_supported: ['invoices'], resource_name: 'Invoice approvals' });
  });

  it('proof 4: the SDK client goes from a 401 through discovery and sign-in (PKCE, resource indicator) to the call', async () => {
    const { mcp, provider } = await signedIn('carol');
    try {
      // #region discovery
      const sent = provider.authorizationUrl!;
      expect(sent.origin).toBe(auth.issuer); // found through the server's metadata, not configured in the client
      expect(Object.fromEntries(sent.searchParams)).toMatchObject({ client_id: 'invoice-cli', response_type: 'code', code_challenge_method: 'S256', resource: mcpUrl, scope: 'invoices' });
      // #endregion discovery
      expect(decodeJwt(provider.tokens()!.access_token)).toMatchObject({ aud: mcpUrl, sub: 'u-1003', name: 'Carol Chen', roles: ['approver'] });
      const listed = await call(mcp, 'list_invoices', { limit: 1 });
      expect(listed.isError).toBe(false);
    } finally {
      await mcp.close();
    }
  });
});

/** Runs client.ts against the HTTP server, signing in as `login` when it prints its link. */
async function cli(login: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { command, args: argv } = tsxCommand(new URL('./client.ts', import.meta.url), [...args, '--url', mcpUrl]);
  const child = spawn(command, argv, { env: { ...process.env, TEMPORAL_ADDRESS: temporal.address }, stdio: ['ignore', 'pipe', 'pipe'] });
  let [stdout, stderr, signedIn] = ['', '', false];
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    const link = /Sign in: (\S+)/.exec(stderr)?.[1];
    if (link && !signedIn) {
      signedIn = true;
      void signInAs(link, login, { deliver: true }); // the "browser" comes back to the client's loopback address
    }
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, stdout, stderr };
}

describe('11-oauth-identity: every path meets the same rules', () => {
  it('Part A, Part B, Part C: proof 5: the CLI client, signed in by the browser flow, gets the refusals the tool gets', async () => {
    // bob submits through the tool (as proof 1 did), then approves, and carol approves, through the CLI.
    const invoice = invoiceFor(12_000);
    const bob = await signedIn('bob');
    await call(bob.mcp, 'process_invoice', invoice).finally(() => bob.mcp.close());
    const handle = env.client.workflow.getHandle(invoiceWorkflowId(invoice.id));
    await waitFor(() => handle.query(getInvoiceStatus), (s) => s.state === 'AWAITING_APPROVAL', { retryErrors: true });
    const [byBob, byCarol] = await Promise.all([cli('bob', ['approve', invoice.id]), cli('carol', ['approve', invoice.id])]);
    expect(byBob).toMatchObject({ code: 1, stderr: expect.stringMatching(FOUR_EYES('Bob Baker (u-1002)')) });
    expect(byCarol).toMatchObject({ code: 1, stderr: expect.stringMatching(OVER_LIMIT('Carol Chen (u-1003)')) });
    expect((await handle.query(getInvoiceStatus)).decision).toBeNull();
  });
});

// Step 10's card, over stdio in Claude Desktop: there is no token, so the person is the local user.
// Each server here is the one `MCP_LOCAL_USER=<login> MCP_LOCAL_ROLES=<roles> server.ts` builds.
const LOCAL_ROLES = { alice: 'finance-lead', bob: 'submitter,approver', carol: 'approver' } as const;
type Local = keyof typeof LOCAL_ROLES;

/** An MCP client on a server of the step run by the local user `login`; `apps`: it says it renders MCP Apps, as a host does. */
async function localClient(login: Local, apps: boolean): Promise<McpClient> {
  const c = await connectClient(createServer(() => localPerson({ MCP_LOCAL_USER: login, MCP_LOCAL_ROLES: LOCAL_ROLES[login] })), apps);
  clients.push(c);
  return c;
}

describe('11-oauth-identity: the approval card (step 10) carries identity', () => {
  it('proof 6: a client without MCP Apps gets step 08 tools with no approved_by; a host model gets review_invoice, and the card tools take no name', async () => {
    const plain = await localClient('alice', false);
    const tools = (await plain.listTools()).tools;
    expect(tools.map((t) => t.name)).toEqual(['process_invoice', 'approve_invoice', 'reject_invoice', 'get_invoice_status', 'list_invoices']);
    expect(Object.keys(tools.find((t) => t.name === 'approve_invoice')!.inputSchema.properties ?? {})).toEqual(['invoice_id']);

    const host = await localClient('alice', true);
    const all = (await host.listTools()).tools;
    const { isToolVisibilityAppOnly } = await import('@modelcontextprotocol/ext-apps/app-bridge');
    expect(all.filter((t) => isToolVisibilityAppOnly(t)).map((t) => t.name)).toEqual([...CARD_TOOLS]);
    expect(all.filter((t) => !isToolVisibilityAppOnly(t)).map((t) => t.name)).toEqual(['process_invoice', 'get_invoice_status', 'list_invoices', 'review_invoice']);
    // The card sends no name either: the server knows who runs it.
    const inputs = (name: string) => Object.keys(all.find((t) => t.name === name)!.inputSchema.properties ?? {});
    expect([inputs('card_approve_invoice'), inputs('card_reject_invoice')]).toEqual([['invoice_id'], ['invoice_id', 'reason']]);
  });

  it("the card still declares step 10's strictest CSP: no domain of any kind, in the listing and in the resource", async () => {
    const host = await localClient('alice', true);
    const strictest = { connectDomains: [], resourceDomains: [], frameDomains: [], baseUriDomains: [] };
    const listed = (await host.listResources()).resources.find((r) => r.uri === CARD_URI);
    expect((listed?._meta?.ui as { csp?: unknown } | undefined)?.csp).toEqual(strictest);
    const [content] = (await host.readResource({ uri: CARD_URI })).contents;
    expect((content._meta?.ui as { csp?: unknown } | undefined)?.csp).toEqual(strictest);
  });
});

/**
 * Runs `code` in the host's first card frame as the card's own script (an inline script it adds, on
 * a later tick): code the test evaluates directly comes from the browser's devtools, which the CSP
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

describe.skipIf(!browserPath && !process.env.CI)('11-oauth-identity: the card in a real browser, as the local user', () => {
  let browser: Browser;
  /** One host per local user, as each would run Claude Desktop on their own machine: its page, and its model's connection. */
  const hosts = new Map<Local, { host: TestHost; model: McpClient }>();

  beforeAll(async () => {
    if (!browserPath) throw new Error(`CI is set, and the card's browser proofs need Chrome or Chromium.\n${INSTALL_BROWSER}`);
    browser = await browserLaunch!;
    // A host per local user, opened side by side.
    await Promise.all((Object.keys(LOCAL_ROLES) as Local[]).map((login) => hostOf(login)));
  });

  async function hostOf(login: Local) {
    if (!hosts.has(login)) {
      const model = await localClient(login, true);
      hosts.set(login, { host: await openTestHost(browser, model), model });
    }
    return hosts.get(login)!;
  }

  /** `login`'s model submits an invoice (the sample, or one line of `amount`), and it awaits approval. */
  async function submittedBy(login: Local, amount?: number): Promise<string> {
    const invoice = amount ? invoiceFor(amount) : sampleInvoice(uniqueName('INV'));
    const result = await (await hostOf(login)).model.callTool({ name: 'process_invoice', arguments: invoice });
    expect(result.isError).toBeFalsy();
    await waitFor(() => env.client.workflow.getHandle(invoiceWorkflowId(invoice.id)).query(getInvoiceStatus), (s) => s.state === 'AWAITING_APPROVAL', { retryErrors: true });
    return invoice.id;
  }
  const cardOf = async (login: Local, invoiceId: string) => (await hostOf(login)).host.showCard('review_invoice', { invoice_id: invoiceId });
  const text = (card: FrameLocator, id: string) => card.locator(`#${id}`).textContent();
  const shows = (card: FrameLocator, id: string, expected: RegExp) => waitFor(() => text(card, id), (t) => expected.test(t ?? ''));
  const statusOf = (invoiceId: string) => env.client.workflow.getHandle(invoiceWorkflowId(invoiceId)).query(getInvoiceStatus);
  const charges = (invoiceId: string) => gateway.charges().filter((c) => c.idempotencyKey.startsWith(`${invoiceWorkflowId(invoiceId)}/`));
  const local = (login: Local) => ({ issuer: 'local', subject: login, name: login });

  it('proof 7: in her card alice approves the invoice bob submitted: it shows who submitted, then PAID, approved by alice', async () => {
    const id = await submittedBy('bob');
    const card = await cardOf('alice', id);
    await shows(card, 'title', new RegExp(`Invoice ${id} · ACME Corp`));
    expect(await card.locator('#lines tr').allTextContents()).toEqual(['Laptop stand49.99', 'USB-C dock129.00', 'Ergonomic keyboard89.50']);
    await shows(card, 'state', /^AWAITING_APPROVAL$/);
    await shows(card, 'submitted', /^Submitted by bob$/);
    await shows(card, 'deadline', /^Decide within 4d 23h \d+m/);
    expect(await card.locator('input#name').count()).toBe(0); // nothing to type: the server knows who decides

    await card.locator('#approve').click();
    await shows(card, 'state', /^PAID$/);
    await shows(card, 'decision', /^Approved by alice, .* · paid 268\.49$/);
    expect(await statusOf(id)).toMatchObject({ decision: { approved: true, by: local('alice') }, submittedBy: local('bob') });
    expect(charges(id).map((c) => c.amount)).toEqual([49.99, 129, 89.5]);
    const { host } = await hostOf('alice');
    expect(host.appCalls).toContain('card_approve_invoice');
    expect(host.consoleErrors).toEqual([]); // under the card's CSP: nothing refused, no eval, no network
    expect(await asCard(host, `try { new Function('return 1')(); return 'eval ran'; } catch { return 'eval refused'; }`)).toBe('eval refused');
    const refused = `new Promise((r) => { document.addEventListener('securitypolicyviolation', (e) => r(e.violatedDirective)); fetch('http://127.0.0.1:9/').catch(() => {}); })`;
    expect(await asCard(host, `return ${refused};`)).toBe('connect-src');
  });

  it('proof 8: Reject with a reason in the card: it shows REJECTED, and nothing is paid', async () => {
    const id = await submittedBy('bob');
    const card = await cardOf('alice', id);
    await shows(card, 'state', /^AWAITING_APPROVAL$/);
    await card.locator('#reason').fill('Wrong customer');
    await card.locator('#reject').click();
    await shows(card, 'state', /^REJECTED$/);
    await shows(card, 'decision', /^Rejected \(Wrong customer\) by alice/);
    expect(await statusOf(id)).toMatchObject({ state: 'REJECTED', amountPaid: 0, decision: { approved: false, by: local('alice'), reason: 'Wrong customer' } });
    expect(charges(id)).toEqual([]);
  });

  it('proof 9: a click in a stale card after carol approved shows the refusal, and nothing changes', async () => {
    const id = await submittedBy('bob');
    const [mine, theirs] = [await cardOf('alice', id), await cardOf('carol', id)];
    await shows(mine, 'state', /^AWAITING_APPROVAL$/);
    const { host } = await hostOf('alice');
    await host.holdReads(); // my card refreshes no more, as on a slow network: it still offers Approve
    try {
      await theirs.locator('#approve').click();
      await shows(theirs, 'decision', /^Approved by carol/);
      expect(await text(mine, 'state')).toBe('AWAITING_APPROVAL');
      await mine.locator('#approve').click();
      // The workflow's words, not the card's guess: the click reached the server and was refused.
      await shows(mine, 'message', /approved by carol \(carol\)|PAID \(approved by carol at/);
      expect(await text(mine, 'decision')).toBe('');
    } finally {
      host.releaseReads();
    }
    await shows(mine, 'state', /^PAID$/); // and the card catches up with the truth
    await shows(mine, 'decision', /^Approved by carol/);
    expect(await statusOf(id)).toMatchObject({ state: 'PAID', amountPaid: 268.49, decision: { approved: true, by: local('carol') } });
    expect(charges(id)).toHaveLength(3); // paid once, not twice
  });

  it('Part A, Part B: proof 10: the rules through the card: the card of bob refuses his own invoice, the card of carol refuses 12,000, as the tool and the CLI do', async () => {
    const id = await submittedBy('bob', 12_000);
    const [bobs, carols] = [await cardOf('bob', id), await cardOf('carol', id)];
    await shows(bobs, 'submitted', /^Submitted by bob$/);
    await bobs.locator('#approve').click();
    await shows(bobs, 'message', FOUR_EYES('bob (bob)'));
    await carols.locator('#approve').click();
    await shows(carols, 'message', OVER_LIMIT('carol (carol)'));
    // Refused Updates leave nothing behind: no decision, nothing paid, both cards still offer the buttons.
    expect(await statusOf(id)).toMatchObject({ state: 'AWAITING_APPROVAL', decision: null, amountPaid: 0 });
    expect(charges(id)).toEqual([]);
    expect([await text(bobs, 'decision'), await text(carols, 'decision')]).toEqual(['', '']);
    expect(await text(carols, 'state')).toBe('AWAITING_APPROVAL'); // still waiting for a finance-lead (proof 7: alice's card approves)
  });
});
