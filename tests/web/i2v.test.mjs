// The video studio's input image in a real browser against the real host and the real in-process
// video plugin: the dropzone appears for a model that takes an image (the TI2V demo) and not for a
// text-to-video one (the T2V demo); a PNG dropped on it is previewed, sent as a data URL in the
// request's "image" field, and the result names its SHA-256; click-to-pick and paste work too;
// Clear removes it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import zlib from 'node:zlib';
import { startHost, makeDemoModel, makeDemoModelTool, pluginDir } from './lib/host.mjs';
import { openBrowser, gotoApp, applyRecipe, screenshot } from './lib/browser.mjs';

let host;
let browser;
let page;

/** A real 64x64 RGB PNG (gradient), written here with zlib so the test needs no image tool. */
function makePng(w = 64, h = 64) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const sum = Buffer.alloc(4); sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
  const raw = Buffer.alloc(h * (1 + w * 3));
  for (let y = 0; y < h; y++) {
    raw[y * (1 + w * 3)] = 0;
    for (let x = 0; x < w; x++) {
      const o = y * (1 + w * 3) + 1 + x * 3;
      raw[o] = (x * 255) / (w - 1); raw[o + 1] = (y * 255) / (h - 1); raw[o + 2] = 128;
    }
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

async function hostStatus() {
  const response = await fetch(`${host.url}/api/omni/status`);
  assert.equal(response.ok, true);
  return response.json();
}

/** Starts a recipe from the page and waits until the host knows what images the model takes. */
async function startRecipe(id) {
  await applyRecipe(page, id);
  await page.click('#start-btn');
  await page.waitForSelector('#status-dot[data-state="ready"]', { timeout: 180000 });
  for (;;) {
    const s = await hostStatus();
    if (s.image_input && typeof s.image_input === 'object') return s.image_input;
    await new Promise((r) => setTimeout(r, 100)); // poll interval, not ordering
  }
}

/** Records the JSON bodies of the video generations the page asks for (a job or the direct endpoint). */
function recordVideoRequests() {
  const bodies = [];
  page.on('request', (r) => {
    if (r.method() !== 'POST') return;
    const url = new URL(r.url());
    const body = JSON.parse(r.postData() || '{}');
    if (url.pathname === '/api/omni/generate-video' || (url.pathname === '/api/jobs' && body.task === 'video')) bodies.push(body);
  });
  return bodies;
}

const videoTiles = () => page.$$eval('#gallery-grid li[data-type="video"]', (nodes) => nodes.length);

async function waitForTiles(count) {
  await page.waitForFunction((n) => document.querySelectorAll('#gallery-grid li[data-type="video"] video').length >= n, count, { timeout: 180000 });
}

describe('video studio input image (real host, video_diffusion, TI2V and T2V demo models)', () => {
  before(async () => {
    host = await startHost({ plugins: pluginDir(['video_diffusion']) });
    makeDemoModel(host.dataDir);
    const ti2v = path.join(host.dataDir, 'models', 'wan-ti2v-tiny-demo');
    const run = spawnSync(makeDemoModelTool(), [ti2v, '--ti2v'], { encoding: 'utf8', timeout: 120000 });
    assert.equal(run.status, 0, `omnihost-make-demo-model --ti2v failed: ${run.stderr || run.stdout}`);
    browser = await openBrowser();
    page = browser.page;
    await gotoApp(page, host.url);
  });

  after(async () => {
    if (browser) await browser.close();
    if (host) await host.stop();
  });

  it('shows the dropzone for the TI2V model; a dropped PNG is previewed, sent and named by its hash', async () => {
    const modes = await startRecipe('demo-wan-ti2v-tiny');
    assert.equal(modes.image, 'accepted');
    await page.waitForSelector('#video-image-dropzone', { state: 'visible', timeout: 30000 });
    assert.match(await page.textContent('#video-image-dropzone'), /optional/);

    const png = makePng();
    await page.evaluate(async (b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'input.png', { type: 'image/png' }));
      document.querySelector('#video-image-dropzone').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, png.toString('base64'));
    await page.waitForSelector('#video-image-preview', { state: 'visible' });
    const expected = `data:image/png;base64,${png.toString('base64')}`;
    assert.equal(await page.getAttribute('#video-image-preview-img', 'src'), expected);
    await screenshot(page, 'i2v-dropped');

    const bodies = recordVideoRequests();
    await page.fill('#prompt', 'the picture starts to move');
    await page.fill('#seed', '3');
    await page.click('#generate-btn');
    await page.waitForSelector('#video-image-hash', { state: 'visible', timeout: 180000 });
    assert.equal(bodies.length, 1);
    assert.equal(bodies[0].image, expected, 'the dropped file must be sent as its data URL');
    const sha = crypto.createHash('sha256').update(png).digest('hex');
    assert.match(await page.textContent('#video-image-hash'), new RegExp(sha));
    await waitForTiles(1);
    await page.waitForSelector('#generate-btn:not([disabled])', { timeout: 60000 });

    // Click-to-pick (the hidden file input) and paste take a picture too; Clear removes it each time.
    await page.click('#video-image-clear-btn');
    await page.waitForSelector('#video-image-preview', { state: 'hidden' });
    await page.setInputFiles('#video-image-input', { name: 'picked.png', mimeType: 'image/png', buffer: png });
    await page.waitForSelector('#video-image-preview', { state: 'visible' });
    assert.equal(await page.getAttribute('#video-image-preview-img', 'src'), expected);
    await page.click('#video-image-clear-btn');
    await page.waitForSelector('#video-image-preview', { state: 'hidden' });
    await page.evaluate(async (b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'pasted.png', { type: 'image/png' }));
      document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    }, png.toString('base64'));
    await page.waitForSelector('#video-image-preview', { state: 'visible' });
    assert.equal(await page.getAttribute('#video-image-preview-img', 'src'), expected);

    const before = await videoTiles();
    await page.click('#video-image-clear-btn');
    await page.waitForSelector('#video-image-preview', { state: 'hidden' });
    await page.click('#generate-btn');
    await waitForTiles(before + 1);
    assert.equal(bodies.length, 2);
    assert.equal('image' in bodies[1], false, 'a cleared image is not sent');
  });

  it('hides the dropzone for a text-to-video model and sends no image', async () => {
    await page.click('#stop-btn');
    await page.waitForSelector('#status-dot[data-state="idle"]', { timeout: 60000 });
    const modes = await startRecipe('demo-wan-tiny');
    assert.equal(modes.image, 'refused');
    // data-mode turns "refused" only once the page has seen the plugin's answer (before: "unknown").
    await page.waitForSelector('#video-image[data-mode="refused"]', { state: 'attached', timeout: 30000 });
    assert.equal(await page.isHidden('#video-image-dropzone'), true);
    const bodies = recordVideoRequests();
    const before = await videoTiles();
    await page.fill('#prompt', 'text only');
    await page.click('#generate-btn');
    await waitForTiles(before + 1);
    assert.equal(bodies.length, 1);
    assert.equal('image' in bodies[0], false);
    assert.deepEqual(browser.problems, []);
  });
});
