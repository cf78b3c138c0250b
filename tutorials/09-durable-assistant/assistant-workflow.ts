// The assistant, as a workflow: the agent loop in plain sight. Each user turn is an Update; the
// workflow asks the model for one step (an activity), runs the tools it asks for (one activity
// each), appends the results and asks again, until the model answers or the step budget runs out.
// Temporal records every step, so a crash costs a retry of one step, never the conversation.
//
// Workflow code: no Node built-ins, no I/O. `import type` only from the AI SDK (erased at build).
import {
  ActivityFailure,
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  executeChild,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import ms, { type StringValue } from 'ms';
import type { ModelMessage, ToolResultPart } from 'ai';
import type { createAssistantActivities } from './assistant-activities.js';

// #region types
/** A tool as the workflow keeps it: the model's name for it, where it lives, and whether it is irreversible. */
export interface ToolSpec {
  /** `<server>_<tool>`, e.g. `invoices_approve_invoice`: what the model calls it. */
  name: string;
  server: string;
  tool: string;
  description: string;
  inputSchema: Record<string, unknown>;
  /** The server marked it `destructiveHint`: a person confirms each call. */
  destructive: boolean;
}
export interface ModelStepInput {
  system: string;
  messages: ModelMessage[];
  tools: ToolSpec[];
}
export interface ToolCall {
  toolCallId: string;
  toolName: string;
  input: Record<string, unknown>;
}
export interface ModelStepOutput {
  text: string;
  toolCalls: ToolCall[];
  /** The model's message (text and tool calls), in the AI SDK's form, to append to the conversation. */
  messages: ModelMessage[];
}
/** What a tool activity gets: the server, the tool and its arguments. Never the conversation. */
export interface ToolCallInput {
  server: string;
  tool: string;
  args: Record<string, unknown>;
}
// #endregion types

// #region config
/** The assistant's task queue, unless the worker's ASSISTANT_TASK_QUEUE says otherwise. */
export const ASSISTANT_TASK_QUEUE = 'assistant-09';

export interface AssistantConfig {
  /** Model steps per user turn before the assistant gives up on the turn. */
  maxSteps: number;
  /** How long a proposed irreversible tool call waits for a person, then is refused. */
  confirmationTimeout: Duration;
  /** "Review everything awaiting approval": at most this many child reviews at a time. */
  maxConcurrentReviews: number;
  /** Turns per run; then the conversation continues as new, its messages carried over. */
  turnsPerRun: number;
  system: string;
}
export const DEFAULT_CONFIG: AssistantConfig = {
  maxSteps: 8,
  confirmationTimeout: '24 hours',
  maxConcurrentReviews: 3,
  turnsPerRun: 20,
  system:
    'You help a finance team with invoices through your tools. Irreversible tools (approving, rejecting) are ' +
    'confirmed by a person before they run; if one is refused, say so plainly. Answer briefly.',
};

export interface AssistantInput {
  config?: Partial<AssistantConfig>;
  /** The conversation so far, carried over by continue-as-new. */
  messages?: ModelMessage[];
  /** Turns answered in earlier runs, so the numbering (and child workflow ids) go on. */
  turnsBefore?: number;
  /** A one-shot assistant (a child review): answers this message and returns the reply. */
  firstMessage?: string;
}
// #endregion config

// #region messages
/** Where the conversation is, for a client deciding what to show: the question to confirm, if any. */
export interface PendingConfirmation {
  toolCallId: string;
  server: string;
  tool: string;
  args: Record<string, unknown>;
  /** When the call is refused if nobody answers (ISO 8601). */
  deadline: string;
  question: string;
}
export interface AssistantStatus {
  phase: 'waiting-for-user' | 'thinking' | 'calling-tool' | 'awaiting-confirmation' | 'paused';
  paused: boolean;
  pending: PendingConfirmation | null;
  turns: number;
  messages: number;
  lastReply: string | null;
}
/** What a turn's Update returns: the reply, or the confirmation the turn now waits for. */
export interface TurnResult {
  turn: number;
  reply: string | null;
  awaiting: PendingConfirmation | null;
}
export interface Confirmation {
  by: string;
  approved: boolean;
}

export const sendMessage = defineUpdate<TurnResult, [string]>('sendMessage');
export const confirmToolCall = defineUpdate<TurnResult, [Confirmation]>('confirmToolCall');
export const pauseAssistant = defineSignal('pauseAssistant');
export const resumeAssistant = defineSignal('resumeAssistant');
export const getAssistantStatus = defineQuery<AssistantStatus>('getAssistantStatus');
// #endregion messages

/** The tool the workflow itself provides: the fan-out over invoices awaiting approval. */
const REVIEW_TOOL: ToolSpec = {
  name: 'assistant_review_awaiting_approval',
  server: 'assistant',
  tool: 'review_awaiting_approval',
  description: 'Reviews every invoice awaiting approval, one sub-assistant per invoice, and returns one report. Changes nothing.',
  inputSchema: { type: 'object', properties: {}, additionalProperties: false },
  destructive: false,
};

// #region proxies
type Activities = ReturnType<typeof createAssistantActivities>;
// The model's client retries nothing (maxRetries: 0); this policy is the only one.
const { modelStep, listTools } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5 },
});
const { callTool } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '5 seconds', // a worker that died during a call is noticed in seconds
  retry: { initialInterval: '1 second', maximumAttempts: 5, nonRetryableErrorTypes: ['UnknownServer'] },
});
// #endregion proxies

// #region assistant-workflow
export async function AssistantWorkflow(input: AssistantInput = {}): Promise<string> {
  const config: AssistantConfig = { ...DEFAULT_CONFIG, ...input.config };
  const messages: ModelMessage[] = [...(input.messages ?? [])];
  const status: AssistantStatus = { phase: 'waiting-for-user', paused: false, pending: null, turns: input.turnsBefore ?? 0, messages: messages.length, lastReply: null };
  let inbox: string | null = input.firstMessage ?? null;
  let confirmation: Confirmation | null = null;
  let turnsThisRun = 0;
  let stepsThisRun = 0;

  // #region handlers
  setHandler(getAssistantStatus, () => ({ ...status, messages: messages.length }));
  setHandler(pauseAssistant, () => void (status.paused = true));
  setHandler(resumeAssistant, () => void (status.paused = false));

  // A turn's Update answers when the turn has a reply, or stops to ask a person: either way the
  // caller hears it from the workflow, so what the chat prints is what the workflow decided.
  const settled = (turn: number, after?: string) => () =>
    status.turns >= turn || (status.pending !== null && status.pending.toolCallId !== after);
  const result = (turn: number): TurnResult => ({ turn, reply: status.turns >= turn ? status.lastReply : null, awaiting: status.pending });

  setHandler(
    sendMessage,
    async (text) => {
      inbox = text;
      const turn = status.turns + 1;
      await condition(settled(turn));
      return result(turn);
    },
    {
      validator: (text) => {
        if (!text.trim()) throw new Error('Say something: the message is empty.');
        if (status.pending) throw new Error(`First answer the question waiting for you: ${status.pending.question}`);
        if (inbox !== null || status.phase !== 'waiting-for-user') throw new Error('Still working on your last message; send this one when it is answered.');
      },
    },
  );
  setHandler(
    confirmToolCall,
    async (answer) => {
      const asked = status.pending!.toolCallId;
      confirmation = answer;
      const turn = status.turns + 1;
      await condition(settled(turn, asked));
      return result(turn);
    },
    {
      validator: ({ by }) => {
        if (!status.pending || confirmation) throw new Error('Nothing is waiting for a confirmation.');
        if (!by?.trim()) throw new Error('A confirmation needs the name of the person giving it.');
      },
    },
  );
  // #endregion handlers

  // #region list-once
  // Listed once per run and kept in workflow state: a replay sees the recorded list, whatever the
  // servers offer today. (A process-wide cache read here would differ between workers and break replay.)
  const tools = [...(await listTools.executeWithOptions({ summary: 'list MCP tools' }, [])), REVIEW_TOOL];
  // #endregion list-once

  for (;;) {
    setCurrentDetails(status.paused ? 'Paused.' : 'Waiting for the user.');
    await condition(() => inbox !== null);
    const text = inbox!;
    inbox = null;
    const reply = await runTurn(text);
    status.lastReply = reply;
    status.turns++;
    turnsThisRun++;
    status.phase = 'waiting-for-user';
    if (input.firstMessage !== undefined) return reply; // a child review: one turn, one answer

    // #region continue-as-new
    // A long conversation would grow this run's history without end: start a fresh run with the
    // messages carried over. Between turns only, once every Update has returned its answer.
    // #exercise continue-between-turns "Part B: a bounded history"
    if (turnsThisRun >= config.turnsPerRun || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof AssistantWorkflow>({ config: input.config, messages, turnsBefore: status.turns });
    }
    // #endexercise
    // #endregion continue-as-new
  }

  // #region loop
  /** One user turn: model step, tool calls, model step, ... until a reply or the step budget is spent. */
  async function runTurn(text: string): Promise<string> {
    messages.push({ role: 'user', content: text });
    for (let step = 1; step <= config.maxSteps; step++) {
      // Pause is honoured between steps: a step in flight finishes, the next waits for resume.
      // #exercise pause-between-steps "Part C: pause between steps"
      if (status.paused) {
        status.phase = 'paused';
        setCurrentDetails('Paused: the next step waits for resume.');
        await condition(() => !status.paused);
      }
      // #endexercise
      status.phase = 'thinking';
      setCurrentDetails(`Turn ${status.turns + 1}, step ${step}: asking the model.`);
      stepsThisRun++;
      let out: ModelStepOutput;
      try {
        out = await modelStep.executeWithOptions({ summary: `model step ${stepsThisRun}` }, [{ system: config.system, messages, tools }]);
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err; // e.g. a cancellation: not ours to answer
        // Retries spent, or refused for good (a bad key): this turn says so; the conversation lives on.
        const reply = `The model could not be reached (${rootMessage(err)}); nothing more was done. Check the worker's model settings, then ask again.`;
        messages.push({ role: 'assistant', content: reply });
        return reply;
      }
      messages.push(...out.messages);
      if (out.toolCalls.length === 0) return out.text;
      const results: ToolResultPart[] = [];
      for (const call of out.toolCalls) {
        results.push({ type: 'tool-result', toolCallId: call.toolCallId, toolName: call.toolName, output: { type: 'text', value: await runToolCall(call) } });
      }
      messages.push({ role: 'tool', content: results });
    }
    const reply = `I stopped after ${config.maxSteps} steps without an answer; ask again, more narrowly.`;
    messages.push({ role: 'assistant', content: reply });
    return reply;
  }
  // #endregion loop

  // #region tool-call
  /** Runs one tool call the model proposed; what it returns is the text the model reads back. */
  async function runToolCall(call: ToolCall): Promise<string> {
    const spec = tools.find((t) => t.name === call.toolName);
    if (!spec) return `There is no tool named ${call.toolName}; the tools are: ${tools.map((t) => t.name).join(', ')}.`;
    if (spec === REVIEW_TOOL) return reviewAwaitingApproval();
    let args = call.input;
    if (spec.destructive) {
      // #exercise ask-first "Part A: the person decides"
      const answer = await askPerson(call, spec);
      if (!answer) return `Not run: nobody confirmed ${spec.tool} within ${String(config.confirmationTimeout)}, so it was refused. Nothing was changed.`;
      if (!answer.approved) return `Not run: ${answer.by} declined ${spec.tool}. Nothing was changed.`;
      // Who decided is the person who confirmed, never a name the model typed.
      args = { ...args, ...personFields(spec, answer.by) };
      // #endexercise
    }
    status.phase = 'calling-tool';
    setCurrentDetails(`Calling ${spec.server}/${spec.tool}.`);
    // Once started, a tool call runs to its end even if the conversation is cancelled meanwhile:
    // cancelling never leaves an approval half-sent. The cancellation takes effect right after.
    return CancellationScope.nonCancellable(() =>
      callTool.executeWithOptions({ summary: `${spec.server}/${spec.tool}` }, [{ server: spec.server, tool: spec.tool, args }]),
    );
  }
  // #endregion tool-call

  // #region ask-person
  /** Waits for a person to confirm an irreversible call, up to the timeout; null when nobody answered. */
  async function askPerson(call: ToolCall, spec: ToolSpec): Promise<Confirmation | null> {
    const deadline = new Date(Date.now() + toMs(config.confirmationTimeout)).toISOString();
    status.pending = { toolCallId: call.toolCallId, server: spec.server, tool: spec.tool, args: call.input, deadline, question: `Run ${spec.tool} ${JSON.stringify(call.input)}?` };
    status.phase = 'awaiting-confirmation';
    setCurrentDetails(`Waiting until ${deadline} for a person to confirm ${spec.tool}.`);
    const answered = await condition(() => confirmation !== null, config.confirmationTimeout, { summary: `confirm ${spec.tool}` });
    const answer = confirmation;
    confirmation = null;
    status.pending = null;
    return answered ? answer : null;
  }
  // #endregion ask-person

  // #region fan-out
  /** One child assistant per invoice awaiting approval, at most N at a time; their replies, as one report. */
  async function reviewAwaitingApproval(): Promise<string> {
    const listing = await callTool.executeWithOptions({ summary: 'invoices/list_invoices' }, [
      { server: 'invoices', tool: 'list_invoices', args: { state: 'AWAITING_APPROVAL', limit: 100 } },
    ]);
    const ids = invoiceIdsIn(listing);
    if (ids === null) return `Could not list the invoices: ${listing}`;
    if (ids.length === 0) return 'No invoice is awaiting approval.';
    const queue = [...ids].sort();
    const summaries = new Map<string, string>();
    const reviewer = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        const reply = await executeChild(AssistantWorkflow, {
          // uuid4() is the workflow's deterministic one: the same id when this code replays.
          workflowId: `review-${id}-${uuid4()}`,
          args: [{ config: input.config, firstMessage: `Review invoice ${id}` }],
          staticSummary: `review ${id}`,
        });
        summaries.set(id, reply);
      }
    };
    await Promise.all(Array.from({ length: Math.min(config.maxConcurrentReviews, queue.length) }, reviewer));
    return [`Reviewed ${ids.length} invoice(s) awaiting approval:`, ...[...ids].sort().map((id) => `- ${summaries.get(id)}`)].join('\n');
  }
  // #endregion fan-out
}
// #endregion assistant-workflow

/** The tool's person fields (`approved_by`, `rejected_by`: any `*_by` in its schema), set to who confirmed. */
function personFields(spec: ToolSpec, by: string): Record<string, string> {
  const properties = Object.keys((spec.inputSchema.properties as Record<string, unknown> | undefined) ?? {});
  return Object.fromEntries(properties.filter((p) => p.endsWith('_by')).map((p) => [p, by]));
}

function invoiceIdsIn(listing: string): string[] | null {
  try {
    const { invoices } = JSON.parse(listing) as { invoices: { invoiceId: string }[] };
    return invoices.map((i) => i.invoiceId);
  } catch {
    return null;
  }
}

/** '24 hours' → 86400000, with the parser Temporal itself uses; numbers are milliseconds already. */
function toMs(duration: Duration): number {
  return typeof duration === 'number' ? duration : ms(duration as StringValue);
}

/** The innermost message: "invalid x-api-key", not "Activity task failed". */
function rootMessage(err: unknown): string {
  let e = err;
  while (e instanceof Error && e.cause) e = e.cause;
  return e instanceof Error ? e.message : String(e);
}
