// The worker: polls the step's task queue and runs its workflows and activities.
// Run it with `npx tsx tutorials/06-durability-demo/worker.ts`; Ctrl-C stops it cleanly, and
// `kill -9` stops it the hard way, which is the point of this step.
//
//   LEDGER_FILE        where the gateway's ledger lives (default .temporal/ledger-06.jsonl)
//   PAYMENT_DELAY_MS   how long one charge takes (default 2000): a window to crash into
import { join } from 'node:path';
import { REPO_ROOT } from '../../shared/binaries.js';
import { runMain } from '../../shared/log.js';
import { Erp, simulationFromEnv } from '../../shared/simulated-systems.js';
import { runWorker } from '../../shared/worker.js';
import { createActivities } from './activities.js';
import { LedgerGateway } from './ledger.js';
import { TASK_QUEUE } from './workflows.js';

/** The ledger every worker of this step shares, unless LEDGER_FILE says otherwise. */
export const DEFAULT_LEDGER_FILE = join(REPO_ROOT, '.temporal', 'ledger-06.jsonl');

runMain(async () => {
  const delayMs = Number(process.env.PAYMENT_DELAY_MS ?? 2000);
  if (!Number.isFinite(delayMs) || delayMs < 0) throw new Error(`PAYMENT_DELAY_MS must be a number of 0 or more, not "${process.env.PAYMENT_DELAY_MS}".`);
  const gateway = new LedgerGateway(process.env.LEDGER_FILE ?? DEFAULT_LEDGER_FILE, delayMs);
  // #region run-worker
  await runWorker({
    workflowsPath: new URL('./workflows.ts', import.meta.url),
    activities: createActivities(new Erp(simulationFromEnv()), gateway),
    taskQueue: TASK_QUEUE,
  });
  // #endregion run-worker
});
