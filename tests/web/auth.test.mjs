// Token and escaping, in a real browser against the real host:
// with --token the page asks for the token on the first 401, keeps it in localStorage, sends it as
// a Bearer header (and ?token= on the log WebSocket); a recipe whose name and description hold
// HTML is shown as text, never parsed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startHost, REPO, tempDir, buildDir } from './lib/host.mjs';
import { openBrowser, gotoApp, screenshot } from './lib/browser.mjs';

const TOKEN = 'web-test-token-123';
const EVIL = '<img src=x onerror="window.__pwned=1">';
let host;
let browser;
let page;
let recipeDir;

function recipesWithEvilOne() {
  const dir = tempDir('recipes');
  fs.cpSync(path.join(REPO, 'recipes'), dir, { recursive: true });
  const demo = JSON.parse(fs.readFileSync(path.join(dir, 'demo-wan-tiny.json'), 'utf8'));
  fs.writeFileSync(path.join(dir, 'zz-evil.json'), JSON.stringify({
    ...demo, id: 'zz-evil', name: `Evil ${EVIL}`, description: `desc ${EVIL}`,
  }, null, 2));
  return dir;
}

describe('token auth and escaping (real host with --token)', () => {
  before(async () => {
    host = await startHost({ plugins: path.join(buildDir(), 'plugins'), token: TOKEN, recipes: (recipeDir = recipesWithEvilOne()) });
    browser = await openBrowser();
    page = browser.page;
  });

  after(async () => {
    if (browser) await browser.close();
    if (host) await host.stop();
    if (recipeDir) fs.rmSync(recipeDir, { recursive: true, force: true });
  });

  it('the API really needs the token', async () => {
    assert.equal((await fetch(`${host.url}/api/omni/status`)).status, 401);
    const ok = await fetch(`${host.url}/api/omni/status`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.status, 200);
  });

  it('asks for the token on 401 once; a cancel is not re-asked by polling; the Token button asks again', async () => {
    await page.goto(host.url);
    await page.waitForSelector('#token-dialog[open]', { timeout: 20000 });
    await screenshot(page, 'token-dialog');
    await page.keyboard.press('Escape');
    await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
    assert.equal(await page.isVisible('#catalog-error'), true, 'without a token the page says what failed');
    // Two status polls answered and handled: the third poll's request comes only after that.
    for (let i = 0; i < 3; i++) {
      await page.waitForRequest((r) => new URL(r.url()).pathname === '/api/omni/status', { timeout: 20000 });
    }
    assert.equal(await page.evaluate(() => document.querySelector('#token-dialog').open), false, 'polling must not re-open the prompt');

    await page.click('#token-btn');
    await page.waitForSelector('#token-dialog[open]');
    await page.fill('#token-input', TOKEN);
    await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 20000 });
    assert.equal(await page.evaluate(() => localStorage.getItem('omnihost.token')), TOKEN);
    await page.waitForSelector('#status-dot[data-state="idle"]');
    await page.waitForFunction(() => document.querySelector('#logs-conn').textContent === 'live', null, { timeout: 20000 });
    assert.equal(await page.isVisible('#catalog-error'), false, await page.textContent('#catalog-error'));
  });

  it('a reload uses the stored token without asking', async () => {
    await page.reload();
    await gotoApp(page, host.url);
    assert.equal(await page.evaluate(() => document.querySelector('#token-dialog').open), false);
    await page.waitForFunction(() => document.querySelector('#logs-conn').textContent === 'live', null, { timeout: 20000 });
  });

  it('shows server text with HTML as text', async () => {
    await page.click('#browse-recipes-btn');
    const card = page.locator('[data-recipe-id="zz-evil"]');
    await card.waitFor();
    assert.equal(await card.locator('h4').textContent(), `Evil ${EVIL}`);
    assert.equal(await card.locator('img').count(), 0);
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => !document.querySelector('#recipes-modal').open);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.deepEqual(browser.problems, []);
  });
});
