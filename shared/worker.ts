/**
 * Workers for the scripts (demo, benchmark) and a bundle cache for the tests. The steps write
 * their own `Worker.create`: that is the lesson; this is only what saves time around it.
 *
 * @module
 */
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
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
