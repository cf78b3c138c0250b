// The worker: polls the step's task queue and runs its workflows and activities.
// Run it with `npx tsx tutorials/12-mcp-2026/worker.ts`; Ctrl-C stops it cleanly, and
// `npm run stop-worker -- 12 --hard` (a SIGKILL) stops it the hard way, as in step 06.
//
//   --ledger-file F         where the gateway's ledger lives (default .temporal/ledger-12.jsonl);
//                           or LEDGER_FILE=F in the environment
//   --payment-delay-ms N    how long one charge takes (default 2000): a window to crash into;
//                           or PAYMENT_DELAY_MS=N
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection, Worker } from '@temporalio/worker';
import { REPO_ROOT } from '../../shared/binaries.js';
import { log, runMain } from '../../shared/log.js';
import { Erp, simulationFromEnv } from '../../shared/simulated-systems.js';
import { workflowBundle } from '../../shared/worker.js';
import { createActivities } from './activities.js';
import { LedgerGateway } from './ledger.js';
import { TASK_QUEUE } from './workflows.js';

/** The ledger every worker of this step shares, unless LEDGER_FILE says otherwise. */
const DEFAULT_LEDGER_FILE = join(REPO_ROOT, '.temporal', 'ledger-12.jsonl');

runMain(async () => {
  // Flags work in every shell; the variables still work too. strict: false leaves the simulated
  // systems' switches (--gateway-fail-first ...) to simulationFromEnv.
  const { values } = parseArgs({ strict: false, allowPositionals: true, options: { 'ledger-file': { type: 'string' }, 'payment-delay-ms': { type: 'string' } } });
  const delayArg = values['payment-delay-ms'] ?? process.env.PAYMENT_DELAY_MS ?? '2000';
  const delayMs = typeof delayArg === 'string' && delayArg.trim() !== '' ? Number(delayArg) : NaN;
  if (!(delayMs >= 0)) throw new Error(`--payment-delay-ms (or PAYMENT_DELAY_MS) must be a number of 0 or more, not "${delayArg === true ? '' : delayArg}"; for example --payment-delay-ms 2000.`);
  const ledgerFile = values['ledger-file'] ?? process.env.LEDGER_FILE ?? DEFAULT_LEDGER_FILE;
  if (typeof ledgerFile !== 'string') throw new Error('--ledger-file needs a file name after it, for example --ledger-file .temporal/my-ledger.jsonl.');
  // Step 06: a gateway that keeps its charges in a file, so workers in other processes share it.
  const gateway = new LedgerGateway(ledgerFile, delayMs);
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
      // A worker keeps the workflows it ran in memory, and their next tasks go to it first. When it is
      // killed, Temporal waits this long for it before handing them to another worker: 10 s by
      // default, 1 s here, so a crash costs a learner seconds. (A task its worker is too busy to pick
      // up within 1 s is merely handed on: any worker replays the history and carries on.)
      stickyQueueScheduleToStartTimeout: '1 second',
      // As in step 06: workers get killed and restarted, and bundling the workflow code at each start costs
      // seconds before the first poll. So it is bundled once per version of the code
      // (bundleWorkflowCode, kept in .temporal/bundles/ by shared/worker.ts): a restart loads it.
      workflowBundle: await workflowBundle(new URL('./workflows.ts', import.meta.url)),
      activities: createActivities(new Erp(simulationFromEnv()), gateway),
    });
    log('worker', `polling task queue "${TASK_QUEUE}"; Ctrl-C to stop`);
    await worker.run(); // until Ctrl-C or SIGTERM: then it finishes the tasks in hand and returns
  } finally {
    await connection.close();
  }
  // #endregion run-worker
});
