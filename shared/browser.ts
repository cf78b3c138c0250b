/**
 * The Chrome or Chromium already on the machine, for the screenshots and the browser tests:
 * where it is, and how to launch it quietly with playwright-core (which downloads nothing).
 *
 * @module
 */
import { delimiter, join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { isExecutable } from './binaries.js';

/** Quiet Chromium: without the background-networking flags it calls Google's services at once. */
export const CHROMIUM_FLAGS = [
  '--no-sandbox', // as root in a container, Chromium's sandbox cannot start
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** How to get a browser, for the messages of whoever needs one. */
export const INSTALL_BROWSER =
  'Install it:  sudo apt-get install chromium   (Debian/Ubuntu; other systems: install Google Chrome or Chromium)\n' +
  'or point CHROMIUM_PATH at any Chrome/Chromium executable, e.g. CHROMIUM_PATH=/usr/bin/chromium';

/**
 * The Chrome or Chromium to drive: CHROMIUM_PATH, else the usual places and PATH; undefined when
 * there is none.
 *
 * @throws Error when CHROMIUM_PATH is set to something that is not an executable.
 */
export function findBrowser(): string | undefined {
  const override = process.env.CHROMIUM_PATH;
  if (override) {
    if (!isExecutable(override)) {
      throw new Error(`CHROMIUM_PATH is set to "${override}", which is not an executable file: point it at a Chrome/Chromium executable, or unset it.`);
    }
    return override;
  }
  const names = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome'];
  const onPath = (process.env.PATH ?? '').split(delimiter).filter(Boolean).flatMap((dir) => names.map((name) => join(dir, name)));
  const known = [
    '/usr/bin/chromium',
    '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
    '/Applications/Chromium.app/Contents/MacOS/Chromium',
    'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe',
    'C:\\Program Files (x86)\\Google\\Chrome\\Application\\chrome.exe',
  ];
  return [...known, ...onPath].find(isExecutable);
}

/** Launches the browser at `executablePath` headless, with {@link CHROMIUM_FLAGS}. */
export function launchBrowser(executablePath: string): Promise<Browser> {
  return chromium.launch({ executablePath, headless: true, args: CHROMIUM_FLAGS });
}
