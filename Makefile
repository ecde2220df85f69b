# ringwall build. `make` builds, `make test` installs missing packages (as
# root), builds and runs every test, `make demo` shows the firewall working.
# SAN=1 builds with AddressSanitizer and UndefinedBehaviorSanitizer into
# build-san/. CC=clang works too.

CC      ?= gcc
SAN     ?= 0
BUILD   := $(if $(filter 1,$(SAN)),build-san,build)

CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
           -fno-strict-aliasing -D_GNU_SOURCE -pthread -Isrc
LDLIBS  += -lpcap -lpthread -lm

ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif

# Optional backends, built when their libraries are installed.
HAVE_XDP := $(shell pkg-config --exists libxdp libbpf 2>/dev/null && echo 1)
ifeq ($(HAVE_XDP),1)
CFLAGS  += -DRW_HAVE_XDP $(shell pkg-config --cflags libxdp libbpf)
LDLIBS  += $(shell pkg-config --libs libxdp libbpf)
endif

LIB_SRCS  := $(sort $(filter-out src/main.c,$(shell find src -name '*.c')))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRCS := $(sort $(wildcard tools/*.c))
TOOL_BINS := $(TOOL_SRCS:tools/%.c=$(BUILD)/%)

.PHONY: all deps test test-unit demo bench clean check-clean

all: $(BUILD)/ringwall $(TOOL_BINS) $(UNIT_BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libringwall.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/ringwall: $(BUILD)/src/main.o $(BUILD)/libringwall.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%: $(BUILD)/tools/%.o $(BUILD)/libringwall.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/libringwall.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Debian packages the build and the tests need; installed when run as root.
deps:
	@tools/install-deps.sh

# gcc plain, gcc ASan/UBSan and clang builds, then every test group; the
# sanitizer build runs the unit tests and the capture replays, the clang build
# its unit tests. SAN=1 tests the sanitizer build only.
test: deps
ifeq ($(SAN),1)
	$(MAKE) all SAN=1
	RINGWALL=$(CURDIR)/build-san/ringwall RW_TEST_BUILDS=build-san tests/run.sh
else
	$(MAKE) -j2 all SAN=0
	$(MAKE) -j2 all SAN=1
	$(MAKE) -j2 all SAN=0 CC=clang BUILD=build-clang
	RW_TEST_BUILDS="build build-san build-clang" tests/run.sh
endif

demo: deps
	$(MAKE) all
	tests/demo.sh

bench: deps
	$(MAKE) all
	bench/run.sh

# What this machine's memory allows a connection table (bench/memprobe.c:
# TLB reach, batched against streamed two-level lookups); prints, writes
# nothing.
.PHONY: bench-mem
bench-mem: $(BUILD)/bench/memprobe
	$(BUILD)/bench/memprobe

# Built with everything else, so that it keeps compiling.
all: $(BUILD)/bench/memprobe
$(BUILD)/bench/memprobe: bench/memprobe.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<

# The classifier against DPDK's rte_acl (issue 5); writes BENCHMARKS.md.
.PHONY: bench-classify
bench-classify: deps
	$(MAKE) all
	bench/classify.sh --write

# Live forwarding side by side: ringwall (afxdp, afpacket), a Linux bridge,
# bridge + nftables conntrack (issue 3); writes BENCHMARKS.md.
.PHONY: bench-live
bench-live: deps
	$(MAKE) all
	bench/live.sh --write

clean:
	rm -rf build build-san

# Every object's header dependencies. The unit tests' and tools' objects are
# rebuilt with their binaries anyway, but portbridge.o is a target of its own:
# without its .d it outlived a change to struct rw_port and crashed.
-include $(LIB_OBJS:.o=.d) $(BUILD)/src/main.d $(BUILD)/tests/io/portbridge.d \
	$(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%.d) $(TOOL_SRCS:tools/%.c=$(BUILD)/tools/%.d)

# The port-backend test bridge (tests/netns/ports.sh drives it).
all: $(BUILD)/tests/portbridge
$(BUILD)/tests/portbridge: $(BUILD)/tests/io/portbridge.o $(BUILD)/libringwall.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
