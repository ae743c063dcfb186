#!/usr/bin/env bash
# Drives gitspace-orchestratord and the h2_echo baseline with h2load, in
# interleaved rounds, and prints a Markdown summary for bench/RESULTS.md.
set -euo pipefail

usage() {
  cat <<EOF
usage: $0 [options] [BUILD_DIR]

BUILD_DIR (default: build) is a cmake build directory of the project. The
daemon is BUILD_DIR/gitspace-orchestratord; the baseline is
BUILD_DIR/bench/h2_echo or BUILD_DIR/bench-baseline/h2_echo, and if neither
exists bench/ alone is configured and built into BUILD_DIR/bench-baseline.

  -d PATH   daemon binary
  -b PATH   baseline binary (h2_echo)
  -C OPT    the daemon's option naming its config file (default: --config)
  -r N      rounds, each runs every shape on both servers (default: 7)
  -1 N      requests per run at -c1 -m1 (default: 50000)
  -4 N      requests per run at -c4 -m100 (default: 200000)
  -P        skip the extra runs that log each request for p50/p99
  -B        baseline only: do not start the daemon
  -h        this help
EOF
}

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
daemon=""
baseline=""
config_opt="--config"
rounds=7
n_c1=50000
n_c4=200000
percentiles=1
with_daemon=1

while getopts "d:b:C:r:1:4:PBh" opt; do
  case "$opt" in
  d) daemon=$OPTARG ;;
  b) baseline=$OPTARG ;;
  C) config_opt=$OPTARG ;;
  r) rounds=$OPTARG ;;
  1) n_c1=$OPTARG ;;
  4) n_c4=$OPTARG ;;
  P) percentiles=0 ;;
  B) with_daemon=0 ;;
  h)
    usage
    exit 0
    ;;
  *)
    usage >&2
    exit 2
    ;;
  esac
done
shift $((OPTIND - 1))
build_dir=${1:-build}

readonly uri="http://localhost/grpc.health.v1.Health/Check"
readonly shapes=("c1m1" "c4m100")

# shellcheck source=lib.sh source-path=SCRIPTDIR disable=SC1091
. "$bench_dir/lib.sh"

# ---- setup ------------------------------------------------------------------

command -v h2load >/dev/null ||
  die "h2load not found: apt-get install nghttp2-client"

find_baseline() {
  local candidate

  for candidate in "$build_dir/bench/h2_echo" \
    "$build_dir/bench-baseline/h2_echo"; do
    if [[ -x $candidate ]]; then
      echo "$candidate"
      return
    fi
  done
  echo "building the baseline into $build_dir/bench-baseline" >&2
  cmake -S "$bench_dir" -B "$build_dir/bench-baseline" \
    -DCMAKE_BUILD_TYPE=Release >&2
  cmake --build "$build_dir/bench-baseline" >&2
  echo "$build_dir/bench-baseline/h2_echo"
}

[[ -n $baseline ]] || baseline=$(find_baseline)
[[ -x $baseline ]] || die "baseline $baseline is not executable"
if ((with_daemon)); then
  [[ -n $daemon ]] || daemon="$build_dir/gitspace-orchestratord"
  [[ -x $daemon ]] || die "daemon $daemon is not executable (-d PATH)"
fi

work=$(mktemp -d /tmp/gs-bench.XXXXXX)
declare -A pid=()
declare -A sock=()

cleanup() {
  local name

  for name in "${!pid[@]}"; do
    kill "${pid[$name]}" 2>/dev/null || true
    wait "${pid[$name]}" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

# The request: a gRPC frame holding an empty HealthCheckRequest.
printf '\x00\x00\x00\x00\x00' >"$work/request.bin"
cat >"$work/config.yaml" <<'EOF'
log:
  level: warn
EOF

# ---- the servers ------------------------------------------------------------

# start_server NAME COMMAND...: runs it, waits for its socket to appear.
start_server() {
  local name=$1 i
  shift

  "$@" >"$work/$name.log" 2>&1 &
  pid[$name]=$!
  for ((i = 0; i < 100; i++)); do
    if [[ -S ${sock[$name]} ]]; then
      return 0
    fi
    if ! kill -0 "${pid[$name]}" 2>/dev/null; then
      break
    fi
    sleep 0.05
  done
  echo "run.sh: $name did not open ${sock[$name]}; its output:" >&2
  cat "$work/$name.log" >&2
  exit 1
}

# ---- h2load -----------------------------------------------------------------

# h2load_run NAME SHAPE N [EXTRA...]: one h2load run; output in $work/out.
h2load_run() {
  local name=$1 shape=$2 n=$3
  local -a args
  shift 3

  read -ra args <<<"$(shape_args "$shape")"
  h2load -B "unix:${sock[$name]}" "${args[@]}" -n "$n" \
    -d "$work/request.bin" -H 'content-type: application/grpc' \
    -H 'te: trailers' "$@" "$uri" >"$work/out" 2>&1
}

# verify NAME: checks the answer bytes and trailer, then a short h2load run.
verify() {
  local name=$1 got

  if command -v curl >/dev/null; then
    curl -sS --http2-prior-knowledge --unix-socket "${sock[$name]}" \
      -H 'content-type: application/grpc' -H 'te: trailers' \
      --data-binary "@$work/request.bin" -D "$work/headers" \
      -o "$work/body" "$uri" || die "$name: curl failed"
    got=$(od -An -tx1 "$work/body" | tr -d ' \n')
    [[ $got == 00000000020801 ]] ||
      die "$name: body is '$got', want 00000000020801"
    grep -qi '^grpc-status: 0' "$work/headers" ||
      die "$name: no grpc-status: 0 in $(tr -d '\r' <"$work/headers")"
  fi
  h2load_run "$name" c1m1 1000
  if ! h2load_ok 1000; then
    cat "$work/out" >&2
    die "$name: not every request of the check run succeeded"
  fi
}

# ---- the rounds -------------------------------------------------------------

# measure NAME SHAPE ROUND: appends one line to $work/results.
measure() {
  local name=$1 shape=$2 round=$3 n cpu0 cpu1 rps mean cpu p="- -"

  n=$(shape_requests "$shape")
  if [[ -e $work/$name.failed ]]; then
    return
  fi

  cpu0=$(cpu_ns "${pid[$name]}")
  h2load_run "$name" "$shape" "$n"
  cpu1=$(cpu_ns "${pid[$name]}" 2>/dev/null || echo "$cpu0")
  if ! h2load_ok "$n" || ! kill -0 "${pid[$name]}" 2>/dev/null; then
    fail "$name" "$shape" "$round"
    return
  fi
  read -r rps mean <<<"$(h2load_parse)"
  cpu=$(awk -v a="$cpu0" -v b="$cpu1" -v n="$n" \
    'BEGIN { printf "%.2f", (b - a) / 1000 / n }')

  if ((percentiles)); then
    # h2load appends to an existing log file.
    rm -f "$work/requests.log"
    h2load_run "$name" "$shape" "$n" "--log-file=$work/requests.log"
    if ! h2load_ok "$n" ||
      ! p=$(log_percentiles "$work/requests.log"); then
      fail "$name" "$shape" "$round"
      return
    fi
  fi
  echo "$name $shape $round $rps $mean $p $cpu" >>"$work/results"
  printf '  round %d %-8s %-6s %10.0f req/s  mean %8.1f us  p50/p99 %s us\n' \
    "$round" "$name" "$shape" "$rps" "$mean" "${p/ //}" >&2
}

# fail NAME SHAPE ROUND: keeps the evidence and stops measuring NAME.
fail() {
  local alive="alive"

  kill -0 "${pid[$1]}" 2>/dev/null || alive="exited"
  {
    echo "run.sh: $1 failed at $2, round $3 (process $alive)"
    echo "--- h2load output"
    cat "$work/out"
    echo "--- last lines of $1's output"
    tail -n 20 "$work/$1.log"
  } | tee -a "$work/failures" >&2
  touch "$work/$1.failed"
}

# ---- the report -------------------------------------------------------------

# ratio SHAPE COLUMN, paired SHAPE COLUMN: daemon/baseline, see lib.sh.
ratio() {
  ratio_of_medians daemon baseline "$1" "$2"
}

paired() {
  paired_ratios daemon baseline "$1" "$2" "$work/results"
}

report_shape() {
  local shape=$1 name args

  args=$(shape_args "$shape")
  for name in daemon baseline; do
    if [[ -z ${pid[$name]:-} ]]; then
      continue
    fi
    printf "| \`%s\` | %s | %s | %s | %s | %s | %s |\n" "$args" "$name" \
      "$(stat "$name" "$shape" 4)" "$(stat "$name" "$shape" 5)" \
      "$(stat "$name" "$shape" 6)" "$(stat "$name" "$shape" 7)" \
      "$(stat "$name" "$shape" 8)"
  done
  if [[ -n ${pid[daemon]:-} ]]; then
    printf "| \`%s\` | daemon/baseline | %s | %s | %s | %s | %s |\n" "$args" \
      "$(ratio "$shape" 4)" "$(ratio "$shape" 5)" "$(ratio "$shape" 6)" \
      "$(ratio "$shape" 7)" "$(ratio "$shape" 8)"
  fi
}

report_memory() {
  local name

  echo "| server | VmRSS idle | VmRSS after load | VmHWM after load |"
  echo "|---|---|---|---|"
  for name in daemon baseline; do
    if [[ -n ${pid[$name]:-} ]]; then
      echo "| $name | ${rss_idle[$name]} | ${rss_after[$name]} |" \
        "${hwm_after[$name]} |"
    fi
  done
}

report_targets() {
  local r idle

  [[ -n ${pid[daemon]:-} ]] || return 0
  r=$(ratio c4m100 4)
  idle=${rss_idle[daemon]}
  echo "- throughput at \`-c4 -m100\` >= 70% of the baseline:" \
    "$(awk -v r="$r" 'BEGIN {
      if (r == "n/a") { print "n/a" } else {
        printf "%.0f%% -> %s\n", r * 100, (r >= 0.70 ? "met" : "NOT met")
      } }')"
  echo "- per-round req/s ratios at \`-c4 -m100\`, sorted:"
  echo "  $(paired c4m100 4)"
  echo "- idle VmRSS < 4 MiB (4096 KiB): ${idle} ->" \
    "$(awk -v k="$idle" 'BEGIN { print (k + 0 < 4096 ? "met" : "NOT met") }')"
}

# ---- main -------------------------------------------------------------------

declare -A rss_idle=() rss_after=() hwm_after=()
servers=()
if ((with_daemon)); then
  servers+=(daemon)
  sock[daemon]="$work/daemon.sock"
  start_server daemon "$daemon" --socket "${sock[daemon]}" \
    "$config_opt" "$work/config.yaml"
fi
servers+=(baseline)
sock[baseline]="$work/baseline.sock"
start_server baseline "$baseline" "${sock[baseline]}"

# Idle memory is read once the sockets are up and before any request.
sleep 0.5
for name in "${servers[@]}"; do
  rss_idle[$name]="$(proc_field "${pid[$name]}" VmRSS) KiB"
done
for name in "${servers[@]}"; do
  verify "$name"
done

load_before=$(background_load)
started=$(date +%s)
read -r jiffies0 _ steal0 <<<"$(cpu_jiffies)"
: >"$work/results"
for ((round = 1; round <= rounds; round++)); do
  # Alternate which server goes first so drift in the machine cancels.
  order=("${servers[@]}")
  if ((round % 2 == 0)) && ((${#servers[@]} == 2)); then
    order=("${servers[1]}" "${servers[0]}")
  fi
  for shape in "${shapes[@]}"; do
    for name in "${order[@]}"; do
      measure "$name" "$shape" "$round"
    done
  done
done
elapsed=$(($(date +%s) - started))
read -r jiffies1 _ steal1 <<<"$(cpu_jiffies)"
load_after=$(background_load)
steal=$(awk -v t=$((jiffies1 - jiffies0)) -v s=$((steal1 - steal0)) \
  'BEGIN { printf "%.1f", (t > 0 ? 100 * s / t : 0) }')

for name in "${servers[@]}"; do
  if kill -0 "${pid[$name]}" 2>/dev/null; then
    rss_after[$name]="$(proc_field "${pid[$name]}" VmRSS) KiB"
    hwm_after[$name]="$(proc_field "${pid[$name]}" VmHWM) KiB"
  else
    rss_after[$name]="(exited)"
    hwm_after[$name]="(exited)"
  fi
done

cat <<EOF

## Results

- date: $(date -u '+%Y-%m-%d %H:%M UTC')
- machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' \
  /proc/cpuinfo), Linux $(uname -r)
- load: $(h2load --version | head -n1), \`h2load -B unix:SOCK -n N -c C -m M\`
  \`-d req.bin -H 'content-type: application/grpc' -H 'te: trailers'\`
  \`$uri\`; req.bin is \`00 00 00 00 00\`
- requests per run: $n_c1 at \`-c1 -m1\`, $n_c4 at \`-c4 -m100\`;
  $rounds rounds, servers alternating first; timed part took ${elapsed}s,
  with ${steal}% of the machine's CPU time stolen by the hypervisor;
  background load (a 1 s sample with no benchmark running, 100% = one CPU):
  $load_before before, $load_after after
- daemon: ${daemon:-not run} \`--socket SOCK $config_opt FILE\`,
  FILE = \`log: {level: warn}\`
- baseline: $baseline (bench/baseline/h2_echo.c)

Each cell is the median over rounds, then [min, max]. Mean latency is
h2load's "time for request" mean. p50/p99 come from a second run of the
same shape with \`--log-file\` (the log slows h2load itself, so those runs
are not the ones timed for req/s). CPU is the server's own CPU time per
request (/proc/PID/task/*/schedstat), which does not depend on how fast
h2load is.
The ratio row divides the daemon's median by the baseline's.

| shape | server | req/s | mean (us) | p50 (us) | p99 (us) | CPU (us/req) |
|---|---|---|---|---|---|---|
EOF
for shape in "${shapes[@]}"; do
  report_shape "$shape"
done
echo
report_memory
echo
report_targets
if [[ -s $work/failures ]]; then
  echo
  echo "### Failures"
  echo
  echo '```'
  cat "$work/failures"
  echo '```'
  exit 1
fi
