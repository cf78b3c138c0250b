// Resource subscriptions: the invoice as the resource invoice://{id}, read as JSON. A subscribed
// client gets notifications/resources/updated each time the invoice changes state, and reads the
// resource again to see the new state. A later notification needs a connection to travel on, so
// subscriptions are offered on stdio only here.
import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, SubscribeRequestSchema, UnsubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { JsonRpcError, link, readInvoice, WAIT_POLL_MS } from './invoices.js';
import type { ServeMode } from './server.js';
import type { InvoiceState } from './workflows.js';

/** Registers the resource invoice://{id} on the server and, on a connection that lasts, its subscriptions. */
export function registerInvoiceResource(server: McpServer, mode: ServeMode): void {
  server.registerResource(
    'invoice',
    new ResourceTemplate('invoice://{id}', { list: undefined }),
    { title: 'An invoice and where it stands', description: 'The status of invoice {id}, as get_invoice_status returns it.', mimeType: 'application/json' },
    async (uri, { id }) => {
      const invoiceId = String(id);
      const status = await readInvoice(invoiceId);
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ ...status, webUiUrl: link(invoiceId) }, null, 2) }] };
    },
  );
  if (mode.connected) watchSubscriptions(server);
}

// #region subscriptions
/**
 * SDK v1's McpServer has no handler for resources/subscribe, so we add one. Each subscribed
 * invoice is watched (a query every half second) until it finishes, the client unsubscribes or
 * the connection closes; each change of state sends notifications/resources/updated.
 */
function watchSubscriptions(server: McpServer): void {
  const watching = new Map<string, AbortController>();
  server.server.setRequestHandler(SubscribeRequestSchema, async ({ params: { uri } }) => {
    const invoiceId = invoiceIdOfUri(uri);
    if (!watching.has(uri)) {
      const initial = await readInvoice(invoiceId); // fails readably for an unknown invoice
      const stop = new AbortController();
      watching.set(uri, stop);
      void watch(uri, invoiceId, initial.state, stop.signal).finally(() => watching.delete(uri));
    }
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, async ({ params: { uri } }) => {
    watching.get(uri)?.abort();
    watching.delete(uri);
    return {};
  });
  server.server.onclose = () => {
    for (const stop of watching.values()) stop.abort();
  };

  async function watch(uri: string, invoiceId: string, state: InvoiceState, signal: AbortSignal) {
    let running = true;
    while (running && !signal.aborted) {
      await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
      const status = await readInvoice(invoiceId).catch(() => undefined); // Temporal or the worker away: try again
      if (!status || signal.aborted) continue;
      running = status.executionStatus === 'RUNNING';
      if (status.state !== state) {
        state = status.state;
        await server.server.sendResourceUpdated({ uri }).catch(() => {});
      }
    }
  }
}
// #endregion subscriptions

function invoiceIdOfUri(uri: string): string {
  const invoiceId = /^invoice:\/\/([^/?#]{1,64})$/.exec(uri)?.[1];
  if (!invoiceId) throw new JsonRpcError(ErrorCode.InvalidParams, `Cannot subscribe to "${uri}": this server's resources are invoice://<invoice id>, e.g. invoice://INV-1001.`);
  return decodeURIComponent(invoiceId);
}
