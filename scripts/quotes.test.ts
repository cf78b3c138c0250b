// Proof that prose cannot drift from the code it quotes: a quoted message matches the string the
// code builds (with its ${...} values and the docs' "…" gaps), a reworded message is reported with
// where it is, and the real repository's quotes match today.
import { describe, expect, it } from 'vitest';
import { checkQuotes, findQuotes, quoteMatches, stringsOf } from './quotes.js';
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

describe('the repository', () => {
  it('has quotes, and every one says what the code says', () => {
    const { problems, quotes } = checkRepository(REPO_ROOT);
    expect(problems.filter((p) => p.message.includes('quote'))).toEqual([]);
    expect(quotes).toBeGreaterThan(0);
  });
});
