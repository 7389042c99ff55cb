// events.test.mjs: the events page and a container's Inspect and Events tabs in a real
// Chromium against a real daemon: events made elsewhere (the CLI) appear without a reload,
// the kind chips narrow the list, the inspect document folds, and a viewer reads them too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonAndBrowser, watchedPage, hydrated, until, uniqueName, screenshots } from './harness.mjs';

const env = daemonAndBrowser();

/** The text of every event line on the page. */
const lines = (page) => page.locator('[data-testid="event-line"]').allTextContents();

test('an event appears on the events page without a reload, and the kind chips narrow the list', async () => {
  const { daemon, browser } = env;
  const { page, problems } = await watchedPage(browser);
  await daemon.login(page, 'admin', daemon.adminPassword, '/events');
  await page.goto(`${daemon.base}/events`);
  await hydrated(page);
  await page.evaluate(() => { window.__noReload = true; });

  const name = uniqueName('evented');
  await daemon.runDetached(name, 'busybox', 'sleep', '300');
  await until('the start to appear', async () =>
    (await lines(page)).some((l) => l.includes('start') && l.includes(name)));
  const volume = uniqueName('evvol');
  await daemon.berth('volume', 'create', volume);
  await until('the volume to appear', async () =>
    (await lines(page)).some((l) => l.includes('create') && l.includes(volume)));
  assert.equal(await page.evaluate(() => window.__noReload), true, 'the page reloaded');
  await screenshots(page, 'events', { dark: true });

  await page.click('[data-testid="events-kind-volume"]');
  await page.waitForURL(`${daemon.base}/events?type=volume`);
  await until('only volume events', async () => {
    const all = await lines(page);
    return all.length > 0 && all.every((l) => l.includes('volume'));
  });
  assert.ok((await lines(page)).some((l) => l.includes(volume)));
  await page.click('[data-testid="events-kind-all"]');
  await page.waitForURL(`${daemon.base}/events`);
  assert.deepEqual(problems, []);
  await page.close();
});

test("a container's Inspect tab folds its document and its Events tab follows it live", async () => {
  const { daemon, browser } = env;
  const name = uniqueName('inspected');
  const id = await daemon.runDetached(name, '-e', 'MODE=inspect-me', 'busybox', 'sleep', '300');
  const password = 'viewer-password-events';
  await daemon.addUser('evviewer', 'viewer', password);
  const context = await browser.newContext();
  const { page, problems } = await watchedPage(context);
  await daemon.login(page, 'evviewer', password, `/containers/${id}?tab=inspect`);
  await hydrated(page);
  const tree = page.locator('[data-testid="inspect-tree"]');
  await tree.waitFor();
  assert.match(await tree.textContent(), /"MODE=inspect-me"/);
  assert.match(await tree.textContent(), /Status\s*:?\s*"running"/);
  // The top levels are open, deeper ones folded until clicked.
  const folded = await tree.locator('details:not([open])').first().elementHandle();
  await (await folded.$('summary')).click();
  assert.equal(await folded.evaluate((d) => d.open), true);
  await screenshots(page, 'container-inspect');

  await page.click('[data-testid="tab-events"]');
  await page.waitForURL(/\?tab=events$/);
  const events = page.locator('[data-testid="container-events"] [data-testid="event-line"]');
  await until('the start event', async () => (await events.allTextContents()).some((l) => l.includes('start')));
  await daemon.berth('stop', '-t', '1', name);
  await until('the die event, live', async () => (await events.allTextContents()).some((l) => l.includes('die')));
  assert.ok((await events.allTextContents()).every((l) => l.includes(name)), 'another container in its events');
  await screenshots(page, 'container-events', { dark: true });
  assert.deepEqual(problems, []);
  await context.close();
});
