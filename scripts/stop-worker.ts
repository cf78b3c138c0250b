/**
 * `npm run stop-worker -- 06 [--hard]`: stops a step's worker from another terminal, in every
 * shell (what `pkill -f 06-durability-demo/worker.ts` does on macOS and Linux only).
 *
 *   npm run stop-worker -- 06          # gently (SIGTERM): it finishes the tasks in hand, then exits
 *   npm run stop-worker -- 06 --hard   # SIGKILL: gone at once, mid-payment, no clean-up (step 06's crash)
 *
 * It finds the processes whose command line runs `<step folder>/worker.ts` (also a practice copy)
 * and signals only the innermost one, the Node.js process that runs the worker: `npx tsx` starts
 * it under one or two parent processes, which exit with it. Windows has no SIGTERM that another
 * console can send, so there only `--hard` works (`taskkill /F`); stop a worker gently with Ctrl-C
 * in its own terminal.
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isEntryPoint, runMain } from '../shared/log.js';
import { listSteps } from './claude-config.js';
import { findStep } from './doctor.js';

/** A process on this machine. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Its full command line. */
  command: string;
}

/** Every process this user can see, with its command line: /proc on Linux, `ps` on macOS, CIM on Windows. */
export function listProcesses(): ProcessInfo[] {
  if (process.platform === 'win32') return listWindowsProcesses();
  if (existsSync('/proc/self/cmdline')) return listProcFs();
  const out = execFileSync('ps', ['-axo', 'pid=,ppid=,args='], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  return out
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), command: m[3] }));
}

function listProcFs(): ProcessInfo[] {
  const list: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      // stat: "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ")".
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (command) list.push({ pid: Number(entry), ppid, command });
    } catch {
      // exited while we looked
    }
  }
  return list;
}

function listWindowsProcesses(): ProcessInfo[] {
  // tasklist shows no command lines, and wmic is gone from recent Windows: ask CIM through PowerShell.
  const script =
    "Get-CimInstance Win32_Process | Where-Object { $_.Name -eq 'node.exe' } | " +
    'Select-Object ProcessId,ParentProcessId,CommandLine | ConvertTo-Json -Compress';
  const out = execFileSync('powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', script], { encoding: 'utf8', windowsHide: true }).trim();
  if (!out) return [];
  const parsed = JSON.parse(out) as unknown;
  const rows = (Array.isArray(parsed) ? parsed : [parsed]) as { ProcessId: number; ParentProcessId: number; CommandLine: string | null }[];
  return rows.map((r) => ({ pid: r.ProcessId, ppid: r.ParentProcessId, command: r.CommandLine ?? '' }));
}

/**
 * The processes that run `<folder>/worker.ts`, innermost only: of `npx` → `tsx` → `node worker.ts`,
 * the last, which is the worker itself. This process and its parents are never among them.
 */
export function workerProcesses(all: ProcessInfo[], folder: string, self: number = process.pid): ProcessInfo[] {
  const escaped = folder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const runsWorker = new RegExp(`(?:^|[\\\\/\\s"'=])${escaped}[\\\\/]worker\\.ts(?![\\w.])`);
  const ancestors = new Set<number>();
  for (let p: ProcessInfo | undefined = all.find((x) => x.pid === self); p && !ancestors.has(p.pid); p = all.find((x) => x.pid === p!.ppid)) {
    ancestors.add(p.pid);
  }
  const matching = all.filter((p) => runsWorker.test(p.command) && !ancestors.has(p.pid));
  const pids = new Set(matching.map((p) => p.pid));
  return matching.filter((p) => !matching.some((child) => child.ppid === p.pid && pids.has(child.pid)));
}

/** True while a process with this pid exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Signals each process (SIGKILL with `hard`, SIGTERM otherwise) and waits until it is gone.
 * Resolves with the pids that did not exit within `timeoutMs`.
 */
export async function stopProcesses(targets: ProcessInfo[], options: { hard: boolean; timeoutMs?: number }): Promise<number[]> {
  for (const p of targets) {
    if (process.platform === 'win32') {
      // /F: a console program has no window to receive taskkill's polite close request.
      execFileSync('taskkill', ['/PID', String(p.pid), '/F'], { stdio: 'ignore', windowsHide: true });
    } else {
      try {
        process.kill(p.pid, options.hard ? 'SIGKILL' : 'SIGTERM');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err; // already gone is fine
      }
    }
  }
  const deadline = Date.now() + (options.timeoutMs ?? (options.hard ? 5_000 : 30_000));
  let left = targets.map((p) => p.pid);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    left = left.filter(alive);
  }
  return left;
}

const USAGE = 'usage: npm run stop-worker -- <step> [--hard]    e.g. npm run stop-worker -- 06 --hard';

async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { hard: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } } });
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) return void console.log(USAGE);
  if (positionals.length !== 1) throw new Error(`${positionals.length ? 'Give exactly one step.' : 'Which step?'}\n${USAGE}`);
  const step = findStep(positionals[0], listSteps());
  // An npm.ps1 older than npm 10.9.3 (PowerShell) keeps --hard for npm itself, which hands it on
  // only as npm_config_hard: honour it there, or the learner's "hard" kill would be a gentle one.
  const hard = values.hard || (process.env.npm_lifecycle_event === 'stop-worker' && process.env.npm_config_hard === 'true');
  if (process.platform === 'win32' && !hard) {
    throw new Error(
      'On Windows another terminal cannot ask a worker to stop gently: press Ctrl-C in the worker\'s own terminal, ' +
        `or stop it the hard way: npm run stop-worker -- ${step.number} --hard`,
    );
  }
  const targets = workerProcesses(listProcesses(), step.folder);
  if (targets.length === 0) {
    throw new Error(`No step ${step.number} worker is running (no process runs ${step.folder}/worker.ts). Start one: npx tsx tutorials/${step.folder}/worker.ts`);
  }
  const how = hard ? 'SIGKILL: no clean-up, whatever it was doing is cut off' : 'SIGTERM: it finishes the tasks in hand, then exits';
  for (const p of targets) console.log(`Stopping the step ${step.number} worker, pid ${p.pid} (${how}) ...`);
  const left = await stopProcesses(targets, { hard });
  if (left.length > 0) {
    throw new Error(`Still running after waiting: pid ${left.join(', ')}. Stop it the hard way: npm run stop-worker -- ${step.number} --hard`);
  }
  console.log(`Stopped. Temporal keeps its work${hard ? ': start a worker again and it carries on where this one was cut off' : ''}.`);
}

if (isEntryPoint(import.meta.url)) runMain(() => main(process.argv.slice(2)));
