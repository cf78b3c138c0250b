/**
 * Logging that never touches stdout: on stdio an MCP server's stdout is the protocol channel,
 * and a stray line there corrupts the protocol stream. Everything human-readable goes to stderr.
 *
 * @module
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Writes one line to stderr, prefixed with the component's name. */
export function log(component: string, message: string): void {
  process.stderr.write(`[${component}] ${message}\n`);
}

/**
 * Runs an entry point: on error prints the message (not a stack trace) and exits non-zero.
 * Set `DEBUG=1` to see the stack as well.
 */
export function runMain(main: () => Promise<unknown>): void {
  main().catch((err: unknown) => {
    process.stderr.write(`\nError: ${describeError(err)}\n`);
    if (isConnectFailure(err)) process.stderr.write(`${CONNECT_HINT}\n`);
    if (process.env.DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  });
}

/**
 * An error and its causes on one line each: Temporal wraps the failure that matters
 * ("insufficient funds") inside "Workflow execution failed" and "Activity task failed".
 */
export function describeError(err: unknown): string {
  const lines: string[] = [];
  for (let e: unknown = err; e !== undefined && lines.length < 6; e = e instanceof Error ? e.cause : undefined) {
    lines.push(e instanceof Error ? e.message : String(e));
  }
  return lines.join('\n  caused by: ');
}

/**
 * True when the module with this `import.meta.url` is the script Node was started with, false
 * when a test or another script imports it. Lets one file be both a command and a library.
 */
export function isEntryPoint(importMetaUrl: string): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(importMetaUrl));
  } catch {
    return false;
  }
}

/** What to do when nothing answers at the Temporal address. */
export const CONNECT_HINT =
  'Nothing answered at the Temporal address (TEMPORAL_ADDRESS, default localhost:7233). Start a local server with ' +
  '`npm run temporal` in another terminal, or point TEMPORAL_ADDRESS at your cluster.';

/**
 * True for the errors `Connection.connect` ("Failed to connect before the deadline") and
 * `NativeConnection.connect` (a TransportError) throw when no Temporal server answers.
 */
export function isConnectFailure(err: unknown): boolean {
  return err instanceof Error && (err.name === 'TransportError' || /^Failed to connect/.test(err.message));
}
