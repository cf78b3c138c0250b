// Builds the card: card.ts and the ext-apps SDK it imports, bundled by esbuild (pinned in
// package.json) into card.html's script tag, so the host gets one self-contained HTML file.
// It runs when the card is first asked for, in memory, so `npx tsx server.ts` needs no build step.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const PLACEHOLDER = '<script>/* card.ts, bundled */</script>';
let built: Promise<string> | undefined;

// #region build
/** card.html with card.ts bundled into it: built once per process, then reused. */
export function cardHtml(): Promise<string> {
  built ??= (async () => {
    const [page, bundle] = await Promise.all([
      readFile(new URL('./card.html', import.meta.url), 'utf8'),
      build({
        entryPoints: [fileURLToPath(new URL('./card.ts', import.meta.url))],
        bundle: true, // the SDK goes into the file too: no CDN, nothing fetched at run time
        write: false,
        format: 'iife',
        platform: 'browser',
        target: 'es2022',
        minify: true,
        legalComments: 'none',
        logLevel: 'silent',
      }),
    ]);
    const script = bundle.outputFiles[0].text;
    // esbuild escapes "</script" in strings; a bundle that still held one would end the tag early.
    if (/<\/script/i.test(script)) throw new Error('The card bundle contains "</script": it cannot be inlined.');
    if (!page.includes(PLACEHOLDER)) throw new Error(`card.html has lost its placeholder ${PLACEHOLDER}.`);
    return page.replace(PLACEHOLDER, () => `<script>${script}</script>`);
  })();
  built.catch(() => (built = undefined)); // a failed build is tried again on the next request
  return built;
}
// #endregion build
