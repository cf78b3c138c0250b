// Proof that `npm run bench` works: a quick run, as a user would start it, prints one JSON report
// on stdout with sane numbers, and every invoice it pushed through the step 05 server was paid.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, tsxCommand } from '../shared/binaries.js';
import { stats, TOOLS } from './bench.js';

const run = promisify(execFile);
/** `node --import tsx scripts/bench.ts ...args`: one process, as `npm run bench` would run it. */
const bench = (...args: string[]) => tsxCommand(join(REPO_ROOT, 'scripts', 'bench.ts'), args);

describe('scripts/bench.ts', () => {
  it('measures the step 05 MCP server in quick mode and prints only JSON on stdout', { timeout: 90_000 }, async () => {
    // A smoke run (--quick): the proof that the bench works, not a measurement; `npm run bench` measures.
    const { command, args } = bench('--quick');
    const { stdout } = await run(command, args, { cwd: REPO_ROOT, maxBuffer: 10 * 1024 * 1024 });
    const report = JSON.parse(stdout); // the dev server's banner and all progress went to stderr

    expect(report.machine.cpuCount).toBeGreaterThan(0);
    expect(report.versions['@temporalio/worker']).toMatch(/^\d+\.\d+\.\d+/);
    expect(report.versions['@modelcontextprotocol/sdk']).toMatch(/^\d+\.\d+\.\d+/);
    expect(report.parameters).toMatchObject({ quick: true, calls: 5, invoices: 5 });

    for (const tool of TOOLS) {
      const latency = report.latencyMs[tool];
      expect(latency.calls).toBe(5);
      expect(latency.p50).toBeGreaterThan(0);
      expect(latency.min).toBeLessThanOrEqual(latency.p50);
      expect(latency.p50).toBeLessThanOrEqual(latency.p99);
      expect(latency.p99).toBeLessThanOrEqual(latency.max);
      expect(report.latencySummaryMs[tool]).toEqual({ p50: latency.p50, p99: latency.p99 });
      expect(report.baseline.temporalClientMs[tool].p50).toBeGreaterThan(0);
      expect(typeof report.target.met[tool]).toBe('boolean');
    }
    expect(report.baseline.mcpPingMs.p50).toBeGreaterThan(0);

    // The same invoices, straight through the Temporal client and through MCP, in the same run.
    for (const path of ['direct', 'mcp'] as const) {
      const run = report.throughput[path];
      expect(run.paid).toBe(5);
      expect(run.invoicesPerSecond).toBeGreaterThan(0);
      expect(run.callLatencyUnderLoadMs.approve_invoice.p99).toBeGreaterThan(0);
    }
    expect(report.throughput.mcpToDirect).toBeCloseTo(report.throughput.mcp.invoicesPerSecond / report.throughput.direct.invoicesPerSecond, 1);
    expect(typeof report.target.met.mcpToDirect).toBe('boolean');
    // Peak over the whole run: at least what the process had before the worker started.
    expect(report.peakRssMb).toBeGreaterThanOrEqual(report.rssAtStartMb);
    // Every invoice paid each of its 3 lines exactly once: 1 + 1 warm-up (MCP, then direct),
    // 5 timed through MCP, 5 baseline, 5 + 5 throughput (direct, then MCP).
    expect(report.linesCharged).toBe((1 + 1 + 5 + 5 + 5 + 5) * 3);
  });

  it('refuses a bad flag with the usage line and a non-zero exit', async () => {
    const { command, args } = bench('--calls', 'many');
    const failure = await run(command, args, { cwd: REPO_ROOT }).catch((err: unknown) => err);
    expect(failure).toMatchObject({ code: 1, stderr: expect.stringContaining('usage: bench.ts') });
  });

  it('takes nearest-rank percentiles, so each is a call that really happened', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i); // 100, 99, ..., 1
    expect(stats(samples)).toEqual({ calls: 100, p50: 50, p90: 90, p99: 99, mean: 50.5, min: 1, max: 100 });
  });
});
