// dashboard.test.mjs: the dashboard in a real Chromium against a real daemon: the containers
// list (server-rendered, then hydrated actions, then kept current by the daemon's events), a
// container's live log, and the 404 page,
// all as the admin (each page logs in through the login form first).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonAndBrowser, watchedPage, hydrated, until, uniqueName, screenshots } from './harness.mjs';

const env = daemonAndBrowser();

test('containers page lists a running container and its Stop button works after hydration', async () => {
  const { daemon, browser } = env;
  const name = uniqueName('stop');
  await daemon.runDetached(name, 'busybox', 'sleep', '300');

  // Server-side rendering: the raw HTML already has the row.
  const res = await daemon.fetch('/containers');
  assert.equal(res.status, 200);
  const html = await res.text();
  assert.match(html, new RegExp(`data-name="${name}"[^>]*data-state="running"`));
  assert.match(html, /\/pkg\/berth_bg\.wasm/);

  const { page, problems } = await watchedPage(browser);
  await daemon.login(page);
  await page.goto(`${daemon.base}/containers`);
  await hydrated(page);
  const row = page.locator(`[data-testid="container-row"][data-name="${name}"]`);
  assert.equal(await row.getAttribute('data-state'), 'running');
  await screenshots(page, 'containers-admin', { dark: true });
  assert.equal(await row.locator('[data-testid="container-state"]').textContent(), 'running');

  // A reload would wipe this marker: the row must change in place.
  await page.evaluate(() => { window.__noReload = true; });
  await row.locator('[data-testid="stop-button"]').click();
  // busybox's sleep as PID 1 ignores SIGTERM: the engine kills it after its 10 s grace.
  await row.and(page.locator('[data-state="exited"]')).waitFor({ timeout: 45_000 });
  assert.equal(await page.evaluate(() => window.__noReload), true, 'the page reloaded');
  assert.match(await row.locator('[data-testid="container-state"]').textContent(), /^exited \(\d+\)$/);
  assert.equal(await page.locator('[data-testid="action-error"]').count(), 0);

  // Remove it from the page too; the row goes away.
  await row.locator('[data-testid="remove-button"]').click();
  await row.waitFor({ state: 'detached', timeout: 20_000 });
  assert.deepEqual(problems, []);
  await page.close();
});

test('an action that fails shows the engine\'s error on the page', async () => {
  const { daemon, browser } = env;
  const name = uniqueName('gone');
  await daemon.runDetached(name, 'busybox', 'sleep', '300');
  const { page, problems } = await watchedPage(browser);
  await daemon.login(page);
  await page.goto(`${daemon.base}/containers`);
  await hydrated(page);
  const row = page.locator(`[data-testid="container-row"][data-name="${name}"]`);
  await row.waitFor();
  // Another client removes it behind the page's back; the page still offers Stop.
  await daemon.berth('rm', '-f', name);
  await row.locator('[data-testid="stop-button"]').click();
  const error = page.locator('[data-testid="action-error"]');
  await error.waitFor({ timeout: 20_000 });
  assert.match(await error.textContent(), /no such container/);
  // The list was refreshed too: the row is gone.
  await row.waitFor({ state: 'detached', timeout: 20_000 });
  // The failed server function call answers 404 (the container is missing), not a 500;
  // nothing else may fail.
  const missing = problems.filter((p) => p.includes('status of 404'));
  assert.equal(missing.length, 1, `one 404 for the action: ${problems.join('; ')}`);
  assert.deepEqual(problems.filter((p) => !p.includes('/ui/fn/apply_action') && !p.includes('status of 404')), []);
  await page.close();
});

test('a container page appends new log lines live, without a reload', async () => {
  const { daemon, browser } = env;
  const name = uniqueName('log');
  const id = await daemon.runDetached(
    name, 'busybox', 'sh', '-c', 'i=0; while true; do echo line $i; i=$((i+1)); sleep 0.2; done',
  );
  assert.match(id, /^[0-9a-f]{12,64}$/, `berth run -d printed ${id}`);

  const { page, problems } = await watchedPage(browser);
  await daemon.login(page, 'admin', daemon.adminPassword, `/containers/${id}`);
  await hydrated(page);
  assert.equal(new URL(page.url()).pathname, `/containers/${id}`);
  assert.equal(await page.locator('[data-testid="container-name"]').textContent(), name);
  const lines = page.locator('[data-testid="log-line"]');
  await until('the first log lines', async () => (await lines.count()) >= 2);
  await until('the log status to be live', async () =>
    (await page.locator('[data-testid="log-status"]').textContent()) === 'live');
  const first = await lines.count();
  await page.evaluate(() => { window.__noReload = true; });
  await until('more log lines', async () => (await lines.count()) >= first + 5, 15_000);
  assert.equal(await page.evaluate(() => window.__noReload), true, 'the page reloaded');
  assert.match(await lines.last().locator('.log-text').textContent(), /^line \d+$/);
  // Lines arrive in order: the numbers of the rows on the page are consecutive.
  const numbers = (await page.locator('[data-testid="log-line"] .log-text').allTextContents())
    .map((t) => Number(t.replace('line ', '')));
  numbers.forEach((n, i) => assert.equal(n, numbers[0] + i));
  assert.deepEqual(problems, []);
  await page.close();
});

test('a live log survives a daemon restart: it reconnects and resumes, no line lost or shown twice', async () => {
  const { daemon, browser } = env;
  const name = uniqueName('resume');
  const id = await daemon.runDetached(
    name, 'busybox', 'sh', '-c', 'i=0; while true; do echo line $i; i=$((i+1)); sleep 0.1; done',
  );
  const { page, problems } = await watchedPage(browser);
  await daemon.login(page, 'admin', daemon.adminPassword, `/containers/${id}`);
  await hydrated(page);
  const status = page.locator('[data-testid="log-status"]');
  const lines = page.locator('[data-testid="log-line"] .log-text');
  await until('the log to be live', async () => (await status.textContent()) === 'live');
  await until('some lines', async () => (await lines.count()) >= 5);
  await page.evaluate(() => { window.__noReload = true; });
  await daemon.restart();
  await until('the page to reconnect', async () => (await status.textContent()) === 'live', 30_000);
  const before = await lines.count();
  await until('lines after the restart', async () => (await lines.count()) >= before + 10, 20_000);
  assert.equal(await page.evaluate(() => window.__noReload), true, 'the page reloaded');
  const numbers = (await lines.allTextContents()).map((t) => Number(t.replace('line ', '')));
  numbers.forEach((n, i) => assert.equal(n, numbers[0] + i, `line ${i} of the page is line ${n}`));
  await screenshots(page, 'container-log-resumed');
  // While the daemon was down the browser's reconnect attempts failed, as they must.
  assert.deepEqual(problems.filter((p) => !p.includes('/api/v1/ws')), []);
  await page.close();
});

test('a container page says when the container exited, and with which code', async () => {
  const { daemon, browser } = env;
  const name = uniqueName('exit');
  const id = await daemon.runDetached(name, 'busybox', 'sh', '-c', 'echo hello; sleep 2; echo bye; exit 3');
  const { page, problems } = await watchedPage(browser);
  await daemon.login(page);
  await page.goto(`${daemon.base}/containers/${id}`);
  await hydrated(page);
  const status = page.locator('[data-testid="log-status"]');
  await until('the exit to be shown', async () => (await status.textContent()) === 'exited with code 3');
  const texts = await page.locator('[data-testid="log-line"] .log-text').allTextContents();
  assert.deepEqual(texts, ['hello', 'bye']);
  assert.equal(await page.locator('[data-testid="container-state"]').textContent(), 'exited');
  assert.equal(await page.locator('[data-testid="container-exit-code"]').textContent(), '3');
  // The finish time comes without a reload too (the header reads the details again).
  await until('the finish time', async () =>
    (await page.locator('[data-testid="container-finished"]').textContent()).endsWith('UTC'));
  await screenshots(page, 'container-exited', { dark: true });
  assert.deepEqual(problems, []);
  await page.close();
});

test('the containers list follows changes made elsewhere (the CLI) from the events, without a reload or polling', async () => {
  const { daemon, browser } = env;
  const { page, problems } = await watchedPage(browser);
  await daemon.login(page);
  await page.goto(`${daemon.base}/containers`);
  await hydrated(page);
  await page.evaluate(() => { window.__noReload = true; });
  // No list request without an event: the list is not polled.
  const listCalls = [];
  page.on('request', (r) => { if (r.url().includes('/containers_page')) listCalls.push(Date.now()); });
  await new Promise((r) => setTimeout(r, 2_500));
  assert.equal(listCalls.length, 0, 'the list was fetched with nothing changed');

  const name = uniqueName('elsewhere');
  await daemon.runDetached(name, 'busybox', 'sleep', '300');
  const row = page.locator(`[data-testid="container-row"][data-name="${name}"]`);
  await row.and(page.locator('[data-state="running"]')).waitFor({ timeout: 15_000 });
  await screenshots(page, 'containers-live');
  await daemon.berth('kill', name);
  await row.and(page.locator('[data-state="exited"]')).waitFor({ timeout: 15_000 });
  await daemon.berth('rm', name);
  await row.waitFor({ state: 'detached', timeout: 15_000 });
  assert.equal(await page.evaluate(() => window.__noReload), true, 'the page reloaded');
  assert.deepEqual(problems, []);
  await page.close();
});

test('unknown addresses get the not-found page with status 404', async () => {
  const { daemon, browser } = env;
  const res = await daemon.fetch('/no/such/page');
  assert.equal(res.status, 404);
  assert.match(await res.text(), /data-testid="not-found"/);
  const missing = await daemon.fetch(`/containers/no-such-container-${process.pid}`);
  assert.equal(missing.status, 404);
});
