// The MCP server of step 06 is step 05's, unchanged: the same five tools, now driving this
// step's workflows (task queue invoices-06). Nothing in it needed to change for durability,
// because it keeps nothing that matters in memory: kill it, start another, and it finds every
// invoice where Temporal kept it.
//
//   npx tsx tutorials/06-durability-demo/server.ts            # stdio, for Claude Desktop
//   npx tsx tutorials/06-durability-demo/server.ts --http     # Streamable HTTP on 127.0.0.1
import { runMain } from '../../shared/log.js';
import { serveInvoiceTools } from '../05-mcp-server/server.js';
import { TASK_QUEUE } from './workflows.js';

runMain(() => serveInvoiceTools({ taskQueue: TASK_QUEUE, workerScript: 'tutorials/06-durability-demo/worker.ts' }));
