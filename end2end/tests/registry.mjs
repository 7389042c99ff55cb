// registry.mjs: a real registry for the end-to-end tests — Debian's `docker-registry` on a
// free 127.0.0.1 port with its storage in a temp dir — and `skopeo` to put test images in it.
// Everything it starts and writes goes in `stop()`.
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, mkdir, writeFile, rm, open } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, until } from './harness.mjs';

const run = promisify(execFile);
const REGISTRY = process.env.DOCKER_REGISTRY_BIN ?? '/usr/bin/docker-registry';

function answers(port) {
  return new Promise((ok) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); ok(true); });
    socket.once('error', () => ok(false));
  });
}

export class Registry {
  /** Starts a registry (plain HTTP, no auth, deletes enabled) on a free loopback port. */
  static async start() {
    const r = new Registry();
    r.dir = await mkdtemp(join(tmpdir(), 'berth-e2e-registry-'));
    r.port = await freePort();
    r.host = `127.0.0.1:${r.port}`;
    const storage = join(r.dir, 'storage');
    await mkdir(storage);
    const config = join(r.dir, 'config.yml');
    await writeFile(config, [
      'version: 0.1',
      'log:', '  level: warn', '  accesslog:', '    disabled: true',
      'storage:', '  filesystem:', `    rootdirectory: ${storage}`, '  delete:', '    enabled: true',
      'http:', `  addr: ${r.host}`, '',
    ].join('\n'));
    const log = await open(join(r.dir, 'registry.log'), 'a');
    r.proc = spawn(REGISTRY, ['serve', config], { stdio: ['ignore', 'ignore', log.fd] });
    await log.close();
    r.exited = new Promise((ok) => r.proc.once('exit', ok));
    r.proc.once('error', () => {});
    try {
      await until('the registry to listen', async () => {
        if (r.proc.exitCode !== null) throw new Error('docker-registry exited early');
        return answers(r.port);
      }, 20_000, 50);
    } catch (e) {
      await r.stop();
      throw e;
    }
    return r;
  }

  /** Copies an OCI layout (`oci:DIR`) to `repository:tag` in this registry. */
  async push(source, target) {
    await run('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', source, `docker://${this.host}/${target}`], { timeout: 60_000 });
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGTERM');
      await this.exited;
    }
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
