#!/usr/bin/env bash
# Builds the runtime and three examples for aarch64 with the cross compiler and runs
# them under qemu-user: the context switch, the stack copying and the fault handler
# (which edits the signal context) are per-architecture code. One test per example.
set -u
cd "$(dirname "$0")/.."
out=build/aarch64; mkdir -p "$out/obj"
cc=aarch64-linux-gnu-gcc
passed=0; failed=0
if ! command -v $cc >/dev/null || ! command -v qemu-aarch64 >/dev/null; then
  echo "aarch64: $cc or qemu-aarch64 missing (bash .ci/deps.sh installs them)"
  failed=1
else
  objs=()
  for f in runtime/*.c runtime/arch/*.S; do
    o=$out/obj/$(basename "$f").o
    $cc -std=c17 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Iinclude -c "$f" -o "$o" || failed=$((failed + 1))
    objs+=("$o")
  done
  export QEMU_LD_PREFIX=/usr/aarch64-linux-gnu
  check() { # name expected-text args...
    local name=$1 want=$2; shift 2
    if $cc -std=c17 -D_GNU_SOURCE -O2 -Iinclude "examples/$name.c" "${objs[@]}" -lpthread -o "$out/$name" &&
       timeout 120 qemu-aarch64 "$out/$name" "$@" > "$out/$name.log" 2>&1 && grep -q "$want" "$out/$name.log"; then
      passed=$((passed + 1)); echo "aarch64 $name ok: $(head -1 "$out/$name.log")"
    else
      failed=$((failed + 1)); echo "aarch64 $name FAILED:"; sed 's/^/    /' "$out/$name.log" 2>/dev/null | tail -20
    fi
  }
  check pingpong "ponger ended: normal" 20000
  check ring "hops in" 100 100
  check crash "still here"
  grep -q "runaway   ended: stack_overflow" "$out/crash.log" 2>/dev/null || { echo "aarch64 crash: no stack_overflow"; failed=$((failed + 1)); }
fi
[ -n "${TR_TEST_TALLY:-}" ] && echo "$passed $failed" >> "$TR_TEST_TALLY"
echo "aarch64: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
