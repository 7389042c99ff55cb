#!/usr/bin/env bash
# bench.sh: measures berth against docker, podman, runc and crun in one run (whichever are installed)
# and prints a table of values and ratios; not part of the test command.
#
# usage: scripts/bench.sh [--install-peers] [--runs N] [BENCH…]
#   BENCH: run start50 logs rss pull api fanout stats (default: all, in that order)
#   --install-peers   apt-get install docker.io podman runc crun hyperfine wrk first
#   --runs N          timed runs of `run --rm … true` per engine (default 20)
# Needs root and a release build: scripts/build-site.sh (if target/site is missing), then
# cargo build --release -p berth -p berth-testkit.
#
# Everything the script starts lives under one temp dir and is torn down on exit or Ctrl-C: its
# own `berth serve` (own data root, loopback port, socket, cgroup parent and bridge), its own dockerd (own data root,
# exec root and socket, --iptables=false --bridge=none, so the host network is untouched) unless
# one already runs, podman with its own storage, runc and crun with their own state dirs. A peer that is
# absent or fails to start gets "skipped (reason)" in its column; berth never depends on a peer.
# `run` and `start50` measure berth twice: with --network none (a private network namespace with
# only loopback, which is what `none` gives docker and podman and what `runc spec` gives) and on
# its default bridge (a veth, an address, the bridge's DNS). Peers run with --network none.

set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BERTH_BIN="${BERTH_BIN:-$ROOT/target/release/berth}"
TESTKIT_BIN="${TESTKIT_BIN:-$ROOT/target/release/berth-testkit}"
ALL_BENCHES=(run start50 logs rss pull api fanout stats)
FANOUT_LINES=200000
FANOUT_CLIENTS=100
STATS_CONTAINERS=500
STATS_CLIENTS=10
STATS_WARMUP=10
STATS_SECONDS=30
API_CONTAINERS=1000
PULL_RUNS=3
RUNS=20
CONCURRENT=50
RSS_CONTAINERS=10
LOG_LINES=1000000
INSTALL_PEERS=0
SELECTED=()
PEERS=(docker podman runc crun skopeo)
LABEL="berth-bench=$$"
BERTH_CGROUP="berth-bench-$$"   # the cgroup parent of this run's berth containers
BERTH_BRIDGE="berthb$(( $$ % 100000 ))"   # this run's default bridge, removed at the end

say() { printf '%s\n' "bench: $*" >&2; }
die() { say "$*"; exit 1; }

usage() { sed -n '2,10s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --install-peers) INSTALL_PEERS=1 ;;
    --runs) shift; [[ "${1:-}" =~ ^[1-9][0-9]*$ ]] || die "--runs takes a positive number"; RUNS="$1" ;;
    -h|--help) usage; exit 0 ;;
    -*) usage >&2; die "unknown option $1" ;;
    *)
      [[ " ${ALL_BENCHES[*]} " == *" $1 "* ]] || die "unknown benchmark $1 (have: ${ALL_BENCHES[*]})"
      SELECTED+=("$1") ;;
  esac
  shift
done
[ ${#SELECTED[@]} -gt 0 ] || SELECTED=("${ALL_BENCHES[@]}")
[ "$(id -u)" -eq 0 ] || die "run as root (containers need it)"
[ -x "$BERTH_BIN" ] && [ -x "$TESTKIT_BIN" ] || die "build first: scripts/build-site.sh (if target/site \
is missing), then cargo build --release -p berth -p berth-testkit"

# ---------------------------------------------------------------------------------------------
# results: one row per measured quantity; cells keyed "row|engine"

ROWS=()
declare -A LABELS TARGETS CELLS VERDICTS

# row KEY "label" "target text"
row() { ROWS+=("$1"); LABELS[$1]="$2"; TARGETS[$1]="$3"; }
put() { CELLS["$1|$2"]="$3"; }            # put ROW ENGINE VALUE
skip() { CELLS["$1|$2"]="skipped ($3)"; }  # skip ROW ENGINE REASON
get() { printf '%s' "${CELLS["$1|$2"]:-}"; }
verdict() { VERDICTS[$1]="$2"; }

is_number() { [[ "${1:-}" =~ ^[0-9]+(\.[0-9]+)?$ ]]; }
calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }   # calc EXPR [DECIMALS]
holds() { awk "BEGIN { exit !($1) }"; }                 # holds EXPR: exit 0 when true

now_ns() { date +%s%N; }
ms_since() { calc "($(now_ns) - $1) / 1000000" 0; }     # ms_since START_NS

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

print_table() {
  local engines=(berth "${PEERS[@]}") key e cell base
  printf '\n| %s | %s | %s | %s |\n' "benchmark" "$(IFS='|'; echo "${engines[*]}" | sed 's/|/ | /g')" \
    "target (berth)" "met"
  printf '|%s\n' "$(printf -- '---|%.0s' $(seq 1 $((${#engines[@]} + 3))))"
  for key in "${ROWS[@]}"; do
    printf '| %s ' "${LABELS[$key]}"
    base="$(get "$key" berth)"
    for e in "${engines[@]}"; do
      cell="$(get "$key" "$e")"
      [ -n "$cell" ] || cell="-"
      # A peer's number is followed by how many times berth's it is (>1: berth is faster/smaller).
      if [ "$e" != berth ] && is_number "$cell" && is_number "$base" && holds "$base > 0"; then
        cell="$cell ($(calc "$cell / $base" 1)×)"
      fi
      printf '| %s ' "$cell"
    done
    printf '| %s | %s |\n' "${TARGETS[$key]}" "${VERDICTS[$key]:--}"
  done
  printf '\n(x.x×) = peer / berth, measured in this run. %s, %s cores, %s, %s.\n' \
    "$(date -u +%Y-%m-%d)" "$(nproc)" "$(uname -r)" "$(. /etc/os-release && echo "$PRETTY_NAME")"
}

# ---------------------------------------------------------------------------------------------
# set-up and tear-down

WORK="$(mktemp -d /tmp/berth-bench.XXXXXX)" || die "cannot make a temp dir"
BERTH_PID=""
BERTH_PORT=""
DOCKERD_PID=""
REGISTRY_PID=""
TESTKIT_PID=""  # a berth-testkit WebSocket client running in the background
DOCKER_CMD=()   # docker CLI with its -H, empty when docker is unavailable
PODMAN_CMD=()
RUNC_CMD=()
CRUN_CMD=()
declare -A SKIP_REASON   # engine -> why it is not measured at all
CGROUPS_BEFORE=""

cgroup_parents() {
  ls -d /sys/fs/cgroup/*/docker /sys/fs/cgroup/*/libpod_parent /sys/fs/cgroup/*/machine.slice \
    /sys/fs/cgroup/*/"$BERTH_CGROUP" /sys/fs/cgroup/"$BERTH_CGROUP" 2>/dev/null
}

stop_pid() {   # stop_pid PID: TERM, up to 15 s, then KILL
  local pid="$1" i
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}

cleanup() {
  trap - EXIT INT TERM
  say "cleaning up"
  local id
  stop_pid "$TESTKIT_PID"
  if [ -n "$BERTH_PID" ]; then
    for id in $(berth ps -aq 2>/dev/null); do berth rm -f "$id" >/dev/null 2>&1; done
    stop_pid "$BERTH_PID"
    ip link delete "$BERTH_BRIDGE" 2>/dev/null
  fi
  if [ ${#DOCKER_CMD[@]} -gt 0 ]; then
    for id in $("${DOCKER_CMD[@]}" ps -aq --filter "label=$LABEL" 2>/dev/null); do
      "${DOCKER_CMD[@]}" rm -f "$id" >/dev/null 2>&1
    done
  fi
  stop_pid "$DOCKERD_PID"
  if [ ${#PODMAN_CMD[@]} -gt 0 ]; then
    "${PODMAN_CMD[@]}" rm -af >/dev/null 2>&1
  fi
  if [ ${#RUNC_CMD[@]} -gt 0 ]; then
    for id in $("${RUNC_CMD[@]}" list -q 2>/dev/null); do "${RUNC_CMD[@]}" delete -f "$id" >/dev/null 2>&1; done
  fi
  # Anything still mounted under the work dir (docker/podman storage), deepest first.
  awk -v w="$WORK" '$2 == w || index($2, w "/") == 1 { print $2 }' /proc/self/mounts | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null; done
  # Parent cgroups docker or podman created (only if they were not there before), empty ones only.
  local dir
  for dir in $(cgroup_parents); do
    if ! grep -qxF "$dir" <<<"$CGROUPS_BEFORE"; then
      find "$dir" -depth -type d -exec rmdir {} \; 2>/dev/null
    fi
  done
  stop_pid "$REGISTRY_PID"
  stop_pid "${CRUN_NS_PID:-}"
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'say "interrupted (SIGINT)"; exit 130' INT
trap 'say "terminated (SIGTERM)"; exit 143' TERM
CGROUPS_BEFORE="$(cgroup_parents)"

install_peers() {
  say "installing peers: docker.io podman runc crun hyperfine wrk"
  DEBIAN_FRONTEND=noninteractive apt-get install -y docker.io podman runc crun hyperfine wrk >"$WORK/apt.log" 2>&1 \
    || { say "apt-get install failed (see below); going on with what is installed"; tail -5 "$WORK/apt.log" >&2; }
}

berth() { "$BERTH_BIN" -H "unix://$WORK/berth/b.sock" "$@"; }

free_port() {
  local port
  for port in $(shuf -i 20000-60000 -n 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return 0; }
  done
  return 1
}

start_berth() {
  mkdir -p "$WORK/berth"
  local port i
  port="$(free_port)" || die "no free loopback port"
  BERTH_PORT="$port"
  # Its own session, as a daemon would be: nothing it signals can reach this script's group.
  setsid "$BERTH_BIN" serve --data-root "$WORK/berth/data" --listen "127.0.0.1:$port" \
    --cgroup-parent "$BERTH_CGROUP" --bridge-name "$BERTH_BRIDGE" --bridge-subnet auto --insecure-registry "127.0.0.1:$REG_PORT" --socket "$WORK/berth/b.sock" >"$WORK/berth/serve.log" 2>&1 &
  BERTH_PID=$!
  for i in $(seq 1 300); do
    [ -S "$WORK/berth/b.sock" ] && berth ps >/dev/null 2>&1 && break
    kill -0 "$BERTH_PID" 2>/dev/null || { cat "$WORK/berth/serve.log" >&2; die "berth serve exited"; }
    sleep 0.1
  done
  berth ps >/dev/null 2>&1 || die "berth serve did not come up"
}

# The image every engine runs: the project's busybox test image, one docker-save tar.
build_image() {
  "$TESTKIT_BIN" images "$WORK/img" >"$WORK/img.txt" 2>&1 || { cat "$WORK/img.txt" >&2; die "berth-testkit failed"; }
  IMAGE_TAR="$WORK/img/busybox.tar"
  [ -f "$IMAGE_TAR" ] || die "berth-testkit wrote no busybox.tar"
}

# load_image CMD…: runs `CMD load -i busybox.tar` and prints the image name it reports.
load_image() {
  local out
  out="$("$@" load -i "$IMAGE_TAR" 2>&1)" || { printf '%s\n' "$out" | tail -3 >&2; return 1; }
  printf '%s\n' "$out" | sed -n 's/^Loaded image[^:]*: *//p' | tail -1
}

setup_docker() {
  local cli dockerd_bin i
  command -v docker >/dev/null || { SKIP_REASON[docker]="not installed"; return; }
  if docker info >/dev/null 2>&1; then
    say "docker: using the running daemon (containers labelled $LABEL are removed at the end)"
    DOCKER_CMD=(docker)
  else
    dockerd_bin="$(command -v dockerd)" || { SKIP_REASON[docker]="no daemon, dockerd not installed"; return; }
    # The CLI shipped with dockerd speaks its API version; fall back to whichever is on PATH.
    cli="$(dirname "$dockerd_bin")/docker"; [ -x "$cli" ] || cli="$(command -v docker)"
    mkdir -p "$WORK/docker"
    say "docker: starting a private dockerd under $WORK/docker"
    setsid "$dockerd_bin" --data-root "$WORK/docker/data" --exec-root "$WORK/docker/exec" \
      --pidfile "$WORK/docker/dockerd.pid" -H "unix://$WORK/docker/docker.sock" \
      --iptables=false --ip-masq=false --ip-forward=false --bridge=none --log-level=warn \
      --insecure-registry "127.0.0.1:$REG_PORT" \
      >"$WORK/docker/dockerd.log" 2>&1 &
    DOCKERD_PID=$!
    DOCKER_CMD=("$cli" -H "unix://$WORK/docker/docker.sock")
    for i in $(seq 1 600); do
      "${DOCKER_CMD[@]}" info >/dev/null 2>&1 && break
      kill -0 "$DOCKERD_PID" 2>/dev/null || break
      sleep 0.1
    done
    if ! "${DOCKER_CMD[@]}" info >/dev/null 2>&1; then
      tail -3 "$WORK/docker/dockerd.log" >&2
      SKIP_REASON[docker]="dockerd did not start"; DOCKER_CMD=(); stop_pid "$DOCKERD_PID"; DOCKERD_PID=""
      return
    fi
  fi
  DOCKER_IMAGE="$(load_image "${DOCKER_CMD[@]}")" && [ -n "$DOCKER_IMAGE" ] \
    || SKIP_REASON[docker]="docker load failed"
}

setup_podman() {
  command -v podman >/dev/null || { SKIP_REASON[podman]="not installed"; return; }
  mkdir -p "$WORK/podman/tmp"
  PODMAN_CMD=(podman --root "$WORK/podman/root" --runroot "$WORK/podman/run" --tmpdir "$WORK/podman/tmp"
    --cgroup-manager cgroupfs --events-backend file --storage-driver overlay --log-level error)
  if ! "${PODMAN_CMD[@]}" info >"$WORK/podman/info.log" 2>&1; then
    tail -3 "$WORK/podman/info.log" >&2
    SKIP_REASON[podman]="podman info failed"; return
  fi
  PODMAN_IMAGE="$(load_image "${PODMAN_CMD[@]}")" && [ -n "$PODMAN_IMAGE" ] \
    || { SKIP_REASON[podman]="podman load failed"; return; }
  # As root podman asks for RLIMIT_NOFILE 1048576 and RLIMIT_NPROC 32768; where root lacks
  # CAP_SYS_RESOURCE (a sandbox) runc cannot raise them and every start fails. Then ask for
  # limits this host can grant; limits do not change what is measured.
  PODMAN_ULIMITS=""
  if ! "${PODMAN_CMD[@]}" run --rm --network none "$PODMAN_IMAGE" true >"$WORK/podman/probe.log" 2>&1; then
    PODMAN_ULIMITS="--ulimit nofile=$(ulimit -Hn):$(ulimit -Hn) --ulimit nproc=4096:4096"
    # shellcheck disable=SC2086
    if ! "${PODMAN_CMD[@]}" run --rm --network none $PODMAN_ULIMITS "$PODMAN_IMAGE" true >>"$WORK/podman/probe.log" 2>&1; then
      tail -3 "$WORK/podman/probe.log" >&2
      SKIP_REASON[podman]="podman run failed"
    fi
  fi
}

# runc and crun: one bundle made from the same busybox rootfs (the layers of busybox.tar, in
# order) and `runc spec` (or `crun spec`), changed to run `true` without a terminal.
setup_bundle() {
  local b="$WORK/oci/bundle" x="$WORK/oci/extract" layer spec
  command -v runc >/dev/null && spec=runc
  [ -z "${spec:-}" ] && command -v crun >/dev/null && spec=crun
  [ -n "${spec:-}" ] || { BUNDLE_SKIP="not installed"; return; }
  mkdir -p "$b/rootfs" "$x"
  tar -xf "$IMAGE_TAR" -C "$x" manifest.json || { BUNDLE_SKIP="no manifest.json in busybox.tar"; return; }
  for layer in $(grep -o '"Layers": *\[[^]]*\]' "$x/manifest.json" | grep -o '"[^"]*"' | sed 1d | tr -d '"'); do
    tar -xOf "$IMAGE_TAR" "$layer" | tar -x -C "$b/rootfs" || { BUNDLE_SKIP="cannot unpack $layer"; return; }
  done
  [ -x "$b/rootfs/bin/true" ] || [ -L "$b/rootfs/bin/true" ] || { BUNDLE_SKIP="bundle has no /bin/true"; return; }
  (cd "$b" && "$spec" spec) || { BUNDLE_SKIP="$spec spec failed"; return; }
  sed -i -e 's/"terminal": true/"terminal": false/' -e 's/^\([[:space:]]*\)"sh"$/\1"true"/' "$b/config.json"
  OCI_BUNDLE="$b"
}

setup_runc() {
  command -v runc >/dev/null || { SKIP_REASON[runc]="not installed"; return; }
  [ -n "${OCI_BUNDLE:-}" ] || { SKIP_REASON[runc]="${BUNDLE_SKIP:-no bundle}"; return; }
  mkdir -p "$WORK/runc/state"
  RUNC_CMD=(runc --root "$WORK/runc/state")
}

setup_crun() {
  command -v crun >/dev/null || { SKIP_REASON[crun]="not installed"; return; }
  [ -n "${OCI_BUNDLE:-}" ] || { SKIP_REASON[crun]="${BUNDLE_SKIP:-no bundle}"; return; }
  mkdir -p "$WORK/crun/state"
  CRUN_CMD=(crun --root "$WORK/crun/state")
  crun_probe && return
  # crun 1.8 refuses a hybrid cgroup host whose v2 hierarchy has controllers ("cgroups in
  # hybrid mode not supported"). In a mount namespace of its own without that hierarchy it
  # sees a v1 host, whose controllers are the ones berth uses here too: a process holds the
  # namespace, and crun's runs are timed inside it (timing `nsenter crun` would add an exec).
  if grep -q ' /sys/fs/cgroup/unified cgroup2 ' /proc/self/mounts; then
    unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified && exec sleep infinity' \
      </dev/null >/dev/null 2>&1 &
    CRUN_NS_PID=$!
    sleep 0.2
    if kill -0 "$CRUN_NS_PID" 2>/dev/null && crun_probe; then
      say "crun: timed in a mount namespace without the v2 hierarchy (hybrid host)"
      return
    fi
  fi
  SKIP_REASON[crun]="crun run failed: $(head -c 80 "$WORK/crun/probe.log" | head -1)"
  CRUN_CMD=()
}

# in_crun_ns CMD…: CMD in crun's mount namespace when it has one, else as it is.
in_crun_ns() {
  if [ -n "${CRUN_NS_PID:-}" ]; then nsenter -t "$CRUN_NS_PID" -m "$@"; else "$@"; fi
}

crun_probe() {
  in_crun_ns "${CRUN_CMD[@]}" run --bundle "$OCI_BUNDLE" "bench-probe-$$" >"$WORK/crun/probe.log" 2>&1
}

# median_ms_crun ARGS…: median_ms of `crun ARGS…`, the whole timing loop inside crun's
# namespace (see setup_crun).
median_ms_crun() {
  if [ -z "${CRUN_NS_PID:-}" ]; then median_ms "${CRUN_CMD[@]}" "$@"; return; fi
  local args; printf -v args '%q ' "${CRUN_CMD[@]}" "$@"
  nsenter -t "$CRUN_NS_PID" -m env RUNS="$RUNS" WORK="$WORK" bash -c \
    "$(declare -f calc now_ns ms_since median_ms); median_ms $args"
}

# ---------------------------------------------------------------------------------------------
# helpers shared by the benchmarks

# engine_cli ENGINE: the command prefix that drives ENGINE (empty for runc and skipped peers).
engine_cli() {
  case "$1" in
    berth) echo "$BERTH_BIN -H unix://$WORK/berth/b.sock" ;;
    docker) [ ${#DOCKER_CMD[@]} -gt 0 ] && echo "${DOCKER_CMD[*]}" ;;
    podman) [ ${#PODMAN_CMD[@]} -gt 0 ] && echo "${PODMAN_CMD[*]}" ;;
  esac
}
# run flags and image of ENGINE for `CLI run FLAGS IMAGE CMD…`; berth's network is $2
# (none, or bridge: its default).
engine_run() {
  case "$1" in
    berth) [ "${2:-none}" = none ] && echo "--network none $BERTH_IMAGE" || echo "$BERTH_IMAGE" ;;
    docker) echo "--network none --label $LABEL $DOCKER_IMAGE" ;;
    podman) echo "--network none --log-driver k8s-file $PODMAN_ULIMITS $PODMAN_IMAGE" ;;
  esac
}
available() {   # available ENGINE: true when ENGINE can be measured
  [ "$1" = berth ] || [ -z "${SKIP_REASON[$1]:-}" ]
}

# median_ms CMD…: median wall time of RUNS runs (after 2 warm-ups), in ms; hyperfine when installed.
median_ms() {
  if command -v hyperfine >/dev/null; then
    local json="$WORK/hyperfine.json"
    hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$json" "$*" >/dev/null 2>"$WORK/hyperfine.err" \
      || { tail -3 "$WORK/hyperfine.err" >&2; return 1; }
    calc "$(sed -n 's/^ *"median": *\([0-9.eE+-]*\),*$/\1/p' "$json" | head -1) * 1000" 1
  else
    local i t0 times=()
    for i in 1 2; do "$@" </dev/null >/dev/null 2>&1 || return 1; done
    for i in $(seq 1 "$RUNS"); do
      t0="$(now_ns)"; "$@" </dev/null >/dev/null 2>&1 || return 1; times+=("$(ms_since "$t0")")
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
  fi
}

# shim_pid ENGINE ID: the per-container monitor process of container ID.
shim_pid() {
  case "$1" in
    berth) pgrep -f "berth(-shim)? shim .*/containers/$2[^/]*/shim.json" | head -1 ;;
    docker) pgrep -f "containerd-shim-runc-v2 .*-id $2" | head -1 ;;
    podman) pgrep -f "conmon .*$2" | head -1 ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# the benchmarks: one function each

# `run --rm IMAGE true`: median wall time; runc and crun run a prepared bundle. berth twice:
# --network none (row run) and its default bridge (row runbr).
bench_run() {
  row run "run --rm true, --network none, median ms" "≤ 2× crun, ≤ docker/10"
  row runbr "run --rm true, berth's default bridge, median ms" "≤ 1.5× berth's none"
  local e cli ms
  for e in berth docker podman; do
    available "$e" || { skip run "$e" "${SKIP_REASON[$e]}"; continue; }
    cli="$(engine_cli "$e")"
    say "run: $e ($RUNS runs)"
    # shellcheck disable=SC2046 # the CLI and flags are word lists on purpose
    if ms="$(median_ms $cli run --rm $(engine_run "$e" none) true)"; then put run "$e" "$ms"
    else skip run "$e" "run failed"; fi
  done
  say "run: berth on its default bridge ($RUNS runs)"
  # shellcheck disable=SC2046
  if ms="$(median_ms $(engine_cli berth) run --rm $(engine_run berth bridge) true)"; then put runbr berth "$ms"
  else skip runbr berth "run failed"; fi
  for e in docker podman runc crun; do skip runbr "$e" "bridge not measured"; done
  for e in runc crun; do
    local -n oci_cmd="${e^^}_CMD"
    if available "$e" && [ ${#oci_cmd[@]} -gt 0 ]; then
      say "run: $e ($RUNS runs)"
      local timer=(median_ms "${oci_cmd[@]}")
      [ "$e" = crun ] && timer=(median_ms_crun)
      if ms="$("${timer[@]}" run --bundle "$OCI_BUNDLE" "bench-$$")"; then put run "$e" "$ms"
      else skip run "$e" "$e run failed"; fi
    else
      skip run "$e" "${SKIP_REASON[$e]:-not set up}"
    fi
  done
  local b d c br ok=""
  b="$(get run berth)"; d="$(get run docker)"; c="$(get run crun)"; br="$(get runbr berth)"
  is_number "$b" || { verdict run "✗ (berth failed)"; return; }
  is_number "$c" && { holds "$b <= 2 * $c" && ok+="crun ✓ " || ok+="crun ✗ "; }
  is_number "$d" && { holds "$b <= $d / 10" && ok+="docker ✓" || ok+="docker ✗"; }
  verdict run "${ok:-(no peer)}"
  if is_number "$br"; then
    holds "$br <= 1.5 * $b" && verdict runbr "✓ ($(calc "$br / $b" 2)×)" || verdict runbr "✗ ($(calc "$br / $b" 2)×)"
  fi
}

# count_running ENGINE: how many of this run's containers are running.
count_running() {
  case "$1" in
    berth) berth ps -q 2>/dev/null | wc -l ;;
    docker) "${DOCKER_CMD[@]}" ps -q --filter "label=$LABEL" 2>/dev/null | wc -l ;;
    podman) "${PODMAN_CMD[@]}" ps -q 2>/dev/null | wc -l ;;
  esac
}
remove_all() {
  local id
  case "$1" in
    berth)
      # In parallel, 8 removals of up to 50 containers at a time.
      berth ps -aq 2>/dev/null | xargs -r -P 8 -n 50 "$BERTH_BIN" -H "unix://$WORK/berth/b.sock" rm -f >/dev/null 2>&1 ;;
    docker) "${DOCKER_CMD[@]}" ps -aq --filter "label=$LABEL" | xargs -r "${DOCKER_CMD[@]}" rm -f >/dev/null 2>&1 ;;
    podman) "${PODMAN_CMD[@]}" rm -af >/dev/null 2>&1 ;;
  esac
}

# start50_once ENGINE NETWORK: seconds until CONCURRENT parallel `run -d` all run (empty on failure).
start50_once() {
  local e="$1" net="$2" cli i t0 n pids=()
  cli="$(engine_cli "$e")"
  remove_all "$e"
  t0="$(now_ns)"
  for i in $(seq 1 "$CONCURRENT"); do
    # shellcheck disable=SC2046
    $cli run -d $(engine_run "$e" "$net") sleep 3600 >/dev/null 2>>"$WORK/start50-$e.err" &
    pids+=($!)
  done
  wait "${pids[@]}"
  n=0
  for i in $(seq 1 1200); do
    n="$(count_running "$e")"; [ "$n" -ge "$CONCURRENT" ] && break; sleep 0.05
  done
  if [ "$n" -ge "$CONCURRENT" ]; then calc "$(ms_since "$t0") / 1000" 2
  else
    say "start50 $e: $n/$CONCURRENT running after 60 s"
    sort "$WORK/start50-$e.err" 2>/dev/null | uniq -c | head -3 | sed "s/^/bench: start50 $e: /" >&2
  fi
  remove_all "$e"
}

# 50 `run -d` in parallel; the clock stops when all 50 are running. berth with --network none
# (row start50) and on its default bridge (row start50br).
bench_start50() {
  row start50 "$CONCURRENT concurrent run -d, --network none, s until all running" "≤ 1 s"
  row start50br "$CONCURRENT concurrent run -d, berth's default bridge, s" "≤ 1.5× berth's none"
  local e s
  for e in berth docker podman; do
    available "$e" || { skip start50 "$e" "${SKIP_REASON[$e]}"; continue; }
    say "start50: $e"
    s="$(start50_once "$e" none)"
    if is_number "$s"; then put start50 "$e" "$s"; else skip start50 "$e" "not all running"; fi
  done
  say "start50: berth on its default bridge"
  s="$(start50_once berth bridge)"
  if is_number "$s"; then put start50br berth "$s"; else skip start50br berth "not all running"; fi
  for e in runc crun; do skip start50 "$e" "no daemon"; skip start50br "$e" "no daemon"; done
  for e in docker podman; do skip start50br "$e" "bridge not measured"; done
  local b br; b="$(get start50 berth)"; br="$(get start50br berth)"
  if is_number "$b"; then holds "$b <= 1" && verdict start50 "✓" || verdict start50 "✗"; fi
  if is_number "$b" && is_number "$br"; then
    holds "$br <= 1.5 * $b" && verdict start50br "✓ ($(calc "$br / $b" 2)×)" || verdict start50br "✗ ($(calc "$br / $b" 2)×)"
  fi
}

# log_files ENGINE ID: the files that hold ID's log.
log_files() {
  local p
  case "$1" in
    berth) ls -d "$WORK/berth/data/containers/$2"*/container.log* 2>/dev/null ;;
    docker) "${DOCKER_CMD[@]}" inspect -f '{{.LogPath}}' "$2" 2>/dev/null ;;
    podman)
      p="$("${PODMAN_CMD[@]}" inspect -f '{{.HostConfig.LogConfig.Path}}' "$2" 2>/dev/null)"
      [ -n "$p" ] && [ "$p" != "<no value>" ] || p="$("${PODMAN_CMD[@]}" inspect -f '{{.LogPath}}' "$2" 2>/dev/null)"
      echo "$p" ;;
  esac
}

# `seq 1 1000000` in a container: time to capture it (run -d until wait returns), time to read
# it back with `logs`, and the log's bytes on disk over the raw output's.
bench_logs() {
  row logs_capture "seq 1 $LOG_LINES: run -d + wait, s" "-"
  row logs_read "… read back with logs, s" "≥ 10× faster than docker"
  row logs_disk "… log bytes on disk / raw bytes" "≤ 2"
  local e cli id t0 raw files bytes lines r
  seq 1 "$LOG_LINES" >"$WORK/seq.txt"
  raw="$(stat -c %s "$WORK/seq.txt")"
  for e in berth docker podman; do
    if ! available "$e"; then
      for r in logs_capture logs_read logs_disk; do skip "$r" "$e" "${SKIP_REASON[$e]}"; done
      continue
    fi
    cli="$(engine_cli "$e")"
    say "logs: $e"
    t0="$(now_ns)"
    # shellcheck disable=SC2046
    id="$($cli run -d $(engine_run "$e") seq 1 "$LOG_LINES" 2>"$WORK/logs-$e.err" | tail -1)"
    if [ -z "$id" ] || ! $cli wait "$id" >/dev/null 2>>"$WORK/logs-$e.err"; then
      for r in logs_capture logs_read logs_disk; do skip "$r" "$e" "run failed"; done
      continue
    fi
    put logs_capture "$e" "$(calc "$(ms_since "$t0") / 1000" 2)"
    t0="$(now_ns)"
    $cli logs "$id" >"$WORK/logs-$e.out" 2>&1
    put logs_read "$e" "$(calc "$(ms_since "$t0") / 1000" 2)"
    lines="$(wc -l <"$WORK/logs-$e.out")"
    cmp -s "$WORK/logs-$e.out" "$WORK/seq.txt" \
      || say "logs: $e read back $lines lines that differ from seq's output"
    files="$(log_files "$e" "$id")"
    if [ -n "$files" ]; then
      # shellcheck disable=SC2086
      bytes="$(stat -c %s $files | awk '{ s += $1 } END { print s + 0 }')"
      put logs_disk "$e" "$(calc "$bytes / $raw" 2)"
    else
      skip logs_disk "$e" "log file not found"
    fi
    $cli rm -f "$id" >/dev/null 2>&1
    rm -f "$WORK/logs-$e.out"
  done
  for r in logs_capture logs_read logs_disk; do skip "$r" runc "no log capture"; skip "$r" crun "no log capture"; done
  local b d
  b="$(get logs_read berth)"; d="$(get logs_read docker)"
  if is_number "$b" && is_number "$d"; then holds "$b * 10 <= $d" && verdict logs_read "✓" || verdict logs_read "✗"; fi
  b="$(get logs_disk berth)"
  if is_number "$b"; then holds "$b <= 2" && verdict logs_disk "✓" || verdict logs_disk "✗"; fi
}

# Resident memory: the daemon(s) idle, and the per-container monitor (berth's shim, docker's
# containerd-shim-runc-v2, podman's conmon) averaged over RSS_CONTAINERS sleeping containers.
bench_rss() {
  row rss_daemon "daemon idle RSS, MiB" "≤ 30"
  row rss_shim "RSS per running container (shim), MiB" "≤ 1.5"
  local e cli i id pid kib total n
  for e in berth docker podman; do
    if ! available "$e"; then skip rss_daemon "$e" "${SKIP_REASON[$e]}"; skip rss_shim "$e" "${SKIP_REASON[$e]}"; continue; fi
    cli="$(engine_cli "$e")"
    say "rss: $e"
    remove_all "$e"
    sleep 1
    case "$e" in
      berth) kib="$(rss_kib "$BERTH_PID")" ;;
      docker)
        # dockerd plus the containerd it needs (its own, or the system's).
        if [ -n "$DOCKERD_PID" ]; then pid="$DOCKERD_PID"; else pid="$(pgrep -x dockerd | head -1)"; fi
        kib="$(rss_kib "$pid")"
        pid="$(pgrep -P "${DOCKERD_PID:-1}" -x containerd | head -1)"
        [ -n "$pid" ] || pid="$(pgrep -x containerd | head -1)"
        [ -n "$pid" ] && [ -n "$kib" ] && kib="$((kib + $(rss_kib "$pid")))" ;;
      podman) kib="" ;;
    esac
    if [ -n "$kib" ]; then put rss_daemon "$e" "$(calc "$kib / 1024" 1)"
    elif [ "$e" = podman ]; then skip rss_daemon podman "daemonless"
    else skip rss_daemon "$e" "daemon not found"; fi
    total=0; n=0
    for i in $(seq 1 "$RSS_CONTAINERS"); do
      # shellcheck disable=SC2046
      id="$($cli run -d $(engine_run "$e") sleep 3600 2>/dev/null | tail -1)"
      [ -n "$id" ] || continue
      pid="$(shim_pid "$e" "$id")"
      [ -n "$pid" ] || continue
      kib="$(rss_kib "$pid")"; [ -n "$kib" ] || continue
      total=$((total + kib)); n=$((n + 1))
    done
    if [ "$n" -gt 0 ]; then put rss_shim "$e" "$(calc "$total / $n / 1024" 2)"
    else skip rss_shim "$e" "no shim found"; fi
    remove_all "$e"
  done
  skip rss_daemon runc "no daemon"; skip rss_shim runc "no shim"
  skip rss_daemon crun "no daemon"; skip rss_shim crun "no shim"
  local b
  b="$(get rss_daemon berth)"; is_number "$b" && { holds "$b <= 30" && verdict rss_daemon "✓" || verdict rss_daemon "✗"; }
  b="$(get rss_shim berth)"; is_number "$b" && { holds "$b <= 1.5" && verdict rss_shim "✓" || verdict rss_shim "✗"; }
}

# The authenticated container list as the dashboard and scripts read it: API_CONTAINERS created
# containers, `GET /api/v1/containers` with an API token over loopback TCP, wrk with 2 threads
# and 32 connections for 10 s; requests per second and the 99th percentile latency. Figures for
# berth only (wrk speaks TCP, docker's API is on a unix socket).
bench_api() {
  row api_rps "GET /api/v1/containers (${API_CONTAINERS} containers, token), req/s" "≥ 2000"
  row api_p99 "… p99 latency, ms" "≤ 25"
  local e
  for e in "${PEERS[@]}"; do skip api_rps "$e" "berth's API"; skip api_p99 "$e" "berth's API"; done
  if ! command -v wrk >/dev/null; then
    skip api_rps berth "wrk not installed (--install-peers)"; skip api_p99 berth "wrk not installed"
    return
  fi
  say "api: creating $API_CONTAINERS containers"
  remove_all berth
  seq 1 "$API_CONTAINERS" | xargs -P 4 -I{} "$BERTH_BIN" -H "unix://$WORK/berth/b.sock" \
    create --network none -l "$LABEL" "$BERTH_IMAGE" true >/dev/null 2>&1
  local n token out rps p99
  n="$(berth ps -a -q | wc -l)"
  token="$(berth token create --name bench --role viewer 2>/dev/null)"
  [ -n "$token" ] || { skip api_rps berth "no token"; skip api_p99 berth "no token"; return; }
  say "api: $n containers; wrk for 10 s"
  out="$(wrk -t2 -c32 -d10s --latency -H "Authorization: Bearer $token" \
    "http://127.0.0.1:$BERTH_PORT/api/v1/containers" 2>&1)"
  rps="$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' <<<"$out")"
  p99="$(awk '$1 == "99%" { v = $2; if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /us$/) { sub(/us$/, "", v); v = v / 1000 } else if (v ~ /s$/) { sub(/s$/, "", v); v = v * 1000 } printf "%.1f", v }' <<<"$out")"
  if is_number "$rps" && is_number "$p99"; then
    put api_rps berth "$rps"; put api_p99 berth "$p99"
    holds "$rps >= 2000" && verdict api_rps "✓" || verdict api_rps "✗"
    holds "$p99 <= 25" && verdict api_p99 "✓" || verdict api_p99 "✗"
  else
    say "wrk said: $out"; skip api_rps berth "wrk failed"; skip api_p99 berth "wrk failed"
  fi
  remove_all berth
}

# kv FILE KEY: the value of KEY in a berth-testkit `key value` report.
kv() { awk -v k="$2" '$1 == k { print $2; exit }' "$1" 2>/dev/null; }

# skip_peers ROW…: berth-only rows; the peers' cells say so.
skip_peers() {
  local r e
  for r in "$@"; do for e in "${PEERS[@]}"; do skip "$r" "$e" "berth's API"; done; done
}

# One container prints FANOUT_LINES numbered lines (the number, then 50 characters) as fast as
# busybox sh can, and FANOUT_CLIENTS viewers follow its log from the start over /api/v1/ws
# (berth-testkit ws-fanout, a viewer token; a client told it lagged resumes from its cursor).
# Lines delivered per second summed over the clients, from their subscribing to the last line
# delivered; whether each client got every line exactly once, and whether End came before its
# last line (the client then waits up to 2 s for the rest); GET /api/v1/containers timed
# every 100 ms meanwhile; the daemon's RSS before (container not yet run) and its peak during
# (VmHWM after resetting it with clear_refs, and VmRSS sampled every 50 ms).
bench_fanout() {
  row fanout_rate "$FANOUT_LINES log lines to $FANOUT_CLIENTS WS clients, lines/s delivered (sum)" "-"
  row fanout_exact "… clients that got every line exactly once" "all"
  row fanout_early "… clients whose End came before their last line" "0"
  row fanout_api "… GET /api/v1/containers meanwhile, median ms (max)" "-"
  row fanout_rss "… daemon RSS growth (peak − before), MiB" "≤ 64"
  local rows=(fanout_rate fanout_exact fanout_early fanout_api fanout_rss) r
  skip_peers "${rows[@]}"
  remove_all berth
  local token id before peak kib hwm="" rc out="$WORK/fanout.out"
  token="$(berth token create --name bench-fanout --role viewer 2>/dev/null)"
  [ -n "$token" ] || { for r in "${rows[@]}"; do skip "$r" berth "no token"; done; return; }
  before="$(rss_kib "$BERTH_PID")"
  echo 5 >"/proc/$BERTH_PID/clear_refs" 2>/dev/null && hwm=1   # VmHWM := VmRSS
  id="$(berth run -d --network none "$BERTH_IMAGE" sh -c "pad=$(printf 'x%.0s' $(seq 1 50)); i=1; \
while [ \$i -le $FANOUT_LINES ]; do echo \"\$i \$pad\"; i=\$((i+1)); done" 2>"$WORK/fanout.err" | tail -1)"
  [ -n "$id" ] || { for r in "${rows[@]}"; do skip "$r" berth "run failed"; done; return; }
  say "fanout: $FANOUT_CLIENTS clients follow $FANOUT_LINES lines"
  "$TESTKIT_BIN" ws-fanout --url "ws://127.0.0.1:$BERTH_PORT/api/v1/ws" --token "$token" \
    --container "$id" --expect "$FANOUT_LINES" --clients "$FANOUT_CLIENTS" --pid "$BERTH_PID" >"$out" 2>>"$WORK/fanout.err" &
  TESTKIT_PID=$!
  peak="$before"
  while kill -0 "$TESTKIT_PID" 2>/dev/null; do
    kib="$(rss_kib "$BERTH_PID")"; [ -n "$kib" ] && [ "$kib" -gt "$peak" ] && peak="$kib"
    sleep 0.05
  done
  wait "$TESTKIT_PID"; rc=$?; TESTKIT_PID=""
  if [ -n "$hwm" ]; then
    hwm="$(awk '/^VmHWM:/ { print $2 }' "/proc/$BERTH_PID/status")"
    [ -n "$hwm" ] && [ "$hwm" -gt "$peak" ] && peak="$hwm"
  fi
  sed 's/^/bench: fanout: /' "$out" >&2
  if [ "$rc" -ne 0 ] || ! is_number "$(kv "$out" lines_per_s)"; then
    tail -3 "$WORK/fanout.err" >&2
    for r in "${rows[@]}"; do skip "$r" berth "ws-fanout failed"; done
    remove_all berth; return
  fi
  put fanout_rate berth "$(kv "$out" lines_per_s)"
  put fanout_exact berth "$(kv "$out" exact_clients)/$FANOUT_CLIENTS (lagged $(kv "$out" lagged))"
  [ "$(kv "$out" exact_clients)" = "$FANOUT_CLIENTS" ] && verdict fanout_exact "✓" || verdict fanout_exact "✗"
  put fanout_early berth "$(kv "$out" early_end)"
  [ "$(kv "$out" early_end)" = 0 ] && verdict fanout_early "✓" || verdict fanout_early "✗"
  if is_number "$(kv "$out" api_p50_ms)"; then
    put fanout_api berth "$(kv "$out" api_p50_ms) ($(kv "$out" api_max_ms), $(kv "$out" api_probes) calls)"
  else
    skip fanout_api berth "no call answered"
  fi
  local growth; growth="$(calc "($peak - $before) / 1024" 1)"
  put fanout_rss berth "$growth ($(calc "$before / 1024" 1) → $(calc "$peak / 1024" 1))"
  holds "$growth <= 64" && verdict fanout_rss "✓" || verdict fanout_rss "✗"
  remove_all berth
}

# STATS_CONTAINERS running `sleep 3600` containers; the daemon's CPU (utime + stime over
# STATS_SECONDS, % of one core) with no viewer, with one and with STATS_CLIENTS viewers that
# each subscribe, over /api/v1/ws, to the stats of every container and to the host's
# (berth-testkit ws-stats, after STATS_WARMUP s; one viewer's cost is mostly the hub's
# samplers, which all viewers share); and the points each of the STATS_CLIENTS viewers got per
# container per second (the hub samples once a second).
bench_stats() {
  row stats_cpu0 "$STATS_CONTAINERS running containers, no viewer: daemon CPU, % of one core" "-"
  row stats_cpu1 "… 1 WS viewer of all their stats + host stats: daemon CPU, % of one core" "-"
  row stats_cpu "… $STATS_CLIENTS such viewers: daemon CPU, % of one core" "≤ 5"
  row stats_rate "… points/s per container per viewer, mean (lowest)" "≈ 1"
  row stats_cli "… \`stats --no-stream\` of all of them (first screen), median ms" "≤ 1000"
  local rows=(stats_cpu0 stats_cpu1 stats_cpu stats_rate stats_cli) r
  skip_peers "${rows[@]}"
  remove_all berth
  say "stats: starting $STATS_CONTAINERS containers"
  seq 1 "$STATS_CONTAINERS" | xargs -P 4 -I{} "$BERTH_BIN" -H "unix://$WORK/berth/b.sock" \
    run -d --network none -l "$LABEL" "$BERTH_IMAGE" sleep 3600 >/dev/null 2>>"$WORK/stats.err"
  local ids="$WORK/stats-ids.txt" n token out="$WORK/stats.out"
  berth ps -q >"$ids" 2>/dev/null
  n="$(wc -l <"$ids")"
  if [ "$n" -lt "$STATS_CONTAINERS" ]; then
    sort "$WORK/stats.err" 2>/dev/null | uniq -c | head -3 | sed 's/^/bench: stats: /' >&2
    for r in "${rows[@]}"; do skip "$r" berth "$n/$STATS_CONTAINERS running"; done
    remove_all berth; return
  fi
  # The CLI's one screen of every container (issue 13: 31 s for 300 before sampling at once).
  say "stats: \`stats --no-stream\` of $n containers (5 runs)"
  local cli_ms
  if cli_ms="$(RUNS=5 median_ms "$BERTH_BIN" -H "unix://$WORK/berth/b.sock" stats --no-stream)"; then
    put stats_cli berth "$cli_ms"
    holds "$cli_ms <= 1000" && verdict stats_cli "✓" || verdict stats_cli "✗"
  else
    skip stats_cli berth "stats failed"
  fi
  token="$(berth token create --name bench-stats --role viewer 2>/dev/null)"
  [ -n "$token" ] || { for r in "${rows[@]}"; do skip "$r" berth "no token"; done; remove_all berth; return; }
  local ws=(--url "ws://127.0.0.1:$BERTH_PORT/api/v1/ws" --token "$token" --containers "$ids"
    --pid "$BERTH_PID" --seconds "$STATS_SECONDS")
  # One ws-stats run per "VIEWERS ROW WARM-UP-SECONDS"; its daemon CPU goes to ROW.
  local run cpu rate low
  for run in "0 stats_cpu0 5" "1 stats_cpu1 $STATS_WARMUP" "$STATS_CLIENTS stats_cpu $STATS_WARMUP"; do
    # shellcheck disable=SC2086 # three words on purpose
    set -- $run
    say "stats: $1 viewer(s) × $n containers (${3} s warm-up, $STATS_SECONDS s measured)"
    if ! "$TESTKIT_BIN" ws-stats "${ws[@]}" --clients "$1" --warmup "$3" >"$out" 2>>"$WORK/stats.err"; then
      tail -3 "$WORK/stats.err" >&2; skip "$2" berth "ws-stats failed"; continue
    fi
    sed "s/^/bench: stats: $1 viewer(s): /" "$out" >&2
    put "$2" berth "$(kv "$out" cpu_percent)"
  done
  cpu="$(get stats_cpu berth)"
  if is_number "$cpu"; then
    holds "$cpu <= 5" && verdict stats_cpu "✓" || verdict stats_cpu "✗"
    rate="$(kv "$out" points_per_s_per_container)"; low="$(kv "$out" min_points_per_s)"
    put stats_rate berth "$rate ($low)"
    if [ "$(kv "$out" errors)" = 0 ] && holds "$rate >= 0.9 && $rate <= 1.1 && $low >= 0.8"; then
      verdict stats_rate "✓"
    else
      verdict stats_rate "✗"
    fi
  else
    skip stats_rate berth "ws-stats failed"
  fi
  say "stats: removing $n containers"
  remove_all berth
}

# Pull of a ~200 MB, 5-layer gzip image (random and text data, many small files) from a
# docker-registry on loopback, from a cold store each time (image removed, page cache
# dropped): median of PULL_RUNS, in MB/s of compressed bytes. skopeo copies to a `dir:`.
# berth's "pull timings" log lines (its daemon log) say where its time went.
bench_pull() {
  row pull "pull ~200 MB image from loopback registry, MB/s" "> docker"
  local e ref="127.0.0.1:$REG_PORT/bench/big:1" bytes i ms times
  if ! command -v docker-registry >/dev/null || ! command -v skopeo >/dev/null; then
    for e in berth docker skopeo; do skip pull "$e" "needs docker-registry and skopeo"; done
    return
  fi
  say "pull: building the image"
  bytes="$(python3 "$ROOT/scripts/bench-image.py" "$WORK/pullimg" 5)" || { skip pull berth "image build failed"; return; }
  mkdir -p "$WORK/registry"
  printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
    "$WORK/registry/data" "$REG_PORT" >"$WORK/registry/config.yml"
  setsid docker-registry serve "$WORK/registry/config.yml" >"$WORK/registry/log" 2>&1 &
  REGISTRY_PID=$!
  for i in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$REG_PORT") 2>/dev/null && break; sleep 0.1; done
  if ! skopeo copy -q --dest-tls-verify=false "oci:$WORK/pullimg" "docker://$ref" >"$WORK/registry/push.log" 2>&1; then
    tail -3 "$WORK/registry/push.log" >&2; skip pull berth "push to the registry failed"; return
  fi
  for e in berth docker skopeo; do
    [ "$e" = docker ] && ! available docker && { skip pull docker "${SKIP_REASON[docker]}"; continue; }
    say "pull: $e ($PULL_RUNS runs)"
    times=()
    for i in $(seq 1 "$PULL_RUNS"); do ms="$(pull_once "$e" "$ref")" || break; times+=("$ms"); done
    if [ ${#times[@]} -eq "$PULL_RUNS" ]; then
      ms="$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((PULL_RUNS + 1) / 2))p")"
      put pull "$e" "$(calc "$bytes / 1000000 / ($ms / 1000)" 1)"
      say "pull: $e: $((bytes / 1000000)) MB in ${times[*]} ms"
    else
      tail -3 "$WORK/pull-$e.err" >&2; skip pull "$e" "pull failed"
    fi
  done
  skip pull podman "not measured"; skip pull runc "no registry client"; skip pull crun "no registry client"
  grep -a 'pull layer timings\|pull timings' "$WORK/berth/serve.log" | tail -6 |
    sed 's/\x1b\[[0-9;]*m//g; s/^.*INFO [^ ]* //; s/^/bench: berth /' >&2
  # Values are MB/s here (higher is better): a peer ratio below 1× means berth is faster.
  local b d; b="$(get pull berth)"; d="$(get pull docker)"
  if is_number "$b" && is_number "$d"; then holds "$b > $d" && verdict pull "✓" || verdict pull "✗"; fi
}

# pull_once ENGINE REF: one pull of REF into ENGINE's emptied store; prints its wall ms.
pull_once() {
  local t0
  case "$1" in
    berth) berth rmi -f "$2" >/dev/null 2>&1 ;;
    docker) "${DOCKER_CMD[@]}" rmi -f "$2" >/dev/null 2>&1 ;;
    skopeo) rm -rf "$WORK/skopeo-dir" ;;
  esac
  sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null
  t0="$(now_ns)"
  case "$1" in
    berth) berth pull -q "$2" >/dev/null 2>>"$WORK/pull-$1.err" ;;
    docker) "${DOCKER_CMD[@]}" pull -q "$2" >/dev/null 2>>"$WORK/pull-$1.err" ;;
    skopeo) skopeo copy -q --src-tls-verify=false "docker://$2" "dir:$WORK/skopeo-dir" 2>>"$WORK/pull-$1.err" ;;
  esac || return 1
  ms_since "$t0"
}

# ---------------------------------------------------------------------------------------------
# driver

[ "$INSTALL_PEERS" -eq 1 ] && install_peers
say "work dir $WORK"
REG_PORT="$(free_port)" || die "no free loopback port"
build_image
start_berth
BERTH_IMAGE="$(load_image berth)" && [ -n "$BERTH_IMAGE" ] || die "berth load failed"
setup_docker
setup_podman
setup_bundle
setup_runc
setup_crun
for p in "${PEERS[@]}"; do
  [ -n "${SKIP_REASON[$p]:-}" ] && say "$p: skipped (${SKIP_REASON[$p]})"
done
for b in "${SELECTED[@]}"; do "bench_$b"; done
print_table
