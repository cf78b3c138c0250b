/**
 * `npm run stress:dev-servers`: the load proof of shared/dev-server.ts. Starts 12 Temporal dev
 * servers at once, checks each one answers, stops them all, and does that 5 times; prints how
 * long the starts took, how many needed a second try, and `N passed, N failed` (one per server).
 * Not part of `npm test`: it keeps both cores of a laptop busy for about a minute.
 *
 *   npm run stress:dev-servers                           # 12 servers at once, 5 rounds
 *   npm run stress:dev-servers -- --servers 6 --rounds 2
 */
import { parseArgs } from 'node:util';
import { Connection } from '@temporalio/client';
import { startDevServer, type DevServer } from '../shared/dev-server.js';
import { runMain } from '../shared/log.js';

runMain(async () => {
  const { values } = parseArgs({ options: { servers: { type: 'string', default: '12' }, rounds: { type: 'string', default: '5' } } });
  const [servers, rounds] = [Number(values.servers), Number(values.rounds)];
  if (!(servers >= 1 && rounds >= 1)) throw new Error('--servers and --rounds take whole numbers of 1 or more, e.g. --servers 12 --rounds 5.');

  let passed = 0;
  let failed = 0;
  let retried = 0;
  const startMs: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    const began = Date.now();
    const outcomes = await Promise.allSettled(
      Array.from({ length: servers }, async () => {
        const t0 = Date.now();
        const server = await startDevServer();
        try {
          startMs.push(Date.now() - t0);
          // Started means serving: the frontend answers a real request.
          const connection = await Connection.connect({ address: server.address });
          await connection.workflowService.describeNamespace({ namespace: 'default' });
          await connection.close();
          return server;
        } catch (err) {
          await server.stop();
          throw err;
        }
      }),
    );
    const up = outcomes.filter((o): o is PromiseFulfilledResult<DevServer> => o.status === 'fulfilled').map((o) => o.value);
    for (const o of outcomes) if (o.status === 'rejected') console.log(`  FAILED: ${(o.reason as Error).message}`);
    retried += up.filter((s) => s.attempts > 1).length;
    passed += up.length;
    failed += servers - up.length;
    await Promise.all(up.map((s) => s.stop()));
    console.log(`round ${round}: ${up.length}/${servers} servers up and answering in ${((Date.now() - began) / 1000).toFixed(1)} s` +
      ` (${up.filter((s) => s.attempts > 1).length} needed another try)`);
  }
  startMs.sort((a, b) => a - b);
  const at = (q: number) => (startMs[Math.min(startMs.length - 1, Math.floor(q * startMs.length))] / 1000).toFixed(1);
  console.log(`start time: median ${at(0.5)} s, slowest ${at(1)} s; ${retried} of ${passed} started on a second or later try`);
  console.log(`\n${passed} passed, ${failed} failed`);
  if (failed) process.exitCode = 1;
});
