// The worker: polls the step's task queue and runs its workflows and activities.
// Run it with `npx tsx tutorials/03-queries/worker.ts`; Ctrl-C stops it cleanly.
import { fileURLToPath } from 'node:url';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection, Worker } from '@temporalio/worker';
import { log, runMain } from '../../shared/log.js';
import { Erp, PaymentGateway, simulationFromEnv } from '../../shared/simulated-systems.js';
import { createActivities } from './activities.js';
import { TASK_QUEUE } from './workflows.js';

runMain(async () => {
  // Failures on demand: --gateway-fail-first 3, --gateway-decline-over 100, --erp-fail-first 2,
  // --erp-max-total 100 (or the variables GATEWAY_FAIL_FIRST, ... of the same names).
  const simulation = simulationFromEnv();
  // #region run-worker
  // Where Temporal is: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY or a profile in the
  // Temporal config file; with nothing set, the local dev server on localhost:7233.
  const config = loadClientConnectConfig();
  const connection = await NativeConnection.connect(config.connectionOptions);
  try {
    const worker = await Worker.create({
      connection,
      namespace: config.namespace,
      taskQueue: TASK_QUEUE,
      workflowsPath: fileURLToPath(new URL('./workflows.ts', import.meta.url)), // bundled for the workflow sandbox
      activities: createActivities(new Erp(simulation), new PaymentGateway(simulation)),
    });
    log('worker', `polling task queue "${TASK_QUEUE}"; Ctrl-C to stop`);
    await worker.run(); // until Ctrl-C or SIGTERM: then it finishes the tasks in hand and returns
  } finally {
    await connection.close();
  }
  // #endregion run-worker
});
