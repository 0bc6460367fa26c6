#!/usr/bin/env bash
# runtime.sh - the process runtime's micro-benchmarks beside the BEAM and Go anchors, one table.
#
#   bench/runtime.sh                  # build, run every bench REPS times (default 3) for
#                                     # trawl, BEAM and Go; print the Markdown table of medians
#   REPS=5 bench/runtime.sh           # more repetitions
#   ONLY="ring link" bench/runtime.sh # only these benches (spawn ring ringpar call sup link selrecv)
#
# The anchors (BEAM and Go) come from /work/shared/anchors (ANCHORS=dir to override), which
# is read-only: it is copied to a temporary folder and its run.sh runs there. Each bench
# group runs ours, then the anchors', so the two see about the same machine load.
# Writes bench/results/: runtime-latest.md (the table, environment, loads), raw.tsv
# (every value of every run: lang, rep, key, value), load.log and logs/.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
REPS=${REPS:-3}
ONLY=${ONLY:-}
ANCHORS=${ANCHORS:-$ROOT/../shared/anchors}
RES=$ROOT/bench/results
RT=$ROOT/build/bench/bench_rt
OTP=$ROOT/build/bench/bench_otp

# ---------------------------------------------------------------- tools
if ! command -v erl >/dev/null || ! command -v go >/dev/null; then
  echo "installing erlang and go (Debian packages)" >&2
  SUDO=; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get install -y erlang-base erlang-dev erlang-tools golang-go ||
    { $SUDO apt-get update && $SUDO apt-get install -y erlang-base erlang-dev erlang-tools golang-go; } ||
    { echo "runtime.sh: cannot install erlang/go" >&2; exit 1; }
fi
[ -x "$ANCHORS/run.sh" ] || { echo "runtime.sh: no anchors at $ANCHORS (set ANCHORS=dir)" >&2; exit 1; }

# ---------------------------------------------------------------- build
make bench >/dev/null || { echo "runtime.sh: make bench failed" >&2; exit 1; }
[ -x "$RT" ] || { echo "runtime.sh: $RT was not built" >&2; exit 1; }
HAVE_OTP=0; [ -x "$OTP" ] && HAVE_OTP=1

WORK=$(mktemp -d "${TMPDIR:-/tmp}/trawl-anchors.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cp -r "$ANCHORS"/. "$WORK"/
rm -rf "$WORK/build" "$WORK/results"

mkdir -p "$RES/logs"
RAW=$RES/raw.tsv
LOADLOG=$RES/load.log
: > "$RAW"
START_TIME=$(date -u +%Y-%m-%dT%H:%M:%SZ)
START_LOAD=$(cat /proc/loadavg)
echo "# $START_TIME start loadavg: $START_LOAD" > "$LOADLOG"

# bench group | which binary | args; the anchors' list, same sizes
BENCHES=(
  "spawn|rt|spawn 100000"
  "spawn|rt|spawn 1000000"
  "ring|rt|ring 1000 1000"
  "ring|rt|ring 100000 10"
  "ringpar|rt|ringpar 1000 1000"
  "ringpar|rt|ringpar 100000 10"
  "ringpar|rt|ringpar 1000 10000"
  "call|otp|call 1 1000000"
  "call|otp|call 100 1000000"
  "sup|otp|sup 100000"
  "link|rt|link 100000"
  "selrecv|rt|selrecv 0 100000"
  "selrecv|rt|selrecv 10000 100000"
)
GROUPS_ORDER="spawn ring ringpar call sup link selrecv"

run_ours() { # bin rep args...
  local bin=$1 rep=$2; shift 2
  local log=$RES/logs/trawl_$(echo "$*" | tr ' ' '_')_r$rep.log
  echo "$(date -u +%H:%M:%S) trawl rep=$rep [$*] loadavg: $(cat /proc/loadavg)" >> "$LOADLOG"
  echo "running: trawl $* (rep $rep/$REPS) load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  timeout 900 "$bin" "$@" > "$log" 2>&1
  local rc=$?
  [ $rc -ne 0 ] && echo "WARNING: trawl $* rep $rep exited $rc (see $log)" >&2
  awk -v r="$rep" '$1=="RESULT"{print "trawl\t"r"\t"$2"\t"$3}' "$log" >> "$RAW"
}

for group in $GROUPS_ORDER; do
  if [ -n "$ONLY" ] && ! [[ " $ONLY " == *" $group "* ]]; then continue; fi
  for spec in "${BENCHES[@]}"; do
    g=${spec%%|*}; rest=${spec#*|}; which=${rest%%|*}; args=${rest#*|}
    [ "$g" = "$group" ] || continue
    bin=$RT; [ "$which" = otp ] && bin=$OTP
    [ "$which" = otp ] && [ $HAVE_OTP = 0 ] && continue
    for rep in $(seq 1 "$REPS"); do run_ours "$bin" "$rep" $args; done
  done
  # the anchors for this group, in the same minutes
  ONLY=$group REPS=$REPS "$WORK/run.sh" > "$RES/logs/anchors_$group.out" 2>&1 ||
    echo "WARNING: anchors run.sh for $group failed (see $RES/logs/anchors_$group.out)" >&2
  grep -h '^WARNING' "$RES/logs/anchors_$group.out" >&2
  cat "$WORK/results/raw.tsv" >> "$RAW" 2>/dev/null
  sed -n '2,$p' "$WORK/results/load.log" >> "$LOADLOG" 2>/dev/null
  cp "$WORK/results/latest.md" "$RES/logs/anchors_$group.md" 2>/dev/null
done
END_LOAD=$(cat /proc/loadavg)
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) end loadavg: $END_LOAD" >> "$LOADLOG"

# ---------------------------------------------------------------- table
# key|label; rows with a trawl figure or an anchor to compare with. The "Go" column of
# the mem_processes row is Go's MemStats.Sys delta (its own accounting).
ROWS=$(cat <<'EOF'
spawn_n100000_us_per_spawn|spawn N=100k: µs per spawn (cold)
spawn_n100000_warm_us_per_spawn|spawn N=100k: µs per spawn (warm, 2nd round)
spawn_n100000_bytes_per_proc_mem_processes|spawn N=100k: bytes/proc, runtime's own count Δ (BEAM memory(processes), Go MemStats.Sys)
spawn_n100000_bytes_per_proc_rss|spawn N=100k: bytes/proc, RSS Δ
spawn_n100000_teardown_ms|spawn N=100k: teardown (stop to all, until all gone), ms
spawn_n100000_teardown_us_per_proc|spawn N=100k: teardown µs per proc
spawn_n100000_spawn_exit_us_per_proc|spawn N=100k procs that exit at once: µs per proc
spawn_n1000000_us_per_spawn|spawn N=1M: µs per spawn (cold)
spawn_n1000000_warm_us_per_spawn|spawn N=1M: µs per spawn (warm, 2nd round)
spawn_n1000000_bytes_per_proc_mem_processes|spawn N=1M: bytes/proc, runtime's own count Δ (BEAM memory(processes), Go MemStats.Sys)
spawn_n1000000_bytes_per_proc_rss|spawn N=1M: bytes/proc, RSS Δ
spawn_n1000000_teardown_ms|spawn N=1M: teardown, ms
spawn_n1000000_teardown_us_per_proc|spawn N=1M: teardown µs per proc
spawn_n1000000_spawn_exit_us_per_proc|spawn N=1M procs that exit at once: µs per proc
ring_n1000_m1000_msgs_per_s|ring N=1000 M=1000, 1 token: msgs/s
ring_n1000_m1000_ns_per_hop|ring N=1000 M=1000, 1 token: ns/hop
ring_n100000_m10_msgs_per_s|ring N=100k M=10, 1 token: msgs/s
ring_n100000_m10_ns_per_hop|ring N=100k M=10, 1 token: ns/hop
ringpar_n1000_m1000_msgs_per_s|ring N=1000, 1000 tokens × 1000 hops: msgs/s
ringpar_n1000_m1000_ns_per_hop|ring N=1000, 1000 tokens × 1000 hops: ns/hop (wall)
ringpar_n100000_m10_msgs_per_s|ring N=100k, 100k tokens × 10 hops: msgs/s
ringpar_n100000_m10_ns_per_hop|ring N=100k, 100k tokens × 10 hops: ns/hop (wall)
ringpar_n1000_m10000_msgs_per_s|ring N=1000, 1000 tokens × 10k hops: msgs/s
ringpar_n1000_m10000_ns_per_hop|ring N=1000, 1000 tokens × 10k hops: ns/hop (wall)
call_c1_calls_per_s|call, 1 client × 1M: calls/s
call_c1_mean_latency_us|call, 1 client × 1M: mean latency µs
call_c100_calls_per_s|call, 100 clients × 10k: calls/s
call_c100_mean_latency_us|call, 100 clients × 10k: mean latency µs
sup_c100000_restarts_per_s|supervisor one_for_one, 100k crashes: restarts/s
sup_c100000_us_per_restart|supervisor one_for_one, 100k crashes: µs/restart
sup_c100000_first1000_restarts_per_s|supervisor one_for_one, first 1000 crashes: restarts/s
link_n100000_cascade_ms|link cascade N=100k: kill head → tail DOWN, ms
link_n100000_ns_per_proc|link cascade N=100k: ns per process
selrecv_q0_fresh_ref_us_per_recv|selective recv, empty mailbox: fresh-ref round trip µs
selrecv_q10000_fresh_ref_us_per_recv|selective recv, 10k junk msgs: fresh-ref round trip µs
selrecv_q0_old_tag_scan_us_per_recv|selective recv, empty mailbox: non-ref tag round trip µs
selrecv_q10000_old_tag_scan_us_per_recv|selective recv, 10k junk msgs: non-ref tag (full scan) µs
EOF
)

# keys only trawl prints (e.g. bench_otp's variants) go last, labelled by their key
EXTRA=$(awk -F'\t' '$1=="trawl"{print $3}' "$RAW" | sort -u |
  grep -vxF -f <(echo "$ROWS" | cut -d'|' -f1) | sed 's/.*/&|(trawl only) &/')
[ -n "$EXTRA" ] && ROWS="$ROWS
$EXTRA"

TABLE=$(awk -F'\t' -v rows="$ROWS" '
function fmt(v,   a) {
  if (v == "") return "–";
  a = v < 0 ? -v : v;
  if (a >= 100) return sprintf("%.0f", v);
  if (a >= 10) return sprintf("%.1f", v);
  if (a >= 1) return sprintf("%.2f", v);
  return sprintf("%.3f", v);
}
function median(s,   n, arr, i, j, t) {
  n = split(s, arr, " ");
  for (i = 2; i <= n; i++) { t = arr[i] + 0; for (j = i - 1; j >= 1 && arr[j] + 0 > t; j--) arr[j+1] = arr[j]; arr[j+1] = t }
  lo = arr[1]; hi = arr[n];
  if (n % 2) return arr[(n+1)/2] + 0;
  return (arr[n/2] + arr[n/2+1]) / 2;
}
# the target for one row: time figures at least 2x better than BEAM and no worse than
# Go; throughput likewise; memory per idle process below both
function target(k, t, b, g,   need, ok) {
  if (t == "") return "–";
  if (k ~ /bytes_per_proc/) {
    ok = (b == "" || t < b) && (g == "" || t < g);
    need = (b == "" ? g : (g == "" ? b : (b < g ? b : g)));
    return ok ? "yes" : "**no** (needs < " fmt(need) ")";
  }
  if (k ~ /_per_s$/) {
    need = (b == "" ? 0 : 2 * b); if (g != "" && g > need) need = g;
    if (b == "" && g == "") return "n/a";
    return t >= need ? "yes" : "**no** (needs ≥ " fmt(need) ")";
  }
  need = -1;
  if (b != "") need = b / 2;
  if (g != "" && (need < 0 || g < need)) need = g;
  if (need < 0) return "n/a";
  return t <= need ? "yes" : "**no** (needs ≤ " fmt(need) ")";
}
{ v[$1 SUBSEP $3] = v[$1 SUBSEP $3] " " $4 }
END {
  print "| metric | trawl median | BEAM median | Go median | trawl/BEAM ratio | target met? | trawl min–max |";
  print "|---|---:|---:|---:|---:|---|---:|";
  nr = split(rows, R, "\n");
  for (i = 1; i <= nr; i++) {
    split(R[i], kv, "|"); k = kv[1]; lab = kv[2];
    gk = k; sub(/_mem_processes$/, "_memstats_sys", gk);
    t = ""; b = ""; g = ""; ts = "";
    if (("trawl" SUBSEP k) in v) { t = median(v["trawl" SUBSEP k]); ts = fmt(lo) "–" fmt(hi) }
    if (("erl" SUBSEP k) in v) b = median(v["erl" SUBSEP k]);
    if (("go" SUBSEP gk) in v) g = median(v["go" SUBSEP gk]);
    if (t == "" && b == "" && g == "") continue;
    ratio = (t != "" && b != "" && b != 0) ? fmt(t / b) : "–";
    printf "| %s | %s | %s | %s | %s | %s | %s |\n", lab, fmt(t), b == "" ? "n/a" : fmt(b),
      g == "" ? "n/a" : fmt(g), ratio, target(k, t, b, g), ts;
  }
}' "$RAW")

OTP_NOTE="trawl OTP rows (call, sup) from build/bench/bench_otp"
[ $HAVE_OTP = 0 ] && OTP_NOTE="build/bench/bench_otp not built: no trawl figures for call and sup"
ENV_LINES=$(
  echo "- trawl: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?') (plus uncommitted changes), gcc $(cc -dumpfullversion 2>/dev/null), -O2, tr_run defaults (schedulers = $(nproc) cores)"
  echo "- $(erl -noshell -eval 'io:format("Erlang/OTP ~s, schedulers_online=~p", [erlang:system_info(otp_release), erlang:system_info(schedulers_online)]), halt().' 2>/dev/null) (erl +P 4000000 +S 2:2); $(go version 2>/dev/null)"
  echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) CPUs; kernel $(uname -r)"
  echo "- loadavg at start: $START_LOAD; at end: $END_LOAD (per run: bench/results/load.log)"
  echo "- $OTP_NOTE"
)

{
  echo "# trawl runtime vs BEAM and Go — run of $START_TIME"
  echo
  echo "Medians of $REPS runs, each in a fresh OS process; each bench group ran trawl, then"
  echo "BEAM and Go, back to back. Ratio = trawl median / BEAM median. Target: every time"
  echo "figure at least 2x better than BEAM's and no worse than Go's (throughput likewise);"
  echo "memory per idle process below both."
  echo
  echo "$TABLE"
  echo
  echo "## Environment"
  echo
  echo "$ENV_LINES"
  echo
  echo "Reproduce: \`bench/runtime.sh\` (REPS=$REPS${ONLY:+, ONLY=\"$ONLY\"})."
} > "$RES/runtime-latest.md"

echo
echo "$TABLE"
echo
echo "$ENV_LINES"
echo "(written to bench/results/runtime-latest.md; raw values in bench/results/raw.tsv)"
