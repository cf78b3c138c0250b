/**
 * `npm run docs:check` / `npm run docs:sync`: the code blocks in the docs are copies of named
 * regions of the real source files, so they cannot drift from the code.
 *
 * In a source file, a region is marked with VS Code-style comments (the name after `#endregion`
 * is optional; regions may nest, and inner markers never show in the outer snippet):
 *
 *     // #region wait-for-decision
 *     const decided = await condition(() => status.decision !== null, approvalTimeout);
 *     // #endregion wait-for-decision
 *
 * An exercise (see `scripts/exercise.ts`) is a region too: `// #exercise NAME "README section"`
 * ... `// #endexercise` can be embedded as `path#NAME`.
 *
 * In a markdown file (README.md, tutorials/NN/README.md, docs/**.md), a marker line is followed by
 * the code block it owns:
 *
 *     <!-- snippet: tutorials/04-durable-timers/workflows.ts#wait-for-decision -->
 *     ```ts
 *     ...the region's lines, common indentation removed...
 *     ```
 *
 * The path is relative to the repository root, or to the markdown file when it starts with `./`
 * or `../`; without `#region` the whole file is embedded. Marker lines inside other code blocks
 * are ignored, so docs can show the syntax.
 *
 * `--check` (the default) lists every snippet that differs from its source, every marker whose
 * file or region is missing, and every exercise whose README section is missing; it exits 1 if
 * there is any. `--write` rewrites the code blocks from the sources.
 */
import { readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { isEntryPoint } from '../shared/log.js';
import { checkAddsUp, checkCounts, checkQuotes, findCounts, findQuotes, type ListFolder } from './quotes.js';

/** One problem found in the docs or in a source file, with where it is. */
export interface Problem {
  /** Repository-relative path, with `/` separators. */
  file: string;
  /** 1-based line number. */
  line: number;
  message: string;
  /** Extra lines to show under the message, e.g. a short diff. */
  detail?: string[];
}

// ---------------------------------------------------------------------------------------------
// Source files: region and exercise markers

/** A marker comment line in a source file. */
export type Marker =
  | { kind: 'region' | 'exercise'; name: string; section?: string }
  | { kind: 'endregion' | 'endexercise'; name?: string }
  | { kind: 'invalid'; message: string };

const MARKER_LINE = /^\s*(?:\/\/|#)\s*#(region|endregion|exercise|endexercise)(?![\w-])\s*(.*?)\s*$/;
const NAME = /^[A-Za-z0-9][\w.-]*/;

/** Parses one line: a marker, or `undefined` for ordinary code. Works for `//` and `#` comments. */
export function parseMarker(line: string): Marker | undefined {
  const match = MARKER_LINE.exec(line);
  if (!match) return undefined;
  const kind = match[1] as 'region' | 'endregion' | 'exercise' | 'endexercise';
  const rest = match[2];
  const name = NAME.exec(rest)?.[0];
  switch (kind) {
    case 'region':
      // Like VS Code, anything after the name is a free-text label.
      return name ? { kind, name } : { kind: 'invalid', message: '#region needs a name: // #region my-snippet' };
    case 'exercise': {
      const exercise = /^([A-Za-z0-9][\w.-]*)\s+"([^"]+)"$/.exec(rest);
      return exercise
        ? { kind, name: exercise[1], section: exercise[2] }
        : { kind: 'invalid', message: '#exercise needs a name and a quoted README section: // #exercise add-the-query "Add a query"' };
    }
    default:
      if (rest && (!name || name !== rest)) return { kind: 'invalid', message: `#${kind} takes at most a name, not "${rest}"` };
      return { kind, name };
  }
}

/** A named region of a source file. */
export interface Region {
  name: string;
  kind: 'region' | 'exercise';
  /** For an exercise: the README section the learner should read. */
  section?: string;
  /** Indentation of the opening marker line. */
  indent: string;
  /** 1-based lines of the opening and closing markers. */
  startLine: number;
  endLine: number;
  /** The lines in between, without any marker lines (nested markers are stripped too). */
  lines: string[];
}

/** Splits text into lines; a final newline does not make an extra empty line. */
export function splitLines(text: string): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** Finds every region and exercise of a source file, and whatever is wrong with its markers. */
export function parseRegions(source: string): { regions: Map<string, Region>; problems: { line: number; message: string }[] } {
  const regions = new Map<string, Region>();
  const problems: { line: number; message: string }[] = [];
  const open: Region[] = [];
  splitLines(source).forEach((text, index) => {
    const line = index + 1;
    const marker = parseMarker(text);
    if (!marker) {
      for (const region of open) region.lines.push(text);
      return;
    }
    if (marker.kind === 'invalid') {
      problems.push({ line, message: marker.message });
    } else if (marker.kind === 'region' || marker.kind === 'exercise') {
      const clash = regions.get(marker.name) ?? open.find((r) => r.name === marker.name);
      if (clash) problems.push({ line, message: `"${marker.name}" is already used at line ${clash.startLine}; names must be unique in a file` });
      const outerExercise = open.find((r) => r.kind === 'exercise');
      if (marker.kind === 'exercise' && outerExercise) {
        problems.push({ line, message: `exercise "${marker.name}" is inside exercise "${outerExercise.name}" (line ${outerExercise.startLine}); exercises cannot nest` });
      }
      const indent = /^\s*/.exec(text)![0];
      open.push({ name: marker.name, kind: marker.kind, section: marker.section, indent, startLine: line, endLine: 0, lines: [] });
    } else {
      const kind = marker.kind === 'endregion' ? 'region' : 'exercise';
      const top = open.at(-1);
      if (!top) {
        problems.push({ line, message: `#${marker.kind} without a matching #${kind}` });
      } else if (top.kind !== kind) {
        problems.push({ line, message: `#${marker.kind}, but the innermost open block is ${top.kind} "${top.name}" (line ${top.startLine})` });
      } else if (marker.name && marker.name !== top.name) {
        problems.push({ line, message: `#${marker.kind} ${marker.name} closes "${top.name}" (line ${top.startLine}); the names differ` });
      } else {
        open.pop();
        top.endLine = line;
        if (!regions.has(top.name)) regions.set(top.name, top);
      }
    }
  });
  for (const region of open) problems.push({ line: region.startLine, message: `${region.kind} "${region.name}" is never closed` });
  return { regions, problems };
}

/** Removes the indentation all non-blank lines share; blank lines become empty. */
export function dedent(lines: readonly string[]): string[] {
  let common: string | undefined;
  for (const line of lines) {
    if (!line.trim()) continue;
    const indent = /^\s*/.exec(line)![0];
    if (common === undefined) common = indent;
    else while (!indent.startsWith(common)) common = common.slice(0, -1);
  }
  return lines.map((line) => (line.trim() ? line.slice(common?.length ?? 0) : ''));
}

/** What a snippet shows: the region's lines (or the whole file's), markers removed, dedented. */
export function snippetLines(source: string, region?: string): { lines: string[] } | { error: string } {
  if (region === undefined) return { lines: dedent(splitLines(source).filter((l) => !parseMarker(l))) };
  const { regions } = parseRegions(source);
  const found = regions.get(region);
  if (found) return { lines: dedent(found.lines) };
  const names = [...regions.keys()];
  return { error: `region "${region}" not found (${names.length ? `regions there: ${names.join(', ')}` : 'the file has no regions'})` };
}

// ---------------------------------------------------------------------------------------------
// Markdown files: snippet markers and the code blocks they own

const SNIPPET_LINE = /^(\s*)<!--\s*snippet:\s*(\S+)\s*-->\s*$/;
const FENCE_OPEN = /^(\s*)(`{3,}|~{3,})(.*)$/;

/** A `<!-- snippet: path#region -->` line and the code block right after it. */
export interface SnippetMarker {
  /** 0-based index of the marker line. */
  index: number;
  /** The target as written, e.g. `tutorials/04-durable-timers/workflows.ts#wait-for-decision`. */
  target: string;
  path: string;
  region?: string;
  /** Indentation of the marker; the code block carries the same. */
  indent: string;
  /** The code block that follows (blank lines in between allowed); absent if there is none. */
  block?: { open: number; close: number; fence: string; info: string; lines: string[] };
  /** True when a code block starts after the marker but is never closed. */
  unclosed?: boolean;
}

/** Index of the line closing the fence opened with `fence`, or -1. */
function closingFence(lines: readonly string[], from: number, fence: string): number {
  const close = new RegExp(`^\\s*${fence[0] === '`' ? '`' : '~'}{${fence.length},}\\s*$`);
  for (let i = from; i < lines.length; i++) if (close.test(lines[i])) return i;
  return -1;
}

/** Finds every snippet marker of a markdown text; markers inside other code blocks are ignored. */
export function findSnippetMarkers(markdown: string): SnippetMarker[] {
  const lines = splitLines(markdown);
  const markers: SnippetMarker[] = [];
  for (let i = 0; i < lines.length; i++) {
    const snippet = SNIPPET_LINE.exec(lines[i]);
    if (snippet) {
      const [, indent, target] = snippet;
      const hash = target.indexOf('#');
      const marker: SnippetMarker = {
        index: i,
        target,
        path: hash < 0 ? target : target.slice(0, hash),
        region: hash < 0 ? undefined : target.slice(hash + 1),
        indent,
      };
      let j = i + 1;
      while (j < lines.length && !lines[j].trim()) j++;
      const fence = j < lines.length ? FENCE_OPEN.exec(lines[j]) : null;
      if (fence) {
        const close = closingFence(lines, j + 1, fence[2]);
        if (close < 0) {
          marker.unclosed = true;
          i = lines.length;
        } else {
          const body = lines.slice(j + 1, close).map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l.trimStart()));
          marker.block = { open: j, close, fence: fence[2], info: fence[3].trim(), lines: body };
          i = close;
        }
      }
      markers.push(marker);
      continue;
    }
    const fence = FENCE_OPEN.exec(lines[i]);
    if (fence) {
      const close = closingFence(lines, i + 1, fence[2]);
      i = close < 0 ? lines.length : close;
    }
  }
  return markers;
}

/** The repository-relative path a snippet target names, or an error when it leaves the repository. */
export function resolveTarget(markdownFile: string, path: string): { path: string } | { error: string } {
  const joined = /^\.\.?\//.test(path) ? posix.join(posix.dirname(markdownFile), path) : path;
  const normalized = posix.normalize(joined);
  if (posix.isAbsolute(normalized) || normalized === '..' || normalized.startsWith('../')) {
    return { error: `${path} is outside the repository` };
  }
  return { path: normalized };
}

/** Language of the code block for a file, from its extension. */
export function fenceLanguage(path: string): string {
  const ext = posix.extname(path).slice(1);
  const known: Record<string, string> = { ts: 'ts', mts: 'ts', cts: 'ts', tsx: 'tsx', js: 'js', mjs: 'js', cjs: 'js', json: 'json', sh: 'sh', yml: 'yaml', yaml: 'yaml', md: 'md' };
  return known[ext] ?? '';
}

/**
 * A short line diff between what a markdown block shows (`-`) and what the source has (`+`):
 * only changed lines, at most `max` of them.
 */
export function diffLines(docs: readonly string[], source: readonly string[], max = 8): string[] {
  // Longest common subsequence; snippets are short, so the quadratic table is fine.
  const n = docs.length;
  const m = source.length;
  const lcs = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) lcs[i][j] = docs[i] === source[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && docs[i] === source[j]) {
      i++;
      j++;
    } else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      out.push(`- ${docs[i++]}`);
    } else {
      out.push(`+ ${source[j++]}`);
    }
  }
  return out.length > max ? [...out.slice(0, max), `… ${out.length - max} more changed lines`] : out;
}

/** Reads a repository file by its repository-relative path; `undefined` when it does not exist. */
export type ReadSource = (path: string) => string | undefined;

/** What a snippet marker should contain, or why it cannot be known. */
type Expected = { lines: string[] } | { problem: string };

function expectedLines(marker: SnippetMarker, markdownFile: string, read: ReadSource): Expected {
  const target = resolveTarget(markdownFile, marker.path);
  if ('error' in target) return { problem: `snippet ${marker.target}: ${target.error}` };
  const source = read(target.path);
  if (source === undefined) return { problem: `snippet ${marker.target}: file ${target.path} not found` };
  if (marker.region === '') return { problem: `snippet ${marker.target}: empty region name after #` };
  const snippet = snippetLines(source, marker.region);
  if ('error' in snippet) return { problem: `snippet ${marker.target}: ${snippet.error} in ${target.path}` };
  return snippet;
}

/** Checks every snippet of one markdown file against its source. */
export function checkMarkdown(markdown: string, markdownFile: string, read: ReadSource): Problem[] {
  const problems: Problem[] = [];
  for (const marker of findSnippetMarkers(markdown)) {
    const line = marker.index + 1;
    const expected = expectedLines(marker, markdownFile, read);
    if ('problem' in expected) {
      problems.push({ file: markdownFile, line, message: expected.problem });
    } else if (marker.unclosed) {
      problems.push({ file: markdownFile, line, message: `snippet ${marker.target}: its code block is never closed` });
    } else if (!marker.block) {
      problems.push({ file: markdownFile, line, message: `snippet ${marker.target}: no code block follows the marker (npm run docs:sync adds it)` });
    } else if (!sameLines(marker.block.lines, expected.lines)) {
      const first = firstDifference(marker.block.lines, expected.lines);
      problems.push({
        file: markdownFile,
        line,
        message: `snippet ${marker.target} differs from the source, first at snippet line ${first + 1} (npm run docs:sync updates it)`,
        detail: ['(- in the docs, + in the source)', ...diffLines(marker.block.lines, expected.lines)],
      });
    }
  }
  return problems;
}

/**
 * Rewrites every snippet's code block from its source (inserting the block when missing).
 * Returns the new text, how many blocks changed, and the problems it cannot fix.
 */
export function syncMarkdown(markdown: string, markdownFile: string, read: ReadSource): { text: string; changed: number; problems: Problem[] } {
  const lines = splitLines(markdown);
  const problems: Problem[] = [];
  let changed = 0;
  // From the last marker to the first, so earlier line numbers stay valid while we splice.
  for (const marker of findSnippetMarkers(markdown).reverse()) {
    const expected = expectedLines(marker, markdownFile, read);
    if ('problem' in expected) {
      problems.push({ file: markdownFile, line: marker.index + 1, message: expected.problem });
      continue;
    }
    if (marker.unclosed) {
      problems.push({ file: markdownFile, line: marker.index + 1, message: `snippet ${marker.target}: its code block is never closed; close it and run again` });
      continue;
    }
    if (marker.block && sameLines(marker.block.lines, expected.lines)) continue;
    const block = marker.block;
    const fence = fenceFor(expected.lines, block?.fence ?? '```');
    const info = block ? block.info : fenceLanguage(marker.path);
    const body = expected.lines.map((l) => (l ? marker.indent + l : ''));
    const replacement = [`${marker.indent}${fence}${info}`, ...body, `${marker.indent}${fence}`];
    if (block) lines.splice(block.open, block.close - block.open + 1, ...replacement);
    else lines.splice(marker.index + 1, 0, ...replacement);
    changed++;
  }
  problems.reverse();
  const eol = markdown.includes('\r\n') ? '\r\n' : '\n';
  return { text: lines.join(eol) + (markdown.endsWith('\n') || markdown === '' ? eol : ''), changed, problems };
}

/** A fence longer than any fence-like line inside the code, keeping the existing fence's character. */
function fenceFor(lines: readonly string[], current: string): string {
  const char = current[0];
  let longest = 0;
  for (const line of lines) {
    const run = new RegExp(`^\\s*(\\${char}+)`).exec(line)?.[1].length ?? 0;
    longest = Math.max(longest, run);
  }
  return char.repeat(Math.max(current.length, 3, longest + 1));
}

function sameLines(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((line, i) => line === b[i]);
}

function firstDifference(a: readonly string[], b: readonly string[]): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

// ---------------------------------------------------------------------------------------------
// Exercises must point at a README section that exists

/** The text of every ATX heading (`## Add a query` → `Add a query`), outside code blocks. */
export function markdownHeadings(markdown: string): string[] {
  const lines = splitLines(markdown);
  const headings: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = FENCE_OPEN.exec(lines[i]);
    if (fence) {
      const close = closingFence(lines, i + 1, fence[2]);
      i = close < 0 ? lines.length : close;
      continue;
    }
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(lines[i]);
    if (heading) headings.push(heading[1]);
  }
  return headings;
}

/**
 * Checks the markers of one step source file, and that each exercise names a section of the
 * step's README (`readme` undefined: the step has no README).
 */
export function checkExerciseSources(file: string, source: string, readmeFile: string, readme: string | undefined): Problem[] {
  const { regions, problems } = parseRegions(source);
  const out: Problem[] = problems.map((p) => ({ file, line: p.line, message: p.message }));
  const headings = readme === undefined ? undefined : new Set(markdownHeadings(readme));
  for (const region of regions.values()) {
    if (region.kind !== 'exercise') continue;
    if (!headings) out.push({ file, line: region.startLine, message: `exercise "${region.name}" points at README section "${region.section}", but ${readmeFile} does not exist` });
    else if (!headings.has(region.section!)) {
      out.push({ file, line: region.startLine, message: `exercise "${region.name}" points at README section "${region.section}", which ${readmeFile} does not have` });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The repository

/** Root folder of this repository. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

const CODE_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.tsx', '.js', '.mjs', '.cjs']);

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Every markdown file whose snippets are checked: README.md, tutorials/NN/README.md, docs/**.md (not docs/api/). */
export function markdownFiles(root: string): string[] {
  const files: string[] = [];
  if (readIfExists(resolve(root, 'README.md')) !== undefined) files.push('README.md');
  for (const step of stepFolders(root)) {
    if (readIfExists(resolve(root, 'tutorials', step, 'README.md')) !== undefined) files.push(`tutorials/${step}/README.md`);
  }
  const walk = (dir: string) => {
    for (const entry of readdirSync(resolve(root, dir), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (path !== 'docs/api') walk(path);
      } else if (entry.name.endsWith('.md')) files.push(path);
    }
  };
  if (isDir(resolve(root, 'docs'))) walk('docs');
  return files;
}

/** The step folders, e.g. `['01-activities', '02-signals', ...]`. */
export function stepFolders(root: string): string[] {
  const tutorials = resolve(root, 'tutorials');
  if (!isDir(tutorials)) return [];
  return readdirSync(tutorials, { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^\d{2}-/.test(e.name))
    .map((e) => e.name)
    .sort();
}

/** Reads repository files by relative path, refusing anything outside `root`. */
export function repositoryReader(root: string): ReadSource {
  return (path) => {
    const target = resolveTarget('', path);
    if ('error' in target) return undefined;
    if (isDir(resolve(root, target.path))) return undefined;
    return readIfExists(resolve(root, target.path));
  };
}

/** Lists repository folders by relative path, refusing anything outside `root`. */
export function repositoryLister(root: string): ListFolder {
  return (path) => {
    const target = resolveTarget('', path);
    if ('error' in target || !isDir(resolve(root, target.path))) return undefined;
    return readdirSync(resolve(root, target.path)).sort();
  };
}

/** Everything `--check` reports for the repository at `root`, and how much it looked at. */
export function checkRepository(root: string): { problems: Problem[]; markdownFiles: number; snippets: number; exercises: number; quotes: number; counts: number } {
  const read = repositoryReader(root);
  const list = repositoryLister(root);
  const problems: Problem[] = [];
  const files = markdownFiles(root);
  let snippets = 0;
  let quotes = 0;
  let counts = 0;
  for (const file of files) {
    const markdown = read(file)!;
    snippets += findSnippetMarkers(markdown).length;
    quotes += findQuotes(markdown).reduce((n, m) => n + m.quotes.length, 0);
    counts += findCounts(markdown).length;
    problems.push(
      ...checkMarkdown(markdown, file, read),
      ...checkQuotes(markdown, file, read),
      ...checkCounts(markdown, file, read, list),
      ...checkAddsUp(markdown, file),
    );
  }
  let exercises = 0;
  for (const step of stepFolders(root)) {
    const readmeFile = `tutorials/${step}/README.md`;
    const readme = read(readmeFile);
    for (const name of readdirSync(resolve(root, 'tutorials', step)).sort()) {
      if (!CODE_EXTENSIONS.has(posix.extname(name))) continue;
      const file = `tutorials/${step}/${name}`;
      const source = read(file);
      if (source === undefined) continue;
      exercises += [...parseRegions(source).regions.values()].filter((r) => r.kind === 'exercise').length;
      problems.push(...checkExerciseSources(file, source, readmeFile, readme));
    }
  }
  return { problems, markdownFiles: files.length, snippets, exercises, quotes, counts };
}

/** Rewrites every markdown file's snippets from the sources; returns the files changed and what it could not fix. */
export function syncRepository(root: string): { changedFiles: string[]; problems: Problem[] } {
  const read = repositoryReader(root);
  const changedFiles: string[] = [];
  const problems: Problem[] = [];
  for (const file of markdownFiles(root)) {
    const markdown = read(file)!;
    const result = syncMarkdown(markdown, file, read);
    problems.push(...result.problems);
    if (result.changed > 0 && result.text !== markdown) {
      writeFileSync(resolve(root, file), result.text);
      changedFiles.push(file);
    }
  }
  // Exercise sections are not something --write can fix; report them like --check does.
  problems.push(...checkRepository(root).problems.filter((p) => !p.file.endsWith('.md')));
  return { changedFiles, problems };
}

/** One problem as printed: `file:line: message`, then its detail indented. */
export function formatProblem(p: Problem): string {
  return [`${p.file}:${p.line}: ${p.message}`, ...(p.detail ?? []).map((d) => `    ${d}`)].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Command line

const USAGE = 'usage: tsx scripts/snippets.ts [--check | --write] [--root DIR]   (npm run docs:check / npm run docs:sync)';

function main(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      check: { type: 'boolean' },
      write: { type: 'boolean' },
      // Another checkout or a test fixture; the default is this repository.
      root: { type: 'string', default: REPO_ROOT },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const root = resolve(values.root);
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.check && values.write) throw new Error(`Choose one of --check and --write. ${USAGE}`);

  if (values.write) {
    const { changedFiles, problems } = syncRepository(root);
    for (const file of changedFiles) console.log(`updated ${file}`);
    for (const p of problems) console.error(formatProblem(p));
    if (problems.length) {
      console.error(`\ndocs:sync: ${problems.length} problem(s) it cannot fix; see above.`);
      return 1;
    }
    console.log(`docs:sync: ${changedFiles.length ? `${changedFiles.length} file(s) updated` : 'every snippet was already up to date'}.`);
    return 0;
  }

  const { problems, markdownFiles: fileCount, snippets, exercises, quotes, counts } = checkRepository(root);
  for (const p of problems) console.error(formatProblem(p));
  if (problems.length) {
    console.error(`\ndocs:check: ${problems.length} problem(s). Run \`npm run docs:sync\` to copy the sources into the docs; missing files, regions, README sections, quotes and numbers that no longer match the code need a fix by hand.`);
    return 1;
  }
  console.log(
    `docs:check: ${snippets} snippet(s) in ${fileCount} markdown file(s) match their sources; ${quotes} quote(s) of messages and output say what the code says; ` +
      `${counts} count(s) of tests, files and calls are what the repository holds; ` +
      `${exercises} exercise(s) point at README sections that exist.`,
  );
  return 0;
}

// Run as a script (not imported by a test or by another script)?
if (isEntryPoint(import.meta.url)) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    console.error(`Error: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
