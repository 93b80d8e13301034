# boundtrace build. `make` builds ./boundtrace and the tools, `make test`
# runs the unit tests (and the integration tests when root), `make deps`
# installs what the build needs on Debian/Ubuntu.

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
BUILD ?= build
PREFIX ?= /usr/local
DESTDIR ?=

CC ?= cc
CLANG ?= clang
BPFTOOL ?= bpftool
LLVM_STRIP ?= $(shell command -v llvm-strip 2>/dev/null || echo llvm-strip-14)
PKG_CONFIG ?= pkg-config

CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror -Wno-missing-field-initializers
CPPFLAGS_ALL := -std=c11 -D_GNU_SOURCE -Iuser -Ibpf -I$(BUILD)
LIBBPF_CFLAGS := $(shell $(PKG_CONFIG) --cflags libbpf 2>/dev/null)
LIBBPF_LIBS := $(shell $(PKG_CONFIG) --libs libbpf 2>/dev/null || echo -lbpf)
# --serve: libmicrohttpd answers HTTP (no server of our own).
MHD_CFLAGS := $(shell $(PKG_CONFIG) --cflags libmicrohttpd 2>/dev/null)
MHD_LIBS := $(shell $(PKG_CONFIG) --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd)
LDLIBS := $(LIBBPF_LIBS) $(MHD_LIBS) -lelf -lz -lm -lpthread
CPPFLAGS_ALL += $(MHD_CFLAGS)

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))

# user/ is laid out by pipeline stage, one folder each (docs/ARCHITECTURE.md);
# every source but the command's main goes into a library the tests link too.
USER_SRCS := $(sort $(wildcard user/*/*.c))
LIB_SRCS := $(filter-out user/cli/main.c,$(USER_SRCS))
LIB_OBJS := $(patsubst user/%.c,$(BUILD)/user/%.o,$(LIB_SRCS))
SAN_LIB_OBJS := $(patsubst user/%.c,$(BUILD)/san/user/%.o,$(LIB_SRCS))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
SAN_UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/san/tests/%,$(UNIT_SRCS))

# floorhooks loads BPF: its own rules below, with libbpf.
TOOL_SRCS := $(filter-out tools/floorhooks%,$(wildcard tools/*.c))
TOOL_BINS := $(patsubst tools/%.c,$(BUILD)/tools/%,$(TOOL_SRCS))
FLOOR := $(BUILD)/tools/floorhooks $(BUILD)/tools/floorhooks.bpf.o

VMLINUX := vmlinux/$(ARCH)/vmlinux.h

# libbpf 1.0 or later: the skeleton and the BTF-typed programs need it.
LIBBPF_VERSION := $(shell $(PKG_CONFIG) --modversion libbpf 2>/dev/null)
ifneq ($(filter clean deps vmlinux,$(MAKECMDGOALS)),$(MAKECMDGOALS))
ifeq ($(LIBBPF_VERSION),)
$(warning libbpf not found by pkg-config: run `make deps` (Debian/Ubuntu: libbpf-dev))
else ifeq ($(firstword $(subst ., ,$(LIBBPF_VERSION))),0)
$(error libbpf $(LIBBPF_VERSION) is too old: boundtrace needs 1.0 or later)
endif
endif

# Extra rules (fixtures, fuzzers) live beside what they serve; they may
# add prerequisites of the unit tests to UNIT_EXTRA.
UNIT_EXTRA :=
include $(wildcard tests/unit/*.mk)

# Keep the BPF object and skeleton: they are intermediates of pattern rules.
.SECONDARY:
# A recipe that fails leaves no half-written target behind.
.DELETE_ON_ERROR:

.PHONY: all test unit unit-san integration deps vmlinux install clean bench bench-quick fuzz demo docs-check FORCE

all: boundtrace $(TOOL_BINS) $(FLOOR)

# ---- BPF ---------------------------------------------------------------
$(BUILD)/%.bpf.o: bpf/%.bpf.c $(VMLINUX) | $(BUILD)
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) \
		-I$(dir $(VMLINUX)) -Ibpf -MMD -MP -Wall -Werror \
		-c $< -o $@

# The skeleton embeds the object without its DWARF (as libbpf-tools do):
# the BTF and its line info stay, the binary is smaller, and libbpf reads
# less of it at load. The unstripped object stays for debugging.
$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o Makefile
	$(LLVM_STRIP) -g $< -o $(BUILD)/$*.stripped.bpf.o
	$(BPFTOOL) gen skeleton $(BUILD)/$*.stripped.bpf.o name $*_bpf > $@.tmp && mv $@.tmp $@

# ---- userspace ---------------------------------------------------------
# The git revision for --version, rewritten only when it changes, so a
# commit rebuilds main.o and nothing else.
GIT_REV := $(shell git describe --always --dirty --abbrev=7 2>/dev/null || echo unknown)
$(BUILD)/version.h: FORCE | $(BUILD)
	@echo '#define BT_GIT_REV "$(GIT_REV)"' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@
$(BUILD)/user/cli/main.o: $(BUILD)/version.h
$(BUILD)/user/%.o: user/%.c | $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(LIBBPF_CFLAGS) $(CFLAGS) $(WARN) -MMD -MP -c $< -o $@

$(BUILD)/san/user/%.o: user/%.c | $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(LIBBPF_CFLAGS) -O1 -g $(SAN_FLAGS) $(WARN) -MMD -MP -c $< -o $@

$(BUILD)/libbt.a: $(LIB_OBJS)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/san/libbt.a: $(SAN_LIB_OBJS)
	rm -f $@ && $(AR) rcs $@ $^

boundtrace: $(BUILD)/user/cli/main.o $(BUILD)/libbt.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# Workload generators: plain C, no libbpf, frame pointers for the stack tests.
# They go to $(BUILD)/tools: the source tree holds no generated file.
$(BUILD)/tools/%: tools/%.c | $(BUILD)/tools
	$(CC) -std=gnu11 -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer -fno-inline $(WARN) -MMD -MP -o $@ $< -lpthread

# The bench's floor row: empty programs on boundtrace's tracepoints.
$(BUILD)/tools/floorhooks.bpf.o: tools/floorhooks.bpf.c $(VMLINUX) | $(BUILD)/tools
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(dir $(VMLINUX)) -Wall -Werror \
		-c $< -o $@

$(BUILD)/tools/floorhooks: tools/floorhooks.c | $(BUILD)/tools
	$(CC) -std=gnu11 -D_GNU_SOURCE -O2 $(LIBBPF_CFLAGS) $(WARN) -o $@ $< $(LIBBPF_LIBS) -lelf -lz

# ---- tests -------------------------------------------------------------
$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libbt.a | $(BUILD)/tests
	$(CC) $(CPPFLAGS_ALL) $(LIBBPF_CFLAGS) $(CFLAGS) $(WARN) -MMD -MP -o $@ $< $(BUILD)/libbt.a -lcmocka $(LDLIBS)

$(BUILD)/san/tests/%: tests/unit/%.c $(BUILD)/san/libbt.a | $(BUILD)/san/tests
	$(CC) $(CPPFLAGS_ALL) $(LIBBPF_CFLAGS) -O1 -g $(SAN_FLAGS) $(WARN) -MMD -MP -o $@ $< $(BUILD)/san/libbt.a -lcmocka $(LDLIBS)

unit: $(UNIT_BINS) $(UNIT_EXTRA)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; (cd tests/unit && ../../$$t); done

unit-san: $(SAN_UNIT_BINS) $(UNIT_EXTRA)
	@set -e; for t in $(SAN_UNIT_BINS); do echo "== $$t (asan+ubsan)"; (cd tests/unit && ../../$$t); done

integration: all
	@if [ "$$(id -u)" = 0 ]; then python3 tests/integration/run.py; \
	else echo "integration tests skipped: they need root (BPF)"; fi

# The recording reader's fuzzer runs in the test command too (FUZZ_TIME
# seconds, 60 by default), so a crash in it cannot land.
test: unit unit-san docs-check integration fuzz bench-quick

# The benchmark harness, a few seconds, timing unchecked: so it cannot rot.
bench-quick: all
	@if [ "$$(id -u)" != 0 ]; then echo "bench harness skipped: it needs root"; \
	elif tools/bench.sh --quick > $(BUILD)/bench-quick.txt 2>&1; then \
		echo "bench harness ok (make bench QUICK=1)"; \
	else cat $(BUILD)/bench-quick.txt; exit 1; fi

fuzz: fuzz-record

# The README's main job: trace a bundled three-tier service, no external
# service needed: frontend -> middle (unix socket) -> backend (loopback TCP).
demo: all
	./boundtrace -c '$(BUILD)/tools/tierdemo --requests 300 --calls 3 --work-us 200 --out /dev/null'

bench: all
	tools/bench.sh $(if $(QUICK),--quick)

# ---- setup -------------------------------------------------------------
# The sanitizer runtime the fuzzer links is packaged per clang major version.
CLANG_MAJOR := $(shell $(CLANG) -dumpversion 2>/dev/null | cut -d. -f1)
CLANG_RT_PKG := $(if $(CLANG_MAJOR),libclang-rt-$(CLANG_MAJOR)-dev)
DEB_PKGS := clang llvm $(CLANG_RT_PKG) groff-base libbpf-dev libelf-dev zlib1g-dev libcmocka-dev libmicrohttpd-dev \
	pkg-config make gcc python3 graphviz util-linux
# Real servers the integration tests start on their own ports and sockets,
# and the tracers `make bench` compares with; one that cannot be installed
# makes its tests skips and its bench rows n/a, never a failure.
SERVICE_PKGS := redis-server redis-tools nginx-light php-fpm php-redis postgresql nodejs prometheus
BENCH_PKGS := bpftrace strace linux-perf apache2-utils
deps:
	@missing=""; for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v bpftool >/dev/null 2>&1 || missing="$$missing bpftool"; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
		if [ -z "$(CLANG_RT_PKG)" ]; then v=$$(clang -dumpversion | cut -d. -f1); \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libclang-rt-$$v-dev; fi; \
	else echo "all build dependencies present"; fi
	@tools/install-optional.sh $(SERVICE_PKGS) $(BENCH_PKGS)

vmlinux:
	mkdir -p vmlinux/$(ARCH)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/$(ARCH)/vmlinux.h.tmp
	mv vmlinux/$(ARCH)/vmlinux.h.tmp vmlinux/$(ARCH)/vmlinux.h

MANDIR ?= $(PREFIX)/share/man
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions

install: boundtrace
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(COMPLETIONDIR)
	install -m 0755 boundtrace $(DESTDIR)$(PREFIX)/bin/boundtrace
	install -m 0644 docs/boundtrace.8 $(DESTDIR)$(MANDIR)/man8/boundtrace.8
	install -m 0644 docs/boundtrace.bash-completion $(DESTDIR)$(COMPLETIONDIR)/boundtrace

# The man page and the completion agree with --help; make install works.
docs-check: boundtrace
	@python3 tests/unit/check_docs.py

clean:
	rm -rf $(BUILD) boundtrace $(TOOL_BINS)

$(BUILD) $(BUILD)/tests $(BUILD)/san/tests $(BUILD)/tools:
	mkdir -p $@

-include $(wildcard $(BUILD)/*.d $(BUILD)/user/*/*.d $(BUILD)/san/user/*/*.d $(BUILD)/tests/*.d \
	$(BUILD)/san/tests/*.d $(BUILD)/tools/*.d)
