// Proof that `npm run bench` works: a quick run, as a user would start it, prints one JSON report
// on stdout with sane numbers, and every invoice it pushed through the step 05 server was paid.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../shared/binaries.js';
import { stats, TOOLS } from './bench.js';

const run = promisify(execFile);
const TSX = join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const BENCH = join(REPO_ROOT, 'scripts', 'bench.ts');

describe('scripts/bench.ts', () => {
  it('measures the step 05 MCP server in quick mode and prints only JSON on stdout', { timeout: 90_000 }, async () => {
    const { stdout } = await run(process.execPath, [TSX, BENCH, '--quick'], { cwd: REPO_ROOT, maxBuffer: 10 * 1024 * 1024 });
    const report = JSON.parse(stdout); // the dev server's banner and all progress went to stderr

    expect(report.machine.cpuCount).toBeGreaterThan(0);
    expect(report.versions['@temporalio/worker']).toMatch(/^\d+\.\d+\.\d+/);
    expect(report.versions['@modelcontextprotocol/sdk']).toMatch(/^\d+\.\d+\.\d+/);
    expect(report.parameters).toMatchObject({ quick: true, calls: 20, invoices: 10 });

    for (const tool of TOOLS) {
      const latency = report.latencyMs[tool];
      expect(latency.calls).toBe(20);
      expect(latency.p50).toBeGreaterThan(0);
      expect(latency.min).toBeLessThanOrEqual(latency.p50);
      expect(latency.p50).toBeLessThanOrEqual(latency.p99);
      expect(latency.p99).toBeLessThanOrEqual(latency.max);
      expect(report.baseline.temporalClientMs[tool].p50).toBeGreaterThan(0);
      expect(typeof report.target.met[tool]).toBe('boolean');
    }
    expect(report.baseline.mcpPingMs.p50).toBeGreaterThan(0);

    expect(report.throughput.paid).toBe(10);
    expect(report.throughput.invoicesPerSecond).toBeGreaterThan(0);
    expect(report.throughput.wallTimeMs).toBeGreaterThan(0);
    expect(report.peakRssMb).toBeGreaterThan(0);
    // Every invoice paid each of its 3 lines exactly once: 3 + 3 warm-up (MCP, then direct),
    // 20 timed through MCP, 20 baseline, 10 throughput.
    expect(report.linesCharged).toBe((3 + 3 + 20 + 20 + 10) * 3);
  });

  it('refuses a bad flag with the usage line and a non-zero exit', async () => {
    const failure = await run(process.execPath, [TSX, BENCH, '--calls', 'many'], { cwd: REPO_ROOT }).catch((err: unknown) => err);
    expect(failure).toMatchObject({ code: 1, stderr: expect.stringContaining('usage: bench.ts') });
  });

  it('takes nearest-rank percentiles, so each is a call that really happened', () => {
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i); // 100, 99, ..., 1
    expect(stats(samples)).toEqual({ calls: 100, p50: 50, p90: 90, p99: 99, mean: 50.5, min: 1, max: 100 });
  });
});
