// Run modes and the command preview of each, against the real host and the plugins it built:
// Subprocess (vllm serve ... --omni), Container (podman/docker run ... vllm serve), Remote (the URL),
// each compared with the host's own /api/omni/command-preview answer for the same settings.
// Also: the page in a narrow window and driven from the keyboard only.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHost, buildDir, requireFile } from './lib/host.mjs';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { openBrowser, gotoApp, screenshot } from './lib/browser.mjs';
import path from 'node:path';

let host;
let browser;
let page;
let plugins = [];
let standinPort = 0; // the remote stand-in's port, chosen before the host so the host can allow it

const freePort = () => new Promise((resolve) => {
  const probe = net.createServer().listen(0, '127.0.0.1', () => { const p = probe.address().port; probe.close(() => resolve(p)); });
});

const routes = (type, mode) => plugins.some((p) => p.available !== false &&
  (p.routes || []).some((r) => r.model_type === type && r.run_mode === mode));

async function previewFromHost(body) {
  const response = await fetch(`${host.url}/api/omni/command-preview`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  const json = await response.json();
  assert.equal(response.ok, true, `command-preview ${JSON.stringify(body)} answered ${response.status}: ${JSON.stringify(json)}`);
  return json;
}

// Waits until the preview settled for the current settings: no refresh scheduled (debounce) or
// in flight (the page marks the box data-settled="true").
async function previewSettled() {
  await page.waitForFunction(() => document.querySelector('#command-text').dataset.settled === 'true');
}

async function previewText() {
  await previewSettled();
  await page.waitForFunction(() => document.querySelector('#command-text').value.length > 0);
  return page.inputValue('#command-text');
}

describe('run modes and command previews (real host, built plugins)', () => {
  before(async () => {
    standinPort = await freePort();
    // Remote mode connects only to servers the operator lists (--remote-allow).
    host = await startHost({ plugins: path.join(buildDir(), 'plugins'),
      extraArgs: ['--remote-allow', `gpu-box.example:8091,127.0.0.1:${standinPort}`] });
    plugins = (await (await fetch(`${host.url}/api/omni/plugins`)).json()).plugins;
    browser = await openBrowser();
    page = browser.page;
    await gotoApp(page, host.url);
  });

  after(async () => {
    if (browser) await browser.close();
    if (host) await host.stop();
  });

  it('previews the subprocess command for an image model', async () => {
    assert.ok(routes('image', 'subprocess'), 'no available plugin routes image x subprocess: build the subprocess proxy plugin into <build>/plugins');
    await page.selectOption('#model-type', 'image');
    await page.check('#run-mode-subprocess');
    await page.fill('#custom-model', 'Tongyi-MAI/Z-Image-Turbo');
    await page.fill('#port', '8123');
    await page.fill('#hf-token', 'hf_secret_value');
    const text = await previewText();
    const fromHost = await previewFromHost({ model: 'Tongyi-MAI/Z-Image-Turbo', model_type: 'image', run_mode: 'subprocess', port: 8123,
      tensor_parallel_size: 1, gpu_memory_utilization: 0.9, enable_cpu_offload: false, enable_torch_compile: false, hf_token: 'hf_secret_value' });
    // The model id comes after "--", so no request text can become an option of vllm.
    assert.match(text, /vllm serve .* -- Tongyi-MAI\/Z-Image-Turbo$/m);
    assert.match(text, /--omni/);
    assert.match(text, /--port 8123/);
    assert.ok(!text.includes('hf_secret_value'), 'secrets must be redacted');
    assert.ok(fromHost.argv.includes('--omni'));
    await screenshot(page, 'preview-subprocess');
  });

  it('lets the person edit the preview, and Reset restores it', async () => {
    const generated = await page.inputValue('#command-text');
    await page.fill('#command-text', 'my own command');
    await page.fill('#port', '8124');
    await previewSettled(); // the refresh the change scheduled has run (and left the edit alone)
    assert.equal(await page.inputValue('#command-text'), 'my own command', 'an edited preview stays until Reset');
    await page.click('#command-reset-btn');
    await page.waitForFunction(() => document.querySelector('#command-text').value.includes('--port 8124'));
    assert.notEqual(await page.inputValue('#command-text'), generated);
  });

  it('previews the container command for an image model', async () => {
    assert.ok(routes('image', 'container'), 'no available plugin routes image x container: build the container proxy plugin into <build>/plugins');
    assert.equal(await page.isDisabled('#run-mode-container'), false);
    await page.check('#run-mode-container');
    const text = await previewText();
    assert.match(text, /(podman|docker)/);
    // The model id comes after "--", so no request text can become an option of vllm.
    assert.match(text, /vllm serve .* -- Tongyi-MAI\/Z-Image-Turbo$/m);
    assert.match(text, /8124/);
    await screenshot(page, 'preview-container');
  });

  it('previews the remote connection and shows the remote fields', async () => {
    assert.ok(routes('image', 'remote'), 'no available plugin routes image x remote: build the remote proxy plugin into <build>/plugins');
    await page.check('#run-mode-remote');
    assert.equal(await page.isVisible('#remote-url'), true);
    assert.equal(await page.isHidden('#local-settings'), true);
    await page.fill('#remote-url', 'http://gpu-box.example:8091/v1');
    await page.fill('#remote-api-key', 'sk-very-secret');
    const text = await previewText();
    assert.match(text, /gpu-box\.example:8091/);
    assert.ok(!text.includes('sk-very-secret'), 'the API key must be redacted');
    assert.equal(await page.textContent('#start-btn'), 'Connect');
    await screenshot(page, 'preview-remote');
  });

  it('connects to a remote upstream (the stand-in vLLM-Omni) and generates an image through it', async () => {
    const exe = requireFile(path.join(buildDir(), 'tests', 'upstream_standin', 'omnihost-upstream-standin'),
      'build the target omnihost-upstream-standin (the proxy tests\' stand-in upstream)');
    const port = standinPort;
    const upstream = spawn(exe, ['serve', 'stand-in/image-model', '--port', String(port), '--omni'], { stdio: 'ignore' });
    try {
      await page.check('#run-mode-remote');
      await page.fill('#remote-url', `http://127.0.0.1:${port}/v1`);
      await page.fill('#remote-api-key', '');
      await page.click('#start-btn');
      await page.waitForSelector('#status-dot[data-state="ready"]', { timeout: 30000 });
      assert.equal((await page.textContent('#status-text')).trim(), 'Connected (Remote)');
      assert.equal(await page.textContent('#stop-btn'), 'Disconnect');
      await page.waitForSelector('#remote-server-info:not([hidden])');
      await page.waitForFunction(() => document.querySelector('#remote-info-health').textContent === '● Healthy');
      assert.notEqual((await page.textContent('#remote-info-models')).trim(), '--');
      await page.fill('#prompt', 'a remote square');
      await page.click('#generate-btn');
      await page.waitForSelector('#gallery-grid li[data-type="image"] img', { timeout: 60000 });
      const width = await page.$eval('#gallery-grid li[data-type="image"] img', async (i) => { await i.decode(); return i.naturalWidth; });
      assert.ok(width > 0, 'the upstream PNG decodes');
      await screenshot(page, 'remote-connected');
      await page.click('#stop-btn');
      await page.waitForSelector('#status-dot[data-state="idle"]', { timeout: 30000 });
    } finally {
      upstream.kill('SIGTERM');
    }
  });

  it('is usable in a narrow window and from the keyboard', async () => {
    await page.setViewportSize({ width: 400, height: 900 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `no horizontal scrolling at 400px (overflow ${overflow}px)`);
    // Open the recipes modal from the keyboard, close it with Escape, focus returns to the button.
    await page.focus('#browse-recipes-btn');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#recipes-modal[open]');
    await screenshot(page, 'recipes-modal-narrow');
    await page.keyboard.press('Escape');
    await page.waitForSelector('#recipes-modal:not([open])', { state: 'attached' });
    // Every visible form control has an accessible name.
    const unnamed = await page.evaluate(() => Array.from(document.querySelectorAll('input, select, textarea, button'))
      .filter((n) => n.offsetParent !== null && n.type !== 'hidden')
      .filter((n) => !(n.labels && n.labels.length) && !n.getAttribute('aria-label') && !n.textContent.trim() && !n.closest('label'))
      .map((n) => n.id || n.outerHTML.slice(0, 60)));
    assert.deepEqual(unnamed, []);
    await screenshot(page, 'narrow');
    assert.deepEqual(browser.problems, []);
  });
});
