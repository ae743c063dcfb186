# Helpers shared by bench/run.sh and bench/resolve.sh; sourced, not run.
# They read the caller's globals: $work (the work directory, where the last
# h2load output is $work/out and the per-run lines are $work/results), and
# $n_c1 and $n_c4 (requests per run at each shape).
# shellcheck shell=bash disable=SC2154

die() {
  echo "${0##*/}: $*" >&2
  exit 1
}

# proc_field PID FIELD: a "kB" line of /proc/PID/status, in KiB.
proc_field() {
  awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

# cpu_ns PID: the CPU time the process has used so far, in nanoseconds,
# summed over its threads (/proc/PID/task/*/schedstat; a thread that exits
# takes its time with it, which none of the servers measured here does
# under load).
cpu_ns() {
  local ticks

  if [[ -r /proc/$1/schedstat ]]; then
    cat /proc/"$1"/task/*/schedstat 2>/dev/null |
      awk '{ t += $1 } END { printf "%.0f\n", t }'
    return
  fi
  ticks=$(awk '{ print $14 + $15 }' "/proc/$1/stat")
  echo $((ticks * 1000000000 / $(getconf CLK_TCK)))
}

# cpu_jiffies: "total idle steal" CPU time of the whole machine (/proc/stat).
cpu_jiffies() {
  awk '$1 == "cpu" {
    for (i = 2; i <= NF; i++) { t += $i }
    print t, $5 + $6, $9
  }' /proc/stat
}

# background_load: the machine's busy CPU, in percent of one CPU, over one
# second in which this script runs nothing: what other tenants are using.
background_load() {
  local t0 i0 t1 i1

  read -r t0 i0 _ <<<"$(cpu_jiffies)"
  sleep 1
  read -r t1 i1 _ <<<"$(cpu_jiffies)"
  awk -v t=$((t1 - t0)) -v i=$((i1 - i0)) -v n="$(nproc)" \
    'BEGIN { printf "%.0f%%", (t > 0 ? 100 * n * (t - i) / t : 0) }'
}

shape_args() {
  case "$1" in
  c1m1) echo "-c1 -m1" ;;
  c4m100) echo "-c4 -m100" ;;
  esac
}

shape_requests() {
  case "$1" in
  c1m1) echo "$n_c1" ;;
  c4m100) echo "$n_c4" ;;
  esac
}

# h2load_ok N: did the last run finish N requests, all with a 2xx status?
h2load_ok() {
  awk -v n="$1" '
    /^requests:/ { ok = ($2 == n && $8 == n) }
    /^status codes:/ { st = ($3 == n) }
    END { exit !(ok && st) }' "$work/out"
}

# h2load_parse: "req/s mean_us" of the last run; h2load prints us, ms or s.
h2load_parse() {
  awk '
    function us(v) {
      if (v ~ /us$/) { return v + 0 }
      if (v ~ /ms$/) { return v * 1000 }
      return v * 1000000
    }
    /^finished in/ { rps = $4 }
    /^time for request:/ { mean = us($6) }
    END { printf "%s %.1f\n", rps, mean }' "$work/out"
}

# log_percentiles FILE: "p50 p99" in us from h2load's per-request log; fails
# unless every request has status 200.
log_percentiles() {
  awk -F'\t' '$2 != 200 { bad++ } END { exit bad > 0 }' "$1" || return 1
  cut -f3 "$1" | sort -n | awk '
    { v[NR] = $1 }
    function at(p,  i) { i = int(p * NR + 0.999999); return v[i < 1 ? 1 : i] }
    END { printf "%d %d\n", at(0.50), at(0.99) }'
}

# stat NAME SHAPE COLUMN: "median [min, max]" of a results column.
stat() {
  awk -v s="$1" -v h="$2" -v c="$3" '$1 == s && $2 == h { print $c }' \
    "$work/results" | sort -g | awk '
    { v[NR] = $1 }
    END {
      if (NR == 0 || v[1] == "-") { print "n/a"; exit }
      m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      printf "%.*f [%.*f, %.*f]\n", d(m), m, d(v[1]), v[1], d(v[NR]), v[NR]
    }
    function d(x) { return x < 100 ? 1 : 0 }'
}

# ratio_of_medians A B SHAPE COLUMN: server A's median over server B's, from
# stat above; "n/a" when either has none.
ratio_of_medians() {
  local a b

  a=$(stat "$1" "$3" "$4" | cut -d' ' -f1)
  b=$(stat "$2" "$3" "$4" | cut -d' ' -f1)
  if [[ $a == n/a || $b == n/a ]]; then
    echo "n/a"
    return
  fi
  awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f\n", a / b }'
}

# paired_ratios A B SHAPE COLUMN RESULTS: the A/B ratio of each round (its
# two runs are seconds apart, so less exposed to slow drift than the ratio
# of medians), sorted, then "(min X / median Y / max Z)".
paired_ratios() {
  awk -v a="$1" -v b="$2" -v h="$3" -v c="$4" '
    $2 == h && $1 == a { x[$3] = $c }
    $2 == h && $1 == b { y[$3] = $c }
    END {
      for (r in x) {
        if (r in y && y[r] > 0) { printf "%.2f\n", x[r] / y[r] }
      }
    }' "$5" | sort -g | awk '
    { v[NR] = $1; all = all (NR > 1 ? " " : "") $1 }
    END {
      if (NR == 0) { print "n/a"; exit }
      m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      printf "%s (min %.2f / median %.2f / max %.2f)\n", all, v[1], m, v[NR]
    }'
}
