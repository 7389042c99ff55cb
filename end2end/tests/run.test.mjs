// run.test.mjs: the "run a container" page in a real Chromium against a real daemon and a
// loopback registry: errors beside the fields (nothing created), the equivalent `berth run`
// line copied, an image that is not here pulled with its progress, then the container
// started with what the form said and its log streaming on its page; and a viewer, who gets
// no form (and is refused by the server anyway).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { daemonAndBrowser, watchedPage, hydrated, until, uniqueName, screenshots, freePort } from './harness.mjs';
import { Registry } from './registry.mjs';

const registry = await Registry.start();
const env = daemonAndBrowser({ serveArgs: ['--insecure-registry', registry.host] });
after(() => registry.stop());

test('run a container from the form: field errors, the run line, a pull with progress, its log streaming', async () => {
  const { daemon, browser } = env;
  await registry.push(`oci:${join(daemon.tmp, 'img', 'busybox-oci')}`, 'e2e/runme:1');
  const image = `${registry.host}/e2e/runme:1`;
  const name = uniqueName('formrun');
  const port = await freePort();
  const context = await browser.newContext();
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: daemon.base });
  const { page, problems } = await watchedPage(context);
  await daemon.login(page, 'admin', daemon.adminPassword, '/containers');
  await page.click('[data-testid="run-open"]');
  await page.waitForURL(`${daemon.base}/run`);
  await hydrated(page);

  // Wrong values: each error beside its field, and nothing is created.
  await page.fill('[data-testid="run-image"]', image);
  await page.fill('[data-testid="run-name"]', name);
  await page.fill('[data-testid="run-ports"]', '99999:80');
  await page.fill('[data-testid="run-memory"]', 'lots');
  await page.fill('[data-testid="run-env"]', 'not a pair');
  await page.click('[data-testid="run-submit"]');
  await page.locator('[data-testid="error-env"]').waitFor();
  assert.match(await page.locator('[data-testid="error-env"]').textContent(), /not KEY=value/);
  // The browser's own checks passed for these two: the server's parsers answer.
  await page.fill('[data-testid="run-env"]', 'GREETING=from the form');
  await page.click('[data-testid="run-submit"]');
  await page.locator('[data-testid="error-ports"]').waitFor();
  assert.match(await page.locator('[data-testid="error-ports"]').textContent(), /^99999:80: /);
  assert.ok(await page.locator('[data-testid="error-memory"]').isVisible());
  assert.equal(await page.locator('[data-testid="error-env"]').count(), 0);
  await screenshots(page, 'run-errors');
  const before = await (await daemon.fetch('/api/v1/containers?all=true')).json();
  assert.ok(!before.some((c) => c.name === name), 'a container was created from a wrong form');

  // Right values; the line says the same, and copies.
  await page.fill('[data-testid="run-ports"]', `127.0.0.1:${port}:80`);
  await page.fill('[data-testid="run-memory"]', '64m');
  await page.fill('[data-testid="run-command"]', `sh -c 'echo "started $GREETING"; i=0; while true; do i=$((i+1)); echo tick $i; sleep 1; done'`);
  await page.selectOption('[data-testid="run-restart"]', 'unless-stopped');
  const line = await page.locator('[data-testid="run-line"]').textContent();
  assert.equal(line,
    `berth run -d --name ${name} -p 127.0.0.1:${port}:80 -e 'GREETING=from the form' --memory 64m `
    + `--restart unless-stopped ${image} sh -c 'echo "started $GREETING"; i=0; while true; do i=$((i+1)); echo tick $i; sleep 1; done'`);
  await page.click('[data-testid="run-copy"]');
  await until('the copy', async () => (await page.locator('[data-testid="run-copy"]').textContent()) === 'Copied');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), line);

  // Not here yet: pulled with its progress, then started, then its page with the log.
  await page.evaluate(() => {
    window.__pulling = false;
    new MutationObserver(() => {
      const panel = document.querySelector('[data-testid="transfer"]');
      if (panel?.dataset.state === 'pulling' || panel?.querySelector('[data-testid="transfer-layer"]')) window.__pulling = true;
    }).observe(document.body, { subtree: true, childList: true, attributes: true });
  });
  await page.click('[data-testid="run-submit"]');
  await page.waitForURL(/\/containers\/[0-9a-f]{64}$/, { timeout: 60_000 });
  assert.equal(await page.evaluate(() => window.__pulling), true, 'no pull progress was shown');
  await hydrated(page);
  assert.equal(await page.locator('[data-testid="container-name"]').textContent(), name);
  const lines = page.locator('[data-testid="log-line"] .log-text');
  await until('the log to stream', async () => (await lines.count()) >= 3);
  assert.equal(await lines.first().textContent(), 'started from the form');
  await until('a new line without a reload', async () => (await lines.count()) >= 5);
  await screenshots(page, 'run-log', { dark: true });

  // The container has what the form said.
  const id = new URL(page.url()).pathname.split('/').pop();
  const inspect = await (await daemon.fetch(`/api/v1/containers/${id}`)).json();
  assert.equal(inspect.HostConfig.Memory, 64 * 1024 * 1024);
  assert.equal(inspect.HostConfig.RestartPolicy.Name, 'unless-stopped');
  assert.ok(inspect.Config.Env.includes('GREETING=from the form'), JSON.stringify(inspect.Config.Env));
  const listed = (await (await daemon.fetch('/api/v1/containers')).json()).find((c) => c.id === id);
  assert.ok(listed.ports.some((p) => p.PublicPort === port && p.PrivatePort === 80), JSON.stringify(listed.ports));
  daemon.containers.push(name);
  assert.deepEqual(problems, []);
  await context.close();
});

test('a viewer gets no run form, and the server refuses a run anyway', async () => {
  const { daemon, browser } = env;
  const password = 'viewer-password-run';
  await daemon.addUser('runviewer', 'viewer', password);
  const context = await browser.newContext();
  const { page, problems } = await watchedPage(context);
  await daemon.login(page, 'runviewer', password, '/containers');
  await hydrated(page);
  assert.equal(await page.locator('[data-testid="run-open"]').count(), 0);
  await page.goto(`${daemon.base}/run`);
  await hydrated(page);
  await page.locator('[data-testid="run-needs-operator"]').waitFor();
  assert.equal(await page.locator('[data-testid="run-form"]').count(), 0);
  await screenshots(page, 'run-viewer');
  assert.deepEqual(problems, []);

  const session = await daemon.apiLogin('runviewer', password);
  const res = await daemon.fetch('/ui/fn/run_container', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ form: { image: 'busybox', name: 'nope' } }),
    session,
  });
  assert.equal(res.status, 403, await res.text());
  await context.close();
});
