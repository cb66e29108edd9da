// Jobs in the UI against the real host and the plain-C test plugin: a job queued behind a running
// one shows in the gallery at once with a progress bar; a reload, and a second browser with a fresh
// profile, show the same queue (the history is the host's, not IndexedDB's); Cancel on a tile
// cancels the job on the host; finished jobs turn into playable tiles.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startHost, buildDir, requireFile } from './lib/host.mjs';
import { openBrowser, gotoApp, screenshot } from './lib/browser.mjs';

let host;
let browser;
let second;

async function api(method, route, body) {
  const response = await fetch(new URL(route, host.url), {
    method, headers: body ? { 'Content-Type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined,
  });
  return { status: response.status, json: await response.json().catch(() => null) };
}

async function waitFor(what, predicate, ms = 30000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const tileStates = (page) => page.$$eval('#gallery-grid li', (n) => n.map((x) => `${x.dataset.id}:${x.dataset.state}`));

describe('jobs in the gallery (real host, test plugin)', () => {
  before(async () => {
    const plugins = path.join(buildDir(), 'tests', 'plugins');
    requireFile(path.join(plugins, 'test_plugin.plugin.json'), 'build omnihost_test_plugin');
    host = await startHost({ plugins });
    const started = await api('POST', '/api/omni/start', { model: 'test/video-model', model_type: 'video', run_mode: 'subprocess' });
    assert.equal(started.status, 202);
    await waitFor('ready', async () => (await api('GET', '/api/omni/status')).json.state === 'ready');
    browser = await openBrowser({ width: 1100, height: 900 });
  });

  after(async () => {
    if (second) await second.close();
    if (browser) await browser.close();
    if (host) await host.stop();
  });

  it('shows a running and a queued job at once, the same after a reload and in another browser', async () => {
    const page = browser.page;
    await gotoApp(page, host.url);
    assert.equal((await api('POST', '/api/jobs', { task: 'video', prompt: 'runs long', job_id: 'ui-blocker', test_steps: 100000, test_step_ms: 10 })).status, 202);
    await waitFor('blocker running', async () => (await api('GET', '/api/jobs/ui-blocker')).json.state === 'running');
    assert.equal((await api('POST', '/api/jobs', { task: 'video', prompt: 'waits its turn', job_id: 'ui-queued', test_steps: 2 })).status, 202);
    // Both appear live (job frames on the log socket), newest first, without a reload.
    await page.waitForFunction(() => document.querySelectorAll('#gallery-grid li.tile-pending').length === 2);
    assert.deepEqual(await tileStates(page), ['ui-queued:queued', 'ui-blocker:running']);
    assert.match(await page.textContent('#gallery-grid li[data-id="ui-queued"] .tile-progress-text'), /queued \(#1\)/);
    await page.waitForFunction(() => /step \d+\/100000/.test(document.querySelector('#gallery-grid li[data-id="ui-blocker"] .tile-progress-text').textContent));
    assert.ok(await page.$('#gallery-grid li[data-id="ui-blocker"] progress.tile-progress'));
    await screenshot(page, 'jobs-queue');

    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    assert.deepEqual(await tileStates(page), ['ui-queued:queued', 'ui-blocker:running']);

    second = await openBrowser({ width: 900, height: 800 });
    await gotoApp(second.page, host.url);
    assert.deepEqual(await tileStates(second.page), ['ui-queued:queued', 'ui-blocker:running']);
    assert.equal(await second.page.textContent('#gallery-count'), '2 items');
  });

  it('the studio queues its job behind the running one; Cancel on a tile cancels on the host', async () => {
    const page = browser.page;
    await page.fill('#prompt', 'from the studio');
    const request = page.waitForRequest((r) => r.url().endsWith('/api/jobs') && r.method() === 'POST');
    await page.click('#generate-btn');
    const sent = JSON.parse((await request).postData());
    assert.equal(sent.task, 'video');
    // Its tile is there at once, queued behind the others.
    await page.waitForFunction((id) => {
      const li = document.querySelector(`#gallery-grid li[data-id="${id}"]`);
      return li && li.dataset.state === 'queued';
    }, sent.job_id);
    assert.equal((await tileStates(page))[0], `${sent.job_id}:queued`);

    await page.click('#gallery-grid li[data-id="ui-blocker"] .tile-delete');
    await waitFor('blocker cancelled', async () => (await api('GET', '/api/jobs/ui-blocker')).json.state === 'cancelled');
    // The queue drains in order; every browser sees the results.
    for (const p of [page, second.page]) {
      await p.waitForSelector(`#gallery-grid li[data-id="${sent.job_id}"][data-state="succeeded"]`, { timeout: 60000 });
      await p.waitForSelector('#gallery-grid li[data-id="ui-queued"][data-state="succeeded"]');
      assert.equal(await p.$('#gallery-grid li[data-id="ui-blocker"]'), null, 'a cancelled job leaves the gallery');
    }
    const queued = (await api('GET', '/api/jobs/ui-queued')).json;
    const mine = (await api('GET', `/api/jobs/${sent.job_id}`)).json;
    assert.ok(queued.finished_at <= mine.started_at, 'first in, first out');
    await page.waitForSelector('#generate-btn:not([disabled])');
    assert.equal(await page.isVisible('#gen-error'), false, await page.textContent('#gen-error'));
    await screenshot(page, 'jobs-done');
    assert.deepEqual(browser.problems, []);
    assert.deepEqual(second.problems, []);
  });

  it("the studio's Cancel on a job that has just finished shows its result, not an error", async () => {
    const page = browser.page;
    // The studio's job waits behind a blocker, so its Cancel button is up while it is pending.
    assert.equal((await api('POST', '/api/jobs', { task: 'video', prompt: 'runs long', job_id: 'ui-blocker-2', test_steps: 100000, test_step_ms: 10 })).status, 202);
    await waitFor('blocker running', async () => (await api('GET', '/api/jobs/ui-blocker-2')).json.state === 'running');
    await page.fill('#prompt', 'finishes as Cancel is pressed');
    const request = page.waitForRequest((r) => r.url().endsWith('/api/jobs') && r.method() === 'POST');
    await page.click('#generate-btn');
    const id = JSON.parse((await request).postData()).job_id;
    await page.waitForSelector(`#gallery-grid li[data-id="${id}"][data-state="queued"]`);
    // The press reaches the host only after the job has finished there: the blocker is cancelled,
    // the studio's job runs to the end, then the page's DELETE goes on to the real host (409).
    await page.route(`**/api/jobs/${id}`, async (route) => {
      if (route.request().method() !== 'DELETE') { await route.continue(); return; }
      assert.equal((await api('DELETE', '/api/jobs/ui-blocker-2')).status, 202);
      await waitFor('studio job finished', async () => (await api('GET', `/api/jobs/${id}`)).json.state === 'succeeded', 60000);
      await route.continue();
    });
    const answer = page.waitForResponse((r) => r.url().endsWith(`/api/jobs/${id}`) && r.request().method() === 'DELETE', { timeout: 70000 });
    await page.click('#cancel-btn');
    assert.equal((await answer).status(), 409);
    await page.waitForSelector('#toasts .toast-info:has-text("already finished; its result is kept")');
    assert.deepEqual(await page.$$eval('#toasts .toast-error', (n) => n.map((x) => x.textContent)), []);
    // The result is shown: the tile plays, the studio reports the video, and no error box.
    await page.waitForSelector(`#gallery-grid li[data-id="${id}"][data-state="succeeded"]`);
    await page.waitForSelector('#toasts .toast-success:has-text("Video generated")');
    await page.waitForSelector('#generate-btn:not([disabled])');
    assert.equal(await page.isVisible('#gen-error'), false, await page.textContent('#gen-error'));
    assert.equal((await api('GET', `/api/jobs/${id}`)).json.state, 'succeeded');
    await page.unroute(`**/api/jobs/${id}`);
    await screenshot(page, 'jobs-cancel-after-finish');
    assert.deepEqual(browser.problems, []);
  });
});
