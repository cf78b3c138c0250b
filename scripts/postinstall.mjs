// npm's postinstall hook (package.json "scripts"): fetches the Temporal binaries into .temporal/
// with scripts/setup-temporal.ts --postinstall, which never fails the install.
// Plain JavaScript, because npm also runs this hook where tsx is not installed (for example
// `npm install --package-lock-only`, or `--omit=dev`); then there is nothing to run it with, and
// the first command that needs a binary fetches it instead (shared/binaries.ts requireBinary).
let tsx;
try {
  tsx = await import('tsx/esm/api');
} catch {
  console.log('Skipped fetching the Temporal binaries (tsx is not installed yet): `npm run setup`, or the first command that needs one, will.');
}
if (tsx) {
  tsx.register();
  await import('./setup-temporal.ts');
}
