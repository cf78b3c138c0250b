// The one workflow behind the conformance fixture tasks (scripts/conformance-2026-fixtures.ts): each
// fixture job of the suite (slow_compute, failing_job, confirm_delete, ...) is this workflow with its
// own arguments, so the suite's task scenarios run through Temporal like step 12's invoices.
// Workflow code: no Node built-ins, no I/O.
import { ApplicationFailure, condition, defineQuery, defineUpdate, setHandler, sleep } from '@temporalio/workflow';

/** A question the job waits on, as the Tasks extension reports it (tasks.ts's InputRequest). */
export interface PendingInput {
  method: 'elicitation/create';
  params: Record<string, unknown>;
}

/** What a fixture job does. */
export type FixtureJob =
  | { kind: 'slow_compute'; seconds: number; label: string }
  | { kind: 'failing_job' }
  | { kind: 'protocol_error_job' }
  | { kind: 'confirm_delete'; filename: string }
  | { kind: 'multi_input' }
  | { kind: 'greet_later'; name: string };

/** A tool result, as tools/call would return it. */
export interface JobResult {
  content: { type: 'text'; text: string }[];
  isError?: boolean;
}

/** The questions still open, by key. */
export const pendingInputs = defineQuery<Record<string, PendingInput>>('pendingInputs');
/** Answers to open questions; keys that are not open are ignored. Returns true once recorded. */
export const answerInputs = defineUpdate<boolean, [Record<string, unknown>]>('answerInputs');

const form = (message: string, properties: Record<string, unknown>): PendingInput => ({
  method: 'elicitation/create',
  params: { mode: 'form', message, requestedSchema: { type: 'object', properties } },
});

export async function FixtureJobWorkflow(job: FixtureJob): Promise<JobResult> {
  const pending: Record<string, PendingInput> = {};
  const answers: Record<string, unknown> = {};
  setHandler(pendingInputs, () => pending);
  setHandler(answerInputs, (given) => {
    for (const [key, answer] of Object.entries(given)) {
      if (!(key in pending)) continue; // not a question of this job: ignored
      answers[key] = answer;
      delete pending[key];
    }
    return true;
  });
  const ask = async (questions: Record<string, PendingInput>) => {
    Object.assign(pending, questions);
    await condition(() => Object.keys(pending).length === 0);
  };
  switch (job.kind) {
    case 'slow_compute':
      await sleep(job.seconds * 1000); // a cancellation ends the sleep and the workflow: the task is cancelled
      return { content: [{ type: 'text', text: `Computed ${job.label} in ${job.seconds} s.` }] };
    case 'failing_job':
      await sleep(1000);
      return { content: [{ type: 'text', text: 'The job ran and failed: the tool reports an error.' }], isError: true };
    case 'protocol_error_job':
      throw ApplicationFailure.nonRetryable('The job could not run to an answer.', 'ProtocolError');
    case 'confirm_delete':
      await ask({ confirm: form(`Delete ${job.filename}?`, { confirm: { type: 'boolean' } }) });
      return { content: [{ type: 'text', text: `Answered about ${job.filename}: ${JSON.stringify(answers.confirm)}` }] };
    case 'multi_input':
      await ask({ first: form('First input?', { name: { type: 'string' } }), second: form('Second input?', { name: { type: 'string' } }) });
      return { content: [{ type: 'text', text: `Both answered: ${JSON.stringify(answers)}` }] };
    case 'greet_later':
      await sleep(200);
      return { content: [{ type: 'text', text: `Hello, ${job.name}!` }] };
  }
}
