// audit.test.mjs: the audit log page in a real Chromium against a real daemon: a change made
// through the dashboard's server functions is recorded with who, what and the answer; only admins see the page in
// the sidebar, and the server refuses anyone else the data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonAndBrowser, watchedPage, hydrated, uniqueName, screenshots } from './harness.mjs';

const env = daemonAndBrowser();

test('the audit log records a change made from the dashboard, for admins only', async () => {
  const { daemon, browser } = env;
  const volume = uniqueName('audited');
  // A change through the dashboard's server function, as the admin's session.
  const made = await daemon.fetch('/ui/fn/volume_action', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ op: { op: 'create', name: volume } }),
  });
  assert.equal(made.status, 200, await made.text());
  const { page, problems } = await watchedPage(browser);
  await daemon.login(page, 'admin', daemon.adminPassword, '/');
  await hydrated(page);
  await page.click('nav >> text=Audit log');
  await page.waitForURL(`${daemon.base}/audit`);
  await hydrated(page);
  const row = page.locator('[data-testid="audit-row"][data-action*="volume_action"]').first();
  await row.waitFor();
  assert.equal(await row.getAttribute('data-outcome'), 'ok');
  assert.match(await row.textContent(), /admin/);
  const login = page.locator('[data-testid="audit-row"][data-action="login"]').first();
  assert.match(await login.textContent(), /admin.*session|admin/);
  await screenshots(page, 'audit', { dark: true });
  assert.deepEqual(problems, []);
  await page.close();

  const password = 'viewer-password-audit';
  await daemon.addUser('auditviewer', 'operator', password);
  const context = await browser.newContext();
  const watched = await watchedPage(context);
  await daemon.login(watched.page, 'auditviewer', password, '/audit');
  await hydrated(watched.page);
  await watched.page.locator('[data-testid="audit-needs-admin"]').waitFor();
  assert.equal(await watched.page.locator('nav >> text=Audit log').count(), 0);
  assert.equal(await watched.page.locator('[data-testid="audit-table"]').count(), 0);
  assert.deepEqual(watched.problems, []);
  const session = await daemon.apiLogin('auditviewer', password);
  const res = await daemon.fetch('/ui/fn/read_audit', { session });
  assert.equal(res.status, 403, await res.text());
  await context.close();
});
