import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { browserRequired, findBrowser } from './find-browser.js';

function executable(file: string): string {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, '#!/bin/sh\n');
  chmodSync(file, 0o755);
  return file;
}

describe('findBrowser', () => {
  const root = mkdtempSync(join(tmpdir(), 'flashback-find-browser-'));
  const empty = join(root, 'empty');
  mkdirSync(empty);
  const bin = join(root, 'bin');
  const chromium = executable(join(bin, 'chromium'));
  const chrome = executable(join(root, 'other', 'google-chrome'));
  const notExecutable = join(root, 'plain', 'chromium');
  mkdirSync(join(root, 'plain'));
  writeFileSync(notExecutable, 'not a program');
  const cache = join(root, 'ms-playwright');
  const old = executable(join(cache, 'chromium-1100', 'chrome-linux', 'chrome'));
  const newer = executable(join(cache, 'chromium-1200', 'chrome-linux', 'chrome'));
  executable(join(cache, 'chromium_headless_shell-1200', 'chrome-linux', 'headless_shell'));

  it('takes CHROME_PATH first, even with a browser on PATH', () => {
    expect(findBrowser({ CHROME_PATH: chrome, PATH: bin, PLAYWRIGHT_BROWSERS_PATH: cache })).toEqual({ path: chrome, via: 'CHROME_PATH' });
  });

  it('says why when CHROME_PATH names no executable, rather than looking elsewhere', () => {
    const r = findBrowser({ CHROME_PATH: notExecutable, PATH: bin });
    expect(r.path).toBeNull();
    expect(r).toMatchObject({ reason: expect.stringContaining(`CHROME_PATH is set to ${notExecutable}`) });
  });

  it('finds chromium on PATH, skipping a PATH entry whose file is not executable', () => {
    expect(findBrowser({ PATH: [join(root, 'plain'), bin].join(':'), PLAYWRIGHT_BROWSERS_PATH: cache })).toEqual({ path: chromium, via: 'chromium on PATH' });
  });

  it('finds google-chrome on PATH when there is no chromium', () => {
    expect(findBrowser({ PATH: join(root, 'other'), PLAYWRIGHT_BROWSERS_PATH: cache })).toMatchObject({ path: chrome });
  });

  it("falls back to the newest full Chromium in Playwright's cache", () => {
    const r = findBrowser({ PATH: empty, PLAYWRIGHT_BROWSERS_PATH: cache });
    expect(r.path).toBe(newer);
    expect(r.path).not.toBe(old);
  });

  it("looks in ~/.cache/ms-playwright when PLAYWRIGHT_BROWSERS_PATH is unset", () => {
    const home = join(root, 'home');
    const inHome = executable(join(home, '.cache', 'ms-playwright', 'chromium-1300', 'chrome-linux', 'chrome'));
    expect(findBrowser({ PATH: empty, HOME: home }).path).toBe(inHome);
  });

  it('gives a reason naming every place it looked when there is no browser', () => {
    const r = findBrowser({ PATH: empty, PLAYWRIGHT_BROWSERS_PATH: join(root, 'nowhere') });
    expect(r.path).toBeNull();
    if (r.path === null) {
      expect(r.reason).toContain('CHROME_PATH unset');
      expect(r.reason).toContain('chromium-browser');
      expect(r.reason).toContain(join(root, 'nowhere'));
    }
  });
});

describe('browserRequired', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['0', false],
    ['1', true],
    ['true', true],
  ])('FLASHBACK_REQUIRE_BROWSER=%s means required: %s', (value, required) => {
    expect(browserRequired(value === undefined ? {} : { FLASHBACK_REQUIRE_BROWSER: value })).toBe(required);
  });
});
