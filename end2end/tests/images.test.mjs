// images.test.mjs: the images and registries pages in a real Chromium against a real daemon
// and a real registry (Debian's docker-registry on a free 127.0.0.1 port, filled with skopeo
// from the testkit's OCI layout): a pull from the page with its per-layer progress, a
// registry's login added and its repositories and tags browsed and pulled from, tag / push /
// remove / prune, and a viewer who is offered none of it (and refused by the server anyway).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Daemon, openBrowser, watchedPage, hydrated, until, uniqueName, screenshots, freePort } from './harness.mjs';
import { Registry } from './registry.mjs';

let registry;
let daemon;
let browser;

before(async () => {
  registry = await Registry.start();
  daemon = await Daemon.start({ serveArgs: ['--insecure-registry', registry.host] });
  const layout = `oci:${join(daemon.tmp, 'img', 'busybox-oci')}`;
  await registry.push(layout, 'e2e/busybox:1');
  await registry.push(layout, 'e2e/busybox:2');
  await registry.push(layout, 'e2e/tools:latest');
  browser = await openBrowser();
});

after(async () => {
  await browser?.close();
  await daemon?.stop();
  await registry?.stop();
});

/** Records every value the transfer panel's `data-state` takes, from now on. */
async function watchTransferStates(page) {
  await page.evaluate(() => {
    window.__states = [];
    const note = () => {
      for (const el of document.querySelectorAll('[data-testid="transfer"]')) {
        const s = el.getAttribute('data-state');
        const layers = el.querySelectorAll('[data-testid="transfer-layer"]').length;
        const key = `${s}:${layers > 0}`;
        if (window.__states.at(-1) !== key) window.__states.push(key);
      }
    };
    new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true });
  });
}

/** The page's problems without the HTTP errors a test provoked on purpose. */
function unexpected(problems, ...expected) {
  return problems.filter((p) => !expected.some((e) => p.includes(e)));
}

test('pull from the loopback registry with progress visible', async () => {
  const { page, problems } = await watchedPage(browser);
  await daemon.login(page, 'admin', daemon.adminPassword, '/images');
  await page.goto(`${daemon.base}/images`);
  await hydrated(page);
  await page.locator('[data-testid="image-row"][data-name="busybox:latest"]').waitFor();

  await page.click('[data-testid="pull-open"]');
  const reference = `${registry.host}/e2e/busybox:1`;
  await page.fill('[data-testid="pull-reference"]', reference);
  await watchTransferStates(page);
  await page.click('[data-testid="pull-submit"]');
  const panel = page.locator('[data-testid="transfer"]');
  await panel.and(page.locator('[data-state="done"]')).waitFor({ timeout: 60_000 });

  // It was seen running, with its layers' bars, before it was done.
  const states = await page.evaluate(() => window.__states);
  assert.ok(states.includes('pulling:true'), `states seen: ${states}`);
  assert.equal(states.at(-1), 'done:true', `states seen: ${states}`);
  const layers = panel.locator('[data-testid="transfer-layer"]');
  assert.ok(await layers.count() >= 1);
  for (const layer of await layers.all()) {
    assert.equal(await layer.locator('[data-testid="layer-status"]').textContent(), 'Pull complete');
    assert.match(await layer.locator('[data-testid="layer-bytes"]').textContent(), /^[\d.]+ [KM]?B \/ [\d.]+ [KM]?B$/);
    assert.equal(await layer.locator('[role="progressbar"]').getAttribute('aria-valuenow'), '100');
  }
  assert.match(await panel.locator('[data-testid="transfer-summary"]').textContent(), /of \d+ layers? · .+ of .+/);
  assert.match(await panel.locator('[data-testid="transfer-done"]').textContent(), /Downloaded newer image|Image is up to date/);
  // The list shows the new name without a reload.
  const row = page.locator(`[data-testid="image-row"][data-name="${reference}"]`);
  await row.waitFor({ timeout: 10_000 });
  assert.match(await row.locator('[data-testid="image-size"]').textContent(), /\d/);
  await screenshots(page, 'images-pull', { dark: true });

  // An image the registry does not have: said in words, next to the form.
  await page.fill('[data-testid="pull-reference"]', `${registry.host}/e2e/nope:1`);
  await page.click('[data-testid="pull-submit"]');
  await panel.and(page.locator('[data-state="failed"]')).waitFor({ timeout: 30_000 });
  assert.match(await panel.locator('[data-testid="transfer-error"]').textContent(), /is not in the registry/);
  await screenshots(page, 'images-pull-error');

  // The image's page: tags, history, inspect.
  await row.locator('[data-testid="image-link"]').click();
  await page.locator('[data-testid="image-details"]').waitFor();
  assert.match(await page.locator('[data-testid="image-tags"]').textContent(), new RegExp(reference.replace(/[.:/]/g, '\\$&')));
  assert.ok(await page.locator('[data-testid="history-row"]').count() >= 1);
  await page.click('[data-testid="image-inspect"] summary');
  assert.match(await page.locator('[data-testid="image-inspect"] pre').textContent(), /"RootFS"/);
  await screenshots(page, 'image-detail');
  assert.deepEqual(problems, []);
  await page.close();
});

test('add a registry and browse its tags', async () => {
  const { page, problems } = await watchedPage(browser);
  await daemon.login(page, 'admin', daemon.adminPassword, '/registries');
  await page.goto(`${daemon.base}/registries`);
  await hydrated(page);
  await page.locator('[data-testid="no-registries"]').waitFor();

  await page.click('[data-testid="registry-add"]');
  await page.fill('[data-testid="registry-address"]', registry.host);
  await page.fill('[data-testid="registry-username"]', 'e2e');
  await page.fill('[data-testid="registry-password"]', 'pa55-never-shown');
  await page.click('[data-testid="registry-form-test"]');
  await until('the test login answer', async () =>
    /accepts these credentials/.test(await page.locator('[data-testid="registry-done"]').textContent()));
  assert.equal(await page.locator('[data-testid="registry-row"]').count(), 0, 'a test stores nothing');
  await page.click('[data-testid="registry-save"]');
  const row = page.locator(`[data-testid="registry-row"][data-registry="${registry.host}"]`);
  await row.waitFor();
  assert.equal(await row.locator('[data-testid="registry-user"]').textContent(), 'e2e');
  assert.equal(await page.inputValue('[data-testid="registry-password"]'), '', 'the password field is emptied');
  // The password never comes back: not in the page, not in the server functions' answers.
  const html = await (await daemon.fetch('/registries')).text();
  const listed = await (await daemon.fetch('/ui/fn/list_registries')).text();
  assert.ok(html.includes(registry.host) && listed.includes('"e2e"'), listed);
  assert.ok(!html.includes('pa55-never-shown') && !listed.includes('pa55-never-shown'));

  // Test the stored login; edit it (the form comes back without the password).
  await row.locator('[data-testid="registry-test"]').click();
  await until('the stored login test', async () =>
    /accepts the stored login/.test(await page.locator('[data-testid="registry-done"]').textContent()));
  await row.locator('[data-testid="registry-edit"]').click();
  assert.equal(await page.inputValue('[data-testid="registry-username"]'), 'e2e');
  assert.equal(await page.inputValue('[data-testid="registry-password"]'), '');

  // Browse: its repositories, then a repository's tags, then pull one.
  await row.locator('[data-testid="registry-browse"]').click();
  const repos = page.locator('[data-testid="browse-repo"]');
  await repos.first().waitFor();
  assert.deepEqual(await repos.allTextContents(), ['e2e/busybox', 'e2e/tools']);
  await repos.first().click();
  const tags = page.locator('[data-testid="browse-tag"]');
  await tags.first().waitFor();
  assert.deepEqual((await tags.evaluateAll((els) => els.map((e) => e.dataset.tag))).sort(), ['1', '2']);
  await page.locator('[data-testid="browse-tag"][data-tag="2"] [data-testid="browse-pull"]').click();
  const panel = page.locator('[data-testid="transfer"]');
  await panel.and(page.locator('[data-state="done"]')).waitFor({ timeout: 60_000 });
  assert.ok(await panel.locator('[data-testid="transfer-layer"]').count() >= 1);
  await screenshots(page, 'registries-browse', { dark: true });
  const images = await (await daemon.fetch('/api/v1/images')).json();
  assert.ok(images.some((i) => i.repo_tags.includes(`${registry.host}/e2e/busybox:2`)), JSON.stringify(images));

  // A registry that does not answer: a clear error where the browse was asked for.
  const dead = `127.0.0.1:${await freePort()}`;
  await page.fill('[data-testid="browse-address"]', dead);
  await page.click('[data-testid="browse-submit"]');
  await until('the browse error', async () =>
    /Cannot browse 127\.0\.0\.1:\d+: .*cannot reach registry/.test(await page.locator('[data-testid="browse-error"]').textContent()));
  await screenshots(page, 'registries-error');

  // Remove the login: the empty state is back.
  page.once('dialog', (d) => d.accept());
  await row.locator('[data-testid="registry-remove"]').click();
  await page.locator('[data-testid="no-registries"]').waitFor();
  assert.deepEqual(unexpected(problems, '/ui/fn/browse_registry', 'Failed to load resource'), []);
  await page.close();
});

test('remove and prune: an image in use is refused in words, an unused one goes', async () => {
  const name = uniqueName('inuse');
  await daemon.runDetached(name, 'busybox', 'sleep', '300');
  const loaded = await daemon.berth('load', '-i', join(daemon.tmp, 'img', 'whiteout.tar'));
  const unused = loaded.match(/Loaded image: (\S+)/)?.[1];
  assert.ok(unused, loaded);

  const { page, problems } = await watchedPage(browser);
  await daemon.login(page, 'admin', daemon.adminPassword, '/images');
  await page.goto(`${daemon.base}/images`);
  await hydrated(page);
  const busybox = page.locator('[data-testid="image-row"][data-name="busybox:latest"]');
  await busybox.waitFor();
  assert.match(await busybox.locator('[data-testid="image-used"]').textContent(), /^[1-9]\d* containers?$/);

  // Search narrows the table; `/` focuses the box.
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'image-search');
  await page.keyboard.type('whiteout');
  await until('the search to narrow the table', async () =>
    (await page.locator('[data-testid="image-row"]').count()) === 1);
  await page.fill('[data-testid="image-search"]', '');

  // Tag busybox with a name in the registry, push it with progress, then untag it.
  const pushed = `${registry.host}/e2e/pushed:1`;
  page.once('dialog', (d) => d.accept(pushed));
  await busybox.locator('[data-testid="tag-button"]').click();
  const pushedRow = page.locator(`[data-testid="image-row"][data-name="${pushed}"]`);
  await pushedRow.waitFor();
  await watchTransferStates(page);
  await pushedRow.locator('[data-testid="push-button"]').click();
  const panel = page.locator('[data-testid="transfer"]');
  await panel.and(page.locator('[data-state="done"]')).waitFor({ timeout: 60_000 });
  assert.match(await panel.locator('[data-testid="transfer-done"]').textContent(), /^Pushed .*sha256:/);
  assert.ok((await page.evaluate(() => window.__states)).includes('pushing:true'));
  const tagsList = await (await fetch(`http://${registry.host}/v2/e2e/pushed/tags/list`)).json();
  assert.deepEqual(tagsList.tags, ['1']);
  await screenshots(page, 'images-push');

  page.once('dialog', (d) => d.accept());
  await pushedRow.locator('[data-testid="remove-image-button"]').click();
  await pushedRow.waitFor({ state: 'detached' });
  assert.match(await page.locator('[data-testid="action-done"]').textContent(), /Untagged/);

  // Removing the last name of an image a container uses is refused, and says why.
  await daemon.berth('rmi', `${registry.host}/e2e/busybox:1`).catch(() => {});
  await daemon.berth('rmi', `${registry.host}/e2e/busybox:2`).catch(() => {});
  await page.reload();
  await hydrated(page);
  page.once('dialog', (d) => d.accept());
  await busybox.locator('[data-testid="remove-image-button"]').click();
  const error = page.locator('[data-testid="action-error"]');
  await error.waitFor();
  assert.match(await error.textContent(), /Cannot remove busybox:latest: .*(container|in use)/i);
  await screenshots(page, 'images-in-use');

  // Prune: the unused image goes, the one in use stays.
  const unusedRow = page.locator(`[data-testid="image-row"][data-name="${unused}"]`);
  await unusedRow.waitFor();
  page.once('dialog', (d) => d.accept());
  await page.click('[data-testid="prune-images"]');
  await unusedRow.waitFor({ state: 'detached' });
  assert.match(await page.locator('[data-testid="action-done"]').textContent(), /Removed \d+ unused images?, .* freed\./);
  assert.equal(await busybox.count(), 1);
  await screenshots(page, 'images-pruned', { dark: true });
  assert.deepEqual(unexpected(problems, '/ui/fn/image_action', 'status of 409 (Conflict)'), []);
  await page.close();
});

test('a viewer sees no image or registry controls, and the server refuses them anyway', async () => {
  const password = 'viewer-password-images';
  await daemon.addUser('imgviewer', 'viewer', password);
  const context = await browser.newContext();
  const { page, problems } = await watchedPage(context);
  await daemon.login(page, 'imgviewer', password, '/images');
  await page.goto(`${daemon.base}/images`);
  await hydrated(page);
  await page.locator('[data-testid="image-row"]').first().waitFor();
  for (const control of ['pull-open', 'pull-form', 'prune-images', 'tag-button', 'push-button', 'remove-image-button']) {
    assert.equal(await page.locator(`[data-testid="${control}"]`).count(), 0, `${control} shown to a viewer`);
  }
  await screenshots(page, 'images-viewer');

  await page.goto(`${daemon.base}/registries`);
  await hydrated(page);
  await page.fill('[data-testid="browse-address"]', registry.host);
  await page.click('[data-testid="browse-submit"]');
  await page.locator('[data-testid="browse-repo"]').first().click();
  await page.locator('[data-testid="browse-tag"]').first().waitFor();
  for (const control of ['registry-add', 'registry-form', 'registry-edit', 'registry-remove', 'registry-test', 'browse-pull']) {
    assert.equal(await page.locator(`[data-testid="${control}"]`).count(), 0, `${control} shown to a viewer`);
  }
  await screenshots(page, 'registries-viewer');
  assert.deepEqual(problems, []);

  // The server refuses what the page does not offer.
  const session = await daemon.apiLogin('imgviewer', password);
  const json = { 'Content-Type': 'application/json' };
  const refused = [
    ['/ui/fn/image_action', { op: { op: 'prune' } }],
    ['/ui/fn/registry_login', { registry: registry.host, username: 'x', password: 'y', save: true }],
    ['/ui/fn/remove_registry', { registry: registry.host }],
  ];
  for (const [path, body] of refused) {
    const res = await daemon.fetch(path, { method: 'POST', headers: json, body: JSON.stringify(body), session });
    assert.equal(res.status, 403, `${path}: ${await res.text()}`);
  }
  const pull = await daemon.fetch(`/api/v1/images/pull?reference=${encodeURIComponent(`${registry.host}/e2e/tools:latest`)}`, { method: 'POST', session });
  assert.equal(pull.status, 403);
  const images = await (await daemon.fetch('/api/v1/images')).json();
  assert.ok(!images.some((i) => i.repo_tags.includes(`${registry.host}/e2e/tools:latest`)));
  await context.close();
});
