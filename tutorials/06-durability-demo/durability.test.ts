// Proof for step 06: crash the assistant, the worker and Temporal itself, with 20 invoices each,
// and check that every invoice is PAID, every line charged exactly once, and no approval lost.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../shared/binaries.js';
import type { ScriptProcess } from '../../shared/processes.js';
import { freePort } from '../../shared/testing.js';
import { sceneAssistantGoesAway, sceneTemporalRestarts, sceneWorkerDies, Stage } from './scenes.js';

const INVOICES = 20;
let stage: Stage;
let worker: ScriptProcess;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(REPO_ROOT, '.temporal', 'test-06-'));
  stage = await Stage.open({ dir, port: await freePort(), paymentDelayMs: 300, say: () => {} });
  worker = await stage.startWorker();
}, 120_000);

afterAll(async () => {
  await stage?.close(); // every process this file started, also when a test failed
  rmSync(dir, { recursive: true, force: true });
});

describe('06-durability-demo', () => {
  it('scene 1: a new MCP server finds every waiting invoice after the old one was killed', { timeout: 120_000 }, async () => {
    const verdict = await sceneAssistantGoesAway(stage, INVOICES);
    expect(verdict).toMatchObject({ paid: INVOICES, charges: INVOICES * 3, duplicates: 0, checks: { 'all found by the new server': true } });
    expect(verdict.ok).toBe(true);
  });

  it('scene 2: workers killed mid-payment, twice: every line charged exactly once', { timeout: 180_000 }, async () => {
    const result = await sceneWorkerDies(stage, INVOICES, worker);
    worker = result.worker;
    expect(result.verdict).toMatchObject({ paid: INVOICES, charges: INVOICES * 3, duplicates: 0 });
    expect(result.verdict.ok).toBe(true);
  });

  it('scene 3: Temporal restarts on its database file: invoices still waiting, deadlines unchanged, approvals pay', { timeout: 180_000 }, async () => {
    const verdict = await sceneTemporalRestarts(stage, INVOICES);
    expect(verdict.checks).toEqual({ 'still waiting after restart': true, 'deadlines unchanged': true });
    expect(verdict).toMatchObject({ paid: INVOICES, charges: INVOICES * 3, duplicates: 0 });
  });
});

