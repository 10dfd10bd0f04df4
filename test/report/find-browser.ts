import { accessSync, constants, readdirSync } from 'node:fs';
import { homedir, platform } from 'node:os';
import { delimiter, join } from 'node:path';

/** Where a Chromium-family browser was found, or why none was. */
export type BrowserLookup = { path: string; via: string } | { path: null; reason: string };

/** Set (to anything but empty or 0) where a missing browser must fail the browser tests: `.ci/run` sets it. */
export const REQUIRE_BROWSER_VARIABLE = 'FLASHBACK_REQUIRE_BROWSER';

/** Names tried on PATH, in order. */
export const BROWSER_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome'];

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Playwright's own browser cache: `PLAYWRIGHT_BROWSERS_PATH`, else the platform default. */
function playwrightCache(env: NodeJS.ProcessEnv): string {
  const set = env.PLAYWRIGHT_BROWSERS_PATH;
  if (set && set !== '0') return set;
  const home = env.HOME || homedir();
  if (platform() === 'darwin') return join(home, 'Library', 'Caches', 'ms-playwright');
  if (platform() === 'win32') return join(env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'), 'ms-playwright');
  return join(env.XDG_CACHE_HOME || join(home, '.cache'), 'ms-playwright');
}

/** Executables inside one Playwright browser folder (chromium-1234, chromium_headless_shell-1234). */
const PLAYWRIGHT_EXECUTABLES = [
  ['chrome-linux', 'chrome'],
  ['chrome-linux64', 'chrome'],
  ['chrome-linux', 'headless_shell'],
  ['chrome-headless-shell-linux64', 'chrome-headless-shell'],
  ['chrome-mac', 'Chromium.app', 'Contents', 'MacOS', 'Chromium'],
  ['chrome-win', 'chrome.exe'],
];

function findInPlaywrightCache(cache: string): string | null {
  let entries: string[];
  try {
    entries = readdirSync(cache);
  } catch {
    return null;
  }
  // Newest revision first; full Chromium before the headless shell.
  const folders = entries
    .filter((e) => /^chromium(_headless_shell)?-\d+$/.test(e))
    .sort((a, b) => Number(b.split('-').pop()) - Number(a.split('-').pop()) || a.length - b.length);
  for (const folder of folders) {
    for (const parts of PLAYWRIGHT_EXECUTABLES) {
      const file = join(cache, folder, ...parts);
      if (isExecutable(file)) return file;
    }
  }
  return null;
}

/**
 * Finds a Chromium-family browser the usual ways: `CHROME_PATH`, then `chromium`, `chromium-browser`,
 * `google-chrome` (and friends) on PATH, then Playwright's browser cache. Never throws.
 */
export function findBrowser(env: NodeJS.ProcessEnv = process.env): BrowserLookup {
  const configured = env.CHROME_PATH;
  if (configured) {
    if (isExecutable(configured)) return { path: configured, via: 'CHROME_PATH' };
    return { path: null, reason: `CHROME_PATH is set to ${configured}, which is not an executable file` };
  }
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const name of BROWSER_NAMES) {
    for (const dir of dirs) {
      const file = join(dir, name);
      if (isExecutable(file)) return { path: file, via: `${name} on PATH` };
    }
  }
  const cache = playwrightCache(env);
  const cached = findInPlaywrightCache(cache);
  if (cached) return { path: cached, via: `Playwright's cache (${cache})` };
  return {
    path: null,
    reason:
      `no Chromium-family browser found (CHROME_PATH unset; none of ${BROWSER_NAMES.join(', ')} on PATH; ` +
      `nothing in ${cache}): install one (Debian: apt-get install chromium) or set CHROME_PATH`,
  };
}

/** Whether the environment demands a browser (CI), so that a missing one fails instead of skipping. */
export function browserRequired(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env[REQUIRE_BROWSER_VARIABLE];
  return v !== undefined && v !== '' && v !== '0';
}
