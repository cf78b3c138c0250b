/**
 * "Works with nothing running": make sure a Temporal server answers at the configured address,
 * starting a local dev server there when none does.
 *
 * @module
 */
import { Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { splitHostPort, type TemporalSettings } from './config.js';
import { TemporalUnreachableError } from './connection.js';
import { log } from './log.js';
import { startDevServerEnv } from './testing.js';

/** A server that answers; `stop()` ends it if we started it, and does nothing otherwise. */
export interface RunningTemporal {
  /** True when this process started the server (it ends with the process). */
  started: boolean;
  stop(): Promise<void>;
}

/** True when something answers Temporal's gRPC API at the configured address. */
export async function temporalAnswers(settings: TemporalSettings): Promise<boolean> {
  try {
    const connection = await Connection.connect({ ...settings.connectionOptions, connectTimeout: '2s' });
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Uses the server at the configured address, or starts an embedded dev server there (with its
 * Web UI on port + 1000) when the address is on this machine and nothing answers.
 */
export async function ensureTemporal(settings: TemporalSettings): Promise<RunningTemporal> {
  if (await temporalAnswers(settings)) {
    log('temporal', `using the server at ${settings.address}`);
    return { started: false, stop: async () => {} };
  }
  const [host, port] = splitHostPort(settings.address);
  if (!['localhost', '127.0.0.1', '[::1]'].includes(host)) throw new TemporalUnreachableError(settings.address);
  log('temporal', `nothing answers at ${settings.address}; starting a local dev server there (Web UI on ${port + 1000})`);
  const env: TestWorkflowEnvironment = await startDevServerEnv({ port, uiPort: port + 1000 });
  return { started: true, stop: () => env.teardown() };
}
