/**
 * `npm run bench`: measures the step 05 MCP server the way an assistant uses it, against a real
 * local dev server, and prints one JSON report on stdout (progress goes to stderr).
 *
 *   npm run bench                                  # 300 calls per tool, 200 invoices end to end
 *   npm run bench -- --quick                       # smoke run: 5 calls, 5 invoices
 *   npm run bench -- --calls 500 --invoices 400 --concurrency 16
 *
 * Everything runs on this machine, on 127.0.0.1: a `temporal server start-dev` on a free port,
 * the step 05 worker inside this process (so its memory is this process's RSS), and the step 05
 * server spawned over stdio exactly as Claude Desktop launches it.
 *
 * - latency: sequential tool calls, one at a time, after a warm-up: process_invoice (fresh ids,
 *   3 lines), get_invoice_status, approve_invoice (on invoices already AWAITING_APPROVAL; the
 *   wait for that state is outside the timed region). p50 and p99 for every tool.
 * - baseline: the same Temporal calls each tool makes (start; describe + query; the approveInvoice
 *   Update), straight from this process's client, and MCP pings with no Temporal behind them:
 *   together they say where a tool call's time goes.
 * - throughput, twice in the same run on the same workflow: each invoice is processed, approved
 *   once it is AWAITING_APPROVAL and awaited until PAID with the Temporal client's
 *   `handle.result()`. First "direct": process and approve are the Temporal client's own calls;
 *   then "mcp": they are tool calls through the MCP server. At most `--concurrency` of those
 *   calls are in flight at once. The wait for AWAITING_APPROVAL polls the workflow's query with
 *   the Temporal client in both, so it is not a tool call. The report's `mcpToDirect` is MCP
 *   throughput / direct throughput: what the MCP layer costs end to end (target >= 0.7).
 * - memory: this process's RSS (it hosts the worker), sampled every 100 ms from before the worker
 *   starts until the last invoice is paid.
 *
 * The numbers are only as quiet as the machine: the report carries its load averages.
 */
import { execFileSync, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { findBinary, REPO_ROOT, tsxCommand } from '../shared/binaries.js';
import { invoiceWorkflowId, type Invoice } from '../shared/invoice.js';
import { isEntryPoint, log, runMain } from '../shared/log.js';
import { Erp, PaymentGateway } from '../shared/simulated-systems.js';
import { startDevServerEnv, uniqueName } from '../shared/testing.js';
import { createWorker } from '../shared/worker.js';
import { createActivities } from '../tutorials/05-mcp-server/activities.js';
import {
  approveInvoice,
  getInvoiceStatus,
  InvoiceWorkflow,
  TASK_QUEUE,
  type InvoiceState,
  type InvoiceStatus,
} from '../tutorials/05-mcp-server/workflows.js';

/** The goals the bench checks: each tool's p50, and what MCP costs end to end. */
export const TARGET = {
  description: 'p50 tool-call latency under 20 ms on loopback; MCP-path throughput at least 0.7 of the direct path',
  p50UnderMs: 20,
  mcpToDirectAtLeast: 0.7,
} as const;

/** The tools whose latency is measured. */
export const TOOLS = ['process_invoice', 'get_invoice_status', 'approve_invoice'] as const;
export type Tool = (typeof TOOLS)[number];

/** What to measure, from the command line. */
export interface BenchOptions {
  /** Timed sequential calls per tool. */
  calls: number;
  /** Invoices pushed end to end in the throughput run. */
  invoices: number;
  /** Most MCP calls in flight at once in the throughput run. */
  concurrency: number;
  /** Invoices run through all three tools before timing starts. */
  warmup: number;
  quick: boolean;
}

/** Latency of one tool, in milliseconds. */
export interface LatencyStats {
  calls: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

const USAGE = 'usage: bench.ts [--quick] [--calls 300] [--invoices 200] [--concurrency 8] [--warmup 20]';

/** Reads the options; explicit numbers win over `--quick`'s smaller defaults. */
export function parseBenchArgs(argv: string[] = process.argv.slice(2)): BenchOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean', default: false },
        calls: { type: 'string' },
        invoices: { type: 'string' },
        concurrency: { type: 'string' },
        warmup: { type: 'string' },
      },
    }));
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${USAGE}`);
  }
  const quick = values.quick;
  const count = (name: string, raw: string | undefined, fallback: number, min = 1) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} "${raw}" must be a whole number of ${min} or more.\n${USAGE}`);
    return n;
  };
  return {
    quick,
    calls: count('calls', values.calls, quick ? 5 : 300),
    invoices: count('invoices', values.invoices, quick ? 5 : 200),
    concurrency: count('concurrency', values.concurrency, 8),
    warmup: count('warmup', values.warmup, quick ? 1 : 20, 0),
  };
}

/** Runs the whole bench and returns the report; `progress` gets human-readable lines. */
export async function runBench(options: BenchOptions, progress: (message: string) => void = (m) => log('bench', m)) {
  const runId = uniqueName('B').replace(/^B-/, '').toUpperCase();
  const setupMs: Record<string, number> = {};
  // Other work on the machine skews every number here; the load averages say how busy it was.
  const loadAtStart = os.loadavg().map((l) => round(l));
  let t = performance.now();
  // From before the worker exists until the last invoice is paid: its peak over the whole run.
  const memory = sampleRss(100);

  progress('starting a Temporal dev server on 127.0.0.1 (free port)');
  const env = await startDevServerEnv();
  setupMs.devServer = round(performance.now() - t);
  try {
    t = performance.now();
    const gateway = new PaymentGateway();
    const worker = await createWorker(env.nativeConnection, env.namespace ?? 'default', {
      workflowsPath: new URL('../tutorials/05-mcp-server/workflows.ts', import.meta.url),
      activities: createActivities(new Erp(), gateway),
      taskQueue: TASK_QUEUE,
    });
    setupMs.worker = round(performance.now() - t);
    progress(`dev server at ${env.address}; step 05 worker polling "${TASK_QUEUE}" in this process`);

    // runUntil shuts the worker down when the body settles, error or not; teardown follows below.
    return await worker.runUntil(async () => {
      t = performance.now();
      const mcp = await connectMcpServer(env.address);
      setupMs.mcpServer = round(performance.now() - t);
      try {
        const bench = new Bench(env, mcp.client, runId);

        progress(`warm-up: ${options.warmup} invoice(s) through the three tools, over MCP and over the Temporal client`);
        await bench.warmUp(options.warmup);

        progress(`latency: ${options.calls} sequential calls per tool`);
        const latency = await bench.latency(bench.viaMcp, options.calls);

        progress(`baseline: the same Temporal calls without MCP, and MCP pings without Temporal`);
        const baseline = {
          note:
            'Where a tool call\'s time goes. temporalClientMs: the Temporal calls each tool makes (start, ' +
            'describe + query, the approveInvoice Update), from this process with no MCP in between. mcpPingMs: an MCP ping over ' +
            'the same stdio connection, no Temporal. A tool call costs roughly the sum of the two.',
          temporalClientMs: await bench.latency(bench.direct, options.calls),
          mcpPingMs: await bench.ping(options.calls),
        };

        progress(`throughput: ${options.invoices} invoices straight through the Temporal client, then ${options.invoices} through MCP`);
        const direct = await bench.throughput(bench.direct, options.invoices, options.concurrency);
        const viaMcp = await bench.throughput(bench.viaMcp, options.invoices, options.concurrency);
        memory.stop();
        const mcpToDirect = round(viaMcp.invoicesPerSecond / direct.invoicesPerSecond);
        const latencySummary = Object.fromEntries(TOOLS.map((tool) => [tool, { p50: latency[tool].p50, p99: latency[tool].p99 }])) as Record<
          Tool,
          { p50: number; p99: number }
        >;
        for (const tool of TOOLS) progress(`${tool}: p50 ${latencySummary[tool].p50} ms, p99 ${latencySummary[tool].p99} ms`);
        progress(
          `done: ${viaMcp.invoicesPerSecond}/s through MCP, ${direct.invoicesPerSecond}/s direct ` +
            `(ratio ${mcpToDirect}); peak RSS ${memory.peakMb} MB`,
        );

        return {
          machine: { ...machine(), loadAvg1m5m15m: { atStart: loadAtStart, atEnd: os.loadavg().map((l) => round(l)) } },
          versions: versions(),
          parameters: {
            ...options,
            invoiceLines: 3,
            transport: 'stdio (server spawned with node + tsx, as an MCP host launches it)',
            temporal: 'temporal server start-dev on 127.0.0.1, worker in the bench process',
          },
          setupMs,
          latencySummaryMs: latencySummary,
          latencyMs: latency,
          baseline,
          throughput: {
            invoices: options.invoices,
            concurrency: options.concurrency,
            method:
              'each invoice: process, poll the workflow query (Temporal client, 20-200 ms backoff) until AWAITING_APPROVAL, ' +
              `approve, then await handle.result() (Temporal client) until PAID; at most ${options.concurrency} process/approve ` +
              'calls in flight. direct: those two are Temporal client calls (start, the approveInvoice Update); mcp: tool calls. ' +
              'direct runs first, then mcp, on the same worker.',
            direct,
            mcp: viaMcp,
            mcpToDirect,
          },
          peakRssMb: memory.peakMb,
          rssAtStartMb: memory.startMb,
          peakRssNote:
            'RSS of the bench process, which hosts the step 05 worker (plus the Temporal and MCP clients and what is left ' +
            'of bundling the workflows); sampled every 100 ms from before the worker starts to the end of both throughput ' +
            'runs. The dev server and the MCP server are separate processes, not counted.',
          target: {
            ...TARGET,
            met: {
              ...(Object.fromEntries(TOOLS.map((tool) => [tool, latency[tool].p50 < TARGET.p50UnderMs])) as Record<Tool, boolean>),
              mcpToDirect: mcpToDirect >= TARGET.mcpToDirectAtLeast,
            },
          },
          // Every paid line is one charge: more would mean an invoice paid twice.
          linesCharged: gateway.charges.length,
        };
      } finally {
        await mcp.close();
      }
    });
  } finally {
    memory.stop();
    progress('stopping the dev server');
    await env.teardown();
  }
}

/** The three tools, timed, plus the waits that must stay outside the timed regions. */
class Bench {
  private serial = 0;

  constructor(
    private readonly env: TestWorkflowEnvironment,
    private readonly mcp: McpClient,
    private readonly runId: string,
  ) {}

  /** Runs `count` invoices through MCP and through the direct client, untimed: caches, connections, JIT. */
  async warmUp(count: number): Promise<void> {
    for (const ops of [this.viaMcp, this.direct]) {
      const ids = [];
      for (let i = 0; i < count; i++) {
        const id = this.nextId('W');
        await ops.process(id);
        ids.push(id);
      }
      await this.waitForState(ids, 'AWAITING_APPROVAL');
      for (const id of ids) await ops.status(id);
      for (const id of ids) await ops.approve(id);
      await this.waitPaid(ids);
    }
    for (let i = 0; i < count; i++) await this.mcp.ping();
  }

  /**
   * Times `calls` sequential calls of each operation: `ops` is the MCP server (the measurement) or
   * the Temporal client in this process doing what each tool does (the baseline it cannot beat).
   */
  async latency(ops: Operations, calls: number): Promise<Record<Tool, LatencyStats>> {
    const times: Record<Tool, number[]> = { process_invoice: [], get_invoice_status: [], approve_invoice: [] };
    const ids: string[] = [];
    for (let i = 0; i < calls; i++) {
      const id = this.nextId(ops.prefix);
      times.process_invoice.push(await timed(() => ops.process(id)));
      ids.push(id);
    }
    // Untimed: every invoice must be AWAITING_APPROVAL before its approval is timed.
    await this.waitForState(ids, 'AWAITING_APPROVAL');
    for (const id of ids) times.get_invoice_status.push(await timed(() => ops.status(id)));
    for (const id of ids) times.approve_invoice.push(await timed(() => ops.approve(id)));
    // Untimed: let the approved invoices finish paying, so the next run starts from quiet.
    await this.waitPaid(ids);
    return { process_invoice: stats(times.process_invoice), get_invoice_status: stats(times.get_invoice_status), approve_invoice: stats(times.approve_invoice) };
  }

  /** The three tools, called through the MCP server. */
  readonly viaMcp: Operations = {
    name: 'mcp',
    prefix: 'L',
    process: (id) => this.call('process_invoice', invoice(id)),
    status: (id) => this.call('get_invoice_status', { invoice_id: id }),
    approve: (id) => this.call('approve_invoice', { invoice_id: id, approved_by: 'bench' }),
  };

  /** The Temporal calls each tool makes (start, describe + query, the approveInvoice Update), without MCP. */
  readonly direct: Operations = {
    name: 'direct',
    prefix: 'D',
    process: (id) =>
      this.env.client.workflow.start(InvoiceWorkflow, {
        taskQueue: TASK_QUEUE,
        workflowId: invoiceWorkflowId(id),
        args: [invoice(id), {}],
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      }),
    status: (id) => {
      const handle = this.env.client.workflow.getHandle(invoiceWorkflowId(id));
      return Promise.all([handle.describe(), handle.query(getInvoiceStatus)]);
    },
    approve: (id) =>
      // The same Update, with the same id, as approve_invoice sends.
      this.env.client.workflow
        .getHandle(invoiceWorkflowId(id))
        .executeUpdate(approveInvoice, { args: [{ by: 'bench' }], updateId: `approve-${id}-by-bench` }),
  };

  /** A bare MCP round trip (ping): stdio plus JSON-RPC, no Temporal at all. */
  async ping(calls: number): Promise<LatencyStats> {
    const times = [];
    for (let i = 0; i < calls; i++) times.push(await timed(() => this.mcp.ping()));
    return stats(times);
  }

  /**
   * Pushes `invoices` invoices end to end, process and approve done by `ops` (MCP or the Temporal
   * client), at most `concurrency` of those calls in flight; the waits use the Temporal client.
   */
  async throughput(ops: Operations, invoices: number, concurrency: number) {
    const slots = new Semaphore(concurrency);
    const underLoad: Record<'process_invoice' | 'approve_invoice', number[]> = { process_invoice: [], approve_invoice: [] };
    const timedCall = (tool: 'process_invoice' | 'approve_invoice', call: () => Promise<unknown>) =>
      slots.run(async () => {
        const start = performance.now();
        await call();
        underLoad[tool].push(performance.now() - start);
      });

    const start = performance.now();
    const results = await Promise.all(
      Array.from({ length: invoices }, async () => {
        const id = this.nextId(`T${ops.prefix}`);
        await timedCall('process_invoice', () => ops.process(id));
        await this.waitForState([id], 'AWAITING_APPROVAL');
        await timedCall('approve_invoice', () => ops.approve(id));
        return (await this.env.client.workflow.getHandle(invoiceWorkflowId(id)).result()) as InvoiceStatus;
      }),
    );
    const wallTimeMs = performance.now() - start;
    const paid = results.filter((r) => r.state === 'PAID' && r.linesPaid === 3).length;
    if (paid !== invoices) throw new Error(`throughput (${ops.name}): only ${paid} of ${invoices} invoices were PAID with 3 lines.`);
    return {
      paid,
      wallTimeMs: round(wallTimeMs),
      invoicesPerSecond: round((invoices / wallTimeMs) * 1000),
      callLatencyUnderLoadMs: { process_invoice: stats(underLoad.process_invoice), approve_invoice: stats(underLoad.approve_invoice) },
    };
  }

  /** Calls a tool; a tool error (`isError`) or a protocol error ends the bench with its message. */
  async call(tool: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    const result = await this.mcp.callTool({ name: tool, arguments: args });
    if (result.isError) {
      const content = result.content as { type: string; text?: string }[] | undefined;
      const text = content?.map((c) => c.text ?? '').join(' ') || JSON.stringify(result);
      throw new Error(`${tool} returned an error: ${text}`);
    }
    return (result.structuredContent ?? {}) as Record<string, unknown>;
  }

  private nextId(prefix: string): string {
    this.serial += 1;
    return `BENCH-${this.runId}-${prefix}${String(this.serial).padStart(5, '0')}`;
  }

  /** Polls the workflow query (not MCP) until each invoice is in `state`. */
  async waitForState(ids: string[], state: InvoiceState, timeoutMs = 60_000): Promise<void> {
    for (const id of ids) {
      const handle = this.env.client.workflow.getHandle(invoiceWorkflowId(id));
      const deadline = Date.now() + timeoutMs;
      for (let pause = 20; ; pause = Math.min(pause * 2, 200)) {
        const status = await handle.query(getInvoiceStatus);
        if (status.state === state) break;
        if (status.state !== 'VALIDATING' || Date.now() > deadline) {
          throw new Error(`invoice ${id} is ${status.state}, expected ${state}${status.failure ? `: ${status.failure}` : ''}`);
        }
        await sleep(pause);
      }
    }
  }

  async waitPaid(ids: string[]): Promise<void> {
    const results = await Promise.all(ids.map((id) => this.env.client.workflow.getHandle(invoiceWorkflowId(id)).result() as Promise<InvoiceStatus>));
    const unpaid = results.filter((r) => r.state !== 'PAID');
    if (unpaid.length) throw new Error(`${unpaid.length} invoice(s) ended unpaid, e.g. ${unpaid[0].invoiceId} is ${unpaid[0].state}.`);
  }
}

/** One way to perform what each tool does. */
interface Operations {
  name: string;
  /** Starts the invoice ids it creates, so MCP and baseline invoices are told apart. */
  prefix: string;
  process(id: string): Promise<unknown>;
  status(id: string): Promise<unknown>;
  approve(id: string): Promise<unknown>;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** A 3-line invoice with its own id. */
function invoice(id: string): Invoice {
  return {
    id,
    customer: 'Bench Corp',
    lines: [
      { item: 'Laptop stand', amount: 49.99 },
      { item: 'USB-C dock', amount: 129.0 },
      { item: 'Ergonomic keyboard', amount: 89.5 },
    ],
  };
}

/**
 * Spawns the step 05 server over stdio, pointed at the bench's dev server. Its stderr is piped
 * and only kept (the last lines), to explain a server that dies; it never clutters the output.
 */
async function connectMcpServer(temporalAddress: string) {
  const { command, args } = tsxCommand(join(REPO_ROOT, 'tutorials', '05-mcp-server', 'server.ts'));
  const transport = new StdioClientTransport({
    command,
    args,
    env: { ...definedOnly(process.env), TEMPORAL_ADDRESS: temporalAddress },
    cwd: REPO_ROOT,
    stderr: 'pipe',
  });
  const serverLog: string[] = [];
  // Read the pipe even though we do not print it: a full pipe would block the server's writes.
  transport.stderr?.on('data', (chunk: Buffer) => {
    serverLog.push(...chunk.toString().split('\n').filter(Boolean));
    serverLog.splice(0, Math.max(0, serverLog.length - 20));
  });
  const client = new McpClient({ name: 'bench', version: '1.0.0' });
  try {
    await client.connect(transport);
  } catch (err) {
    throw new Error(`the step 05 MCP server did not start: ${(err as Error).message}\n${serverLog.join('\n')}`, { cause: err });
  }
  return {
    client,
    close: () => client.close(),
  };
}

/** Samples this process's RSS every `intervalMs` until `stop()`. */
function sampleRss(intervalMs: number) {
  const start = process.memoryUsage().rss;
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      peak = Math.max(peak, process.memoryUsage().rss);
    },
    startMb: round(start / 1024 / 1024, 1),
    get peakMb() {
      return round(peak / 1024 / 1024, 1);
    },
  };
}

/** At most `limit` tasks at once; the others wait their turn in order. */
class Semaphore {
  private waiting: (() => void)[] = [];
  private active = 0;

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active += 1;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next(); // the slot passes straight to the next task
      else this.active -= 1;
    }
  }
}

/** Nearest-rank percentiles, so p99 of 300 calls is the 297th fastest, a call that really happened. */
export function stats(samples: number[]): LatencyStats {
  if (samples.length === 0) return { calls: 0, p50: 0, p90: 0, p99: 0, mean: 0, min: 0, max: 0 };
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
  return {
    calls: sorted.length,
    p50: round(rank(50)),
    p90: round(rank(90)),
    p99: round(rank(99)),
    mean: round(sorted.reduce((a, b) => a + b, 0) / sorted.length),
    min: round(sorted[0]),
    max: round(sorted[sorted.length - 1]),
  };
}

function machine() {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpuCount: cpus.length,
    totalMemGb: round(os.totalmem() / 1024 ** 3, 1),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
  };
}

function versions() {
  const packageVersion = (name: string) =>
    (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  let temporalCli = 'unknown';
  try {
    const cli = findBinary('cli');
    if (cli) temporalCli = execFileSync(cli, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // the version is a nicety; the bench already ran on this binary
  }
  return {
    '@temporalio/worker': packageVersion('@temporalio/worker'),
    '@modelcontextprotocol/sdk': packageVersion('@modelcontextprotocol/sdk'),
    temporalCli,
  };
}

function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/** Set in the child process that runs the bench; it sends its report back over IPC. */
const CHILD_VAR = 'BENCH_REPORT_OVER_IPC';

/**
 * Runs the bench in a child process whose stdout is our stderr, and returns its report. Why: the
 * dev server inherits the stdout of the process that starts it (the Temporal core hard-codes
 * that) and prints its banner there, which would spoil the JSON a caller pipes to a file.
 */
function runInChild(argv: string[]): Promise<unknown> {
  const child = fork(fileURLToPath(import.meta.url), argv, {
    stdio: ['ignore', 2, 2, 'ipc'],
    env: { ...process.env, [CHILD_VAR]: '1' },
  });
  let report: unknown;
  child.on('message', (message) => (report = message));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0 && report !== undefined) resolve(report);
      else reject(new Error(`the bench stopped (${signal ?? `exit code ${code}`}) before its report; its error is above.`));
    });
  });
}

// Run as a script (not when a test imports this file): JSON on stdout, non-zero exit on any error.
if (isEntryPoint(import.meta.url)) {
  runMain(async () => {
    const options = parseBenchArgs(); // a bad flag fails here, before anything starts
    if (process.env[CHILD_VAR] && process.send) {
      const report = await runBench(options);
      await new Promise<void>((resolve, reject) => process.send!(report, undefined, {}, (err) => (err ? reject(err) : resolve())));
      process.disconnect();
      return;
    }
    const report = await runInChild(process.argv.slice(2));
    // Exit once stdout is flushed: importing shared/testing.ts installed a Temporal runtime, which
    // keeps an idle process alive until a worker or connection of its own has come and gone.
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`, () => process.exit(0));
  });
}
