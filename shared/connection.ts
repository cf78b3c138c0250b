/**
 * One way to connect, for clients and workers alike, so no step hard-codes `localhost:7233`.
 *
 * @module
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadTemporalSettings, type TemporalSettings } from './config.js';

/** A connected client plus the settings it was made from (for Web UI links). */
export interface ConnectedClient {
  client: Client;
  settings: TemporalSettings;
  /** Closes the underlying gRPC connection. */
  close(): Promise<void>;
}

/**
 * Connects a Temporal {@link Client} with the settings from the environment.
 *
 * @throws {@link TemporalUnreachableError} when nothing answers, with what to do about it.
 */
export async function connectClient(
  settings: TemporalSettings = loadTemporalSettings(),
  connectTimeoutMs = 5_000,
): Promise<ConnectedClient> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...settings.connectionOptions, connectTimeout: connectTimeoutMs });
  } catch (err) {
    throw new TemporalUnreachableError(settings.address, err);
  }
  const client = new Client({ connection, namespace: settings.namespace });
  return { client, settings, close: () => connection.close() };
}

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

/**
 * One Temporal client for a long-lived process (an MCP server): connected on first use, reused
 * by every call after that, and connected again on the next call if the first attempt failed.
 * Every call gets a deadline, so a call never hangs when Temporal is down: it fails within
 * `deadlineMs` and the next one succeeds once Temporal is back (gRPC reconnects by itself).
 */
export class SharedClient {
  private connecting?: Promise<ConnectedClient>;

  constructor(
    readonly settings: TemporalSettings = loadTemporalSettings(),
    readonly deadlineMs = 5_000,
  ) {}

  /** Runs `fn` with the shared client, under the deadline. */
  async call<T>(fn: (client: Client) => Promise<T>): Promise<T> {
    this.connecting ??= connectClient(this.settings, this.deadlineMs).catch((err: unknown) => {
      this.connecting = undefined; // try again on the next call
      throw err;
    });
    const { client } = await this.connecting;
    return client.connection.withDeadline(Date.now() + this.deadlineMs, () => fn(client));
  }

  /** Closes the connection, if one was made. */
  async close(): Promise<void> {
    const connecting = this.connecting;
    this.connecting = undefined;
    await connecting?.then((c) => c.close()).catch(() => {});
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
      `No worker is polling task queue "${taskQueue}": none answered within ${WORKER_ANSWER_MS / 1000} s. The invoice is ` +
        `safe in Temporal and carries on once a worker runs. Start it: npx tsx ${workerScript}`,
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
