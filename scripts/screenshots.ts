/**
 * `npm run docs:screenshots`: real screenshots of the Temporal Web UI, for the step READMEs.
 *
 * Nothing needs to be running. On 127.0.0.1 only, the script:
 * 1. starts `temporal server start-dev` with its Web UI on free ports (in memory: gone afterwards);
 * 2. runs the steps' real workflows and activities, each on its own step's task queue:
 *    - step 01 with a gateway whose first 5 charges fail (`--gateway-fail-first 5`), so `processPayment` retries;
 *    - step 04: an invoice waiting for approval, its 5-day timer pending;
 *    - step 05: an invoice approved through the `approveInvoice` Update, then paid;
 *    - step 06: its `worker.ts` as two processes; the one running a payment is killed with SIGKILL,
 *      and the other takes the payment over after the heartbeat timeout;
 *    - step 09: its `worker.ts` as a process, with the scripted stand-in model, and a conversation
 *      (the seed conversation, as chat.ts sends it) waiting for a person to confirm approve_invoice;
 *    - step 10: an invoice awaiting approval, shown by `review_invoice` as its approval card, in
 *      the step's test host (ext-apps' AppBridge), light and dark: 10-card-light.png, 10-card-dark.png;
 * 3. opens each workflow's page in headless Chrome/Chromium (1280 px wide, UTC) and writes
 *    docs/images/01-retrying-payment.png, 04-pending-timer.png, 05-update-accepted.png,
 *    05-paid-timeline.png, 06-heartbeat-timeout.png and 09-assistant-timeline.png;
 * 4. stops everything it started, also when something fails.
 *
 * Run it again after a Temporal CLI / Web UI upgrade (the pictures show UI 2.54.1 of CLI 1.9.1),
 * then look at the images: the captions in tutorials/01, 04, 05, 06, 09 and 10's READMEs say what each
 * must show. It takes one to one and a half minutes on a 2-core machine, most of it bundling the
 * workflows and step 06's payments (4 s each).
 *
 * It needs Chrome or Chromium; nothing is downloaded for it.
 * - Debian/Ubuntu: `sudo apt-get install chromium` (found at /usr/bin/chromium);
 * - elsewhere: install Google Chrome or Chromium, or point CHROMIUM_PATH at any Chrome/Chromium executable.
 *
 * The browser is driven by playwright-core (a devDependency, pinned in package.json), through
 * shared/browser.ts, which the step 10 test uses too. (`npx playwright install` would download a
 * browser of its own; we use the one on the machine instead.)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { REPO_ROOT } from '../shared/binaries.js';
import { findBrowser, INSTALL_BROWSER, launchBrowser } from '../shared/browser.js';
import { sampleInvoice } from '../shared/invoice.js';
import { log, runMain } from '../shared/log.js';
import { startScript, type ScriptProcess } from '../shared/processes.js';
import { Erp, PaymentGateway, simulationFlags } from '../shared/simulated-systems.js';
import { freePort } from '../shared/dev-server.js';
import { startDevServerEnv, waitFor } from '../shared/testing.js';
import { createWorker } from '../shared/worker.js';
import * as step01 from '../tutorials/01-activities/workflows.js';
import { createActivities as step01Activities } from '../tutorials/01-activities/activities.js';
import * as step04 from '../tutorials/04-durable-timers/workflows.js';
import { createActivities as step04Activities } from '../tutorials/04-durable-timers/activities.js';
import * as step05 from '../tutorials/05-mcp-server/workflows.js';
import { createActivities as step05Activities } from '../tutorials/05-mcp-server/activities.js';
import * as step06 from '../tutorials/06-durability-demo/workflows.js';
import * as step09 from '../tutorials/09-durable-assistant/assistant-workflow.js';
import * as step10 from '../tutorials/10-approval-card/workflows.js';
import { createActivities as step10Activities, Outbox as Outbox10 } from '../tutorials/10-approval-card/activities.js';
import { LedgerGateway as LedgerGateway10 } from '../tutorials/10-approval-card/ledger.js';
import { connectClient, openTestHost } from '../shared/mcp-app-host/index.js';

const IMAGES_DIR = join(REPO_ROOT, 'docs', 'images');
const NAMESPACE = 'default';
/** Wide enough for the Web UI's desktop layout; each shot sets its own height. */
const WIDTH = 1280;
/** An image above this is worth quantizing (see {@link shrink}). */
const MAX_BYTES = 300_000;

/** Step 01: how many charges fail before the gateway recovers; the pending activity is shot meanwhile. */
const GATEWAY_FAIL_FIRST = 5;
/** Step 06: how long one charge takes, so there is a payment in flight to kill the worker in. */
const PAYMENT_DELAY_MS = 4000;

runMain(async () => {
  const started = Date.now();
  // Before starting anything: no browser means nothing to do, and the message says how to get one.
  const browserPath = findBrowser();
  if (!browserPath) throw new Error(`No Chrome or Chromium was found, and the screenshots need one (nothing is downloaded for it).\n${INSTALL_BROWSER} npm run docs:screenshots`);
  mkdirSync(IMAGES_DIR, { recursive: true });

  const [port, uiPort] = [await freePort(), await freePort()];
  log('screenshots', `starting Temporal on 127.0.0.1:${port}, Web UI on 127.0.0.1:${uiPort}`);
  const env = await startDevServerEnv({ port, uiPort });
  const ledgerDir = mkdtempSync(join(tmpdir(), 'screenshots-06-'));
  const processes: ScriptProcess[] = [];
  let browser: Browser | undefined;
  try {
    browser = await launchBrowser(browserPath);
    const camera = new Camera(browser, `http://127.0.0.1:${uiPort}`);
    // Step 06's two worker processes start (and bundle their workflows) while the others are made.
    const step06Workers = Promise.all(
      ['step 06 worker #1', 'step 06 worker #2'].map((name) => startStep06Worker(name, port, ledgerDir, processes)),
    );
    step06Workers.catch(() => {}); // a failure is reported where it is awaited, not as an unhandled rejection
    const step09Worker = startStep09Worker(port, ledgerDir, processes);
    step09Worker.catch(() => {});
    const workers = await Promise.all([
      createWorker(env.nativeConnection, NAMESPACE, {
        workflowsPath: new URL('../tutorials/01-activities/workflows.ts', import.meta.url),
        // The switch a learner gives step 01's worker: npx tsx tutorials/01-activities/worker.ts --gateway-fail-first 5
        activities: step01Activities(new Erp(), new PaymentGateway(simulationFlags(['--gateway-fail-first', String(GATEWAY_FAIL_FIRST)]))),
        taskQueue: step01.TASK_QUEUE,
      }),
      createWorker(env.nativeConnection, NAMESPACE, {
        workflowsPath: new URL('../tutorials/04-durable-timers/workflows.ts', import.meta.url),
        activities: step04Activities(new Erp(), new PaymentGateway()),
        taskQueue: step04.TASK_QUEUE,
      }),
      createWorker(env.nativeConnection, NAMESPACE, {
        workflowsPath: new URL('../tutorials/05-mcp-server/workflows.ts', import.meta.url),
        activities: step05Activities(new Erp(), new PaymentGateway()),
        taskQueue: step05.TASK_QUEUE,
      }),
      createWorker(env.nativeConnection, NAMESPACE, {
        workflowsPath: new URL('../tutorials/10-approval-card/workflows.ts', import.meta.url),
        activities: step10Activities(new Erp(), new LedgerGateway10(join(ledgerDir, 'ledger-10.jsonl')), new Outbox10()),
        taskQueue: step10.TASK_QUEUE,
      }),
    ]);
    // The scenes run side by side; the camera takes one picture at a time. Step 01's picture has a
    // window of about 16 s (attempt 6 waits from 15 s to 31 s), so steps 09 and 10 wait for it.
    const retrying = retryingPayment(env.client, camera);
    const scenes = Promise.all([
      retrying,
      pendingTimer(env.client, camera),
      updateAndPaid(env.client, camera),
      step06Workers.then((step06) => workerCrash(env.client, camera, step06)),
      Promise.all([step09Worker, retrying]).then(() => assistantConversation(env.client, camera)),
      retrying.then(() => approvalCard(env.client, browser!, port)),
    ]);
    await runWorkersUntil(workers, scenes);
    const written = (await scenes).flat();
    log('screenshots', `done in ${Math.round((Date.now() - started) / 1000)} s:`);
    for (const file of written) log('screenshots', `  ${relative(REPO_ROOT, file)}  ${Math.round(statSync(file).size / 1024)} KB`);
  } finally {
    await browser?.close().catch(() => {});
    await Promise.all(processes.map((p) => p.kill('SIGKILL').catch(() => {})));
    await env.teardown().catch(() => {});
    rmSync(ledgerDir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------
// The scenes: real workflows of the steps, each photographed when it shows what its step teaches

/** Step 01: `processPayment` failing and waiting for its next attempt, on the Pending Activities tab. */
async function retryingPayment(client: Client, camera: Camera): Promise<string[]> {
  const handle = await client.workflow.start(step01.InvoiceWorkflow, {
    taskQueue: step01.TASK_QUEUE,
    workflowId: 'invoice-INV-1001',
    args: [sampleInvoice('INV-1001')],
  });
  // Attempts 1-5 fail at 0, 1, 3, 7 and 15 s; attempt 6, which will succeed, waits until 31 s: time for the picture.
  await waitFor(() => pendingActivity(handle), (a) => a?.attempt === GATEWAY_FAIL_FIRST + 1 && a.state === 'SCHEDULED', 60_000);
  return [
    await camera.shoot('01-retrying-payment.png', handle, 'pending-activities', {
      height: 800,
      ready: (page) => page.getByText('payment gateway unavailable').first().waitFor(),
    }),
  ];
}

/** Step 04: the invoice AWAITING_APPROVAL, its 5-day timer opened on the Timeline. */
async function pendingTimer(client: Client, camera: Camera): Promise<string[]> {
  const handle = await client.workflow.start(step04.InvoiceWorkflow, {
    taskQueue: step04.TASK_QUEUE,
    workflowId: 'invoice-INV-4001',
    args: [sampleInvoice('INV-4001')],
  });
  await waitFor(() => handle.query(step04.getInvoiceStatus), (s) => s.state === 'AWAITING_APPROVAL', 30_000);
  return [
    await camera.shoot('04-pending-timer.png', handle, 'timeline', {
      height: 1130,
      ready: async (page) => {
        await page.getByText('(5d)').first().click(); // opens the timer's details under its bar
        await page.getByText('Start To Fire Timeout').first().waitFor();
      },
    }),
  ];
}

/** Step 05: the approveInvoice Update accepted and completed, then the PAID invoice's timeline. */
async function updateAndPaid(client: Client, camera: Camera): Promise<string[]> {
  const handle = await client.workflow.start(step05.InvoiceWorkflow, {
    taskQueue: step05.TASK_QUEUE,
    workflowId: 'invoice-INV-5001',
    args: [sampleInvoice('INV-5001')],
  });
  await waitFor(() => handle.query(step05.getInvoiceStatus), (s) => s.state === 'AWAITING_APPROVAL', 30_000);
  // As step 05's approve_invoice tool does it: an Update, with the update id that makes a retry harmless.
  await handle.executeUpdate(step05.approveInvoice, { args: [{ by: 'alice' }], updateId: 'approve-INV-5001-by-alice' });
  const result = await handle.result();
  if (result.state !== 'PAID') throw new Error(`invoice-INV-5001 ended ${result.state}, not PAID`);
  const accepted = await findEvent(handle, (e) => e.workflowExecutionUpdateAcceptedEventAttributes != null);
  return [
    await camera.shoot('05-update-accepted.png', handle, `history/events/${accepted}`, {
      height: 1250,
      ready: (page) => page.getByText('"previousState"').first().waitFor(),
    }),
    await camera.shoot('05-paid-timeline.png', handle, 'timeline', {
      height: 1050,
      ready: (page) => page.getByText('processPayment').first().waitFor(),
    }),
  ];
}

/** Step 06's real worker.ts as a process of its own, so it can be killed for real. */
async function startStep06Worker(name: string, port: number, ledgerDir: string, processes: ScriptProcess[]): Promise<ScriptProcess> {
  const worker = await startScript(new URL('../tutorials/06-durability-demo/worker.ts', import.meta.url), {
    name,
    env: { TEMPORAL_ADDRESS: `127.0.0.1:${port}`, TEMPORAL_NAMESPACE: NAMESPACE },
    // One ledger for both workers, as in the step; payments slow enough to be killed in.
    args: ['--ledger-file', join(ledgerDir, 'ledger.jsonl'), '--payment-delay-ms', String(PAYMENT_DELAY_MS)],
    readyWhen: /polling task queue/,
  });
  processes.push(worker);
  return worker;
}

/**
 * Step 06: two worker processes; the one running the first payment is killed with SIGKILL
 * mid-payment. Temporal notices when its heartbeats stop (3 s) and runs the payment again on the other.
 */
async function workerCrash(client: Client, camera: Camera, workers: ScriptProcess[]): Promise<string[]> {
  const handle = await client.workflow.start(step06.InvoiceWorkflow, {
    taskQueue: step06.TASK_QUEUE,
    workflowId: 'invoice-INV-6001',
    args: [sampleInvoice('INV-6001')],
  });
  await waitFor(() => handle.query(step06.getInvoiceStatus), (s) => s.state === 'AWAITING_APPROVAL', 60_000);
  await handle.executeUpdate(step06.approveInvoice, { args: [{ by: 'alice' }], updateId: 'approve-INV-6001-by-alice' });
  // Once the first payment has been running, and heartbeating, for a second: kill the worker running it.
  const payment = await waitFor(() => pendingActivity(handle), (a) => a?.state === 'STARTED' && a.lastHeartbeatTime != null, 30_000);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const victim = workers.find((w) => payment?.lastWorkerIdentity === `${w.pid}@${hostname()}`);
  const survivor = workers.find((w) => w !== victim);
  if (!victim || !survivor) throw new Error(`step 06: the payment runs on "${payment?.lastWorkerIdentity}", not on one of our worker processes`);
  await victim.kill('SIGKILL');
  log('screenshots', `step 06: ${victim.name} (pid ${victim.pid}) killed with SIGKILL mid-payment; ${survivor.name} (pid ${survivor.pid}) takes over`);
  const result = await handle.result();
  if (result.state !== 'PAID') throw new Error(`invoice-INV-6001 ended ${result.state}, not PAID`);
  // The retried payment's ActivityTaskStarted carries attempt 2, the survivor's identity and the heartbeat timeout.
  const retried = await findEvent(handle, (e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1);
  return [
    await camera.shoot('06-heartbeat-timeout.png', handle, `history/events/${retried}`, {
      height: 1300,
      ready: (page) => page.getByText(/heartbeat/i).first().waitFor(),
    }),
  ];
}

/** Step 09's real worker.ts as a process: both its workers, the stand-in model, the invoice server over stdio. */
async function startStep09Worker(port: number, ledgerDir: string, processes: ScriptProcess[]): Promise<ScriptProcess> {
  const worker = await startScript(new URL('../tutorials/09-durable-assistant/worker.ts', import.meta.url), {
    name: 'step 09 worker',
    // No model key reaches it, so it runs the scripted stand-in, as it says when it starts.
    env: { TEMPORAL_ADDRESS: `127.0.0.1:${port}`, TEMPORAL_NAMESPACE: NAMESPACE, ANTHROPIC_API_KEY: '', OPENAI_COMPATIBLE_BASE_URL: '' },
    args: ['--ledger-file', join(ledgerDir, 'ledger-09.jsonl'), '--payment-delay-ms', '200'],
    readyWhen: /polling task queue/,
  });
  processes.push(worker);
  return worker;
}

/**
 * Step 09: the seed conversation, each turn an Update as chat.ts sends it, up to "Approve invoice
 * INV-9001", where the assistant waits for a person: its last run's timeline shows a model step, the
 * `confirm approve_invoice` timer running, and the current details saying what it waits for.
 */
async function assistantConversation(client: Client, camera: Camera): Promise<string[]> {
  const handle = await client.workflow.start(step09.AssistantWorkflow, {
    taskQueue: step09.ASSISTANT_TASK_QUEUE,
    workflowId: 'assistant-screenshot',
    args: [{}],
    staticSummary: 'chat with alice',
  });
  const invoice = sampleInvoice('INV-9001');
  for (const text of [`Process this invoice: ${JSON.stringify(invoice)}`, `What's the status of ${invoice.id}?`, `Approve invoice ${invoice.id}`]) {
    await handle.executeUpdate(step09.sendMessage, { args: [text] });
  }
  await waitFor(() => handle.query(step09.getAssistantStatus), (s) => s.pending?.tool === 'approve_invoice', 30_000);
  return [
    await camera.shoot('09-assistant-timeline.png', handle, 'timeline', {
      height: 1150,
      ready: (page) => page.getByText('confirm approve_invoice').first().waitFor(),
    }),
  ];
}

/** Step 10: the approval card of an invoice awaiting approval, as a host shows it, light and dark. */
async function approvalCard(client: Client, browser: Browser, port: number): Promise<string[]> {
  // server.ts reads where Temporal is when it loads, so it is loaded once that is known.
  process.env.TEMPORAL_ADDRESS = `127.0.0.1:${port}`;
  process.env.TEMPORAL_NAMESPACE = NAMESPACE;
  const { createServer } = await import('../tutorials/10-approval-card/server.js');
  const mcp = await connectClient(createServer(), true);
  try {
    const invoice = sampleInvoice('INV-10001');
    await mcp.callTool({ name: 'process_invoice', arguments: invoice });
    await waitFor(() => client.workflow.getHandle('invoice-INV-10001').query(step10.getInvoiceStatus), (s) => s.state === 'AWAITING_APPROVAL', 60_000);
    const written: string[] = [];
    for (const theme of ['light', 'dark'] as const) {
      const host = await openTestHost(browser, mcp);
      const card = await host.showCard('review_invoice', { invoice_id: invoice.id }, theme);
      await card.locator('#deadline').getByText('Decide within').waitFor({ timeout: 30_000 });
      await card.locator('#name').fill('Alice');
      const path = join(IMAGES_DIR, `10-card-${theme}.png`);
      const box = await host.page.locator('iframe').boundingBox(); // the card and its margin, not the empty page below
      await host.page.screenshot({ path, clip: box ? { x: 0, y: 0, width: box.x * 2 + box.width, height: box.y * 2 + box.height } : undefined });
      shrink(path);
      log('screenshots', `10-card-${theme}.png: the approval card of ${invoice.id}, ${theme}`);
      written.push(path);
      await host.page.context().close();
    }
    return written;
  } finally {
    await mcp.close();
  }
}

/** Runs the in-process workers until `scenes` settles; they shut down cleanly either way. */
async function runWorkersUntil(workers: Worker[], scenes: Promise<unknown>): Promise<void> {
  const results = await Promise.allSettled(workers.map((w) => w.runUntil(scenes)));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

type PendingActivity = NonNullable<Awaited<ReturnType<WorkflowHandle['describe']>>['raw']['pendingActivities']>[number];

/** The workflow's first pending activity, its state as a name ('SCHEDULED', 'STARTED'). */
async function pendingActivity(handle: WorkflowHandle): Promise<(Omit<PendingActivity, 'state'> & { state: string }) | undefined> {
  const activity = (await handle.describe()).raw.pendingActivities?.[0];
  if (!activity) return undefined;
  const states = ['UNSPECIFIED', 'SCHEDULED', 'STARTED', 'CANCEL_REQUESTED', 'PAUSED', 'PAUSE_REQUESTED'];
  return { ...activity, state: states[Number(activity.state ?? 0)] ?? String(activity.state) };
}

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

/** The id of the first history event that matches. */
async function findEvent(handle: WorkflowHandle, match: (event: HistoryEvent) => boolean): Promise<number> {
  const event = (await handle.fetchHistory()).events?.find(match);
  if (!event?.eventId) throw new Error(`${handle.workflowId}: no such event in its history`);
  return Number(event.eventId.toString());
}

// ---------------------------------------------------------------------------------------------
// The browser

/** What one picture needs: how tall, and what must be on the page before it is taken. */
interface Shot {
  height: number;
  /** Waits for (or brings about, e.g. by a click) what the picture must show. */
  ready: (page: Page) => Promise<unknown>;
}

/** Takes the pictures, one at a time, in one browser context (so the Web UI's scripts load once). */
class Camera {
  private queue: Promise<unknown> = Promise.resolve();
  private context?: Promise<BrowserContext>;

  constructor(
    private readonly browser: Browser,
    private readonly uiUrl: string,
  ) {}

  /** Opens `tab` of the workflow's page (e.g. `timeline`, `history/events/15`) and saves it as docs/images/`name`. */
  shoot(name: string, handle: WorkflowHandle, tab: string, shot: Shot): Promise<string> {
    const taken = this.queue.then(() => this.take(name, handle, tab, shot));
    this.queue = taken.catch(() => {});
    return taken;
  }

  private async openContext(): Promise<BrowserContext> {
    const context = await this.browser.newContext({
      viewport: { width: WIDTH, height: 800 },
      timezoneId: 'UTC', // the same times in every regenerated picture, wherever it is made
      colorScheme: 'light',
      locale: 'en-US',
    });
    // The pages stay on 127.0.0.1: anything else they ask for (news feeds, fonts) is refused.
    await context.route('**/*', (route) => (isLoopback(route.request().url()) ? route.continue() : route.abort()));
    return context;
  }

  private async take(name: string, handle: WorkflowHandle, tab: string, shot: Shot): Promise<string> {
    const { runId } = await handle.describe();
    const url = `${this.uiUrl}/namespaces/${NAMESPACE}/workflows/${encodeURIComponent(handle.workflowId)}/${runId}/${tab}`;
    this.context ??= this.openContext();
    const page = await (await this.context).newPage();
    try {
      await page.setViewportSize({ width: WIDTH, height: shot.height });
      // Not 'networkidle': the page of a running workflow polls for as long as it is open.
      await page.goto(url, { waitUntil: 'load' });
      await page.locator('[data-testid="workflow-id-heading"]').waitFor({ timeout: 30_000 });
      await shot.ready(page);
      await page.waitForTimeout(800); // let transitions (an opened panel, a tab underline) finish
      const path = join(IMAGES_DIR, name);
      await page.screenshot({ path });
      shrink(path);
      log('screenshots', `${name}: ${url}`);
      return path;
    } catch (err) {
      throw new Error(`${name}: the Web UI page ${url} did not show what the picture needs`, { cause: err });
    } finally {
      await page.close();
    }
  }
}

function isLoopback(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  return protocol === 'data:' || protocol === 'blob:' || hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
}

/**
 * An image above {@link MAX_BYTES} is quantized to 256 colours by ImageMagick's `convert`, when it
 * is installed (`sudo apt-get install imagemagick`); Web UI pictures are usually well below.
 */
function shrink(path: string): void {
  if (statSync(path).size <= MAX_BYTES) return;
  try {
    execFileSync('convert', [path, '-colors', '256', '-strip', path], { stdio: 'ignore' });
  } catch {
    log('screenshots', `${relative(REPO_ROOT, path)} is ${Math.round(statSync(path).size / 1024)} KB; install ImageMagick to shrink it`);
  }
}
