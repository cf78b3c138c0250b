/**
 * The MCP server process's CPU per tools/call, side by side, in one run (Linux: it reads
 * /proc/<pid>/stat):
 * - step 12 on 2026-07-28: stateless, no initialize; each POST carries its own _meta;
 * - step 12 through its 2025-11-25 fallback (SDK v1 client: initialize once, then a POST per call);
 * - step 05's stateless Streamable HTTP (SDK v1 server, a server and transport per POST), same client.
 *
 *   npm run bench:2026 -- [--calls 500]
 *
 * Each server runs as its own process with its worker, on one local dev server. For each, after a
 * warm-up (and a whole first round, not reported), `--calls` sequential calls of get_invoice_status
 * (a describe and a query: the server's own Temporal client is part of the cost) and of tools/list
 * (MCP alone); the CPU the server process
 * spent (user + system, from the kernel's own accounting), divided by the calls. Also a tools/call
 * that never reaches Temporal (its arguments fail the schema): MCP's own cost of a call. And the
 * Temporal calls get_invoice_status makes (describe, the worker check, the query), from a bare
 * Temporal client in this process: what the tool costs with no MCP at all. Prints a table and one
 * JSON line. The goal: MCP's own CPU per tools/call on 2026-07-28 at most 1.5 ms.
 */
import { readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Client as TemporalClient, Connection } from '@temporalio/client';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { REPO_ROOT } from '../shared/binaries.js';
import { freePort, startDevServer } from '../shared/dev-server.js';
import { askWorker } from '../shared/connection.js';
import { invoiceWorkflowId, sampleInvoice } from '../shared/invoice.js';
import { getInvoiceStatus, TASK_QUEUE } from '../tutorials/12-mcp-2026/workflows.js';
import { log, runMain } from '../shared/log.js';
import { startScript, type ScriptProcess } from '../shared/processes.js';
import { uniqueName, waitFor } from '../shared/testing.js';

const GOAL_MS = 1.5;
const TICKS_PER_S = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU seconds (user + system) the process has used so far, as the kernel counts them. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S; // utime, stime (fields 14, 15 of the line)
}

/** How a client calls a tool on one revision. */
type Call = (method: 'tools/call' | 'tools/list', params?: Record<string, unknown>) => Promise<unknown>;

/** 2026-07-28: one POST per request, with the per-request envelope and the standard headers. */
function call2026(url: string): Call {
  let id = 0;
  return async (method, params = {}) => {
    const name = params.name as string | undefined;
    const body = { jsonrpc: '2.0', id: ++id, method, params: { ...params, _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } } };
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': method, ...(name ? { 'mcp-name': name } : {}) },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as { error?: { message: string }; result?: unknown };
    if (json.error) throw new Error(`${method}: ${json.error.message}`);
    return json.result;
  };
}

/** 2025-11-25: the SDK v1 client, initialized once (not measured), then one POST per request. */
async function call2025(url: string): Promise<{ call: Call; close: () => Promise<void> }> {
  const client = new Client({ name: 'bench-2026', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  const call: Call = async (method, params) => (method === 'tools/list' ? client.listTools() : client.callTool(params as { name: string; arguments: Record<string, unknown> }));
  return { call, close: () => client.close() };
}

/** CPU per call of the server process, in ms, over `calls` sequential calls after a warm-up. */
async function measure(pid: number, calls: number, call: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 100; i++) await call(); // warm-up: the JIT, the connections
  const before = cpuSeconds(pid);
  for (let i = 0; i < calls; i++) await call();
  return ((cpuSeconds(pid) - before) * 1000) / calls;
}

/** CPU per get_invoice_status's Temporal calls alone, made from this process with a bare client. */
async function temporalBaseline(address: string, calls: number): Promise<number> {
  const client = new TemporalClient({ connection: await Connection.connect({ address }) });
  const invoice = sampleInvoice(uniqueName('BASE'));
  const handle = await client.workflow.start('InvoiceWorkflow', { taskQueue: TASK_QUEUE, workflowId: invoiceWorkflowId(invoice.id), args: [invoice] });
  const where = { taskQueue: TASK_QUEUE, workerScript: 'tutorials/12-mcp-2026/worker.ts' };
  const once = () => Promise.all([handle.describe(), askWorker(client, where, () => handle.query(getInvoiceStatus))]);
  await waitFor(once, ([, status]) => status.state === 'AWAITING_APPROVAL');
  for (let i = 0; i < calls; i++) await once(); // as warm as the servers are after their first round
  const before = process.cpuUsage();
  for (let i = 0; i < calls; i++) await once();
  const used = process.cpuUsage(before);
  await client.connection.close();
  return (used.user + used.system) / 1000 / calls;
}

runMain(async () => {
  if (process.platform !== 'linux') throw new Error('bench-2026 reads /proc/<pid>/stat, which only Linux has.');
  const { values } = parseArgs({ options: { calls: { type: 'string', default: '500' } } });
  const calls = Number(values.calls);
  if (!(calls >= 10)) throw new Error(`--calls must be a number of 10 or more, not "${values.calls}".`);
  const temporal = await startDevServer();
  const started: ScriptProcess[] = [];
  const env = { TEMPORAL_ADDRESS: temporal.address, LEDGER_FILE: join(REPO_ROOT, '.temporal', `bench-2026-${process.pid}.jsonl`) };
  const serve = async (step: string) => {
    started.push(await startScript(join(REPO_ROOT, 'tutorials', step, 'worker.ts'), { name: `${step} worker`, env, readyWhen: /polling task queue/ }));
    const port = await freePort();
    const server = await startScript(join(REPO_ROOT, 'tutorials', step, 'server.ts'), { name: `${step} server`, env, args: ['--http', '--port', String(port)], readyWhen: /serving Streamable HTTP on/ });
    started.push(server);
    return { pid: server.pid, url: `http://127.0.0.1:${port}/mcp` };
  };
  try {
    const [step12, step05] = [await serve('12-mcp-2026'), await serve('05-mcp-server')];
    const rows: { server: string; revision: string; getInvoiceStatusMs: number; noTemporalCallMs: number; toolsListMs: number }[] = [];
    const run = async (server: string, revision: string, pid: number, call: Call) => {
      const invoice = sampleInvoice(uniqueName('BENCH'));
      await call('tools/call', { name: 'process_invoice', arguments: invoice });
      const status = () => call('tools/call', { name: 'get_invoice_status', arguments: { invoice_id: invoice.id } }) as Promise<{ structuredContent: { state: string } }>;
      await waitFor(status, (r) => r.structuredContent.state === 'AWAITING_APPROVAL');
      log('bench', `${server} on ${revision}: ${calls} calls of each`);
      // A tools/call that never reaches Temporal: the arguments fail the tool's schema (an empty id),
      // and the answer is an isError result. Every MCP step of a call is in it; no Temporal call is.
      const refused = () => call('tools/call', { name: 'get_invoice_status', arguments: { invoice_id: '' } });
      rows.push({
        server,
        revision,
        getInvoiceStatusMs: await measure(pid, calls, status),
        noTemporalCallMs: await measure(pid, calls, refused),
        toolsListMs: await measure(pid, calls, () => call('tools/list')),
      });
    };
    // Two rounds, and only the second is reported: the first warms each process (its JIT, its
    // Temporal connection) whichever revision comes first, which would otherwise pay for it.
    for (const round of [1, 2]) {
      if (round === 2) rows.length = 0;
      await run('step 12', '2026-07-28', step12.pid, call2026(step12.url));
      for (const [server, target] of [['step 12', step12], ['step 05', step05]] as const) {
        const legacy = await call2025(target.url);
        await run(server, '2025-11-25', target.pid, legacy.call);
        await legacy.close();
      }
    }
    const temporalOnly = await temporalBaseline(temporal.address, calls);
    console.log(`\nserver CPU per request (ms), ${calls} sequential requests each, Node ${process.versions.node}\n`);
    console.log(`${'server'.padEnd(10)}${'revision'.padEnd(13)}${'get_invoice_status'.padEnd(20)}${'tools/call, no Temporal'.padEnd(25)}tools/list`);
    for (const r of rows) {
      console.log(`${r.server.padEnd(10)}${r.revision.padEnd(13)}${r.getInvoiceStatusMs.toFixed(2).padEnd(20)}${r.noTemporalCallMs.toFixed(2).padEnd(25)}${r.toolsListMs.toFixed(2)}`);
    }
    console.log(`\nget_invoice_status's 3 Temporal calls alone, from a bare Temporal client: ${temporalOnly.toFixed(2)} ms`);
    const modern = rows[0].noTemporalCallMs;
    console.log(`goal: MCP's own CPU per tools/call on 2026-07-28 at most ${GOAL_MS} ms: ${modern <= GOAL_MS ? 'met' : 'NOT met'} (${modern.toFixed(2)} ms)`);
    console.log(JSON.stringify({ calls, goalMs: GOAL_MS, rows, temporalOnlyMs: temporalOnly }));
  } finally {
    await Promise.all(started.map((p) => p.kill()));
    await temporal.stop();
    rmSync(env.LEDGER_FILE, { force: true });
  }
});
