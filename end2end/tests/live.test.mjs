// live.test.mjs: a container's Stats and Terminal tabs in a real Chromium against a real
// daemon: charts that move and keep their hour across a reload, figures that agree with
// `berth stats`, a terminal that runs a command, what a viewer gets
// (no terminal, and the daemon refuses one anyway), and the bundle served precompressed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { daemonAndBrowser, watchedPage, hydrated, until, uniqueName, screenshots } from './harness.mjs';

const env = daemonAndBrowser();

const text = async (locator) => (await locator.textContent())?.trim();

test('stats charts move, agree with berth stats, read together under one cursor, and keep their history across a reload', async () => {
  const { daemon, browser } = env;
  const name = uniqueName('stats');
  // Some CPU, not a whole core, on a shared machine; a limit to compare.
  const id = await daemon.runDetached(
    name, '--memory', '64m', 'busybox', 'sh', '-c',
    'while true; do i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done; sleep 0.3; done',
  );
  const { page, problems } = await watchedPage(browser);
  await page.setViewportSize({ width: 1280, height: 800 });
  await daemon.login(page);
  await page.goto(`${daemon.base}/containers/${id}?tab=stats`);

  // Server-rendered: the tab is chosen by the address, the figures are there before the wasm.
  const html = await (await daemon.fetch(`/containers/${id}?tab=stats`)).text();
  assert.match(html, /data-testid="stats"/);
  assert.match(html, /data-testid="tab-stats"[^>]*aria-selected="true"|aria-selected="true"[^>]*data-testid="tab-stats"/);

  await hydrated(page);
  const status = page.locator('[data-testid="stats-status"]');
  await until('the stats to be live', async () => (await text(status)) === 'live');
  const charts = page.locator('[data-testid="stats-charts"]');
  const points = async () => Number(await charts.getAttribute('data-points'));
  await until('five charts drawn', async () => (await page.locator('.chart canvas').count()) === 5);
  await until('a few points', async () => (await points()) >= 3, 20_000);
  const first = await points();
  const cpu = page.locator('[data-testid="stat-cpu"] [data-testid="stat-value"]');
  const before = await text(cpu);
  await until('more points', async () => (await points()) >= first + 3, 20_000);
  assert.match(await text(cpu), /^\d+\.\d\d%$/);
  // A busy container: its CPU figure changes from reading to reading.
  await until('the CPU figure to change', async () => (await text(cpu)) !== before, 20_000);

  // The same figures `berth stats` prints: the limit exactly, the memory in the same units.
  const memory = page.locator('[data-testid="stat-memory"]');
  assert.match(await text(memory.locator('.stat-sub')), /^of 64MiB · \d+\.\d\d%$/);
  const [cli] = JSON.parse(`[${(await daemon.berth('stats', '--no-stream', '--format', 'json', name)).split('\n').join(',')}]`);
  assert.equal(cli.MemUsage.split(' / ')[1], '64MiB', JSON.stringify(cli));
  const unit = (s) => s.replace(/^[\d.]+/, '');
  assert.equal(unit(await text(memory.locator('[data-testid="stat-value"]'))), unit(cli.MemUsage.split(' / ')[0]));
  assert.match(await text(page.locator('[data-testid="stat-pids"] [data-testid="stat-value"]')), /^\d+$/);

  // One cursor: hovering the CPU chart moves the cursor of every other chart too.
  const over = page.locator('[data-chart="cpu"] .u-over');
  const box = await over.boundingBox();
  await page.mouse.move(box.x + box.width * 0.8, box.y + box.height / 2);
  for (const chart of ['memory', 'network', 'block', 'pids']) {
    await until(`the ${chart} chart's cursor`, async () =>
      !(await page.locator(`[data-chart="${chart}"] .u-cursor-x`).getAttribute('class')).includes('u-off'), 5_000);
  }
  const legend = await text(page.locator('[data-chart="memory"] .u-legend .u-series').nth(1).locator('.u-value'));
  assert.match(legend, /iB$/, `the memory legend reads ${legend}`);
  await page.mouse.move(0, 0);
  await screenshots(page, 'container-stats', { dark: true });

  // A reload keeps the hour: the history comes from the daemon, at once.
  const seen = await points();
  await page.reload();
  await hydrated(page);
  await until('the history after the reload', async () => (await points()) >= seen, 5_000);
  assert.ok((await page.locator('.chart canvas').count()) === 5);
  assert.deepEqual(problems, []);
  await page.close();
});

test('the terminal runs echo and shows the output, reports the exit code and reconnects', async () => {
  const { daemon, browser } = env;
  const name = uniqueName('term');
  const id = await daemon.runDetached(name, 'busybox', 'sleep', '600');
  const { page, problems } = await watchedPage(browser);
  await page.setViewportSize({ width: 1280, height: 800 });
  await daemon.login(page);
  await page.goto(`${daemon.base}/containers/${id}?tab=terminal`);
  await hydrated(page);
  const status = page.locator('[data-testid="terminal-status"]');
  const screen = page.locator('[data-testid="terminal"] .xterm-rows');
  await until('the terminal to connect', async () => (await text(status)) === 'connected');
  await until('the shell prompt', async () => (await screen.textContent()).includes('#'));

  // What the shell prints is not what was typed: $((6*7)) is worked out by the shell.
  const marker = randomBytes(4).toString('hex');
  await page.locator('[data-testid="terminal"] .xterm').click();
  await page.keyboard.type(`echo hello-$((6*7))-${marker}\n`);
  await until('the echo output', async () => (await screen.textContent()).includes(`hello-42-${marker}`));
  await screenshots(page, 'container-terminal', { dark: true });

  // The command's end, with its code; then a new session on the same button.
  await page.keyboard.type('exit 3\n');
  await until('the exit code', async () => (await text(status)) === 'exited with code 3');
  assert.match(await screen.textContent(), /\[exited with code 3\]/);
  const button = page.locator('[data-testid="terminal-connect"]');
  assert.equal(await text(button), 'Reconnect');
  // Another command and user, as typed in the fields.
  await page.fill('[data-testid="terminal-command"]', 'sh -c "id -u; exec sh"');
  await page.fill('[data-testid="terminal-user"]', '1234');
  await button.click();
  await until('the second session', async () => (await text(status)) === 'connected');
  await until('the id of the user', async () => /^1234$/m.test(await page.evaluate(() =>
    [...document.querySelectorAll('[data-testid="terminal"] .xterm-rows > div')].map((r) => r.textContent.trim()).join('\n'))));
  await page.keyboard.type('exit\n');
  await until('the second exit', async () => (await text(status)) === 'exited with code 0');

  // A command that does not exist is said so, in the daemon's words.
  await page.fill('[data-testid="terminal-command"]', '/no/such/command');
  await page.fill('[data-testid="terminal-user"]', '');
  await button.click();
  await until('the refusal or the exit', async () => /^(cannot connect: .+|exited with code 12[67])$/.test(await text(status)));
  assert.deepEqual(problems, []);
  await page.close();

  // A stopped container offers no terminal, and says why.
  const stopped = uniqueName('stopped');
  daemon.containers.push(stopped);
  await daemon.berth('run', '--name', stopped, 'busybox', 'true');
  const second = await watchedPage(browser);
  await daemon.login(second.page, 'admin', daemon.adminPassword, `/containers/${stopped}?tab=terminal`);
  await hydrated(second.page);
  await second.page.locator('[data-testid="terminal-not-running"]').waitFor();
  assert.equal(await second.page.locator('[data-testid="terminal-connect"]').isDisabled(), true);
  assert.deepEqual(second.problems, []);
  await second.page.close();
});

test('a viewer sees the stats but no terminal tab or controls, and the daemon refuses a terminal anyway', async () => {
  const { daemon, browser } = env;
  const name = uniqueName('viewer-term');
  const id = await daemon.runDetached(name, 'busybox', 'sleep', '600');
  const password = 'viewer-password-2';
  await daemon.addUser('viewer2', 'viewer', password);
  const { page, problems } = await watchedPage(browser);
  await page.setViewportSize({ width: 1280, height: 800 });
  await daemon.login(page, 'viewer2', password);
  await page.goto(`${daemon.base}/containers/${id}?tab=terminal`);
  await hydrated(page);
  await page.locator('[data-testid="terminal-read-only"]').waitFor();
  for (const control of ['tab-terminal', 'terminal-connect', 'terminal-command', 'terminal-user', 'terminal']) {
    assert.equal(await page.locator(`[data-testid="${control}"]`).count(), 0, `${control} shown to a viewer`);
  }
  assert.equal(await page.locator('[data-testid="tab-stats"]').count(), 1);
  await screenshots(page, 'container-terminal-viewer');

  // The same subscription sent by hand over the page's own session is refused.
  const answer = await page.evaluate((container) => new Promise((ok, fail) => {
    const ws = new WebSocket(`ws://${location.host}/api/v1/ws`);
    ws.onopen = () => ws.send(JSON.stringify({
      type: 'subscribe', id: 9, stream: { type: 'terminal', container, rows: 24, columns: 80 },
    }));
    ws.onmessage = (m) => {
      if (typeof m.data === 'string') {
        ws.close();
        ok(JSON.parse(m.data));
      } else {
        ws.close();
        fail(new Error('the viewer got terminal output'));
      }
    };
    ws.onerror = () => fail(new Error('the WebSocket failed'));
  }), id);
  assert.equal(answer.type, 'error', JSON.stringify(answer));
  assert.equal(answer.id, 9);
  assert.equal(answer.code, 'forbidden');

  // Stats are for viewers too.
  await page.click('[data-testid="tab-stats"]');
  await until('the address to say stats', async () => new URL(page.url()).searchParams.get('tab') === 'stats');
  await until('the stats to be live', async () => (await text(page.locator('[data-testid="stats-status"]'))) === 'live');
  assert.deepEqual(problems, []);
  await page.close();
});

test('the bundle and the wasm are served from the binary, precompressed, by Accept-Encoding', async () => {
  const { daemon, browser } = env;
  for (const path of ['/live.js', '/pkg/berth_bg.wasm', '/berth.css']) {
    const sizes = {};
    for (const encoding of ['br', 'gzip', 'identity']) {
      const res = await daemon.fetch(path, { headers: { 'Accept-Encoding': encoding } });
      assert.equal(res.status, 200, `${path} ${encoding}`);
      assert.equal(res.headers.get('content-encoding') ?? 'identity', encoding, `${path} ${encoding}`);
      assert.equal(res.headers.get('vary'), 'accept-encoding', path);
      const etag = res.headers.get('etag');
      sizes[encoding] = Number(res.headers.get('content-length'));
      await res.arrayBuffer();
      // Revalidation answers 304 for the variant's own tag.
      const again = await daemon.fetch(path, { headers: { 'Accept-Encoding': encoding, 'If-None-Match': etag } });
      assert.equal(again.status, 304, `${path} ${encoding} revalidated`);
    }
    assert.ok(sizes.br < sizes.gzip && sizes.gzip < sizes.identity, `${path}: ${JSON.stringify(sizes)}`);
    console.log(`# ${path}: ${JSON.stringify(sizes)}`);
  }
  const js = await daemon.fetch('/live.js', { headers: { 'Accept-Encoding': 'identity' } });
  assert.match(js.headers.get('content-type'), /javascript/);
  assert.match(await js.text(), /berthLive/);
});
