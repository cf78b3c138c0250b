// The client: one tool call of this step's MCP server per run, as an assistant would make it. It
// launches server.ts over stdio, as Claude Desktop does, but does not announce MCP Apps, so it gets
// step 08's tools: a decision from a terminal, which an open card shows within two seconds.
//   npx tsx tutorials/10-approval-card/client.ts process INV-8001 [--customer ACME]   # submit the sample invoice
//   npx tsx tutorials/10-approval-card/client.ts approve INV-8001 [--by alice]
//   npx tsx tutorials/10-approval-card/client.ts status INV-8001
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { tsxCommand } from '../../shared/binaries.js';
import { sampleInvoice } from '../../shared/invoice.js';
import { runMain } from '../../shared/log.js';

const USAGE = 'usage: npx tsx tutorials/10-approval-card/client.ts process|approve|status INVOICE_ID [--customer NAME] [--by NAME]';

runMain(async () => {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { customer: { type: 'string', default: 'ACME Corp' }, by: { type: 'string', default: 'alice' } },
  });
  const [action, invoiceId] = positionals;
  if (!invoiceId) throw new Error(USAGE);
  const calls: Record<string, [string, Record<string, unknown>]> = {
    process: ['process_invoice', { ...sampleInvoice(invoiceId), customer: values.customer }],
    approve: ['approve_invoice', { invoice_id: invoiceId, approved_by: values.by }],
    status: ['get_invoice_status', { invoice_id: invoiceId }],
  };
  const call = calls[action ?? ''];
  if (!call) throw new Error(USAGE);

  // The server inherits our environment, so TEMPORAL_ADDRESS and friends reach it.
  const { command, args } = tsxCommand(new URL('./server.ts', import.meta.url));
  const transport = new StdioClientTransport({ command, args, env: { ...process.env } as Record<string, string>, stderr: 'ignore' });
  const mcp = new Client({ name: 'invoice-tutorial-client', version: '1.0.0' });
  await mcp.connect(transport);
  try {
    const result = (await mcp.callTool({ name: call[0], arguments: call[1] })) as CallToolResult;
    const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
    if (result.isError) throw new Error(text);
    console.log(text);
  } finally {
    await mcp.close();
  }
});
