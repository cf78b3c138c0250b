// The client: plays an assistant's host on either wire revision, against the server on HTTP.
// On 2026-07-28 (the default) it is a client from outside this project: the SDK v2 Client with the
// Tasks extension's own requester, @modelcontextprotocol/ext-tasks. It submits an invoice, the
// server makes the call a task, and the requester follows it: when the task asks its question (the
// approval form), the human at this host (scripted here) answers it and the requester sends the
// answer with tasks/update. On 2025-11-25 it is step 07's kind of client (SDK v1): no tasks, so it
// follows the invoice with get_invoice_status and approves with approve_invoice.
// Needs Temporal, the step 12 worker and the server with --http running.
//   npx tsx tutorials/12-mcp-2026/client.ts [--url http://127.0.0.1:3000/mcp] [--revision 2026-07-28|2025-11-25] [--approver alice] [--amount 268.49]
import { parseArgs } from 'node:util';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createTaskSessionEndpointId, createTaskSessionFromClient, type ApplicationElicitResult, type ApplicationInputRequest, type JsonRpcResponse } from '@modelcontextprotocol/ext-tasks/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as HttpTransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { newInvoiceId, sampleInvoice, type Invoice } from '../../shared/invoice.js';
import { runMain } from '../../shared/log.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:3000/mcp' },
    revision: { type: 'string', default: '2026-07-28' },
    approver: { type: 'string', default: 'alice' },
    amount: { type: 'string' },
  },
});
const REVISIONS = ['2026-07-28', '2025-11-25'];
const CLIENT_INFO = { name: 'invoice-host', version: '1.0.0' };

runMain(async () => {
  if (!REVISIONS.includes(values.revision)) throw new Error(`--revision must be one of ${REVISIONS.join(', ')}, not "${values.revision}".`);
  const invoice = sampleInvoice(newInvoiceId());
  if (values.amount) {
    const amount = Number(values.amount);
    if (!(amount > 0)) throw new Error(`--amount must be a positive number, e.g. --amount 12000, not "${values.amount}".`);
    invoice.lines = [{ item: 'One large line', amount }];
  }
  const final = values.revision === '2026-07-28' ? await on2026(invoice) : await on2025(invoice);
  const lines = final.linesPaid === 1 ? 'line' : 'lines';
  console.log(`\n✔ ${values.revision}: invoice ${invoice.id} is ${final.state}, ${final.linesPaid} ${lines}, ${final.amountPaid.toFixed(2)} paid.`);
});

type Final = { state: string; linesPaid: number; amountPaid: number };

// #region on-2026
/** 2026-07-28: the SDK v2 Client, and ext-tasks' requester to follow the task and answer its question. */
async function on2026(invoice: Invoice): Promise<Final> {
  const clientCapabilities = { elicitation: { form: {} }, extensions: { 'io.modelcontextprotocol/tasks': {} } };
  const client = new Client(CLIENT_INFO, { capabilities: clientCapabilities, versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await client.connect(new StreamableHTTPClientTransport(new URL(values.url))).catch(notServing);
  const session = createTaskSessionFromClient(client, {
    endpointId: await createTaskSessionEndpointId('invoice-host', values.url),
    // ext-tasks sends the task methods itself (the SDK Client has no wire shape for them): over HTTP, as a host would.
    rawDispatch: (request) => post(values.url, request as JsonRpcRequest),
    v2RequestFraming: { protocolVersion: '2026-07-28', clientInfo: CLIENT_INFO, clientCapabilities },
    onInputRequest: async (request) => (await humanAnswers(request)) as never, // an elicitation result: the only kind asked here
  });
  try {
    const execution = await session.callTool('process_invoice', invoice);
    if (execution.kind !== 'task') throw new Error('The server answered at once instead of with a task: does it serve the Tasks extension?');
    console.log(`task ${execution.handle.taskId} created for invoice ${invoice.id}`);
    const { outcome } = await execution.settle({
      onEvent: (event) => {
        if (event.type === 'task') console.log(`  tasks/get: ${event.task.status}${event.task.statusMessage ? ` (${event.task.statusMessage})` : ''}`);
      },
    });
    if (outcome.status !== 'completed') throw new Error(`The task ended ${outcome.status}${outcome.status === 'failed' ? `: ${outcome.error.message}` : ''}.`);
    return (outcome.result as CallToolResult).structuredContent as Final;
  } finally {
    await session.close();
    await client.close();
  }
}
// #endregion on-2026

// #region human
/** The human at this host, scripted: says yes to a large amount, and approves as --approver. */
async function humanAnswers(request: ApplicationInputRequest): Promise<ApplicationElicitResult> {
  if (request.kind !== 'elicitation') throw new Error(`This host answers forms only, not ${request.kind}.`);
  const { message, requestedSchema } = request.params as { message: string; requestedSchema: { properties: Record<string, unknown> } };
  console.log(`  the server asks: ${message}`);
  const answer: Record<string, string | boolean> = 'confirm' in requestedSchema.properties ? { confirm: true } : { decision: 'approve', name: values.approver };
  console.log(`  the human answers: ${JSON.stringify(answer)}`);
  return { action: 'accept', content: answer };
}
// #endregion human

type JsonRpcRequest = { id?: string | number; method: string; params?: Record<string, unknown> };
let nextId = 1;
/** One JSON-RPC request over Streamable HTTP, with the headers 2026 requires; the answer as ext-tasks wants it. */
async function post(url: string, request: JsonRpcRequest): Promise<JsonRpcResponse> {
  const message = { jsonrpc: '2.0', ...request, id: request.id ?? `host-${nextId++}` };
  const name = (message.params?.taskId ?? message.params?.name) as string | undefined;
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': message.method, ...(name ? { 'mcp-name': name } : {}) },
    body: JSON.stringify(message),
  });
  const text = await res.text();
  // A JSON body, or an SSE stream whose last data line is the response.
  const json = text.trimStart().startsWith('{') ? text : (text.split('\n').filter((l) => l.startsWith('data:')).pop() ?? '').slice(5);
  const body = JSON.parse(json) as { result?: never; error?: { code: number; message: string; data?: never } };
  return body.error ? { kind: 'error', error: body.error } : { kind: 'result', result: body.result! };
}

// #region on-2025
/** 2025-11-25: step 07's kind of client (SDK v1, no tasks): the ordinary tools, through the server's fallback. */
async function on2025(invoice: Invoice): Promise<Final> {
  const client = new ClientV1(CLIENT_INFO);
  await client.connect(new HttpTransportV1(new URL(values.url))).catch(notServing);
  const call = async (name: string, args: Record<string, unknown>) => {
    const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
    if (result.isError) throw new Error(`${name} failed: ${(result.content[0] as { text: string }).text}`);
    return result.structuredContent as Final & Record<string, unknown>;
  };
  try {
    const submitted = await call('process_invoice', invoice);
    console.log(`process_invoice: ${submitted.message}`);
    await until(async () => (await call('get_invoice_status', { invoice_id: invoice.id })).state === 'AWAITING_APPROVAL');
    console.log('  get_invoice_status: AWAITING_APPROVAL');
    const approved = await call('approve_invoice', { invoice_id: invoice.id, approved_by: values.approver });
    console.log(`  approve_invoice: ${approved.message}`);
    let final: Final | undefined;
    await until(async () => ['PAID', 'FAILED'].includes((final = await call('get_invoice_status', { invoice_id: invoice.id })).state));
    return final!;
  } finally {
    await client.close();
  }
}
// #endregion on-2025

/** A connect that failed: most likely nothing serves at --url yet. */
function notServing(err: unknown): never {
  throw new Error(`Cannot reach the MCP server at ${values.url}. Is it running (npx tsx tutorials/12-mcp-2026/server.ts --http --port 3000)?`, { cause: err });
}

async function until(done: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`Gave up after ${timeoutMs / 1000} s. Is the worker running (npx tsx tutorials/12-mcp-2026/worker.ts)?`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
