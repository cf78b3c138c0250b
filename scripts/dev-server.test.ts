// shared/dev-server.ts: a Temporal dev server starts even when a port it was to use is taken, and a
// start that cannot succeed fails with one readable line that names the command and the log file.
// The stress run (`npm run stress:dev-servers`, 12 servers at once, 5 rounds) is the load proof;
// this file is the cheap regression check of the mechanism.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { Connection } from '@temporalio/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DevServerStartError, freePort, onFreePort, startDevServer, type DevServer } from '../shared/dev-server.js';

const started: DevServer[] = [];
const holders: Server[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
  await Promise.all(holders.splice(0).map((h) => new Promise((r) => (h.listening ? h.close(r) : r(undefined)))));
});

/** Listens on 127.0.0.1:port, as another program that got there first would. */
function holdPort(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const holder = createServer();
    holder.once('error', reject);
    holder.listen(port, '127.0.0.1', () => resolve(holder));
    holders.push(holder);
  });
}

describe('shared/dev-server', () => {
  it('hands out ports below the system ephemeral range, never the same one twice', async () => {
    const ports = await Promise.all(Array.from({ length: 50 }, () => freePort()));
    expect(new Set(ports).size).toBe(50);
    for (const port of ports) expect(port).toBeGreaterThanOrEqual(20_000), expect(port).toBeLessThan(32_768);
  });

  it('starts the server again when its port was taken, and it then answers', async () => {
    const port = await freePort();
    const holder = await holdPort(port);
    // The other program lets go of the port as soon as the first start has failed on it.
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      if (String(chunk).includes('starting it again on fresh ports')) holder.close();
      return true;
    });
    const server = await startDevServer({ port, attempts: 2 }).finally(() => stderr.mockRestore());
    started.push(server);
    expect(server.attempts).toBe(2);
    expect(server.address).toBe(`127.0.0.1:${port}`);
    const connection = await Connection.connect({ address: server.address });
    const { namespaceInfo } = await connection.workflowService.describeNamespace({ namespace: 'default' });
    await connection.close();
    expect(namespaceInfo?.name).toBe('default');
  });

  it('gives up with one line: what failed, the command to run by hand, and the log holding the details', async () => {
    const port = await freePort();
    await holdPort(port);
    const retries: string[] = []; // the retry's line goes here, not into the test output
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (retries.push(String(chunk)), true));
    const failure = await startDevServer({ port, attempts: 2 })
      .catch((err: unknown) => err)
      .finally(() => stderr.mockRestore());
    expect(retries.join('')).toMatch(/a port it needed was taken .*starting it again on fresh ports \(try 2 of 2\)/);
    expect(failure).toBeInstanceOf(DevServerStartError);
    const { message, logFile } = failure as DevServerStartError;
    expect(message).not.toContain('\n');
    expect(message).toMatch(new RegExp(`^The Temporal dev server did not start: a port it needed was taken \\(.*${port}.*\\)\\. Run it by hand to see why: .*temporal server start-dev .*--port ${port} `));
    expect(message).toContain(`(its output is in ${logFile})`);
    // The server's own output, stack traces and all, is in the log file and not in the message.
    expect(existsSync(logFile)).toBe(true);
    expect(readFileSync(logFile, 'utf8')).toMatch(/address already in use/);
  });

  it('onFreePort tries another port when a start fails', async () => {
    const tried: number[] = [];
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const result = await onFreePort(async (port) => {
      tried.push(port);
      if (tried.length === 1) throw new Error('bind: address already in use');
      return 'started';
    }).finally(() => stderr.mockRestore());
    expect(result).toBe('started');
    expect(tried).toHaveLength(2);
    expect(tried[1]).not.toBe(tried[0]);
  });
});
