// The logs panel against the real host: live lines with levels, Save as .txt, Clear, the auto-scroll
// toggle, and reconnecting (with backoff) to a host restarted on the same port, whose new log is
// shown instead of being mistaken for the replayed backlog.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startHost, buildDir, requireFile } from './lib/host.mjs';
import { openBrowser, gotoApp, screenshot } from './lib/browser.mjs';

let host;
let browser;
let page;
let plugins;

describe('logs panel (real host, test plugin)', () => {
  before(async () => {
    plugins = path.join(buildDir(), 'tests', 'plugins');
    requireFile(path.join(plugins, 'test_plugin.plugin.json'), 'build omnihost_test_plugin');
    host = await startHost({ plugins });
    browser = await openBrowser();
    page = browser.page;
    await gotoApp(page, host.url);
  });

  after(async () => {
    if (browser) await browser.close();
    if (host) await host.stop();
  });

  it('shows live host lines with their level, saves them as .txt and clears', async () => {
    await page.waitForFunction(() => document.querySelector('#logs-conn').textContent === 'live');
    await page.selectOption('#model-type', 'tts');
    await page.check('#run-mode-subprocess');
    await page.fill('#custom-model', 'test/logs');
    await page.click('#start-btn');
    await page.waitForSelector('#status-dot[data-state="ready"]', { timeout: 30000 });
    await page.waitForFunction(() => Array.from(document.querySelectorAll('#logs-content .log-entry'))
      .some((n) => n.querySelector('.log-source') && n.querySelector('.log-source').textContent === 'test_plugin'));
    assert.ok(await page.$('#logs-content .log-info'), 'info lines carry their level class');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#logs-save-btn')]);
    assert.match(download.suggestedFilename(), /^omnihost-logs-.*\.txt$/);
    const text = fs.readFileSync(await download.path(), 'utf8');
    assert.match(text, /test_plugin/);
    await page.click('#logs-clear-btn');
    assert.equal(await page.$$eval('#logs-content .log-entry', (n) => n.length), 0);
    await page.uncheck('#auto-scroll');
    assert.equal(await page.isChecked('#auto-scroll'), false);
    await page.check('#auto-scroll');
  });

  it('reconnects to a host restarted on the same port and shows its new log', async () => {
    const port = Number(new URL(host.url).port);
    await host.stop();
    await page.waitForFunction(() => document.querySelector('#logs-conn').textContent !== 'live', null, { timeout: 20000 });
    await page.waitForSelector('#status-dot[data-state="unreachable"]', { timeout: 20000 });
    host = await startHost({ plugins, port });
    await page.waitForFunction(() => document.querySelector('#logs-conn').textContent === 'live', null, { timeout: 30000 });
    await page.waitForFunction(() => /restarted/.test(document.querySelector('#logs-content').textContent), null, { timeout: 10000 });
    await page.waitForSelector('#status-dot[data-state="idle"]', { timeout: 20000 });
    await screenshot(page, 'logs-reconnected');
  });

  it('shows Starting with the load progress (step i/N), then Ready', async () => {
    // The test plugin's own knobs make its load take 3 s in 6 steps, so the Starting state can be
    // watched; they are added to the page's real start request on its way out.
    await page.route('**/api/omni/start', (route) => {
      const body = JSON.parse(route.request().postData());
      route.continue({ postData: JSON.stringify({ ...body, test_load_ms: 3000, test_load_steps: 6 }) });
    });
    await page.click('#start-btn');
    await page.waitForFunction(() => /load.*\d+\/6/.test(document.querySelector('#load-progress-text').textContent), null, { timeout: 20000 });
    assert.equal((await page.textContent('#status-text')).trim(), 'Starting...');
    assert.equal(await page.getAttribute('#status-dot', 'data-state'), 'starting');
    assert.equal(await page.isDisabled('#start-btn'), true);
    assert.equal(await page.isEnabled('#stop-btn'), true, 'a load can be stopped');
    await screenshot(page, 'starting');
    await page.waitForSelector('#status-dot[data-state="ready"]', { timeout: 30000 });
    assert.equal(await page.isVisible('#load-progress'), false);
    await page.unroute('**/api/omni/start');
    const problems = browser.problems.filter((p) => !/WebSocket connection to .* failed/.test(p));
    assert.deepEqual(problems, []);
  });
});
