# trawl: the process runtime (libtr), the crawler, and their tests.
#
#   make              build everything into build/ (libtr.a, trawl, examples, tests)
#   make test         run the unit and integration tests
#   make check        the whole suite: tests plain, under ASan+UBSan, under TSan
#                     (runtime), then each fuzz target briefly (the README's test command)
#   make bench        build the benchmarks (see bench/README.md)
#
# BUILD selects the output folder and SAN a sanitizer set, so sanitized builds
# never mix objects with the plain one: make BUILD=build/asan SAN=address,undefined

CC      ?= cc
BUILD   ?= build
SAN     ?=
OPT     ?= -O2
PKGS    := libcurl libpsl libpcre2-8 libdeflate sqlite3 zlib libcrypto
CFLAGS  := -std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -g $(OPT) -fno-omit-frame-pointer \
           -Iinclude -Icrawler $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(EXTRA_CFLAGS)
# ISA-L (igzip, the WARC compressor) ships no pkg-config file, so -lisal is named here.
LDLIBS  := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lisal -lpthread -lm -ldl
ifneq ($(SAN),)
CFLAGS  += -fsanitize=$(SAN) -fno-sanitize-recover=all -DTR_SANITIZER=1
LDFLAGS += -fsanitize=$(SAN)
endif

RT_SRC      := $(wildcard runtime/*.c)
RT_ASM      := $(wildcard runtime/arch/*.S)
CRAWL_SRC   := $(wildcard crawler/*.c)
CLI_SRC     := $(wildcard cli/*.c)
TEST_SRC    := $(wildcard tests/test_*.c)
TEST_HELP   := $(filter-out $(TEST_SRC),$(wildcard tests/*.c))
EXAMPLE_SRC := $(wildcard examples/*.c)
BENCH_SRC   := $(wildcard bench/*.c)

RT_OBJ    := $(RT_SRC:%.c=$(BUILD)/obj/%.o) $(RT_ASM:%.S=$(BUILD)/obj/%.o)
CRAWL_OBJ := $(CRAWL_SRC:%.c=$(BUILD)/obj/%.o)
HELP_OBJ  := $(TEST_HELP:%.c=$(BUILD)/obj/%.o)
TESTS     := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
EXAMPLES  := $(EXAMPLE_SRC:examples/%.c=$(BUILD)/examples/%)
BENCHES   := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

all: $(BUILD)/libtr.a $(BUILD)/libtrawl.a $(if $(CLI_SRC),$(BUILD)/trawl) $(EXAMPLES) $(TESTS)

$(BUILD)/obj/%.o: %.c $(wildcard include/*.h runtime/*.h crawler/*.h cli/*.h cli/*.c tests/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libtr.a: $(RT_OBJ)
	@rm -f $@; ar rcs $@ $^

$(BUILD)/libtrawl.a: $(CRAWL_OBJ)
	@rm -f $@; ar rcs $@ $^ $(if $(CRAWL_OBJ),,; true)

$(BUILD)/trawl: $(CLI_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/libtrawl.a $(BUILD)/libtr.a
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/examples/%: $(BUILD)/obj/examples/%.o $(BUILD)/libtr.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

# The runtime's own tests need only the runtime (and so build without the crawler).
$(BUILD)/tests/test_rt_%: $(BUILD)/obj/tests/test_rt_%.o $(BUILD)/libtr.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS) -lcmocka

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(HELP_OBJ) $(BUILD)/libtrawl.a $(BUILD)/libtr.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS) -lcmocka

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(BUILD)/libtrawl.a $(BUILD)/libtr.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS) $(BENCH_LIBS)

bench: $(BENCHES)

test: all
	@tests/run.sh $(BUILD)/tests

# The runtime's tests run under TSan too; the crawler's parsers are single-threaded
# code and gain nothing from it (and libcurl is not TSan-instrumented).
check:
	@tests/check.sh

FUZZ_SRC := $(wildcard fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=build/fuzz/%)
FUZZ_SECONDS ?= 20
build/fuzz/%: fuzz/%.c $(CRAWL_SRC) $(RT_SRC) $(wildcard crawler/*.h include/*.h runtime/*.h)
	@mkdir -p $(dir $@)
	clang -std=c17 -D_GNU_SOURCE -g -O1 -Iinclude -Icrawler -fsanitize=fuzzer,address,undefined \
	  $< $(CRAWL_SRC) $(RT_SRC) $(RT_ASM) -o $@ $(LDLIBS)
fuzz: $(FUZZ_BIN)
fuzz-run: fuzz
	@tests/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

# The build-time targets the check script asks for, in one place.
tsan-tests: $(BUILD)/libtr.a $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/test_rt_*.c))

clean:
	rm -rf build

.PHONY: all test check bench fuzz fuzz-run tsan-tests clean
.SECONDARY:
