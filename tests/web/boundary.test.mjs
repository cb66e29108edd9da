// The browser boundary in a real browser against the real host:
// - a page of another origin (served here on another port) does what the attacker did:
//   fetch(start, {mode: 'no-cors'}) with text/plain, and opens the log WebSocket. The host refuses
//   both and nothing starts; the host's log shows the requests arrived and why they were refused;
//   once the operator allows that origin its WebSocket opens (its text/plain start is still 415).
// - a host bound to 0.0.0.0 without --token prints a URL carrying a generated token; opening it
//   stores the token, removes it from the address bar, and the page works (API and log socket).
// - the page runs under the host's Content-Security-Policy without a single violation.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { startHost, buildDir, requireFile } from './lib/host.mjs';
import { openBrowser, gotoApp, screenshot } from './lib/browser.mjs';

const ATTACK_START = '{"model":"x/y","model_type":"image","run_mode":"subprocess"}';

function testPlugins() {
  const plugins = path.join(buildDir(), 'tests', 'plugins');
  requireFile(path.join(plugins, 'test_plugin.plugin.json'), 'build omnihost_test_plugin');
  return plugins;
}

/** A one-page "attacker" site on an ephemeral port of localhost (another origin than the host). */
async function startAttackerSite() {
  const server = http.createServer((request, response) => {
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><title>elsewhere</title><p>an unrelated site</p>');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://localhost:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

/** Runs the attack from inside `page` (an attacker-site page) against `hostUrl`. */
async function attack(page, hostUrl) {
  return page.evaluate(async ({ hostUrl, body }) => {
    const result = { fetch: null, ws: null };
    try {
      const response = await fetch(`${hostUrl}/api/omni/start`, { method: 'POST', mode: 'no-cors', body });
      result.fetch = `sent (opaque ${response.type})`;
    } catch (err) {
      result.fetch = `failed: ${err.message}`;
    }
    result.ws = await new Promise((resolve) => {
      const ws = new WebSocket(`${hostUrl.replace('http', 'ws')}/ws/omni/logs`);
      const timer = setTimeout(() => resolve('timeout'), 10000);
      ws.onopen = () => { clearTimeout(timer); ws.close(); resolve('open'); };
      ws.onerror = () => { clearTimeout(timer); resolve('refused'); };
    });
    return result;
  }, { hostUrl, body: ATTACK_START });
}

async function status(hostUrl, token) {
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  return (await fetch(`${hostUrl}/api/omni/status`, { headers })).json();
}

describe('a page of another origin cannot drive the host', () => {
  let attacker;
  let browser;
  before(async () => {
    attacker = await startAttackerSite();
    browser = await openBrowser();
  });
  after(async () => {
    if (browser) await browser.close();
    if (attacker) await attacker.close();
  });

  it('refuses the no-cors text/plain start and the log WebSocket; nothing starts', async () => {
    const host = await startHost({ plugins: testPlugins() });
    try {
      await browser.page.goto(attacker.url);
      const outcome = await attack(browser.page, host.url);
      // Cross-Origin-Resource-Policy: same-origin makes the browser withhold even the opaque answer.
      assert.equal(outcome.fetch, 'failed: Failed to fetch');
      assert.equal(outcome.ws, 'refused');
      const after = await status(host.url);
      assert.equal(after.state, 'idle');
      assert.equal(after.model, null);
      // The requests did reach the host (the browser sent them) and were refused for their origin.
      assert.match(host.output(), /refused POST \/api\/omni\/start \(403\): Origin: 'http:\/\/localhost:\d+'/);
      assert.match(host.output(), /refused GET \/ws\/omni\/logs \(403\): Origin/);
    } finally {
      await host.stop();
    }
  });

  it('control: an origin the operator allows gets the log socket; its no-cors start is still refused (415)', async () => {
    const host = await startHost({ plugins: testPlugins(), extraArgs: ['--allowed-origins', attacker.url] });
    try {
      await browser.page.goto(attacker.url);
      const outcome = await attack(browser.page, host.url);
      assert.equal(outcome.ws, 'open', 'the same WebSocket from an allowed origin opens');
      assert.match(host.output(), /refused POST \/api\/omni\/start \(415\): Content-Type/);
      assert.equal((await status(host.url)).state, 'idle');
    } finally {
      await host.stop();
    }
  });
});

describe('bound to 0.0.0.0 without --token (generated token in the printed URL)', () => {
  let host;
  let browser;
  let tokenUrl;
  let token;
  before(async () => {
    host = await startHost({ plugins: testPlugins(), extraArgs: ['--host', '0.0.0.0'] });
    const match = /(http:\/\/127\.0\.0\.1:\d+\/\?token=([0-9a-f]{64}))/.exec(host.output());
    assert.ok(match, `no token URL printed:\n${host.output()}`);
    [, tokenUrl, token] = match;
    browser = await openBrowser();
    await browser.page.addInitScript(() => {
      window.__cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
  });
  after(async () => {
    if (browser) await browser.close();
    if (host) await host.stop();
  });

  it('the API needs the token', async () => {
    assert.equal((await fetch(`${host.url}/api/omni/status`)).status, 401);
    assert.equal((await fetch(`${host.url}/api/omni/status`, { headers: { Authorization: `Bearer ${token}` } })).status, 200);
  });

  it('opening the printed URL stores the token, clears it from the address bar, and the page works', async () => {
    const page = browser.page;
    await gotoApp(page, tokenUrl);
    assert.equal(await page.evaluate(() => localStorage.getItem('omnihost.token')), token);
    assert.equal(new URL(page.url()).searchParams.has('token'), false, page.url());
    assert.equal(await page.evaluate(() => document.querySelector('#token-dialog').open), false, 'no prompt');
    await page.waitForSelector('#status-dot[data-state="idle"]');
    await page.waitForFunction(() => document.querySelector('#logs-conn').textContent === 'live', null, { timeout: 20000 });
    assert.equal(await page.isVisible('#catalog-error'), false, await page.textContent('#catalog-error'));
    await screenshot(page, 'token-from-url');
  });

  it('a reload (without the token in the URL) keeps working from storage', async () => {
    const page = browser.page;
    await page.reload();
    await gotoApp(page, page.url());
    await page.waitForSelector('#status-dot[data-state="idle"]');
    await page.waitForFunction(() => document.querySelector('#logs-conn').textContent === 'live', null, { timeout: 20000 });
  });

  it('the page ran under the CSP without a violation', async () => {
    const page = browser.page;
    const csp = (await fetch(`${host.url}/`)).headers.get('content-security-policy');
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.deepEqual(await page.evaluate(() => window.__cspViolations), []);
    assert.deepEqual(browser.problems, []);
  });
});
