// containers.test.mjs: the frame (sidebar, connection state, phone menu), the overview, and
// the containers page's search, chips, sort, pages and bulk actions, in a real Chromium
// against a real daemon with real containers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonAndBrowser, watchedPage, hydrated, until, uniqueName, screenshots } from './harness.mjs';

const env = daemonAndBrowser();

const rows = (page) => page.locator('[data-testid="container-row"]');
const rowNamed = (page, name) => page.locator(`[data-testid="container-row"][data-name="${name}"]`);

test('the overview shows the host, counts by state, a failed container and an event that arrives without a reload', async () => {
  const { daemon, browser } = env;
  const ok = uniqueName('ov-up');
  const bad = uniqueName('ov-bad');
  await daemon.runDetached(ok, 'busybox', 'sleep', '300');
  await daemon.runDetached(bad, 'busybox', 'sh', '-c', 'exit 7');
  await until('the failed one to exit', async () =>
    (await daemon.berth('inspect', '--format', '{{.State.Status}}', bad)) === 'exited');

  // Server-rendered: works without JavaScript.
  const html = await (await daemon.fetch('/')).text();
  assert.match(html, /data-testid="host-card"/);
  assert.match(html, /data-testid="host-cgroup"[^>]*>v[12]/);

  const { page, problems } = await watchedPage(browser);
  await daemon.login(page, 'admin', daemon.adminPassword, '/');
  await hydrated(page);
  assert.equal(new URL(page.url()).pathname, '/');
  assert.match(await page.locator('[data-testid="host-kernel"]').textContent(), /^\d+\.\d+/);
  assert.match(await page.locator('[data-testid="disk-free"]').textContent(), /free of/);
  assert.ok(Number(await page.locator('[data-testid="count-running"] .stat-n').textContent()) >= 1);
  assert.ok(Number(await page.locator('[data-testid="count-problems"] .stat-n').textContent()) >= 1);
  const attention = page.locator('[data-testid="problems"]');
  assert.match(await attention.textContent(), new RegExp(`${bad}.*exited \\(7\\)`));
  await until('the connection to be live', async () =>
    (await page.locator('.sidebar [data-testid="connection"]').textContent()).includes('live'));

  // An event made elsewhere shows up in the recent events, with no reload.
  await page.evaluate(() => { window.__noReload = true; });
  const later = uniqueName('ov-new');
  await daemon.runDetached(later, 'busybox', 'sleep', '300');
  const events = page.locator('[data-testid="recent-events"]');
  await until('the new container in the recent events', async () =>
    (await events.textContent()).includes(later), 15_000);
  assert.equal(await page.evaluate(() => window.__noReload), true, 'the page reloaded');
  await screenshots(page, 'overview', { dark: true });
  assert.deepEqual(problems, []);
  await page.close();
});

test('search, state chips, label filter and sort narrow the containers, in the address and without JavaScript too', async () => {
  const { daemon, browser } = env;
  const tag = uniqueName('find');
  const a = `${tag}-alpha`;
  const b = `${tag}-beta`;
  const c = `${tag}-gamma`;
  await daemon.runDetached(a, '--label', 'tier=front', 'busybox', 'sleep', '300');
  await daemon.runDetached(b, '--label', 'tier=back', 'busybox', 'sleep', '300');
  await daemon.berth('create', '--name', c, 'busybox', 'true');
  daemon.containers.push(c);

  // Without JavaScript: the address alone picks the rows.
  const html = await (await daemon.fetch(`/containers?q=${encodeURIComponent(tag)}&state=running&sort=name`)).text();
  assert.match(html, new RegExp(`data-name="${a}"`));
  assert.match(html, new RegExp(`data-name="${b}"`));
  assert.doesNotMatch(html, new RegExp(`data-name="${c}"`));

  const { page, problems } = await watchedPage(browser);
  await daemon.login(page);
  await page.goto(`${daemon.base}/containers`);
  await hydrated(page);
  await page.evaluate(() => { window.__noReload = true; });
  // `/` focuses the search box.
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'container-search');
  await page.keyboard.type(tag);
  await until('three rows for the search', async () => (await rows(page).count()) === 3);
  assert.equal(new URL(page.url()).searchParams.get('q'), tag);

  await page.locator('[data-testid="chip-running"]').click();
  await until('two running rows', async () => (await rows(page).count()) === 2);
  assert.equal(await page.locator('[data-testid="chip-running"] .chip-n').textContent(), '2');
  assert.equal(await page.locator('[data-testid="chip-all"] .chip-n').textContent(), '3');

  await page.locator('[data-testid="sort-name"]').click();
  await until('A→Z', async () => (await rows(page).first().getAttribute('data-name')) === a);
  await page.locator('[data-testid="sort-name"]').click();
  await until('Z→A', async () => (await rows(page).first().getAttribute('data-name')) === b);
  assert.equal(new URL(page.url()).searchParams.get('asc'), '0');

  await page.locator('[data-testid="label-filter"]').fill('tier=front');
  await page.locator('[data-testid="label-filter"]').press('Enter');
  await until('one row for the label', async () => (await rows(page).count()) === 1);
  assert.equal(await rows(page).first().getAttribute('data-name'), a);
  await screenshots(page, 'containers-filtered', { dark: true });

  await page.locator('[data-testid="label-filter"]').fill('tier=none');
  await page.locator('[data-testid="label-filter"]').press('Enter');
  await page.locator('[data-testid="no-matches"]').waitFor();
  assert.equal(await page.evaluate(() => window.__noReload), true, 'the page reloaded');
  assert.deepEqual(problems, []);
  await page.close();
});

test('bulk stop: tick two running containers, stop them both, the rows follow', async () => {
  const { daemon, browser } = env;
  const tag = uniqueName('bulk');
  const names = [`${tag}-1`, `${tag}-2`, `${tag}-3`];
  // Exits at once on SIGTERM (a shell trap), so the stop does not wait for the grace period.
  for (const n of names) await daemon.runDetached(n, 'busybox', 'sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done');
  const { page, problems } = await watchedPage(browser);
  await daemon.login(page, 'admin', daemon.adminPassword, `/containers?q=${tag}&sort=name`);
  await hydrated(page);
  await until('three rows', async () => (await rows(page).count()) === 3);
  assert.equal(await page.locator('[data-testid="bulk-bar"]').count(), 0, 'no bar before a tick');
  await rowNamed(page, names[0]).locator('[data-testid="select-row"]').check();
  await rowNamed(page, names[1]).locator('[data-testid="select-row"]').check();
  const bar = page.locator('[data-testid="bulk-bar"]');
  await bar.waitFor();
  assert.equal(await page.locator('[data-testid="bulk-count"]').textContent(), '2 selected');
  await screenshots(page, 'containers-bulk');
  await page.locator('[data-testid="bulk-stop"]').click();
  for (const n of names.slice(0, 2)) {
    await rowNamed(page, n).and(page.locator('[data-state="exited"]')).waitFor({ timeout: 30_000 });
  }
  assert.equal(await rowNamed(page, names[2]).getAttribute('data-state'), 'running', 'the third was not ticked');
  assert.equal(await page.locator('[data-testid="bulk-error"]').count(), 0);
  assert.deepEqual(problems, []);
  await page.close();
});

test('a thousand-row list is paged: fifty rows, a pager, and the next page', async () => {
  const { daemon, browser } = env;
  // Created, not started: fast, and enough to page through.
  const tag = uniqueName('page');
  for (let i = 0; i < 60; i++) {
    const n = `${tag}-${String(i).padStart(3, '0')}`;
    await daemon.berth('create', '--name', n, 'busybox', 'true');
    daemon.containers.push(n);
  }
  const { page, problems } = await watchedPage(browser);
  await daemon.login(page, 'admin', daemon.adminPassword, `/containers?q=${tag}&sort=name`);
  await hydrated(page);
  assert.equal(await rows(page).count(), 50);
  assert.equal(await page.locator('[data-testid="pager-range"]').textContent(), '1–50 of 60');
  await page.locator('[data-testid="pager-next"]').click();
  await until('the second page', async () => (await rows(page).count()) === 10);
  assert.equal(await rows(page).first().getAttribute('data-name'), `${tag}-050`);
  assert.equal(await page.locator('[data-testid="pager-range"]').textContent(), '51–60 of 60');
  assert.deepEqual(problems, []);
  await page.close();
});

test('at phone width the sidebar folds into a menu button; a viewer gets no ticks and no bulk bar', async () => {
  const { daemon, browser } = env;
  const name = uniqueName('phone-viewer');
  await daemon.runDetached(name, 'busybox', 'sleep', '300');
  const password = 'viewer-password-2';
  await daemon.addUser('viewer2', 'viewer', password);
  const { page, problems } = await watchedPage(browser);
  await page.setViewportSize({ width: 390, height: 844 });
  await daemon.login(page, 'viewer2', password, '/containers');
  await hydrated(page);
  const sidebar = page.locator('[data-testid="sidebar"]');
  const inView = async () => (await sidebar.boundingBox())?.x >= 0;
  assert.equal(await inView(), false, 'the sidebar is folded away');
  await page.locator('[data-testid="menu-button"]').click();
  await until('the sidebar to fold out', inView);
  await screenshots(page, 'sidebar-phone-menu');
  await page.locator('.sidebar a.nav-link', { hasText: 'Overview' }).click();
  await page.waitForURL((u) => u.pathname === '/');
  await until('the menu to close after navigating', async () => !(await inView()));
  await page.goto(`${daemon.base}/containers`);
  await hydrated(page);
  await rowNamed(page, name).waitFor();
  assert.equal(await page.locator('[data-testid="select-row"]').count(), 0);
  assert.equal(await page.locator('[data-testid="select-all"]').count(), 0);
  assert.equal(await page.locator('[data-testid="bulk-bar"]').count(), 0);
  // The server refuses a viewer's bulk action anyway.
  const session = await daemon.apiLogin('viewer2', password);
  const res = await daemon.fetch('/ui/fn/bulk_action', {
    session,
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ ids: [name], action: 'stop' }),
  });
  assert.equal(res.status, 403);
  assert.equal(await daemon.berth('inspect', '--format', '{{.State.Status}}', name), 'running');
  await screenshots(page, 'containers-viewer-phone');
  assert.deepEqual(problems, []);
  await page.close();
});
