// The worker: polls the step's task queue and runs its workflows and activities.
// Run it with `npx tsx tutorials/11-oauth-identity/worker.ts`; Ctrl-C stops it cleanly. Step 08:
// replacing this worker with one running changed workflow code is a deploy; the invoices it left
// waiting are picked up by the new one, which must replay their histories exactly.
//
//   --workflows FILE                            which code to run: workflows.ts (step 10 ships 08's final code only)
//   --ledger-file F      (or LEDGER_FILE)        where the gateway's ledger lives (default .temporal/ledger-11.jsonl)
//   --payment-delay-ms N (or PAYMENT_DELAY_MS)   how long one charge takes (default 2000)
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection, Worker } from '@temporalio/worker';
import { REPO_ROOT } from '../../shared/binaries.js';
import { log, runMain } from '../../shared/log.js';
import { Erp, simulationFromEnv } from '../../shared/simulated-systems.js';
import { workflowBundle } from '../../shared/worker.js';
import { createActivities, Outbox } from './activities.js';
import { LedgerGateway } from './ledger.js';
import { TASK_QUEUE } from './workflows.js';

/** The ledger every worker of this step shares, unless LEDGER_FILE says otherwise. */
const DEFAULT_LEDGER_FILE = join(REPO_ROOT, '.temporal', 'ledger-11.jsonl');

/** The versions of the workflow code a worker can run; workflows.ts is the one that ships. */
const WORKFLOW_FILES = ['workflows.ts'];

runMain(async () => {
  // Flags work in every shell; the variables still work too. strict: false leaves the simulated
  // systems' switches (--gateway-fail-first ...) to simulationFromEnv.
  const { values } = parseArgs({
    strict: false,
    allowPositionals: true,
    options: { 'ledger-file': { type: 'string' }, 'payment-delay-ms': { type: 'string' }, workflows: { type: 'string' } },
  });
  const delayArg = values['payment-delay-ms'] ?? process.env.PAYMENT_DELAY_MS ?? '2000';
  const delayMs = typeof delayArg === 'string' && delayArg.trim() !== '' ? Number(delayArg) : NaN;
  if (!(delayMs >= 0)) throw new Error(`--payment-delay-ms (or PAYMENT_DELAY_MS) must be a number of 0 or more, not "${delayArg === true ? '' : delayArg}"; for example --payment-delay-ms 2000.`);
  const ledgerFile = values['ledger-file'] ?? process.env.LEDGER_FILE ?? DEFAULT_LEDGER_FILE;
  if (typeof ledgerFile !== 'string') throw new Error('--ledger-file needs a file name after it, for example --ledger-file .temporal/my-ledger.jsonl.');
  // Step 08: --workflows workflows-v1.ts runs the code from before the change, to play the deploy by hand.
  const workflowsFile = values.workflows ?? 'workflows.ts';
  if (typeof workflowsFile !== 'string' || !WORKFLOW_FILES.includes(workflowsFile)) {
    throw new Error(`--workflows must be one of ${WORKFLOW_FILES.join(', ')}, not "${workflowsFile === true ? '' : workflowsFile}".`);
  }
  // A gateway that keeps its charges in a file, so workers in other processes share it.
  const gateway = new LedgerGateway(ledgerFile, delayMs);
  // Step 08: the customer notices this worker sends, on stderr.
  const outbox = new Outbox((notice) => log('outbox', `to ${notice.to}: ${notice.text}`));
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
      workflowBundle: await workflowBundle(new URL(`./${workflowsFile}`, import.meta.url)),
      activities: createActivities(new Erp(simulationFromEnv()), gateway, outbox),
    });
    log('worker', `running ${workflowsFile}, polling task queue "${TASK_QUEUE}"; Ctrl-C to stop`);
    await worker.run(); // until Ctrl-C or SIGTERM: then it finishes the tasks in hand and returns
  } finally {
    await connection.close();
  }
  // #endregion run-worker
});
