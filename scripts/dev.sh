#!/bin/sh
# One entry point for a fresh Debian 12 machine:
#   scripts/dev.sh run [DAEMON OPTIONS]   install, build, run the daemon
#   scripts/dev.sh test                   install, build, run every test,
#                                         then again under ASan and UBSan
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 2)
cmd=${1:-}
[ $# -gt 0 ] && shift

build() {
  dir=$1
  shift
  cmake -S "$root" -B "$dir" -DGS_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
}

case "$cmd" in
run)
  sh "$root/scripts/deps.sh"
  build "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
  exec "$root/build/gitspace-orchestratord" \
    --config "$root/packaging/config.yaml" "$@"
  ;;
test)
  sh "$root/scripts/deps.sh"
  build "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
  ctest --test-dir "$root/build" --output-on-failure -j "$jobs"
  build "$root/build-asan" -DCMAKE_BUILD_TYPE=Debug -DGS_SANITIZE=ON
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$root/build-asan" --output-on-failure -j "$jobs"
  ;;
*)
  echo "usage: scripts/dev.sh run [DAEMON OPTIONS] | test" >&2
  exit 2
  ;;
esac
