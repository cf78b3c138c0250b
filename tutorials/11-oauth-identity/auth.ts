// The MCP server as an OAuth 2.1 resource server (MCP authorization, revision 2025-11-25).
// A resource server verifies, it does not issue: tokens come from an authorization server (the
// local oidc-provider of `npm run auth`, or Auth0, Entra ID, Keycloak, Okta); this file checks each
// one, says where to get one, and turns a verified token into the Person who decides.
//
//   MCP_AUTH_ISSUER       the authorization server this server trusts, e.g. http://127.0.0.1:4000 (required over HTTP)
//   MCP_AUTH_AUDIENCE     the audience tokens must name (default: this server's URL, e.g. http://127.0.0.1:3000/mcp)
//   MCP_AUTH_SCOPE        the scope a token needs (default invoices)
//   MCP_AUTH_ROLES_CLAIM  the claim holding the roles, a dotted path for nested ones (default roles)
//   MCP_AUTH_NAME_CLAIM   the claim holding a readable name (default name)
import { userInfo } from 'node:os';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import { getOAuthProtectedResourceMetadataUrl, mcpAuthMetadataRouter } from '@modelcontextprotocol/sdk/server/auth/router.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { OAuthMetadataSchema, type OAuthMetadata } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Express, RequestHandler } from 'express';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import type { Person } from './workflows.js';

/** What this resource server trusts and requires. */
export interface AuthSettings {
  issuer: string;
  /** This server's canonical URL: what tokens' `aud` must be, and the `resource` of its metadata. */
  audience: string;
  scope: string;
  rolesClaim: string;
  nameClaim: string;
}

/** Reads the settings; `serverUrl` is where this server listens, the default audience. */
export function authSettingsFromEnv(serverUrl: string, env: NodeJS.ProcessEnv = process.env): AuthSettings {
  const issuer = env.MCP_AUTH_ISSUER;
  if (!issuer) {
    throw new Error(
      'Over HTTP this server needs an authorization server to trust: set MCP_AUTH_ISSUER (for a local one, run ' +
        '`npm run auth` and set MCP_AUTH_ISSUER=http://127.0.0.1:4000). Without a token there is no one to approve as; use stdio instead.',
    );
  }
  return {
    issuer,
    audience: env.MCP_AUTH_AUDIENCE ?? serverUrl,
    scope: env.MCP_AUTH_SCOPE ?? 'invoices',
    rolesClaim: env.MCP_AUTH_ROLES_CLAIM ?? 'roles',
    nameClaim: env.MCP_AUTH_NAME_CLAIM ?? 'name',
  };
}

// #region discover
/**
 * The authorization server's metadata (RFC 8414, or OpenID Connect discovery), fetched once at
 * start: where its keys are (`jwks_uri`), and what clients need to know, which we republish.
 */
export async function discoverIssuer(issuer: string): Promise<OAuthMetadata> {
  const base = issuer.replace(/\/$/, '');
  for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
    const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
    if (!res?.ok) continue;
    const metadata = OAuthMetadataSchema.parse(await res.json());
    // RFC 8414 §3.3: the metadata must name the issuer we asked, or someone else answered.
    if (metadata.issuer !== issuer) throw new Error(`${base}${path} names issuer ${metadata.issuer}, not ${issuer}: check MCP_AUTH_ISSUER.`);
    return metadata;
  }
  throw new Error(`No authorization server metadata at ${issuer} (tried RFC 8414 and OpenID discovery). Is it running? Check MCP_AUTH_ISSUER.`);
}
// #endregion discover

// #region verifier
/**
 * Verifies a bearer token: a JWT signed by one of the issuer's keys (fetched from its JWKS and
 * cached; a new key is fetched when a token names one we lack), from that issuer, for this audience,
 * not expired. The scope is checked by requireBearerAuth. Every failure gets one vague answer, bar
 * expiry (a client that knows its token expired gets a new one): details would help an attacker.
 */
export function createTokenVerifier(settings: AuthSettings, jwksUri: string): OAuthTokenVerifier {
  const keys = createRemoteJWKSet(new URL(jwksUri));
  return {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          issuer: settings.issuer,
          audience: settings.audience,
          algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'], // never "none", never a shared secret
          requiredClaims: ['sub', 'exp'],
          clockTolerance: 5, // seconds of disagreement between our clock and the issuer's
        }));
      } catch (err) {
        if (err instanceof errors.JWTExpired) throw new InvalidTokenError('The access token has expired.');
        throw new InvalidTokenError('The access token is not valid for this server.');
      }
      return {
        token,
        clientId: String(payload.client_id ?? payload.azp ?? ''),
        scopes: scopesOf(payload),
        expiresAt: payload.exp,
        resource: new URL(settings.audience),
        extra: { claims: payload },
      };
    },
  };
}
// #endregion verifier

/** The granted scopes: `scope` (RFC 9068), or Entra ID's `scp`; space-separated, or a list. */
function scopesOf(payload: JWTPayload): string[] {
  const value = payload.scope ?? payload.scp;
  return Array.isArray(value) ? value.map(String) : typeof value === 'string' ? value.split(' ').filter(Boolean) : [];
}

// #region protect
/**
 * Mounts the protected resource metadata (RFC 9728) on `app`, and returns the middleware for
 * `/mcp`: no token or a bad one is 401, a token without the scope is 403 `insufficient_scope`, both
 * with a WWW-Authenticate header naming the metadata, which tells a client where to sign in.
 */
export async function protectResource(app: Express, settings: AuthSettings): Promise<RequestHandler> {
  const issuerMetadata = await discoverIssuer(settings.issuer);
  if (!issuerMetadata.jwks_uri) throw new Error(`${settings.issuer} publishes no jwks_uri, so its tokens cannot be verified here.`);
  const resourceServerUrl = new URL(settings.audience);
  app.use(
    mcpAuthMetadataRouter({
      oauthMetadata: issuerMetadata,
      resourceServerUrl,
      scopesSupported: [settings.scope],
      resourceName: 'Invoice approvals',
    }),
  );
  return requireBearerAuth({
    verifier: createTokenVerifier(settings, String(issuerMetadata.jwks_uri)),
    requiredScopes: [settings.scope],
    resourceMetadataUrl: getOAuthProtectedResourceMetadataUrl(resourceServerUrl),
  });
}
// #endregion protect

// #region person-from-token
/**
 * The person a verified token speaks for: its issuer and subject (who they are), its name and
 * roles claims (how to call them, what they may approve). This, not a tool argument, is who decides.
 */
export function personFromAuth(authInfo: AuthInfo, settings: Pick<AuthSettings, 'rolesClaim' | 'nameClaim'>): Person {
  // #exercise person-from-claims "Part C: the person from the token"
  const claims = (authInfo.extra?.claims ?? {}) as JWTPayload;
  const roles = claimAt(claims, settings.rolesClaim);
  const name = claimAt(claims, settings.nameClaim);
  return {
    issuer: String(claims.iss),
    subject: String(claims.sub),
    name: typeof name === 'string' && name ? name : String(claims.sub),
    roles: Array.isArray(roles) ? roles.map(String) : typeof roles === 'string' ? roles.split(' ') : [],
  };
  // #endexercise
}
// #endregion person-from-token

// #region who
/** How a tool learns who is calling: over HTTP from the verified token, over stdio the local user. */
export type Identify = (extra: RequestHandlerExtra<ServerRequest, ServerNotification>) => Person;

/** Over HTTP: the token requireBearerAuth verified for this request, as a Person. */
export const fromToken =
  (settings: Pick<AuthSettings, 'rolesClaim' | 'nameClaim'>): Identify =>
  ({ authInfo }) => {
    // requireBearerAuth runs before every request reaches a tool, so a missing authInfo is a wiring bug.
    if (!authInfo) throw new Error('No verified token reached this tool; nothing was changed.');
    return personFromAuth(authInfo, settings);
  };
// #endregion who

/** A claim by dotted path: `roles`, or Keycloak's `realm_access.roles`. */
function claimAt(claims: JWTPayload, path: string): unknown {
  return path.split('.').reduce<unknown>((value, key) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined), claims);
}

// #region local-person
/**
 * Over stdio there is no token: the person is whoever runs the server, the OS user (or
 * MCP_LOCAL_USER), with the roles in MCP_LOCAL_ROLES (default `approver`). It proves only that
 * this person could start a process on this machine; anyone who can set the variables can be anyone.
 */
export function localPerson(env: NodeJS.ProcessEnv = process.env): Person {
  const name = env.MCP_LOCAL_USER || userInfo().username;
  return { issuer: 'local', subject: name, name, roles: (env.MCP_LOCAL_ROLES ?? 'approver').split(',').map((r) => r.trim()).filter(Boolean) };
}
// #endregion local-person
