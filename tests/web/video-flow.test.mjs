// The main path in a real browser against the real host and the real in-process video plugin:
// container refused for the video recipe (reason from the manifest), the in-process command
// preview, a failed start (the demo model is not written yet) showing its reason, then the demo
// model written, Start -> Ready, log lines arriving, a video generated that plays, the gallery
// surviving a reload, a cancelled generation, and Stop.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHost, makeDemoModel, makeDemoModelTool, pluginDir } from './lib/host.mjs';
import { openBrowser, gotoApp, applyRecipe, screenshot } from './lib/browser.mjs';

const DEMO = 'demo-wan-tiny';
let host;
let browser;
let page;

async function hostJson(path) {
  const response = await fetch(`${host.url}${path}`);
  assert.equal(response.ok, true, `${path} answered ${response.status}`);
  return response.json();
}

describe('video flow (real host, video_diffusion plugin, demo model)', () => {
  before(async () => {
    makeDemoModelTool(); // fail early and clearly if the tool is not built
    host = await startHost({ plugins: pluginDir(['video_diffusion']) });
    browser = await openBrowser();
    page = browser.page;
    await gotoApp(page, host.url);
  });

  after(async () => {
    if (browser) await browser.close();
    if (host) {
      const code = await host.stop();
      if (code !== 0 && code !== null) console.log(`host exit code ${code}; output:\n${host.output()}`);
    }
  });

  it('disables Container for the video recipe and shows the manifest reason', async () => {
    await applyRecipe(page, DEMO);
    assert.equal(await page.inputValue('#model-type'), 'video');
    assert.equal(await page.isDisabled('#run-mode-container'), true, 'container radio must be disabled');
    assert.equal(await page.isChecked('#run-mode-subprocess'), true);
    const { plugins } = await hostJson('/api/omni/plugins');
    const refusal = plugins.flatMap((p) => p.refuses || []).find((r) => r.model_type === 'video' && r.run_mode === 'container');
    assert.ok(refusal, 'a plugin manifest must refuse video x container');
    const help = await page.textContent('#run-mode-help');
    assert.ok(help.includes(refusal.reason), `help "${help}" should show the reason "${refusal.reason}"`);
    assert.equal(await page.getAttribute('#run-mode-container-label', 'title'), refusal.reason);
    await screenshot(page, 'config-video-recipe');
  });

  it('previews the in-process load for the video recipe', async () => {
    await page.waitForFunction(() => /in-process|inprocess/i.test(document.querySelector('#command-text').value));
    const text = await page.inputValue('#command-text');
    const preview = await (await fetch(`${host.url}/api/omni/command-preview`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ recipe: DEMO, model: 'models/wan-tiny-demo', model_type: 'video', run_mode: 'subprocess' }),
    })).json();
    assert.equal(preview.kind, 'inprocess');
    assert.ok(text.includes('wan-tiny-demo'), `preview should name the model:\n${text}`);
  });

  it('shows the reason of a failed start (model not written yet)', async () => {
    await page.click('#start-btn');
    await page.waitForSelector('#status-dot[data-state="failed"]', { timeout: 60000 });
    const status = await hostJson('/api/omni/status');
    assert.equal(status.state, 'failed');
    assert.ok(status.error, 'the host must report a failure reason');
    assert.equal(await page.isVisible('#status-error'), true);
    assert.equal((await page.textContent('#status-error')).trim(), status.error);
    assert.match(await page.textContent('#status-text'), /^Failed/);
    await screenshot(page, 'start-failed');
  });

  it('starts the demo recipe and turns Ready, with host log lines arriving', async () => {
    makeDemoModel(host.dataDir);
    await page.click('#start-btn');
    await page.waitForSelector('#status-dot[data-state="ready"]', { timeout: 180000 });
    assert.equal((await page.textContent('#status-text')).trim(), 'Ready');
    // The loaded model's peak memory beside it (status device_memory, once the plugin's health is polled).
    await page.waitForFunction(() => /^· cpu peak \d/.test(document.querySelector('#status-memory').textContent), null, { timeout: 30000 });
    assert.equal(await page.isHidden('#status-error'), true);
    assert.equal(await page.isEnabled('#generate-btn'), true);
    const hostLines = await page.$$eval('#logs-content .log-entry .log-source', (nodes) => nodes.filter((n) => n.textContent !== 'ui').length);
    assert.ok(hostLines > 0, 'log lines from the host must arrive over /ws/omni/logs');
    assert.equal(await page.textContent('#logs-conn'), 'live');
    await screenshot(page, 'ready');
  });

  it('generates a video with step progress, and the video plays', async () => {
    await page.fill('#prompt', 'a red ball bouncing <script>alert(1)</script>');
    await page.fill('#seed', '7');
    await page.evaluate(() => {
      window.__progress = [];
      new MutationObserver(() => window.__progress.push(document.querySelector('#gen-progress-text').textContent))
        .observe(document.querySelector('#gen-progress-text'), { childList: true, characterData: true, subtree: true });
    });
    await page.click('#generate-btn');
    await page.waitForSelector('#gallery-grid li[data-type="video"] video', { timeout: 180000 });
    const progress = await page.evaluate(() => window.__progress);
    assert.ok(progress.some((p) => /step \d+\/\d+/.test(p)), `progress should show step i/N, saw: ${JSON.stringify(progress)}`);
    const media = await page.evaluate(async () => {
      const v = document.querySelector('#gallery-grid li[data-type="video"] video');
      if (!(v.duration > 0)) await new Promise((r, j) => { v.onloadedmetadata = r; v.onerror = () => j(new Error('video error')); setTimeout(r, 10000); });
      await v.play();
      await new Promise((r) => setTimeout(r, 300));
      return { duration: v.duration, time: v.currentTime, w: v.videoWidth, h: v.videoHeight, error: v.error && v.error.code };
    });
    assert.ok(media.duration > 0, `video duration ${media.duration}`);
    assert.ok(media.w > 0 && media.h > 0, `video size ${media.w}x${media.h}`);
    assert.equal(media.error, null);
    assert.equal(await page.$('#gallery-grid script'), null, 'the prompt must stay text');
    assert.equal(await page.textContent('#gallery-count'), '1 item');
    await screenshot(page, 'video-generated');

    await page.click('#gallery-grid li[data-type="video"] .tile-open');
    await page.waitForSelector('#lightbox[open] video');
    const name = await page.getAttribute('#lightbox-download', 'download');
    assert.match(name, /^omnihost-video-a-red-ball-bouncing[a-z0-9-]*-seed7-\d{8}-\d{6}\.mp4$/);
    await screenshot(page, 'lightbox');
    await page.keyboard.press('Escape');
    await page.waitForSelector('#lightbox:not([open])', { state: 'attached' });
  });

  it('keeps the gallery across a page reload and restores the running model', async () => {
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    await page.waitForSelector('#gallery-grid li[data-type="video"] video');
    assert.equal(await page.textContent('#gallery-count'), '1 item');
    await page.waitForSelector('#status-dot[data-state="ready"]');
    assert.equal(await page.inputValue('#model-type'), 'video');
  });

  it('cancels an in-process generation', async () => {
    await page.fill('#prompt', 'a long one to cancel');
    // A large resolution and the most steps the form allows, so the job is still running when Cancel lands.
    for (const [name, value] of [['height', '320'], ['width', '512']]) {
      await page.$eval(`#param-${name}`, (el, v) => { el.value = v; el.dispatchEvent(new Event('input')); }, value);
    }
    const max = await page.getAttribute('#param-num_inference_steps', 'max');
    await page.$eval('#param-num_inference_steps', (el, v) => { el.value = v; el.dispatchEvent(new Event('input')); }, max);
    await page.click('#generate-btn');
    await page.waitForSelector('#cancel-btn:not([hidden])');
    await page.waitForFunction(() => /step \d+\/\d+/.test(document.querySelector('#gen-progress-text').textContent), null, { timeout: 120000 });
    await page.click('#cancel-btn');
    await page.waitForFunction(() => /cancelled/i.test(document.querySelector('#gen-error').textContent), null, { timeout: 120000 });
    assert.equal(await page.textContent('#gallery-count'), '1 item', 'a cancelled job adds nothing');
    await page.waitForSelector('#status-dot[data-state="ready"]');
    await screenshot(page, 'cancelled');
  });

  it('stops the model', async () => {
    await page.click('#stop-btn');
    await page.waitForSelector('#status-dot[data-state="idle"]', { timeout: 60000 });
    assert.equal((await page.textContent('#status-text')).trim(), 'Offline');
    assert.deepEqual(browser.problems, []);
  });
});
