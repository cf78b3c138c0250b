/**
 * The worker runner every step's `worker.ts` calls: connect, bundle the workflows once, poll
 * until Ctrl-C (SIGINT) or SIGTERM, then finish the tasks in hand and exit cleanly.
 *
 * @module
 */
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { loadTemporalSettings, type TemporalSettings } from './config.js';
import { connectWorker } from './connection.js';
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

/**
 * Bundles a workflows file once per process and hands out the same bundle afterwards: bundling
 * takes seconds, and tests or demos that start several workers should pay for it only once.
 */
export function workflowBundle(workflowsPath: URL | string): Promise<WorkflowBundle> {
  const path = workflowsPath instanceof URL ? fileURLToPath(workflowsPath) : workflowsPath;
  let bundle = bundles.get(path);
  if (!bundle) {
    // Quiet bundler: its chatter would bury the story the learner is reading.
    bundle = bundleWorkflowCode({ workflowsPath: path, logger: quietLogger });
    bundles.set(path, bundle);
  }
  return bundle;
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

/**
 * Runs a worker until the process is asked to stop. The Temporal runtime already turns SIGINT
 * and SIGTERM into a graceful `worker.shutdown()`; we close the connection afterwards.
 */
export async function runWorker(definition: WorkerDefinition, settings: TemporalSettings = loadTemporalSettings()): Promise<void> {
  const connection = await connectWorker(settings);
  try {
    const worker = await createWorker(connection, settings.namespace, definition);
    log('worker', `polling task queue "${definition.taskQueue}" on ${settings.address} (namespace ${settings.namespace}); Ctrl-C to stop`);
    await worker.run();
    log('worker', 'stopped cleanly');
  } finally {
    await connection.close();
  }
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
