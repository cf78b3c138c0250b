// The client: starts invoices and sends the human decision.
//   npx tsx tutorials/04-durable-timers/client.ts start [--id INV-1001] [--file invoice.json] [--approval-timeout "2 minutes"]
//   npx tsx tutorials/04-durable-timers/client.ts approve INV-1001 [--by alice]
//   npx tsx tutorials/04-durable-timers/client.ts reject INV-1001 --reason "duplicate invoice" [--by bob]
//   npx tsx tutorials/04-durable-timers/client.ts status INV-1001
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { alreadyProcessed, invoiceFromOptions, parseDuration } from '../../shared/cli.js';
import { workflowUrl } from '../../shared/config.js';
import { askWorker } from '../../shared/connection.js';
import { invoiceWorkflowId } from '../../shared/invoice.js';
import { runMain } from '../../shared/log.js';
import {
  approveInvoice,
  DEFAULT_APPROVAL_TIMEOUT,
  getInvoiceStatus,
  InvoiceWorkflow,
  rejectInvoice,
  TASK_QUEUE,
  type InvoiceStatus,
} from './workflows.js';

const USAGE = 'usage: client.ts start [--id ID] [--file FILE] [--approval-timeout DURATION] | approve ID [--by NAME] | reject ID --reason TEXT [--by NAME] | status ID';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    id: { type: 'string' },
    file: { type: 'string' },
    'approval-timeout': { type: 'string', default: DEFAULT_APPROVAL_TIMEOUT },
    by: { type: 'string', default: userInfo().username },
    reason: { type: 'string' },
  },
});
const [command, invoiceId] = positionals;

runMain(async () => {
  if (command !== 'start' && !invoiceId) throw new Error(`Which invoice? ${USAGE}`);
  // #region connect
  // The same settings as the worker: environment variables or a Temporal config profile.
  const config = loadClientConnectConfig();
  const connection = await Connection.connect(config.connectionOptions);
  const client = new Client({ connection, namespace: config.namespace });
  // #endregion connect
  try {
    switch (command) {
      case 'start': {
        const invoice = await invoiceFromOptions(values);
        const workflowId = invoiceWorkflowId(invoice.id);
        // #region start-with-timeout
        const approvalTimeout = parseDuration(values['approval-timeout'], '--approval-timeout');
        await client.workflow
          .start(InvoiceWorkflow, {
            taskQueue: TASK_QUEUE,
            workflowId,
            args: [invoice, { approvalTimeout }],
            // An invoice id is processed once, ever: running this again with the same --id is refused,
            // so a finished invoice is never paid a second time.
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
          })
          .catch(alreadyProcessed(invoice.id));
        // #endregion start-with-timeout
        console.log(`Started ${workflowId}; it waits ${values['approval-timeout']} for a decision. Watch it: ${workflowUrl(workflowId)}`);
        console.log(`Next: npx tsx tutorials/04-durable-timers/client.ts approve ${invoice.id}   (or reject ${invoice.id} --reason "...")`);
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
        // The signal is in the workflow's history now: Ctrl-C below stops the wait, not the decision.
        // The outcome needs a worker to run the workflow on, so say which one we are waiting for.
        console.log(`Sent ${command} for ${invoiceId} as ${values.by}.`);
        console.log(`Waiting for the outcome from a worker on task queue "${TASK_QUEUE}" (Ctrl-C stops waiting; the decision is kept) ...`);
        printResult(await handle.result());
        break;
      }
      // #endregion send-signal
      // #region query-status
      case 'status': {
        // A query reads the live state; it works while the invoice waits and after it ends. A worker
        // answers it, so with none polling askWorker says at once which one to start (and gives a
        // worker that is listed but silent 8 s).
        const handle = client.workflow.getHandle<typeof InvoiceWorkflow>(invoiceWorkflowId(invoiceId));
        const status = await askWorker(client, { taskQueue: TASK_QUEUE, workerScript: 'tutorials/04-durable-timers/worker.ts' }, () =>
          handle.query(getInvoiceStatus),
        );
        console.log(JSON.stringify(status, null, 2));
        break;
      }
      // #endregion query-status
      default:
        throw new Error(`Unknown command "${command ?? ''}". ${USAGE}`);
    }
  } finally {
    await connection.close();
  }
});

function printResult(result: InvoiceStatus): void {
  if (result.state === 'TIMED_OUT') {
    console.log(`Invoice ${result.invoiceId} TIMED_OUT: nobody decided by ${result.approvalDeadline}. Nothing was paid.`);
    return;
  }
  if (result.decision && !result.decision.approved) {
    console.log(`Invoice ${result.invoiceId} REJECTED by ${result.decision.by}: ${result.decision.reason}. Nothing was paid.`);
    return;
  }
  for (const p of result.payments) console.log(`  paid line ${p.lineIndex} ${p.item}: ${p.amount.toFixed(2)} (${p.chargeId})`);
  console.log(`Invoice ${result.invoiceId} PAID (approved by ${result.decision?.by}): ${result.amountPaid.toFixed(2)}.`);
}
