// A plugin nobody has seen (tests/plugins/dropin_plugin: plain C, built without omnihost's helpers)
// is copied into an empty plugin folder; its manifest's own parameter ("sharpness_knob", 3..17 step
// 2, default 5) becomes a working control with the manifest's bounds, and its value reaches the
// plugin. No host or UI file names it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startHost, buildDir, requireFile, tempDir } from './lib/host.mjs';
import { openBrowser, gotoApp } from './lib/browser.mjs';

let host;
let browser;

describe('a dropped-in plugin gets a working UI control from its manifest alone', () => {
  before(async () => {
    const built = path.join(buildDir(), 'tests', 'dropin_plugin');
    const folder = tempDir('dropin');
    for (const file of ['libdropin_plugin.so', 'dropin_plugin.plugin.json']) {
      fs.copyFileSync(requireFile(path.join(built, file), 'build the dropin_plugin target'), path.join(folder, file));
    }
    host = await startHost({ plugins: folder });
    browser = await openBrowser();
  });
  after(async () => {
    if (browser) await browser.close();
    if (host) await host.stop();
  });

  it('renders the manifest parameter with its bounds, and the chosen value is what the plugin receives', async () => {
    const { page } = browser;
    await gotoApp(page, host.url);
    await page.selectOption('#model-type', 'image');
    await page.check('#run-mode-subprocess');
    await page.fill('#custom-model', 'any/model');
    await page.waitForSelector('#param-sharpness_knob');
    const control = await page.$eval('#param-sharpness_knob', (el) => ({ type: el.type, min: el.min, max: el.max, step: el.step, value: el.value }));
    assert.deepEqual(control, { type: 'range', min: '3', max: '17', step: '2', value: '5' });
    assert.equal(await page.textContent('label[for="param-sharpness_knob"]'), 'Sharpness knob');
    assert.equal(await page.$('#param-watermark'), null, 'an operator-only parameter gets no control');

    await page.click('#start-btn');
    await page.waitForSelector('#status-dot[data-state="ready"]', { timeout: 30000 });
    await page.$eval('#param-sharpness_knob', (el) => { el.value = '9'; el.dispatchEvent(new Event('input', { bubbles: true })); });
    await page.fill('#prompt', 'a knob test');
    // The page queues the generation as a job; its record holds what the plugin answered.
    const answered = page.waitForResponse((r) => r.url().endsWith('/api/jobs') && r.request().method() === 'POST');
    await page.click('#generate-btn');
    const response = await answered;
    assert.equal(JSON.parse(response.request().postData()).sharpness_knob, 9);
    assert.equal(response.status(), 202);
    const { id } = await response.json();
    await page.waitForSelector('#gallery-grid li:first-child:is([data-state="succeeded"], [data-state="failed"])', { timeout: 30000 });
    const record = await (await fetch(`${host.url}/api/jobs/${encodeURIComponent(id)}`)).json();
    assert.equal(record.state, 'succeeded', JSON.stringify(record));
    assert.equal(record.metadata.request.sharpness_knob, 9, 'the plugin received the validated value');
    assert.equal(await page.$$eval('#gallery-grid li', (n) => n.length), 1);
    assert.deepEqual(browser.problems, []);
  });
});
