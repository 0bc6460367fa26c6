#!/usr/bin/env bash
# The whole test suite (the README's test command runs this through `make check`):
# the tests in a plain build, again under ASan+UBSan, the runtime's tests under TSan,
# and every fuzz target for a short bounded time. Ends with one summary line
# "N passed, N failed" over all of it; exits non-zero if anything failed.
set -u
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
tally=$(mktemp); export TR_TEST_TALLY=$tally
status=0
step() { echo; echo "== $*"; }
build() { make -s -j"$jobs" "$@" || { echo "build failed: make $*"; echo "0 1" >> "$tally"; status=1; return 1; }; }

step "plain build (gcc)"
build all && { TR_TEST_LABEL=plain tests/run.sh build/tests || status=1; }

step "ASan + UBSan"
build all BUILD=build/asan SAN=address,undefined OPT=-O1 && \
  { ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
    TR_TEST_LABEL=asan tests/run.sh build/asan/tests || status=1; }

step "TSan (runtime tests)"
build tsan-tests BUILD=build/tsan SAN=thread OPT=-O1 && \
  { TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" TR_TEST_LABEL=tsan \
    tests/run.sh build/tsan/tests 'test_rt_*' || status=1; }

step "aarch64 (cross-built, run under qemu)"
tests/aarch64.sh || status=1

if [ -n "$(ls fuzz/fuzz_*.c 2>/dev/null)" ]; then
  step "fuzz targets, ${FUZZ_SECONDS:-20}s each"
  if build fuzz; then
    tests/fuzz.sh "${FUZZ_SECONDS:-20}" build/fuzz/fuzz_* || status=1
  fi
fi

read -r p f < <(awk '{p+=$1; f+=$2} END {print p+0, f+0}' "$tally")
rm -f "$tally"
[ "$f" -gt 0 ] && status=1
echo
echo "$p passed, $f failed"
exit $status
