// Debian's Chromium through playwright-core with the project's flags and a fresh profile.
// Page errors and console errors are collected so a test can assert there were none.
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { REPO, requireFile, tempDir } from './host.mjs';

export const ARTIFACTS = path.join(REPO, 'tests', 'web', 'artifacts');
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

export async function openBrowser({ width = 1280, height = 900 } = {}) {
  requireFile(CHROMIUM, 'install Debian chromium (scripts/bootstrap.sh test)');
  const profile = tempDir('profile');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width, height },
  });
  const page = context.pages()[0] || await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(`console: ${m.text()}`); });
  return {
    context, page, problems,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Opens the page and waits until every module finished wiring (body[data-ready]). */
export async function gotoApp(page, url) {
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
}

export async function applyRecipe(page, id) {
  await page.click('#browse-recipes-btn');
  await page.click(`[data-recipe-id="${id}"] .recipe-apply`);
  await page.waitForSelector('#recipes-modal:not([open])', { state: 'attached' });
}
