#!/usr/bin/env bash
# A/B crawl benchmark: variants of trawl crawl the peers.sh site in turns, in one run.
#
#   bench/crawl_ab.sh [--reps R] [--pages N] [--wrk SECS] [--perf FILE] LABEL=BINARY[,VAR=VALUE...] ...
#
#   bench/crawl_ab.sh --reps 5 base=/tmp/trawl-base new=build/trawl spin0=build/trawl,TR_SPIN_US=-1
#
# The same shape as ../shared/bench/peers.sh (its site and nginx.conf, 127.0.0.1:8080,
# `--rate 0 --per-host 64 --concurrency 64`), but with its own nginx prefix
# (/tmp/crawl_ab.PID) in its own network namespace, so it never collides with a
# peers.sh run, and the variants alternate rep by rep so that they see the same machine
# load. --wrk runs wrk (-t2 -c64) for SECS seconds before each rep, for the ceiling, and
# prints its CPU per request and nginx's during it (the budget a crawler must fit in).
# --perf records `perf record -g` of the first variant's last rep into FILE.
# Prints one line per run and a table of medians: pages/s, CPU s (user+sys), CPU ms per
# page, nginx worker CPU s, and requests/distinct (every page exactly once?).
set -u
BENCH_SHARED=${BENCH_SHARED:-/work/shared/bench}
if [ -z "${CRAWL_AB_NETNS:-}" ]; then
  export CRAWL_AB_NETNS=1
  exec unshare -n "$0" "$@"
fi
ip link set lo up
REPS=3; PAGES=20000; WRK_SECS=0; PERF=
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) REPS=$2; shift 2;;
    --pages) PAGES=$2; shift 2;;
    --wrk) WRK_SECS=$2; shift 2;;
    --perf) PERF=$2; shift 2;;
    *) break;;
  esac
done
[ $# -ge 1 ] || { sed -n 2,16p "$0"; exit 2; }
SITE=/tmp/crawlbench/site-$PAGES
if [ ! -f "$SITE/manifest.json" ]; then
  python3 "$BENCH_SHARED/gensite.py" --pages "$PAGES" --out "$SITE" >&2 || exit 1
fi
EXPECTED=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["expected_fetches"])' "$SITE/manifest.json")
W=/tmp/crawl_ab.$$
mkdir -p "$W/ngx"
ln -sfn "$SITE" "$W/docroot"
sed -e "s#/tmp/crawlbench/nginx#$W/ngx#g" -e "s#/tmp/crawlbench/docroot#$W/docroot#g" \
    "$BENCH_SHARED/nginx.conf" > "$W/nginx.conf"
nginx -p "$W/ngx/" -e "$W/ngx/error.log" -c "$W/nginx.conf" || exit 1
for _ in $(seq 50); do [ -s "$W/ngx/nginx.pid" ] && break; sleep 0.1; done
NGX_PID=$(cat "$W/ngx/nginx.pid")
cleanup() { kill -QUIT "$NGX_PID" 2>/dev/null; sleep 0.3; cp "$RES/runs" /tmp/crawl_ab-last.runs 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
ngx_cpu() {
  local w; w=$(awk '{print $1}' /proc/"$NGX_PID"/task/"$NGX_PID"/children)
  awk -v hz="$(getconf CLK_TCK)" '{print ($14+$15)/hz}' /proc/"$w"/stat
}
rotate() { # access log -> $1
  mv "$W/ngx/access.log" "$1" 2>/dev/null || : > "$1"
  kill -USR1 "$NGX_PID"; sleep 0.3
}
curl -sf -o /dev/null http://127.0.0.1:8080/ || { echo "nginx does not serve" >&2; exit 1; }
rotate /dev/null
RES=$W/res; mkdir -p "$RES"
echo "# $(date -u +%FT%TZ) pages=$PAGES reps=$REPS load=$(cut -d' ' -f1-3 /proc/loadavg)"
for rep in $(seq "$REPS"); do
  if [ "$WRK_SECS" != 0 ]; then
    c0=$(ngx_cpu)
    out=$(/usr/bin/time -f "wrkcpu %U %S" wrk -t2 -c64 -d"${WRK_SECS}s" -s "$BENCH_SHARED/pages.lua" \
          http://127.0.0.1:8080 -- "$PAGES" 2>&1)
    c1=$(ngx_cpu)
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    # CPU per request of the ceiling run: wrk's own (the floor of an HTTP client that
    # does nothing with the page) and nginx's (what each page costs the server).
    per=$(echo "$out" | awk -v r="$rps" -v d="$WRK_SECS" -v n0="$c0" -v n1="$c1" \
          '/^wrkcpu/ {n = r * d; printf "wrk %.1f us/req, nginx %.1f us/req", ($2 + $3) / n * 1e6, (n1 - n0) / n * 1e6}')
    echo "wrk rep $rep: $rps req/s ($per)"
    echo "wrk $rps" >> "$RES/wrk"
    rotate /dev/null
  fi
  for v in "$@"; do
    label=${v%%=*}; rest=${v#*=}
    bin=${rest%%,*}; envs=
    [ "$rest" != "$bin" ] && envs=$(echo "${rest#*,}" | tr ',' ' ')
    o=$W/out; rm -rf "$o"; mkdir -p "$o"
    sleep 0.5
    load=$(cut -d' ' -f1 /proc/loadavg)
    c0=$(ngx_cpu)
    prefix=()
    if [ -n "$PERF" ] && [ "$rep" = "$REPS" ] && [ "$v" = "$1" ]; then prefix=(perf record -g -o "$PERF" --); fi
    t0=$(date +%s.%N)
    env $envs /usr/bin/time -f "%U %S %M" -o "$W/time" "${prefix[@]}" "$bin" crawl --out "$o/crawl" --quiet \
        --rate 0 --per-host 64 --concurrency 64 http://127.0.0.1:8080/ > "$W/stdout" 2> "$W/stderr"
    rc=$?
    t1=$(date +%s.%N)
    c1=$(ngx_cpu)
    rotate "$W/access.log"
    read -r u s rss < <(tail -1 "$W/time")
    req=$(wc -l < "$W/access.log")
    distinct=$(awk '{print $4}' "$W/access.log" | sort -u | wc -l)
    python3 - "$label" "$rep" "$rc" "$t0" "$t1" "$u" "$s" "$rss" "$c0" "$c1" "$req" "$distinct" "$EXPECTED" "$load" <<'EOF' | tee -a "$RES/runs"
import sys
label, rep, rc, t0, t1, u, s, rss, c0, c1, req, distinct, exp, load = sys.argv[1:]
wall = float(t1) - float(t0); cpu = float(u) + float(s); req = int(req)
print(f"{label} {rep} rc={rc} wall={wall:.3f} pages/s={req / wall:.0f} cpu={cpu:.2f} "
      f"ms/page={cpu / req * 1000:.4f} nginx={float(c1) - float(c0):.2f} rss={int(rss) // 1024}MiB "
      f"req={req} distinct={int(distinct) - 1}/{exp} load={load}")
EOF
  done
done
python3 - "$RES" "$@" <<'EOF'
import os, re, statistics, sys
res = sys.argv[1]; labels = [v.split("=", 1)[0] for v in sys.argv[2:]]
runs = {}
for line in open(os.path.join(res, "runs")):
    f = line.split(); d = dict(kv.split("=", 1) for kv in f[2:]); d["_rep"] = f[1]
    runs.setdefault(f[0], []).append(d)
wrk = None
if os.path.exists(os.path.join(res, "wrk")):
    wrk = statistics.median(float(l.split()[1]) for l in open(os.path.join(res, "wrk")))
    print(f"\nwrk median: {wrk:.0f} req/s")
print("\n| variant | runs | pages/s (median) | CPU s | CPU ms/page | nginx CPU s | " + ("of wrk | " if wrk else "") + "requests, distinct |")
print("|---|---:|---:|---:|---:|---:|" + ("---:|" if wrk else "") + "---|")
for l in labels:
    r = runs.get(l, [])
    if not r: continue
    med = lambda k: statistics.median(float(d[k].rstrip("MiB")) for d in r)
    pps = med("pages/s")
    line = f"| {l} | {len(r)} | {pps:.0f} | {med('cpu'):.2f} | {med('ms/page'):.4f} | {med('nginx'):.2f} | "
    if wrk: line += f"{pps / wrk * 100:.0f}% | "
    line += ", ".join(sorted(set(f"{d['req']} {d['distinct']}" for d in r))) + " |"
    print(line)
# Paired by rep: each variant against the first, run next to it in time.
if len(labels) > 1:
    base = {d["_rep"]: d for d in runs.get(labels[0], [])}
    print(f"\n| variant | pages/s ÷ {labels[0]}, median of reps (min-max) | CPU/page ÷ {labels[0]} |")
    print("|---|---:|---:|")
    for l in labels[1:]:
        pr, cr = [], []
        for d in runs.get(l, []):
            b = base.get(d["_rep"])
            if not b: continue
            pr.append(float(d["pages/s"]) / float(b["pages/s"]))
            cr.append(float(d["ms/page"]) / float(b["ms/page"]))
        if pr:
            print(f"| {l} | {statistics.median(pr):.3f} ({min(pr):.2f}-{max(pr):.2f}) | {statistics.median(cr):.3f} ({min(cr):.2f}-{max(cr):.2f}) |")
EOF
