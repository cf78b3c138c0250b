// The three crash scenes, shared by demo.ts (which narrates them) and invoice.test.ts (which
// asserts their verdicts). Each scene crashes one part of the system on purpose and then checks
// what a learner cares about: every invoice reached its right state, every line was charged
// exactly once, and no approval was lost.
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startDevServer, type DevServer } from '../../shared/dev-server.js';
import { invoiceWorkflowId, sampleInvoice } from '../../shared/invoice.js';
import { resultText, spawnMcpServer, type McpSession } from '../../shared/mcp-client.js';
import { startScript, type ScriptProcess } from '../../shared/processes.js';
import { uniqueName, waitFor } from '../../shared/testing.js';
import { duplicateCharges, LedgerGateway } from './ledger.js';
import { getInvoiceStatus, type InvoiceStatus } from './workflows.js';

/** How a scene ended: the numbers behind its verdict line. */
export interface Verdict {
  scene: number;
  invoices: number;
  paid: number;
  charges: number;
  duplicates: number;
  /** Scene-specific checks, e.g. "deadlines unchanged"; all must be true. */
  checks: Record<string, boolean>;
  line: string;
  ok: boolean;
}

/** Where the scenes play: a dev server on a database file, worker processes, MCP servers. */
export interface StageOptions {
  /** Folder for the Temporal database and the ledger. */
  dir: string;
  /** Temporal's frontend port (the Web UI is on port + 1000). */
  port: number;
  /** How long one charge takes, the window to crash into. */
  paymentDelayMs: number;
  /** Narration; the tests pass a no-op. */
  say: (line: string) => void;
}

/** The system under test, with the handles to crash each part of it. */
export class Stage {
  readonly ledger: LedgerGateway;
  /** A Temporal client for the checks (the scenes themselves go through MCP). */
  client!: Client;
  private temporal!: DevServer;
  private connection?: Connection;
  private sharedMcp?: Promise<McpSession>;
  private workers = 0;
  private children = new Set<{ kill(signal?: NodeJS.Signals): Promise<void> }>();

  private constructor(readonly options: StageOptions) {
    this.ledger = new LedgerGateway(join(options.dir, 'ledger.jsonl'));
  }

  /** Starts Temporal on a database file, so that it can be restarted with its state. */
  static async open(options: StageOptions): Promise<Stage> {
    const stage = new Stage(options);
    await stage.startTemporal();
    return stage;
  }

  get address(): string {
    return `127.0.0.1:${this.options.port}`;
  }

  private async startTemporal(): Promise<void> {
    this.temporal = await startDevServer({
      port: this.options.port,
      uiPort: this.options.port + 1000,
      dbFilename: join(this.options.dir, 'temporal.db'),
    });
    // One client for the whole stage: after a restart its connection finds the server again by
    // itself, as the worker's and the MCP server's do.
    this.connection ??= await Connection.connect({ address: this.address });
    this.client ??= new Client({ connection: this.connection });
  }

  /** Kills the Temporal server (SIGKILL) and starts it again on the same database file and port. */
  async restartTemporal(): Promise<void> {
    await this.temporal.stop({ hard: true });
    await this.startTemporal();
  }

  /** Starts a worker process (tutorials/06-durability-demo/worker.ts) and waits until it polls. */
  async startWorker(): Promise<ScriptProcess> {
    const worker = await startScript(new URL('./worker.ts', import.meta.url), {
      name: `worker #${++this.workers}`,
      env: { TEMPORAL_ADDRESS: this.address, LEDGER_FILE: this.ledger.path, PAYMENT_DELAY_MS: String(this.options.paymentDelayMs) },
      readyWhen: /polling task queue/,
    });
    this.children.add(worker);
    return worker;
  }

  /** Launches the MCP server over stdio, as an assistant would; `kill()` ends it with SIGKILL. */
  async openMcp(): Promise<Awaited<ReturnType<typeof spawnMcpServer>> & { kill(): Promise<void> }> {
    const session = await spawnMcpServer(new URL('./server.ts', import.meta.url), { env: { TEMPORAL_ADDRESS: this.address }, stderr: 'ignore' });
    const pid = session.transport.pid;
    const child = {
      ...session,
      kill: async () => {
        if (pid) process.kill(pid, 'SIGKILL');
        await session.close().catch(() => {});
      },
    };
    this.children.add({ kill: () => child.close().catch(() => {}) });
    return child;
  }

  /**
   * The MCP server the assistant keeps using from scene to scene (opened on first use): each scene
   * kills what it is about, not the server it talks through. Scene 3 relies on it: a server that
   * outlives a Temporal restart.
   */
  async assistant(): Promise<McpSession> {
    this.sharedMcp ??= this.openMcp();
    return this.sharedMcp;
  }

  /** Makes `session` the one {@link Stage.assistant} returns from now on. */
  keepAsAssistant(session: McpSession): void {
    this.sharedMcp = Promise.resolve(session);
  }

  /** Stops everything this stage started, also after a failure. */
  async close(): Promise<void> {
    await Promise.all([...this.children].map((c) => c.kill('SIGKILL').catch(() => {})));
    await this.connection?.close().catch(() => {});
    await this.temporal?.stop().catch(() => {});
  }
}

/** Calls a tool and returns its structured result, or throws with the tool's error text. */
async function call<T>(mcp: McpSession, tool: string, args: Record<string, unknown>): Promise<T> {
  const result = await mcp.call(tool, args);
  if (result.isError) throw new Error(`${tool} failed: ${resultText(result)}`);
  return result.structuredContent as T;
}

/** Submits `count` invoices through the MCP server and waits until all await approval. */
async function submitInvoices(stage: Stage, mcp: McpSession, prefix: string, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => uniqueName(prefix));
  await fewAtATime(ids, (id) => call(mcp, 'process_invoice', sampleInvoice(id)));
  // One invoice at a time: they progress together, and twenty queries at once would keep the
  // worker busy answering instead of working.
  for (const id of ids) await waitFor(() => statusOf(stage, id), (s) => s.state === 'AWAITING_APPROVAL', 60_000);
  return ids;
}

function statusOf(stage: Stage, invoiceId: string): Promise<InvoiceStatus> {
  return stage.client.workflow.getHandle(invoiceWorkflowId(invoiceId)).query(getInvoiceStatus);
}

/** Approves every invoice through the MCP server, a few at a time, as several people clicking would. */
async function approveAll(mcp: McpSession, ids: string[]): Promise<void> {
  await fewAtATime(ids, (id) => call(mcp, 'approve_invoice', { invoice_id: id, approved_by: 'alice' }));
}

/** Runs `fn` for every item, at most 5 at once: quicker than one by one, gentler than all at once. */
async function fewAtATime<T>(items: T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  const queue = [...items];
  await Promise.all(Array.from({ length: 5 }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
  }));
}

/** Waits for every invoice's workflow to finish, and returns the final statuses. */
function outcomes(stage: Stage, ids: string[]): Promise<InvoiceStatus[]> {
  return Promise.all(ids.map((id) => stage.client.workflow.getHandle(invoiceWorkflowId(id)).result() as Promise<InvoiceStatus>));
}

/** The verdict line and numbers, from the final statuses and the ledger. */
function verdict(scene: number, ids: string[], finals: InvoiceStatus[], ledger: LedgerGateway, checks: Record<string, boolean>): Verdict {
  const ours = new Set(ids.map((id) => `invoice-${id}/`));
  const charges = ledger.charges().filter((c) => ours.has(c.reference.slice(0, c.reference.indexOf('/') + 1)));
  const paid = finals.filter((f) => f.state === 'PAID').length;
  const duplicates = duplicateCharges(charges).length;
  const extra = Object.entries(checks)
    .map(([what, ok]) => `, ${what}: ${ok ? 'yes' : 'NO'}`)
    .join('');
  const ok = paid === ids.length && charges.length === ids.length * 3 && duplicates === 0 && Object.values(checks).every(Boolean);
  const line = `scene ${scene}: ${paid}/${ids.length} invoices PAID, ${charges.length} charges, ${duplicates} duplicates${extra} — ${ok ? 'PASS' : 'FAIL'}`;
  return { scene, invoices: ids.length, paid, charges: charges.length, duplicates, checks, line, ok };
}

// #region scene-1
/**
 * Scene 1 — the assistant goes away. Invoices are submitted through an MCP server, which is then
 * killed. A new MCP server knows nothing, yet finds them all waiting (the state is in Temporal,
 * not in the server), approves them, and they are paid.
 */
export async function sceneAssistantGoesAway(stage: Stage, count: number): Promise<Verdict> {
  const { say } = stage.options;
  const first = await stage.openMcp();
  const ids = await submitInvoices(stage, first, 'S1', count);
  say(`  ${count} invoices submitted through MCP server (pid ${first.transport.pid}); all AWAITING_APPROVAL.`);
  await first.kill();
  say('  ✝ MCP server killed (SIGKILL): the assistant is gone, and everything it held in memory with it.');

  const second = await stage.openMcp();
  stage.keepAsAssistant(second); // scenes 2 and 3 talk through it
  say(`  A new MCP server (pid ${second.transport.pid}) starts with an empty memory and asks list_invoices ...`);
  const waiting = await waitFor(
    async () => (await call<{ invoices: { invoiceId: string }[] }>(second, 'list_invoices', { state: 'AWAITING_APPROVAL', limit: 100 })).invoices,
    (list) => ids.every((id) => list.some((i) => i.invoiceId === id)),
    30_000,
  );
  const found = ids.filter((id) => waiting.some((i) => i.invoiceId === id)).length;
  say(`  It finds ${found}/${count} of them waiting, and approves each one.`);
  await approveAll(second, ids);
  const finals = await outcomes(stage, ids);
  return verdict(1, ids, finals, stage.ledger, { 'all found by the new server': found === count });
}
// #endregion scene-1

// #region scene-2
/**
 * Scene 2 — the worker dies mid-payment. Approved invoices are being paid when the worker is
 * killed with SIGKILL, twice, at different moments. New workers take over; Temporal retries the
 * interrupted payments, and the idempotency key keeps each line from being charged twice.
 */
export async function sceneWorkerDies(stage: Stage, count: number, worker: ScriptProcess): Promise<{ verdict: Verdict; worker: ScriptProcess }> {
  const { say } = stage.options;
  const mcp = await stage.assistant();
  const ids = await submitInvoices(stage, mcp, 'S2', count);
  await approveAll(mcp, ids);
  say(`  ${count} invoices approved; ${count * 3} lines are being paid (${stage.options.paymentDelayMs} ms per charge).`);

  const chargedSoFar = () => stage.ledger.charges().filter((c) => ids.some((id) => c.reference.startsWith(`invoice-${id}/`))).length;
  // Two crashes, each of a worker that is busy paying: the next worker starts while the doomed one
  // works (starting takes seconds), and the doomed one dies once it has made a few more charges
  // of its own, so it always has payments in flight.
  for (let crash = 0; crash < 2; crash++) {
    const next = stage.startWorker();
    const before = chargedSoFar();
    const atFewMoreCharges = (n: number) => n >= Math.min(before + Math.ceil(count / 4), count * 3 - 1);
    await waitFor(async () => chargedSoFar(), atFewMoreCharges, 60_000, 50); // every 50 ms: a later look could miss the moment
    await worker.kill('SIGKILL');
    say(`  ✝ ${worker.name} killed (SIGKILL) after ${chargedSoFar()} of ${count * 3} charges, with payments in flight.`);
    worker = await next;
    say(`  ${worker.name} takes over; after the 3 s heartbeat timeout Temporal retries the interrupted payments there.`);
  }
  const finals = await outcomes(stage, ids);
  return { verdict: verdict(2, ids, finals, stage.ledger, {}), worker };
}
// #endregion scene-2

// #region scene-3
/**
 * Scene 3 — Temporal itself restarts. Invoices wait for approval on a dev server that keeps its
 * state in a database file. The server is stopped and started again on the same file: the
 * invoices are still waiting, their deadlines unchanged, and approving them pays.
 */
export async function sceneTemporalRestarts(stage: Stage, count: number): Promise<Verdict> {
  const { say } = stage.options;
  const mcp = await stage.assistant();
  const ids = await submitInvoices(stage, mcp, 'S3', count);
  const deadlinesBefore = await Promise.all(ids.map(async (id) => (await statusOf(stage, id)).approvalDeadline));
  say(`  ${count} invoices AWAITING_APPROVAL; first deadline ${deadlinesBefore[0]}.`);

  await stage.restartTemporal();
  say('  ✝ Temporal server killed (SIGKILL), and started again on the same database file.');

  // Until the server and the worker are back, a query fails: keep asking for a while.
  const after: InvoiceStatus[] = [];
  for (const id of ids) after.push((await waitFor(() => statusOf(stage, id).catch(() => undefined), (s) => s !== undefined, 60_000))!);
  const stillWaiting = after.filter((s) => s.state === 'AWAITING_APPROVAL').length;
  const deadlinesKept = after.every((s, i) => s.approvalDeadline === deadlinesBefore[i]);
  say(`  After the restart: ${stillWaiting}/${count} still AWAITING_APPROVAL, deadlines ${deadlinesKept ? 'unchanged' : 'CHANGED'}. Approving them ...`);
  // The same MCP server as before the restart: its Temporal client reconnected by itself.
  await approveAll(mcp, ids);
  const finals = await outcomes(stage, ids);
  return verdict(3, ids, finals, stage.ledger, { 'still waiting after restart': stillWaiting === count, 'deadlines unchanged': deadlinesKept });
}
// #endregion scene-3
