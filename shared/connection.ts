/**
 * What is not the lesson about connecting: the errors that tell a learner what to do when
 * Temporal or a worker is missing, and the check that a worker is there to answer.
 *
 * @module
 */
import type { Client } from '@temporalio/client';

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

/** How long a worker that polls the task queue gets to answer before we give up on it. */
export const WORKER_ANSWER_MS = 8_000;

/** Nobody answered for the workflow: no worker polls its task queue, or the one that did is gone or stuck. */
export class NoWorkerError extends Error {
  constructor(
    readonly taskQueue: string,
    readonly workerScript: string,
    /** Seconds since a worker last polled, when Temporal still lists one; undefined when none polls. */
    readonly lastPollSecondsAgo?: number,
    /** The call was a change (an Update) that was sent and may still take effect. */
    readonly sent = false,
  ) {
    const what =
      lastPollSecondsAgo === undefined
        ? `No worker is polling task queue "${taskQueue}".`
        : `No worker answered on task queue "${taskQueue}" within ${WORKER_ANSWER_MS / 1000} s (one last polled ${lastPollSecondsAgo} s ago: it has stopped, or is too busy).`;
    const consequence = sent
      ? 'The decision was sent and takes effect when a worker picks it up: check get_invoice_status before deciding again.'
      : 'Nothing is lost: Temporal keeps the invoice, and a worker picks it up once one runs.';
    super(`${what} ${consequence} Start it: npx tsx ${workerScript}`);
    this.name = 'NoWorkerError';
  }
}

/**
 * Runs something only a worker can answer: a query, or with `changes` an Update. With no worker
 * polling, Temporal answers a query only when its own timeout passes (about 30 s), later with a bare
 * `CANCELLED`, and keeps an Update until a worker comes, perhaps days later. So we ask Temporal who
 * polls the task queue: nobody → a {@link NoWorkerError} at once (before an Update is even sent,
 * so a refusal never takes effect behind the user's back); somebody → they get
 * {@link WORKER_ANSWER_MS} to answer.
 */
export async function askWorker<T>(
  client: Client,
  where: { taskQueue: string; workerScript: string },
  fn: () => Promise<T>,
  { changes = false }: { changes?: boolean } = {},
): Promise<T> {
  const lastPoll = lastPollSecondsAgo(client, where.taskQueue);
  const nobody = () => new NoWorkerError(where.taskQueue, where.workerScript);
  if (changes && (await lastPoll) === undefined) throw nobody();
  const answer = client.connection.withDeadline(Date.now() + WORKER_ANSWER_MS, fn);
  // A query need not wait for the deadline when nobody polls: say so as soon as Temporal has told us.
  const noPoller = changes ? new Promise<never>(() => {}) : lastPoll.then((ago) => (ago === undefined ? Promise.reject(nobody()) : new Promise<never>(() => {})));
  try {
    return await Promise.race([answer, noPoller]);
  } catch (err) {
    if (err instanceof NoWorkerError) {
      answer.catch(() => {}); // abandoned: its own deadline ends it
      throw err;
    }
    if (!nobodyAnswered(err)) throw err;
    const ago = await lastPoll;
    throw new NoWorkerError(where.taskQueue, where.workerScript, ago ?? undefined, changes);
  }
}

/**
 * Seconds since a worker last polled the workflow task queue; undefined when Temporal lists none,
 * null when it could not tell (then we just wait for the answer). Temporal keeps listing a worker
 * for a few minutes after it stopped, so a listed worker is not proof of a live one.
 */
async function lastPollSecondsAgo(client: Client, taskQueue: string): Promise<number | undefined | null> {
  try {
    const { pollers } = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name: taskQueue },
      taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW: workflow tasks answer queries and Updates
    });
    const last = Math.max(...pollers.map((p) => Number(p.lastAccessTime?.seconds ?? 0)));
    return pollers.length === 0 ? undefined : Math.max(0, Math.round(Date.now() / 1000 - last));
  } catch {
    return null;
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
