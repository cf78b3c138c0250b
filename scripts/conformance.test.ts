// Proof that `npm run conformance` runs the right scenarios and reads their results right, without
// starting a server: which scenarios apply follows from the capabilities a server declares (and the
// real step servers declare what docs/conformance.md says), a warning passes and a failure fails,
// as the suite itself decides, and step names on the command line resolve.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { describe, expect, it } from 'vitest';
import { createServer as server05 } from '../tutorials/05-mcp-server/server.js';
import { createServer as server06 } from '../tutorials/06-durability-demo/server.js';
import { createServer as server07 } from '../tutorials/07-mcp-native/server.js';
import { createServer as server08 } from '../tutorials/08-versioning/server.js';
import { createServer as server09 } from '../tutorials/09-durable-assistant/server.js';
import { createServer as server10 } from '../tutorials/10-approval-card/server.js';
import { ALWAYS, chooseSteps, judge, selectScenarios, SERVER_STEPS, type Check } from './conformance.js';

const applying = (capabilities: object) =>
  selectScenarios(capabilities)
    .filter((s) => s.applies)
    .map((s) => s.scenario);

describe('selectScenarios', () => {
  it('runs the five protocol scenarios on a server with tools only', () => {
    expect(applying({ tools: {} })).toEqual([...ALWAYS]);
    expect(selectScenarios({ tools: {} }).filter((s) => !s.applies)).toEqual([
      { scenario: 'resources-list', applies: false, reason: 'the server declares no resources capability' },
      { scenario: 'logging-set-level', applies: false, reason: 'the server declares no logging capability' },
    ]);
  });

  it('adds resources-list and logging-set-level where they are declared, even empty', () => {
    expect(applying({ tools: {}, resources: {} })).toEqual([...ALWAYS, 'resources-list']);
    expect(applying({ tools: {}, logging: {} })).toEqual([...ALWAYS, 'logging-set-level']);
  });

  // What each step's server declares when served over HTTP (step 07 passes { connected: false }
  // there), read through an in-memory transport: no process, no Temporal.
  it.each<[string, () => McpServer, string[]]>([
    ['05', server05, []],
    ['06', server06, []],
    ['07', () => server07({ connected: false }), ['resources-list']],
    ['08', server08, []],
    ['09', server09, []],
    ['10', server10, ['resources-list']], // the card's resource, listed once a client says it renders MCP Apps
  ])('step %s over HTTP: the five, plus %j', async (_step, createServer, extra) => {
    const server = createServer();
    const client = new Client({ name: 'conformance-test', version: '1.0.0' });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
    try {
      expect(applying(client.getServerCapabilities() ?? {})).toEqual([...ALWAYS, ...extra]);
    } finally {
      await client.close();
      await server.close();
    }
  });
});

describe('judge', () => {
  const check = (status: string, extra: Partial<Check> = {}): Check => ({ id: `c-${status}`, name: `Check${status}`, status, ...extra });

  it('passes when nothing failed, keeping warnings as notes', () => {
    expect(judge([check('SUCCESS'), check('INFO')])).toEqual({ passed: true, notes: [] });
    expect(judge([check('WARNING', { errorMessage: 'odd' })])).toEqual({ passed: true, notes: ['warning: CheckWARNING: odd'] });
  });

  it('explains the warning a stateless server gets', () => {
    const outcome = judge([check('WARNING', { id: 'server-sse-multiple-streams-session' })]);
    expect(outcome.passed).toBe(true);
    expect(outcome.notes[0]).toMatch(/stateless server/);
  });

  it('fails on any failed check, naming each, and on no checks at all', () => {
    expect(judge([check('SUCCESS'), check('FAILURE', { errorMessage: 'got 200' })])).toEqual({ passed: false, notes: ['CheckFAILURE: got 200'] });
    expect(judge([]).passed).toBe(false);
  });
});

describe('chooseSteps', () => {
  it('takes every server step by default, or the ones named', () => {
    expect(chooseSteps([])).toEqual([...SERVER_STEPS]);
    expect(chooseSteps(['05', '7', '06-durability-demo', 'tutorials/08-versioning'])).toEqual([
      '05-mcp-server',
      '07-mcp-native',
      '06-durability-demo',
      '08-versioning',
    ]);
    expect(chooseSteps(['10', 'tutorials/10-approval-card'])).toEqual(['10-approval-card', '10-approval-card']);
  });

  it('refuses a step without an MCP server', () => {
    expect(() => chooseSteps(['03'])).toThrow(/not a step with an MCP server; choose from 05, 06, 07, 08, 09, 10/);
    expect(() => chooseSteps(['abc'])).toThrow(/"abc"/);
  });
});
