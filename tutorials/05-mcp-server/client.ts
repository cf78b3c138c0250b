// The client: plays the assistant. It launches server.ts over stdio, exactly as Claude Desktop
// does, and calls the tools in the order a conversation would: process → status → approve →
// status until PAID. Needs Temporal and the step 05 worker running (or use `npm run demo`).
//   npx tsx tutorials/05-mcp-server/client.ts [--id INV-5001] [--approver alice]
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { tsxCommand } from '../../shared/binaries.js';
import { newInvoiceId, sampleInvoice } from '../../shared/invoice.js';
import { runMain } from '../../shared/log.js';

const { values } = parseArgs({ options: { id: { type: 'string' }, approver: { type: 'string', default: 'alice' } } });

runMain(async () => {
  // #region connect
  // Start the server the way Claude Desktop does: a child process speaking MCP on its stdin and
  // stdout. It inherits our environment, so TEMPORAL_ADDRESS and friends reach it.
  const { command, args } = tsxCommand(new URL('./server.ts', import.meta.url));
  const transport = new StdioClientTransport({ command, args, env: { ...process.env } as Record<string, string>, stderr: 'ignore' });
  const mcp = new Client({ name: 'invoice-tutorial-client', version: '1.0.0' });
  await mcp.connect(transport);
  // #endregion connect
  try {
    const invoice = sampleInvoice(values.id ?? newInvoiceId());
    const started = await call(mcp, 'process_invoice', invoice);
    console.log(`\nOpen the Web UI to watch it: ${(started as { webUiUrl: string }).webUiUrl}\n`);

    await waitForState(mcp, invoice.id, 'AWAITING_APPROVAL');
    await call(mcp, 'get_invoice_status', { invoice_id: invoice.id });
    await call(mcp, 'approve_invoice', { invoice_id: invoice.id, approved_by: values.approver });
    await waitForState(mcp, invoice.id, 'PAID');
    const final = (await call(mcp, 'get_invoice_status', { invoice_id: invoice.id })) as { amountPaid: number; linesPaid: number };
    console.log(`\n✔ Invoice ${invoice.id} PAID through MCP: ${final.linesPaid} lines, ${final.amountPaid.toFixed(2)}.`);
  } finally {
    await mcp.close();
  }
});

/** Calls a tool, printing the call and its result as an assistant's transcript would show them. */
async function call(mcp: Client, name: string, args: Record<string, unknown>): Promise<unknown> {
  console.log(`→ ${name} ${JSON.stringify(args)}`);
  const result = (await mcp.callTool({ name, arguments: args })) as CallToolResult;
  if (result.isError) throw new Error(`${name} failed: ${text(result)}`);
  console.log(`← ${text(result).replace(/\n\s*/g, ' ')}`);
  return result.structuredContent;
}

/** Polls get_invoice_status (quietly, printing progress) until the invoice reaches `state`. */
async function waitForState(mcp: Client, invoiceId: string, state: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const result = (await mcp.callTool({ name: 'get_invoice_status', arguments: { invoice_id: invoiceId } })) as CallToolResult;
    const status = result.structuredContent as { state: string; linesPaid: number; linesTotal: number } | undefined;
    const now = status ? `${status.state} (${status.linesPaid}/${status.linesTotal} lines paid)` : text(result);
    if (now !== last) process.stdout.write(`  … ${now}\n`);
    last = now;
    if (status?.state === state) return;
    if (Date.now() > deadline) throw new Error(`Invoice ${invoiceId} did not reach ${state} within ${timeoutMs / 1000} s; last: ${now}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The text of a tool result (its first text block). */
function text(result: CallToolResult): string {
  const block = result.content.find((c) => c.type === 'text');
  return block?.type === 'text' ? block.text : '';
}
