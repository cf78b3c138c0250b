// The client: plays an assistant whose host supports MCP tasks, and shows the tasks outliving
// the server. It launches server.ts over stdio, calls process_invoice as a task for a few
// invoices, kills the server (SIGKILL) and launches a new one, several times, and each time
// reads every task again over the new connection. Then it approves one invoice through the last
// server and fetches the task's result. Needs Temporal and the step 07 worker running.
//   npx tsx tutorials/07-mcp-native/client.ts [--tasks 5] [--restarts 2] [--approver alice]
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CallToolResultSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { tsxCommand } from '../../shared/binaries.js';
import { newInvoiceId, sampleInvoice } from '../../shared/invoice.js';
import { runMain } from '../../shared/log.js';

const { values } = parseArgs({
  options: { tasks: { type: 'string', default: '5' }, restarts: { type: 'string', default: '2' }, approver: { type: 'string', default: 'alice' } },
});
const TASKS = Number(values.tasks);
const RESTARTS = Number(values.restarts);

runMain(async () => {
  if (!(TASKS >= 1 && RESTARTS >= 1)) throw new Error('--tasks and --restarts must be numbers of 1 or more.');
  let session = await launch();
  try {
    // #region create-tasks
    // `task` in the call makes it a task: the server answers at once with the task (the invoice
    // workflow, just started), and the client follows it with tasks/get and tasks/result.
    const taskIds: string[] = [];
    for (let i = 0; i < TASKS; i++) {
      const stream = session.client.experimental.tasks.callToolStream(
        { name: 'process_invoice', arguments: sampleInvoice(newInvoiceId()) },
        CallToolResultSchema,
        { task: { ttl: 60 * 60_000 } },
      );
      for await (const message of stream) {
        if (message.type !== 'taskCreated') throw new Error(`Expected a task, got ${JSON.stringify(message)}`);
        taskIds.push(message.task.taskId);
        break; // the task exists; we do not wait for it here
      }
    }
    // #endregion create-tasks
    console.log(`${TASKS} tasks created through server pid ${session.transport.pid}: ${taskIds.join(', ')}`);
    await waitUntil(async () => (await statuses(session.client, taskIds)).every((s) => s === 'input_required'));

    for (let restart = 1; restart <= RESTARTS; restart++) {
      const killed = session.transport.pid!;
      process.kill(killed, 'SIGKILL'); // everything in that server's memory is gone
      await session.client.close();
      session = await launch(); // a new process, a new connection, a new MCP session
      const seen = await statuses(session.client, taskIds);
      const readable = seen.filter((s) => s !== 'unreadable').length;
      console.log(`restart ${restart}: server pid ${killed} killed, pid ${session.transport.pid} started; ${readable}/${TASKS} tasks readable (${summary(seen)})`);
    }

    const [first] = taskIds;
    const invoiceId = first.replace(/^invoice-/, '');
    const approved = (await session.client.callTool({ name: 'approve_invoice', arguments: { invoice_id: invoiceId, approved_by: values.approver } })) as CallToolResult;
    if (approved.isError) throw new Error(`approve_invoice failed: ${JSON.stringify(approved.content)}`);
    // tasks/result waits until the task has finished, then returns the workflow's result.
    const result = await session.client.experimental.tasks.getTaskResult(first, CallToolResultSchema);
    const final = result.structuredContent as { state: string; amountPaid: number; linesPaid: number };
    console.log(`tasks/result for ${first} through the newest server: ${final.state}, ${final.linesPaid} lines, ${final.amountPaid.toFixed(2)} paid`);
    console.log(`\n✔ tasks created: ${TASKS}; server restarts: ${RESTARTS}; tasks still readable after the last restart: ${(await statuses(session.client, taskIds)).filter((s) => s !== 'unreadable').length}/${TASKS}.`);
  } finally {
    await session.client.close();
  }
});

// #region connect
/** Launches the server the way a host does (a child process on stdio) and connects a client with tasks. */
async function launch() {
  const { command, args } = tsxCommand(new URL('./server.ts', import.meta.url));
  const transport = new StdioClientTransport({ command, args, env: { ...process.env } as Record<string, string>, stderr: 'ignore' });
  const client = new Client({ name: 'invoice-tasks-client', version: '1.0.0' }, { capabilities: { tasks: { list: {}, cancel: {} } } });
  await client.connect(transport);
  return { client, transport };
}
// #endregion connect

/** tasks/get for every task: its status, or 'unreadable'. */
function statuses(client: Client, taskIds: string[]): Promise<string[]> {
  return Promise.all(taskIds.map((id) => client.experimental.tasks.getTask(id).then((t) => t.status, () => 'unreadable')));
}

function summary(statuses: string[]): string {
  const counts = new Map<string, number>();
  for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
  return [...counts].map(([s, n]) => `${n} ${s}`).join(', ');
}

async function waitUntil(done: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`The tasks did not all reach input_required within ${timeoutMs / 1000} s. Is the worker running (npx tsx tutorials/07-mcp-native/worker.ts)?`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
