#!/usr/bin/env bash
# ResolveImage with a warm registry cache against Health/Check, both on one
# gitspace-orchestratord, driven by h2load in interleaved rounds; prints a
# Markdown summary for bench/RESULTS.md (progress goes to stderr).
set -euo pipefail

usage() {
  cat <<EOF
usage: $0 [options] [BUILD_DIR]

BUILD_DIR (default: build) is a cmake build directory of the project; the
daemon is BUILD_DIR/gitspace-orchestratord. A docker-registry (Debian's
docker-registry, no auth) is started on 127.0.0.1 by
tests/integration/registry_harness.py, through bench/resolve_helper.py.

  -d PATH   daemon binary
  -y PATH   Python with grpcio and protobuf (default: /usr/bin/python3)
  -r N      rounds, each runs every shape for both calls (default: 7)
  -1 N      requests per run at -c1 -m1 (default: 30000)
  -4 N      requests per run at -c4 -m100 (default: 150000)
  -t PCT    target: ResolveImage req/s at least PCT % of Health's
            (default: 90)
  -P        skip the extra runs that log each request for p50/p99
  -h        this help
EOF
}

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
helper="$bench_dir/resolve_helper.py"
daemon=""
python=/usr/bin/python3
rounds=7
n_c1=30000
n_c4=150000
target=90
percentiles=1

while getopts "d:y:r:1:4:t:Ph" opt; do
  case "$opt" in
  d) daemon=$OPTARG ;;
  y) python=$OPTARG ;;
  r) rounds=$OPTARG ;;
  1) n_c1=$OPTARG ;;
  4) n_c4=$OPTARG ;;
  t) target=$OPTARG ;;
  P) percentiles=0 ;;
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

readonly shapes=("c1m1" "c4m100")
readonly calls=("resolve" "health")
declare -A uri=(
  [resolve]="http://localhost/gitspace.orchestrator.v1.Orchestrator/ResolveImage"
  [health]="http://localhost/grpc.health.v1.Health/Check"
)
# Bytes of one answer's body (gRPC frame included), from the curl check;
# h2load's "data" total of a run must be exactly N times this.
declare -A body_len=()

# shellcheck source=lib.sh source-path=SCRIPTDIR disable=SC1091
. "$bench_dir/lib.sh"

# ---- setup ------------------------------------------------------------------

command -v h2load >/dev/null ||
  die "h2load not found: apt-get install nghttp2-client"
command -v curl >/dev/null || die "curl not found: apt-get install curl"
command -v protoc >/dev/null ||
  die "protoc not found: apt-get install protobuf-compiler"
"$python" -c 'import grpc, google.protobuf' 2>/dev/null ||
  die "$python lacks grpcio or protobuf: apt-get install python3-grpcio" \
    "python3-protobuf (or -y PATH)"
[[ -n $daemon ]] || daemon="$build_dir/gitspace-orchestratord"
[[ -x $daemon ]] || die "daemon $daemon is not executable (-d PATH)"

work=$(mktemp -d /tmp/gs-bench-resolve.XXXXXX)
sock="$work/daemon.sock"
daemon_pid=""
helper_pid=""

# stop_helper: SIGTERM makes the helper write registry.count and stop the
# registry.
stop_helper() {
  if [[ -n $helper_pid ]]; then
    kill "$helper_pid" 2>/dev/null || true
    wait "$helper_pid" 2>/dev/null || true
    helper_pid=""
  fi
}

cleanup() {
  if [[ -n $daemon_pid ]]; then
    kill "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
  fi
  stop_helper
  rm -rf "$work"
}
trap cleanup EXIT

# env_value FILE KEY: the value of a KEY=value line.
env_value() {
  awk -F= -v k="$2" '$1 == k { sub(/^[^=]*=/, ""); print; exit }' "$1"
}

# ---- the registry and the daemon --------------------------------------------

echo "starting docker-registry on 127.0.0.1 and pushing the image" >&2
"$python" "$helper" request "$work" "$work/resolve.bin"
printf '\x00\x00\x00\x00\x00' >"$work/health.bin"

"$python" "$helper" registry "$work" >"$work/registry.out" 2>&1 &
helper_pid=$!
for ((i = 0; i < 600; i++)); do
  [[ -e $work/registry.env ]] && break
  if ! kill -0 "$helper_pid" 2>/dev/null; then
    cat "$work/registry.out" >&2
    die "the registry helper exited"
  fi
  sleep 0.05
done
[[ -e $work/registry.env ]] || die "the registry did not start within 30 s"
address=$(env_value "$work/registry.env" address)
digest=$(env_value "$work/registry.env" digest)

cat >"$work/config.yaml" <<EOF
log:
  level: warn
prebuilt_images:
  registry: "$address/gitspace-runtime"
  verify: true
registry:
  insecure_hosts: ["$address"]
  cache_ttl_ms: 3600s
EOF

"$daemon" --socket "$sock" --config "$work/config.yaml" \
  >"$work/daemon.log" 2>&1 &
daemon_pid=$!
for ((i = 0; i < 100; i++)); do
  [[ -S $sock ]] && break
  kill -0 "$daemon_pid" 2>/dev/null || break
  sleep 0.05
done
if [[ ! -S $sock ]]; then
  cat "$work/daemon.log" >&2
  die "the daemon did not open $sock"
fi
sleep 0.5
rss_idle="$(proc_field "$daemon_pid" VmRSS) KiB"

# ---- checks -----------------------------------------------------------------

# curl_call NAME: one call with the exact body h2load sends; the answer's
# body goes to $work/NAME.body, its headers and trailers to
# $work/NAME.headers.
curl_call() {
  curl -sS --http2-prior-knowledge --unix-socket "$sock" \
    -H 'content-type: application/grpc' -H 'te: trailers' \
    --data-binary "@$work/$1.bin" -D "$work/$1.headers" \
    -o "$work/$1.body" "${uri[$1]}" || die "$1: curl failed"
  grep -qi '^grpc-status: 0' "$work/$1.headers" ||
    die "$1: no grpc-status: 0 in $(tr -d '\r' <"$work/$1.headers")"
}

# check_resolve: the curl answer to resolve.bin is PREBUILT, FOUND, cached.
check_resolve() {
  curl_call resolve
  "$python" "$helper" decode "$work" "$work/resolve.body" "$digest" >&2 ||
    die "resolve: unexpected answer"
}

echo "checking the answers" >&2
printf '  grpcio, first call:  ' >&2
"$python" "$helper" check "$work" "$sock" 0 "$digest" >&2 ||
  die "the first ResolveImage call is not PREBUILT/FOUND/not cached"
printf '  grpcio, second call: ' >&2
"$python" "$helper" check "$work" "$sock" 1 "$digest" >&2 ||
  die "the second ResolveImage call is not PREBUILT/FOUND/from_cache"
printf '  curl, resolve.bin:   ' >&2
check_resolve
body_len[resolve]=$(wc -c <"$work/resolve.body")
curl_call health
got=$(od -An -tx1 "$work/health.body" | tr -d ' \n')
[[ $got == 00000000020801 ]] ||
  die "health: body is '$got', want 00000000020801"
body_len[health]=$(wc -c <"$work/health.body")

# ---- h2load -----------------------------------------------------------------

# h2load_run NAME SHAPE N [EXTRA...]: one h2load run; output in $work/out.
h2load_run() {
  local name=$1 shape=$2 n=$3
  local -a args
  shift 3

  read -ra args <<<"$(shape_args "$shape")"
  h2load -B "unix:$sock" "${args[@]}" -n "$n" \
    -d "$work/$name.bin" -H 'content-type: application/grpc' \
    -H 'te: trailers' "$@" "${uri[$name]}" >"$work/out" 2>&1
}

# run_ok NAME N: every request of the last run got a 2xx and a full answer.
# h2load cannot see grpc-status (a trailer), but a failed call has no body,
# so the run's "data" bytes must be N times the checked answer's size.
run_ok() {
  h2load_ok "$2" || return 1
  awk -v want=$(($2 * body_len[$1])) '
    /^traffic:/ {
      for (i = 2; i <= NF; i++) {
        if ($i ~ /^data/) { v = $(i - 1); gsub(/[()]/, "", v) }
      }
    }
    END { exit !(v == want) }' "$work/out"
}

for name in "${calls[@]}"; do
  h2load_run "$name" c1m1 1000
  if ! run_ok "$name" 1000; then
    cat "$work/out" >&2
    die "$name: not every request of the check run succeeded"
  fi
done

# ---- the rounds -------------------------------------------------------------

# measure NAME SHAPE ROUND: appends one line to $work/results.
measure() {
  local name=$1 shape=$2 round=$3 n cpu0 cpu1 rps mean cpu p="- -"

  n=$(shape_requests "$shape")
  [[ ! -e $work/failed ]] || return 0
  cpu0=$(cpu_ns "$daemon_pid")
  h2load_run "$name" "$shape" "$n"
  cpu1=$(cpu_ns "$daemon_pid" 2>/dev/null || echo "$cpu0")
  if ! run_ok "$name" "$n" || ! kill -0 "$daemon_pid" 2>/dev/null; then
    fail "$name" "$shape" "$round"
    return 0
  fi
  read -r rps mean <<<"$(h2load_parse)"
  cpu=$(awk -v a="$cpu0" -v b="$cpu1" -v n="$n" \
    'BEGIN { printf "%.2f", (b - a) / 1000 / n }')
  if ((percentiles)); then
    rm -f "$work/requests.log"
    h2load_run "$name" "$shape" "$n" "--log-file=$work/requests.log"
    if ! run_ok "$name" "$n" ||
      ! p=$(log_percentiles "$work/requests.log"); then
      fail "$name" "$shape" "$round"
      return 0
    fi
  fi
  echo "$name $shape $round $rps $mean $p $cpu" >>"$work/results"
  printf '  round %d %-7s %-6s %10.0f req/s  mean %8.1f us  p50/p99 %s us' \
    "$round" "$name" "$shape" "$rps" "$mean" "${p/ //}" >&2
  printf '  cpu %s us/req\n' "$cpu" >&2
}

# fail NAME SHAPE ROUND: keeps the evidence and stops measuring.
fail() {
  local alive="alive"

  kill -0 "$daemon_pid" 2>/dev/null || alive="exited"
  {
    echo "resolve.sh: $1 failed at $2, round $3 (daemon $alive)"
    echo "--- h2load output"
    cat "$work/out"
    echo "--- last lines of the daemon's output"
    tail -n 20 "$work/daemon.log"
  } | tee -a "$work/failures" >&2
  touch "$work/failed"
}

load_before=$(background_load)
started=$(date +%s)
read -r jiffies0 _ steal0 <<<"$(cpu_jiffies)"
: >"$work/results"
for ((round = 1; round <= rounds; round++)); do
  # Alternate which call goes first so drift in the machine cancels.
  order=("${calls[@]}")
  if ((round % 2 == 0)); then
    order=("${calls[1]}" "${calls[0]}")
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

# ---- after the rounds: was the cache warm all along? ------------------------

if kill -0 "$daemon_pid" 2>/dev/null; then
  rss_after="$(proc_field "$daemon_pid" VmRSS) KiB"
  hwm_after="$(proc_field "$daemon_pid" VmHWM) KiB"
  printf '  curl, after the rounds: ' >&2
  check_resolve
else
  rss_after="(exited)"
  hwm_after="(exited)"
fi
kill "$daemon_pid" 2>/dev/null || true
wait "$daemon_pid" 2>/dev/null || true
daemon_pid=""
stop_helper
[[ -s $work/registry.count ]] || {
  cat "$work/registry.out" >&2
  die "the registry helper wrote no count"
}
manifests_logged=$(env_value "$work/registry.count" manifests_logged)
manifests_proxied=$(env_value "$work/registry.count" manifests_proxied)
requests_logged=$(env_value "$work/registry.count" requests_logged)
warm_note="the cache was warm for every timed call"
if [[ $manifests_logged != 1 || $manifests_proxied != 1 ]]; then
  warm_note="NOT the single lookup expected (see Failures)"
  {
    echo "resolve.sh: the registry saw $manifests_logged manifest" \
      "requests in its log ($manifests_proxied through the proxy), want 1"
    cat "$work/registry.count"
  } | tee -a "$work/failures" >&2
fi
warn_lines=$(wc -l <"$work/daemon.log")

# ---- the report -------------------------------------------------------------

# ratio SHAPE COLUMN, paired SHAPE COLUMN: resolve/health, see lib.sh.
ratio() {
  ratio_of_medians resolve health "$1" "$2"
}

paired() {
  paired_ratios resolve health "$1" "$2" "$work/results"
}

report_shape() {
  local shape=$1 name args

  args=$(shape_args "$shape")
  for name in "${calls[@]}"; do
    printf "| \`%s\` | %s | %s | %s | %s | %s | %s |\n" "$args" "$name" \
      "$(stat "$name" "$shape" 4)" "$(stat "$name" "$shape" 5)" \
      "$(stat "$name" "$shape" 6)" "$(stat "$name" "$shape" 7)" \
      "$(stat "$name" "$shape" 8)"
  done
  printf "| \`%s\` | resolve/health | %s | %s | %s | %s | %s |\n" "$args" \
    "$(ratio "$shape" 4)" "$(ratio "$shape" 5)" "$(ratio "$shape" 6)" \
    "$(ratio "$shape" 7)" "$(ratio "$shape" 8)"
}

# verdict RATIO: "NN% -> met" against the target.
verdict() {
  awk -v r="$1" -v t="$target" 'BEGIN {
    if (r == "n/a") { print "n/a"; exit }
    printf "%.0f%% -> %s\n", r * 100, (r * 100 >= t ? "met" : "NOT met")
  }'
}

report_targets() {
  local shape args cpu_r

  for shape in c4m100 c1m1; do
    args=$(shape_args "$shape")
    echo "- \`$args\`: ResolveImage req/s >= ${target}% of Health's" \
      "(ratio of medians): $(verdict "$(ratio "$shape" 4)")"
    echo "  - per-round req/s ratios, sorted: $(paired "$shape" 4)"
    echo "  - per-round CPU us/req ratios, sorted: $(paired "$shape" 8)"
    cpu_r=$(ratio "$shape" 8)
    if [[ $cpu_r != n/a ]]; then
      echo "  - where the daemon's CPU is the bottleneck, the CPU figures" \
        "give ResolveImage $(awk -v r="$cpu_r" \
          'BEGIN { printf "%.0f%%", 100 / r }') of Health's throughput"
    fi
  done
}

cat <<EOF

## Results

- date: $(date -u '+%Y-%m-%d %H:%M UTC')
- machine: $(nproc) CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' \
  /proc/cpuinfo), Linux $(uname -r)
- load: $(h2load --version | head -n1), \`h2load -B unix:SOCK -n N -c C -m M\`
  \`-d BODY -H 'content-type: application/grpc' -H 'te: trailers' URI\`;
  resolve: \`${uri[resolve]}\`, BODY the gRPC frame of
  \`ResolveImageRequest{gitspace_id: "bench", ide_type: "vs_code_web"}\`
  (\`$(od -An -tx1 "$work/resolve.bin" | tr -s ' \n' ' ' | sed 's/^ //;s/ $//')\`),
  answer ${body_len[resolve]} bytes; health: \`${uri[health]}\`, BODY
  \`00 00 00 00 00\`, answer ${body_len[health]} bytes
- requests per run: $n_c1 at \`-c1 -m1\`, $n_c4 at \`-c4 -m100\`;
  $rounds rounds, calls alternating first; timed part took ${elapsed}s,
  with ${steal}% of the machine's CPU time stolen by the hypervisor;
  background load (a 1 s sample with no benchmark running, 100% = one CPU):
  $load_before before, $load_after after
- daemon: $daemon \`--socket SOCK --config FILE\`, one process serving
  both calls; logging is at warn for both calls (\`log: {level: warn}\`;
  the daemon wrote $warn_lines log lines in the whole run), FILE:
  \`prebuilt_images: {registry: "127.0.0.1:PORT/gitspace-runtime",
  verify: true}\`, \`registry: {insecure_hosts: ["127.0.0.1:PORT"],
  cache_ttl_ms: 3600s}\`
- registry: Debian's docker-registry (no auth) on 127.0.0.1, started by
  tests/integration/registry_harness.py behind its counting proxy, with
  \`gitspace-runtime:vscode-web-latest\` pushed ($digest)
- before timing: a grpcio call answered PREBUILT, FOUND, from_cache false;
  a second one from_cache true; curl with BODY the same, grpc-status 0
- after the rounds: curl with BODY still from_cache true; after the push
  the registry logged $manifests_logged manifest request(s)
  ($requests_logged request(s) of any kind) and its proxy forwarded
  $manifests_proxied: $warm_note

Each cell is the median over rounds, then [min, max]. Every run had to end
all its requests with status 2xx and h2load's received data bytes had to be
exactly N times the checked answer's size (a failed gRPC call has no body).
p50/p99 come from a second run of the same shape with \`--log-file\`. CPU is
the daemon's own CPU time per request (/proc/PID/task/*/schedstat), which
does not depend on how fast h2load is. The ratio row divides ResolveImage's
median by Health's.

| shape | call | req/s | mean (us) | p50 (us) | p99 (us) | CPU (us/req) |
|---|---|---|---|---|---|---|
EOF
for shape in "${shapes[@]}"; do
  report_shape "$shape"
done
echo
echo "| VmRSS idle | VmRSS after load | VmHWM after load |"
echo "|---|---|---|"
echo "| $rss_idle | $rss_after | $hwm_after |"
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
