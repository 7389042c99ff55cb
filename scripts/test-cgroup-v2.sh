#!/usr/bin/env bash
# Runs the engine's real-container cgroup tests (engine/tests/cgroup_limits.rs) and runtime
# tests (engine/tests/runtime_shim.rs, runtime_devices.rs) on a pure cgroup v2 kernel, inside
# a QEMU VM (scripts/cgroupv2-vm.sh), and fails if any case fails. Installs what it needs (Debian
# packages; the guest kernel is fetched once into ~/.cache). As root.
#
# usage: scripts/test-cgroup-v2.sh [--debug] [-- NAME_FILTER...]
#   --debug   test the debug build (default: release, the build `./dev.sh test` makes)
#   NAME_FILTER  only the cases whose names contain one of these
set -euo pipefail
cd "$(dirname "$0")/.."

PROFILE=(--release)
FILTERS=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --debug) PROFILE=(); shift;;
    --) shift; FILTERS=("$@"); break;;
    *) echo "usage: $0 [--debug] [-- NAME_FILTER...]" >&2; exit 2;;
  esac
done

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

PACKAGES=(qemu-system-x86 busybox-static xz-utils)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

TESTS=(cgroup_limits runtime_shim runtime_devices)
log "building the test binaries (${TESTS[*]})"
args=()
for t in "${TESTS[@]}"; do args+=(--test "$t"); done
json=$(cargo test "${PROFILE[@]}" -p berth-engine "${args[@]}" --no-run --message-format=json-render-diagnostics)
bins=()
for t in "${TESTS[@]}"; do
  bin=$(grep '"reason":"compiler-artifact"' <<<"$json" | grep "\"name\":\"$t\"" |
    grep -o '"executable":"[^"]*"' | tail -1 | cut -d'"' -f4)
  [[ -x $bin ]] || { echo "test-cgroup-v2: no executable for $t" >&2; exit 1; }
  bins+=("$bin")
done

# Inside the guest every binary runs, even after a failure; the status says whether all passed.
run='rc=0; for b in "$@"; do echo "--- $b"; "$b" $BERTH_FILTERS || rc=1; done; exit $rc'
adds=()
for b in "${bins[@]}"; do adds+=(-a "$b"); done
quoted=""
for f in "${FILTERS[@]}"; do quoted+=" $(printf '%q' "$f")"; done
log "running them on a cgroup v2 kernel in QEMU"
start=$(date +%s)
set +e
scripts/cgroupv2-vm.sh "${adds[@]}" -m 1G -c 2 -t 900 -- \
  sh -c "BERTH_FILTERS='${quoted# }'; $run" sh "${bins[@]}"
rc=$?
set -e
log "cgroup v2 VM finished in $(($(date +%s) - start)) s (status $rc)"
exit $rc
