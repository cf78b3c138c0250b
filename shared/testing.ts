/**
 * Test environments and helpers for the tests: never a download.
 *
 * - {@link startDevServerEnv}: a real `temporal server start-dev` on 127.0.0.1 with a test
 *   environment on it, for scripts and demos (the steps' tests write their `TestWorkflowEnvironment`
 *   themselves, on a server from `dev-server.ts`).
 * - {@link bundleOnce}: one workflow bundle per test file.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { startDevServer, type DevServerOptions } from './dev-server.js';
import type { WorkflowBundle } from '@temporalio/worker';
import { workflowBundle } from './worker.js';

/**
 * A test's workflows, bundled once per test file and handed to every `Worker.create` of that
 * file as `workflowBundle`: bundling takes a second or two, a worker per test should not pay it.
 */
export function bundleOnce(workflowsPath: URL): Promise<WorkflowBundle> {
  return workflowBundle(workflowsPath);
}

let runtimeChosen = false;
/**
 * Workers log every state change and every failed attempt; in tests that buries the result.
 * TEMPORAL_LOG_LEVEL=INFO brings it back when you are debugging a test. Installed by the vitest
 * setup file before each test file runs, and when a server starts here, not at import, so merely
 * importing this module changes nothing in a process.
 */
export function quietRuntime(): void {
  if (runtimeChosen) return;
  runtimeChosen = true;
  const level = (process.env.TEMPORAL_LOG_LEVEL as LogLevel | undefined) ?? 'ERROR';
  try {
    Runtime.install({
      logger: new DefaultLogger(level),
      telemetryOptions: { logging: { filter: { core: level, other: level }, forward: {} } },
    });
  } catch {
    // A runtime already exists in this process (something connected first): keep its settings.
  }
}

/**
 * A dev server (see {@link dev-server!startDevServer | startDevServer}) with a test environment on
 * it, for scripts and demos that want its `client` and `nativeConnection`. `teardown()` closes
 * both and stops the server.
 */
export async function startDevServerEnv(options: DevServerOptions = {}): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const server = await startDevServer(options);
  try {
    const env = await TestWorkflowEnvironment.createFromExistingServer({ address: server.address });
    const closeConnections = env.teardown.bind(env);
    env.teardown = async () => {
      await closeConnections().catch(() => {});
      await server.stop();
    };
    return env;
  } catch (err) {
    await server.stop();
    throw err;
  }
}

/**
 * A name no other test uses, e.g. `uniqueName('tq')` → `tq-3f9c2a1b`. Tests get their own task
 * queues and invoice ids, so a worker or workflow left over from one test cannot affect another.
 */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** How {@link waitFor} waits: its deadline, its pace, and whether a read that throws means "not yet". */
export interface WaitOptions {
  /** Give up after this long; 30 s by default. */
  timeoutMs?: number;
  /** Ask at this fixed pace instead of 50 ms growing to 400 ms. */
  everyMs?: number;
  /**
   * A read that throws is "not yet", not a failure: for a read that can fail while the thing waited
   * for is on its way (a query that times out on a loaded machine, a server that is restarting).
   * The last error is in the message when the wait gives up. Off by default: a read that throws
   * usually means the test is wrong, and should fail at once.
   */
  retryErrors?: boolean;
}

/**
 * Polls `read` until `done` holds for its value; fails after `timeoutMs`. It asks again after
 * 50 ms, then a little later each time, up to every 400 ms: a quick change is seen at once, and a
 * long wait (a server restarting, a payment in progress) does not keep a worker busy answering.
 * `everyMs` asks at a fixed pace instead, for a wait that must catch a moment (a crash mid-payment).
 * 30 s by default: a wait that is met returns at once, and `npm test` runs every file at once on a
 * laptop's two cores, where a step that takes a second alone can take ten. The third argument is
 * the timeout, or {@link WaitOptions}.
 */
export async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, options: number | WaitOptions = {}, everyMs?: number): Promise<T> {
  const { timeoutMs = 30_000, retryErrors = false, ...rest } = typeof options === 'number' ? { timeoutMs: options } : options;
  const pace = rest.everyMs ?? everyMs;
  const deadline = Date.now() + timeoutMs;
  let last: { value: T } | { error: unknown } | undefined;
  for (let pause = pace ?? 50; ; pause = pace ?? Math.min(400, pause * 1.5)) {
    try {
      const value = await read();
      if (done(value)) return value;
      last = { value };
    } catch (error) {
      if (!retryErrors) throw error;
      last = { error };
    }
    if (Date.now() > deadline) {
      const lastSeen = !last ? 'nothing' : 'error' in last ? `an error: ${String(last.error)}` : `value: ${JSON.stringify(last.value)}`;
      throw new Error(`waitFor: gave up after ${timeoutMs} ms; last ${lastSeen}`);
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}
