// compress.mjs SCRATCH SITE: writes FILE.br (brotli, quality 11) and FILE.gz (gzip -9) beside
// every compressible file of the site being built in SCRATCH, so the berth binary serves them
// precompressed (server/src/web.rs). Both encoders are deterministic (gzip's header carries no
// time), and a file whose bytes equal SITE's copy takes SITE's variants instead of being
// compressed again: an unchanged front end costs no compression and changes no file.
import { readdir, readFile, writeFile, copyFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

const [scratch, site] = process.argv.slice(2);
if (!scratch || !site) {
  console.error('usage: compress.mjs SCRATCH SITE');
  process.exit(2);
}
const COMPRESSIBLE = /\.(js|mjs|css|wasm|html|svg|json|txt|map)$/;
/** Files smaller than this gain nothing worth a second copy. */
const MIN_BYTES = 512;

async function* files(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

async function same(a, b) {
  try {
    const [x, y] = await Promise.all([readFile(a), readFile(b)]);
    return x.equals(y);
  } catch {
    return false;
  }
}

async function exists(path) {
  return stat(path).then(() => true, () => false);
}

let compressed = 0;
let reused = 0;
for await (const path of files(scratch)) {
  if (!COMPRESSIBLE.test(path)) continue;
  const bytes = await readFile(path);
  if (bytes.length < MIN_BYTES) continue;
  const old = join(site, relative(scratch, path));
  if ((await same(path, old)) && (await exists(`${old}.br`)) && (await exists(`${old}.gz`))) {
    await copyFile(`${old}.br`, `${path}.br`);
    await copyFile(`${old}.gz`, `${path}.gz`);
    reused += 1;
    continue;
  }
  const br = brotliCompressSync(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      [constants.BROTLI_PARAM_MODE]: path.endsWith('.wasm') ? constants.BROTLI_MODE_GENERIC : constants.BROTLI_MODE_TEXT,
    },
  });
  await writeFile(`${path}.br`, br);
  await writeFile(`${path}.gz`, gzipSync(bytes, { level: 9 }));
  compressed += 1;
}
console.error(`compress: ${compressed} compressed, ${reused} unchanged`);
