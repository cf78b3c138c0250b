/**
 * Connection settings for every step, loaded with `@temporalio/envconfig`.
 *
 * The same code therefore runs against `temporal server start-dev`, a self-hosted cluster or
 * Temporal Cloud: set `TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, TLS variables
 * or a `TEMPORAL_PROFILE` from the Temporal config file; nothing in a step changes.
 *
 * @module
 */
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';

/** Where the local dev server listens when nothing else is configured. */
export const DEFAULT_ADDRESS = 'localhost:7233';
/** The namespace `temporal server start-dev` creates. */
export const DEFAULT_NAMESPACE = 'default';

/** Everything a client or a worker needs to reach Temporal. */
export interface TemporalSettings {
  /** host:port of the Temporal frontend. */
  address: string;
  /** Namespace that workflows run in. */
  namespace: string;
  /** Options for `Connection.connect` and `NativeConnection.connect` (address, TLS, API key). */
  connectionOptions: NativeConnectionOptions;
  /** Base URL of the Temporal Web UI, for links printed to the learner. */
  webUiUrl: string;
}

/**
 * Reads the Temporal connection settings from the environment and the optional Temporal
 * config file (see {@link https://docs.temporal.io/develop/environment-configuration}).
 *
 * @param env - the environment to read; defaults to `process.env`. Tests pass their own.
 */
export function loadTemporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const { connectionOptions, namespace } = loadClientConnectConfig({
    overrideEnvVars: definedOnly(env),
  });
  const address = connectionOptions.address ?? DEFAULT_ADDRESS;
  return {
    address,
    namespace: namespace ?? DEFAULT_NAMESPACE,
    connectionOptions: { ...connectionOptions, address },
    webUiUrl: env.TEMPORAL_UI_URL ?? guessWebUiUrl(address),
  };
}

/**
 * The dev server serves its Web UI on the frontend port + 1000 (7233 → 8233). For any other
 * server the learner sets `TEMPORAL_UI_URL` (Temporal Cloud: https://cloud.temporal.io).
 */
function guessWebUiUrl(address: string): string {
  const [host, port] = splitHostPort(address);
  return `http://${host}:${port + 1000}`;
}

/** Splits `host:port` (IPv6 in brackets allowed); a missing port means Temporal's 7233. */
export function splitHostPort(address: string): [string, number] {
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(address);
  if (!match) throw new Error(`TEMPORAL_ADDRESS "${address}" is not host:port (for example localhost:7233).`);
  return [match[1], match[2] ? Number(match[2]) : 7233];
}

/** The Web UI page of one workflow, on the server the environment points at. */
export function workflowUrl(workflowId: string, settings: TemporalSettings = loadTemporalSettings()): string {
  return `${settings.webUiUrl}/namespaces/${encodeURIComponent(settings.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

