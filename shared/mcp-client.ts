/**
 * The client side of MCP, as an assistant uses it: spawn a step's server over stdio (or reach it
 * over Streamable HTTP) and call its tools. Used by the tests, the demo and the benchmark.
 *
 * @module
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { tsxCommand } from './binaries.js';

/** A connected MCP client with a convenient `call`. */
export interface McpSession {
  client: Client;
  /** Calls a tool and returns its result; tool errors come back as `isError: true`, not as exceptions. */
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}

/** Options for {@link spawnMcpServer}. */
export interface SpawnOptions {
  /** Extra environment for the server (e.g. `TEMPORAL_ADDRESS`), on top of this process's. */
  env?: Record<string, string>;
  /** Command-line arguments for the server. */
  args?: string[];
  /** What to do with the server's stderr (its logs): `'inherit'` (default) or `'ignore'`. */
  stderr?: 'inherit' | 'ignore' | 'pipe';
}

/** Spawns a step's `server.ts` over stdio, exactly as Claude Desktop would, and connects to it. */
export async function spawnMcpServer(serverScript: URL | string, options: SpawnOptions = {}): Promise<McpSession & { transport: StdioClientTransport }> {
  const { command, args } = tsxCommand(serverScript, options.args);
  const env = Object.fromEntries(Object.entries({ ...process.env, ...options.env }).filter((e): e is [string, string] => e[1] !== undefined));
  const transport = new StdioClientTransport({ command, args, env, stderr: options.stderr ?? 'inherit' });
  return { ...(await connect(transport)), transport };
}

/** Connects to a server speaking Streamable HTTP, e.g. `http://127.0.0.1:3000/mcp`. */
export function connectMcpHttp(url: string, headers: Record<string, string> = {}): Promise<McpSession> {
  return connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
}

async function connect(transport: StdioClientTransport | StreamableHTTPClientTransport): Promise<McpSession> {
  const client = new Client({ name: 'invoice-tutorial-client', version: '1.0.0' });
  await client.connect(transport);
  return {
    client,
    call: async (name, args = {}) => (await client.callTool({ name, arguments: args })) as CallToolResult,
    close: () => client.close(),
  };
}

/** The text of a tool result (its first text block). */
export function resultText(result: CallToolResult): string {
  const block = result.content.find((c) => c.type === 'text');
  return block && block.type === 'text' ? block.text : '';
}
