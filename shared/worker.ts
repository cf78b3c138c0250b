/**
 * Workers for the scripts (demo, benchmark) and a bundle cache for the tests and for the workers
 * of steps 06-08, which are killed and restarted. The steps write their own `Worker.create`: that
 * is the lesson; this is only what saves time around it.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { REPO_ROOT } from './binaries.js';
import { loadTemporalSettings, type TemporalSettings } from './config.js';
import { TemporalUnreachableError } from './connection.js';
import { log } from './log.js';

/** What a step's worker serves. */
export interface WorkerDefinition {
  /** The step's `workflows.ts`, e.g. `new URL('./workflows.ts', import.meta.url)`. */
  workflowsPath: URL | string;
  /** The activity functions, already bound to their dependencies. */
  activities: object;
  /** The task queue to poll. */
  taskQueue: string;
}

const bundles = new Map<string, Promise<WorkflowBundle>>();

/** Where bundles are kept between runs (git-ignored with the rest of .temporal/). */
const BUNDLE_CACHE = join(REPO_ROOT, '.temporal', 'bundles');

/**
 * Bundles a workflows file once and hands out the same bundle afterwards: in this process from
 * memory, and across processes and runs from `.temporal/bundles/`, keyed by the workflow code
 * (the file and every local file it imports) and the installed packages (the lockfile). Bundling
 * costs seconds of CPU, and a test run would otherwise pay it again in every file and run.
 */
export function workflowBundle(workflowsPath: URL | string): Promise<WorkflowBundle> {
  const path = workflowsPath instanceof URL ? fileURLToPath(workflowsPath) : workflowsPath;
  let bundle = bundles.get(path);
  if (!bundle) {
    bundle = cachedBundle(path);
    bundles.set(path, bundle);
  }
  return bundle;
}

async function cachedBundle(path: string): Promise<WorkflowBundle> {
  const name = `${basename(dirname(path))}-${basename(path).replace(/\.[cm]?ts$/, '')}-${sourceHash(path)}.js`;
  const file = join(BUNDLE_CACHE, name);
  try {
    return { code: readFileSync(file, 'utf8') };
  } catch {
    // not bundled yet
  }
  // Quiet bundler: its chatter would bury the story the learner is reading.
  const bundle = await bundleWorkflowCode({ workflowsPath: path, logger: quietLogger });
  mkdirSync(BUNDLE_CACHE, { recursive: true });
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, bundle.code);
  renameSync(partial, file); // atomic: a parallel test file reads a whole bundle or none
  return bundle;
}

/** A hash of the workflow file, every local file it imports (transitively) and the lockfile. */
function sourceHash(entry: string): string {
  const hash = createHash('sha256');
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    hash.update(text); // content only: a copy of a step (npm run exercise) finds the same bundle
    for (const [, spec] of text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const target = resolvePath(dirname(file), spec).replace(/\.js$/, '.ts');
      if (existsSync(target)) visit(target);
    }
  };
  visit(entry);
  hash.update(readFileSync(join(REPO_ROOT, 'package-lock.json')));
  return hash.digest('hex').slice(0, 16);
}

/**
 * Connects the native connection a {@link "@temporalio/worker"!Worker | Worker} polls with. It
 * lives here, not in `connection.ts`, so that MCP servers and clients, which import that, never
 * load `@temporalio/worker` (most of a second of CPU at every start).
 */
export async function connectWorker(settings: TemporalSettings = loadTemporalSettings()): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect(settings.connectionOptions);
  } catch (err) {
    throw new TemporalUnreachableError(settings.address, err);
  }
}

/** Creates a worker on an existing connection (tests and demos share one connection). */
export async function createWorker(
  connection: NativeConnection,
  namespace: string,
  definition: WorkerDefinition,
): Promise<Worker> {
  return Worker.create({
    connection,
    namespace,
    taskQueue: definition.taskQueue,
    workflowBundle: await workflowBundle(definition.workflowsPath),
    activities: definition.activities,
  });
}

const quietLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn(message: string) {
    log('bundler', message);
  },
  error(message: string) {
    log('bundler', message);
  },
};
