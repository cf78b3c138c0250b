// Proof for `npm run reset`: on a throwaway copy of the repository's layout, it removes exactly
// what the steps leave behind and keeps everything else, the Temporal binaries above all.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findLeftovers, reset } from './reset.js';

/** Leftovers the steps, demos, tests and `npm run exercise` write. */
const LEFTOVERS = [
  '.temporal/ledger-06.jsonl',
  '.temporal/ledger-07.jsonl',
  '.temporal/tutorial.db',
  '.temporal/tutorial.db-wal',
  '.temporal/demo-06-1763720000000/temporal.db',
  '.temporal/demo-06-1763720000000/ledger.jsonl',
  '.temporal/test-06-aB3xYz/ledger.jsonl',
  '.temporal/test-06-key-Q1w2E3/ledger.jsonl',
  '.temporal/record-histories-Zx9/ledger.jsonl',
  'practice/03-queries/workflows.ts',
];
/** What must survive: the binaries, dependencies, sources, and files that only look similar. */
const KEEP = [
  '.temporal/venv/bin/temporal',
  '.temporal/venv/bin/temporal-test-server',
  '.temporal/venv/lib/python3.12/site-packages/some.db',
  '.temporal/install.lock/pid',
  '.temporal/notes.txt',
  'node_modules/@temporalio/client/package.json',
  'node_modules/some-package/data.db',
  'tutorials/06-durability-demo/worker.ts',
  'tutorials/06-durability-demo/ledger.jsonl',
  'docs/ledger-06.jsonl',
  'my-invoices.db',
  'package.json',
];

let tmp: string;
let root: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'reset-test-'));
  root = path.join(tmp, 'repo');
  for (const file of [...LEFTOVERS, ...KEEP]) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), 'x');
  }
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

/** Every file under `dir`, relative, with `/`. */
function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? filesUnder(path.join(dir, d.name), `${prefix}${d.name}/`) : [`${prefix}${d.name}`],
  );
}

describe('npm run reset', () => {
  it('removes exactly the leftovers, says what each was, and keeps the rest', () => {
    const lines: string[] = [];
    const { removed, failed } = reset(root, { say: (l) => lines.push(l) });
    expect(failed).toEqual([]);
    expect(removed.map((r) => r.name)).toEqual([
      '.temporal/demo-06-1763720000000',
      '.temporal/ledger-06.jsonl',
      '.temporal/ledger-07.jsonl',
      '.temporal/record-histories-Zx9',
      '.temporal/test-06-aB3xYz',
      '.temporal/test-06-key-Q1w2E3',
      '.temporal/tutorial.db',
      '.temporal/tutorial.db-wal',
      'practice/',
    ]);
    expect(filesUnder(root).sort()).toEqual([...KEEP].sort());
    expect(existsSync(path.join(root, 'practice'))).toBe(false);
    expect(lines).toContain('removed .temporal/ledger-06.jsonl  (the payment ledger of step 06)');
    expect(lines.at(-1)).toBe('Kept the Temporal binaries (.temporal/venv) and node_modules.');
  });

  it('with --dry-run lists the same things and removes nothing', () => {
    const lines: string[] = [];
    const { removed } = reset(root, { dryRun: true, say: (l) => lines.push(l) });
    expect(removed).toHaveLength(9);
    expect(lines.filter((l) => l.startsWith('would remove '))).toHaveLength(9);
    expect(filesUnder(root).sort()).toEqual([...LEFTOVERS, ...KEEP].sort());
  });

  it('says so when there is nothing to remove, and a second run finds nothing', () => {
    reset(root, { say: () => {} });
    const lines: string[] = [];
    expect(reset(root, { say: (l) => lines.push(l) }).removed).toEqual([]);
    expect(lines).toEqual(['Nothing to remove: no ledgers, no demo or test databases, no practice/ folder.']);
  });

  // Creating symbolic links on Windows needs developer mode or an elevated shell.
  it.skipIf(process.platform === 'win32')('never touches anything outside the repository, even through a link', () => {
    const outside = path.join(tmp, 'outside');
    mkdirSync(outside);
    writeFileSync(path.join(outside, 'ledger-06.jsonl'), 'precious');
    writeFileSync(path.join(outside, 'work.ts'), 'precious');
    // practice/ is a link to a folder elsewhere, and a ledger is a link to a file elsewhere.
    rmSync(path.join(root, 'practice'), { recursive: true });
    symlinkSync(outside, path.join(root, 'practice'), 'dir');
    symlinkSync(path.join(outside, 'ledger-06.jsonl'), path.join(root, '.temporal', 'ledger-08.jsonl'));
    reset(root, { say: () => {} });
    expect(filesUnder(outside).sort()).toEqual(['ledger-06.jsonl', 'work.ts']);
    expect(existsSync(path.join(root, 'practice'))).toBe(false); // the link went, not what it points at

    // A .temporal/ that is a link to another folder is not this repository's: nothing in it goes.
    const shared = path.join(tmp, 'shared-temporal');
    mkdirSync(shared);
    writeFileSync(path.join(shared, 'ledger-06.jsonl'), 'precious');
    rmSync(path.join(root, '.temporal'), { recursive: true });
    symlinkSync(shared, path.join(root, '.temporal'), 'dir');
    expect(findLeftovers(root)).toEqual([]);
    reset(root, { say: () => {} });
    expect(filesUnder(shared)).toEqual(['ledger-06.jsonl']);
  });
});
