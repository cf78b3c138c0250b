// The test host, Node side: a headless Chromium page running host.ts (bundled here by esbuild),
// and a real MCP client, connected to the step's server, that announces MCP Apps support the way
// a host does. The test and `npm run docs:screenshots` use it; nothing here is the lesson.
import { fileURLToPath } from 'node:url';
import { isToolVisibilityAppOnly } from '@modelcontextprotocol/ext-apps/app-bridge';
import { EXTENSION_ID, RESOURCE_MIME_TYPE } from '@modelcontextprotocol/ext-apps/server';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { build } from 'esbuild';
import type { Browser, FrameLocator, Page } from 'playwright-core';
import type { CardToShow } from './host.js';

/** A client's capabilities, as a host that renders MCP Apps announces them in `initialize`. */
export const APPS_CAPABILITIES = { extensions: { [EXTENSION_ID]: { mimeTypes: [RESOURCE_MIME_TYPE] } } };

/** Connects an MCP client to `server` in this process; with `apps`, it announces MCP Apps support. */
export async function connectClient(server: McpServer, apps: boolean): Promise<Client> {
  const client = new Client({ name: apps ? 'invoice-test-host' : 'plain-client', version: '1.0.0' }, { capabilities: apps ? (APPS_CAPABILITIES as never) : {} });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  await client.connect(clientSide);
  return client;
}

/** The host page with its cards, and what the host saw. */
export interface TestHost {
  page: Page;
  /** Every tool the server lists, with its _meta. */
  allTools(): Promise<Tool[]>;
  /** What the host hands the model: the server's tools minus the app-only ones. */
  modelTools(): Promise<Tool[]>;
  /** Calls `tool` as the model would, and shows its card (the tool's ui:// resource) in an iframe. */
  showCard(tool: string, args: Record<string, unknown>, theme?: 'light' | 'dark'): Promise<FrameLocator>;
  /** The card_* tools the cards called, in order. */
  readonly appCalls: string[];
  /** From now on the cards' reads wait, as on a slow network, leaving them stale; resolves once no read is under way. */
  holdReads(): Promise<void>;
  /** Lets the cards' reads through again. */
  releaseReads(): void;
  /** Console errors of the page and its cards (a CSP violation shows up here). */
  readonly consoleErrors: string[];
}

let hostScript: Promise<string> | undefined;

/** Opens the host page in `browser`, with `client` (see {@link connectClient}) as its MCP connection. */
export async function openTestHost(browser: Browser, client: Client): Promise<TestHost> {
  hostScript ??= build({
    entryPoints: [fileURLToPath(new URL('./host.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'silent',
  }).then((r) => r.outputFiles[0].text);
  const context = await browser.newContext({ viewport: { width: 600, height: 520 }, timezoneId: 'UTC', locale: 'en-US' });
  // Nothing leaves the machine: a card that asked for a CDN or a font would fail, and show up here.
  await context.route('**/*', (route) => (route.request().url().startsWith('http') ? route.abort() : route.continue()));
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => consoleErrors.push(e.message));

  let tools: Tool[] | undefined;
  const allTools = async () => (tools ??= (await client.listTools()).tools);
  let cards = 0;
  let holding = false;
  let readsUnderWay = 0;
  const host: TestHost = {
    page,
    allTools,
    modelTools: async () => (await allTools()).filter((t) => !isToolVisibilityAppOnly(t)),
    appCalls: [],
    async holdReads() {
      holding = true;
      while (readsUnderWay > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    },
    releaseReads: () => (holding = false),
    consoleErrors,
    async showCard(tool, args, theme = 'light') {
      const toolResult = (await client.callTool({ name: tool, arguments: args })) as CallToolResult;
      const uri = ((await allTools()).find((t) => t.name === tool)?._meta?.ui as { resourceUri?: string } | undefined)?.resourceUri;
      if (!uri) throw new Error(`${tool} has no ui:// resource to show`);
      const content = (await client.readResource({ uri })).contents[0];
      if (content.mimeType !== RESOURCE_MIME_TYPE || !('text' in content)) throw new Error(`${uri} is not an MCP App (${content.mimeType})`);
      const csp = (content._meta?.ui as { csp?: Csp } | undefined)?.csp ?? {};
      const card: CardToShow = { id: `card-${++cards}`, html: withCsp(content.text, csp), toolName: tool, toolInput: args, toolResult, theme };
      await page.evaluate((c) => window.showCard(c), card);
      return page.frameLocator(`#${card.id}`);
    },
  };

  // The card's tool calls: only tools the app may call (a model-only tool is refused, as hosts do).
  await page.exposeFunction('hostCallTool', async (params: { name: string; arguments?: Record<string, unknown> }) => {
    const tool = (await allTools()).find((t) => t.name === params.name);
    const visibility = (tool?._meta?.ui as { visibility?: string[] } | undefined)?.visibility;
    if (!tool || (visibility && !visibility.includes('app'))) return { isError: true, content: [{ type: 'text', text: `The card may not call ${params.name}.` }] };
    host.appCalls.push(params.name);
    if (params.name !== 'card_get_invoice') return client.callTool(params);
    while (holding) await new Promise((resolve) => setTimeout(resolve, 100));
    readsUnderWay++;
    try {
      return await client.callTool(params);
    } finally {
      readsUnderWay--;
    }
  });
  await page.setContent(`<!doctype html><html><body style="margin:0"><script>${await hostScript}</script></body></html>`);
  return host;
}

interface Csp {
  connectDomains?: string[];
  resourceDomains?: string[];
  frameDomains?: string[];
  baseUriDomains?: string[];
}

/**
 * The Content-Security-Policy a host builds from the resource's `_meta.ui.csp`, put into the card
 * as a meta tag. Empty lists give the strictest: inline script and style only, no eval, no network.
 */
export function withCsp(html: string, csp: Csp): string {
  const list = (domains: string[] | undefined, none = "'none'") => (domains?.length ? domains.join(' ') : none);
  const resources = csp.resourceDomains ?? [];
  const policy = [
    "default-src 'none'",
    `script-src 'unsafe-inline' ${resources.join(' ')}`.trim(),
    `style-src 'unsafe-inline' ${resources.join(' ')}`.trim(),
    `img-src data: ${resources.join(' ')}`.trim(),
    `font-src data: ${resources.join(' ')}`.trim(),
    `connect-src ${list(csp.connectDomains)}`,
    `frame-src ${list(csp.frameDomains)}`,
    `base-uri ${list(csp.baseUriDomains)}`,
    "form-action 'none'",
  ].join('; ');
  return html.replace(/<head>/i, `<head><meta http-equiv="Content-Security-Policy" content="${policy}">`);
}
