// The durability demo: crash the assistant, the worker and Temporal itself, on purpose, and
// check that nothing is lost and nothing is paid twice. Needs nothing running.
//   npx tsx tutorials/06-durability-demo/demo.ts [--invoices 5] [--payment-delay-ms 1500]
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../../shared/binaries.js';
import { loadTemporalSettings, splitHostPort } from '../../shared/config.js';
import { temporalAnswers } from '../../shared/dev-server.js';
import { runMain } from '../../shared/log.js';
import { sceneAssistantGoesAway, sceneTemporalRestarts, sceneWorkerDies, Stage, type Verdict } from './scenes.js';

const { values } = parseArgs({
  options: {
    invoices: { type: 'string', default: '5' },
    'payment-delay-ms': { type: 'string', default: '1500' },
  },
});

runMain(async () => {
  const count = Number(values.invoices);
  const paymentDelayMs = Number(values['payment-delay-ms']);
  if (!Number.isInteger(count) || count < 1 || count > 100) throw new Error(`--invoices "${values.invoices}" must be a whole number from 1 to 100.`);
  if (!Number.isFinite(paymentDelayMs) || paymentDelayMs < 0) throw new Error(`--payment-delay-ms "${values['payment-delay-ms']}" must be a number of 0 or more.`);

  // Scene 3 stops and restarts Temporal, so the demo must own its server: it refuses to borrow one.
  const settings = loadTemporalSettings();
  const [, port] = splitHostPort(settings.address);
  if (await temporalAnswers(settings)) {
    throw new Error(
      `A Temporal server already answers at ${settings.address}. Scene 3 restarts Temporal, so this demo starts its own: ` +
        'stop that server, or pick a free port with TEMPORAL_ADDRESS=localhost:7300.',
    );
  }
  const dir = join(REPO_ROOT, '.temporal', `demo-06-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  const say = (line: string) => console.log(line);
  say(`Starting Temporal on 127.0.0.1:${port} with its state in ${join(dir, 'temporal.db')}`);
  const stage = await Stage.open({ dir, port, paymentDelayMs, say });
  const verdicts: Verdict[] = [];
  try {
    say(`Web UI: http://localhost:${port + 1000}/namespaces/default/workflows   ledger: ${stage.ledger.path}`);
    let worker = await stage.startWorker();
    say(`${worker.name} running (pid ${worker.pid}).\n`);

    say('Scene 1 — the assistant goes away');
    verdicts.push(await sceneAssistantGoesAway(stage, count));
    say(`${verdicts.at(-1)!.line}\n`);

    say('Scene 2 — the worker dies mid-payment');
    const scene2 = await sceneWorkerDies(stage, count, worker);
    worker = scene2.worker;
    verdicts.push(scene2.verdict);
    say(`${scene2.verdict.line}\n`);

    say('Scene 3 — Temporal itself restarts');
    verdicts.push(await sceneTemporalRestarts(stage, count));
    say(`${verdicts.at(-1)!.line}\n`);
  } finally {
    await stage.close();
  }
  for (const v of verdicts) say(v.line);
  if (verdicts.some((v) => !v.ok)) throw new Error('A scene did not end as it should: see its verdict above.');
  say('\nNothing lost, nothing paid twice.');
});
