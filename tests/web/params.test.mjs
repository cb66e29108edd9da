// Every manifest field kind becomes a control whose bounds, step, options, default, label, help
// and group are the manifest's (tests/params/every_kind.plugin.json on the plain-C drop-in
// plugin), in a task and at start; a recipe's defaults (under manifest aliases) fill them; and the
// values chosen are what the plugin receives. No host or UI file names any of these parameters.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startHost, buildDir, requireFile, tempDir, REPO } from './lib/host.mjs';
import { openBrowser, gotoApp } from './lib/browser.mjs';

const FIXTURE = path.join(REPO, 'tests', 'params');
const manifest = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'every_kind.plugin.json'), 'utf8'));
const image = manifest.parameters.image;
const start = manifest.parameters.start;

let host;
let browser;

const attrs = (page, sel) => page.$eval(sel, (el) => ({
  tag: el.tagName.toLowerCase(), type: el.type, min: el.min, max: el.max, step: el.step, value: el.value,
  checked: el.checked, options: el.tagName === 'SELECT' ? Array.from(el.options).map((o) => [o.value, o.textContent]) : null,
  group: el.closest('fieldset') ? el.closest('fieldset').querySelector('legend').textContent : null,
  help: el.closest('.field') && el.closest('.field').querySelector('p.help:not(.range-hint)')
    ? el.closest('.field').querySelector('p.help:not(.range-hint)').textContent : null,
}));

describe('every manifest field kind gets a control equal to the manifest', () => {
  before(async () => {
    const built = path.join(buildDir(), 'tests', 'dropin_plugin');
    const folder = tempDir('kinds');
    fs.copyFileSync(requireFile(path.join(built, 'libdropin_plugin.so'), 'build the dropin_plugin target'),
      path.join(folder, 'libdropin_plugin.so'));
    fs.copyFileSync(path.join(FIXTURE, 'every_kind.plugin.json'), path.join(folder, 'dropin_plugin.plugin.json'));
    host = await startHost({ plugins: folder, recipes: path.join(FIXTURE, 'recipes'), extraArgs: ['--default-recipe', 'kinds-good'] });
    browser = await openBrowser();
  });
  after(async () => {
    if (browser) await browser.close();
    if (host) await host.stop();
  });

  it('task and start controls carry the manifest bounds, options, labels, help and groups; values reach the plugin', async () => {
    const { page } = browser;
    await gotoApp(page, host.url); // a first visit applies the default recipe (kinds-good)
    await page.waitForSelector('#param-sharpness_knob');

    // Numbers: bounds and step are the manifest's; the default is the recipe's (under an alias) or the manifest's.
    for (const [name, kind, value] of [['sharpness_knob', 'range', '5'], ['strength', 'range', '0.3'], ['tile_px', 'range', '512']]) {
      const c = await attrs(page, `#param-${name}`);
      const d = image[name];
      assert.equal(c.type, kind, name);
      assert.equal(Number(c.min), d.min, `${name} min`);
      assert.equal(Number(c.max), d.max, `${name} max`);
      assert.equal(Number(c.step), d.step ?? d.multiple_of, `${name} step`);
      assert.equal(c.value, value, `${name} value`);
      assert.equal(await page.textContent(`label[for="param-${name}"]`), d.label);
    }
    assert.equal((await attrs(page, '#param-sharpness_knob')).group, 'Look');
    assert.equal((await attrs(page, '#param-strength')).group, 'Look');
    assert.equal((await attrs(page, '#param-sharpness_knob')).help, image.sharpness_knob.help);
    const count = await attrs(page, '#param-count');
    assert.deepEqual([count.type, Number(count.min), Number(count.max), count.value], ['number', 1, 4, '']);
    // enum: exactly its values; choices: offered with their labels; boolean: a checkbox.
    const sampler = await attrs(page, '#param-sampler');
    assert.deepEqual(sampler.options.map(([v]) => v), image.sampler.enum);
    assert.equal(sampler.value, 'dpm'); // recipe
    const style = await attrs(page, '#param-style');
    assert.deepEqual(style.options, [['plain', 'plain'], ['vivid', 'Vivid colours']]);
    assert.equal(style.value, 'plain');
    const tiling = await attrs(page, '#param-tiling');
    assert.deepEqual([tiling.type, tiling.checked], ['checkbox', false]);
    // Operator-only and page-owned fields get no control.
    for (const sel of ['#param-watermark', '#param-prompt', '#param-seed', '#start-licence_key']) assert.equal(await page.$(sel), null, sel);

    // Start settings: the plugin's own get controls; the page's vLLM fields it does not declare are hidden.
    const cache = await attrs(page, '#start-cache_mb');
    assert.deepEqual([Number(cache.min), Number(cache.max), Number(cache.step), cache.value], [start.cache_mb.min, start.cache_mb.max, start.cache_mb.step, '512']);
    assert.equal(cache.group, 'Cache');
    assert.deepEqual((await attrs(page, '#start-precision')).options.map(([v]) => v), start.precision.enum);
    assert.equal((await attrs(page, '#start-endpoint')).type, 'text');
    assert.equal(await page.isVisible('#port'), false, 'no port field for a plugin without one');
    assert.equal(await page.isVisible('#gpu-memory'), false);

    // Start: what is sent is the plugin's start settings only.
    await page.$eval('#start-cache_mb', (el) => { el.value = '1024'; el.dispatchEvent(new Event('input', { bubbles: true })); });
    await page.selectOption('#start-precision', 'bf16');
    const started = page.waitForResponse((r) => r.url().endsWith('/api/omni/start') && r.request().method() === 'POST');
    await page.click('#start-btn');
    const startResponse = await started;
    const startBody = JSON.parse(startResponse.request().postData());
    assert.equal(startResponse.status(), 202, await startResponse.text());
    assert.equal(startBody.cache_mb, 1024);
    assert.equal(startBody.precision, 'bf16');
    for (const key of ['port', 'gpu_memory_utilization', 'enable_cpu_offload', 'enable_torch_compile', 'tensor_parallel_size']) {
      assert.equal(key in startBody, false, `${key} is not this plugin's setting`);
    }
    await page.waitForSelector('#status-dot[data-state="ready"]', { timeout: 30000 });

    // Generate with changed values: the request and what the plugin received agree.
    const set = (sel, v) => page.$eval(sel, (el, value) => { el.value = value; el.dispatchEvent(new Event('input', { bubbles: true })); }, v);
    await set('#param-strength', '0.7');
    await set('#param-tile_px', '128');
    await page.selectOption('#param-sampler', 'euler');
    await page.selectOption('#param-style', 'vivid');
    await page.check('#param-tiling');
    await page.fill('#param-count', '3');
    await page.fill('#prompt', 'every kind');
    // Every generation is a job: the page posts it to /api/jobs; its record holds what the plugin answered.
    const answered = page.waitForResponse((r) => r.url().endsWith('/api/jobs') && r.request().method() === 'POST');
    await page.click('#generate-btn');
    const response = await answered;
    const sent = JSON.parse(response.request().postData());
    assert.equal(response.status(), 202, await response.text());
    const { id } = await response.json();
    await page.waitForSelector('#gallery-grid li:first-child:is([data-state="succeeded"], [data-state="failed"])', { timeout: 30000 });
    const record = await (await fetch(`${host.url}/api/jobs/${encodeURIComponent(id)}`)).json();
    assert.equal(record.state, 'succeeded', JSON.stringify(record));
    const received = record.metadata.request;
    const expected = { strength: 0.7, tile_px: 128, sampler: 'euler', style: 'vivid', tiling: true, count: 3, sharpness_knob: 5 };
    for (const [key, value] of Object.entries(expected)) {
      assert.equal(sent[key], value, `sent ${key}`);
      assert.equal(received[key], value, `received ${key}`);
    }
    assert.equal(received.watermark, 'dropin', 'the operator-only default, never the page\'s');

    // A value outside the manifest's grid is named by the page before anything is sent.
    await page.fill('#param-count', '9');
    await page.click('#generate-btn');
    await page.waitForSelector('#gen-error:not([hidden])');
    assert.match(await page.textContent('#gen-error'), /Count must be between 1 and 4/);
    assert.deepEqual(browser.problems, []);
  });
});
