#!/usr/bin/env bash
# Runs each libFuzzer target for SECONDS on its corpus (fuzz/corpus/NAME, replayed
# first as regression inputs). A crash fails the run and leaves the input in
# build/fuzz/crashes/. Counts one test per target into $TR_TEST_TALLY.
set -u
secs=$1; shift
passed=0; failed=0
mkdir -p build/fuzz/crashes
for bin in "$@"; do
  name=$(basename "$bin")
  corpus=fuzz/corpus/${name#fuzz_}
  work=build/fuzz/work/${name#fuzz_}
  mkdir -p "$corpus" "$work"
  if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
       -artifact_prefix=build/fuzz/crashes/"$name"- "$work" "$corpus" > "build/fuzz/$name.log" 2>&1; then
    passed=$((passed + 1)); echo "$name ok ($(grep -o 'Done [0-9]* runs in [0-9]* second' "build/fuzz/$name.log" | tail -1))"
  else
    failed=$((failed + 1)); echo "$name FAILED:"; tail -40 "build/fuzz/$name.log" | sed 's/^/    /'
  fi
done
[ -n "${TR_TEST_TALLY:-}" ] && echo "$passed $failed" >> "$TR_TEST_TALLY"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
