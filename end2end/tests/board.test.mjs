// board.test.mjs: a board link (`/board/<secret>`) opened by a browser that never logged in: the
// host line, the counters and a tile per container, live over the board's WebSocket, and a
// clear page once the link is revoked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonAndBrowser, watchedPage, hydrated, uniqueName, until, screenshots } from './harness.mjs';

const env = daemonAndBrowser();

const tile = (page, name) => page.locator(`[data-testid="board-tile"][data-name="${name}"]`);

test('a board link shows the containers live without a login, and says so once revoked', async () => {
  const { daemon, browser } = env;
  const web = uniqueName('board-web');
  const crash = uniqueName('board-crash');
  await daemon.runDetached(web, 'busybox', 'sleep', '300');
  await daemon.runDetached(crash, 'busybox', 'sh', '-c', 'exit 3');

  const res = await daemon.fetch('/api/v1/boards', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'Lobby wall' }),
  });
  assert.equal(res.status, 201, await res.clone().text());
  const created = await res.json();
  assert.match(created.path, /^\/board\/board_/);

  // A page of its own: no cookies, nobody logged in.
  const { page, problems } = await watchedPage(browser);
  assert.deepEqual(await page.context().cookies(), []);
  const answer = await page.goto(`${daemon.base}${created.path}`);
  assert.equal(answer.status(), 200);
  assert.equal(new URL(page.url()).pathname, created.path, 'no detour to the login page');
  await tile(page, web).waitFor();
  assert.equal(await tile(page, web).getAttribute('data-state'), 'running');
  assert.equal(await page.locator('.sidebar').count(), 0, 'no chrome');
  assert.equal(await page.locator('button').count(), 0, 'no buttons');
  assert.equal(await page.locator('[data-testid="board-title"]').textContent(), 'Lobby wall');
  // Problems first: the container that exited with 3 leads.
  await until('the crashed tile to come first', async () =>
    (await page.locator('[data-testid="board-tile"]').first().getAttribute('data-name')) === crash, 10_000);

  await hydrated(page);
  const live = page.locator('[data-testid="board-live"]');
  await until('the board to be live', async () => (await live.getAttribute('data-status')) === 'live', 10_000);

  // A container started now appears without a reload, within 2 s.
  const late = uniqueName('board-late');
  await daemon.runDetached(late, 'busybox', 'sleep', '300');
  const started = Date.now();
  await tile(page, late).waitFor({ timeout: 2_000 });
  const took = Date.now() - started;
  assert.ok(took <= 2_000, `the new tile took ${took} ms`);
  // The counters follow the same snapshot; the tile may be drawn a frame before them.
  await until('the running count to be 2', async () =>
    (await page.locator('[data-testid="count-running"] .counter-n').textContent()) === '2', 2_000);
  await screenshots(page, 'board', { dark: true });

  // Revoked: the open board says so (at the next snapshot, within the 10 s heartbeat) ...
  const links = await (await daemon.fetch('/api/v1/boards')).json();
  const link = links.find((l) => l.name === 'Lobby wall');
  const revoke = await daemon.fetch(`/api/v1/boards/${link.id}`, { method: 'DELETE' });
  assert.equal(revoke.status, 204);
  await until('the open board to notice the revocation',
    async () => (await live.getAttribute('data-status')) === 'link no longer valid', 15_000);
  assert.ok(await page.locator('[data-testid="board-revoked"]').isVisible());
  // ... and once reloaded it is the page of a link that is not valid, with a 404.
  const again = await page.reload();
  assert.equal(again.status(), 404);
  const invalid = page.locator('[data-testid="board-invalid"]');
  await invalid.waitFor();
  assert.match(await invalid.textContent(), /This board link is not valid \(revoked or expired\)/);
  await screenshots(page, 'board-invalid', { dark: true });

  // The reloaded page of a revoked link is a 404 on purpose (and Chromium logs it).
  const unexpected = problems.filter((p) => !(p.includes('/board/') || p.includes('404')));
  assert.deepEqual(unexpected, []);
});

test('an admin makes a board link from the page, it opens without a login, and is revoked there', async () => {
  const { daemon, browser } = env;
  const { page, problems } = await watchedPage(browser);
  await daemon.login(page, 'admin', daemon.adminPassword, '/boards');
  await hydrated(page);
  await page.fill('[data-testid="board-name"]', 'Ops corridor');
  await page.selectOption('[data-testid="board-lifetime"]', '24');
  await page.click('[data-testid="board-create"]');
  const address = page.locator('[data-testid="board-address"]');
  await address.waitFor();
  const path = await address.textContent();
  assert.match(path, /^\/board\/board_/);
  const row = page.locator('[data-testid="board-row"][data-name="Ops corridor"]');
  await row.waitFor();
  assert.match(await row.textContent(), /admin/);
  assert.doesNotMatch(await row.textContent(), /until revoked/, 'a day-long link says until when');
  await screenshots(page, 'board-links');

  // Anyone with the address, no cookies.
  const wall = await browser.newContext();
  const screen = await wall.newPage();
  const answer = await screen.goto(`${daemon.base}${path}`);
  assert.equal(answer.status(), 200);
  assert.equal(await screen.locator('[data-testid="board-title"]').textContent(), 'Ops corridor');

  page.once('dialog', (d) => d.accept());
  await row.locator('[data-testid="board-revoke"]').click();
  await row.waitFor({ state: 'detached' });
  assert.match(await page.locator('[data-testid="action-done"]').textContent(), /Revoked the board link Ops corridor/);
  assert.equal((await screen.reload()).status(), 404);
  await wall.close();
  assert.deepEqual(problems, []);

  // Not for operators: no page content, no sidebar entry, refused by the server.
  await daemon.addUser('boardop', 'operator', 'operator-password-boards');
  const session = await daemon.apiLogin('boardop', 'operator-password-boards');
  const res = await daemon.fetch('/ui/fn/create_board_link', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'sneaky', hours: 0 }),
    session,
  });
  assert.equal(res.status, 403, await res.text());
  await page.close();
});
