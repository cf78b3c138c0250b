/**
 * Serving an MCP server: stdio by default (what Claude Desktop launches), or Streamable HTTP
 * with `--http` so several clients share one server. Transport plumbing only; the tools, which
 * are the lesson, stay in the step's `server.ts`.
 *
 * @module
 */
import { timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import { parseArgs } from 'node:util';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { NextFunction, Request, Response } from 'express';
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

/** A running MCP endpoint; `close()` stops it. */
export interface ServingMcp {
  /** The HTTP endpoint, e.g. `http://127.0.0.1:3000/mcp`; undefined on stdio. */
  url?: string;
  close(): Promise<void>;
}

/**
 * Serves MCP over stdio or Streamable HTTP.
 *
 * @param createServer - builds one `McpServer` with its tools. Over HTTP each request gets its
 *   own (stateless mode), so keep expensive things (the Temporal client) outside and share them.
 */
export async function serveMcp(createServer: () => McpServer, options: ServeOptions): Promise<ServingMcp> {
  if (!options.http) {
    const server = createServer();
    await server.connect(new StdioServerTransport());
    log('mcp', 'serving on stdio');
    return { close: () => server.close() };
  }

  const onLoopback = LOOPBACK.includes(options.host);
  const token = process.env[AUTH_TOKEN_VAR];
  if (!onLoopback && !token) {
    throw new Error(
      `Refusing to serve on ${options.host} without a bearer token: anyone on that network could approve payments. ` +
        `Set ${AUTH_TOKEN_VAR}, or leave --host at 127.0.0.1.`,
    );
  }
  // The SDK's app checks the Host header on loopback, which defeats DNS rebinding: a web page
  // on evil.example cannot reach 127.0.0.1 under its own name.
  const app = createMcpExpressApp(onLoopback ? { host: options.host } : { host: options.host, allowedHosts: [options.host] });
  app.use(checkOrigin(onLoopback ? LOOPBACK : [options.host]));
  if (token) app.use(requireToken(token));

  app.post('/mcp', async (req: Request, res: Response) => {
    const server = createServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
    } catch (err) {
      log('mcp', `request failed: ${(err as Error).message}`);
      if (!res.headersSent) res.status(500).json(jsonRpcError(-32603, 'Internal server error'));
    }
  });
  // Stateless server: no server-to-client stream, no sessions to delete.
  const notAllowed = (_req: Request, res: Response) => {
    res.status(405).set('Allow', 'POST').json(jsonRpcError(-32000, 'Method not allowed: POST JSON-RPC to /mcp.'));
  };
  app.get('/mcp', notAllowed);
  app.delete('/mcp', notAllowed);

  const http = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(options.port, options.host, () => resolve(s));
    s.on('error', reject);
  });
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${host}:${port}/mcp`;
  log('mcp', `serving Streamable HTTP on ${url}${token ? ' (bearer token required)' : ''}`);
  return {
    url,
    close: () => new Promise<void>((resolve) => http.close(() => resolve())),
  };
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
