// Proof that `npm run docs:api` (typedoc over shared/, options in package.json "typedocOptions")
// fails on a warning, so a broken link in shared/'s doc comments cannot slip through. The build
// of the real reference, with zero warnings, is a step of .ci/run like the type check: it is a
// whole TypeScript compile, too heavy to run beside every test file.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './snippets.js';

/** Runs typedoc as `npm run docs:api` does, with `args` added (e.g. a different --out). */
function typedoc(...args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc'), ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('docs:api', () => {
  const out = join(tmpdir(), `api-docs-${randomUUID().slice(0, 8)}`);
  // A fixture inside the repository, so its imports would resolve like shared/'s do.
  const fixture = join(REPO_ROOT, 'practice', `api-docs-test-${randomUUID().slice(0, 8)}`);
  afterAll(() => {
    rmSync(out, { recursive: true, force: true });
    rmSync(fixture, { recursive: true, force: true });
  });

  it('fails on a warning, e.g. a link to nothing', async () => {
    mkdirSync(fixture, { recursive: true });
    writeFileSync(join(fixture, 'tsconfig.json'), JSON.stringify({ extends: '../../tsconfig.json', include: ['.'], exclude: [] }));
    writeFileSync(join(fixture, 'broken.ts'), '/** See {@link nowhereToBeFound}. */\nexport const answer = 42;\n');
    const { code, output } = await typedoc('--tsconfig', join(fixture, 'tsconfig.json'), '--entryPoints', join(fixture, 'broken.ts'), '--out', join(out, 'broken'));
    expect(output).toMatch(/Failed to resolve link to "nowhereToBeFound"/);
    expect(code).not.toBe(0);
  });
});
