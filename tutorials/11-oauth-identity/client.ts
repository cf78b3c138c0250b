// The client: one tool call of this step's MCP server per run, as an assistant would make it. It
// launches server.ts over stdio, as Claude Desktop does, but does not announce MCP Apps, so it gets
// step 08's tools: a decision from a terminal, which an open card shows within two seconds.
// Step 11: over stdio you act as the local user (MCP_LOCAL_USER); with --url it calls the HTTP
// server as the person who signs in, by the authorization code flow with PKCE: it prints a sign-in
// link, and waits on a loopback address for the browser to come back with the code.
//   npx tsx tutorials/11-oauth-identity/client.ts process INV-1101 [--amount 12000] [--url http://127.0.0.1:3000/mcp]
//   npx tsx tutorials/11-oauth-identity/client.ts approve INV-1101 [--url ...]
//   npx tsx tutorials/11-oauth-identity/client.ts reject INV-1101 --reason "not ordered" [--url ...]
//   npx tsx tutorials/11-oauth-identity/client.ts status INV-1101 [--url ...]
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientInformation, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { tsxCommand } from '../../shared/binaries.js';
import { sampleInvoice } from '../../shared/invoice.js';
import { isEntryPoint, log, runMain } from '../../shared/log.js';

const USAGE =
  'usage: npx tsx tutorials/11-oauth-identity/client.ts process|approve|reject|status INVOICE_ID [--amount N] [--reason TEXT] [--url http://127.0.0.1:3000/mcp]';

// #region oauth-provider
/**
 * What the SDK's client needs to sign a user in (its OAuthClientProvider interface), kept in
 * memory for one run. The SDK does the protocol: it reads the server's 401, discovers the protected
 * resource metadata and the authorization server, makes the PKCE verifier and the authorization
 * URL (with `resource` = the MCP server, so the token's audience is that server), and trades the
 * code for tokens. We say who the client is, where the browser comes back, and keep what it hands us.
 */
export class SignInProvider implements OAuthClientProvider {
  /** Where the SDK sent the user to sign in, once a server asked for a token. */
  authorizationUrl?: URL;
  /** Ties the answer to this request: a redirect with another state is someone else's. */
  readonly expectedState = randomBytes(16).toString('base64url');
  private verifier?: string;
  private saved?: OAuthTokens;

  // A public client registered with the authorization server (no secret: PKCE protects the code).
  constructor(
    readonly redirectUrl: string,
    private readonly clientId = process.env.MCP_OAUTH_CLIENT_ID ?? 'invoice-cli',
  ) {}

  get clientMetadata(): OAuthClientMetadata {
    return { client_name: 'invoice tutorial client', redirect_uris: [this.redirectUrl], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'none' };
  }
  state() {
    return this.expectedState;
  }
  clientInformation(): OAuthClientInformation {
    return { client_id: this.clientId };
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(authorizationUrl: URL) {
    this.authorizationUrl = authorizationUrl;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    if (!this.verifier) throw new Error('No sign-in was started, so there is no PKCE verifier.');
    return this.verifier;
  }
}
// #endregion oauth-provider

// #region connect-http
/**
 * Connects to the HTTP server, signing in when it asks: the first attempt gets a 401, the SDK
 * prepares the sign-in, `signIn` brings back the redirect (a person in a browser, or a script), the
 * code becomes a token, and the second attempt goes through with it.
 */
export async function connectHttp(serverUrl: string, provider: SignInProvider, signIn: (authorizationUrl: URL) => Promise<URL>): Promise<Client> {
  const first = new Client({ name: 'invoice-tutorial-client', version: '1.0.0' });
  try {
    await first.connect(new StreamableHTTPClientTransport(new URL(serverUrl), { authProvider: provider }));
    return first; // a token we already had was accepted
  } catch (err) {
    if (!(err instanceof UnauthorizedError) || !provider.authorizationUrl) throw err;
  }
  const back = await signIn(provider.authorizationUrl);
  if (back.searchParams.get('state') !== provider.expectedState) throw new Error('The sign-in came back with another state: not ours, refused.');
  const code = back.searchParams.get('code');
  if (!code) throw new Error(`Sign-in failed: ${back.searchParams.get('error') ?? 'no code'} ${back.searchParams.get('error_description') ?? ''}`.trim());
  const transport = new StreamableHTTPClientTransport(new URL(serverUrl), { authProvider: provider });
  await transport.finishAuth(code); // code + PKCE verifier → access token, kept by the provider
  const mcp = new Client({ name: 'invoice-tutorial-client', version: '1.0.0' });
  await mcp.connect(transport);
  return mcp;
}
// #endregion connect-http

/** A person signs in in their browser; we wait for it to come back to a loopback address (RFC 8252). */
async function signInWithBrowser(serverUrl: string): Promise<Client> {
  let arrived!: (url: URL) => void;
  const back = new Promise<URL>((resolve) => (arrived = resolve));
  const callback = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/callback') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/plain' }).end('Signed in. You can close this tab.');
    arrived(url);
  });
  await new Promise<void>((resolve) => callback.listen(0, '127.0.0.1', resolve));
  const { port } = callback.address() as { port: number };
  try {
    const provider = new SignInProvider(`http://127.0.0.1:${port}/callback`);
    return await connectHttp(serverUrl, provider, async (authorizationUrl) => {
      log('client', `Sign in: ${authorizationUrl.href}`);
      return back;
    });
  } finally {
    callback.close();
  }
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { amount: { type: 'string' }, reason: { type: 'string', default: 'rejected from the CLI' }, url: { type: 'string' } },
  });
  const [action, invoiceId] = positionals;
  if (!invoiceId) throw new Error(USAGE);
  const invoice = values.amount ? { id: invoiceId, customer: 'ACME Corp', lines: [{ item: 'Consulting', amount: Number(values.amount) }] } : sampleInvoice(invoiceId);
  // Step 11: no approved_by / rejected_by: the server knows who is calling.
  const calls: Record<string, [string, Record<string, unknown>]> = {
    process: ['process_invoice', invoice],
    approve: ['approve_invoice', { invoice_id: invoiceId }],
    reject: ['reject_invoice', { invoice_id: invoiceId, reason: values.reason }],
    status: ['get_invoice_status', { invoice_id: invoiceId }],
  };
  const call = calls[action ?? ''];
  if (!call) throw new Error(USAGE);

  let mcp: Client;
  if (values.url) {
    mcp = await signInWithBrowser(values.url);
  } else {
    // The server inherits our environment, so TEMPORAL_ADDRESS and friends (and MCP_LOCAL_USER) reach it.
    const { command, args } = tsxCommand(new URL('./server.ts', import.meta.url));
    mcp = new Client({ name: 'invoice-tutorial-client', version: '1.0.0' });
    await mcp.connect(new StdioClientTransport({ command, args, env: { ...process.env } as Record<string, string>, stderr: 'ignore' }));
  }
  try {
    const result = (await mcp.callTool({ name: call[0], arguments: call[1] })) as CallToolResult;
    const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
    if (result.isError) throw new Error(text);
    console.log(text);
  } finally {
    await mcp.close();
  }
}

if (isEntryPoint(import.meta.url)) runMain(main);
