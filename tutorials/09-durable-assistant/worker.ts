// The worker: polls the step's two task queues, the invoices' (as in step 08) and the assistant's,
// and runs their workflows and activities. Run it with `npx tsx tutorials/09-durable-assistant/worker.ts`;
// Ctrl-C stops it cleanly.
//
//   --ledger-file F      (or LEDGER_FILE)        where the gateway's ledger lives (default .temporal/ledger-09.jsonl)
//   --payment-delay-ms N (or PAYMENT_DELAY_MS)   how long one charge takes (default 2000)
//
// Step 09, the assistant's worker settings, from the environment:
//   ASSISTANT_TASK_QUEUE             the assistant's task queue (default assistant-09; chat.ts reads it too)
//   MAX_CONCURRENT_ACTIVITIES        model steps and tool calls run at once (default 10)
//   MAX_CONCURRENT_WORKFLOW_TASKS    workflow tasks run at once (default 10)
//   ANTHROPIC_API_KEY, or OPENAI_COMPATIBLE_BASE_URL (+ _KEY, _MODEL)   the model (model.ts); none: the scripted stand-in
//   MCP_SERVERS_FILE                 the MCP servers by name (mcp-pool.ts); default: this step's invoice server over stdio
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection, Worker } from '@temporalio/worker';
import { REPO_ROOT } from '../../shared/binaries.js';
import { isEntryPoint, log, runMain } from '../../shared/log.js';
import { Erp, simulationFromEnv } from '../../shared/simulated-systems.js';
import { workflowBundle } from '../../shared/worker.js';
import { createActivities, Outbox } from './activities.js';
import { createAssistantActivities } from './assistant-activities.js';
import { ASSISTANT_TASK_QUEUE } from './assistant-workflow.js';
import { LedgerGateway } from './ledger.js';
import { McpPool, serversFromEnv } from './mcp-pool.js';
import { chooseModel } from './model.js';
import { TASK_QUEUE } from './workflows.js';

/** The ledger every worker of this step shares, unless LEDGER_FILE says otherwise. */
const DEFAULT_LEDGER_FILE = join(REPO_ROOT, '.temporal', 'ledger-09.jsonl');

// #region worker-settings
/** The assistant worker's settings: the environment's, else these defaults. */
export function assistantWorkerSettings(env: NodeJS.ProcessEnv = process.env) {
  const count = (name: string, fallback: number) => {
    const value = env[name]?.trim() ? Number(env[name]) : fallback;
    if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number of 1 or more, not "${env[name]}"; for example ${name}=${fallback}.`);
    return value;
  };
  return {
    taskQueue: env.ASSISTANT_TASK_QUEUE?.trim() || ASSISTANT_TASK_QUEUE,
    maxConcurrentActivityTaskExecutions: count('MAX_CONCURRENT_ACTIVITIES', 10),
    maxConcurrentWorkflowTaskExecutions: count('MAX_CONCURRENT_WORKFLOW_TASKS', 10),
  };
}
// #endregion worker-settings

async function main() {
  // Flags work in every shell; the variables still work too. strict: false leaves the simulated
  // systems' switches (--gateway-fail-first ...) to simulationFromEnv.
  const { values } = parseArgs({
    strict: false,
    allowPositionals: true,
    options: { 'ledger-file': { type: 'string' }, 'payment-delay-ms': { type: 'string' } },
  });
  const delayArg = values['payment-delay-ms'] ?? process.env.PAYMENT_DELAY_MS ?? '2000';
  const delayMs = typeof delayArg === 'string' && delayArg.trim() !== '' ? Number(delayArg) : NaN;
  if (!(delayMs >= 0)) throw new Error(`--payment-delay-ms (or PAYMENT_DELAY_MS) must be a number of 0 or more, not "${delayArg === true ? '' : delayArg}"; for example --payment-delay-ms 2000.`);
  const ledgerFile = values['ledger-file'] ?? process.env.LEDGER_FILE ?? DEFAULT_LEDGER_FILE;
  if (typeof ledgerFile !== 'string') throw new Error('--ledger-file needs a file name after it, for example --ledger-file .temporal/my-ledger.jsonl.');
  // A gateway that keeps its charges in a file, so workers in other processes share it.
  const gateway = new LedgerGateway(ledgerFile, delayMs);
  // Step 08: the customer notices this worker sends, on stderr.
  const outbox = new Outbox((notice) => log('outbox', `to ${notice.to}: ${notice.text}`));
  const settings = assistantWorkerSettings();
  const { model, description } = chooseModel();
  // Step 09: one pool of MCP connections for every conversation this worker runs.
  const pool = new McpPool(serversFromEnv());
  // #region run-worker
  // Where Temporal is: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY or a profile in the
  // Temporal config file; with nothing set, the local dev server on localhost:7233.
  const config = loadClientConnectConfig();
  const connection = await NativeConnection.connect(config.connectionOptions);
  try {
    const invoices = await Worker.create({
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
      activities: createActivities(new Erp(simulationFromEnv()), gateway, outbox),
    });
    // Step 09: the assistant's worker, on its own task queue, with its own limits.
    const assistant = await Worker.create({
      connection,
      namespace: config.namespace,
      ...settings,
      stickyQueueScheduleToStartTimeout: '1 second',
      workflowBundle: await workflowBundle(new URL('./assistant-workflow.ts', import.meta.url)),
      activities: createAssistantActivities(model, pool),
    });
    log('worker', `polling task queue "${TASK_QUEUE}" (invoices) and "${settings.taskQueue}" (assistant); model: ${description}; Ctrl-C to stop`);
    // Until Ctrl-C or SIGTERM: then both finish the tasks in hand and return.
    await Promise.all([invoices.run(), assistant.run()]);
  } finally {
    await pool.close();
    await connection.close();
  }
  // #endregion run-worker
}

if (isEntryPoint(import.meta.url)) runMain(main);
