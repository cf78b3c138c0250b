// Proof for `npm run doctor`: each check tells a ready room from a broken one, against a real
// Temporal dev server, a real worker, real ports and real config files.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Erp, PaymentGateway } from '../shared/simulated-systems.js';
import { freePort } from '../shared/dev-server.js';
import { startDevServerEnv, waitFor } from '../shared/testing.js';
import { createWorker, workflowBundle } from '../shared/worker.js';
import { createActivities } from '../tutorials/02-signals/activities.js';
import { buildEntry, findServerStep, serverName } from './claude-config.js';
import { browserVerdict, diagnose, formatVerdict, nodeVerdict, npmVerdict, type DoctorInputs, type Verdict } from './doctor.js';

const ENGINES = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).engines.node as string;
const STEP_02_WORKFLOWS = new URL('../tutorials/02-signals/workflows.ts', import.meta.url);

/** This process's environment without any TEMPORAL_* variable, plus `extra`. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TEMPORAL_')));
  return { ...env, ...extra };
}

function verdictOf(verdicts: Verdict[], check: string): Verdict {
  const v = verdicts.find((x) => x.check === check);
  if (!v) throw new Error(`no "${check}" verdict in:\n${verdicts.map(formatVerdict).join('\n')}`);
  return v;
}

let tmp: string;
let server: TestWorkflowEnvironment;
let running: DoctorInputs; // inputs that point at the running dev server
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'doctor-test-'));
  const [port, uiPort] = [await freePort(), await freePort()];
  // Bundling step 02's workflows takes seconds: do it while the server starts (createWorker reuses it).
  [server] = await Promise.all([startDevServerEnv({ port, uiPort }), workflowBundle(STEP_02_WORKFLOWS)]);
  running = {
    env: cleanEnv({ TEMPORAL_ADDRESS: `127.0.0.1:${port}`, TEMPORAL_UI_URL: `http://127.0.0.1:${uiPort}` }),
    configPath: path.join(tmp, 'absent.json'),
    nodeVersion: '24.11.1',
    engines: ENGINES,
    timeoutMs: 3000, // only a server that is not there waits this long
  };
});
afterAll(async () => {
  await server?.teardown();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('Node.js', () => {
  it('accepts the LTS lines 22 and 24', () => {
    expect(ENGINES).toBe('^22.12.0 || >=24');
    expect(nodeVerdict('v24.11.1', ENGINES)).toMatchObject({ status: 'ok', message: 'Node.js 24.11.1 (LTS, recommended)' });
    expect(nodeVerdict('22.12.0', ENGINES)).toMatchObject({ status: 'ok', message: 'Node.js 22.12.0 (LTS, recommended)' });
  });

  it('tells a learner on Node.js 20 that it reached end of life, and exactly what to install', () => {
    const twenty = nodeVerdict('20.20.2', ENGINES);
    expect(twenty.status).toBe('fail');
    expect(formatVerdict(twenty)).toBe(
      '✘ Node.js 20.20.2 is past its end of life (2026-04-30) and not supported: this repository needs ^22.12.0 || >=24' +
        ' — install Node.js 24 LTS (or 22.12 or newer): from https://nodejs.org, or nvm install 24 && nvm use 24 ' +
        '(fnm: fnm use --install-if-missing 24; Windows: winget install OpenJS.NodeJS.LTS), then run npm ci again',
    );
  });

  it('fails an unsupported or unreadable version and says what to install', () => {
    for (const version of ['18.19.0', '20.19.0', '22.11.0', '23.0.0', 'not-a-version']) {
      const v = nodeVerdict(version, ENGINES);
      expect(v.status, version).toBe('fail');
      expect(v.fix).toMatch(/install Node\.js 24 LTS/);
    }
    expect(nodeVerdict('23.0.0', ENGINES).message).toBe(`Node.js 23.0.0 is not supported (this repository needs ${ENGINES})`);
  });
});

describe('npm on Windows', () => {
  it('warns about an npm whose PowerShell shim drops the flags after --, and says how to avoid it', () => {
    for (const npm of ['10.8.2', '10.9.2', '11.3.0']) {
      const v = npmVerdict(`npm/${npm} node/v22.12.0 win32 x64 workspaces/false`, 'win32');
      expect(v?.status, npm).toBe('warn');
      expect(v?.fix).toContain('npm.cmd run claude-config -- 05 --merge');
    }
    for (const npm of ['10.9.3', '11.4.0', '11.6.2']) expect(npmVerdict(`npm/${npm} node/v24.11.1 win32 x64`, 'win32')?.status, npm).toBe('ok');
  });

  it('says nothing elsewhere, or when npm did not start it', () => {
    expect(npmVerdict('npm/10.8.2 node/v20.19.0 linux x64', 'linux')).toBeUndefined();
    expect(npmVerdict(undefined, 'win32')).toBeUndefined();
  });
});

describe('the Temporal binaries', () => {
  it('finds the ones npm run setup installed', async () => {
    const verdicts = await diagnose({ ...running });
    expect(verdictOf(verdicts, 'cli')).toMatchObject({ status: 'ok', message: expect.stringMatching(/^Temporal CLI: .*temporal/) });
    expect(verdictOf(verdicts, 'testServer').status).toBe('ok');
  });

  it('reports an override that points nowhere, naming the variable', async () => {
    const missing = path.join(tmp, 'no-such-temporal');
    const verdicts = await diagnose({ ...running, env: { ...running.env, TEMPORAL_CLI_PATH: missing } });
    const cli = verdictOf(verdicts, 'cli');
    expect(cli.status).toBe('fail');
    expect(cli.message).toContain(`TEMPORAL_CLI_PATH is set to "${missing}"`);
    expect(formatVerdict(cli)).toMatch(/^✘ .* — correct TEMPORAL_CLI_PATH, or unset it and run: npm run setup$/);
    expect(verdictOf(verdicts, 'testServer').status).toBe('ok'); // the other binary is unaffected
  });
});

describe('a browser for the card', () => {
  it('names the browser it found, and without one warns (never fails) and says how to get one', () => {
    expect(browserVerdict(() => '/usr/bin/chromium')).toMatchObject({ status: 'ok', message: expect.stringContaining('/usr/bin/chromium') });
    const none = browserVerdict(() => undefined);
    expect(none.status).toBe('warn');
    expect(formatVerdict(none)).toMatch(/skipped .*apt-get install chromium/);
    const bad = browserVerdict(() => {
      throw new Error('CHROMIUM_PATH is set to "/nowhere", which is not an executable file');
    });
    expect(bad).toMatchObject({ status: 'warn', message: expect.stringContaining('/nowhere') });
  });
});

describe('ports 7233 and 8233', () => {
  it('says a running dev server and its Web UI answer', async () => {
    const verdicts = await diagnose({ ...running });
    expect(verdictOf(verdicts, 'temporal')).toMatchObject({ status: 'ok', message: expect.stringMatching(/^Temporal answers at 127\.0\.0\.1:\d+ \(namespace "default"\)$/) });
    expect(verdictOf(verdicts, 'webUi')).toMatchObject({ status: 'ok', message: expect.stringMatching(/^Temporal Web UI \S+ at http:\/\/127\.0\.0\.1:\d+$/) });
  });

  it('says free ports are free, and nothing fails', async () => {
    const [port, uiPort] = [await freePort(), await freePort()];
    const env = cleanEnv({ TEMPORAL_ADDRESS: `127.0.0.1:${port}`, TEMPORAL_UI_URL: `http://127.0.0.1:${uiPort}` });
    const verdicts = await diagnose({ ...running, env, timeoutMs: 500 });
    expect(verdictOf(verdicts, 'temporal')).toMatchObject({ status: 'ok', message: `Port ${port} is free for Temporal (not running yet; start it with: npm run temporal)` });
    expect(verdictOf(verdicts, 'webUi')).toMatchObject({ status: 'ok', message: `Port ${uiPort} is free for the Temporal Web UI` });
    expect(verdicts.filter((v) => v.status === 'fail')).toEqual([]);
  });

  it('fails ports held by something that is not Temporal, and says how to find it', async () => {
    // A TCP listener that never speaks gRPC, and a web server that is not the Temporal Web UI.
    const tcp: Server = createServer((socket) => socket.on('error', () => {}));
    const http: HttpServer = createHttpServer((_req, res) => res.end('<html>someone else</html>'));
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    try {
      const port = (tcp.address() as { port: number }).port;
      const uiPort = (http.address() as { port: number }).port;
      const env = cleanEnv({ TEMPORAL_ADDRESS: `127.0.0.1:${port}`, TEMPORAL_UI_URL: `http://127.0.0.1:${uiPort}` });
      const verdicts = await diagnose({ ...running, env, timeoutMs: 500 });
      const temporal = verdictOf(verdicts, 'temporal');
      expect(temporal.status).toBe('fail');
      expect(temporal.message).toBe(`Port ${port} is taken by something that is not Temporal, so \`npm run temporal\` cannot start there`);
      expect(temporal.fix).toContain('--port 7300');
      const webUi = verdictOf(verdicts, 'webUi');
      expect(webUi.status).toBe('fail');
      expect(webUi.message).toContain(`Port ${uiPort} is taken by something that is not the Temporal Web UI`);
    } finally {
      tcp.close();
      http.closeAllConnections();
      http.close();
    }
  });
});

describe('the Claude Desktop config', () => {
  const step05 = findServerStep('05');
  const name = serverName('05');

  async function claudeWith(config: unknown): Promise<Verdict> {
    const configPath = path.join(tmp, `claude-${Math.random().toString(36).slice(2)}.json`);
    if (config !== undefined) await writeFile(configPath, typeof config === 'string' ? config : JSON.stringify(config));
    return verdictOf(await diagnose({ ...running, configPath, step: '05' }), 'claude');
  }

  it("is fine when the step's entry is there and runs this repository's server", async () => {
    const v = await claudeWith({ mcpServers: { [name]: buildEntry({ serverPath: step05.serverPath }) } });
    expect(v).toMatchObject({ status: 'ok', message: expect.stringContaining(`has "${name}"`) });
  });

  it('warns, with the command that adds it, when the entry or the file is missing', async () => {
    const other = { mcpServers: { weather: { command: 'node', args: ['weather.js'], env: {} } } };
    const without = await claudeWith(other);
    expect(without).toMatchObject({ status: 'warn', fix: 'run: npm run claude-config -- 05 --merge' });
    expect(without.message).toContain(`has no "${name}" server`);
    expect((await claudeWith(undefined)).message).toMatch(/^No Claude Desktop config at /);
    expect((await claudeWith('{ not json')).message).toContain('is not valid JSON');
  });

  it('warns when the entry names a Node.js or a server that no longer exists', async () => {
    const entry = buildEntry({ serverPath: step05.serverPath, nodePath: path.join(tmp, 'old-node', 'bin', 'node') });
    const v = await claudeWith({ mcpServers: { [name]: entry } });
    expect(v.status).toBe('warn');
    expect(v.message).toContain(path.join(tmp, 'old-node', 'bin', 'node'));
    expect(v.fix).toBe('run: npm run claude-config -- 05 --merge --force');
  });
});

describe("the step's worker", () => {
  it('fails until a step 02 worker polls invoices-02, then passes with nothing blocking', async () => {
    const before = verdictOf(await diagnose({ ...running, step: '02' }), 'worker');
    expect(formatVerdict(before)).toBe('✘ No worker polls task queue "invoices-02" — run: npx tsx tutorials/02-signals/worker.ts');

    const worker = await createWorker(server.nativeConnection, 'default', {
      workflowsPath: STEP_02_WORKFLOWS,
      activities: createActivities(new Erp(), new PaymentGateway()),
      taskQueue: 'invoices-02',
    });
    await worker.runUntil(async () => {
      const verdicts = await waitFor(
        () => diagnose({ ...running, step: '02' }),
        (vs) => verdictOf(vs, 'worker').status === 'ok',
      );
      expect(verdictOf(verdicts, 'worker').message).toMatch(/^A step 02 worker polls task queue "invoices-02" \(\d+@.+, \d+ s ago\)$/);
      expect(verdicts.filter((v) => v.status === 'fail')).toEqual([]); // exit code 0
    });
    // Another step's queue on the same server has no worker.
    expect(verdictOf(await diagnose({ ...running, step: '03' }), 'worker').status).toBe('fail');
  });

  it('refuses a step that does not exist, listing the steps', async () => {
    await expect(diagnose({ ...running, step: '42' })).rejects.toThrow(/There is no step "42"\. The steps are 01, 02/);
  });
});
