#!/usr/bin/env bash
# A/B of the runtime micro-benchmarks: two (or more) builds' bench_rt / bench_otp run
# the same cases in turns, so that they see the same machine load; prints the median of
# every RESULT key per variant.
#
#   bench/rt_ab.sh [--reps R] LABEL=BUILD_DIR[,VAR=VALUE...] ... -- CASE...
#   bench/rt_ab.sh --reps 5 base=/tmp/base/build new=build -- "selrecv 0 100000" "otp:call 1 1000000"
#
# A case is bench_rt's arguments, or "otp:" and bench_otp's. BUILD_DIR holds bench/bench_rt.
set -u
REPS=3
[ "${1:-}" = --reps ] && { REPS=$2; shift 2; }
VARIANTS=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do VARIANTS+=("$1"); shift; done
[ "${1:-}" = -- ] && shift
[ ${#VARIANTS[@]} -ge 1 ] && [ $# -ge 1 ] || { sed -n 2,9p "$0"; exit 2; }
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
echo "# $(date -u +%FT%TZ) reps=$REPS load=$(cut -d' ' -f1-3 /proc/loadavg)"
for c in "$@"; do
  for rep in $(seq "$REPS"); do
    for v in "${VARIANTS[@]}"; do
      label=${v%%=*}; rest=${v#*=}; dir=${rest%%,*}; envs=
      [ "$rest" != "$dir" ] && envs=$(echo "${rest#*,}" | tr ',' ' ')
      bin=$dir/bench/bench_rt; args=$c
      case "$c" in otp:*) bin=$dir/bench/bench_otp; args=${c#otp:};; esac
      # shellcheck disable=SC2086
      env $envs timeout 300 "$bin" $args 2>/dev/null | awk -v l="$label" -v c="$c" '$1=="RESULT"{print l"\t"c"\t"$2"\t"$3}' >> "$OUT"
    done
  done
done
python3 - "$OUT" "${VARIANTS[@]}" <<'EOF'
import collections, statistics, sys
vals = collections.defaultdict(list)
for line in open(sys.argv[1]):
    l, c, k, v = line.rstrip("\n").split("\t")
    vals[(c, k, l)].append(float(v))
labels = [v.split("=", 1)[0] for v in sys.argv[2:]]
keys = sorted({(c, k) for c, k, _ in vals}, key=lambda x: (x[0], x[1]))
print("| case | key | " + " | ".join(labels) + " |")
print("|---|---|" + "---:|" * len(labels))
for c, k in keys:
    cells = []
    for l in labels:
        v = vals.get((c, k, l))
        cells.append(f"{statistics.median(v):.4g} ({min(v):.3g}-{max(v):.3g})" if v else "-")
    print(f"| {c} | {k} | " + " | ".join(cells) + " |")
EOF
