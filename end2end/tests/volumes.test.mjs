// volumes.test.mjs: the volumes and volume pages in a real Chromium against a real daemon: a
// volume created from the page, filled by a container, shown in use by it, browsed folder by
// folder with a file downloaded, never a path out of it (`..`, a symbolic link to the host's
// /etc/passwd), removed once free; and a viewer who sees the volumes but neither their files
// nor a control (and is refused by the server anyway).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { daemonAndBrowser, watchedPage, hydrated, until, uniqueName, screenshots } from './harness.mjs';

const env = daemonAndBrowser();

test('create and browse a volume: in use by its container, a file downloaded, nothing outside reachable', async () => {
  const { daemon, browser } = env;
  const volume = uniqueName('data');
  const { page, problems } = await watchedPage(browser);
  await daemon.login(page, 'admin', daemon.adminPassword, '/volumes');
  await page.goto(`${daemon.base}/volumes`);
  await hydrated(page);

  await page.click('[data-testid="create-volume-open"]');
  await page.fill('[data-testid="volume-name"]', volume);
  await page.click('[data-testid="create-volume-submit"]');
  const row = page.locator(`[data-testid="volume-row"][data-name="${volume}"]`);
  await row.waitFor();
  assert.equal(await page.locator('[data-testid="action-done"]').textContent(), `Created volume ${volume}.`);
  assert.equal(await row.locator('[data-testid="volume-users"]').textContent(), '—');

  // A container fills it; the list follows (the daemon's events), no reload.
  await page.evaluate(() => { window.__noReload = true; });
  const writer = uniqueName('writer');
  await daemon.runDetached(writer, '-v', `${volume}:/data`, 'busybox', 'sh', '-c',
    'mkdir -p /data/conf/deep && echo hello > /data/conf/app.conf && echo x > "/data/a b.txt"'
    + ' && ln -s /etc/passwd /data/passwd-link && ln -s ../../../../../etc /data/climb && sleep 300');
  await until('the volume to show its user', async () =>
    (await row.locator('[data-testid="volume-users"]').textContent()) === writer);
  assert.equal(await page.evaluate(() => window.__noReload), true, 'the page reloaded');
  await screenshots(page, 'volumes', { dark: true });

  // Browse: folders first, the link shown with its target, never followed.
  await row.locator('[data-testid="volume-link"]').click();
  await page.waitForURL(`${daemon.base}/volumes/${volume}`);
  await hydrated(page);
  assert.equal(await page.locator('[data-testid="volume-title"]').textContent(), volume);
  const names = page.locator('[data-testid="file-row"]');
  await until('the folder listing', async () => (await names.count()) === 4);
  assert.deepEqual(
    await names.evaluateAll((rows) => rows.map((r) => r.dataset.name)),
    ['conf', 'a b.txt', 'climb', 'passwd-link'],
  );
  assert.match(await page.locator('[data-testid="file-row"][data-name="passwd-link"]').textContent(), /→ \/etc\/passwd/);
  await page.locator('[data-testid="folder-link"]', { hasText: 'conf/' }).click();
  await page.waitForURL(/\?path=%2Fconf$/);
  await page.locator('[data-testid="file-row"][data-name="app.conf"]').waitFor();
  assert.deepEqual(await page.locator('[data-testid="files-crumb"]').allTextContents(), ['/', 'conf']);
  await screenshots(page, 'volume-files');

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('[data-testid="file-link"]', { hasText: 'app.conf' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'app.conf');
  assert.equal(await readFile(await download.path(), 'utf8'), 'hello\n');

  // Up again with the `..` row; a folder that does not exist says so.
  await page.locator('[data-testid="file-row"][data-name=".."] a').click();
  await page.waitForURL(`${daemon.base}/volumes/${volume}`);
  await page.goto(`${daemon.base}/volumes/${volume}?path=/nope`);
  assert.match(await page.locator('[data-testid="files-error"]').textContent(), /no such file: \/nope/);

  // Nothing outside the volume: `..`, an absolute link and a climbing one all stay inside.
  const file = (path) => daemon.fetch(`/api/v1/volumes/${volume}/file?path=${encodeURIComponent(path)}`);
  const inside = await file('/../../a b.txt');
  assert.equal(inside.status, 200);
  assert.equal(await inside.text(), 'x\n');
  assert.match(inside.headers.get('content-disposition'), /filename\*=UTF-8''a%20b\.txt/);
  for (const path of ['/../../../../etc/passwd', '/passwd-link', '/climb/passwd']) {
    const res = await file(path);
    assert.equal(res.status, 404, `${path}: ${await res.text()}`);
  }
  const dir = await file('/conf');
  assert.equal(dir.status, 400);
  assert.match(await dir.text(), /not a regular file/);
  const listing = await (await daemon.fetch(`/api/v1/volumes/${volume}/ls?path=/conf`)).json();
  assert.deepEqual(listing.entries.map((e) => [e.name, e.kind]), [['deep', 'dir'], ['app.conf', 'file']]);

  // In use: no removal. Once the container is gone, it goes.
  await page.goto(`${daemon.base}/volumes`);
  await hydrated(page);
  assert.equal(await row.locator('[data-testid="remove-volume-button"]').isDisabled(), true);
  await daemon.berth('rm', '-f', writer);
  await until('the volume to be free', async () =>
    (await row.locator('[data-testid="volume-users"]').textContent()) === '—');
  page.once('dialog', (d) => d.accept());
  await row.locator('[data-testid="remove-volume-button"]').click();
  await row.waitFor({ state: 'detached' });
  assert.equal(await page.locator('[data-testid="action-done"]').textContent(), `Removed volume ${volume}.`);
  await page.goto(`${daemon.base}/volumes/${volume}`);
  assert.match(await page.locator('[data-testid="volume-error"]').textContent(), /no such volume/);
  assert.deepEqual(problems.filter((p) => !p.includes('404')), []);
  await page.close();
});

test('a viewer sees the volumes but no files or controls, and the server refuses them anyway', async () => {
  const { daemon, browser } = env;
  const volume = uniqueName('secret');
  await daemon.berth('volume', 'create', volume);
  const password = 'viewer-password-volumes';
  await daemon.addUser('volviewer', 'viewer', password);
  const context = await browser.newContext();
  const { page, problems } = await watchedPage(context);
  await daemon.login(page, 'volviewer', password, '/volumes');
  await page.goto(`${daemon.base}/volumes`);
  await hydrated(page);
  await page.locator(`[data-testid="volume-row"][data-name="${volume}"]`).waitFor();
  for (const control of ['create-volume-open', 'create-volume-form', 'prune-volumes', 'remove-volume-button']) {
    assert.equal(await page.locator(`[data-testid="${control}"]`).count(), 0, `${control} shown to a viewer`);
  }
  await page.goto(`${daemon.base}/volumes/${volume}`);
  await hydrated(page);
  await page.locator('[data-testid="files-need-operator"]').waitFor();
  assert.equal(await page.locator('[data-testid="files-table"]').count(), 0);
  await screenshots(page, 'volume-viewer');
  assert.deepEqual(problems, []);

  const session = await daemon.apiLogin('volviewer', password);
  const json = { 'Content-Type': 'application/json' };
  for (const op of [{ op: 'prune' }, { op: 'remove', name: volume }, { op: 'create', name: 'x' }]) {
    const res = await daemon.fetch('/ui/fn/volume_action', { method: 'POST', headers: json, body: JSON.stringify({ op }), session });
    assert.equal(res.status, 403, `${JSON.stringify(op)}: ${await res.text()}`);
  }
  for (const path of [
    `/ui/fn/volume_files?name=${volume}&path=/`,
    `/api/v1/volumes/${volume}/ls?path=/`,
    `/api/v1/volumes/${volume}/file?path=/x`,
  ]) {
    const res = await daemon.fetch(path, { session });
    assert.equal(res.status, 403, `${path}: ${await res.text()}`);
  }
  await context.close();
});
