/** The one Chromium lookup and launch flags shared by the webview, report and end-to-end tests. */
import * as fs from 'node:fs';
import { chromium } from 'playwright-core';

/** Flags from docs/testing.md: no sandbox (CI runs as root), no network chatter. */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** CHROME_PATH, a system Chromium/Chrome, or Playwright's own download; otherwise an error naming what to install. */
export function findChromium(): string {
  const env = process.env.CHROME_PATH;
  if (env) {
    if (!fs.existsSync(env)) throw new Error(`CHROME_PATH=${env} does not exist`);
    return env;
  }
  for (const c of ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable', '/snap/bin/chromium']) {
    if (fs.existsSync(c)) return c;
  }
  try {
    const p = chromium.executablePath();
    if (p && fs.existsSync(p)) return p;
  } catch {
    /* no Playwright browser downloaded */
  }
  throw new Error(
    'No Chromium found for the browser tests. Install one:\n' +
      '  Debian/Ubuntu:  sudo apt-get install -y chromium\n' +
      '  or set CHROME_PATH=/path/to/chrome, or (online) npx playwright install chromium',
  );
}
