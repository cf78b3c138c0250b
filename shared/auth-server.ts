/**
 * A local OAuth 2.1 / OpenID Connect authorization server for step 11's demos and tests:
 * oidc-provider (OpenID certified) on 127.0.0.1, with three demo users and one public client.
 * It is scaffolding, not the lesson: in production this is Auth0, Entra ID, Keycloak or Okta, and
 * the MCP server only verifies what it issues (see tutorials/11-oauth-identity/auth.ts).
 *
 *   npm run auth                                              # issuer http://127.0.0.1:4000, for http://127.0.0.1:3000/mcp
 *   npm run auth -- --port 4000 --resource http://127.0.0.1:3000/mcp
 *
 * What it issues: for an authorization request naming the MCP server as its `resource` (RFC 8707),
 * a JWT access token (RFC 9068, `typ: at+jwt`) whose `aud` is that URL, `scope` is `invoices`,
 * `sub` is the user's id, with `name` and `roles` claims. The users sign in by picking their name
 * (no passwords: a demo); `signInAs()` does the same from a script.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider, { errors, type Configuration } from 'oidc-provider';
import { isEntryPoint, log, runMain } from './log.js';

/** A demo user: the subject its tokens carry, and the claims the MCP server reads. */
export interface DemoUser {
  sub: string;
  name: string;
  roles: string[];
}

/** Who can sign in, by login name. Roles set what each may approve (the workflow's APPROVAL_LIMITS). */
export const DEMO_USERS: Readonly<Record<string, DemoUser>> = {
  alice: { sub: 'u-1001', name: 'Alice Archer', roles: ['finance-lead'] },
  bob: { sub: 'u-1002', name: 'Bob Baker', roles: ['submitter', 'approver'] },
  carol: { sub: 'u-1003', name: 'Carol Chen', roles: ['approver'] },
};

/** The public client (no secret, PKCE) the step's client and tests sign in with. */
export const DEMO_CLIENT_ID = 'invoice-cli';
/** Its redirect URI; any loopback port is accepted for a native client (RFC 8252 §7.3). */
export const DEMO_REDIRECT_URI = 'http://127.0.0.1/callback';
/** The scope the MCP server requires: using the invoice tools. */
export const INVOICES_SCOPE = 'invoices';

export interface AuthServerOptions {
  /** Port on 127.0.0.1; 0 picks a free one. */
  port?: number;
  /** The resource servers (MCP server URLs) tokens may be issued for; the first is the default. */
  resources: string[];
  /** The private signing key (RS256); generated when absent. Tests pass their own. */
  signingKey?: JWK;
  /** Access token lifetime in seconds (default 600). */
  accessTokenTtl?: number;
}

export interface AuthServer {
  /** e.g. `http://127.0.0.1:4000`: what the MCP server trusts (MCP_AUTH_ISSUER). */
  issuer: string;
  close(): Promise<void>;
}

/** Starts oidc-provider on 127.0.0.1. */
export async function startAuthServer(options: AuthServerOptions): Promise<AuthServer> {
  let handle: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.writeHead(503).end();
  const http: Server = createServer((req, res) => handle(req, res));
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = http.address();
  const issuer = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : options.port}`;
  const signingKey = options.signingKey ?? { ...(await exportJWK((await generateKeyPair('RS256', { extractable: true })).privateKey)), alg: 'RS256', use: 'sig' };

  const configuration: Configuration = {
    clients: [
      {
        client_id: DEMO_CLIENT_ID,
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        redirect_uris: [DEMO_REDIRECT_URI],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    findAccount: (_ctx, id) => {
      const user = Object.values(DEMO_USERS).find((u) => u.sub === id);
      return user ? { accountId: id, claims: () => ({ sub: id, name: user.name }) } : undefined;
    },
    claims: { openid: ['sub'], profile: ['name'] },
    scopes: ['openid', 'profile', INVOICES_SCOPE],
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false }, // our own tiny sign-in below, which scripts can drive
      resourceIndicators: {
        enabled: true,
        defaultResource: () => options.resources[0]!,
        useGrantedResource: () => true,
        // Only known resource servers get tokens, each a JWT whose audience is the resource itself.
        getResourceServerInfo: (_ctx, resource) => {
          if (!options.resources.includes(resource)) throw new errors.InvalidTarget(`unknown resource ${resource}`);
          return { scope: INVOICES_SCOPE, audience: resource, accessTokenFormat: 'jwt', accessTokenTTL: options.accessTokenTtl ?? 600, jwt: { sign: { alg: 'RS256' } } };
        },
      },
    },
    // The claims the MCP server turns into a Person; a real provider maps them from its directory.
    extraTokenClaims: (_ctx, token) => {
      const accountId = 'accountId' in token ? token.accountId : undefined; // client-credentials tokens have no user
      const user = Object.values(DEMO_USERS).find((u) => u.sub === accountId);
      return user ? { name: user.name, roles: user.roles } : undefined;
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    ttl: { AccessToken: options.accessTokenTtl ?? 600, AuthorizationCode: 60, Interaction: 600, Session: 3600, Grant: 3600 },
  };
  const provider = new Provider(issuer, configuration);
  const providerCallback = provider.callback();

  handle = (req, res) => {
    const match = /^\/interaction\/([\w-]+)(\/(login|consent))?$/.exec(new URL(req.url ?? '/', issuer).pathname);
    if (!match) return providerCallback(req, res);
    interaction(req, res, match[2] ? match[3] : undefined).catch((err: unknown) => {
      log('auth', `interaction failed: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' }).end('Sign-in failed; start again from the client.');
    });
  };

  /** The sign-in and consent pages: a form to pick a user, then one to allow the client. */
  async function interaction(req: IncomingMessage, res: ServerResponse, action: string | undefined) {
    const details = await provider.interactionDetails(req, res);
    if (action === 'login') {
      const login = new URLSearchParams(await body(req)).get('login') ?? '';
      const user = DEMO_USERS[login];
      if (!user) return void res.writeHead(400, { 'content-type': 'text/plain' }).end('Unknown user.');
      return provider.interactionFinished(req, res, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });
    }
    if (action === 'consent') {
      const { prompt, params, session, grantId } = details;
      const grant = grantId ? await provider.Grant.find(grantId) : new provider.Grant({ accountId: session!.accountId, clientId: params.client_id as string });
      if (!grant) throw new Error('grant not found');
      const missing = prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(resource, scopes.join(' '));
      return provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
    }
    const page =
      details.prompt.name === 'login'
        ? `<form method="post" action="/interaction/${details.uid}/login"><p>Sign in as:</p>${Object.entries(DEMO_USERS)
            .map(([login, u]) => `<button name="login" value="${login}">${u.name} (${u.roles.join(', ')})</button>`)
            .join(' ')}</form>`
        : `<form method="post" action="/interaction/${details.uid}/consent"><p>Allow ${details.params.client_id} to use the invoice tools as you?</p><button>Allow</button></form>`;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><title>Sign in</title>${page}`);
  }

  return {
    issuer,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

/**
 * Signs `user` in from a script, as a person would in the browser: follows the authorization URL
 * through the sign-in and consent pages (carrying the cookies), up to the redirect to the client.
 * Returns that redirect (with `code` and `state`); with `deliver`, also requests it, so a client
 * waiting on a loopback redirect URI receives the code as it would from a browser.
 */
export async function signInAs(authorizationUrl: URL | string, login: string, options: { deliver?: boolean } = {}): Promise<URL> {
  const cookies = new Map<string, string>();
  let url = new URL(authorizationUrl);
  let method = 'GET';
  let form: string | undefined;
  for (let hop = 0; hop < 20; hop++) {
    const res = await fetch(url, {
      method,
      redirect: 'manual',
      headers: { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; '), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body: form,
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
    [method, form] = ['GET', undefined];
    const location = res.headers.get('location');
    if (location) {
      const next = new URL(location, url);
      if (next.origin === url.origin || !next.searchParams.has('code') && !next.searchParams.has('error')) {
        url = next;
        continue;
      }
      if (next.searchParams.has('error')) throw new Error(`sign-in refused: ${next.searchParams.get('error')}: ${next.searchParams.get('error_description')}`);
      if (options.deliver) await fetch(next);
      return next;
    }
    const html = await res.text();
    const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
    if (res.status !== 200 || !action) throw new Error(`sign-in stopped at ${url} (HTTP ${res.status}): ${html.slice(0, 200)}`);
    url = new URL(action, url);
    method = 'POST';
    form = action.endsWith('/login') ? `login=${encodeURIComponent(login)}` : '';
  }
  throw new Error('sign-in did not reach the client after 20 redirects');
}

if (isEntryPoint(import.meta.url)) {
  runMain(async () => {
    const { values } = parseArgs({ options: { port: { type: 'string', default: '4000' }, resource: { type: 'string', multiple: true } } });
    const resources = values.resource?.length ? values.resource : ['http://127.0.0.1:3000/mcp'];
    const server = await startAuthServer({ port: Number(values.port), resources });
    log('auth', `issuer ${server.issuer}, tokens for ${resources.join(', ')}`);
    for (const [login, u] of Object.entries(DEMO_USERS)) log('auth', `  ${login}: sub ${u.sub}, ${u.name}, roles ${u.roles.join(', ')}`);
    log('auth', `start the MCP server with MCP_AUTH_ISSUER=${server.issuer}; Ctrl-C to stop`);
    const stop = () => void server.close().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
