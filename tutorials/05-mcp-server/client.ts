// The client: plays the assistant. It launches server.ts over stdio, exactly as Claude Desktop
// does, and calls the tools in the order a conversation would: process → status → approve →
// status until PAID. Needs Temporal and the step 05 worker running (or use `npm run demo`).
//   npx tsx tutorials/05-mcp-server/client.ts [--id INV-5001] [--approver alice]
import { parseArgs } from 'node:util';
import { newInvoiceId, sampleInvoice } from '../../shared/invoice.js';
import { runMain } from '../../shared/log.js';
import { resultText, spawnMcpServer, type McpSession } from '../../shared/mcp-client.js';

const { values } = parseArgs({ options: { id: { type: 'string' }, approver: { type: 'string', default: 'alice' } } });

runMain(async () => {
  const mcp = await spawnMcpServer(new URL('./server.ts', import.meta.url), { stderr: 'ignore' });
  try {
    const invoice = sampleInvoice(values.id ?? newInvoiceId());
    const started = await call(mcp, 'process_invoice', invoice);
    console.log(`\nOpen the Web UI to watch it: ${(started as { webUiUrl: string }).webUiUrl}\n`);

    await waitForState(mcp, invoice.id, 'AWAITING_APPROVAL');
    await call(mcp, 'get_invoice_status', { invoice_id: invoice.id });
    await call(mcp, 'approve_invoice', { invoice_id: invoice.id, approver: values.approver });
    await waitForState(mcp, invoice.id, 'PAID');
    const final = (await call(mcp, 'get_invoice_status', { invoice_id: invoice.id })) as { amountPaid: number; linesPaid: number };
    console.log(`\n✔ Invoice ${invoice.id} PAID through MCP: ${final.linesPaid} lines, ${final.amountPaid.toFixed(2)}.`);
  } finally {
    await mcp.close();
  }
});

/** Calls a tool, printing the call and its result as an assistant's transcript would show them. */
async function call(mcp: McpSession, tool: string, args: Record<string, unknown>): Promise<unknown> {
  console.log(`→ ${tool} ${JSON.stringify(args)}`);
  const result = await mcp.call(tool, args);
  if (result.isError) throw new Error(`${tool} failed: ${resultText(result)}`);
  console.log(`← ${resultText(result).replace(/\n\s*/g, ' ')}`);
  return result.structuredContent;
}

/** Polls get_invoice_status (quietly, printing progress) until the invoice reaches `state`. */
async function waitForState(mcp: McpSession, invoiceId: string, state: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const result = await mcp.call('get_invoice_status', { invoice_id: invoiceId });
    const status = result.structuredContent as { state: string; linesPaid: number; linesTotal: number } | undefined;
    const now = status ? `${status.state} (${status.linesPaid}/${status.linesTotal} lines paid)` : resultText(result);
    if (now !== last) process.stdout.write(`  … ${now}\n`);
    last = now;
    if (status?.state === state) return;
    if (Date.now() > deadline) throw new Error(`Invoice ${invoiceId} did not reach ${state} within ${timeoutMs / 1000} s; last: ${now}. Is the worker running?`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
