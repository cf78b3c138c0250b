/**
 * Task queue naming. Pure code with no imports, so workflow files may use it too.
 *
 * @module
 */

/**
 * The task queue of a tutorial step, e.g. `invoices-04`. Each step polls its own queue, so a
 * step-02 worker never picks up a step-04 workflow on the same server.
 *
 * @param step - the step's number, e.g. `'04'`.
 */
export function stepTaskQueue(step: string): string {
  return `invoices-${step}`;
}
