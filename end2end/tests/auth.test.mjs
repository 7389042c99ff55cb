// auth.test.mjs: logins and roles in a real Chromium against a real daemon: the login page and
// its errors, the user menu, what a viewer is (not) offered, the first-run setup page, log out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Daemon, daemonAndBrowser, watchedPage, hydrated, uniqueName, screenshots } from './harness.mjs';

const env = daemonAndBrowser();

/** The path and query of the page's address. */
const where = (page) => {
  const u = new URL(page.url());
  return u.pathname + u.search;
};

test('an anonymous visit lands on the login page; a wrong password is refused in words, the right one opens the containers', async () => {
  const { daemon, browser } = env;
  const { page, problems } = await watchedPage(browser);
  await page.goto(`${daemon.base}/containers`);
  assert.equal(new URL(page.url()).pathname, '/login');
  assert.equal(new URL(page.url()).searchParams.get('next'), '/containers');
  // No chrome on the login page: no top bar, no user menu.
  assert.equal(await page.locator('.sidebar').count(), 0);
  assert.equal(await page.locator('#login-username').getAttribute('autocomplete'), 'username');
  assert.equal(await page.locator('#login-password').getAttribute('autocomplete'), 'current-password');
  await hydrated(page);
  await screenshots(page, 'login', { dark: true });

  await page.fill('#login-username', 'admin');
  await page.fill('#login-password', 'not-the-password');
  await Promise.all([
    page.waitForURL((u) => u.searchParams.get('error') === 'bad_credentials'),
    page.click('[data-testid="login-submit"]'),
  ]);
  const error = page.locator('[data-testid="auth-error"]');
  assert.equal(await error.textContent(), 'Wrong user name or password.');
  assert.equal(new URL(page.url()).searchParams.get('next'), '/containers', 'next survives an error');
  await screenshots(page, 'login-error', { dark: true });

  await page.fill('#login-username', 'admin');
  await page.fill('#login-password', daemon.adminPassword);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/containers'),
    page.click('[data-testid="login-submit"]'),
  ]);
  await hydrated(page);
  assert.equal(await page.locator('[data-testid="user-name"]').textContent(), 'admin');
  assert.equal(await page.locator('[data-testid="user-role"]').textContent(), 'admin');
  assert.equal(await page.locator('[data-testid="logout-button"]').count(), 1);
  await screenshots(page, 'containers-after-login', { dark: true });
  // The login refused once is a 4xx nowhere: the form answers with redirects.
  assert.deepEqual(problems, []);
  await page.close();
});

test('a viewer sees no Stop or Remove button on a running container, and a read-only hint instead', async () => {
  const { daemon, browser } = env;
  const name = uniqueName('viewer');
  await daemon.runDetached(name, 'busybox', 'sleep', '300');
  const password = 'viewer-password-1';
  const how = await daemon.addUser('viewer1', 'viewer', password);
  console.log(`# viewer1 added with the ${how}`);

  const { page, problems } = await watchedPage(browser);
  await daemon.login(page, 'viewer1', password);
  await hydrated(page);
  const row = page.locator(`[data-testid="container-row"][data-name="${name}"]`);
  await row.waitFor();
  assert.equal(await row.getAttribute('data-state'), 'running');
  for (const button of ['stop-button', 'force-remove-button', 'start-button', 'remove-button']) {
    assert.equal(await row.locator(`[data-testid="${button}"]`).count(), 0, `${button} shown to a viewer`);
  }
  assert.equal(await row.locator('[data-testid="read-only"]').textContent(), 'read-only');
  assert.equal(await page.locator('[data-testid="user-name"]').textContent(), 'viewer1');
  assert.equal(await page.locator('[data-testid="user-role"]').textContent(), 'viewer');
  // Not even the server-rendered HTML has them.
  const session = await daemon.apiLogin('viewer1', password);
  const html = await (await daemon.fetch('/containers', { session })).text();
  assert.doesNotMatch(html, /data-testid="(stop|force-remove|start|remove)-button"/);
  await screenshots(page, 'containers-viewer', { dark: true });

  // The container's own page, too.
  await row.locator('[data-testid="container-link"]').click();
  await page.locator('[data-testid="container-name"]').waitFor();
  assert.equal(await page.locator('[data-testid="stop-button"]').count(), 0);
  await screenshots(page, 'container-viewer');
  assert.deepEqual(problems, []);
  await page.close();
});

test('first run: the setup address from the log creates the admin and logs it in', async () => {
  const { daemon, browser } = env;
  const fresh = await Daemon.start({ adminPassword: null });
  try {
    const line = await fresh.logLine('/setup?token=');
    const found = line.match(/\/setup\?token=[^\s"'<>]+/);
    assert.ok(found, `no setup address in: ${line}`);
    const { page, problems } = await watchedPage(browser);
    await page.goto(`${fresh.base}${found[0]}`);
    assert.equal(new URL(page.url()).pathname, '/setup');
    assert.equal(await page.locator('.sidebar').count(), 0);
    assert.equal(await page.locator('#setup-username').inputValue(), 'admin');
    await hydrated(page);
    await screenshots(page, 'setup', { dark: true });

    // Two different passwords: refused in words, the token kept for the next try.
    await page.fill('#setup-password', 'first-admin-password');
    await page.fill('#setup-confirm', 'another-password');
    await Promise.all([
      page.waitForURL((u) => u.searchParams.get('error') === 'mismatch'),
      page.click('[data-testid="setup-submit"]'),
    ]);
    assert.match(await page.locator('[data-testid="auth-error"]').textContent(), /passwords differ/);
    assert.ok(new URL(page.url()).searchParams.get('token'), 'the token is kept');
    await screenshots(page, 'setup-error');

    await page.fill('#setup-password', 'first-admin-password');
    await page.fill('#setup-confirm', 'first-admin-password');
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/'),
      page.click('[data-testid="setup-submit"]'),
    ]);
    // The first admin lands on the overview.
    await page.locator('[data-testid="host-card"]').waitFor();
    await hydrated(page);
    assert.equal(await page.locator('[data-testid="user-name"]').textContent(), 'admin');
    assert.equal(await page.locator('[data-testid="user-role"]').textContent(), 'admin');
    await screenshots(page, 'after-setup');

    // The address works once.
    await page.goto(`${fresh.base}${found[0]}`);
    if (new URL(page.url()).pathname === '/setup') {
      await page.fill('#setup-password', 'again-password-1');
      await page.fill('#setup-confirm', 'again-password-1');
      await Promise.all([
        page.waitForURL((u) => u.searchParams.has('error')),
        page.click('[data-testid="setup-submit"]'),
      ]);
      assert.match(new URL(page.url()).searchParams.get('error'), /^(forbidden|exists)$/);
    }
    assert.deepEqual(problems, []);
    await page.close();
  } finally {
    await fresh.stop();
  }
});

test('log out returns to the login page, and the containers ask for a login again', async () => {
  const { daemon, browser } = env;
  const { page, problems } = await watchedPage(browser);
  await daemon.login(page);
  await hydrated(page);
  await Promise.all([
    page.waitForURL((u) => u.pathname === '/login'),
    page.click('[data-testid="logout-button"]'),
  ]);
  await page.goto(`${daemon.base}/containers`);
  assert.equal(new URL(page.url()).pathname, '/login', `after log out /containers showed ${where(page)}`);
  assert.equal(await page.locator('[data-testid="user-menu"]').count(), 0);
  assert.deepEqual(problems, []);
  await page.close();
});
