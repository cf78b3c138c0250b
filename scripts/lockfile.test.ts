// Proof that `npm ci` installs this lockfile on every machine a learner may have. npm writes a
// lockfile that only knows the current platform's native packages when node_modules already
// exists, or when a platform package is missing from the registry; `npm ci` on a Mac then fails
// with "Missing: @swc/core-darwin-arm64@ from lock file". The fix is in package.json ("//" says
// how); this test fails as soon as a lockfile loses one of these platforms again.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../shared/binaries.js';

/** The platforms we promise `npm ci` works on. */
const PLATFORMS = [
  { os: 'darwin', cpu: 'arm64' },
  { os: 'darwin', cpu: 'x64' },
  { os: 'win32', cpu: 'x64' },
  { os: 'linux', cpu: 'x64', libc: 'glibc' },
  { os: 'linux', cpu: 'x64', libc: 'musl' },
  { os: 'linux', cpu: 'arm64', libc: 'glibc' },
  { os: 'linux', cpu: 'arm64', libc: 'musl' },
] as const;
type Platform = (typeof PLATFORMS)[number];

interface LockEntry {
  version?: string;
  os?: string[];
  cpu?: string[];
  libc?: string[];
  optionalDependencies?: Record<string, string>;
}

const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
  lockfileVersion: number;
  packages: Record<string, LockEntry>;
};
const packages = lock.packages;

/** Where Node would find `name` from the package at `from` (a `packages` key): its own node_modules, then each parent's. */
function resolveFrom(from: string, name: string): string | undefined {
  for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules/')))) {
    const key = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[key]) return key;
    if (!dir) return undefined;
  }
}

/** npm's own rule: a `!`-prefixed value excludes, anything else includes; no list means any. */
function allows(list: string[] | undefined, value: string): boolean {
  if (!list?.length) return true;
  if (list.includes(`!${value}`)) return false;
  return list.some((v) => !v.startsWith('!')) ? list.includes(value) : true;
}

function runsOn(entry: LockEntry, name: string, p: Platform): boolean {
  // Older lockfiles and some packages have no "libc"; their names say it (…-linux-x64-musl, …-gnu).
  const libc = entry.libc ?? (/musl/.test(name) ? ['musl'] : /-gnu|glibc/.test(name) ? ['glibc'] : undefined);
  return allows(entry.os, p.os) && allows(entry.cpu, p.cpu) && ('libc' in p ? allows(libc, p.libc) : true);
}

const withOptional = Object.entries(packages).filter(([key, e]) => key && e.optionalDependencies);

/**
 * Packages that pick a native binary per platform: two or more optional dependencies restricted by
 * os or cpu (@swc/core, esbuild, rolldown, lightningcss, ...). A single darwin-only optional
 * dependency, like fsevents, is not one of them.
 */
const nativeFamilies = withOptional
  .map(([key, e]) => {
    const platformDeps = Object.keys(e.optionalDependencies!)
      .map((name) => ({ name, at: resolveFrom(key, name) }))
      .filter(({ at }) => at && (packages[at].os || packages[at].cpu));
    return { key, platformDeps };
  })
  .filter(({ platformDeps }) => platformDeps.length >= 2);

describe('package-lock.json', () => {
  it('is a lockfile v3 with packages', () => {
    expect(lock.lockfileVersion).toBe(3);
    expect(nativeFamilies.map((f) => f.key)).toContain('node_modules/@swc/core');
  });

  it('holds every optional dependency any package declares (what `npm ci` checks)', () => {
    const missing = withOptional.flatMap(([key, e]) =>
      Object.keys(e.optionalDependencies!)
        .filter((name) => !resolveFrom(key, name))
        .map((name) => `${key.replace(/^.*node_modules\//, '')}@${e.version} → ${name}@${e.optionalDependencies![name]}`),
    );
    expect(missing, lockfileAdvice(missing)).toEqual([]);
  });

  it.each(PLATFORMS.map((p) => [Object.values(p).join('-'), p] as const))(
    'has a native package for %s in every package that needs one',
    (_, platform) => {
      const uncovered = nativeFamilies
        .filter(({ platformDeps }) => !platformDeps.some(({ name, at }) => runsOn(packages[at!], name, platform)))
        .map(({ key }) => `${key.replace(/^.*node_modules\//, '')}@${packages[key].version}`);
      expect(uncovered, lockfileAdvice(uncovered)).toEqual([]);
    },
  );
});

function lockfileAdvice(problems: string[]): string {
  return (
    `package-lock.json lacks native packages for: ${problems.join(', ')}. Regenerate it from scratch: ` +
    '`rm -rf node_modules package-lock.json && npm install`. If one is still missing, that version was never ' +
    'published for every platform: pin the newest one that was in package.json "overrides", as @swc/core is.'
  );
}
