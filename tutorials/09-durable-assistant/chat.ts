// A terminal chat with the durable assistant. Every line you type is an Update to the assistant's
// workflow, and every reply printed is that Update's answer: the conversation lives in Temporal,
// not here. Quit (Ctrl-C, Ctrl-D, or kill this process) and come back with --resume.
//
//   npx tsx tutorials/09-durable-assistant/chat.ts                      # a new conversation
//   npx tsx tutorials/09-durable-assistant/chat.ts --resume assistant-…  # the same one, later
//   --as NAME   who confirms irreversible calls (default: your login name)
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { Client, Connection, WorkflowUpdateFailedError } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { workflowUrl } from '../../shared/config.js';
import { runMain } from '../../shared/log.js';
import { AssistantWorkflow, ASSISTANT_TASK_QUEUE, confirmToolCall, getAssistantStatus, sendMessage, type TurnResult } from './assistant-workflow.js';

runMain(async () => {
  const { values } = parseArgs({ options: { resume: { type: 'string' }, as: { type: 'string', default: userInfo().username } } });
  const config = loadClientConnectConfig();
  const connection = await Connection.connect(config.connectionOptions);
  const client = new Client({ connection, namespace: config.namespace });

  // #region start-or-resume
  // A new conversation is a new workflow; --resume reaches the running one by id (whichever run
  // it is on after continue-as-new: a handle without a run id follows the chain).
  const handle = values.resume
    ? client.workflow.getHandle<typeof AssistantWorkflow>(values.resume)
    : await client.workflow.start(AssistantWorkflow, {
        taskQueue: process.env.ASSISTANT_TASK_QUEUE?.trim() || ASSISTANT_TASK_QUEUE,
        workflowId: `assistant-${randomUUID().slice(0, 8)}`,
        args: [{}],
        staticSummary: `chat with ${values.as}`,
      });
  // #endregion start-or-resume
  console.log(`Conversation ${handle.workflowId} (${workflowUrl(handle.workflowId)})`);
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  rl.on('SIGINT', () => rl.close()); // Ctrl-C: leave the conversation, not the workflow
  rl.on('close', () => {
    console.log(`\nBye. Come back with: npx tsx tutorials/09-durable-assistant/chat.ts --resume ${handle.workflowId}`);
    process.exit(0);
  });

  let pending: TurnResult | undefined;
  if (values.resume) {
    const status = await handle.query(getAssistantStatus);
    console.log(`Resumed after ${status.turns} turn(s).${status.lastReply ? `\nassistant> ${status.lastReply}` : ''}`);
    if (status.pending) pending = { turn: status.turns + 1, reply: null, awaiting: status.pending };
  }

  // #region turns
  for (;;) {
    let result = pending ?? (await ask(() => rl.question('you> ').then((text) => handle.executeUpdate(sendMessage, { args: [text] }))));
    pending = undefined;
    // The turn stopped to ask a person: confirm or refuse, as another Update, until it has a reply.
    while (result?.awaiting) {
      const { tool, args, deadline } = result.awaiting;
      console.log(`assistant wants to run ${tool} ${JSON.stringify(args)} (refused automatically at ${deadline}).`);
      const answer = (await rl.question(`confirm as ${values.as}? (yes/no) `)).trim().toLowerCase();
      result = await ask(() => handle.executeUpdate(confirmToolCall, { args: [{ by: values.as!, approved: answer === 'yes' || answer === 'y' }] }));
      // Refused: most likely the wait timed out meanwhile, and the turn went on without us. Show how it ended.
      if (!result) result = { turn: 0, reply: (await handle.query(getAssistantStatus)).lastReply, awaiting: null };
    }
    if (result?.reply) console.log(`assistant> ${result.reply}`);
  }
  // #endregion turns
});

/** Sends one Update; a refusal by the workflow's validator is shown, not thrown. */
async function ask(send: () => Promise<TurnResult>): Promise<TurnResult | undefined> {
  try {
    return await send();
  } catch (err) {
    if (!(err instanceof WorkflowUpdateFailedError)) throw err;
    console.log(`(not sent: ${err.cause?.message ?? err.message})`);
    return undefined;
  }
}
