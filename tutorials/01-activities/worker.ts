// The worker: polls the step's task queue and runs its workflows and activities.
// Run it with `npx tsx tutorials/01-activities/worker.ts`; Ctrl-C stops it cleanly.
import { runMain } from '../../shared/log.js';
import { Erp, PaymentGateway, simulationFromEnv } from '../../shared/simulated-systems.js';
import { runWorker } from '../../shared/worker.js';
import { createActivities } from './activities.js';
import { TASK_QUEUE } from './workflows.js';

runMain(async () => {
  // GATEWAY_FAIL_FIRST, GATEWAY_DECLINE_OVER, ERP_FAIL_FIRST, ERP_MAX_TOTAL switch on failures.
  const simulation = simulationFromEnv();
  // #region run-worker
  await runWorker({
    workflowsPath: new URL('./workflows.ts', import.meta.url),
    activities: createActivities(new Erp(simulation), new PaymentGateway(simulation)),
    taskQueue: TASK_QUEUE,
  });
  // #endregion run-worker
});
