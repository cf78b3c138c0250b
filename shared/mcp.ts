/**
 * The plumbing around an MCP server's Streamable HTTP endpoint: argv, Host/Origin/token guards,
 * JSON-RPC errors, listening. The transports and `server.connect`, which are the lesson, are
 * written in each step's `server.ts`.
 *
 * @module
 */
import { timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import { parseArgs } from 'node:util';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import type { Express, NextFunction, Request, Response } from 'express';
import { log } from './log.js';

/** How to serve: parsed from the command line. */
export interface ServeOptions {
  /** Streamable HTTP instead of stdio. */
  http: boolean;
  /** HTTP port (default 3000). */
  port: number;
  /** Interface to bind (default 127.0.0.1). Anything else requires a bearer token. */
  host: string;
}

/** The environment variable holding the bearer token required off loopback. */
export const AUTH_TOKEN_VAR = 'MCP_AUTH_TOKEN';

const LOOPBACK = ['127.0.0.1', 'localhost', '::1'];

/**
 * Reads `--http`, `--port N` and `--host H` from argv.
 *
 * @throws Error with the usage line, for an unknown flag or a bad port.
 */
export function parseServeArgs(argv: string[] = process.argv.slice(2)): ServeOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        http: { type: 'boolean', default: false },
        port: { type: 'string', default: '3000' },
        host: { type: 'string', default: '127.0.0.1' },
      },
    }));
  } catch (err) {
    throw new Error(`${(err as Error).message}\nusage: server.ts [--http [--port 3000] [--host 127.0.0.1]]`);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port "${values.port}" is not a port number (0-65535).`);
  return { http: values.http, port, host: values.host };
}

/** A listening HTTP endpoint; `close()` stops it. */
export interface HttpEndpoint {
  /** e.g. `http://127.0.0.1:3000/mcp`. */
  url: string;
  close(): Promise<void>;
}

/**
 * The Express app an MCP server's Streamable HTTP endpoint is mounted on, with the guards a
 * server that can approve payments needs:
 * - the SDK's Host-header check on loopback, which defeats DNS rebinding (a web page on
 *   evil.example cannot reach 127.0.0.1 under its own name);
 * - browsers from other origins refused;
 * - off loopback, a bearer token (`MCP_AUTH_TOKEN`) required, compared in constant time.
 *
 * With `oauth: true` (step 11) there is no static token: the step's server verifies OAuth access
 * tokens on its own routes, so serving off loopback is allowed and MCP_AUTH_TOKEN is ignored.
 *
 * @throws Error when asked to serve off loopback without a token.
 */
export function createHttpApp(options: ServeOptions, auth: { oauth?: boolean } = {}): Express {
  const onLoopback = LOOPBACK.includes(options.host);
  const token = auth.oauth ? undefined : process.env[AUTH_TOKEN_VAR];
  if (!onLoopback && !token && !auth.oauth) {
    throw new Error(
      `Refusing to serve on ${options.host} without a bearer token: anyone on that network could approve payments. ` +
        `Set ${AUTH_TOKEN_VAR}, or leave --host at 127.0.0.1.`,
    );
  }
  const app = createMcpExpressApp(onLoopback ? { host: options.host } : { host: options.host, allowedHosts: [options.host] });
  app.use(checkOrigin(onLoopback ? LOOPBACK : [options.host]));
  if (token) app.use(requireToken(token));
  return app;
}

/**
 * Answers what the step's `POST /mcp` route does not (GET and DELETE: a stateless server has no
 * stream and no sessions), turns every failure into a JSON-RPC error with no stack trace and no
 * file path (a malformed body is -32700, an oversized one 413), and listens.
 */
export async function listenHttp(app: Express, options: ServeOptions): Promise<HttpEndpoint> {
  const notAllowed = (_req: Request, res: Response) => {
    res.status(405).set('Allow', 'POST').json(jsonRpcError(-32000, 'Method not allowed: POST JSON-RPC to /mcp.'));
  };
  app.get('/mcp', notAllowed);
  app.delete('/mcp', notAllowed);
  app.use((_req: Request, res: Response) => {
    res.status(404).json(jsonRpcError(-32000, 'Not found: the MCP endpoint is POST /mcp.'));
  });
  app.use(jsonRpcErrors);

  const http = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(options.port, options.host, () => resolve(s));
    s.on('error', reject);
  });
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${host}:${port}/mcp`;
  log('mcp', `serving Streamable HTTP on ${url}${process.env[AUTH_TOKEN_VAR] ? ' (bearer token required)' : ''}`);
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}

/** Express's last error handler: JSON-RPC errors instead of its HTML page with a stack trace. */
function jsonRpcErrors(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) return next(err);
  const type = (err as { type?: string }).type;
  if (type === 'entity.parse.failed') {
    res.status(400).json(jsonRpcError(-32700, 'Parse error: the request body is not valid JSON.'));
  } else if (type === 'entity.too.large') {
    const limit = (err as { limit?: number }).limit;
    res.status(413).json(jsonRpcError(-32600, `Request too large: the body is over ${limit ? `${limit} bytes` : 'the limit'}.`));
  } else if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    res.status(415).json(jsonRpcError(-32600, 'Unsupported body encoding: send UTF-8 JSON.'));
  } else {
    log('mcp', `request failed: ${err instanceof Error ? err.message : String(err)}`);
    res.status(500).json(jsonRpcError(-32603, 'Internal server error.'));
  }
}

/** Refuses a browser request whose Origin is not one of `hosts` (requests without Origin pass). */
function checkOrigin(hosts: string[]) {
  return (req: Request, res: Response, next: NextFunction) => {
    const origin = req.headers.origin;
    if (origin === undefined) return next();
    let hostname: string;
    try {
      hostname = new URL(origin).hostname.replace(/^\[|\]$/g, '');
    } catch {
      hostname = '';
    }
    if (hosts.includes(hostname)) return next();
    res.status(403).json(jsonRpcError(-32000, `Origin ${origin} is not allowed.`));
  };
}

/** Requires `Authorization: Bearer <token>`, compared in constant time. */
function requireToken(token: string) {
  const expected = Buffer.from(`Bearer ${token}`);
  return (req: Request, res: Response, next: NextFunction) => {
    const given = Buffer.from(req.headers.authorization ?? '');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return next();
    res.status(401).set('WWW-Authenticate', 'Bearer').json(jsonRpcError(-32001, `Unauthorized: send Authorization: Bearer <${AUTH_TOKEN_VAR}>.`));
  };
}

function jsonRpcError(code: number, message: string) {
  return { jsonrpc: '2.0', error: { code, message }, id: null };
}
