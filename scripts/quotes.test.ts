// Proof that prose cannot drift from the code it quotes: a quoted message matches the string the
// code builds (with its ${...} values and the docs' "…" gaps), a reworded message is reported with
// where it is, and the real repository's quotes match today.
import { describe, expect, it } from 'vitest';
import { checkAddsUp, checkCounts, checkQuotes, countTests, findQuotes, numbersBefore, quoteMatches, stringsOf, type ListFolder } from './quotes.js';
import { checkRepository, REPO_ROOT, type ReadSource } from './snippets.js';

const lines = (...l: string[]) => `${l.join('\n')}\n`;
const files = (contents: Record<string, string>): ReadSource => (path) => contents[path];

const SOURCE = lines(
  "const WAIT = 3;",
  "throw new Error(",
  "  `No worker is polling task queue \"${taskQueue}\": none answered within ${WAIT} s. ` +",
  "    'Start it: npx tsx ' + 'worker.ts',",
  ");",
  "// 'a comment is not a message'",
  "console.log(`Invoice ${id} paid: ${total.toFixed(2)} in ${n} payments.`);",
);

describe('stringsOf', () => {
  it('joins literals split with +, turns ${...} into gaps, and skips comments', () => {
    const strings = stringsOf(SOURCE).map((s) => s.replace(/\u0000/g, '…'));
    expect(strings).toContain('No worker is polling task queue "…": none answered within … s. Start it: npx tsx worker.ts');
    expect(strings).toContain('Invoice … paid: … in … payments.');
    expect(strings.join('|')).not.toContain('a comment');
  });
});

describe('quoteMatches', () => {
  const [message, paid] = stringsOf(SOURCE);
  it.each([
    ['the whole message with real values', 'No worker is polling task queue "invoices-05": none answered within 3 s. Start it: npx tsx worker.ts'],
    ['a part of it', 'none answered within 3 s.'],
    ['a part with a gap', 'No worker is polling task queue "invoices-05": … Start it: npx tsx worker.ts'],
    ['a gap written as three dots', 'No worker is polling ... within 3 s.'],
  ])('accepts %s', (_what, quote) => {
    expect(quoteMatches(quote, message)).toBe(true);
  });
  it.each([
    ['a reworded message', 'No worker answered for invoice INV-1 in time.'],
    ['a changed number next to fixed text', 'none answered within 3 seconds.'],
    ['words the code never says around a value', 'No worker is polling queue "invoices-05"'],
  ])('refuses %s', (_what, quote) => {
    expect(quoteMatches(quote, message)).toBe(false);
  });
  it('matches output with several values', () => {
    expect(quoteMatches('Invoice INV-LZ3K9Q paid: 268.49 in 3 payments.', paid)).toBe(true);
    expect(quoteMatches('Invoice INV-LZ3K9Q paid 268.49 in 3 payments.', paid)).toBe(false);
  });
});

describe('checkQuotes', () => {
  const read = files({ 'src/worker.ts': SOURCE });
  it('checks code spans with a space in the block after the marker, and every line of a code block', () => {
    const markdown = lines(
      '<!-- quotes: src/worker.ts -->',
      '| stop the worker, run `status` | `none answered within 3 s.` and `Start it: npx tsx worker.ts` |',
      '',
      'Not checked: `something the code never says`.',
      '',
      '<!-- quotes: src/worker.ts -->',
      '```',
      'Invoice INV-1 paid: 268.49 in 3 payments.',
      '```',
    );
    expect(findQuotes(markdown).map((m) => m.quotes.map((q) => q.text))).toEqual([
      ['none answered within 3 s.', 'Start it: npx tsx worker.ts'],
      ['Invoice INV-1 paid: 268.49 in 3 payments.'],
    ]);
    expect(checkQuotes(markdown, 'README.md', read)).toEqual([]);
  });

  it('reports a quote the code no longer says, at its line, and a missing file', () => {
    const markdown = lines('Intro.', '', '<!-- quotes: src/worker.ts src/gone.ts -->', 'It says `No worker answered for invoice INV-1 in time.`');
    const problems = checkQuotes(markdown, 'README.md', read);
    expect(problems.map((p) => p.line)).toEqual([3, 4]);
    expect(problems[0].message).toBe('quotes: file src/gone.ts not found');
    expect(problems[1].message).toMatch(/^quote not found in src\/worker\.ts, src\/gone\.ts: "No worker answered for invoice INV-1 in time\."/);
  });

  it('checks a message built from several strings sentence by sentence', () => {
    const built = files({ 'src/e.ts': lines("const what = `No worker is polling ${q}.`;", "const next = 'Nothing is lost.';", 'super(`${what} ${next} Start it: npx tsx ${script}`);') });
    const ok = lines('<!-- quotes: src/e.ts -->', '`No worker is polling "tq". Nothing is lost. Start it: npx tsx worker.ts`');
    const bad = lines('<!-- quotes: src/e.ts -->', '`No worker is polling "tq". Something was lost. Start it: npx tsx worker.ts`');
    expect(checkQuotes(ok, 'README.md', built)).toEqual([]);
    expect(checkQuotes(bad, 'README.md', built)).toHaveLength(1);
  });

  it('reports a marker whose block quotes nothing', () => {
    expect(checkQuotes(lines('<!-- quotes: src/worker.ts -->', 'Plain prose.'), 'README.md', read)[0].message).toMatch(/quotes nothing/);
  });
});

describe('countTests', () => {
  it('counts it() and test() with their modifiers, one per row of it.each, and nothing in strings or comments', () => {
    const source = lines(
      "describe.concurrent('group', () => {",
      "  it('Part A: pays (it(\\'in a string\\') is not a test)', async () => {});",
      "  it.sequential('scene 1', { timeout: 1 }, async () => {});",
      '  // it("a comment is not a test")',
      "  test.skip('skipped, but listed', () => {});",
      '  it.each([',
      "    ['a missing id', bad((i) => delete i.id), /id is required/],",
      "    ['lines\\[1\\]', { a: [1, 2] }, /x/],",
      "    ['third', [], /y/],",
      "  ])('refuses %s', async () => {});",
      "  const submit = (it: string) => it;",
      '});',
    );
    expect(countTests(source)).toBe(6);
  });
});

describe('numbersBefore', () => {
  it('reads the number right before the noun, or one word before it, in digits or words', () => {
    expect(numbersBefore('tests', 'passes 5 tests in a few seconds').map((n) => n.value)).toEqual([5]);
    expect(numbersBefore('tests', 'passes its five tests').map((n) => n.value)).toEqual([5]);
    expect(numbersBefore('scenes', 'three crash scenes, and 3 more scenes').map((n) => n.value)).toEqual([3, 3]);
    expect(numbersBefore('tests', "the step's tests and Part A's tests")).toEqual([]);
  });
});

describe('checkCounts', () => {
  const read = files({
    'src/a.test.ts': lines("it('one', () => {});", "it('two', () => {});"),
    'src/server.ts': lines('server.registerTool(', '// server.registerTool( in a comment', 'server.registerTool('),
    'h/01/histories/a.json': '{}',
    'h/01/histories/b.json': '{}',
    'h/02/histories/c.json': '{}',
    'h/02/histories/notes.txt': 'x',
  });
  const folders: Record<string, string[]> = { h: ['01', '02'], 'h/01': ['histories'], 'h/02': ['histories'], 'h/01/histories': ['a.json', 'b.json'], 'h/02/histories': ['c.json', 'notes.txt'] };
  const list: ListFolder = (path) => folders[path];

  it('passes when the block says the counted number: tests of a test file, matches of a regex, files of a pattern', () => {
    const markdown = lines(
      '<!-- count: tests in src/a.test.ts -->',
      'It passes two tests.',
      '',
      '<!-- count: tools in src/server.ts /registerTool\\(/ -->',
      '| tools/list | lists 2 tools |',
      '',
      '<!-- count: histories in h/*/histories/*.json -->',
      'The 3 recorded',
      'histories replay.',
    );
    expect(checkCounts(markdown, 'README.md', read, list)).toEqual([]);
  });

  it('reports a stale number at its line, a block with no number before the noun, and a bad marker', () => {
    const markdown = lines(
      '<!-- count: tests in src/a.test.ts -->',
      'It passes 2 tests; the proof has five',
      'tests.',
      '',
      '<!-- count: tests in src/a.test.ts -->',
      'Every test passes.',
      '',
      '<!-- count: tests src/a.test.ts -->',
      'x',
      '',
      '<!-- count: tools in src/server.ts -->',
      'five tools',
    );
    expect(checkCounts(markdown, 'README.md', read, list).map((p) => `${p.line}: ${p.message}`)).toEqual([
      '3: "five tests", but there are 2 (count: tests in src/a.test.ts); update the docs',
      '5: count: the block after the marker never says a number before "tests" (there are 2)',
      expect.stringMatching(/^8: count: "tests src\/a\.test\.ts" is not WHAT in PATH/),
      '11: count: tools in src/server.ts: src/server.ts is not a test file: add /REGEX/ to say what to count in it',
    ]);
  });
});

describe('checkAddsUp', () => {
  const table = (...rows: string[]) => lines('<!-- adds-up: minutes -->', '| time | part | minutes |', '| --- | --- | --- |', ...rows);

  it('passes when totals are the sums above them and each start time follows from the minutes', () => {
    const markdown = table('| 0:00 | welcome | 15 |', '| 0:15 | step 01 | 50 |', '| 1:05 | break | 10 |', '| | *a note* | |', '|  | **total** | **75** |');
    expect(checkAddsUp(markdown, 'docs/workshop.md')).toEqual([]);
  });

  it('reports a start time and a total that do not add up, at their lines', () => {
    const markdown = table('| 0:00 | welcome | 15 |', '| 0:20 | step 01 | 50 |', '|  | **total** | **60** |');
    expect(checkAddsUp(markdown, 'docs/workshop.md').map((p) => `${p.line}: ${p.message}`)).toEqual([
      '5: adds-up: this row starts at 0:20, but the rows above it end at 0:15',
      '6: adds-up: the total says 60, but the minutes above it add up to 65',
    ]);
  });

  it('reports a marker with no table, or no such column', () => {
    expect(checkAddsUp(lines('<!-- adds-up: minutes -->', 'Plain prose.'), 'x.md')[0].message).toMatch(/no table with a "minutes" column/);
  });
});

describe('the repository', () => {
  it('has quotes, and every one says what the code says', () => {
    const { problems, quotes } = checkRepository(REPO_ROOT);
    expect(problems.filter((p) => p.message.includes('quote'))).toEqual([]);
    expect(quotes).toBeGreaterThan(0);
  });

  it('has counted numbers, and every one is what the repository holds; every agenda adds up', () => {
    const { problems, counts } = checkRepository(REPO_ROOT);
    expect(problems.filter((p) => /^(count|adds-up)|, but there are \d+/.test(p.message))).toEqual([]);
    expect(counts).toBeGreaterThan(0);
  });
});
