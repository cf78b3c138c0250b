// A bounded wait with progress: wait_for_invoice. Hosts give a tool call about 60 s, so it waits
// at most 50 s, returns as soon as the invoice changes state, and meanwhile sends progress
// notifications: a client that resets its timeout on progress never times out, however short its
// own timeout. The wait itself is only a view: the invoice waits in Temporal, for days if need be.
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { convertOnce, invoiceIdParam, link, readInvoice, reply, stateSchema, statusShape, WAIT_POLL_MS } from './invoices.js';

/** wait_for_invoice waits at most this long: hosts give a tool call about 60 s. */
const MAX_WAIT_S = 50;
/** How often a wait reports progress. */
const PROGRESS_EVERY_MS = 1_000;

const waitInput = convertOnce(
  z.object({
    invoice_id: invoiceIdParam,
    timeout_seconds: z.number().int().min(1).max(MAX_WAIT_S).default(MAX_WAIT_S).describe(`How long to wait at most, 1-${MAX_WAIT_S} s.`),
  }),
);
const waitOutput = convertOnce(z.object({ ...statusShape, changed: z.boolean(), waitedInState: stateSchema, waitedMs: z.number() }));

/** Registers wait_for_invoice on the server. */
export function registerBoundedWait(server: McpServer): void {
  server.registerTool(
    'wait_for_invoice',
    {
      title: 'Wait until an invoice changes state',
      description:
        `Waits until the invoice leaves its current state, or at most timeout_seconds (default and maximum ${MAX_WAIT_S}), ` +
        'sending progress notifications while it waits. Returns the status, whether it changed, and the state it ' +
        'waited in. A finished invoice returns at once. Call it again to keep waiting.',
      inputSchema: waitInput,
      outputSchema: waitOutput,
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    async ({ invoice_id, timeout_seconds }, ctx) => {
      // #region wait-loop
      const started = Date.now();
      const deadline = started + timeout_seconds * 1000;
      const first = await readInvoice(invoice_id);
      const progressToken = ctx.mcpReq._meta?.progressToken;
      let status = first;
      let lastProgress = started;
      while (status.executionStatus === 'RUNNING' && status.state === first.state && Date.now() < deadline && !ctx.mcpReq.signal.aborted) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(WAIT_POLL_MS, deadline - Date.now())));
        status = await readInvoice(invoice_id);
        if (progressToken !== undefined && Date.now() - lastProgress >= PROGRESS_EVERY_MS) {
          lastProgress = Date.now();
          await ctx.mcpReq.notify({
            method: 'notifications/progress',
            params: {
              progressToken,
              progress: Math.round((lastProgress - started) / 1000),
              total: timeout_seconds,
              message: `Invoice ${invoice_id} is still ${status.state}.`,
            },
          });
        }
      }
      return reply({ ...status, webUiUrl: link(invoice_id), changed: status.state !== first.state, waitedInState: first.state, waitedMs: Date.now() - started });
      // #endregion wait-loop
    },
  );
}
