/**
 * `npm run reset`: removes what the steps leave behind, so the next run starts clean.
 *
 *   npm run reset                 # remove, printing each thing removed
 *   npm run reset -- --dry-run    # only list what would be removed
 *
 * What goes: the payment ledgers (`.temporal/ledger-06.jsonl`, one per step that keeps one), the
 * Temporal databases the durability demo and the by-hand walkthrough keep (`.temporal/demo-06-...`,
 * `.temporal/*.db`), folders an interrupted test or script left in `.temporal/`, the logs of dev
 * servers that failed (`.temporal/logs/`), and `practice/`
 * (the exercise copies of `npm run exercise`, with your work in them). What stays: everything
 * else, above all the Temporal binaries (`.temporal/venv`) and `node_modules`. Nothing outside the
 * repository is touched, even through a symbolic link.
 *
 * @module
 */
import { lstatSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../shared/binaries.js';
import { isEntryPoint, runMain } from '../shared/log.js';

/** One thing `reset` removes. */
export interface Leftover {
  /** Absolute path. */
  path: string;
  /** Path relative to the repository root, with `/`, e.g. `.temporal/ledger-06.jsonl`. */
  name: string;
  /** Why it is there, e.g. `the payment ledger of step 06`. */
  what: string;
}

/** What may go from `.temporal/`, by name; the first rule that matches says what it is. */
const TEMPORAL_DIR_RULES: { test: RegExp; dir: boolean; what: (m: RegExpExecArray) => string }[] = [
  { test: /^ledger-(\d{2})\.jsonl$/, dir: false, what: (m) => `the payment ledger of step ${m[1]}` },
  { test: /^ledger-.*\.jsonl$/, dir: false, what: () => 'a payment ledger' },
  { test: /\.db(?:-journal|-wal|-shm)?$/, dir: false, what: () => 'a Temporal database (--db-filename)' },
  { test: /^demo-(\d{2})-/, dir: true, what: (m) => `a run of the step ${m[1]} durability demo (its Temporal database and ledger)` },
  { test: /^test-(\d{2})-/, dir: true, what: (m) => `the temporary folder of a step ${m[1]} test (interrupted, or running now)` },
  { test: /^record-histories-/, dir: true, what: () => 'left by an interrupted scripts/record-histories.ts' },
  { test: /^logs$/, dir: true, what: () => 'the output of dev servers that failed to start or were not stopped' },
];

/**
 * Lists what `reset` would remove under `root`, in a stable order. Entries that resolve outside
 * `root` (a `.temporal` linked elsewhere, say) are left out: they are not this repository's.
 */
export function findLeftovers(root: string = REPO_ROOT): Leftover[] {
  const realRoot = realpathSync(root);
  const found: Leftover[] = [];
  const temporalDir = path.join(root, '.temporal');
  if (isInside(realRoot, temporalDir) && kindOf(temporalDir) === 'dir') {
    for (const entry of readdirSync(temporalDir).sort()) {
      const full = path.join(temporalDir, entry);
      const kind = kindOf(full);
      for (const rule of TEMPORAL_DIR_RULES) {
        const m = rule.test.exec(entry);
        // A link is removed as a link, never followed, whatever it points at.
        if (m && (kind === 'link' || (kind === 'dir') === rule.dir)) {
          found.push({ path: full, name: `.temporal/${entry}`, what: rule.what(m) });
          break;
        }
      }
    }
  }
  const practice = path.join(root, 'practice');
  if (kindOf(practice) !== undefined) found.push({ path: practice, name: 'practice/', what: 'the exercise copies of npm run exercise, with your work in them' });
  return found;
}

/**
 * Removes the leftovers under `root` (or only lists them with `dryRun`), reporting each through
 * `say`. Returns what was (or would be) removed and what could not be removed, with why.
 */
export function reset(
  root: string = REPO_ROOT,
  options: { dryRun?: boolean; say?: (line: string) => void } = {},
): { removed: Leftover[]; failed: { leftover: Leftover; reason: string }[] } {
  const say = options.say ?? ((line: string) => console.log(line));
  const leftovers = findLeftovers(root);
  const removed: Leftover[] = [];
  const failed: { leftover: Leftover; reason: string }[] = [];
  if (leftovers.length === 0) {
    say('Nothing to remove: no ledgers, no demo or test databases, no practice/ folder.');
    return { removed, failed };
  }
  for (const leftover of leftovers) {
    if (options.dryRun) {
      say(`would remove ${leftover.name}  (${leftover.what})`);
      removed.push(leftover);
      continue;
    }
    try {
      // rmSync does not follow a symbolic link: it removes the link itself.
      rmSync(leftover.path, { recursive: true, force: true, maxRetries: 3 });
      say(`removed ${leftover.name}  (${leftover.what})`);
      removed.push(leftover);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const reason =
        code === 'EBUSY' || code === 'EPERM'
          ? 'it is in use: stop the Temporal server (npm run temporal) and the workers, then run npm run reset again'
          : (err as Error).message;
      say(`could not remove ${leftover.name}: ${reason}`);
      failed.push({ leftover, reason });
    }
  }
  if (options.dryRun) say('Nothing was removed (--dry-run). The Temporal binaries (.temporal/venv) and node_modules are always kept.');
  else say('Kept the Temporal binaries (.temporal/venv) and node_modules.');
  return { removed, failed };
}

function kindOf(p: string): 'dir' | 'file' | 'link' | undefined {
  try {
    const s = lstatSync(p);
    return s.isSymbolicLink() ? 'link' : s.isDirectory() ? 'dir' : 'file';
  } catch {
    return undefined;
  }
}

/** True when `p` itself (following links) lies inside `realRoot`. */
function isInside(realRoot: string, p: string): boolean {
  let real: string;
  try {
    real = realpathSync(p);
  } catch {
    return false;
  }
  const rel = path.relative(realRoot, real);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

const USAGE = 'usage: npm run reset [-- --dry-run]';

function main(argv: string[]): void {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { 'dry-run': { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } } }));
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${USAGE}`);
  }
  if (values.help) return void console.log(USAGE);
  // An npm.ps1 older than npm 10.9.3 (PowerShell) keeps --dry-run for npm itself, which hands it on
  // only as npm_config_dry_run: honour it, or a look would become a removal.
  const dryRun = values['dry-run'] || (process.env.npm_lifecycle_event === 'reset' && process.env.npm_config_dry_run === 'true');
  const { failed } = reset(REPO_ROOT, { dryRun });
  if (failed.length) process.exitCode = 1;
}

if (isEntryPoint(import.meta.url)) runMain(async () => main(process.argv.slice(2)));
