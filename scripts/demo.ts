/**
 * `npm run demo`: the whole story so far, with nothing else running.
 *
 * 1. Uses the Temporal server at TEMPORAL_ADDRESS (default localhost:7233), or starts a local dev
 *    server there, with its Web UI on port + 1000, when none answers.
 * 2. Runs the step 05 worker in this process.
 * 3. Runs the step 05 client, which launches the MCP server over stdio and drives it as an
 *    assistant would: process → status → approve → status → PAID.
 */
import { spawn } from 'node:child_process';
import { tsxCommand } from '../shared/binaries.js';
import { loadTemporalSettings } from '../shared/config.js';
import { ensureTemporal } from '../shared/dev-server.js';
import { log, runMain } from '../shared/log.js';
import { Erp, PaymentGateway } from '../shared/simulated-systems.js';
import { connectWorker, createWorker } from '../shared/worker.js';
import { createActivities } from '../tutorials/05-mcp-server/activities.js';
import { TASK_QUEUE } from '../tutorials/05-mcp-server/workflows.js';

runMain(async () => {
  const settings = loadTemporalSettings();
  const temporal = await ensureTemporal(settings);
  try {
    const connection = await connectWorker(settings);
    const worker = await createWorker(connection, settings.namespace, {
      workflowsPath: new URL('../tutorials/05-mcp-server/workflows.ts', import.meta.url),
      activities: createActivities(new Erp(), new PaymentGateway()),
      taskQueue: TASK_QUEUE,
    });
    log('demo', `worker running on task queue ${TASK_QUEUE}; Web UI: ${settings.webUiUrl}`);
    await worker.runUntil(runClient(process.argv.slice(2)));
    await connection.close();
  } finally {
    await temporal.stop();
  }
  log('demo', 'done');
});

/** Runs tutorials/05-mcp-server/client.ts as its own process and resolves when it succeeds. */
function runClient(args: string[]): Promise<void> {
  const { command, args: argv } = tsxCommand(new URL('../tutorials/05-mcp-server/client.ts', import.meta.url), args);
  const child = spawn(command, argv, { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`the step 05 client exited with code ${code}`))));
  });
}
