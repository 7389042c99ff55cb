#!/usr/bin/env bash
# check-features.sh: fails when `cargo test --workspace` would build a crate of the berth binary
# with other features than `cargo build -p berth -p berth-testkit` (what ./dev.sh run and build
# do). Cargo turns on dev-dependencies' features only in test builds; where those reach a crate
# the binary uses, every crate above it is compiled twice, and a `./dev.sh run` after
# `./dev.sh test` rebuilds berth. server/Cargo.toml turns such features on for the binary too.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# "name version|features" for each crate in a dependency tree (repeats marked (*) dropped).
features() {
  cargo tree --locked "$@" -f '{p}|{f}' --prefix none 2>/dev/null \
    | grep -v ' (\*)$' | sed -E 's/^([^ ]+ [^ ]+)[^|]*\|/\1|/' | sort -u
}

binary="$(features -p berth -p berth-testkit -e normal,build)" \
  || { echo "check-features: cargo tree failed" >&2; exit 1; }
tests="$(features --workspace -e normal,build,dev)" \
  || { echo "check-features: cargo tree failed" >&2; exit 1; }

# A crate of the binary whose feature sets differ in the test build.
drift="$(comm -13 <(printf '%s\n' "$binary") <(printf '%s\n' "$tests") | cut -d'|' -f1 | sort -u \
  | comm -12 - <(printf '%s\n' "$binary" | cut -d'|' -f1 | sort -u))"
if [ -n "$drift" ]; then
  echo "check-features: the test build turns on other features of these crates than the binary's build:" >&2
  while IFS= read -r crate; do
    echo "  $crate" >&2
    echo "    binary: $(printf '%s\n' "$binary" | grep -F "$crate|" | cut -d'|' -f2 | paste -sd' ')" >&2
    echo "    tests:  $(printf '%s\n' "$tests" | grep -F "$crate|" | cut -d'|' -f2 | paste -sd' ')" >&2
  done <<<"$drift"
  echo "turn those features on in server/Cargo.toml's [dependencies] too (see the comment there)" >&2
  exit 1
fi
echo "check-features: cargo build and cargo test resolve the same features"
