// harness.mjs: starts a private `berth serve` (own data root, port and socket) with the busybox
// test image loaded, runs the CLI against it, opens Debian's Chromium, and tears it all down.
import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, rm, rmdir, readdir, readFile, open } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { before, after } from 'node:test';

const run = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BERTH = process.env.BERTH_BIN ?? join(repo, 'target', 'release', 'berth');
const TESTKIT = process.env.BERTH_TESTKIT_BIN ?? join(repo, 'target', 'release', 'berth-testkit');
const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
/** Where the tests leave their screenshots (gitignored). */
export const SCREENSHOTS = join(repo, 'end2end', 'screenshots');

/** A TCP port nobody listens on right now. */
export async function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/** Polls `check` until it returns a truthy value or `ms` pass. */
export async function until(what, check, ms = 20_000, every = 100) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await sleep(every);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${last})`);
}

/** A unique container name for this run. */
export function uniqueName(what) {
  return `e2e-${what}-${process.pid}-${Date.now().toString(36)}`;
}

export class Daemon {
  /**
   * Starts a private daemon. With an `adminPassword` (a random one unless given, or `null` for
   * none) it creates the user `admin` on its first start, and the harness logs in over the API
   * so that `fetch` below has a session; without one, it prints a `/setup?token=` address.
   */
  static async start({ adminPassword = randomBytes(12).toString('base64url'), serveArgs = [] } = {}) {
    const d = new Daemon();
    d.adminPassword = adminPassword;
    // More `berth serve` flags, e.g. `--insecure-registry 127.0.0.1:PORT`.
    d.serveArgs = serveArgs;
    d.tmp = await mkdtemp(join(tmpdir(), 'berth-e2e-'));
    d.sock = join(d.tmp, 'berth.sock');
    d.port = await freePort();
    d.base = `http://127.0.0.1:${d.port}`;
    d.containers = [];
    d.logFile = join(d.tmp, 'daemon.log');
    // Its own default bridge and cgroup parent: nothing shared with another daemon, and both
    // go when it stops.
    d.tag = `e${randomBytes(3).toString('hex')}`;
    await d.spawn();
    try {
      await d.ready();
      if (adminPassword) {
        ({ cookie: d.cookie, csrf: d.csrf } = await d.apiLogin('admin', adminPassword));
      }
      await run(TESTKIT, ['images', join(d.tmp, 'img')]);
      await d.berth('load', '-i', join(d.tmp, 'img', 'busybox.tar'));
    } catch (e) {
      await d.stop();
      throw e;
    }
    return d;
  }

  /** Starts `berth serve` on this daemon's data root, port and socket (again, after a stop). */
  async spawn() {
    const d = this;
    const adminPassword = d.adminPassword;
    const log = await open(d.logFile, 'a');
    d.proc = spawn(
      BERTH,
      [
        'serve', '--data-root', join(d.tmp, 'data'), '--listen', `127.0.0.1:${d.port}`, '--socket', d.sock,
        '--bridge-subnet', 'auto', '--bridge-name', `${d.tag}0`, '--bridge-prefix', `${d.tag}-`,
        '--cgroup-parent', `berth-e2e-${d.tag}`,
        ...(d.serveArgs ?? []),
      ],
      {
        stdio: ['ignore', log.fd, log.fd],
        env: adminPassword
          ? { ...process.env, BERTH_ADMIN_PASSWORD: adminPassword }
          : Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'BERTH_ADMIN_PASSWORD')),
      },
    );
    await log.close();
    d.exited = new Promise((ok) => d.proc.once('exit', (code, signal) => ok({ code, signal })));
    d.proc.once('error', () => {});
  }

  /** Waits until the daemon answers (its login page is open to anyone). */
  async ready() {
    const d = this;
    await until('the daemon to answer', async () => {
      if (d.proc.exitCode !== null || d.proc.signalCode !== null) {
        throw new Error(`berth serve exited early:\n${await d.log()}`);
      }
      // The login page is open to anonymous callers.
      const res = await fetch(`${d.base}/login`);
      return res.ok;
    }, 30_000);
  }

  /** Stops the daemon as its service manager would (SIGTERM) and starts it again; running
   * containers keep running meanwhile, and sessions stay valid. */
  async restart() {
    this.proc.kill('SIGTERM');
    await this.exited;
    await this.spawn();
    await this.ready();
  }

  async log() {
    return readFile(this.logFile, 'utf8').catch(() => '');
  }

  /** `POST /api/v1/auth/login`: the session cookie (`berth_session=…`) and its CSRF token. */
  async apiLogin(username, password) {
    const res = await fetch(`${this.base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: this.base },
      body: JSON.stringify({ username, password }),
    });
    if (!res.ok) throw new Error(`login of ${username} answered ${res.status}: ${await res.text()}`);
    const cookie = res.headers.getSetCookie()
      .map((c) => c.split(';')[0])
      .find((c) => c.startsWith('berth_session='));
    if (!cookie) throw new Error(`login of ${username} set no berth_session cookie`);
    const me = await res.json();
    return { cookie, csrf: me.csrf_token };
  }

  /**
   * `fetch` of a path of this daemon with the admin's session: the cookie and `Origin` always,
   * `X-CSRF-Token` on anything but GET and HEAD. `opts.session` = another `apiLogin` answer.
   */
  async fetch(path, opts = {}) {
    const { session = { cookie: this.cookie, csrf: this.csrf }, headers = {}, ...rest } = opts;
    const method = (rest.method ?? 'GET').toUpperCase();
    const h = { Origin: this.base, ...headers };
    if (session?.cookie) h.Cookie = session.cookie;
    if (session?.csrf && method !== 'GET' && method !== 'HEAD') h['X-CSRF-Token'] = session.csrf;
    return fetch(`${this.base}${path}`, { redirect: 'manual', ...rest, headers: h });
  }

  /**
   * Logs `page` in through the login form and waits until the server sent it on to `next`.
   * Throws with the page's error message if the login is refused.
   */
  async login(page, user = 'admin', password = this.adminPassword, next = '/containers') {
    await page.goto(`${this.base}/login?next=${encodeURIComponent(next)}`);
    await page.fill('#login-username', user);
    await page.fill('#login-password', password);
    await Promise.all([
      page.waitForURL((u) => u.pathname !== '/login' || u.searchParams.has('error'), { timeout: 20_000 }),
      page.click('[data-testid="login-submit"]'),
    ]);
    if (new URL(page.url()).pathname === '/login') {
      const why = await page.locator('[data-testid="auth-error"]').textContent().catch(() => '?');
      throw new Error(`login of ${user} was refused: ${why}`);
    }
  }

  /** A line of the daemon's log that contains `what`, once it is there. */
  async logLine(what, ms = 20_000) {
    return until(`a log line with ${what}`, async () =>
      (await this.log()).split('\n').find((l) => l.includes(what)), ms);
  }

  /** Runs the CLI against this daemon with `input` on its stdin; resolves to its stdout. */
  async berthWithInput(input, ...args) {
    return new Promise((ok, fail) => {
      const child = execFile(BERTH, ['-H', `unix://${this.sock}`, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
        if (err) fail(Object.assign(err, { stderr }));
        else ok(stdout.trim());
      });
      child.stdin.end(input);
    });
  }

  /**
   * Adds a user: with the CLI over the socket (`user add NAME --role ROLE --password-stdin`),
   * or, where this CLI has no such command, with `POST /api/v1/users` as the admin.
   */
  async addUser(name, role, password) {
    try {
      await this.berthWithInput(`${password}\n`, 'user', 'add', name, '--role', role, '--password-stdin');
      return 'cli';
    } catch (cliError) {
      const res = await this.fetch('/api/v1/users', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name, role, password }),
      });
      if (!res.ok) {
        throw new Error(`cannot add user ${name}: CLI: ${cliError.stderr ?? cliError.message}; API: ${res.status} ${await res.text()}`);
      }
      return 'api';
    }
  }

  /** Runs the CLI against this daemon; resolves to its trimmed stdout. */
  async berth(...args) {
    const { stdout } = await run(BERTH, ['-H', `unix://${this.sock}`, ...args], { timeout: 60_000 });
    return stdout.trim();
  }

  /** `berth run -d --name <name> <args>`; remembers the container for clean-up; returns its id. */
  async runDetached(name, ...args) {
    this.containers.push(name);
    const out = await this.berth('run', '-d', '--name', name, ...args);
    return out.split('\n').pop().trim();
  }

  /** Deletes this daemon's bridges and its (empty) cgroup parent in every hierarchy. */
  async removeBridgesAndCgroups() {
    const { stdout } = await run('ip', ['-o', 'link', 'show']).catch(() => ({ stdout: '' }));
    for (const line of stdout.split('\n')) {
      const name = line.split(':')[1]?.trim().split('@')[0];
      if (name?.startsWith(this.tag)) await run('ip', ['link', 'del', name]).catch(() => {});
    }
    const parent = `berth-e2e-${this.tag}`;
    const roots = ['/sys/fs/cgroup', ...(await readdir('/sys/fs/cgroup').catch(() => [])).map((h) => join('/sys/fs/cgroup', h))];
    for (const root of roots) await rmdir(join(root, parent)).catch(() => {});
  }

  async stop() {
    for (const name of this.containers) {
      await this.berth('rm', '-f', name).catch(() => {});
    }
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGTERM');
      const killed = await Promise.race([this.exited, sleep(10_000).then(() => null)]);
      if (!killed) {
        this.proc.kill('SIGKILL');
        await this.exited;
      }
    }
    await this.removeBridgesAndCgroups();
    // Never delete through a mount that a container left behind.
    const mounts = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
    const left = mounts.split('\n').filter((l) => l.split(' ')[4]?.startsWith(this.tmp));
    if (left.length) {
      console.error(`berth-e2e: mounts left under ${this.tmp}, not removing it:\n${left.join('\n')}`);
      return;
    }
    await rm(this.tmp, { recursive: true, force: true });
  }
}

/**
 * A daemon (started with `options`) and a browser for the tests of one file: started before
 * the first, stopped after the last. Read `env.daemon` and `env.browser` inside the tests.
 */
export function daemonAndBrowser(options) {
  const env = { daemon: null, browser: null };
  before(async () => {
    env.daemon = await Daemon.start(options);
    env.browser = await openBrowser();
  });
  after(async () => {
    await env.browser?.close();
    await env.daemon?.stop();
  });
  return env;
}

/** Chromium with a page that records console errors, page errors and failed requests. */
export async function openBrowser() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  return browser;
}

export async function watchedPage(browser) {
  const page = await browser.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // A WebSocket or fetch cut short by leaving the page is not a failure of the app.
    const why = r.failure()?.errorText ?? '';
    if (!why.includes('ERR_ABORTED')) problems.push(`request failed: ${r.url()} ${why}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  return { page, problems };
}

/**
 * Saves screenshots of `page` as `<name>-1280.png` (1280×800) and `<name>-390.png` (390×844) in
 * end2end/screenshots/, in the light scheme and, with `dark`, the dark one too (`-dark`).
 */
export async function screenshots(page, name, { dark = false } = {}) {
  await mkdir(SCREENSHOTS, { recursive: true });
  const before = page.viewportSize();
  for (const scheme of dark ? ['light', 'dark'] : ['light']) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const [w, h] of [[1280, 800], [390, 844]]) {
      await page.setViewportSize({ width: w, height: h });
      const suffix = scheme === 'dark' ? '-dark' : '';
      await page.screenshot({ path: join(SCREENSHOTS, `${name}-${w}${suffix}.png`) });
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
  if (before) await page.setViewportSize(before);
}

/** Waits until the wasm has taken over the server-rendered page. */
export async function hydrated(page) {
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30_000 });
}
