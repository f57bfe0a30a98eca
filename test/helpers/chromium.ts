/**
 * Headless Chromium for the browser tests: Debian's package, driven by playwright-core (no browser
 * download). Without /usr/bin/chromium the tests are skipped with a loud message, unless
 * KSM_REQUIRE_BROWSER=1 (CI), which makes that a failure.
 */
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';

export const chromiumAvailable = existsSync(CHROMIUM);
if (!chromiumAvailable) {
  const message = `${CHROMIUM} not found: the browser test is SKIPPED (apt-get install chromium)`;
  if (process.env.KSM_REQUIRE_BROWSER === '1')
    throw new Error(`${message}; KSM_REQUIRE_BROWSER=1 makes this a failure`);
  console.warn(`\n!!!!!!!!\n!!! ${message}\n!!!!!!!!\n`);
}

// The flags this machine needs: no sandbox as root, and no background connections to the closed network.
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 });
}
