// Proof that exercises are generated from the solutions: the practice copy of each step loads but
// fails the test of every part of its exercise (the first `it('Part B: ...')` of each part), and a
// solution copy is the step's own code, whose test file passes in the same `npm test`.
// EXERCISE_EACH_PART=1 adds the slower, stronger proof: a copy with only Part X cut out fails
// Part X's tests (so each part's test fails because of that part, not another).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate, partOf, practiceSource, resolveStep, rewritePaths, solutionSource, todoLine } from './exercise.js';
import { parseRegions, REPO_ROOT, stepFolders } from './snippets.js';
import { findBrowser } from '../shared/browser.js';

describe('practiceSource / solutionSource', () => {
  const source = [
    'function f() {',
    '  // #region handlers',
    '  before();',
    '  // #exercise add-the-query "Add a query"',
    '  setHandler(getInvoiceStatus, () => status);',
    '  // #region inner',
    '  more();',
    '  // #endregion inner',
    '  // #endexercise',
    '  after();',
    '  // #endregion',
    '}',
    '',
  ].join('\n');

  it('replaces each exercise with a TODO at the same indentation and drops region markers', () => {
    const { text, exercises } = practiceSource(source, 'workflows.ts');
    expect(text).toBe(
      ['function f() {', '  before();', '  // TODO(exercise add-the-query): see README, section "Add a query".', '  after();', '}', ''].join('\n'),
    );
    expect(exercises).toEqual([{ file: 'workflows.ts', line: 3, name: 'add-the-query', section: 'Add a query' }]);
  });

  it('keeps the code of the solution and drops every marker', () => {
    expect(solutionSource(source)).toBe(
      ['function f() {', '  before();', '  setHandler(getInvoiceStatus, () => status);', '  more();', '  after();', '}', ''].join('\n'),
    );
  });

  it('refuses malformed markers, naming file and line', () => {
    expect(() => practiceSource('// #exercise no-section\nx();\n// #endexercise\n', 'w.ts')).toThrow(/w\.ts:1: #exercise needs a name and a quoted README section/);
    expect(() => practiceSource('// #exercise a "A"\nx();\n', 'w.ts')).toThrow(/w\.ts:1: exercise "a" is never closed/);
    expect(() => practiceSource('// #exercise a "A"\n// #exercise b "B"\n// #endexercise\n// #endexercise\n', 'w.ts')).toThrow(/cannot nest/);
  });

  it('with a part, cuts out only the exercises whose section is that part', () => {
    const parts = ['a();', '// #exercise one "Part A: first"', 'one();', '// #endexercise', '// #exercise two "Part B: second"', 'two();', '// #endexercise', ''].join('\n');
    expect(practiceSource(parts, 'w.ts', 'B')).toEqual({
      text: ['a();', 'one();', '// TODO(exercise two): see README, section "Part B: second".', ''].join('\n'),
      exercises: [{ file: 'w.ts', line: 3, name: 'two', section: 'Part B: second', part: 'B' }],
    });
    expect(practiceSource(parts, 'w.ts').exercises.map((e) => e.part)).toEqual(['A', 'B']);
    expect(partOf('Part C: the first decision wins')).toBe('C');
    expect(partOf('Exercise: answer the query')).toBeUndefined();
  });

  it('formats the TODO line', () => {
    expect(todoLine('    ', 'wait', 'Durable timers')).toBe('    // TODO(exercise wait): see README, section "Durable timers".');
  });
});

describe('rewritePaths', () => {
  it('re-roots paths that leave the step, and only those', () => {
    const text = [
      "import { log } from '../../shared/log.js';",
      "import { createActivities } from './activities.js';",
      'Next: [step 04](../04-durable-timers/README.md)',
      'Run `npx tsx tutorials/03-queries/worker.ts` or `npx vitest run tutorials/03-queries`.',
      'Not this one: tutorials/03-queries-extra/x.ts',
      '<!-- snippet: tutorials/03-queries/workflows.ts#add-the-query -->',
    ].join('\n');
    expect(rewritePaths(text, 'tutorials/03-queries', 'practice/me/03-queries')).toBe(
      [
        "import { log } from '../../../shared/log.js';",
        "import { createActivities } from './activities.js';",
        'Next: [step 04](../../../tutorials/04-durable-timers/README.md)',
        'Run `npx tsx practice/me/03-queries/worker.ts` or `npx vitest run practice/me/03-queries`.',
        'Not this one: tutorials/03-queries-extra/x.ts',
        '<!-- snippet: tutorials/03-queries/workflows.ts#add-the-query -->',
      ].join('\n'),
    );
  });

  it('leaves the default depth alone and handles files in subfolders', () => {
    expect(rewritePaths("'../../shared/'", 'tutorials/03-queries', 'practice/03-queries')).toBe("'../../shared/'");
    expect(rewritePaths("'../../../shared/x.js' '../y.js'", 'tutorials/03-queries', 'practice/a/03-queries', 'sub')).toBe(
      "'../../../../shared/x.js' '../y.js'",
    );
  });
});

describe('resolveStep', () => {
  const steps = ['01-activities', '02-signals', '03-queries'];
  it('accepts 3, 03 and 03-queries', () => {
    expect(resolveStep('3', steps)).toBe('03-queries');
    expect(resolveStep('03', steps)).toBe('03-queries');
    expect(resolveStep('03-queries', steps)).toBe('03-queries');
    expect(resolveStep('tutorials/03-queries/', steps)).toBe('03-queries');
  });
  it('lists the valid steps for an unknown one', () => {
    expect(() => resolveStep('9', steps)).toThrow('Unknown step "9". Valid steps: 01 (01-activities), 02 (02-signals), 03 (03-queries).');
    expect(() => resolveStep(undefined, steps)).toThrow(/Which step\?/);
  });
});

describe('generate', () => {
  const out = join(REPO_ROOT, 'practice', `generate-test-${randomUUID().slice(0, 8)}`);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('never overwrites a practice copy without --force', () => {
    generate({ step: '03-queries', out });
    const work = join(out, '03-queries', 'workflows.ts');
    writeFileSync(work, '// my work in progress\n');
    expect(() => generate({ step: '03-queries', out })).toThrow(/already exists, and may hold your work; nothing was changed.*--force/);
    expect(readFileSync(work, 'utf8')).toBe('// my work in progress\n');
    generate({ step: '03-queries', out, force: true });
    expect(readFileSync(work, 'utf8')).toContain('// TODO(exercise add-the-query)');
  });

  it('cuts out one part with --part, and refuses a part the step does not have', () => {
    const { exercises } = generate({ step: '03-queries', out, force: true, part: 'C' });
    expect(exercises.map((e) => e.part)).toEqual(['C']);
    expect(readFileSync(join(out, '03-queries', 'workflows.ts'), 'utf8')).toContain('setHandler(getInvoiceStatus');
    expect(() => generate({ step: '03-queries', out, force: true, part: 'Q' })).toThrow(/has no Part Q; nothing was changed/);
  });

  it('refuses destinations outside the repository or inside its own folders', () => {
    expect(() => generate({ step: '03-queries', out: '/tmp' })).toThrow(/inside the repository/);
    expect(() => generate({ step: '03-queries', out: 'tutorials' })).toThrow(/must not be inside tutorials\//);
    expect(() => generate({ step: '03-queries', out: 'shared/x' })).toThrow(/must not be inside shared\//);
  });
});

/** Every exercise of every step, read from the markers in the step's sources. */
interface StepExercise {
  file: string;
  name: string;
  section: string;
  part: string | undefined;
  /** The region's code lines, trimmed, without blank or comment-only lines. */
  code: string[];
}
function exercisesOf(step: string): StepExercise[] {
  const dir = join(REPO_ROOT, 'tutorials', step);
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }) // a step's subfolders too, e.g. step 10's view/
    .map((name) => name.split('\\').join('/'))
    .filter((name) => name.endsWith('.ts'))
    .sort()
    .flatMap((file) =>
      [...parseRegions(readFileSync(join(dir, file), 'utf8')).regions.values()]
        .filter((r) => r.kind === 'exercise')
        .map((r) => ({
          file,
          name: r.name,
          section: r.section!,
          part: partOf(r.section!),
          code: r.lines.map((l) => l.trim()).filter((l) => l && !l.startsWith('//')),
        })),
    );
}
const STEPS = stepFolders(REPO_ROOT).filter((step) => exercisesOf(step).length > 0);
const partsOf = (step: string) => [...new Set(exercisesOf(step).map((e) => e.part ?? '?'))].sort();

interface JsonReport {
  success: boolean;
  numPassedTests: number;
  numFailedTests: number;
  testResults: { name: string; status: string; message: string; assertionResults: { title: string; fullName: string; status: string; failureMessages: string[] }[] }[];
}

/** Runs vitest on `target` in a child process and returns its JSON report (and output, for debugging). */
function runVitest(target: string, reportFile: string, extraArgs: string[]): Promise<{ code: number | null; report: JsonReport; output: string }> {
  // The child is a fresh vitest, not a worker of this one.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST')));
  const args = [join(REPO_ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', target, '--reporter=json', `--outputFile=${reportFile}`, ...extraArgs];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (!existsSync(reportFile)) return reject(new Error(`vitest wrote no report for ${target} (exit ${code}):\n${output.slice(-3000)}`));
      resolve({ code, report: JSON.parse(readFileSync(reportFile, 'utf8')) as JsonReport, output });
    });
  });
}

/** The part letters a test's title names: `Part B: ...` → ['B']; `Part A: ... (Part C: ...)` → ['A', 'C']. */
const partsNamed = (title: string) => [...title.matchAll(/\bPart ([A-Z])\b/g)].map((m) => m[1]);

/** The titles of a step's tests (`it('...')`, `it.sequential('...')`; `it.each(...)('...')` excluded), from its test file in the repository. */
function testTitlesOf(step: string): string[] {
  const dir = join(REPO_ROOT, 'tutorials', step);
  const file = readdirSync(dir).find((name) => name.endsWith('.test.ts'));
  if (!file) throw new Error(`${step} has no *.test.ts to prove its exercises with.`);
  const source = readFileSync(join(dir, file), 'utf8');
  return [...source.matchAll(/\bit(?:\.(?:sequential|concurrent))?\(\s*(['"`])((?:\\.|(?!\1).)+)\1/g)].map((m) => m[2].replace(/\\(.)/g, '$1'));
}

/**
 * Per step and part, the test that proves the part: the first whose title names it. The practice
 * copy must fail it; the step's own test file (which `npm test` runs) passes it on the same code.
 */
const PROOFS: Record<string, Record<string, string>> = Object.fromEntries(
  STEPS.map((step) => {
    const titles = testTitlesOf(step);
    return [step, Object.fromEntries(partsOf(step).flatMap((part) => {
      const title = titles.find((t) => partsNamed(t).includes(part));
      return title ? [[part, title]] : [];
    }))];
  }),
);

/** What runs of a source file: its lines, trimmed, without blank and comment-only lines (markers are comments). */
const codeOf = (text: string) => text.split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('//'));

/** The assertion results of one step's test file in a report (copies live in `<base>/<kind>/<step>/`). */
function resultsOf(report: JsonReport, step: string) {
  const files = report.testResults.filter((f) => f.name.split('/').slice(-2, -1)[0] === step);
  return { files, tests: files.flatMap((f) => f.assertionResults) };
}

// Practice copies run only the proof of each part (see PROOFS): a full name ends with its title.
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const PART_TESTS = [`--testNamePattern=(${[...new Set(Object.values(PROOFS).flatMap((p) => Object.values(p)))].map(escape).join('|')})$`];

describe(`practice copies of the steps with exercises`, () => {
  const base = `practice/exercise-test-${randomUUID().slice(0, 8)}`;
  let practice: Awaited<ReturnType<typeof runVitest>>;

  beforeAll(async () => {
    mkdirSync(join(REPO_ROOT, base), { recursive: true });
    // One level deeper than practice/NN, so the ../../shared/ rewrite is exercised too.
    for (const step of STEPS) {
      generate({ step, out: `${base}/practice` });
      generate({ step, out: `${base}/solution`, solution: true });
    }
    // One vitest run over every practice copy in ONE process (--no-isolate): most of the cost of a
    // copy's test file is fixed (loading Temporal's native module, starting a test server, warming
    // webpack to bundle the workflows), so sharing it is what makes this cheap. A missing piece
    // often leaves a workflow waiting forever, so the tests run concurrently within each file under
    // a short timeout: a file fails in seconds, not a minute per test. Workers abandoned by those
    // failures may log errors into the next file's run; only each file's own failed tests are
    // counted below, so that cannot fake a failure.
    practice = await runVitest(`${base}/practice`, join(REPO_ROOT, base, 'practice.json'), ['--no-isolate', '--maxWorkers=2', '--sequence.concurrent', '--testTimeout=4000', ...PART_TESTS]);
  }, 240_000);

  afterAll(() => {
    rmSync(join(REPO_ROOT, base), { recursive: true, force: true });
  });

  it('finds the steps with exercises, and every exercise is a part: Part A, B, C at least', () => {
    expect(STEPS.length).toBeGreaterThan(0);
    for (const step of STEPS) {
      const exercises = exercisesOf(step);
      expect(exercises.filter((e) => !e.part).map((e) => `${e.file}#${e.name} "${e.section}"`), `${step}: sections must be named "Part X: ..."`).toEqual([]);
      expect(partsOf(step).slice(0, 3), step).toEqual(['A', 'B', 'C']);
      // Every part has a test named after it, so a learner can run just that part's test.
      expect(Object.keys(PROOFS[step]), `${step}: a part with no test named "Part X: ..."`).toEqual(partsOf(step));
    }
  });

  it.each(STEPS)('%s: the practice copy has a TODO for each exercise instead of its code', (step) => {
    for (const e of exercisesOf(step)) {
      const practiceText = readFileSync(join(REPO_ROOT, base, 'practice', step, e.file), 'utf8');
      const solutionText = readFileSync(join(REPO_ROOT, base, 'solution', step, e.file), 'utf8');
      expect(practiceText).toContain(`// TODO(exercise ${e.name}): see README, section "${e.section}".`);
      expect(practiceText).not.toMatch(/#(end)?(exercise|region)\b/);
      // The region's code is gone from the practice copy (at least one of its lines), and kept in the solution.
      expect(e.code.some((line) => !practiceText.includes(line)), `${step}/${e.file}#${e.name}`).toBe(true);
      for (const line of e.code) expect(solutionText).toContain(line);
    }
  });

  it.each(STEPS)('%s: the practice copy loads, and fails the test of every part', (step) => {
    const { files, tests } = resultsOf(practice.report, step);
    expect(files, practice.output.slice(-2000)).toHaveLength(1);
    // Tests that ran and failed (not a file that could not load): the copy's imports resolve.
    expect(files[0].message, practice.output.slice(-2000)).toBeFalsy();
    for (const part of partsOf(step)) {
      const proof = tests.find((t) => t.title === PROOFS[step][part]);
      // Step 10's browser proofs are skipped, saying so, on a machine without Chrome/Chromium (never in CI).
      if (proof?.status === 'skipped' && !findBrowser() && !process.env.CI) continue;
      expect(proof?.status, `${step} Part ${part}: "${PROOFS[step][part]}" ${proof ? 'passed without the part' : 'did not run'}`).toBe('failed');
    }
    expect(practice.report.success).toBe(false);
  });

  // The solution copy passes the same tests because it IS the step's code: the same files, the
  // same code line for line (only marker comments dropped, paths re-rooted), and the step's own
  // test file, which names each part's test in PROOFS, passes on that code in this `npm test`.
  it.each(STEPS)('%s: the solution copy is the step\'s own code, every import resolving', (step) => {
    const from = join(REPO_ROOT, 'tutorials', step);
    const to = join(REPO_ROOT, base, 'solution', step);
    const sources = readdirSync(from).filter((name) => name.endsWith('.ts'));
    expect(readdirSync(to).filter((name) => name.endsWith('.ts')).sort()).toEqual(sources.sort());
    for (const file of sources) {
      const copy = readFileSync(join(to, file), 'utf8');
      expect(copy, `${step}/${file}`).not.toMatch(/\/\/ #(end)?(exercise|region)\b/);
      const original = rewritePaths(readFileSync(join(from, file), 'utf8'), `tutorials/${step}`, `${base}/solution/${step}`);
      expect(codeOf(copy), `${step}/${file}`).toEqual(codeOf(original));
      for (const [, spec] of copy.matchAll(/(?:import|export)\s[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]/g)) {
        expect(existsSync(resolve(dirname(join(to, file)), spec).replace(/\.js$/, '.ts')), `${step}/${file} imports ${spec}`).toBe(true);
      }
    }
  });
});

// The stronger proof, opt-in because it runs a copy per part (about three times the work):
//   EXERCISE_EACH_PART=1 npx vitest run scripts/exercise.test.ts -t "each part"
describe.runIf(process.env.EXERCISE_EACH_PART === '1')('each part alone', () => {
  const base = `practice/exercise-parts-${randomUUID().slice(0, 8)}`;
  const LETTERS = [...new Set(STEPS.flatMap(partsOf))].sort();
  const runs: Record<string, Awaited<ReturnType<typeof runVitest>>> = {};

  beforeAll(async () => {
    mkdirSync(join(REPO_ROOT, base), { recursive: true });
    for (const letter of LETTERS) for (const step of STEPS) if (partsOf(step).includes(letter)) generate({ step, out: `${base}/${letter}`, part: letter });
    // One run per letter, over every step's copy cut for that letter, running only that part's tests.
    for (const letter of LETTERS) {
      runs[letter] = await runVitest(`${base}/${letter}`, join(REPO_ROOT, base, `${letter}.json`), [
        '--no-isolate', '--maxWorkers=1', '--sequence.concurrent', '--testTimeout=15000', '-t', `Part ${letter}\\b`,
      ]);
    }
  }, 600_000);

  afterAll(() => rmSync(join(REPO_ROOT, base), { recursive: true, force: true }));

  it.each(STEPS.flatMap((step) => partsOf(step).map((part) => [step, part] as const)))('%s: the copy without Part %s fails its tests', (step, part) => {
    const { files, tests } = resultsOf(runs[part].report, step);
    expect(files, runs[part].output.slice(-2000)).toHaveLength(1);
    const failed = tests.filter((t) => t.status === 'failed' && partsNamed(t.title).includes(part));
    expect(failed.length, `${step}: with only Part ${part} cut out, no "Part ${part}" test failed`).toBeGreaterThan(0);
  });
});
