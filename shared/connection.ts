/**
 * What is not the lesson about connecting: a worker connection for the scripts, and the errors
 * that tell a learner what to do when Temporal or a worker is missing.
 *
 * @module
 */
import type { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadTemporalSettings, type TemporalSettings } from './config.js';

/** Connects the native connection a {@link "@temporalio/worker"!Worker | Worker} polls with. */
export async function connectWorker(settings: TemporalSettings = loadTemporalSettings()): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect(settings.connectionOptions);
  } catch (err) {
    throw new TemporalUnreachableError(settings.address, err);
  }
}

/** Nothing answered at the configured Temporal address. */
export class TemporalUnreachableError extends Error {
  constructor(
    readonly address: string,
    cause?: unknown,
  ) {
    super(
      `Cannot reach Temporal at ${address}. Start a local server with \`temporal server start-dev\` ` +
        '(or `npm run temporal`), or point TEMPORAL_ADDRESS at your cluster.',
      { cause },
    );
    this.name = 'TemporalUnreachableError';
  }
}

/** How long a query waits for a worker before we say no worker is polling. */
export const WORKER_ANSWER_MS = 3_000;

/** Nobody polls the task queue, so nobody can answer for the workflow right now. */
export class NoWorkerError extends Error {
  constructor(
    readonly taskQueue: string,
    readonly workerScript: string,
  ) {
    super(
      `No worker is polling task queue "${taskQueue}": none answered within ${WORKER_ANSWER_MS / 1000} s. Nothing is ` +
        `lost: Temporal keeps the invoice, and a worker picks it up once one runs. Start it: npx tsx ${workerScript}`,
    );
    this.name = 'NoWorkerError';
  }
}

/**
 * Runs something only a worker can answer (a query, an update) with a deadline of
 * {@link WORKER_ANSWER_MS}. With no worker polling, Temporal answers a query only when its own
 * timeout passes (about 30 s), and later with a bare `CANCELLED`; both become a
 * {@link NoWorkerError} that says which worker to start, in seconds instead of half a minute.
 */
export async function askWorker<T>(client: Client, where: { taskQueue: string; workerScript: string }, fn: () => Promise<T>): Promise<T> {
  try {
    return await client.connection.withDeadline(Date.now() + WORKER_ANSWER_MS, fn);
  } catch (err) {
    if (nobodyAnswered(err)) throw new NoWorkerError(where.taskQueue, where.workerScript);
    throw err;
  }
}

/** A gRPC DEADLINE_EXCEEDED (4) or CANCELLED (1) anywhere in the error's cause chain. */
function nobodyAnswered(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === 4 || code === 1) return true;
  }
  return false;
}
