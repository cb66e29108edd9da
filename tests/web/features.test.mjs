// What a new user meets first: the vLLM port field (8000, a clash with omnihost's own port
// explained in place), the Container radio following the host's container runtimes
// (/api/features), settings kept by the host so a second browser sees them (/api/settings), and
// size controls stepping by what the model accepts (Wan2.2 TI2V-5B: multiples of 32).
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startHost, buildDir, requireFile, tempDir } from './lib/host.mjs';
import { openBrowser, gotoApp, applyRecipe } from './lib/browser.mjs';

const plugins = () => {
  const dir = path.join(buildDir(), 'plugins');
  for (const id of ['subprocess_proxy', 'container_proxy', 'remote_proxy'])
    requireFile(path.join(dir, `${id}.plugin.json`), `build the ${id} plugin`);
  return dir;
};

/** A PATH holding only a fake podman (or nothing), so the host's runtime detection is decided here. */
function fakePath(withPodman) {
  const dir = tempDir('path');
  if (withPodman) {
    fs.writeFileSync(path.join(dir, 'podman'), '#!/bin/sh\nexit 0\n');
    fs.chmodSync(path.join(dir, 'podman'), 0o755);
  }
  return dir;
}

const cleanup = [];
after(async () => { for (const f of cleanup.reverse()) await f(); });

describe('first contact: port, container runtime, shared settings, model sizes', () => {
  it('the port defaults to vLLM\'s 8000 and a clash with omnihost\'s own port is explained in the field', async () => {
    const host = await startHost({ plugins: plugins() });
    cleanup.push(() => host.stop());
    const b = await openBrowser();
    cleanup.push(() => b.close());
    await gotoApp(b.page, host.url);
    await b.page.selectOption('#model-type', 'image');
    await b.page.check('#run-mode-subprocess');
    assert.equal(await b.page.inputValue('#port'), '8000');
    assert.doesNotMatch(await b.page.textContent('#port-help'), /omnihost itself/);
    const own = new URL(host.url).port;
    await b.page.fill('#port', own);
    assert.match(await b.page.textContent('#port-help'), new RegExp(`${own} is the port omnihost itself listens on.*default is 8000`));
    assert.equal(await b.page.getAttribute('#port', 'aria-invalid'), 'true');
    // The host says the same when started anyway: 400 naming the port.
    const start = b.page.waitForResponse((r) => r.url().endsWith('/api/omni/start'));
    await b.page.click('#start-btn');
    const answer = await start;
    assert.equal(answer.status(), 400);
    assert.equal((await answer.json()).field, 'port');
    await b.page.fill('#port', '8000');
    assert.equal(await b.page.getAttribute('#port', 'aria-invalid'), 'false');
    assert.deepEqual(b.problems, []);
  });

  it('the Container radio follows whether the host has a container runtime', async () => {
    for (const withPodman of [false, true]) {
      const host = await startHost({ plugins: plugins(), env: { PATH: fakePath(withPodman), OMNIHOST_CONTAINER_RUNTIME: 'auto' } });
      const b = await openBrowser();
      try {
        await gotoApp(b.page, host.url);
        await b.page.selectOption('#model-type', 'image');
        assert.equal(await b.page.isDisabled('#run-mode-container'), !withPodman, `podman present: ${withPodman}`);
        const title = await b.page.getAttribute('#run-mode-container-label', 'title');
        if (withPodman) assert.doesNotMatch(title, /No container runtime/);
        else assert.match(title, /No container runtime \(podman or docker\) was found on the host/);
      } finally {
        await b.close();
        await host.stop();
      }
    }
  });

  it('settings are kept by the host: a second browser sees the first one\'s choices', async () => {
    const host = await startHost({ plugins: plugins() });
    cleanup.push(() => host.stop());
    const first = await openBrowser();
    cleanup.push(() => first.close());
    await gotoApp(first.page, host.url);
    await first.page.selectOption('#model-type', 'image');
    const saved = first.page.waitForResponse((r) => r.url().endsWith('/api/settings') && r.request().method() === 'POST'
      && /gpu-box/.test(r.request().postData() || ''));
    await first.page.check('#run-mode-remote');
    await first.page.fill('#remote-url', 'http://gpu-box.example:8000');
    await first.page.dispatchEvent('#remote-url', 'change');
    assert.equal((await saved).status(), 200);

    const second = await openBrowser(); // a fresh profile: nothing in its localStorage
    cleanup.push(() => second.close());
    await gotoApp(second.page, host.url);
    assert.equal(await second.page.inputValue('#model-type'), 'image');
    assert.equal(await second.page.isChecked('#run-mode-remote'), true);
    assert.equal(await second.page.inputValue('#remote-url'), 'http://gpu-box.example:8000');
    const file = JSON.parse(fs.readFileSync(path.join(host.dataDir, 'settings.json'), 'utf8'));
    assert.equal(file.omni_remote_url, 'http://gpu-box.example:8000');
    assert.equal(file.omni_remote_api_key, undefined); // never a secret
  });

  it('size controls step by what the model accepts (TI2V-5B: multiples of 32)', async () => {
    const host = await startHost({ plugins: plugins() });
    cleanup.push(() => host.stop());
    const b = await openBrowser();
    cleanup.push(() => b.close());
    await gotoApp(b.page, host.url);
    await applyRecipe(b.page, 'video-medium-balanced');
    for (const [name, value] of [['height', '480'], ['width', '832']]) {
      const c = await b.page.$eval(`#param-${name}`, (el) => ({ min: el.min, max: el.max, step: el.step, value: el.value }));
      assert.equal(c.value, value, `${name} from the recipe`);
      assert.equal(Number(c.step), 32, `${name} steps by 32 (the manifest's 16 and the model's 32)`);
      assert.equal(Number(c.min) % 32, 0);
      assert.equal(Number(c.max) % 32, 0);
    }
    // A size off the model's grid cannot be chosen.
    await b.page.$eval('#param-height', (el) => { el.value = '490'; el.dispatchEvent(new Event('input', { bubbles: true })); });
    assert.equal(await b.page.inputValue('#param-height'), '480', 'a range input only holds values on its step grid');
  });
});
