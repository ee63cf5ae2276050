/**
 * @module browser: Chromium for the web console's browser tests and the screenshot script, driven by
 * `playwright-core` (which downloads no browser). The binary is `MCP_GATEWAY_TEST_CHROMIUM` (set by `.ci/run`,
 * which installs Debian's `chromium`) or `/usr/bin/chromium`. When neither exists the tests are skipped and say
 * why; a variable that names a missing file is an error, since whoever set it expects the tests to run.
 */
import { accessSync, constants } from 'node:fs';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';

/** Where Debian's package puts it. */
const DEFAULT_CHROMIUM = '/usr/bin/chromium';

const executable = (path: string) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** The Chromium binary, or why there is none. */
export function locateChromium():
  { path: string; reason?: undefined } | { path?: undefined; reason: string } {
  const named = process.env.MCP_GATEWAY_TEST_CHROMIUM;
  if (named) {
    if (!executable(named)) throw new Error(`MCP_GATEWAY_TEST_CHROMIUM=${named} is not an executable file`);
    return { path: named };
  }
  if (executable(DEFAULT_CHROMIUM)) return { path: DEFAULT_CHROMIUM };
  return {
    reason: `no Chromium: install Debian's chromium (apt-get install chromium) or set MCP_GATEWAY_TEST_CHROMIUM`,
  };
}

/** Launches headless Chromium; `--no-sandbox` when running as root, where Chromium refuses its own sandbox. */
export function launchChromium(path: string): Promise<Browser> {
  const root = process.getuid?.() === 0;
  return chromium.launch({
    executablePath: path,
    headless: true,
    args: [...(root ? ['--no-sandbox'] : []), '--disable-dev-shm-usage', '--disable-gpu'],
  });
}
