// The guard on every step: the histories in tutorials/<step>/histories/*.json were recorded from
// real runs (`npm run histories:record`); each is replayed here against its step's CURRENT
// workflows.ts. A change to a workflow that would break invoices already running (approved,
// rejected, timed out or failed on the old code) fails here, in CI, before any worker meets one.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { HistoryAndWorkflowId } from '@temporalio/client';
import { Worker, type ReplayResult } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../shared/binaries.js';
import { bundleOnce } from '../shared/testing.js';

const TUTORIALS = join(REPO_ROOT, 'tutorials');

interface Fixture {
  step: string;
  file: string;
  /** The workflow type the history was recorded with, e.g. `InvoiceWorkflow`. */
  workflowType: string;
  history: { events: { workflowExecutionStartedEventAttributes?: { workflowType: { name: string } } }[] };
}

/** Every `tutorials/<step>/histories/*.json`, parsed. */
function loadFixtures(): Fixture[] {
  const fixtures: Fixture[] = [];
  for (const step of readdirSync(TUTORIALS).sort()) {
    let files: string[];
    try {
      files = readdirSync(join(TUTORIALS, step, 'histories')).filter((f) => f.endsWith('.json')).sort();
    } catch {
      continue; // no histories/ folder: nothing recorded for this step
    }
    for (const file of files) {
      const history = JSON.parse(readFileSync(join(TUTORIALS, step, 'histories', file), 'utf8')) as Fixture['history'];
      const workflowType = history.events[0]?.workflowExecutionStartedEventAttributes?.workflowType.name;
      if (!workflowType) throw new Error(`tutorials/${step}/histories/${file} does not start with a WorkflowExecutionStarted event`);
      fixtures.push({ step, file, workflowType, history });
    }
  }
  return fixtures;
}

/** `InvoiceWorkflow` of step `05-mcp-server` is exported as `InvoiceWorkflow__05_mcp_server` in the shared bundle. */
const exportName = (f: { step: string; workflowType: string }) => `${f.workflowType}__${f.step.replace(/\W/g, '_')}`;

/** Workflows that live beside a step's workflows.ts, not in it: step 09's assistant. */
const WORKFLOW_FILES: Record<string, string> = { AssistantWorkflow: 'assistant-workflow.js' };

const fixtures = loadFixtures();
const results = new Map<string, ReplayResult>();
let replayMs = 0;
let entryDir: string;

beforeAll(async () => {
  // Bundling takes 2-4 s per workflows file, replaying a history a few ms: so one bundle holds
  // every step's workflows.ts, each step's workflow exported under its own name, and each history
  // names that export as its workflow type. The code replayed is each step's own, unchanged.
  // A fixed folder: the bundle cache is keyed by its name and content, so the next run reuses it.
  entryDir = join(REPO_ROOT, '.temporal', 'replay-fixtures');
  mkdirSync(entryDir, { recursive: true });
  const entry = join(entryDir, 'workflows.ts');
  const exports = new Map(fixtures.map((f) => [exportName(f), f]));
  writeFileSync(
    entry,
    [...exports].map(([name, f]) => `export { ${f.workflowType} as ${name} } from '../../tutorials/${f.step}/${WORKFLOW_FILES[f.workflowType] ?? 'workflows.js'}';\n`).join(''),
  );
  const workflowBundle = await bundleOnce(pathToFileURL(entry));

  // The JSON as the CLI and the Web UI export it; Worker.runReplayHistories converts it.
  const histories: HistoryAndWorkflowId[] = fixtures.map((f) => {
    const history = structuredClone(f.history);
    history.events[0].workflowExecutionStartedEventAttributes!.workflowType.name = exportName(f);
    return { workflowId: `${f.step}/${f.file}`, history };
  });
  const started = performance.now();
  for await (const result of Worker.runReplayHistories({ workflowBundle, replayName: 'replay-fixtures' }, histories)) {
    results.set(result.workflowId, result);
  }
  replayMs = performance.now() - started;
  process.stderr.write(`[replay] ${fixtures.length} histories of ${new Set(fixtures.map((f) => f.step)).size} steps replayed in ${replayMs.toFixed(0)} ms\n`);
});

afterAll(() => {
  if (entryDir) rmSync(entryDir, { recursive: true, force: true });
});

describe('replay: every recorded history against its step’s current workflow code', () => {
  it('has an approved, a rejected, a timed-out and a failed history for each MCP step', () => {
    for (const step of ['05-mcp-server', '06-durability-demo']) {
      expect(fixtures.filter((f) => f.step === step).map((f) => f.file)).toEqual(['approved.json', 'failed.json', 'rejected.json', 'timed-out.json']);
    }
  });

  it.each([...new Set(fixtures.map((f) => f.step))])('%s: its histories replay without a non-determinism error', (step) => {
    const mine = fixtures.filter((f) => f.step === step);
    const failures = mine.flatMap((f) => {
      const result = results.get(`${f.step}/${f.file}`);
      if (!result) return [`${f.file}: not replayed`];
      return result.error ? [`${f.file}: ${result.error.name}: ${result.error.message}`] : [];
    });
    expect(failures).toEqual([]);
  });
});
