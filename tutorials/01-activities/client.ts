// The client: starts one invoice workflow and waits for its result.
//   npx tsx tutorials/01-activities/client.ts [--id INV-1001] [--file invoice.json]
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { alreadyProcessed, invoiceFromOptions } from '../../shared/cli.js';
import { workflowUrl } from '../../shared/config.js';
import { invoiceWorkflowId } from '../../shared/invoice.js';
import { runMain } from '../../shared/log.js';
import { InvoiceWorkflow, TASK_QUEUE } from './workflows.js';

const { values } = parseArgs({ options: { id: { type: 'string' }, file: { type: 'string' } } });

runMain(async () => {
  const invoice = await invoiceFromOptions(values);
  // #region connect
  // The same settings as the worker: environment variables or a Temporal config profile.
  const config = loadClientConnectConfig();
  const connection = await Connection.connect(config.connectionOptions);
  const client = new Client({ connection, namespace: config.namespace });
  // #endregion connect
  try {
    // #region start-and-wait
    const workflowId = invoiceWorkflowId(invoice.id);
    const handle = await client.workflow
      .start(InvoiceWorkflow, {
        taskQueue: TASK_QUEUE,
        workflowId,
        args: [invoice],
        // An invoice id is processed once, ever: running this again with the same --id is refused,
        // so a finished invoice is never paid a second time.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      })
      .catch(alreadyProcessed(invoice.id));
    console.log(`Started ${workflowId} with ${invoice.lines.length} lines. Watch it: ${workflowUrl(workflowId)}`);

    // Waits as long as it takes: if the gateway is down, Temporal keeps retrying meanwhile.
    const result = await handle.result();
    for (const p of result.payments) console.log(`  paid line ${p.lineIndex} ${p.item}: ${p.amount.toFixed(2)} (${p.chargeId})`);
    console.log(`Invoice ${result.invoiceId} paid: ${result.amountPaid.toFixed(2)} in ${result.payments.length} payments.`);
    // #endregion start-and-wait
  } finally {
    await connection.close();
  }
});
