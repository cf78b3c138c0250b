// Proof that exercises are generated from the solutions: the practice copy of each step loads but
// fails that step's own test, and a solution copy written the same way passes it.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate, practiceSource, resolveStep, rewritePaths, solutionSource, todoLine } from './exercise.js';
import { REPO_ROOT, stepFolders } from './snippets.js';

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

  it('refuses destinations outside the repository or inside its own folders', () => {
    expect(() => generate({ step: '03-queries', out: '/tmp' })).toThrow(/inside the repository/);
    expect(() => generate({ step: '03-queries', out: 'tutorials' })).toThrow(/must not be inside tutorials\//);
    expect(() => generate({ step: '03-queries', out: 'shared/x' })).toThrow(/must not be inside shared\//);
  });
});

/** The lines each step's exercises cut out; the practice copy must not contain them. */
const SOLUTION_LINES: Record<string, { file: string; line: string }> = {
  '01-activities': { file: 'workflows.ts', line: 'payments.push(await processPayment(' },
  '02-signals': { file: 'workflows.ts', line: 'setHandler(approveInvoice' },
  '03-queries': { file: 'workflows.ts', line: 'setHandler(getInvoiceStatus' },
  '04-durable-timers': { file: 'workflows.ts', line: 'await condition(() => status.decision !== null, approvalTimeout)' },
};
const STEPS = Object.keys(SOLUTION_LINES);

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

/** The title of the first test in a test file, e.g. `pays every line exactly once and returns what was paid`. */
function firstTestTitle(testFile: string): string {
  const match = /\b(?:it|test)\(\s*(['"`])((?:\\.|(?!\1).)+)\1/.exec(readFileSync(testFile, 'utf8'));
  if (!match || /[%$]/.test(match[2])) throw new Error(`${testFile}: its first test needs a plain string title (it('...', ...)) to be run on its own.`);
  return match[2].replace(/\\(.)/g, '$1');
}

describe('practice copies of steps 01-04', () => {
  const base = `practice/exercise-test-${randomUUID().slice(0, 8)}`;
  let practice: Awaited<ReturnType<typeof runVitest>>;
  let solution: Awaited<ReturnType<typeof runVitest>>;
  const firstTests: Record<string, string> = {};

  beforeAll(async () => {
    mkdirSync(join(REPO_ROOT, base), { recursive: true });
    // One level deeper than practice/NN, so the ../../shared/ rewrite is exercised too.
    for (const step of STEPS) {
      generate({ step, out: `${base}/practice` });
      generate({ step, out: `${base}/solution`, solution: true });
    }
    // One test per step, the first of its file: the proof is that the SAME test fails on the
    // practice copy and passes on the solution copy. (The tutorials' own test files already run
    // every test on this code; running them all again on each copy took most of this file's time.)
    for (const step of STEPS) {
      const testFile = readdirSync(join(REPO_ROOT, base, 'solution', step)).find((name) => name.endsWith('.test.ts'));
      if (!testFile) throw new Error(`${step} has no *.test.ts to prove its exercises with.`);
      firstTests[step] = firstTestTitle(join(REPO_ROOT, base, 'solution', step, testFile));
    }
    const only = `--testNamePattern=(${Object.values(firstTests).map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`;
    // Two vitest runs side by side, each over all four steps in ONE process (--no-isolate): most of
    // what a copy's test costs is fixed (a process, Temporal's native module, warming webpack to
    // bundle the workflows), so sharing it is what makes this cheap. A practice test often leaves
    // a workflow waiting forever, hence its short timeout; a worker it abandons may log errors into
    // the next file's run, but only each file's own failed test is counted below.
    [practice, solution] = await Promise.all([
      runVitest(`${base}/practice`, join(REPO_ROOT, base, 'practice.json'), [only, '--no-isolate', '--maxWorkers=1', '--testTimeout=4000']),
      runVitest(`${base}/solution`, join(REPO_ROOT, base, 'solution.json'), [only, '--no-isolate', '--maxWorkers=1']),
    ]);
  }, 170_000);

  afterAll(() => {
    rmSync(join(REPO_ROOT, base), { recursive: true, force: true });
  });

  it('covers every step that has exercises', () => {
    const withExercises = stepFolders(REPO_ROOT).filter((step) =>
      readdirSync(join(REPO_ROOT, 'tutorials', step))
        .filter((name) => name.endsWith('.ts'))
        .some((name) => readFileSync(join(REPO_ROOT, 'tutorials', step, name), 'utf8').includes('// #exercise ')),
    );
    expect(withExercises).toEqual(STEPS);
  });

  it.each(STEPS)('%s: the practice copy has TODOs instead of the solution', (step) => {
    const { file, line } = SOLUTION_LINES[step];
    const text = readFileSync(join(REPO_ROOT, base, 'practice', step, file), 'utf8');
    expect(text).toMatch(/\/\/ TODO\(exercise [\w.-]+\): see README, section ".+"\./);
    expect(text).not.toContain(line);
    expect(text).not.toMatch(/#(end)?(exercise|region)\b/);
    expect(readFileSync(join(REPO_ROOT, base, 'solution', step, file), 'utf8')).toContain(line);
  });

  it.each(STEPS)('%s: its first test loads but fails on the practice copy', (step) => {
    const { report, output } = practice;
    const files = report.testResults.filter((f) => f.name.split('/practice/').at(-1)!.startsWith(`${step}/`));
    expect(files, output.slice(-2000)).toHaveLength(1);
    const failed = files[0].assertionResults.filter((a) => a.status === 'failed').map((a) => a.title);
    // The test failed (not the file failing to load): the copy's imports resolve.
    expect(failed, `${files[0].message}\n${output.slice(-2000)}`).toEqual([firstTests[step]]);
    expect(report.success).toBe(false);
  });

  it('the same tests pass on solution copies written the same way', () => {
    const { report, output } = solution;
    expect(report.testResults.map((f) => f.name.split('/solution/')[1]).sort(), output.slice(-2000)).toEqual(
      STEPS.map((step) => expect.stringMatching(new RegExp(`^${step}/[\\w-]+\\.test\\.ts$`))),
    );
    const failures = report.testResults.flatMap((f) =>
      [f.status === 'failed' && f.message ? `${f.name}: ${f.message}` : '', ...f.assertionResults.filter((a) => a.status === 'failed').map((a) => `${a.fullName}: ${a.failureMessages.join('\n').slice(0, 600)}`)].filter(Boolean),
    );
    expect(failures, output.slice(-3000)).toEqual([]);
    expect(report.numFailedTests).toBe(0);
    const passed = report.testResults.flatMap((f) => f.assertionResults.filter((a) => a.status === 'passed').map((a) => a.title));
    expect(passed.sort()).toEqual(Object.values(firstTests).sort());
    expect(report.success).toBe(true);
  });
});
