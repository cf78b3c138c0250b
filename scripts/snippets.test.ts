// Proof that docs cannot drift: snippets are extracted from regions, a drifted snippet is reported
// with where and what differs, `--write` repairs it, and the real repository is clean right now.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkExerciseSources,
  checkMarkdown,
  checkRepository,
  dedent,
  diffLines,
  findSnippetMarkers,
  markdownHeadings,
  parseMarker,
  parseRegions,
  REPO_ROOT,
  resolveTarget,
  snippetLines,
  syncMarkdown,
  type ReadSource,
} from './snippets.js';

const lines = (...l: string[]) => `${l.join('\n')}\n`;

/** An in-memory repository for the markdown functions. */
const files = (contents: Record<string, string>): ReadSource => (path) => contents[path];

const SOURCE = lines(
  'export function f() {',
  '  // #region outer',
  '  const a = 1;',
  '  // #region inner',
  '  if (a) {',
  '    go();',
  '  }',
  '  // #endregion inner',
  '',
  '  // #exercise do-it "Do it"',
  '  done();',
  '  // #endexercise',
  '  // #endregion',
  '}',
);

describe('parseMarker', () => {
  it('recognises region and exercise markers in // and # comments, and only those', () => {
    expect(parseMarker('  // #region wait-for-decision')).toEqual({ kind: 'region', name: 'wait-for-decision' });
    expect(parseMarker('//#region x a free-text label')).toEqual({ kind: 'region', name: 'x' });
    expect(parseMarker('# #region yaml-part')).toEqual({ kind: 'region', name: 'yaml-part' });
    expect(parseMarker('  // #endregion')).toEqual({ kind: 'endregion', name: undefined });
    expect(parseMarker('  // #endregion x')).toEqual({ kind: 'endregion', name: 'x' });
    expect(parseMarker('// #exercise add-the-query "Add a query"')).toEqual({ kind: 'exercise', name: 'add-the-query', section: 'Add a query' });
    expect(parseMarker('// #endexercise')).toEqual({ kind: 'endexercise', name: undefined });
    expect(parseMarker("const s = '// #region not-a-marker';")).toBeUndefined();
    expect(parseMarker('// #regional news')).toBeUndefined();
    expect(parseMarker('// #region')).toMatchObject({ kind: 'invalid' });
    expect(parseMarker('// #exercise no-section')).toMatchObject({ kind: 'invalid' });
  });
});

describe('parseRegions', () => {
  it('finds nested regions and exercises, with inner markers stripped', () => {
    const { regions, problems } = parseRegions(SOURCE);
    expect(problems).toEqual([]);
    expect([...regions.keys()].sort()).toEqual(['do-it', 'inner', 'outer']);
    expect(regions.get('inner')).toMatchObject({ startLine: 4, endLine: 8, lines: ['  if (a) {', '    go();', '  }'] });
    expect(regions.get('outer')!.lines).toEqual(['  const a = 1;', '  if (a) {', '    go();', '  }', '', '  done();']);
    expect(regions.get('do-it')).toMatchObject({ kind: 'exercise', section: 'Do it', lines: ['  done();'] });
  });

  it('reports unclosed, unmatched, misnamed and duplicate markers with their lines', () => {
    // Line 2 does not close "a" (wrong name); line 3 does.
    const bad = lines('// #region a', '// #endregion b', '// #endregion', '// #region c', '// #region c', '// #endexercise');
    expect(parseRegions(bad).problems).toEqual([
      { line: 2, message: '#endregion b closes "a" (line 1); the names differ' },
      { line: 5, message: '"c" is already used at line 4; names must be unique in a file' },
      { line: 6, message: '#endexercise, but the innermost open block is region "c" (line 5)' },
      { line: 4, message: 'region "c" is never closed' },
      { line: 5, message: 'region "c" is never closed' },
    ]);
    expect(parseRegions('// #endregion\n').problems).toEqual([{ line: 1, message: '#endregion without a matching #region' }]);
  });
});

describe('snippetLines and dedent', () => {
  it('removes the common indentation, keeping blank lines empty', () => {
    expect(dedent(['    a', '', '      b', '    c  '])).toEqual(['a', '', '  b', 'c  ']);
    expect(snippetLines(SOURCE, 'inner')).toEqual({ lines: ['if (a) {', '  go();', '}'] });
  });

  it('embeds the whole file without any marker lines when no region is named', () => {
    expect(snippetLines(SOURCE)).toEqual({
      lines: ['export function f() {', '  const a = 1;', '  if (a) {', '    go();', '  }', '', '  done();', '}'],
    });
  });

  it('names the regions that exist when one is missing', () => {
    expect(snippetLines(SOURCE, 'nope')).toEqual({ error: 'region "nope" not found (regions there: inner, do-it, outer)' });
  });
});

describe('findSnippetMarkers', () => {
  it('pairs each marker with the code block after it and ignores markers inside other code blocks', () => {
    const md = lines(
      '# Doc',
      '<!-- snippet: src/a.ts#inner -->',
      '```ts',
      'old',
      '```',
      '',
      '````md',
      '<!-- snippet: src/ignored.ts -->',
      '```ts',
      '```',
      '````',
      '  <!-- snippet: ./b.ts -->',
      '',
      '  ```',
      '  x',
      '  ```',
      '<!-- snippet: src/c.ts#r -->',
      'no block here',
    );
    const markers = findSnippetMarkers(md);
    expect(markers.map((m) => [m.index + 1, m.path, m.region, m.block?.lines])).toEqual([
      [2, 'src/a.ts', 'inner', ['old']],
      [12, './b.ts', undefined, ['x']],
      [17, 'src/c.ts', 'r', undefined],
    ]);
    expect(markers[0].block).toMatchObject({ info: 'ts', fence: '```' });
  });
});

describe('resolveTarget', () => {
  it('reads paths from the repository root, or from the markdown file with ./ and ../', () => {
    expect(resolveTarget('tutorials/03-queries/README.md', 'shared/log.ts')).toEqual({ path: 'shared/log.ts' });
    expect(resolveTarget('tutorials/03-queries/README.md', './workflows.ts')).toEqual({ path: 'tutorials/03-queries/workflows.ts' });
    expect(resolveTarget('tutorials/03-queries/README.md', '../../shared/log.ts')).toEqual({ path: 'shared/log.ts' });
    expect(resolveTarget('README.md', '../outside.ts')).toEqual({ error: '../outside.ts is outside the repository' });
  });
});

describe('checkMarkdown and syncMarkdown', () => {
  const read = files({ 'src/a.ts': SOURCE });
  const good = lines('Intro', '<!-- snippet: src/a.ts#inner -->', '```ts', 'if (a) {', '  go();', '}', '```', 'Outro');

  it('is clean when every block matches its source', () => {
    expect(checkMarkdown(good, 'doc.md', read)).toEqual([]);
    expect(syncMarkdown(good, 'doc.md', read)).toEqual({ text: good, changed: 0, problems: [] });
  });

  it('reports a drifted block with its line, the first differing snippet line and a short diff', () => {
    const drifted = good.replace('  go();', '  stop();');
    expect(checkMarkdown(drifted, 'doc.md', read)).toEqual([
      {
        file: 'doc.md',
        line: 2,
        message: 'snippet src/a.ts#inner differs from the source, first at snippet line 2 (npm run docs:sync updates it)',
        detail: ['(- in the docs, + in the source)', '-   stop();', '+   go();'],
      },
    ]);
    expect(syncMarkdown(drifted, 'doc.md', read)).toEqual({ text: good, changed: 1, problems: [] });
  });

  it('reports missing files, regions and code blocks; --write inserts a missing block', () => {
    const md = lines('<!-- snippet: src/gone.ts -->', '<!-- snippet: src/a.ts#nope -->', '<!-- snippet: src/a.ts#inner -->', 'text');
    expect(checkMarkdown(md, 'doc.md', read).map((p) => `${p.line}: ${p.message}`)).toEqual([
      '1: snippet src/gone.ts: file src/gone.ts not found',
      '2: snippet src/a.ts#nope: region "nope" not found (regions there: inner, do-it, outer) in src/a.ts',
      '3: snippet src/a.ts#inner: no code block follows the marker (npm run docs:sync adds it)',
    ]);
    const synced = syncMarkdown(md, 'doc.md', read);
    expect(synced.changed).toBe(1);
    expect(synced.problems.map((p) => p.line)).toEqual([1, 2]);
    expect(synced.text).toBe(
      lines('<!-- snippet: src/gone.ts -->', '<!-- snippet: src/a.ts#nope -->', '<!-- snippet: src/a.ts#inner -->', '```ts', 'if (a) {', '  go();', '}', '```', 'text'),
    );
  });

  it('keeps the indentation of a marker inside a list, and lengthens the fence when the code has one', () => {
    const source = lines('// #region md', 'const doc = `', '```', '`;', '// #endregion');
    const md = lines('1. Step', '   <!-- snippet: x.ts#md -->', '   ```ts', '   ```');
    const { text } = syncMarkdown(md, 'doc.md', files({ 'x.ts': source }));
    expect(text).toBe(lines('1. Step', '   <!-- snippet: x.ts#md -->', '   ````ts', '   const doc = `', '   ```', '   `;', '   ````'));
    expect(checkMarkdown(text, 'doc.md', files({ 'x.ts': source }))).toEqual([]);
  });
});

describe('diffLines', () => {
  it('shows only changed lines, capped', () => {
    expect(diffLines(['a', 'b', 'c'], ['a', 'B', 'c'])).toEqual(['- b', '+ B']);
    expect(diffLines(['a', 'c'], ['a', 'b', 'c'])).toEqual(['+ b']);
    const many = Array.from({ length: 20 }, (_, i) => `line ${i}`);
    expect(diffLines(many, [], 3)).toEqual(['- line 0', '- line 1', '- line 2', '… 17 more changed lines']);
  });
});

describe('exercise sections', () => {
  it('lists headings outside code blocks', () => {
    expect(markdownHeadings(lines('# Step 03', '```sh', '# not a heading', '```', '## Add a query ##', 'text'))).toEqual(['Step 03', 'Add a query']);
  });

  it('reports an exercise whose README section does not exist', () => {
    const source = lines('// #exercise add-the-query "Add a query"', 'x();', '// #endexercise');
    expect(checkExerciseSources('w.ts', source, 'README.md', lines('## Add a query'))).toEqual([]);
    expect(checkExerciseSources('w.ts', source, 'README.md', lines('## Something else'))).toEqual([
      { file: 'w.ts', line: 1, message: 'exercise "add-the-query" points at README section "Add a query", which README.md does not have' },
    ]);
  });
});

describe('the real repository', () => {
  it('has every snippet in step with its source, and every exercise pointing at a real README section', () => {
    const { problems } = checkRepository(REPO_ROOT);
    expect(problems.map((p) => `${p.file}:${p.line}: ${p.message}`)).toEqual([]);
  });

  describe('a real source changing under a real README', () => {
    // A copy of step 04 with a README that embeds its exercise; then one source line changes.
    const root = join(REPO_ROOT, 'practice', `snippets-test-${randomUUID().slice(0, 8)}`);
    const step = join(root, 'tutorials', '04-durable-timers');
    afterAll(() => rmSync(root, { recursive: true, force: true }));
    const tsx = join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, [tsx, join(REPO_ROOT, 'scripts', 'snippets.ts'), '--root', root, ...args], { encoding: 'utf8' });

    it('passes while docs match code, fails naming file, line and change after an edit, and --write repairs it', () => {
      mkdirSync(step, { recursive: true });
      cpSync(join(REPO_ROOT, 'tutorials', '04-durable-timers'), step, { recursive: true });
      cpSync(join(REPO_ROOT, 'shared'), join(root, 'shared'), { recursive: true }); // the README quotes messages from shared/
      const readme = join(step, 'README.md');
      const original = readFileSync(readme, 'utf8');
      writeFileSync(readme, `${original}\n## The wait\n\n<!-- snippet: ./workflows.ts#wait-for-decision -->\n`);
      expect(cli('--write').status).toBe(0); // fills in the block from the source

      const synced = readFileSync(readme, 'utf8');
      expect(synced).toContain('const decided = await condition(() => status.decision !== null, approvalTimeout);\nif (!decided) {');
      const markerLine = synced.split('\n').indexOf('<!-- snippet: ./workflows.ts#wait-for-decision -->') + 1;
      expect(cli('--check').status).toBe(0);

      const workflows = join(step, 'workflows.ts');
      const source = readFileSync(workflows, 'utf8');
      writeFileSync(workflows, source.replace("status.state = 'TIMED_OUT';", "status.state = 'EXPIRED';"));
      const check = cli('--check');
      expect(check.status).toBe(1);
      expect(check.stderr).toContain(`tutorials/04-durable-timers/README.md:${markerLine}: snippet ./workflows.ts#wait-for-decision differs from the source`);
      expect(check.stderr).toContain("+   status.state = 'EXPIRED';");
      expect(check.stderr).toContain("-   status.state = 'TIMED_OUT';");

      expect(cli('--write').stdout).toContain('updated tutorials/04-durable-timers/README.md');
      expect(cli('--check').status).toBe(0);
    });

    it('fails when a marker names a region that no longer exists', () => {
      const readme = join(step, 'README.md');
      writeFileSync(readme, readFileSync(readme, 'utf8').replaceAll('#wait-for-decision', '#wait-for-approval'));
      const check = cli('--check');
      expect(check.status).toBe(1);
      expect(check.stderr).toMatch(/README\.md:\d+: snippet \S*workflows\.ts#wait-for-approval: region "wait-for-approval" not found/);
    });
  });
});
