// Proof for `npm run stop-worker`: it finds a step's worker by its command line and stops that
// process, gently or hard, and nothing else. The "step" here is a folder name no real worker
// has, so the test never touches a worker someone is running on this machine.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { listProcesses, stopProcesses, workerProcesses } from './stop-worker.js';

/** A stand-in worker: `node -e <code> <folder>/worker.ts`, ready once it printed "ready". */
async function fakeWorker(folder: string, code: string): Promise<{ child: ChildProcess; exit: Promise<{ code: number | null; signal: string | null; out: string }> }> {
  const child = spawn(process.execPath, ['-e', code, `tutorials/${folder}/worker.ts`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const exit = new Promise<{ code: number | null; signal: string | null; out: string }>((resolve) =>
    child.on('exit', (c, s) => resolve({ code: c, signal: s, out })),
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('ready')) resolve();
    });
    child.on('exit', () => reject(new Error(`fake worker exited early: ${out}`)));
  });
  return { child, exit };
}

// Like a Temporal worker: on SIGTERM it finishes what it holds, then exits 0.
const GRACEFUL = `process.on('SIGTERM', () => { console.log('finishing'); process.exit(0); }); setInterval(() => {}, 1000); console.log('ready');`;
// Like `npx tsx`: a parent that runs the worker as its child and exits when the child does.
const PARENT = `const c = require('child_process').spawn(process.execPath, ['-e', ${JSON.stringify(GRACEFUL)}, process.argv[1]], { stdio: 'inherit' });
c.on('exit', () => process.exit(0)); process.on('SIGTERM', () => {});`;

describe.skipIf(process.platform === 'win32')('npm run stop-worker', () => {
  it('--hard kills the worker outright: no clean-up runs', async () => {
    const folder = `99-stop-test-${randomUUID().slice(0, 8)}`;
    const worker = await fakeWorker(folder, GRACEFUL);
    const targets = workerProcesses(listProcesses(), folder);
    expect(targets.map((t) => t.pid)).toEqual([worker.child.pid]);
    expect(await stopProcesses(targets, { hard: true })).toEqual([]);
    const { signal, out } = await worker.exit;
    expect(signal).toBe('SIGKILL');
    expect(out).not.toContain('finishing');
  });

  it('without --hard asks it to stop, and it finishes first', async () => {
    const folder = `99-stop-test-${randomUUID().slice(0, 8)}`;
    const worker = await fakeWorker(folder, GRACEFUL);
    expect(await stopProcesses(workerProcesses(listProcesses(), folder), { hard: false })).toEqual([]);
    const { code, out } = await worker.exit;
    expect(code).toBe(0);
    expect(out).toContain('finishing');
  });

  it('signals only the innermost process; its parents exit with it', async () => {
    const folder = `99-stop-test-${randomUUID().slice(0, 8)}`;
    const parent = await fakeWorker(folder, `${PARENT}`);
    const all = listProcesses();
    const targets = workerProcesses(all, folder);
    expect(targets).toHaveLength(1);
    expect(targets[0].ppid).toBe(parent.child.pid); // the child, not the parent
    await stopProcesses(targets, { hard: true });
    expect(await parent.exit).toMatchObject({ code: 0, signal: null }); // the parent was not signalled
  });

  it('finds nothing for a step whose worker is not running', () => {
    expect(workerProcesses(listProcesses(), `99-stop-test-${randomUUID().slice(0, 8)}`)).toEqual([]);
  });
});

describe('matching a worker by its command line', () => {
  const folder = '06-durability-demo';
  const list = (...commands: string[]) => commands.map((command, i) => ({ pid: 100 + i, ppid: 1, command }));
  it('recognises the ways a worker is started, on every OS', () => {
    const found = workerProcesses(
      list(
        'node /home/me/repo/node_modules/.bin/tsx tutorials/06-durability-demo/worker.ts',
        'C:\\Program Files\\nodejs\\node.exe --import file:///C:/r/node_modules/tsx/dist/loader.mjs C:\\r\\tutorials\\06-durability-demo\\worker.ts',
        'node --import tsx practice/06-durability-demo/worker.ts --payment-delay-ms 3000',
      ),
      folder,
      1,
    );
    expect(found).toHaveLength(3);
  });
  it('ignores other steps, other files and look-alike folders', () => {
    const found = workerProcesses(
      list(
        'node tutorials/05-mcp-server/worker.ts',
        'node tutorials/06-durability-demo/server.ts',
        'node tutorials/106-durability-demo/worker.ts',
        'node tutorials/06-durability-demo/worker.tsx',
        'vim tutorials/06-durability-demo/worker.ts.bak',
      ),
      folder,
      1,
    );
    expect(found).toEqual([]);
  });
});
