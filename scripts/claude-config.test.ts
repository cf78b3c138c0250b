// Tests for `npm run claude-config`: where the config lives, what the entry launches, and that a
// merge never loses what the learner already had in Claude Desktop's config.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../shared/binaries.js';
import {
  buildEntry,
  claudeConfigPath,
  defaultServerEnv,
  EntryConflictError,
  findServerStep,
  listSteps,
  localUserEnv,
  mergeIntoConfigFile,
  mergeServer,
  parseEnvAssignments,
  serverName,
  timestamp,
  type McpServerEntry,
} from './claude-config.js';

const STEP_05_SERVER = path.join(REPO_ROOT, 'tutorials', '05-mcp-server', 'server.ts');

const entry: McpServerEntry = {
  command: '/usr/local/bin/node',
  args: ['/repo/node_modules/tsx/dist/cli.mjs', '/repo/tutorials/05-mcp-server/server.ts'],
  env: { TEMPORAL_ADDRESS: 'localhost:7233', TEMPORAL_NAMESPACE: 'default' },
};

/** A config as a learner may have it: another server and settings of Claude Desktop's own. */
const existingConfig = {
  globalShortcut: 'Ctrl+Space',
  mcpServers: { filesystem: { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/Users/me'] } },
};

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'claude-config-test-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A fresh folder per test, so backups of one test never show up in another. */
async function freshDir(): Promise<string> {
  return mkdtemp(path.join(tmp, 'case-'));
}

async function readJson(file: string): Promise<unknown> {
  return JSON.parse(await readFile(file, 'utf8'));
}

describe('claudeConfigPath', () => {
  it('uses ~/Library/Application Support on macOS', () => {
    expect(claudeConfigPath('darwin', {}, '/Users/me')).toBe('/Users/me/Library/Application Support/Claude/claude_desktop_config.json');
  });

  it('uses %APPDATA% on Windows, falling back to the roaming profile', () => {
    expect(claudeConfigPath('win32', { APPDATA: 'C:\\Users\\me\\AppData\\Roaming' }, 'C:\\Users\\me')).toBe(
      'C:\\Users\\me\\AppData\\Roaming\\Claude\\claude_desktop_config.json',
    );
    expect(claudeConfigPath('win32', {}, 'C:\\Users\\me')).toBe('C:\\Users\\me\\AppData\\Roaming\\Claude\\claude_desktop_config.json');
  });

  it('uses ~/.config on Linux, or an absolute $XDG_CONFIG_HOME', () => {
    expect(claudeConfigPath('linux', {}, '/home/me')).toBe('/home/me/.config/Claude/claude_desktop_config.json');
    expect(claudeConfigPath('linux', { XDG_CONFIG_HOME: '/xdg' }, '/home/me')).toBe('/xdg/Claude/claude_desktop_config.json');
    expect(claudeConfigPath('linux', { XDG_CONFIG_HOME: 'relative' }, '/home/me')).toBe('/home/me/.config/Claude/claude_desktop_config.json');
  });
});

describe('steps', () => {
  it('finds step 05 by 05, 5 or its folder name, and names its server', () => {
    for (const arg of ['05', '5', '05-mcp-server']) expect(findServerStep(arg).serverPath).toBe(STEP_05_SERVER);
    expect(serverName('05')).toBe('invoices-step-05');
  });

  it('refuses an unknown step or one without server.ts, listing the steps that have a server', () => {
    expect(listSteps().find((s) => s.number === '03')?.serverPath).toBeUndefined();
    expect(() => findServerStep('03')).toThrow(/Step 03 \(03-queries\) has no MCP server.*Steps with an MCP server: .*05 \(05-mcp-server\)/);
    expect(() => findServerStep('99')).toThrow(/no step "99".*05 \(05-mcp-server\)/);
    expect(() => findServerStep('latest')).toThrow(/no step "latest"/);
  });
});

describe('buildEntry', () => {
  it('launches server.ts with this node and the repository tsx, all absolute paths that exist', () => {
    const built = buildEntry({ serverPath: STEP_05_SERVER });
    expect(built.command).toBe(process.execPath);
    expect(built.args).toEqual([path.join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), STEP_05_SERVER]);
    for (const p of [built.command, ...built.args]) {
      expect(path.isAbsolute(p)).toBe(true);
      expect(existsSync(p)).toBe(true);
    }
  });

  it('takes TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE from the environment, else the local dev server', () => {
    expect(defaultServerEnv({})).toEqual({ TEMPORAL_ADDRESS: 'localhost:7233', TEMPORAL_NAMESPACE: 'default' });
    expect(defaultServerEnv({ TEMPORAL_ADDRESS: 'temporal.internal:7233', TEMPORAL_NAMESPACE: 'billing' })).toEqual({
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_NAMESPACE: 'billing',
    });
  });

  it('adds and overrides variables from --env KEY=VALUE', () => {
    const env = parseEnvAssignments(['TEMPORAL_ADDRESS=my-ns.a1b2c.tmprl.cloud:7233', 'TEMPORAL_API_KEY=abc==']);
    expect(env).toEqual({ TEMPORAL_ADDRESS: 'my-ns.a1b2c.tmprl.cloud:7233', TEMPORAL_API_KEY: 'abc==' });
    expect(buildEntry({ serverPath: STEP_05_SERVER, env: { ...defaultServerEnv({}), ...env } }).env).toEqual({
      TEMPORAL_ADDRESS: 'my-ns.a1b2c.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_API_KEY: 'abc==',
    });
    expect(() => parseEnvAssignments(['TEMPORAL_ADDRESS'])).toThrow(/is not KEY=VALUE/);
    expect(() => parseEnvAssignments(['=x'])).toThrow(/is not KEY=VALUE/);
    expect(() => parseEnvAssignments(['BAD-NAME=x'])).toThrow(/is not KEY=VALUE/);
  });
});

describe('localUserEnv', () => {
  it('names the local user for a step whose server acts for one (step 11 on), and nothing for the others', () => {
    const step11 = findServerStep('11');
    expect(localUserEnv(step11, {}, 'me')).toEqual({ MCP_LOCAL_USER: 'me', MCP_LOCAL_ROLES: 'approver' });
    expect(localUserEnv(step11, { MCP_LOCAL_USER: 'carol', MCP_LOCAL_ROLES: 'finance-lead' }, 'me')).toEqual({ MCP_LOCAL_USER: 'carol', MCP_LOCAL_ROLES: 'finance-lead' });
    expect(localUserEnv(findServerStep('10'), {}, 'me')).toEqual({});
  });
});

describe('mergeServer', () => {
  it('adds the server and keeps every other server and top-level key, without mutating the input', () => {
    const before = structuredClone(existingConfig);
    const { config, action } = mergeServer(existingConfig, 'invoices-step-05', entry);
    expect(action).toBe('added');
    expect(config).toEqual({ ...existingConfig, mcpServers: { ...existingConfig.mcpServers, 'invoices-step-05': entry } });
    expect(existingConfig).toEqual(before);
  });

  it('creates the config when there is none, and adds mcpServers when it is missing', () => {
    expect(mergeServer(undefined, 'x', entry)).toEqual({ config: { mcpServers: { x: entry } }, action: 'created' });
    expect(mergeServer({ theme: 'dark' }, 'x', entry)).toEqual({ config: { theme: 'dark', mcpServers: { x: entry } }, action: 'added' });
  });

  it('replaces a different entry of the same name only with force', () => {
    const old = { mcpServers: { x: { ...entry, env: {} }, other: { command: 'y' } } };
    expect(() => mergeServer(old, 'x', entry)).toThrow(EntryConflictError);
    expect(() => mergeServer(old, 'x', entry)).toThrow(/--force/);
    expect(mergeServer(old, 'x', entry, { force: true })).toEqual({
      config: { mcpServers: { x: entry, other: { command: 'y' } } },
      action: 'replaced',
    });
    expect(mergeServer({ mcpServers: { x: entry } }, 'x', entry).action).toBe('unchanged');
  });

  it('refuses a config or an mcpServers that is not an object', () => {
    expect(() => mergeServer([], 'x', entry)).toThrow(/holds an array, not a JSON object/);
    expect(() => mergeServer('text', 'x', entry)).toThrow(/holds a string, not a JSON object/);
    expect(() => mergeServer({ mcpServers: [] }, 'x', entry)).toThrow(/"mcpServers" .* is an array, not an object/);
    expect(() => mergeServer({ mcpServers: null }, 'x', entry)).toThrow(/"mcpServers" .* is null, not an object/);
  });
});

describe('mergeIntoConfigFile', () => {
  const now = new Date(2026, 10, 21, 5, 45, 0);

  it('writes a timestamped backup with the original bytes, then the merged config', async () => {
    const dir = await freshDir();
    const file = path.join(dir, 'claude_desktop_config.json');
    const original = `${JSON.stringify(existingConfig, null, 4)}\n`;
    await writeFile(file, original);

    const result = await mergeIntoConfigFile(file, 'invoices-step-05', entry, { now });
    expect(result).toEqual({ action: 'added', backupPath: `${file}.bak-20261121T054500` });
    expect(await readFile(result.backupPath!, 'utf8')).toBe(original);
    expect(await readJson(file)).toEqual({ ...existingConfig, mcpServers: { ...existingConfig.mcpServers, 'invoices-step-05': entry } });
    // No temp file is left behind by the atomic write.
    expect((await readdir(dir)).sort()).toEqual(['claude_desktop_config.json', 'claude_desktop_config.json.bak-20261121T054500']);
  });

  it('refuses a conflicting entry without --force and leaves the file alone; with --force replaces it', async () => {
    const dir = await freshDir();
    const file = path.join(dir, 'claude_desktop_config.json');
    const original = JSON.stringify({ mcpServers: { 'invoices-step-05': { command: 'npx', args: ['tsx', 'old.ts'] } } });
    await writeFile(file, original);

    await expect(mergeIntoConfigFile(file, 'invoices-step-05', entry, { now })).rejects.toThrow(EntryConflictError);
    expect(await readFile(file, 'utf8')).toBe(original);
    expect(await readdir(dir)).toEqual(['claude_desktop_config.json']);

    const result = await mergeIntoConfigFile(file, 'invoices-step-05', entry, { now, force: true });
    expect(result.action).toBe('replaced');
    expect(await readFile(result.backupPath!, 'utf8')).toBe(original);
    expect(await readJson(file)).toEqual({ mcpServers: { 'invoices-step-05': entry } });
  });

  it('refuses a file that is not JSON, or whose mcpServers is not an object, leaving it untouched', async () => {
    const dir = await freshDir();
    for (const [name, text] of [
      ['broken.json', '{ "mcpServers": { "a": {}, } '],
      ['array.json', '{ "mcpServers": ["a"] }'],
    ]) {
      const file = path.join(dir, name);
      await writeFile(file, text);
      await expect(mergeIntoConfigFile(file, 'x', entry, { now })).rejects.toThrow(/left untouched/);
      expect(await readFile(file, 'utf8')).toBe(text);
    }
    expect((await readdir(dir)).sort()).toEqual(['array.json', 'broken.json']);
  });

  it('creates a missing file and its folders; a second run changes nothing and writes no backup', async () => {
    const dir = await freshDir();
    const file = path.join(dir, 'Claude', 'nested', 'claude_desktop_config.json');
    expect(await mergeIntoConfigFile(file, 'x', entry, { now })).toEqual({ action: 'created', backupPath: undefined });
    expect(await readJson(file)).toEqual({ mcpServers: { x: entry } });
    expect(await mergeIntoConfigFile(file, 'x', entry, { now })).toEqual({ action: 'unchanged' });
    expect(await readdir(path.dirname(file))).toEqual(['claude_desktop_config.json']);
  });

  it('reads a file saved with a byte-order mark, and never overwrites an earlier backup', async () => {
    const dir = await freshDir();
    const file = path.join(dir, 'claude_desktop_config.json');
    await writeFile(file, `\uFEFF${JSON.stringify({ mcpServers: {} })}`);
    await writeFile(`${file}.bak-20261121T054500`, 'an earlier backup');
    const result = await mergeIntoConfigFile(file, 'x', entry, { now });
    expect(result.backupPath).toBe(`${file}.bak-20261121T054500-1`);
    expect(await readFile(`${file}.bak-20261121T054500`, 'utf8')).toBe('an earlier backup');
    expect(await readJson(file)).toEqual({ mcpServers: { x: entry } });
  });

  it('stamps backups as YYYYMMDDTHHMMSS', () => {
    expect(timestamp(now)).toBe('20261121T054500');
  });
});

describe('npm run claude-config (end to end)', () => {
  it('merges step 05 into an existing config file, keeping the other server', async () => {
    const dir = await freshDir();
    const file = path.join(dir, 'claude_desktop_config.json');
    await writeFile(file, JSON.stringify(existingConfig));

    const run = spawnSync(
      'npx',
      ['tsx', 'scripts/claude-config.ts', '05', '--merge', '--config', file, '--env', 'TEMPORAL_NAMESPACE=billing'],
      {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        env: { ...process.env, TEMPORAL_ADDRESS: 'temporal.internal:7233', TEMPORAL_NAMESPACE: undefined },
        shell: process.platform === 'win32',
      },
    );
    // stderr may carry npm's own warnings; what matters is no error and a zero exit.
    expect(run.stderr).not.toMatch(/Error/);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`Added the "invoices-step-05" server to ${file}.`);
    expect(run.stdout).toMatch(/quit Claude Desktop completely/);

    const config = (await readJson(file)) as typeof existingConfig & { mcpServers: Record<string, McpServerEntry> };
    expect(config.globalShortcut).toBe(existingConfig.globalShortcut);
    expect(config.mcpServers.filesystem).toEqual(existingConfig.mcpServers.filesystem);
    const added = config.mcpServers['invoices-step-05'];
    expect(added.args[1]).toBe(STEP_05_SERVER);
    expect(existsSync(added.command)).toBe(true);
    expect(existsSync(added.args[0])).toBe(true);
    expect(added.env).toEqual({ TEMPORAL_ADDRESS: 'temporal.internal:7233', TEMPORAL_NAMESPACE: 'billing' });
    expect((await readdir(dir)).filter((f) => f.includes('.bak-'))).toHaveLength(1);
  });
});

describe('the example claude_desktop_config.json of each step', () => {
  const steps = listSteps().filter((s) => s.serverPath && existsSync(path.join(s.dir, 'claude_desktop_config.json')));

  it('exists for step 05', () => {
    expect(steps.map((s) => s.number)).toContain('05');
  });

  // Exactly what the script generates, with placeholders for this machine's paths: so the
  // example a reader copies cannot drift from the script.
  it.each(steps)('matches what the script generates for step $number', async (step) => {
    const example = await readJson(path.join(step.dir, 'claude_desktop_config.json'));
    const placeholderRepo = '/ABSOLUTE/PATH/TO/REPO';
    const generated = {
      mcpServers: {
        [serverName(step.number)]: buildEntry({
          repoRoot: placeholderRepo,
          nodePath: '/ABSOLUTE/PATH/TO/node',
          serverPath: path.join(placeholderRepo, 'tutorials', step.folder, 'server.ts'),
          env: { ...defaultServerEnv({}), ...localUserEnv(step, {}, 'YOUR-LOGIN') },
        }),
      },
    };
    // path.join writes backslashes on Windows; the example uses forward slashes.
    expect(example).toEqual(JSON.parse(JSON.stringify(generated).replace(/\\\\/g, '/')));
  });
});
