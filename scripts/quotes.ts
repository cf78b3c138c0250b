/**
 * Prose that quotes the code must say what the code says. Part of `npm run docs:check`.
 *
 * In a markdown file, a marker line names the files whose strings the next block quotes:
 *
 *     <!-- quotes: shared/connection.ts tutorials/05-mcp-server/server.ts -->
 *     | stop the worker | `No worker is polling task queue "invoices-05": none answered within 3 s.` |
 *
 * The block is the next paragraph, list item, table or fenced code block. In prose, every inline code
 * span that contains a space is a quote; in a fenced block, every non-blank line is. A quote
 * passes when it is part of a string the named files can produce:
 * - a string literal, with literals joined by `+` read as one, and each `${...}` of a template
 *   standing for one word: an id, a number, a name (so `invoices-05` matches `${taskQueue}`);
 * - `…` or `...` in the quote stands for text the docs leave out, of any length; write it where
 *   the code inserts a longer text;
 * - a quote that no one string produces passes when each of its sentences does (a message built
 *   from sentences in several strings).
 * Paths are relative to the repository root, or to the markdown file when they start with `./`
 * or `../`, as for snippets.
 *
 * Numbers the docs quote are checked too, where they can be counted from the repository:
 *
 *     <!-- count: tests in tutorials/04-durable-timers/invoice.test.ts -->
 *     `npx vitest run tutorials/04-durable-timers` passes 5 tests.
 *
 * The block after the marker (as for quotes) must write a number right before the noun (`5 tests`,
 * `five tests`, or with one word between: `three crash scenes`), and every such number must be the
 * count. What is counted: with `*` in the path, the files it matches (each `*` stands for part of
 * one file or folder name); with a `/REGEX/` after the path, its matches in the file,
 * comments left out (`<!-- count: tools in tutorials/05-mcp-server/server.ts /registerTool\(/ -->`);
 * else the tests of a test file, read from its code ({@link countTests}).
 *
 * And a table after `<!-- adds-up: minutes -->` must add up: a bold number in that column is a
 * total of the plain numbers above it, and a `time` column's start times follow from the minutes
 * ({@link checkAddsUp}).
 */
import type { Problem, ReadSource } from './snippets.js';
import { resolveTarget, splitLines } from './snippets.js';

const QUOTES_LINE = /^\s*<!--\s*quotes:\s*(.+?)\s*-->\s*$/;
const FENCE = /^\s*(`{3,}|~{3,})/;

/** Stands for "any text" on either side of a comparison: a `${...}` in code, an ellipsis in docs. */
const ANY = '\u0000';

/** A `<!-- quotes: ... -->` marker, the files it names and the quotes of its block. */
export interface QuotesMarker {
  /** 1-based line of the marker. */
  line: number;
  paths: string[];
  quotes: { line: number; text: string }[];
}

/** Finds every quotes marker and the quotes in the block after it; markers inside code blocks are ignored. */
export function findQuotes(markdown: string): QuotesMarker[] {
  const lines = splitLines(markdown);
  const markers: QuotesMarker[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = FENCE.exec(lines[i]);
    if (fence) {
      i = closeOf(lines, i, fence[1]);
      continue;
    }
    const match = QUOTES_LINE.exec(lines[i]);
    if (!match) continue;
    const marker: QuotesMarker = { line: i + 1, paths: match[1].split(/[\s,]+/).filter(Boolean), quotes: [] };
    const block = blockAfter(lines, i);
    if (block.fenced) {
      for (let k = block.first + 1; k < block.end && k < lines.length; k++) if (lines[k].trim()) marker.quotes.push({ line: k + 1, text: lines[k].trim() });
    } else {
      // Spans may wrap across lines of the paragraph.
      const text = lines.slice(block.first, block.end).join('\n');
      for (const span of text.matchAll(/(`+)([^`][\s\S]*?)\1/g)) {
        const quote = span[2].replace(/\s+/g, ' ').trim();
        const line = block.first + 1 + (text.slice(0, span.index).match(/\n/g)?.length ?? 0);
        if (quote.includes(' ')) marker.quotes.push({ line, text: quote });
      }
    }
    i = block.end;
    markers.push(marker);
  }
  return markers;
}

/**
 * The block a marker at line `marker` (0-based) owns: the next fenced code block (`first` is its
 * opening fence, `end` its closing one), or the next paragraph, table or list item (`first` its
 * first line, `end` the line after its last): up to a blank line or the next list item.
 */
function blockAfter(lines: readonly string[], marker: number): { first: number; end: number; fenced: boolean } {
  let j = marker + 1;
  while (j < lines.length && !lines[j].trim()) j++;
  const fence = j < lines.length ? FENCE.exec(lines[j]) : null;
  if (fence) return { first: j, end: closeOf(lines, j, fence[1]), fenced: true };
  const first = j;
  do j++;
  while (j < lines.length && lines[j].trim() && !/^\s*([-*+]|\d+\.)\s/.test(lines[j]));
  return { first, end: j, fenced: false };
}

function closeOf(lines: readonly string[], open: number, fence: string): number {
  const close = new RegExp(`^\\s*\\${fence[0]}{${fence.length},}\\s*$`);
  for (let k = open + 1; k < lines.length; k++) if (close.test(lines[k])) return k;
  return lines.length;
}

/**
 * Every string a source file can produce, as text with {@link ANY} where a template inserts a
 * value. String literals that follow each other with only `+`, spaces and newlines between them
 * are joined, so a message wrapped over several lines reads as one.
 */
export function stringsOf(source: string): string[] {
  const strings: string[] = [];
  let current: string | undefined;
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (c === '/' && source[i + 1] === '/') {
      i = source.indexOf('\n', i);
      if (i < 0) break;
      continue;
    }
    if (c === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2);
      i = end < 0 ? source.length : end + 2;
      continue;
    }
    if (c === "'" || c === '"' || c === '`') {
      const [text, end] = readString(source, i);
      current = current === undefined ? text : current + text;
      i = end;
      // A `+` (and nothing else but blanks) after it continues the same string.
      const rest = /^\s*\+\s*/.exec(source.slice(i, i + 200));
      if (rest && /['"`]/.test(source[i + rest[0].length] ?? '')) {
        i += rest[0].length;
        continue;
      }
      strings.push(current);
      current = undefined;
      continue;
    }
    i++;
  }
  if (current !== undefined) strings.push(current);
  return strings;
}

/** Reads the literal starting at `start`; returns its text (templates' `${...}` as ANY) and the index after it. */
function readString(source: string, start: number): [string, number] {
  const quote = source[start];
  let text = '';
  let i = start + 1;
  while (i < source.length && source[i] !== quote) {
    if (source[i] === '\\') {
      const next = source[i + 1];
      text += next === 'n' ? '\n' : next === 't' ? '\t' : next;
      i += 2;
    } else if (quote === '`' && source[i] === '$' && source[i + 1] === '{') {
      let depth = 1;
      i += 2;
      while (i < source.length && depth > 0) {
        if (source[i] === '{') depth++;
        else if (source[i] === '}') depth--;
        else if (source[i] === '`' || source[i] === "'" || source[i] === '"') i = readString(source, i)[1] - 1;
        i++;
      }
      text += ANY;
    } else {
      if (quote !== '`' && source[i] === '\n') break; // not a string after all (e.g. a stray apostrophe)
      text += source[i++];
    }
  }
  return [text, i + 1];
}

/** Collapses runs of white space, and turns the docs' ellipses into ANY. */
function normalizeQuote(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/…|\.\.\./g, ANY);
}

/**
 * True when `quote` (with ANY for what the docs left out) is part of some text `string` (with ANY
 * for what the code inserts) can produce: a gap in the docs matches any text of the code, a value
 * of the code any one word of the docs.
 */
export function quoteMatches(quote: string, string: string): boolean {
  const q = ANY + normalizeQuote(quote) + ANY;
  const s = string.replace(/\s+/g, ' ');
  // Quick no: a string that has none of the quote's longer words cannot be its source.
  const words = q.split(/[^A-Za-z]+/).filter((w) => w.length >= 4);
  if (words.length > 0 && !words.some((w) => s.includes(w))) return false;
  // reachable[i][j]: q[0..i) and s[0..j) can be made to agree.
  const m = s.length;
  let row = new Array<boolean>(m + 1).fill(true); // the leading ANY of q swallows any prefix of s
  for (let i = 1; i < q.length; i++) {
    const next = new Array<boolean>(m + 1).fill(false);
    const qc = q[i];
    for (let j = 0; j <= m; j++) {
      if (qc === ANY) {
        // A gap in the docs swallows any run of the code's text.
        next[j] = row[j] || (j > 0 && next[j - 1]);
      } else if (j > 0 && s[j - 1] === ANY) {
        // A value the code inserts stands for one word of the docs (an id, a number, a name): it
        // swallows a run without spaces. Longer inserted text is written as "…" in the docs.
        next[j] = (qc !== ' ' && (row[j] || row[j - 1])) || next[j - 1];
      } else if (j > 0) {
        next[j] = row[j - 1] && s[j - 1] === qc;
      }
    }
    // A value in the code may also stand for nothing at all.
    for (let j = 1; j <= m; j++) if (s[j - 1] === ANY && next[j - 1]) next[j] = true;
    row = next;
  }
  return row[m];
}

/** `A is b. C is d.` → [`A is b.`, `C is d.`]: splits after . ! ? before a capital letter. */
export function sentences(text: string): string[] {
  return text.split(/(?<=[.!?])\s+(?=[A-Z])/);
}

/** Checks every quotes marker of one markdown file against the files it names. */
export function checkQuotes(markdown: string, markdownFile: string, read: ReadSource): Problem[] {
  const problems: Problem[] = [];
  for (const marker of findQuotes(markdown)) {
    const strings: string[] = [];
    for (const path of marker.paths) {
      const target = resolveTarget(markdownFile, path);
      const source = 'error' in target ? undefined : read(target.path);
      if (source === undefined) {
        problems.push({ file: markdownFile, line: marker.line, message: `quotes: file ${path} not found` });
        continue;
      }
      strings.push(...stringsOf(source));
    }
    if (marker.quotes.length === 0) {
      problems.push({ file: markdownFile, line: marker.line, message: 'quotes: the block after the marker quotes nothing (no `code span` with a space, no code block)' });
    }
    for (const quote of marker.quotes) {
      // A message the code builds from several sentences is checked sentence by sentence.
      const said = (text: string) => strings.some((s) => quoteMatches(text, s));
      if (!said(quote.text) && !sentences(quote.text).every(said)) {
        problems.push({
          file: markdownFile,
          line: quote.line,
          message: `quote not found in ${marker.paths.join(', ')}: "${quote.text}" (has the message changed? update the docs to what the code says)`,
        });
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Numbers: a count the docs quote, and tables whose minutes must add up

/**
 * Lists a repository folder: the names in it, or `undefined` when it is not a folder. With
 * {@link ReadSource} (which answers only for files), enough to expand a `*` pattern.
 */
export type ListFolder = (path: string) => string[] | undefined;

const COUNT_LINE = /^\s*<!--\s*count:\s*(.*?)\s*-->\s*$/;
const COUNT_SPEC = /^([A-Za-z][\w-]*)\s+in\s+(\S+)(?:\s+\/(.+)\/)?$/;
const ADDS_UP_LINE = /^\s*<!--\s*adds-up:\s*(.*?)\s*-->\s*$/;

/** Numbers written as words, as prose writes small ones. */
const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen', 'twenty'];

/** `5` → 5, `five` → 5, anything else → undefined. */
export function numberOf(word: string): number | undefined {
  if (/^\d+$/.test(word)) return Number(word);
  const index = NUMBER_WORDS.indexOf(word.toLowerCase());
  return index < 0 ? undefined : index;
}

/**
 * The text of a TypeScript source with every comment, string, template and escaped character
 * blanked out (same length, line breaks kept), so that scanning it for calls finds only code.
 * With `keepStrings`, only comments are blanked.
 */
export function codeOnly(source: string, keepStrings = false): string {
  let out = '';
  let i = 0;
  const blank = (text: string) => text.replace(/[^\n]/g, ' ');
  while (i < source.length) {
    const c = source[i];
    if (c === '/' && source[i + 1] === '/') {
      const end = source.indexOf('\n', i);
      const stop = end < 0 ? source.length : end;
      out += blank(source.slice(i, stop));
      i = stop;
    } else if (c === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end < 0 ? source.length : end + 2;
      out += blank(source.slice(i, stop));
      i = stop;
    } else if (c === "'" || c === '"' || c === '`') {
      const [, end] = readString(source, i);
      out += keepStrings ? source.slice(i, end) : c + blank(source.slice(i + 1, end - 1)) + c;
      i = end;
    } else if (c === '\\' && !keepStrings) {
      out += '  ';
      i += 2;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/**
 * How many tests a vitest file declares, read from its code without running it: each `it(...)` or
 * `test(...)` (with modifiers such as `.sequential`, `.concurrent`, `.skip`) counts one, and an
 * `it.each([...])` counts one per row of its array. A test declared inside a loop counts once:
 * write such a count by hand, without a marker.
 */
export function countTests(source: string): number {
  const code = codeOnly(source);
  let count = 0;
  for (const call of code.matchAll(/(?<![\w.$])(?:it|test)((?:\.\w+)*)\s*\(/g)) {
    const modifiers = call[1].split('.').filter(Boolean);
    if (!modifiers.includes('each')) {
      count++;
      continue;
    }
    // it.each([...])(...): one test per element of the array.
    const open = code.indexOf('[', call.index! + call[0].length);
    if (open < 0 || code.slice(call.index! + call[0].length, open).trim() !== '') {
      count++; // a table we cannot read (a variable, a template): counted once
      continue;
    }
    // Elements are separated by commas at the array's own depth; a trailing comma adds none.
    let depth = 0;
    let elements = 0;
    let pending = false;
    for (let k = open + 1; k < code.length; k++) {
      const ch = code[k];
      if ('[({'.includes(ch)) {
        depth++;
        pending = true;
      } else if (')]}'.includes(ch)) {
        if (depth === 0) {
          if (pending) elements++;
          break;
        }
        depth--;
      } else if (ch === ',' && depth === 0) {
        if (pending) elements++;
        pending = false;
      } else if (ch.trim()) {
        pending = true;
      }
    }
    count += elements;
  }
  return count;
}

/** A `<!-- count: WHAT in PATH [/REGEX/] -->` marker and the block after it. */
export interface CountMarker {
  /** 1-based line of the marker. */
  line: number;
  /** The word the docs write after the number, e.g. `tests`. */
  noun: string;
  path: string;
  regex?: string;
  /** What the marker says, unparsed, for messages. */
  spec: string;
  /** The block's lines, with their 1-based line numbers. */
  block: { line: number; text: string }[];
}

/** Finds every count marker and the block after it (the same blocks as quotes); markers inside code blocks are ignored. */
export function findCounts(markdown: string): (CountMarker | { line: number; invalid: string })[] {
  const lines = splitLines(markdown);
  const markers: (CountMarker | { line: number; invalid: string })[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = FENCE.exec(lines[i]);
    if (fence) {
      i = closeOf(lines, i, fence[1]);
      continue;
    }
    const match = COUNT_LINE.exec(lines[i]);
    if (!match) continue;
    const spec = COUNT_SPEC.exec(match[1]);
    if (!spec) {
      markers.push({ line: i + 1, invalid: `count: "${match[1]}" is not WHAT in PATH [/REGEX/], e.g. <!-- count: tests in tutorials/04-durable-timers/invoice.test.ts -->` });
      continue;
    }
    const block = blockAfter(lines, i);
    const from = block.fenced ? block.first + 1 : block.first;
    const text: { line: number; text: string }[] = [];
    for (let k = from; k < block.end && k < lines.length; k++) text.push({ line: k + 1, text: lines[k] });
    markers.push({ line: i + 1, noun: spec[1], path: spec[2], regex: spec[3], spec: match[1], block: text });
  }
  return markers;
}

/**
 * Counts what a marker names: the files a path with `*` matches (each `*` stands for part of one
 * file or folder name), the matches of `/REGEX/` in a file (comments left out), or else the tests
 * of a test file ({@link countTests}).
 */
export function countOf(marker: Pick<CountMarker, 'path' | 'regex'>, markdownFile: string, read: ReadSource, list: ListFolder): number | { error: string } {
  const target = resolveTarget(markdownFile, marker.path);
  if ('error' in target) return { error: target.error };
  if (target.path.includes('*')) {
    let paths = [''];
    for (const segment of target.path.split('/')) {
      if (!segment.includes('*')) {
        paths = paths.map((p) => (p ? `${p}/${segment}` : segment));
        continue;
      }
      const pattern = new RegExp(`^${segment.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
      paths = paths.flatMap((p) => (list(p || '.') ?? []).filter((name) => pattern.test(name)).map((name) => (p ? `${p}/${name}` : name)));
    }
    return paths.filter((p) => read(p) !== undefined).length;
  }
  const source = read(target.path);
  if (source === undefined) return { error: `file ${marker.path} not found` };
  if (marker.regex !== undefined) {
    let regex: RegExp;
    try {
      regex = new RegExp(marker.regex, 'gm');
    } catch (err) {
      return { error: `/${marker.regex}/ is not a regular expression: ${(err as Error).message}` };
    }
    return [...codeOnly(source, true).matchAll(regex)].length;
  }
  if (!/\.test\.[cm]?[jt]sx?$/.test(target.path)) return { error: `${marker.path} is not a test file: add /REGEX/ to say what to count in it` };
  return countTests(source);
}

/**
 * Every number a text writes before `noun`, right before it or with one word in between:
 * `5 tests`, `five tools`, `three crash scenes`.
 */
export function numbersBefore(noun: string, text: string): { written: string; value: number; index: number }[] {
  const escaped = noun.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const found: { written: string; value: number; index: number }[] = [];
  const bare = (word: string | undefined) => word?.replace(/^[^\w]+|[^\w]+$/g, '');
  for (const m of text.matchAll(new RegExp(`(?<![\\w-])${escaped}\\b`, 'gi'))) {
    const words = text.slice(0, m.index).trimEnd().split(/\s+/);
    const [second, first] = [bare(words.at(-2)), bare(words.at(-1))];
    const right = first === undefined ? undefined : numberOf(first);
    if (right !== undefined) found.push({ written: `${first} ${m[0]}`, value: right, index: m.index });
    else if (second !== undefined && first !== undefined && /^[A-Za-z-]+$/.test(first) && numberOf(second) !== undefined) {
      found.push({ written: `${second} ${first} ${m[0]}`, value: numberOf(second)!, index: m.index });
    }
  }
  return found;
}

/** Checks every count marker of one markdown file: the block must say `<count> <noun>`, and nothing else before that noun. */
export function checkCounts(markdown: string, markdownFile: string, read: ReadSource, list: ListFolder): Problem[] {
  const problems: Problem[] = [];
  for (const marker of findCounts(markdown)) {
    if ('invalid' in marker) {
      problems.push({ file: markdownFile, line: marker.line, message: marker.invalid });
      continue;
    }
    const counted = countOf(marker, markdownFile, read, list);
    if (typeof counted !== 'number') {
      problems.push({ file: markdownFile, line: marker.line, message: `count: ${marker.spec}: ${counted.error}` });
      continue;
    }
    // The block as one text, so that a number and its noun may sit on two lines of a paragraph.
    const text = marker.block.map((l) => l.text).join('\n');
    const said = numbersBefore(marker.noun, text);
    for (const number of said) {
      if (number.value === counted) continue;
      const line = marker.block[text.slice(0, number.index).split('\n').length - 1].line;
      problems.push({ file: markdownFile, line, message: `"${number.written.replace(/\s+/g, ' ')}", but there are ${counted} (count: ${marker.spec}); update the docs` });
    }
    if (said.length === 0) {
      problems.push({ file: markdownFile, line: marker.line, message: `count: the block after the marker never says a number before "${marker.noun}" (there are ${counted})` });
    }
  }
  return problems;
}

/** `1:05` → 65. */
function minutesOfClock(text: string): number | undefined {
  const m = /^(\d+):(\d\d)$/.exec(text);
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

/** 65 → `1:05`. */
export function clock(minutes: number): string {
  return `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, '0')}`;
}

/**
 * Checks the table after `<!-- adds-up: COLUMN -->` (e.g. `minutes`): a row whose COLUMN cell is
 * bold (`**180**`) is a total and must equal the sum of the plain numbers above it; when the table
 * has a `time` column, each row with a time (`1:05`) must start when the rows above it end.
 * Rows with no number in COLUMN (a heading row, a note) are skipped.
 */
export function checkAddsUp(markdown: string, markdownFile: string): Problem[] {
  const lines = splitLines(markdown);
  const problems: Problem[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = FENCE.exec(lines[i]);
    if (fence) {
      i = closeOf(lines, i, fence[1]);
      continue;
    }
    const match = ADDS_UP_LINE.exec(lines[i]);
    if (!match) continue;
    const column = match[1];
    const block = blockAfter(lines, i);
    const rows = lines.slice(block.first, block.end).filter((l) => l.trim().startsWith('|'));
    const cells = (row: string) => row.trim().replace(/^\||\|$/g, '').split('|').map((c) => c.trim());
    const header = rows.length ? cells(rows[0]) : [];
    const at = header.findIndex((h) => h.toLowerCase() === column.toLowerCase());
    if (block.fenced || at < 0) {
      problems.push({ file: markdownFile, line: i + 1, message: `adds-up: no table with a "${column}" column follows the marker` });
      i = block.end;
      continue;
    }
    const timeAt = header.findIndex((h) => h.toLowerCase() === 'time');
    let sum = 0;
    let start: number | undefined;
    rows.slice(2).forEach((row, r) => {
      const line = block.first + 3 + r;
      const row_ = cells(row);
      const cell = row_[at] ?? '';
      const total = /^\*\*(\d+)\*\*$/.exec(cell);
      if (total) {
        if (Number(total[1]) !== sum) problems.push({ file: markdownFile, line, message: `adds-up: the total says ${total[1]}, but the ${column} above it add up to ${sum}` });
        return;
      }
      const value = /^\d+$/.test(cell) ? Number(cell) : undefined;
      const time = timeAt < 0 ? undefined : minutesOfClock(row_[timeAt] ?? '');
      if (time !== undefined) {
        if (start === undefined) start = time - sum;
        else if (time !== start + sum) problems.push({ file: markdownFile, line, message: `adds-up: this row starts at ${row_[timeAt]}, but the rows above it end at ${clock(start + sum)}` });
      }
      if (value !== undefined) sum += value;
    });
    i = block.end;
  }
  return problems;
}
