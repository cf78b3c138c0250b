// Promises one step makes about another, checked across the two. A step's own test cannot check
// them without importing the other step, which no step does (each can be copied out on its own).
//   - Step 10 (the approval card) gives a client without MCP Apps step 08's tools, unchanged: the
//     same names, titles, descriptions, input and output schemas and annotations.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, describe, expect, it } from 'vitest';
import { connectClient } from '../shared/mcp-app-host/index.js';
import { createServer as step08Server } from '../tutorials/08-versioning/server.js';
import { createServer as step10Server } from '../tutorials/10-approval-card/server.js';

const clients: Client[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => {})));
});

/** The tools a server lists to a client that does or does not render MCP Apps (in memory, no Temporal needed). */
async function toolsOf(server: ReturnType<typeof step08Server>, apps: boolean): Promise<Tool[]> {
  const client = await connectClient(server, apps);
  clients.push(client);
  return (await client.listTools()).tools;
}

describe('what one step promises about another', () => {
  it("step 10 offers a client without MCP Apps step 08's tools, unchanged: names, descriptions, schemas, annotations", async () => {
    const [before, after] = await Promise.all([toolsOf(step08Server(), false), toolsOf(step10Server(), false)]);
    expect(after.map((t) => t.name)).toEqual(before.map((t) => t.name));
    expect(after).toEqual(before);
  });

  it('step 10 offers a host with MCP Apps something else: the comparison above can fail', async () => {
    const [before, host] = await Promise.all([toolsOf(step08Server(), false), toolsOf(step10Server(), true)]);
    expect(host.map((t) => t.name)).not.toEqual(before.map((t) => t.name));
  });
});
