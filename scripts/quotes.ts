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
    let j = i + 1;
    while (j < lines.length && !lines[j].trim()) j++;
    const blockFence = j < lines.length ? FENCE.exec(lines[j]) : null;
    if (blockFence) {
      const close = closeOf(lines, j, blockFence[1]);
      for (let k = j + 1; k < close && k < lines.length; k++) if (lines[k].trim()) marker.quotes.push({ line: k + 1, text: lines[k].trim() });
      i = close;
    } else {
      const first = j;
      // The paragraph, table or list item: up to a blank line or the next list item.
      do j++;
      while (j < lines.length && lines[j].trim() && !/^\s*([-*+]|\d+\.)\s/.test(lines[j]));
      // Spans may wrap across lines of the paragraph.
      const block = lines.slice(first, j).join('\n');
      for (const span of block.matchAll(/(`+)([^`][\s\S]*?)\1/g)) {
        const text = span[2].replace(/\s+/g, ' ').trim();
        const line = first + 1 + (block.slice(0, span.index).match(/\n/g)?.length ?? 0);
        if (text.includes(' ')) marker.quotes.push({ line, text });
      }
      i = j;
    }
    markers.push(marker);
  }
  return markers;
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
