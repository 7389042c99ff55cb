// networks.test.mjs: the networks page in a real Chromium against a real daemon: a network
// created from the page, a container (run from the CLI) connected and disconnected there, the
// network removed once free; and a viewer who sees the networks but no control (and is
// refused by the server anyway).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonAndBrowser, watchedPage, hydrated, until, uniqueName, screenshots } from './harness.mjs';

const env = daemonAndBrowser();

test('create a network, connect and disconnect a container, remove the network', async () => {
  const { daemon, browser } = env;
  const network = uniqueName('net');
  const container = uniqueName('netc');
  await daemon.runDetached(container, 'busybox', 'sleep', '300');
  const { page, problems } = await watchedPage(browser);
  await daemon.login(page, 'admin', daemon.adminPassword, '/networks');
  await page.goto(`${daemon.base}/networks`);
  await hydrated(page);
  const bridge = page.locator('[data-testid="network-row"][data-name="bridge"]');
  await until('the container on the default bridge', async () =>
    (await bridge.locator('[data-testid="network-member"]').allTextContents()).some((t) => t.includes(container)));
  // The predefined networks are chosen when a container is made, not connected later.
  assert.equal(await bridge.locator('[data-testid="connect-button"]').count(), 0);

  await page.click('[data-testid="create-network-open"]');
  await page.fill('[data-testid="network-name"]', network);
  await page.click('[data-testid="create-network-submit"]');
  const row = page.locator(`[data-testid="network-row"][data-name="${network}"]`);
  await row.waitFor();
  assert.match(await page.locator('[data-testid="action-done"]').textContent(), new RegExp(`^Created network ${network} \\(\\d+\\.\\d+\\.\\d+\\.\\d+/\\d+\\)\\.$`));

  await row.locator('[data-testid="connect-select"]').selectOption(container);
  await row.locator('[data-testid="connect-button"]').click();
  const member = row.locator(`[data-testid="network-member"][data-name="${container}"]`);
  await member.waitFor();
  assert.equal(await row.locator('[data-testid="remove-network-button"]').isDisabled(), true);
  const inspect = await (await daemon.fetch(`/api/v1/containers/${container}`)).json();
  assert.ok(Object.keys(inspect.NetworkSettings.Networks).includes(network), JSON.stringify(inspect.NetworkSettings.Networks));
  await screenshots(page, 'networks', { dark: true });

  await member.locator('[data-testid="disconnect-button"]').click();
  await member.waitFor({ state: 'detached' });
  page.once('dialog', (d) => d.accept());
  await row.locator('[data-testid="remove-network-button"]').click();
  await row.waitFor({ state: 'detached' });
  assert.equal(await page.locator('[data-testid="action-done"]').textContent(), `Removed network ${network}.`);

  // A name the engine refuses: its reason, in words.
  await page.fill('[data-testid="network-name"]', '-bad name');
  await page.click('[data-testid="create-network-submit"]');
  await page.locator('[data-testid="action-error"]').waitFor();
  assert.match(await page.locator('[data-testid="action-error"]').textContent(), /name/i);
  // The refused create is an HTTP 400, as it must be.
  assert.deepEqual(problems.filter((p) => !p.startsWith('HTTP 400: ') && !p.includes('status of 400')), []);
  await page.close();
});

test('a viewer sees the networks but no control, and the server refuses them anyway', async () => {
  const { daemon, browser } = env;
  const password = 'viewer-password-networks';
  await daemon.addUser('netviewer', 'viewer', password);
  const context = await browser.newContext();
  const { page, problems } = await watchedPage(context);
  await daemon.login(page, 'netviewer', password, '/networks');
  await hydrated(page);
  await page.locator('[data-testid="network-row"][data-name="bridge"]').waitFor();
  for (const control of ['create-network-open', 'prune-networks', 'connect-select', 'connect-button', 'disconnect-button', 'remove-network-button']) {
    assert.equal(await page.locator(`[data-testid="${control}"]`).count(), 0, `${control} shown to a viewer`);
  }
  await screenshots(page, 'networks-viewer');
  assert.deepEqual(problems, []);
  const session = await daemon.apiLogin('netviewer', password);
  const res = await daemon.fetch('/ui/fn/network_action', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ op: { op: 'create', name: 'sneaky', subnet: '' } }),
    session,
  });
  assert.equal(res.status, 403, await res.text());
  await context.close();
});
