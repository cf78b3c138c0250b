/**
 * `npm run exercise -- 03`: copies a finished step into `practice/03-queries/` with the heart of
 * its lesson cut out, so the learner writes it back. Exercises are generated from the solutions,
 * so the two can never disagree.
 *
 * In a step's source, an exercise is marked like this (the quoted text is a section of the
 * step's README; `npm run docs:check` fails if that section does not exist):
 *
 *     // #exercise add-the-query "Why it works"
 *     setHandler(getInvoiceStatus, () => status);
 *     // #endexercise
 *
 * and in the practice copy it becomes, at the same indentation:
 *
 *     // TODO(exercise add-the-query): see README, section "Why it works".
 *
 * Snippet markers (`// #region` / `// #endregion`) are stripped from the copy: they serve the
 * docs, not the learner. Relative paths that leave the step folder (`../../shared/...`, links to
 * other steps) are rewritten so they still resolve from the copy, and mentions of the step's own
 * path (`npx tsx tutorials/03-queries/worker.ts`) point at the copy.
 *
 *   npm run exercise -- 03                      # → practice/03-queries/
 *   npm run exercise -- 03 --out practice/me    # → practice/me/03-queries/
 *   npm run exercise -- 03 --force              # replace an existing copy (your changes are lost)
 *   npm run exercise -- 03 --part B             # only Part B cut out; Parts A and C stay written
 *   npm run exercise -- 03 --solution           # the finished step, markers stripped (for instructors)
 *
 * An exercise has parts when its README sections are named `Part A: ...`, `Part B: ...`: every
 * `#exercise` region pointing at the same section belongs to that part (a part may cut code from
 * several places or files), and the step's test names the part it proves (`it('Part B: ...')`), so
 * `npx vitest run practice/03-queries -t "Part B"` runs just that part's test.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseMarker, parseRegions, REPO_ROOT, splitLines, stepFolders } from './snippets.js';
import { isEntryPoint } from '../shared/log.js';

/** One exercise cut out of a practice copy. */
export interface Exercise {
  /** File inside the step folder, e.g. `workflows.ts`. */
  file: string;
  /** 1-based line of the TODO in the practice copy. */
  line: number;
  name: string;
  section: string;
  /** The part's letter when the section is named `Part A: ...`, else undefined. */
  part?: string;
}

/** The part letter of a README section named `Part B: ...` (or `Part B — ...`), else undefined. */
export function partOf(section: string): string | undefined {
  return /^Part ([A-Z])\b/.exec(section)?.[1];
}

/** The TODO line that replaces an exercise. */
export function todoLine(indent: string, name: string, section: string): string {
  return `${indent}// TODO(exercise ${name}): see README, section "${section}".`;
}

/** Files whose `// #exercise` and `// #region` markers are processed; every other file is copied as is. */
const CODE_FILE = /\.(?:[cm]?ts|tsx|[cm]?js)$/;
/** Text files whose relative paths are rewritten. */
const TEXT_FILE = /\.(?:[cm]?ts|tsx|[cm]?js|json|md|txt|ya?ml|sh)$/;

/**
 * The practice version of one source file: each exercise replaced by its TODO line, region
 * markers removed. Throws on malformed markers, naming the file and line.
 */
export function practiceSource(source: string, file = '<source>', part?: string): { text: string; exercises: Exercise[] } {
  return transform(source, file, 'practice', part);
}

/** The solution version of one source file: code unchanged, every marker line removed. */
export function solutionSource(source: string, file = '<source>'): string {
  return transform(source, file, 'solution').text;
}

/**
 * `part` (practice only): cut out only the exercises of that part; the others keep their code,
 * as in the solution.
 */
function transform(source: string, file: string, mode: 'practice' | 'solution', part?: string): { text: string; exercises: Exercise[] } {
  const { problems } = parseRegions(source);
  if (problems.length) throw new Error(problems.map((p) => `${file}:${p.line}: ${p.message}`).join('\n'));
  const out: string[] = [];
  const exercises: Exercise[] = [];
  let inExercise = false;
  for (const line of splitLines(source)) {
    const marker = parseMarker(line);
    if (!marker) {
      if (!inExercise || mode === 'solution') out.push(line);
    } else if (marker.kind === 'exercise') {
      const cut = mode === 'practice' && (part === undefined || partOf(marker.section!) === part);
      inExercise = cut;
      if (cut) {
        out.push(todoLine(/^\s*/.exec(line)![0], marker.name, marker.section!));
        exercises.push({ file, line: out.length, name: marker.name, section: marker.section!, part: partOf(marker.section!) });
      }
    } else if (marker.kind === 'endexercise') {
      inExercise = false;
    }
    // #region / #endregion lines are dropped in both modes.
  }
  const eol = source.includes('\r\n') ? '\r\n' : '\n';
  return { text: out.join(eol) + (source.endsWith('\n') ? eol : ''), exercises };
}

/**
 * Rewrites what a copy of a step must see differently. `from` is the step folder and `to` the
 * copy, both repository-relative with `/`; `subdir` is the file's folder inside the step.
 *
 * - A relative path that leaves the step folder (`'../../shared/log.js'`, `](../04-x/README.md)`)
 *   is re-rooted so it reaches the same file from the copy.
 * - A mention of the step's own path (`tutorials/03-queries/worker.ts`) names the copy instead.
 *
 * Snippet marker lines (`<!-- snippet: ... -->`) are left alone: they name the real sources.
 */
export function rewritePaths(text: string, from: string, to: string, subdir = ''): string {
  const fileDir = posix.join(from, subdir);
  const copyDir = posix.join(to, subdir);
  const ownPath = new RegExp(`(?<![\\w./-])${from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w-])`, 'g');
  return text
    .split('\n')
    .map((line) => {
      if (/^\s*<!--\s*snippet:/.test(line)) return line;
      return line
        .replace(/(?<=['"`(])(?:\.\.\/)+[^'"`()\s]*/g, (path) => {
          const target = posix.join(fileDir, path);
          if (target === from || target.startsWith(`${from}/`)) return path; // still inside the step: copied along
          const rebased = posix.relative(copyDir, target) || '.';
          return path.endsWith('/') && !rebased.endsWith('/') ? `${rebased}/` : rebased;
        })
        .replace(ownPath, to);
    })
    .join('\n');
}

/** Accepts `3`, `03`, `03-queries`; throws listing the valid steps otherwise. */
export function resolveStep(arg: string | undefined, steps: readonly string[]): string {
  const valid = steps.map((s) => `${s.slice(0, 2)} (${s})`).join(', ');
  if (!arg) throw new Error(`Which step? Valid steps: ${valid}. Example: npm run exercise -- 03`);
  const wanted = arg.replace(/[\\/]+$/, '').split(/[\\/]/).at(-1)!;
  const number = /^\d+$/.test(wanted) ? wanted.padStart(2, '0') : undefined;
  const found = steps.find((s) => s === wanted || (number !== undefined && s.startsWith(`${number}-`)));
  if (!found) throw new Error(`Unknown step "${arg}". Valid steps: ${valid}.`);
  return found;
}

/** Top-level folders a copy must never be written into. */
const PROTECTED = new Set(['tutorials', 'shared', 'scripts', 'docs', 'node_modules', '.git', '.temporal', '.ci']);

/** Options of {@link generate}. */
export interface GenerateOptions {
  /** The step folder name, e.g. `03-queries`. */
  step: string;
  /** Folder the copy goes into (absolute, or relative to `root`); the copy is `<out>/<step>`. */
  out?: string;
  /** Replace an existing copy. */
  force?: boolean;
  /** Copy the finished step (markers stripped) instead of the practice version. */
  solution?: boolean;
  /** Cut out only this part (`'B'`): the other parts' code stays, as in the solution. */
  part?: string;
  /** The repository root; defaults to this repository. */
  root?: string;
}

/** What {@link generate} wrote. */
export interface Generated {
  /** Absolute path of the copy. */
  dest: string;
  /** The copy's path relative to the repository root, with `/`. */
  destRelative: string;
  exercises: Exercise[];
  files: string[];
}

/**
 * Writes the practice (or solution) copy of one step. Refuses to replace an existing copy
 * unless `force`, and refuses destinations outside the repository (the copy needs its
 * node_modules) or inside its source folders.
 */
export function generate(options: GenerateOptions): Generated {
  const root = options.root ?? REPO_ROOT;
  const source = join(root, 'tutorials', options.step);
  if (!existsSync(source)) throw new Error(`Step folder tutorials/${options.step} does not exist.`);
  const out = resolve(root, options.out ?? 'practice');
  const dest = join(out, options.step);
  const destRelative = relative(root, dest).split(sep).join('/');
  if (!destRelative || destRelative.startsWith('../') || isAbsolute(destRelative)) {
    throw new Error(`--out must be a folder inside the repository (${root}), so the copy finds node_modules and shared/; got ${out}.`);
  }
  const top = destRelative.split('/')[0];
  if (PROTECTED.has(top)) throw new Error(`--out must not be inside ${top}/: the copy would mix with the repository's own files. Use practice/ (git-ignored).`);
  if (existsSync(dest) && (!statSync(dest).isDirectory() || readdirSync(dest).length > 0)) {
    if (!options.force) {
      throw new Error(
        `${destRelative} already exists, and may hold your work; nothing was changed. ` +
          `Delete it yourself, or run again with --force to replace it with a fresh copy (its changes will be lost).`,
      );
    }
  }

  // Build every file in memory first: a malformed marker must not leave half a copy behind.
  const from = `tutorials/${options.step}`;
  const files: { path: string; content: string | Buffer }[] = [];
  const exercises: Exercise[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(join(source, dir)).sort()) {
      const rel = dir ? `${dir}/${name}` : name;
      if (statSync(join(source, rel)).isDirectory()) {
        walk(rel);
        continue;
      }
      if (!TEXT_FILE.test(name)) {
        files.push({ path: rel, content: readFileSync(join(source, rel)) });
        continue;
      }
      let text = readFileSync(join(source, rel), 'utf8');
      if (CODE_FILE.test(name)) {
        if (options.solution) text = solutionSource(text, `${from}/${rel}`);
        else {
          const practice = practiceSource(text, `${from}/${rel}`, options.part);
          text = practice.text;
          exercises.push(...practice.exercises.map((e) => ({ ...e, file: rel })));
        }
      }
      files.push({ path: rel, content: rewritePaths(text, from, destRelative, dir) });
    }
  };
  walk('');
  if (options.part !== undefined && !options.solution && exercises.length === 0) {
    throw new Error(`Step ${options.step} has no Part ${options.part}; nothing was changed.`);
  }

  if (existsSync(dest)) rmSync(dest, { recursive: true, force: true });
  for (const file of files) {
    mkdirSync(dirname(join(dest, file.path)), { recursive: true });
    writeFileSync(join(dest, file.path), file.content);
  }
  return { dest, destRelative, exercises, files: files.map((f) => f.path) };
}

const USAGE = 'usage: npm run exercise -- <step> [--part A|B|C] [--out DIR] [--force] [--solution]   e.g. npm run exercise -- 03';

function main(argv: string[]): void {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string', default: 'practice' },
      force: { type: 'boolean', default: false },
      solution: { type: 'boolean', default: false },
      part: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (positionals.length > 1) throw new Error(`One step at a time. ${USAGE}`);
  const step = resolveStep(positionals[0], stepFolders(REPO_ROOT));
  const part = values.part?.toUpperCase();
  if (part !== undefined && !/^[A-Z]$/.test(part)) throw new Error(`--part takes one letter, e.g. --part B; got "${values.part}".`);
  if (part !== undefined && values.solution) throw new Error('--part and --solution do not go together: the solution has every part.');
  // Relative to where the command was started (npm run starts it at the repository root).
  const out = resolve(process.cwd(), values.out);
  const replaced = existsSync(join(out, step));
  const { destRelative, exercises } = generate({ step, out, force: values.force, solution: values.solution, part });

  console.log(`${replaced ? 'Replaced' : 'Created'} ${destRelative}/ (${values.solution ? 'the finished step' : `${exercises.length} exercise(s)`}).`);
  if (values.solution) return;
  if (exercises.length === 0) {
    console.log(`Step ${step} has no exercises yet: the copy is the finished step.`);
    return;
  }
  // Part A's TODOs first, then B's, ...: the order to do them in (a stable sort keeps each part's files in order).
  const byPart = [...exercises].sort((a, b) => (a.part ?? '').localeCompare(b.part ?? ''));
  for (const e of byPart) console.log(`  ${destRelative}/${e.file}:${e.line}  ${e.name}: see README, section "${e.section}"`);
  const underPractice = destRelative.startsWith('practice/');
  const runTest = underPractice
    ? `npx vitest run ${destRelative}`
    : `(vitest only finds tests under tutorials/, scripts/ and practice/: generate the copy under practice/ to run its test)`;
  console.log(`\nIts test fails until you fill in the TODOs: ${runTest}`);
  const parts = [...new Set(exercises.map((e) => e.part).filter((p) => p !== undefined))].sort();
  if (underPractice && parts.length) {
    console.log(`One part at a time: ${parts.map((p) => `npx vitest run ${destRelative} -t "Part ${p}"`).join('   ')}`);
  }
  console.log('(A missing piece can leave a workflow waiting forever; its test then fails only at the 60 s timeout. Add --testTimeout=10000 for quicker feedback.)');
  console.log(`Compare with the solution: diff -r tutorials/${step} ${destRelative}   (instructors: --solution writes the finished step)`);
}

// Run as a script (not imported by a test or by another script)?
if (isEntryPoint(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    console.error(`Error: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
