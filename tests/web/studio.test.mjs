// The studio for each modality, the chat stream and the gallery, against the real host with the
// plain-C test plugin (deterministic PNG / WAV payloads, a streamed chat echo; no model needed):
// image (guidance 0 really sent), audio, TTS (voice), omni chat over SSE, the image-edit dropzone,
// and the gallery's delete / clear / reload.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';
import { startHost, buildDir, requireFile, tempDir } from './lib/host.mjs';
import { openBrowser, gotoApp, screenshot } from './lib/browser.mjs';

let host;
let browser;
let page;

async function startModel(type, model) {
  await page.selectOption('#model-type', type);
  await page.check('#run-mode-subprocess');
  await page.fill('#custom-model', model);
  await page.click('#start-btn');
  await page.waitForSelector('#status-dot[data-state="ready"]', { timeout: 30000 });
}

async function stopModel() {
  await page.click('#stop-btn');
  await page.waitForSelector('#status-dot[data-state="idle"]', { timeout: 30000 });
}

async function setRange(id, value) {
  await page.$eval(id, (el, v) => { el.value = String(v); el.dispatchEvent(new Event('input', { bubbles: true })); }, value);
}

/**
 * Clicks Generate and returns the JSON body the page sent. Every generation is a job now: the
 * page posts to /api/jobs with the task the old `endpoint` served, and the tile turns "succeeded".
 */
async function generate(endpoint) {
  const request = page.waitForRequest((r) => r.url().endsWith('/api/jobs') && r.method() === 'POST');
  const before = await page.$$eval('#gallery-grid li', (n) => n.length);
  await page.click('#generate-btn');
  const body = JSON.parse((await request).postData());
  const task = { '/api/omni/generate': 'image', '/api/omni/generate-video': 'video', '/api/omni/generate-audio': 'audio', '/api/omni/generate-tts': 'tts' }[endpoint];
  assert.equal(body.task, task);
  await page.waitForFunction((n) => document.querySelectorAll('#gallery-grid li').length === n + 1, before, { timeout: 30000 });
  await page.waitForSelector('#gallery-grid li:first-child[data-state="succeeded"]', { timeout: 30000 });
  await page.waitForSelector('#generate-btn:not([disabled])', { timeout: 30000 });
  assert.equal(await page.isVisible('#gen-error'), false, await page.textContent('#gen-error'));
  return body;
}

async function newestAudioDuration() {
  return page.evaluate(async () => {
    const a = document.querySelector('#gallery-grid li:first-child audio');
    if (!(a.duration > 0)) await new Promise((r) => { a.onloadedmetadata = r; a.onerror = r; setTimeout(r, 5000); });
    return { duration: a.duration, error: a.error && a.error.code };
  });
}

describe('studio per modality, chat and gallery (real host, test plugin)', () => {
  before(async () => {
    const plugins = path.join(buildDir(), 'tests', 'plugins');
    requireFile(path.join(plugins, 'test_plugin.plugin.json'), 'build omnihost_test_plugin');
    host = await startHost({ plugins });
    browser = await openBrowser({ width: 1100, height: 900 });
    page = browser.page;
    await gotoApp(page, host.url);
  });

  after(async () => {
    if (browser) await browser.close();
    if (host) await host.stop();
  });

  it('image: sends guidance 0 and the reference fields, shows the image', async () => {
    await startModel('image', 'test/tiny-image');
    assert.equal(await page.textContent('#generate-btn'), 'Generate Image');
    await page.fill('#prompt', 'a tiny square');
    await page.fill('#seed', '0');
    await setRange('#param-guidance_scale', 0);
    assert.equal(await page.textContent('#param-guidance_scale-value'), '0.0');
    const body = await generate('/api/omni/generate');
    assert.equal(body.guidance_scale, 0, 'guidance 0 must be sent as 0');
    assert.equal(body.seed, 0, 'seed 0 must be sent as 0');
    assert.equal(body.prompt, 'a tiny square');
    assert.match(body.job_id, /^[A-Za-z0-9_-]{1,64}$/);
    for (const key of ['width', 'height', 'num_inference_steps']) assert.equal(typeof body[key], 'number', key);
    const img = await page.$eval('#gallery-grid li[data-type="image"] img', async (i) => { await i.decode(); return i.naturalWidth; });
    assert.ok(img > 0, 'the PNG decodes');
    await stopModel();
  });

  it('audio: sends text, duration, steps, guidance; the manifest\'s negative prompt is the default; the WAV plays', async () => {
    await startModel('audio', 'test/tiny-audio');
    assert.equal(await page.textContent('#generate-btn'), 'Generate Audio');
    await page.fill('#prompt', 'rain on a roof');
    // The default negative prompt is the plugin manifest's: shown, and filled in by the host.
    assert.equal(await page.getAttribute('#negative-prompt', 'placeholder'), 'Negative prompt (default: low quality, average quality)');
    const body = await generate('/api/omni/generate-audio');
    assert.equal(body.text, 'rain on a roof');
    assert.equal(body.negative_prompt, undefined, 'left to the host, which fills the manifest default');
    for (const key of ['audio_duration', 'num_inference_steps', 'guidance_scale']) assert.equal(typeof body[key], 'number', key);
    const audio = await newestAudioDuration();
    assert.equal(audio.error, null);
    assert.ok(audio.duration > 0, `audio duration ${audio.duration}`);
    await stopModel();
  });

  it('tts: hides the negative prompt, sends the voice and speed', async () => {
    await startModel('tts', 'test/tiny-tts');
    assert.equal(await page.isVisible('#negative-prompt'), false);
    assert.equal(await page.textContent('#prompt-label'), 'Text');
    await page.fill('#prompt', 'Hello there');
    await page.selectOption('#param-voice', 'Ryan');
    const body = await generate('/api/omni/generate-tts');
    assert.deepEqual([body.text, body.voice, body.speed], ['Hello there', 'Ryan', 1]);
    assert.equal(body.negative_prompt, undefined);
    assert.ok((await newestAudioDuration()).duration > 0);
    await screenshot(page, 'studio-tts');
    await stopModel();
  });

  it('omni chat streams the answer over SSE with Enter to send', async () => {
    await startModel('omni', 'test/tiny-omni');
    assert.equal(await page.isVisible('#chat-panel'), true);
    await page.fill('#chat-input', 'ping <b>bold</b>');
    await page.press('#chat-input', 'Enter');
    await page.waitForFunction(() => {
      const last = document.querySelector('#chat-messages .chat-assistant:last-child .chat-text');
      return last && !last.classList.contains('streaming') && last.textContent.length > 0;
    }, null, { timeout: 30000 });
    const reply = await page.textContent('#chat-messages .chat-assistant:last-child .chat-text');
    assert.notEqual(reply, 'No response received');
    assert.equal(await page.$$eval('#chat-messages .chat-error', (n) => n.length), 0);
    assert.equal(await page.$('#chat-messages b'), null, 'user text stays text');
    await screenshot(page, 'chat');
    await stopModel();
  });

  it('shows the image-edit dropzone only for image-edit models and sends the uploaded image', async () => {
    await page.selectOption('#model-type', 'image');
    await page.fill('#custom-model', '');
    const edit = await page.evaluate(() => fetch('/api/omni/models').then((r) => r.json()).then((m) => (m.image || []).find((x) => x.supports_image_edit)));
    assert.ok(edit, 'the model catalogue should list an image-edit model');
    await page.selectOption('#model-select', edit.id);
    await page.waitForSelector('#image-edit:not([hidden])');
    assert.equal(await page.isVisible('#edit-tip'), true);
    // Upload an input image and check it travels as a data URL in the image request.
    const png = path.join(tempDir('upload'), 'input.png');
    fs.writeFileSync(png, Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==', 'base64'));
    await page.setInputFiles('#image-input', png);
    await page.waitForSelector('#image-preview:not([hidden])');
    await page.click('#start-btn');
    await page.waitForSelector('#status-dot[data-state="ready"]', { timeout: 30000 });
    await page.fill('#prompt', 'make it blue');
    const body = await generate('/api/omni/generate');
    assert.match(body.input_image, /^data:image\/png;base64,iVBORw0KGgo/);
    await stopModel();
    await page.click('#image-clear-btn');
    assert.equal(await page.isVisible('#image-preview'), false);
    fs.rmSync(path.dirname(png), { recursive: true, force: true });
    const plain = await page.evaluate(() => fetch('/api/omni/models').then((r) => r.json()).then((m) => (m.image || []).find((x) => !x.supports_image_edit)));
    await page.selectOption('#model-select', plain.id);
    assert.equal(await page.isVisible('#image-edit'), false);
  });

  it('keeps the gallery across reloads; delete and clear work', async () => {
    assert.equal(await page.textContent('#gallery-count'), '4 items');
    const types = await page.$$eval('#gallery-grid li', (n) => n.map((x) => x.dataset.type));
    assert.deepEqual(types, ['image', 'audio', 'audio', 'image'], 'newest first');
    await screenshot(page, 'gallery');
    await page.reload();
    await gotoApp(page, host.url);
    assert.equal(await page.textContent('#gallery-count'), '4 items');
    await page.click('#gallery-grid li:first-child .tile-delete');
    // The delete goes to the host's history first (DELETE /api/jobs/{id}), then leaves the page.
    await page.waitForFunction(() => document.querySelector('#gallery-count').textContent === '3 items');
    // The page says "Item deleted" once the removal is stored; a reload before it would race it.
    await page.waitForFunction(() => [...document.querySelectorAll('#toasts .toast')].some((t) => t.textContent === 'Item deleted'));
    await page.reload();
    await gotoApp(page, host.url);
    assert.equal(await page.textContent('#gallery-count'), '3 items');
    page.once('dialog', (d) => d.accept());
    await page.click('#gallery-clear-btn');
    await page.waitForFunction(() => document.querySelector('#gallery-count').textContent === '0 items');
    await page.reload();
    await gotoApp(page, host.url);
    assert.equal(await page.textContent('#gallery-count'), '0 items');
    assert.deepEqual(browser.problems, []);
  });
});
