/// <reference lib="dom" />
// The test host's page: the smallest host of MCP Apps, built from ext-apps' own AppBridge and
// PostMessageTransport, as Claude or VS Code build theirs. It puts a card in a sandboxed iframe,
// hands it the tool result, and passes the card's tool calls to Node (window.hostCallTool, which
// index.ts exposes), where a real MCP client calls the step's server.
import { AppBridge, PostMessageTransport } from '@modelcontextprotocol/ext-apps/app-bridge';
import type { CallToolRequest, CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/** What index.ts asks the page to show. */
export interface CardToShow {
  id: string;
  html: string;
  toolName: string;
  toolInput: Record<string, unknown>;
  toolResult: CallToolResult;
  theme: 'light' | 'dark';
}

declare global {
  interface Window {
    hostCallTool(params: CallToolRequest['params']): Promise<CallToolResult>;
    showCard(card: CardToShow): Promise<void>;
  }
}

const STYLES = {
  light: { '--color-background-primary': '#ffffff', '--color-text-primary': '#1f1f1f' },
  dark: { '--color-background-primary': '#1f1f1e', '--color-text-primary': '#ececec' },
};

window.showCard = async (card) => {
  document.body.style.background = card.theme === 'dark' ? '#141413' : '#f5f5f0';
  const iframe = document.createElement('iframe');
  iframe.id = card.id;
  // Scripts, and nothing else: no same-origin access to this page, no forms, no popups.
  iframe.sandbox.add('allow-scripts');
  iframe.style.cssText = 'width: 560px; height: 360px; border: 1px solid #8884; border-radius: 8px; display: block; margin: 12px;';
  iframe.srcdoc = card.html;
  document.body.append(iframe);

  const bridge = new AppBridge(null, { name: 'invoice-test-host', version: '1.0.0' }, { serverTools: {}, logging: {} }, {
    hostContext: { theme: card.theme, styles: { variables: STYLES[card.theme] as never }, locale: 'en-US', timeZone: 'UTC', displayMode: 'inline', platform: 'web' },
  });
  // The card says how tall it is (App's autoResize); a host sizes the frame to it.
  bridge.onsizechange = ({ height }) => {
    if (height) iframe.style.height = `${height}px`;
  };
  // The card's calls go to the server through Node; the host decides nothing itself.
  bridge.oncalltool = (params) => window.hostCallTool(params);
  const initialized = new Promise<void>((resolve) => (bridge.oninitialized = () => resolve()));
  await bridge.connect(new PostMessageTransport(iframe.contentWindow!, iframe.contentWindow!));
  await initialized;
  await bridge.sendToolInput({ arguments: card.toolInput });
  await bridge.sendToolResult(card.toolResult);
};
