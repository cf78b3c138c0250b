// The client: starts invoices and sends the human decision.
//   npx tsx tutorials/02-signals/client.ts start [--id INV-1001] [--file invoice.json]
//   npx tsx tutorials/02-signals/client.ts approve INV-1001 [--by alice]
//   npx tsx tutorials/02-signals/client.ts reject INV-1001 --reason "duplicate invoice" [--by bob]
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { invoiceFromOptions } from '../../shared/cli.js';
import { workflowUrl } from '../../shared/config.js';
import { connectClient } from '../../shared/connection.js';
import { invoiceWorkflowId } from '../../shared/invoice.js';
import { runMain } from '../../shared/log.js';
import { approveInvoice, InvoiceWorkflow, rejectInvoice, TASK_QUEUE, type InvoiceResult } from './workflows.js';

const USAGE = 'usage: client.ts start [--id ID] [--file FILE] | approve ID [--by NAME] | reject ID --reason TEXT [--by NAME]';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    id: { type: 'string' },
    file: { type: 'string' },
    by: { type: 'string', default: userInfo().username },
    reason: { type: 'string' },
  },
});
const [command, invoiceId] = positionals;

runMain(async () => {
  if (command !== 'start' && !invoiceId) throw new Error(`Which invoice? ${USAGE}`);
  const { client, settings, close } = await connectClient();
  try {
    switch (command) {
      case 'start': {
        const invoice = await invoiceFromOptions(values);
        const workflowId = invoiceWorkflowId(invoice.id);
        await client.workflow.start(InvoiceWorkflow, { taskQueue: TASK_QUEUE, workflowId, args: [invoice] });
        console.log(`Started ${workflowId}; it now waits for a decision. Watch it: ${workflowUrl(settings, workflowId)}`);
        console.log(`Next: npx tsx tutorials/02-signals/client.ts approve ${invoice.id}   (or reject ${invoice.id} --reason "...")`);
        break;
      }
      // #region send-signal
      case 'approve':
      case 'reject': {
        const handle = client.workflow.getHandle<typeof InvoiceWorkflow>(invoiceWorkflowId(invoiceId));
        if (command === 'approve') await handle.signal(approveInvoice, { by: values.by });
        else {
          if (!values.reason) throw new Error('A rejection needs a reason: --reason "why"');
          await handle.signal(rejectInvoice, { by: values.by, reason: values.reason });
        }
        console.log(`Sent ${command} for ${invoiceId} as ${values.by}; waiting for the outcome ...`);
        printResult(await handle.result());
        break;
      }
      // #endregion send-signal
      default:
        throw new Error(`Unknown command "${command ?? ''}". ${USAGE}`);
    }
  } finally {
    await close();
  }
});

function printResult(result: InvoiceResult): void {
  if (result.state === 'REJECTED' && !result.decision.approved) {
    console.log(`Invoice ${result.invoiceId} REJECTED by ${result.decision.by}: ${result.decision.reason}. Nothing was paid.`);
    return;
  }
  for (const p of result.payments) console.log(`  paid line ${p.lineIndex} ${p.item}: ${p.amount.toFixed(2)} (${p.chargeId})`);
  console.log(`Invoice ${result.invoiceId} PAID (approved by ${result.decision.by}): ${result.amountPaid.toFixed(2)}.`);
}
