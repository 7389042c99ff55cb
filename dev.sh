#!/usr/bin/env bash
# The one entry point for building, running and testing berth on a Debian 12 machine, as root:
#   ./dev.sh run    install what is missing, build, and start berth (dashboard + engine)
#   ./dev.sh test   install what is missing, build, and run every test
#   ./dev.sh build  install what is missing and build target/release/berth
# Installs are idempotent and cached: a rerun only builds what changed.
set -euo pipefail
cd "$(dirname "$0")"

WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen pin in Cargo.toml
APT_PACKAGES=(busybox-static chromium ca-certificates gcc skopeo docker-registry openssl iproute2 libseccomp-dev)   # skopeo: reads saved archives and pushes test images; docker-registry, openssl: registry tests (TLS, tokens); iproute2: network tests look for leftover links; libseccomp-dev: the engine links libseccomp to compile seccomp filters

# Each step says how long the command has run so far (CI has a time budget).
log() { printf '\033[1m==> [%dm%02ds] %s\033[0m\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*" >&2; }

install_deps() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # Node.js may come from elsewhere than Debian (e.g. NodeSource): only ask apt when absent.
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  if ((${#missing[@]})); then
    log "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  if ! command -v cargo >/dev/null; then
    echo "cargo is missing: install Rust with rustup first" >&2
    exit 1
  fi
  if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
    log "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
    log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
    cargo install wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION"
  fi
}

# The dashboard's JS libraries (xterm.js, uPlot) and their bundler, from app/js's lock file;
# again only when the lock file changed.
install_js() {
  if [ ! -d app/js/node_modules ] || [ app/js/package-lock.json -nt app/js/node_modules/.package-lock.json ]; then
    log "installing the dashboard's JS packages (npm)"
    (cd app/js && npm ci --no-audit --no-fund)
  fi
}

build() {
  install_deps
  install_js
  log "building the web front end (wasm)"
  scripts/build-site.sh
  log "building berth (release)"
  cargo build --release -p berth -p berth-testkit
}

install_e2e() {
  if [ ! -d end2end/node_modules ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    log "installing end-to-end test packages (npm)"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
}

case "${1:-}" in
  build)
    build
    ;;
  run)
    build
    shift
    exec target/release/berth serve "$@"
    ;;
  test)
    build
    install_e2e
    log "unit and integration tests (real containers, this host's cgroups)"
    scripts/check-features.sh
    cargo test --release --workspace
    log "cgroup v2: the engine's cgroup and runtime tests on a pure cgroup v2 kernel (QEMU)"
    scripts/test-cgroup-v2.sh
    log "end-to-end tests (Chromium)"
    (cd end2end && npm test)
    log "all tests passed"
    ;;
  *)
    echo "usage: ./dev.sh run|test|build" >&2
    exit 2
    ;;
esac
