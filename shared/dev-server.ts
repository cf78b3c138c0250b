/**
 * Local Temporal servers that start every time, for tests, demos and scripts:
 *
 * - {@link startDevServer}: `temporal server start-dev` on 127.0.0.1, on ports no other program is
 *   handed by the system, its output in a log file; started again on fresh ports when a port was
 *   taken between being found free and being bound (many servers starting at once on one machine).
 * - {@link onFreePort}: the same retry around an SDK call that starts a server on a port you give it
 *   (`TestWorkflowEnvironment.createTimeSkipping`).
 * - {@link ensureTemporal}: "works with nothing running": the configured server, or a local one.
 *
 * (`startDevServerEnv` in `testing.ts` puts a test environment on a dev server started here.)
 *
 * A start that fails for good throws {@link DevServerStartError}: one line saying what failed,
 * the command to run by hand and the log file holding the server's own output.
 *
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, rmSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { REPO_ROOT, requireBinary } from './binaries.js';
import { splitHostPort, type TemporalSettings } from './config.js';
import { TemporalUnreachableError } from './connection.js';
import { log } from './log.js';

/** Where a server's own output goes (git-ignored with the rest of .temporal/). */
export const DEV_SERVER_LOG_DIR = join(REPO_ROOT, '.temporal', 'logs');

/**
 * Ports are picked from 20000-32767: below every system's ephemeral range (Linux 32768-60999,
 * macOS and Windows 49152-65535), so no outgoing connection and no other program asking the
 * system for "any free port" is handed one of them while our server is starting.
 */
const PORT_RANGE = { low: 20_000, high: 32_767 };
/** Ports this process already handed out: never twice, even after they were freed. */
const handedOut = new Set<number>();

/** True when nothing listens on 127.0.0.1:port right now. */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A TCP port on 127.0.0.1 that nothing listens on right now, outside the system's ephemeral range
 * (see above), and not handed out before by this process.
 */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 200; tries++) {
    const port = PORT_RANGE.low + Math.floor(Math.random() * (PORT_RANGE.high - PORT_RANGE.low + 1));
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await isFree(port)) return port;
  }
  throw new Error(`No free TCP port on 127.0.0.1 between ${PORT_RANGE.low} and ${PORT_RANGE.high} after 200 tries.`);
}

/** A dev server that did not start: one readable line, the details in its log file. */
export class DevServerStartError extends Error {
  constructor(
    readonly reason: string,
    readonly command: string,
    readonly logFile: string,
  ) {
    super(`The Temporal dev server did not start: ${reason}. Run it by hand to see why: ${command} (its output is in ${logFile}).`);
    this.name = 'DevServerStartError';
  }
}

/** Options of a dev server started for a test, a demo or a script. */
export interface DevServerOptions {
  /** Frontend port; a free one when omitted. Given, it is kept on a retry (clients already know it). */
  port?: number;
  /** Serve the Web UI on this port; headless when omitted. */
  uiPort?: number;
  /** Keep state in this SQLite file, so a restarted server finds it again. In memory when omitted. */
  dbFilename?: string;
  /** Starts to try before giving up (default 4). */
  attempts?: number;
  /** How long one start may take before it counts as failed (default 30 s: a loaded laptop is slow). */
  startTimeoutMs?: number;
}

/** A running dev server; `stop()` ends it. */
export interface DevServer {
  /** `127.0.0.1:<port>`, for `TEMPORAL_ADDRESS` and `Connection.connect`. */
  address: string;
  port: number;
  uiPort?: number;
  /** The server's own output (removed by a clean `stop()`, kept when it failed). */
  logFile: string;
  /** How many starts it took: 1 unless a port was lost to another program. */
  attempts: number;
  /**
   * Ends the server: SIGTERM, so it shuts down cleanly (SIGKILL if it takes over 5 s), or with
   * `{ hard: true }` SIGKILL at once, as a crash would (its database file keeps what it committed).
   */
  stop(options?: { hard?: boolean }): Promise<void>;
}

const running = new Set<ChildProcess>();
// Whatever happens to this process, the servers it started go with it.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts `temporal server start-dev` on 127.0.0.1 and resolves once it serves. Every port it binds
 * that can be chosen (frontend, HTTP API, metrics, Web UI) is chosen here, outside the ephemeral
 * range. The server still picks three internal ports itself, so a start can lose a race for a
 * port all the same: then it is started again, on fresh ports (the frontend port is kept when the
 * caller gave it). Its output goes to a file in `.temporal/logs/`, never into a test's output.
 *
 * @throws DevServerStartError when it did not start after `attempts` tries.
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const attempts = options.attempts ?? 4;
  let last: DevServerStartError | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const outcome = await startOnce(options);
    if ('server' in outcome) return { ...outcome.server, attempts: attempt };
    last = outcome.error;
    if (!outcome.retry) break;
    if (attempt < attempts) {
      log('temporal', `${outcome.error.reason}; starting it again on fresh ports (try ${attempt + 1} of ${attempts})`);
      // A moment's pause: whoever took the port may be a server that is itself starting up.
      await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
    }
  }
  throw last!;
}

async function startOnce(options: DevServerOptions): Promise<{ server: DevServer } | { error: DevServerStartError; retry: boolean }> {
  const port = options.port ?? (await freePort());
  const [httpPort, metricsPort] = [await freePort(), await freePort()];
  const args = [
    'server', 'start-dev',
    '--ip', '127.0.0.1',
    '--port', String(port),
    '--http-port', String(httpPort),
    '--metrics-port', String(metricsPort),
    ...(options.uiPort !== undefined ? ['--ui-port', String(options.uiPort)] : ['--headless']),
    ...(options.dbFilename ? ['--db-filename', options.dbFilename] : []),
    '--log-format', 'pretty',
    '--log-level', 'warn',
    // Updates, which every step from 05 on uses, and no version check (no network).
    '--dynamic-config-value', 'frontend.enableUpdateWorkflowExecution=true',
    '--dynamic-config-value', 'frontend.enableServerVersionCheck=false',
  ];
  const executable = requireBinary('cli');
  const command = `${executable} ${args.join(' ')}`;
  mkdirSync(DEV_SERVER_LOG_DIR, { recursive: true });
  const logFile = join(DEV_SERVER_LOG_DIR, `dev-server-${port}-${process.pid}-${Date.now()}.log`);
  const logStream = createWriteStream(logFile);
  const child = spawn(executable, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      running.delete(child);
      resolve(code);
    });
    child.once('error', () => resolve(-1)); // not executable: "exited" before it began
  });

  // Ready when the CLI prints its banner, which it does once the server has started.
  let output = '';
  const ready = new Promise<void>((resolve) => {
    const watch = (chunk: Buffer) => {
      logStream.write(chunk);
      if (output.length < 64_000) output += chunk.toString();
      if (/Temporal Server:/.test(output)) resolve();
    };
    child.stdout!.on('data', watch);
    child.stderr!.on('data', watch);
  });
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    ready.then(() => 'ready' as const),
    exited.then(() => 'exited' as const),
    new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs))),
  ]);
  clearTimeout(timer);

  if (result === 'ready') {
    const server: DevServer = {
      attempts: 1,
      address: `127.0.0.1:${port}`,
      port,
      uiPort: options.uiPort,
      logFile,
      stop: async ({ hard = false } = {}) => {
        if (child.exitCode === null && child.signalCode === null) child.kill(hard ? 'SIGKILL' : 'SIGTERM');
        const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('slow'), 5_000))]);
        if (code === 'slow') {
          child.kill('SIGKILL');
          await exited;
        }
        await new Promise((r) => logStream.end(r));
        rmSync(logFile, { force: true }); // it ran and stopped as asked: nothing to look at
      },
    };
    return { server };
  }

  if (result === 'timeout') child.kill('SIGKILL');
  await exited;
  await new Promise((r) => logStream.end(r));
  const text = readFileSync(logFile, 'utf8');
  const clash = /address already in use|bind: /i.exec(text);
  const reason =
    result === 'timeout'
      ? `it did not answer within ${timeoutMs / 1000} s on 127.0.0.1:${port}`
      : clash
        ? `a port it needed was taken (${firstLine(text, clash.index)})`
        : `it exited with code ${child.exitCode ?? child.signalCode}${firstErrorLine(text)}`;
  // A port clash or a slow start deserves fresh ports; anything else (a bad database file, a
  // binary that does not run) fails the same way again.
  return { error: new DevServerStartError(reason, command, logFile), retry: result === 'timeout' || clash !== null };
}

/** The line of `text` that holds `index`, trimmed to something readable. */
function firstLine(text: string, index: number): string {
  const start = text.lastIndexOf('\n', index) + 1;
  const end = text.indexOf('\n', index);
  return text.slice(start, end < 0 ? undefined : end).trim().slice(0, 200);
}

function firstErrorLine(text: string): string {
  const line = text.split('\n').find((l) => /error|fatal|unable|failed/i.test(l));
  return line ? `: ${line.trim().slice(0, 200)}` : '';
}

/**
 * Runs `start(port)` on a fresh free port, and again on another one when it fails: for SDK calls
 * that start a server on the port they are given, such as
 * `TestWorkflowEnvironment.createTimeSkipping({ server: { ..., port } })`. Three tries.
 */
export async function onFreePort<T>(start: (port: number) => Promise<T>, attempts = 3): Promise<T> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const port = await freePort();
    try {
      return await start(port);
    } catch (err) {
      lastError = err;
      log('temporal', `a test server did not start on port ${port} (try ${attempt} of ${attempts}): ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(
    `Temporal's test server did not start after ${attempts} tries: ${(lastError as Error)?.message?.split('\n')[0]}. ` +
      `Run \`npm run doctor\` to check the binaries and ports.`,
  );
}

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
 * Uses the server at the configured address, or starts a dev server there (with its Web UI on
 * port + 1000) when the address is on this machine and nothing answers.
 */
export async function ensureTemporal(settings: TemporalSettings): Promise<RunningTemporal> {
  if (await temporalAnswers(settings)) {
    log('temporal', `using the server at ${settings.address}`);
    return { started: false, stop: async () => {} };
  }
  const [host, port] = splitHostPort(settings.address);
  if (!['localhost', '127.0.0.1', '[::1]'].includes(host)) throw new TemporalUnreachableError(settings.address);
  log('temporal', `nothing answers at ${settings.address}; starting a local dev server there (Web UI on ${port + 1000})`);
  const server = await startDevServer({ port, uiPort: port + 1000 });
  return { started: true, stop: () => server.stop() };
}
