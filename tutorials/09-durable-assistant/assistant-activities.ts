// The assistant's activities: everything that talks to the outside world. One call of the model
// for one step, one call of one MCP tool, and the list of tools. The loop that strings them
// together is in assistant-workflow.ts, where Temporal records every step.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { APICallError, generateText, jsonSchema, tool, type LanguageModel, type ToolSet } from 'ai';
import type { JSONSchema7 } from '@ai-sdk/provider';
import { UnknownServerError, type McpPool } from './mcp-pool.js';
import type { ModelStepInput, ModelStepOutput, ToolCallInput, ToolSpec } from './assistant-workflow.js';

/** What a test (or a metrics exporter) may watch: each real model call and each real tool run. */
export interface AssistantObserver {
  onModelCall?: (input: ModelStepInput) => void;
  /** Called after the tool ran, with its result: the moment a crash would lose the reply. */
  onToolCall?: (call: ToolCallInput, result: string) => void | Promise<void>;
}

/**
 * The activities get the model and the pool of MCP connections handed in, so the worker uses the
 * ones its environment names and a test its own, with counters attached.
 */
export function createAssistantActivities(model: LanguageModel, pool: McpPool, observer: AssistantObserver = {}) {
  return {
    // #region list-tools
    /** Every configured server's tools. Called once per run; the workflow keeps the answer. */
    async listTools(): Promise<ToolSpec[]> {
      return pool.listTools();
    },
    // #endregion list-tools

    // #region model-step
    /** One step of the model: the conversation so far in, its next message out (text, or tool calls). */
    async modelStep({ system, messages, tools }: ModelStepInput): Promise<ModelStepOutput> {
      observer.onModelCall?.({ system, messages, tools });
      const result = await generateText({
        model,
        system,
        messages,
        // Schemas only, no execute: the model proposes calls, the workflow decides and runs them.
        tools: Object.fromEntries(tools.map((t) => [t.name, tool({ description: t.description, inputSchema: jsonSchema(t.inputSchema as JSONSchema7) })])) as ToolSet,
        // Temporal's retry policy is the only one: an SDK that retried too would multiply the attempts
        // (3 SDK tries x 5 activity attempts) and hide each one from the history.
        maxRetries: 0,
        abortSignal: Context.current().cancellationSignal,
      }).catch((err: unknown) => {
        // A bad key or a model that does not exist will not work on the next attempt either.
        if (APICallError.isInstance(err) && !err.isRetryable) throw ApplicationFailure.nonRetryable(err.message, 'ModelRefused');
        throw err;
      });
      return {
        text: result.text,
        toolCalls: result.toolCalls.map((c) => ({ toolCallId: c.toolCallId, toolName: c.toolName, input: (c.input ?? {}) as Record<string, unknown> })),
        messages: result.response.messages,
      };
    },
    // #endregion model-step

    // #region call-tool
    /** One MCP tool call. Its input is the tool and its arguments only, never the conversation. */
    async callTool(call: ToolCallInput): Promise<string> {
      // Heartbeats while the server works: if they stop (this worker died), Temporal tries the call
      // again on another worker after the heartbeat timeout, seconds, not the minute a call may take.
      const context = Context.current();
      const beating = setInterval(() => context.heartbeat(), 1_000);
      try {
        const result = await pool.callTool(call.server, call.tool, call.args);
        await observer.onToolCall?.(call, result);
        return result;
      } catch (err) {
        if (err instanceof UnknownServerError) throw ApplicationFailure.nonRetryable(err.message, 'UnknownServer');
        throw err;
      } finally {
        clearInterval(beating);
      }
    },
    // #endregion call-tool
  };
}
