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
export async function connectClient(settings: TemporalSettings = loadTemporalSettings()): Promise<ConnectedClient> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...settings.connectionOptions, connectTimeout: '5s' });
  } catch (err) {
    throw new TemporalUnreachableError(settings.address, err);
  }
  const client = new Client({ connection, namespace: settings.namespace });
  return { client, settings, close: () => connection.close() };
}

/** Connects the native connection a {@link Worker} polls with. */
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
