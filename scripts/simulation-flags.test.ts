// Proof that the workers' failure switches work as flags, in any shell (PowerShell and cmd have
// no `VAR=x command`): `worker.ts --gateway-fail-first 2` fails the first two charges, a flag wins
// over its environment variable, and a typo stops the worker instead of silently doing nothing.
import { describe, expect, it } from 'vitest';
import { sampleInvoice } from '../shared/invoice.js';
import { Erp, InvoiceMismatchError, PaymentDeclinedError, PaymentGateway, simulationFromEnv, TransientError } from '../shared/simulated-systems.js';

/** What three charges of 50.00 do with these switches: `ok` or the error's name. */
async function threeCharges(env: NodeJS.ProcessEnv, argv: string[]): Promise<string[]> {
  const gateway = new PaymentGateway(simulationFromEnv(env, argv));
  const outcomes: string[] = [];
  for (let i = 0; i < 3; i++) outcomes.push(await gateway.charge(`line-${i}`, 50).then(() => 'ok', (err: Error) => err.name));
  return outcomes;
}

describe('the simulated systems read flags', () => {
  it('--gateway-fail-first N fails the first N charges, then they succeed', async () => {
    expect(await threeCharges({}, ['--gateway-fail-first', '2'])).toEqual([TransientError.name, TransientError.name, 'ok']);
    expect(await threeCharges({}, ['--gateway-fail-first=1'])).toEqual([TransientError.name, 'ok', 'ok']);
    expect(await threeCharges({}, [])).toEqual(['ok', 'ok', 'ok']);
  });

  it('--gateway-decline-over, --erp-fail-first and --erp-max-total switch on their failures', async () => {
    expect(await threeCharges({}, ['--gateway-decline-over', '40'])).toEqual(Array(3).fill(PaymentDeclinedError.name));
    const erp = new Erp(simulationFromEnv({}, ['--erp-fail-first', '1', '--erp-max-total', '100']));
    await expect(erp.check(sampleInvoice('INV-1'))).rejects.toThrow(TransientError);
    await expect(erp.check(sampleInvoice('INV-1'))).rejects.toThrow(InvoiceMismatchError); // 268.49 > 100
  });

  it('a flag wins over its variable; the variable still works alone', async () => {
    expect(await threeCharges({ GATEWAY_FAIL_FIRST: '3' }, ['--gateway-fail-first', '1'])).toEqual([TransientError.name, 'ok', 'ok']);
    expect(await threeCharges({ GATEWAY_FAIL_FIRST: '1' }, [])).toEqual([TransientError.name, 'ok', 'ok']);
  });

  it("leaves a worker's own flags and arguments alone", () => {
    expect(simulationFromEnv({}, ['--ledger-file', 'x.jsonl', '--payment-delay-ms', '500', '--erp-fail-first', '2'])).toEqual({ erpFailFirst: 2 });
  });

  it('refuses a bad value or a misspelt switch, naming it', () => {
    expect(() => simulationFromEnv({}, ['--gateway-fail-first', 'three'])).toThrow('--gateway-fail-first must be a number of 0 or more, not "three" (for example --gateway-fail-first 3).');
    expect(() => simulationFromEnv({}, ['--gateway-fail-first'])).toThrow('--gateway-fail-first needs a number of 0 or more after it');
    expect(() => simulationFromEnv({}, ['--erp-fail-first', '-1'])).toThrow('--erp-fail-first must be a number of 0 or more, not "-1"');
    expect(() => simulationFromEnv({}, ['--gateway-fail-frist', '3'])).toThrow('--gateway-fail-frist is not a switch of the simulated systems; they are --gateway-fail-first, --gateway-decline-over, --erp-fail-first, --erp-max-total.');
    expect(() => simulationFromEnv({ ERP_MAX_TOTAL: 'lots' }, [])).toThrow('ERP_MAX_TOTAL must be a number of 0 or more, not "lots"');
  });
});
