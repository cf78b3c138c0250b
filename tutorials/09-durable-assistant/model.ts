// Which model the assistant talks to, through the AI SDK, chosen by the environment:
//
//   ANTHROPIC_API_KEY                     → Claude, through @ai-sdk/anthropic (ANTHROPIC_MODEL to pick one)
//   OPENAI_COMPATIBLE_BASE_URL (+ _KEY, _MODEL) → any OpenAI-compatible endpoint, e.g. a local Ollama:
//                                           OPENAI_COMPATIBLE_BASE_URL=http://localhost:11434/v1 OPENAI_COMPATIBLE_MODEL=qwen3
//   neither                               → a SCRIPTED STAND-IN, not a model: it knows a handful of
//                                           sentences (below) and answers them the same way every time.
//
// The stand-in is the AI SDK's own MockLanguageModelV4 (from ai/test), so the activity that calls
// it is the very code that calls Claude. It answers as a pure function of the conversation so far:
// a retried activity, or a new worker after a crash, gets the same answer, as a test needs.
import { createAnthropic } from '@ai-sdk/anthropic';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { LanguageModelV4, LanguageModelV4GenerateResult, LanguageModelV4Prompt } from '@ai-sdk/provider';
import type { LanguageModel } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';

/** The model and a name for it, for the worker's first log line. */
export interface ChosenModel {
  model: LanguageModel;
  description: string;
}

// #region choose-model
/** The model the environment asks for; the scripted stand-in when it asks for none. */
export function chooseModel(env: NodeJS.ProcessEnv = process.env): ChosenModel {
  if (env.ANTHROPIC_API_KEY) {
    const modelId = env.ANTHROPIC_MODEL ?? 'claude-sonnet-4-5';
    return { model: createAnthropic({ apiKey: env.ANTHROPIC_API_KEY })(modelId), description: `Anthropic ${modelId}` };
  }
  if (env.OPENAI_COMPATIBLE_BASE_URL) {
    const modelId = env.OPENAI_COMPATIBLE_MODEL;
    if (!modelId) throw new Error('OPENAI_COMPATIBLE_BASE_URL is set but OPENAI_COMPATIBLE_MODEL is not: name the model, e.g. OPENAI_COMPATIBLE_MODEL=qwen3.');
    const provider = createOpenAICompatible({ name: 'openai-compatible', baseURL: env.OPENAI_COMPATIBLE_BASE_URL, apiKey: env.OPENAI_COMPATIBLE_KEY });
    return { model: provider(modelId), description: `${modelId} at ${env.OPENAI_COMPATIBLE_BASE_URL}` };
  }
  return { model: scriptedStandIn(), description: 'the SCRIPTED STAND-IN (no ANTHROPIC_API_KEY or OPENAI_COMPATIBLE_BASE_URL set): it only knows the sentences in model.ts' };
}
// #endregion choose-model

// #region stand-in
/** What the stand-in understands: a sentence, the tool it calls for it, and how it answers the tool's result. */
interface Rule {
  says: string;
  pattern: RegExp;
  call: (match: RegExpMatchArray) => { tool: string; input: Record<string, unknown> };
  answer: (result: string, match: RegExpMatchArray) => string;
}

const RULES: Rule[] = [
  {
    says: 'Process this invoice: {…invoice JSON…}',
    pattern: /^process this invoice:\s*(\{[\s\S]*\})\s*$/i,
    call: (m) => ({ tool: 'invoices_process_invoice', input: JSON.parse(m[1]!) as Record<string, unknown> }),
    answer: (result) => field(result, 'message') ?? `That did not work: ${result}`,
  },
  {
    says: "What's the status of INV-…?",
    pattern: /^what'?s the status of ([\w-]+)\??$/i,
    call: (m) => ({ tool: 'invoices_get_invoice_status', input: { invoice_id: m[1] } }),
    answer: (result, m) => {
      const state = field(result, 'state');
      return state ? `${m[1]} is ${state}: ${field(result, 'linesPaid')} of ${field(result, 'linesTotal')} line(s) paid.` : `I could not read ${m[1]}: ${result}`;
    },
  },
  {
    says: 'Approve invoice INV-…',
    pattern: /^approve invoice ([\w-]+)$/i,
    // The stand-in, like a real model, fills in a name; the workflow replaces it with the person who confirms.
    call: (m) => ({ tool: 'invoices_approve_invoice', input: { invoice_id: m[1], approved_by: 'the assistant' } }),
    answer: (result, m) => field(result, 'message') ?? `I did not approve ${m[1]}: ${result}`,
  },
  {
    says: 'Reject invoice INV-… because …',
    pattern: /^reject invoice ([\w-]+) because (.+)$/i,
    call: (m) => ({ tool: 'invoices_reject_invoice', input: { invoice_id: m[1], rejected_by: 'the assistant', reason: m[2] } }),
    answer: (result, m) => field(result, 'message') ?? `I did not reject ${m[1]}: ${result}`,
  },
  {
    says: 'Review invoice INV-…',
    pattern: /^review invoice ([\w-]+)$/i,
    call: (m) => ({ tool: 'invoices_get_invoice_status', input: { invoice_id: m[1] } }),
    answer: (result, m) => {
      const state = field(result, 'state');
      return state ? `${m[1]}: ${field(result, 'customer')}, ${Number(field(result, 'amountDue')).toFixed(2)} in ${field(result, 'linesTotal')} line(s), ${state}.` : `${m[1]}: unreadable (${result})`;
    },
  },
  {
    says: 'Review everything awaiting approval',
    pattern: /^review everything awaiting approval$/i,
    call: () => ({ tool: 'assistant_review_awaiting_approval', input: {} }),
    answer: (result) => result,
  },
  {
    says: 'Remember that NAME: FACT',
    pattern: /^remember that ([^:]+):\s*(.+)$/i,
    call: (m) => ({ tool: 'memory_create_entities', input: { entities: [{ name: m[1]!.trim(), entityType: 'note', observations: [m[2]!.trim()] }] } }),
    answer: (_result, m) => `Noted about ${m[1]!.trim()}: ${m[2]!.trim()}`,
  },
  {
    says: 'What do you remember about NAME?',
    pattern: /^what do you remember about (.+?)\??$/i,
    call: (m) => ({ tool: 'memory_search_nodes', input: { query: m[1]!.trim() } }),
    answer: (result, m) => {
      const graph = parse(result) as { entities?: { observations?: string[] }[] } | undefined;
      const facts = graph?.entities?.flatMap((e) => e.observations ?? []) ?? [];
      return facts.length ? `About ${m[1]!.trim()}: ${facts.join('; ')}` : `I remember nothing about ${m[1]!.trim()}.`;
    },
  },
];

/**
 * A scripted stand-in for a language model, for tests and for running without a key. It is NOT a
 * model: it reads the last user message, calls the one tool its rule names (if that tool was
 * offered), then answers from the tool's result. Nothing but the prompt decides what it says.
 */
export function scriptedStandIn(): LanguageModelV4 {
  return new MockLanguageModelV4({
    provider: 'scripted-stand-in',
    modelId: 'scripted-stand-in',
    doGenerate: async ({ prompt, tools }) => scriptedStep(prompt, new Set((tools ?? []).map((t) => t.name))),
  });
}

/** One step of the stand-in: a pure function of the conversation so far and the tools offered. */
export function scriptedStep(prompt: LanguageModelV4Prompt, offered: Set<string>): LanguageModelV4GenerateResult {
  const lastUser = prompt.map((m) => m.role).lastIndexOf('user');
  const userMessage = prompt[lastUser];
  const user = userMessage?.role === 'user' ? textOf(userMessage.content).trim() : '';
  // The tool results that came back since the user spoke: the stand-in calls one tool per turn.
  const results = prompt.slice(lastUser + 1).flatMap((m) => (m.role === 'tool' ? m.content : []));
  const rule = RULES.find((r) => r.pattern.test(user));
  const match = rule && user.match(rule.pattern);
  if (!rule || !match) {
    return say(`I am a scripted stand-in, not a model: set ANTHROPIC_API_KEY or OPENAI_COMPATIBLE_BASE_URL for a real one. I understand: ${RULES.map((r) => `"${r.says}"`).join(', ')}.`);
  }
  const result = results.find((r) => r.type === 'tool-result');
  if (result && result.type === 'tool-result') {
    const output = result.output;
    return say(rule.answer(output.type === 'text' || output.type === 'error-text' ? output.value : JSON.stringify(output), match));
  }
  const { tool, input } = rule.call(match);
  if (!offered.has(tool)) return say(`I would call ${tool}, but no such tool was offered to me.`);
  return {
    // The id is derived from the conversation, so a retried step returns the very same call.
    content: [{ type: 'tool-call', toolCallId: `call-${prompt.length}`, toolName: tool, input: JSON.stringify(input) }],
    finishReason: { unified: 'tool-calls', raw: undefined },
    usage: NO_USAGE,
    warnings: [],
  };
}
// #endregion stand-in

const NO_USAGE: LanguageModelV4GenerateResult['usage'] = {
  inputTokens: { total: undefined, noCache: undefined, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: undefined, text: undefined, reasoning: undefined },
};

function say(text: string): LanguageModelV4GenerateResult {
  return { content: [{ type: 'text', text }], finishReason: { unified: 'stop', raw: undefined }, usage: NO_USAGE, warnings: [] };
}

function textOf(content: readonly { type: string; text?: string }[]): string {
  return content.map((part) => (part.type === 'text' ? part.text : '')).join('');
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A field of a JSON tool result, as text; undefined when the result is not JSON (an error message). */
function field(result: string, name: string): string | undefined {
  const value = (parse(result) as Record<string, unknown> | undefined)?.[name];
  return value === undefined || value === null ? undefined : String(value);
}
