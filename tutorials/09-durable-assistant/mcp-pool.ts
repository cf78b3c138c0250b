// The MCP servers the assistant uses, named in configuration the way mcp-agent names them: a name,
// then either a command to launch over stdio or a Streamable HTTP URL. The worker holds one
// connection per server (a pool per worker process, never per workflow), opened on first use and
// opened again when it fails: a connection is a process resource, like a database pool, while the
// conversation lives in Temporal and moves to whichever worker is alive.
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { tsxCommand } from '../../shared/binaries.js';
import { log } from '../../shared/log.js';
import type { ToolSpec } from './assistant-workflow.js';

// #region servers-config
/** One MCP server: launched over stdio, or reached over Streamable HTTP. */
export type McpServerConfig = { command: string; args?: string[]; env?: Record<string, string> } | { url: string; headers?: Record<string, string> };

/** The servers by name, e.g. `{ invoices: { command: 'npx', args: [...] }, memory: { url: '...' } }`. */
export type McpServers = Record<string, McpServerConfig>;

/**
 * This step's invoice server over stdio, unless MCP_SERVERS_FILE names a JSON file of servers
 * (`{ "mcpServers": { "name": { "command", "args", "env" } | { "url", "headers" } } }`, the shape
 * Claude Desktop's config uses), which then replaces it.
 */
export function serversFromEnv(env: NodeJS.ProcessEnv = process.env): McpServers {
  if (env.MCP_SERVERS_FILE) {
    const parsed = JSON.parse(readFileSync(env.MCP_SERVERS_FILE, 'utf8')) as { mcpServers?: McpServers };
    if (!parsed.mcpServers || typeof parsed.mcpServers !== 'object') {
      throw new Error(`${env.MCP_SERVERS_FILE} has no "mcpServers" object; write { "mcpServers": { "invoices": { "command": "...", "args": [...] } } }.`);
    }
    return parsed.mcpServers;
  }
  return { invoices: invoiceServer() };
}

/** This step's invoice server, launched with tsx, over stdio: it inherits TEMPORAL_ADDRESS and friends. */
export function invoiceServer(env: Record<string, string> = {}): McpServerConfig {
  return { ...tsxCommand(new URL('./server.ts', import.meta.url)), env };
}
// #endregion servers-config

// #region pool
/** One open connection per configured server, shared by every workflow this worker runs. */
export class McpPool {
  private readonly open = new Map<string, Promise<Client>>();

  constructor(private readonly servers: McpServers) {}

  /** Every tool of every server, as the model will see it: `<server>_<tool>`, and its annotations. */
  async listTools(): Promise<ToolSpec[]> {
    const specs: ToolSpec[] = [];
    for (const server of Object.keys(this.servers)) {
      const { tools } = await this.use(server, (client) => client.listTools());
      for (const tool of tools) {
        specs.push({
          // Providers accept [A-Za-z0-9_-]{1,64} as a tool name; MCP allows more (dots, slashes).
          name: `${server}_${tool.name}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64),
          server,
          tool: tool.name,
          description: tool.description ?? tool.title ?? tool.name,
          inputSchema: tool.inputSchema,
          // The server says which tools cannot be undone; the workflow asks a person before those.
          destructive: tool.annotations?.destructiveHint === true && tool.annotations.readOnlyHint !== true,
        });
      }
    }
    return specs;
  }

  /** Calls one tool; the result as the compact text the model reads back. */
  async callTool(server: string, tool: string, args: Record<string, unknown>): Promise<string> {
    const result = (await this.use(server, (client) => client.callTool({ name: tool, arguments: args }))) as CallToolResult;
    const text = result.content.map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n');
    // A tool's own error is an answer for the model (it can tell the user), not a failure to retry.
    return result.isError ? `Error from ${tool}: ${text}` : text;
  }

  /** The process id of a stdio server this pool has open (null for HTTP, or when none is open): what an operator kills to test recovery. */
  async processId(server: string): Promise<number | null> {
    const client = await this.open.get(server)?.catch(() => undefined);
    const transport = client?.transport;
    return transport instanceof StdioClientTransport ? transport.pid : null;
  }

  async close(): Promise<void> {
    const clients = [...this.open.values()];
    this.open.clear();
    await Promise.all(clients.map((c) => c.then((client) => client.close()).catch(() => {})));
  }

  /** Runs `fn` on the server's connection; a connection that failed is dropped, so the retry opens a new one. */
  private async use<T>(server: string, fn: (client: Client) => Promise<T>): Promise<T> {
    const connecting = this.connection(server);
    try {
      return await fn(await connecting);
    } catch (err) {
      if (this.open.get(server) === connecting) this.open.delete(server);
      void connecting.then((client) => client.close()).catch(() => {});
      throw err; // the activity fails; Temporal's retry policy tries again, on a fresh connection
    }
  }

  private connection(server: string): Promise<Client> {
    let connecting = this.open.get(server);
    if (!connecting) {
      const config = this.servers[server];
      if (!config) throw new UnknownServerError(server, Object.keys(this.servers));
      connecting = connect(server, config);
      this.open.set(server, connecting);
      // The server went away (its process died, the HTTP session ended): open again on next use.
      const opened = connecting;
      void opened.then(
        (client) => {
          client.onclose = () => {
            if (this.open.get(server) === opened) this.open.delete(server);
          };
        },
        () => {
          if (this.open.get(server) === opened) this.open.delete(server);
        },
      );
    }
    return connecting;
  }
}
// #endregion pool

/** A tool call named a server that is not configured: no retry can fix that. */
export class UnknownServerError extends Error {
  constructor(server: string, known: string[]) {
    super(`No MCP server named "${server}" is configured (configured: ${known.join(', ') || 'none'}).`);
  }
}

async function connect(name: string, config: McpServerConfig): Promise<Client> {
  const transport =
    'url' in config
      ? new StreamableHTTPClientTransport(new URL(config.url), { requestInit: { headers: config.headers ?? {} } })
      : new StdioClientTransport({
          command: config.command,
          args: config.args ?? [],
          env: Object.fromEntries(Object.entries({ ...process.env, ...config.env }).filter((e): e is [string, string] => e[1] !== undefined)),
          stderr: 'ignore', // the server's logs; its stdout is the protocol
        });
  const client = new Client({ name: 'durable-assistant', version: '1.0.0' });
  await client.connect(transport);
  log('mcp-pool', `connected to "${name}"`);
  return client;
}
