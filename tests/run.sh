#!/usr/bin/env bash
# Runs every test binary in a folder (optionally those matching a glob), each in its
# own process, reads cmocka's "[  PASSED  ]" / "[  FAILED  ]" lines, and prints one
# summary line "LABEL: N passed, N failed". A binary that dies without cmocka's
# summary (a crash, a sanitizer report) counts as one failure.
# Appends "passed failed" to $TR_TEST_TALLY when set, so check.sh can total configs.
set -u
dir=$1; pattern=${2:-test_*}; label=${TR_TEST_LABEL:-tests}
passed=0; failed=0; bad=()
for t in "$dir"/$pattern; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  out=$(mktemp)
  start=$(date +%s.%N)
  timeout -k 10 ${TR_TEST_TIMEOUT:-600} "$t" >"$out" 2>&1; rc=$?
  secs=$(echo "$(date +%s.%N) - $start" | bc 2>/dev/null || echo "?")
  p=$(sed -n 's/.*\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
  f=$(sed -n 's/.*\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
  p=${p:-0}; f=${f:-0}
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$f" -ne 0 ]; then
    bad+=("$name"); printf '%-32s FAIL (rc=%s, %.1fs)\n' "$name" "$rc" "$secs"
    sed 's/^/    /' "$out" | tail -60
  else
    printf '%-32s ok   (%s passed, %.1fs)\n' "$name" "$p" "$secs"
  fi
  rm -f "$out"
done
[ -n "${TR_TEST_TALLY:-}" ] && echo "$passed $failed" >> "$TR_TEST_TALLY"
[ ${#bad[@]} -gt 0 ] && echo "$label failing: ${bad[*]}"
echo "$label: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
