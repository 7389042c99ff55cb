#!/usr/bin/env bash
# build-site.sh: builds the dashboard's browser bundle (wasm + JS glue + CSS, the JS libraries
# of app/js bundled by esbuild, each file also brotli- and gzip-compressed) into target/site,
# offline and idempotently; run it from anywhere before building the `berth` binary in release
# mode, which embeds target/site.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

site="target/site"
name="berth"
wasm="target/wasm32-unknown-unknown/release/app.wasm"
# WASM_BINDGEN names the CLI explicitly; otherwise the one on PATH, or cargo install's.
bindgen="${WASM_BINDGEN:-wasm-bindgen}"
if [ -z "${WASM_BINDGEN:-}" ] && ! command -v wasm-bindgen >/dev/null 2>&1 \
  && [ -x "$HOME/.cargo/bin/wasm-bindgen" ]; then
  bindgen="$HOME/.cargo/bin/wasm-bindgen"
fi

die() { echo "build-site: $*" >&2; exit 1; }

# The CLI and the library must be the very same version, or the glue it writes does not match
# the wasm: read the library's pinned version from the workspace manifest.
want="$(sed -n 's/^wasm-bindgen *= *"=\([0-9.]*\)".*/\1/p' Cargo.toml)"
[ -n "$want" ] || die "cannot find the pinned wasm-bindgen version (wasm-bindgen = \"=X.Y.Z\") in Cargo.toml"
command -v "$bindgen" >/dev/null 2>&1 \
  || die "wasm-bindgen $want is not installed; install it with: cargo install wasm-bindgen-cli --version $want --locked"
have="$("$bindgen" --version | awk '{print $2}')"
[ "$have" = "$want" ] \
  || die "wasm-bindgen CLI is $have but the library is pinned to $want; install it with: cargo install wasm-bindgen-cli --version $want --locked --force"
rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown \
  || die "the wasm32-unknown-unknown target is missing; add it with: rustup target add wasm32-unknown-unknown"
# The JS libraries (xterm.js, uPlot) and esbuild come from app/js's lock file (./dev.sh build
# installs them).
js="app/js"
[ -x "$js/node_modules/.bin/esbuild" ] && [ ! "$js/package-lock.json" -nt "$js/node_modules/.package-lock.json" ] \
  || die "the JS packages of $js are missing or older than its package-lock.json; install them with: (cd $js && npm ci)"

# LEPTOS_OUTPUT_NAME changes the file name the page asks for; the pages name the bundle themselves.
unset LEPTOS_OUTPUT_NAME

# -p keeps the `ssr` feature of the server out of this build (features unify across a workspace build).
cargo build --target wasm32-unknown-unknown --release -p app --lib --features hydrate

# Written to a scratch folder first; only files whose bytes changed are copied over, so that an
# unchanged front end leaves the site's files (and so the release build that embeds them)
# untouched: a rerun of ./dev.sh builds nothing.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/pkg"
"$bindgen" --target web --no-typescript --out-dir "$scratch/pkg" --out-name "$name" "$wasm"
# xterm.js and uPlot with their glue, one file (live.js) loaded by the pages that draw charts
# or open a terminal; their stylesheet (live.css) goes into the one stylesheet below.
"$js/node_modules/.bin/esbuild" "$js/live.js" --bundle --minify --format=iife --target=es2020 \
  --outfile="$scratch/live.js" --log-level=warning
# One stylesheet: the base (berth.css) first, then the libraries', then every other style/*.css
# in name order (a page's or a component's own rules, kept in its own file).
{
  cat style/berth.css
  cat "$scratch/live.css"
  find style -maxdepth 1 -name '*.css' ! -name berth.css -print0 | sort -z | xargs -0 -r cat
} >"$scratch/berth.css"
rm "$scratch/live.css"
# FILE.br and FILE.gz beside each file, served by the binary as the browser asks.
node "$js/compress.mjs" "$scratch" "$site"
appeared=0
changed=()
[ -d "$site/pkg" ] || appeared=1
while IFS= read -r file; do
  if ! cmp -s "$scratch/$file" "$site/$file"; then
    [ -e "$site/$file" ] || appeared=1
    mkdir -p "$(dirname "$site/$file")"
    cp "$scratch/$file" "$site/$file"
    changed+=("$file")
  fi
done < <(cd "$scratch" && find . -type f | sed 's|^\./||')

# rust-embed notices changed files but not a folder or file that appeared after the last build.
if [ "$appeared" = 1 ]; then
  touch server/src/web.rs
fi

if [ "${#changed[@]}" -gt 0 ]; then
  echo "build-site: updated ${changed[*]}"
else
  echo "build-site: unchanged ($(cd "$site" && find . -type f | sort | tr '\n' ' '))"
fi
