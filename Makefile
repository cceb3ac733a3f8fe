# memscope: CO-RE eBPF tools for memory incidents.
# Chain: bpf/X.bpf.c -> build/X.bpf.o -> build/X.skel.h -> build/obj/X.o -> build/<tool>
# `make V=1` shows full commands.

ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
ifeq ($(wildcard vmlinux/$(ARCH)/vmlinux.h),)
$(error unsupported architecture '$(ARCH)': no vmlinux/$(ARCH)/vmlinux.h; run scripts/gen-vmlinux.sh on a kernel with BTF)
endif

# SANITIZE=address,undefined builds everything with those sanitizers, in
# its own directory so that plain and sanitized objects never mix.
SANITIZE ?=
# STATIC=1 (make static) links the tools' libraries into them, in build/static.
STATIC ?=
BUILD   := $(if $(SANITIZE),build/san,$(if $(STATIC),build/static,build))
OBJ     := $(BUILD)/obj
CC      ?= gcc
CLANG   ?= clang
BPFTOOL ?= bpftool
# The package build gives VERSION on the command line (its tree has no git).
ifneq ($(origin VERSION),command line)
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo 0.1)
endif

# CFLAGS/LDFLAGS are the user's (make CFLAGS=-O0 replaces them); what the
# code needs to build at all is in MS_CFLAGS, which they cannot drop.
CFLAGS  ?= -O2 -g
MS_CFLAGS := -D_GNU_SOURCE= -Wall -Wextra -std=gnu11 -Iuser/lib -Ibpf -I$(BUILD) -MMD -MP -DMEMSCOPE_VERSION='"$(VERSION)"'
ifneq ($(SANITIZE),)
MS_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif
ALL_CFLAGS = $(MS_CFLAGS) $(TOOL_INC) $(CFLAGS)
# Tests preload jemalloc into a traced command, and so into the tool that
# launches it: the ASan runtime need not come first for that.
ifneq ($(SANITIZE),)
export MEMSCOPE_SANITIZE := $(SANITIZE)
export ASAN_OPTIONS ?= verify_asan_link_order=0
export UBSAN_OPTIONS ?= print_stacktrace=1
endif
LDLIBS  := -lbpf -ldw -lelf -lseccomp -lz -lm
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Ivmlinux/$(ARCH) -Ibpf -Wall -Wno-unused-function -MMD -MP

# Tool base name -> binary name. Each base has a folder user/<base>/ with
# its main in user/<base>/<base>.c and its own modules, built into
# $(BUILD)/lib<base>.a; optionally bpf/<base>.bpf.c and bpf/<base>.h (the
# kernel/user ABI). user/lib/ is the tool-free code every tool may use:
# $(BUILD)/libmemscope.a. A tool sees only user/lib/ and its own folder,
# plus the folders of the tools named in USES_<base> (a front end that
# drives other tools' collectors), whose archives it links too.
ALL_TOOLS      := memleak sockleak oomwatch memdiag exporter
TOOLS          := $(foreach t,$(ALL_TOOLS),$(if $(wildcard user/$(t)/$(t).c),$(t)))
BIN_memleak    := memleak-trace
BIN_sockleak   := sockleak
BIN_oomwatch   := oomwatch
BIN_memdiag    := memdiag
BIN_exporter   := memscope-exporter
# The exporter drives oomwatch's and sockleak's collectors.
USES_exporter  := oomwatch sockleak
BINS := $(foreach t,$(TOOLS),$(BUILD)/$(BIN_$(t)))

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_NAMES := $(patsubst bpf/%.bpf.c,%,$(BPF_SRCS))
CORE_SRCS := $(wildcard user/lib/*.c)
CORE_OBJS := $(patsubst user/%.c,$(OBJ)/%.o,$(CORE_SRCS))
# A tool's modules: its folder without its main.
tool_objs = $(patsubst user/%.c,$(OBJ)/%.o,$(filter-out user/$(1)/$(1).c,$(wildcard user/$(1)/*.c)))
tool_inc  = $(foreach d,$(1) $(USES_$(1)),-Iuser/$(d))
tool_libs = $(foreach d,$(1) $(USES_$(1)),$(BUILD)/lib$(d).a)

# Demo and test workloads: plain C programs; a few need special flags.
WL_SRCS := $(wildcard tests/workloads/*.c demo/*.c)
WL_BINS := $(patsubst %.c,$(BUILD)/%,$(WL_SRCS))
WL_CXX  := $(patsubst %.cpp,$(BUILD)/%,$(wildcard tests/workloads/*.cpp))
# Variants of a C workload: NAME-nofp (built like distro packages, no frame
# pointers) and NAME-static (no libc.so, so no uprobes on libc). List them here.
WL_VARIANTS := leak_mmap-nofp leak_syscall-static leak_deep-nofp leak_new-nofp sock_deep-nofp
# Go workloads: one module per folder, built with DWARF and stripped
# (-ldflags=-s -w: only Go's own pc-line table is left).
WL_GO    := $(patsubst tests/workloads/%/go.mod,$(BUILD)/tests/workloads/%,$(wildcard tests/workloads/*/go.mod))
# Libraries a workload loads with dlopen: tests/workloads/plugin/NAME.c -> libNAME.so.
WL_PLUGINS := $(patsubst tests/workloads/plugin/%.c,$(BUILD)/tests/workloads/lib%.so,$(wildcard tests/workloads/plugin/*.c))
WL_EXTRA := $(WL_CXX) $(patsubst %,$(BUILD)/tests/workloads/%,$(WL_VARIANTS)) $(WL_GO) $(WL_GO:=-stripped) $(WL_PLUGINS)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))
# A unit test links libmemscope.a, and the tool library it tests if any.
UNIT_TOOL_test_memstat := memdiag
UNIT_TOOL_test_oom     := oomwatch
UNIT_TOOL_test_exporter := exporter
UNIT_TOOL_test_memleak_views := memleak
UNIT_TOOL_test_ranges  := memleak
UNIT_TOOL_test_fdtab   := sockleak

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
# Keep the BPF objects: they are inputs of the skeletons and worth inspecting.
.SECONDARY: $(patsubst %,$(BUILD)/%.bpf.o,$(BPF_NAMES))
.PHONY: all tools workloads test test-vm test-vm-split test-vm-kernels test-vm-systemd test-kernel unit e2e demo bench clean deps
all: tools workloads

tools: $(BINS)
workloads: $(WL_BINS) $(WL_EXTRA)

# Missing packages are installed once per set (scripts/deps.sh's modes);
# the stamp is redone when the lists change. DEPS=build asks only for what
# the tools need (the package build), DEPS=demo for make demo.
DEPS ?= test
DEPS_DONE := $(BUILD)/.deps-$(DEPS)
$(DEPS_DONE): scripts/deps.sh
	$(Q)mkdir -p $(BUILD)
	$(Q)scripts/deps.sh $(DEPS)
	$(Q)touch $@
deps: $(DEPS_DONE)

$(BUILD)/%.bpf.o: bpf/%.bpf.c | $(DEPS_DONE)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $* > $@

# memleak-trace's and sockleak's programs built again for kernels before
# 5.13 (bpf/compat.bpf.h): the tool opens these bytes into its own
# skeleton there, so the two skeletons must have one layout (maps,
# programs, .rodata, .bss), which is checked here.
COMPAT_NAMES := memleak sockleak
.SECONDARY: $(patsubst %,$(BUILD)/%.compat.bpf.o,$(COMPAT_NAMES))
$(BUILD)/%.compat.bpf.o: bpf/%.bpf.c | $(DEPS_DONE)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -DMEMSCOPE_COMPAT -c $< -o $@

$(BUILD)/%.compat.skel.h: $(BUILD)/%.compat.bpf.o $(BUILD)/%.skel.h scripts/skel-same-layout
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_compat > $@
	$(Q)scripts/skel-same-layout $(BUILD)/$*.skel.h $@ $*

$(OBJ)/%.o: user/%.c | $(DEPS_DONE)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

# Each tool folder compiles with its own include path (pattern-specific);
# user/lib/ with none, whatever target asked for it.
$(OBJ)/lib/%.o: TOOL_INC :=
$(foreach t,$(TOOLS),$(eval $(OBJ)/$(t)/%.o: TOOL_INC := $(call tool_inc,$(t))))
# A tool's sources may include its skeleton: say so, or a parallel build
# races it (after the first build, -MMD records the real dependencies).
$(foreach t,$(filter $(BPF_NAMES),$(TOOLS)),$(eval $(OBJ)/$(t)/$(t).o $(call tool_objs,$(t)): | $(BUILD)/$(t).skel.h))
$(foreach t,$(filter $(COMPAT_NAMES),$(TOOLS)),$(eval $(OBJ)/$(t)/$(t).o $(call tool_objs,$(t)): | $(BUILD)/$(t).compat.skel.h))

$(BUILD)/libmemscope.a: $(CORE_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^
$(foreach t,$(TOOLS),$(eval $(BUILD)/lib$(t).a: $(call tool_objs,$(t))))
$(patsubst %,$(BUILD)/lib%.a,$(TOOLS)):
	$(call msg,AR,$@)
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

# memleak-trace --pprof: pprof's profile.proto compiled by protoc-c into
# $(BUILD)/proto/, linked into libmemleak.a with libprotobuf-c.
PROTO_GEN := $(BUILD)/proto/profile.pb-c.c $(BUILD)/proto/profile.pb-c.h
$(BUILD)/proto/profile.pb-c.h: $(BUILD)/proto/profile.pb-c.c
$(BUILD)/proto/profile.pb-c.c: proto/profile.proto | $(DEPS_DONE)
	$(call msg,PROTOC-C,$@)
	$(Q)mkdir -p $(@D)
	$(Q)protoc-c --proto_path=proto --c_out=$(@D) $<
$(OBJ)/proto/profile.pb-c.o: $(BUILD)/proto/profile.pb-c.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(filter-out -W%,$(ALL_CFLAGS)) -c $< -o $@
$(OBJ)/memleak/memleak_pprof.o: | $(BUILD)/proto/profile.pb-c.h
$(BUILD)/libmemleak.a: $(OBJ)/proto/profile.pb-c.o
$(BUILD)/memleak-trace: LDLIBS += -lprotobuf-c

$(foreach t,$(TOOLS),$(eval $(BUILD)/$(BIN_$(t)): $(OBJ)/$(t)/$(t).o $(call tool_libs,$(t)) $(BUILD)/libmemscope.a))
$(BINS):
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) $^ $(call link_libs,$(LDLIBS)) -o $@

# STATIC=1: every library from its .a (libdw's own compression libraries
# added), but glibc's (libm, libpthread) and gnutls, which libmicrohttpd's
# TLS needs and which has no complete static build in Debian; apt itself
# depends on gnutls, so a Debian or Ubuntu host has it.
STATIC_SHARED := -lm -lpthread
LD_STATIC  := -Wl,-Bstatic
LD_DYNAMIC := -Wl,-Bdynamic
link_libs = $(if $(STATIC),$(LD_STATIC) $(filter-out $(STATIC_SHARED),$(1)) -llzma -lbz2 $(LD_DYNAMIC) \
	$(if $(filter -lmicrohttpd,$(1)),-lgnutls) $(filter $(STATIC_SHARED),$(1)),$(1))

$(BUILD)/tests/workloads/%: tests/workloads/%.c | $(DEPS_DONE)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O1 -g -fno-omit-frame-pointer -Wall -Wextra -MMD -MP $< -o $@ -lpthread
$(BUILD)/tests/workloads/lib%.so: tests/workloads/plugin/%.c | $(DEPS_DONE)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O1 -g -fPIC -shared -fno-omit-frame-pointer -Wall -Wextra $< -o $@
$(BUILD)/demo/%: demo/%.c | $(DEPS_DONE)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O1 -g -fno-omit-frame-pointer -Wall -Wextra -MMD -MP $< -o $@ -lpthread
$(BUILD)/tests/workloads/%-nofp: tests/workloads/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -g -fomit-frame-pointer -DMEMSCOPE_NOFP -Wall -Wextra $< -o $@ -lpthread
# two_paths: two callers of one wrapper in a shared library, both built as
# distributions build (-O2 -fomit-frame-pointer): call sites that share
# every word of their key (see README, how call sites are keyed).
$(BUILD)/tests/workloads/libxwrap.so: tests/workloads/lib/xwrap.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -g -fomit-frame-pointer -fPIC -shared -Wall -Wextra $< -o $@
$(BUILD)/tests/workloads/two_paths: tests/workloads/two_paths.c $(BUILD)/tests/workloads/libxwrap.so
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -g -fomit-frame-pointer -Wall -Wextra $< -o $@ -L$(@D) -lxwrap -Wl,-rpath,'$$ORIGIN'
$(BUILD)/tests/workloads/%-static: tests/workloads/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O1 -g -static -Wall -Wextra $< -o $@
$(BUILD)/tests/workloads/%-nofp: tests/workloads/%.cpp
	$(call msg,CXX,$@)
	$(Q)mkdir -p $(@D)
	$(Q)g++ -O2 -g -fomit-frame-pointer -Wall -Wextra $< -o $@
$(BUILD)/tests/workloads/%: tests/workloads/%.cpp
	$(call msg,CXX,$@)
	$(Q)mkdir -p $(@D)
	$(Q)g++ -O1 -g -Wall -Wextra $< -o $@
# The go tool's cache in the build directory, no network, the installed Go;
# pure Go (no cgo, though net is imported): the runtime maps its heap itself.
GO_ENV := GOCACHE=$(abspath $(BUILD))/gocache GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local CGO_ENABLED=0
$(BUILD)/tests/workloads/%: tests/workloads/%/go.mod tests/workloads/%/*.go | $(DEPS_DONE)
	$(call msg,GO,$@)
	$(Q)mkdir -p $(@D)
	$(Q)cd $(<D) && $(GO_ENV) go build -o $(abspath $@) .
$(BUILD)/tests/workloads/%-stripped: tests/workloads/%/go.mod tests/workloads/%/*.go | $(DEPS_DONE)
	$(call msg,GO,$@)
	$(Q)mkdir -p $(@D)
	$(Q)cd $(<D) && $(GO_ENV) go build -ldflags='-s -w' -o $(abspath $@) .

$(foreach u,$(patsubst tests/unit/%.c,%,$(UNIT_SRCS)),$(eval $(BUILD)/unit/$(u): $(if $(UNIT_TOOL_$(u)),$(call tool_libs,$(UNIT_TOOL_$(u))))))
$(foreach u,$(patsubst tests/unit/%.c,%,$(UNIT_SRCS)),$(eval $(BUILD)/unit/$(u): TOOL_INC := $(if $(UNIT_TOOL_$(u)),$(call tool_inc,$(UNIT_TOOL_$(u))))))
$(BUILD)/unit/%: tests/unit/%.c $(BUILD)/libmemscope.a | $(DEPS_DONE)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) $< $(filter-out $(BUILD)/libmemscope.a,$(filter %.a,$^)) $(BUILD)/libmemscope.a $(LDLIBS) -lcmocka -o $@

unit: $(UNIT_BINS)
	$(Q)for t in $(UNIT_BINS); do $$t || exit 1; done

e2e: all
	$(Q)MEMSCOPE_BUILD=$(BUILD) bats tests/e2e

# The bench's binaries (built below): the stress suite runs its workloads.
BENCH_DIR  := $(BUILD)/bench
BENCH_BINS := $(BENCH_DIR)/floor $(BENCH_DIR)/bench-wl $(BENCH_DIR)/symbench

# The README's test command: unit tests of the core, then the end-to-end suite
# (the stress suite drives the bench's workload binary), then the delivery
# suite (the Debian package in a clean root: host-side, it needs Debian's
# archive, so the test guest does not run it).
test: all $(UNIT_BINS) $(BENCH_BINS)
	$(Q)MEMSCOPE_BUILD=$(BUILD) scripts/run-tests.sh
	$(Q)MEMSCOPE_BUILD=$(BUILD) bats --timing tests/delivery

# The same suites in a QEMU guest on a Debian stock kernel with cgroup v2
# alone (scripts/test-vm; its packages: scripts/deps.sh vm). KERNEL=5.10,
# 6.1 (the default) or 6.12 picks the series; E2E="files" runs only those
# bats files there; SUITE=kernel only the kernel-facing tests (bats tag
# "kernel"), what CI runs on 5.10 and 6.12. make test-kernel runs those
# on this host.
KERNEL ?= 6.1
SUITE ?= all
test-vm: all $(UNIT_BINS) $(BENCH_BINS)
	$(Q)scripts/deps.sh vm
	$(Q)MEMSCOPE_VM_SERIES="$(KERNEL)" MEMSCOPE_E2E="$(E2E)" MEMSCOPE_SUITE="$(SUITE)" scripts/test-vm

# The kernel-facing suite in a 5.10 and a 6.12 guest at once, one vCPU
# each (MEMSCOPE_VM_KERNELS, MEMSCOPE_VM_CPUS change that).
# CI's 6.1 guest suites (SUITE=guest) in two 1-vCPU guests at once, each
# over part of the bats files (scripts/test-vm-split).
test-vm-split: all $(UNIT_BINS) $(BENCH_BINS)
	$(Q)scripts/deps.sh vm
	$(Q)MEMSCOPE_BUILD=$(BUILD) scripts/test-vm-split

test-vm-kernels: all $(UNIT_BINS) $(BENCH_BINS)
	$(Q)scripts/deps.sh vm
	$(Q)MEMSCOPE_BUILD=$(BUILD) scripts/test-vm-kernels

# The units of deploy/systemd under systemd as PID 1, in a guest (KERNEL,
# default 6.1) booted with MEMSCOPE_VM_INIT=systemd: tests/vm/systemd.bats.
test-vm-systemd: all
	$(Q)scripts/deps.sh vm
	$(Q)MEMSCOPE_VM_INIT=systemd MEMSCOPE_VM_SERIES="$(KERNEL)" MEMSCOPE_VM_TIMEOUT=$${MEMSCOPE_VM_TIMEOUT:-1500} \
		scripts/test-vm -- bats --timing tests/vm

test-kernel: all $(UNIT_BINS) $(BENCH_BINS)
	$(Q)MEMSCOPE_BUILD=$(BUILD) MEMSCOPE_SUITE=kernel scripts/run-tests.sh

# The demo needs the tools and its own programs (demo/*.c, and the hog
# the OOM part starts), built with the packages of scripts/deps.sh demo:
# none of the test suites' software (Go, PHP, redis, Prometheus, ...).
DEMO_BINS := $(patsubst demo/%.c,$(BUILD)/demo/%,$(wildcard demo/*.c)) $(BUILD)/tests/workloads/hog
demo:
	$(Q)$(MAKE) --no-print-directory DEPS=demo tools $(DEMO_BINS)
	$(Q)MEMSCOPE_BUILD=$(BUILD) scripts/demo.sh

# The whole bench; its tables replace the full run's in docs/benchmarks.md.
bench: all
	$(Q)scripts/bench --docs docs/benchmarks.md

# libFuzzer targets over every parser of outside text (tests/fuzz), built
# with clang's fuzzer, address and undefined sanitizers in $(BUILD)/fuzz;
# scripts/fuzz runs each FUZZ_SECONDS (default 30), seeded from real files
# (docs/hardening.md), and fails on any finding.
FUZZ_SECONDS ?= 30
FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# Every user/lib module and the pprof writer go into one archive: each
# target links only the modules it reaches.
FUZZ_CORE   := $(patsubst user/lib/%.c,$(BUILD)/fuzz/obj/%.o,$(CORE_SRCS)) \
	       $(BUILD)/fuzz/obj/memleak_pprof.o $(BUILD)/fuzz/obj/profile.pb-c.o
FUZZ_BINS   := $(patsubst tests/fuzz/fuzz_%.c,$(BUILD)/fuzz/fuzz_%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_CFLAGS  = $(filter-out -fsanitize=% -fno-sanitize-recover=all,$(MS_CFLAGS)) -g -O1 $(FUZZ_SAN) -Itests/fuzz -Iuser/memleak

$(BUILD)/fuzz/obj/%.o: user/lib/%.c | $(DEPS_DONE)
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
$(BUILD)/fuzz/obj/memleak_pprof.o: user/memleak/memleak_pprof.c $(BUILD)/proto/profile.pb-c.h
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
$(BUILD)/fuzz/obj/profile.pb-c.o: $(BUILD)/proto/profile.pb-c.c
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
$(BUILD)/fuzz/libcore.a: $(FUZZ_CORE)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^
$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(BUILD)/fuzz/libcore.a
	$(call msg,FUZZ-LD,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(filter %.c %.a,$^) $(LDLIBS) -lprotobuf-c -o $@
.PHONY: fuzz fuzz-bins
.SECONDARY: $(FUZZ_CORE)
fuzz-bins: $(FUZZ_BINS)
fuzz: $(FUZZ_BINS) $(WL_GO:=-stripped)
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz $(BUILD)

clean:
	rm -rf $(BUILD)

-include $(wildcard $(OBJ)/*/*.d $(BUILD)/*.d $(BUILD)/unit/*.d $(BUILD)/fuzz/obj/*.d $(BUILD)/fuzz/*.d $(BUILD)/tests/workloads/*.d $(BUILD)/demo/*.d)

# --- benchmark harness (owned by bench) ---
# scripts/bench runs the tools against these: the empty-program floor
# loader (bpf/floor.bpf.c + scripts/bench.d/floor.c) and the workloads.
.PHONY: bench-bins
bench-bins: $(BENCH_BINS)
bench: bench-bins

$(BENCH_DIR)/floor: scripts/bench.d/floor.c $(BUILD)/floor.skel.h | $(DEPS_DONE)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) $< -lbpf -lelf -lz -o $@
# Built like the test workloads: frame pointers, so stacks name the loop.
$(BENCH_DIR)/bench-wl: scripts/bench.d/wl.c | $(DEPS_DONE)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O1 -g -fno-omit-frame-pointer -Wall -Wextra -MMD -MP $< -o $@ -lpthread

# The symbolizer alone, with its worker or in-process (scripts/bench --symworker).
$(BENCH_DIR)/symbench: scripts/bench.d/symbench.c $(BUILD)/libmemscope.a | $(DEPS_DONE)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) $< $(BUILD)/libmemscope.a $(LDLIBS) -o $@

-include $(wildcard $(BENCH_DIR)/*.d)

# --- memscope-exporter (user/exporter/, owned by exporter) ---
# A tool like the others (its main is user/exporter/exporter.c); it serves
# HTTP with libmicrohttpd from a thread of its own.
EXPORTER_LIBS := -lmicrohttpd -lyaml -lcrypt -lpthread
$(BUILD)/memscope-exporter: LDLIBS += $(EXPORTER_LIBS)
$(BUILD)/unit/test_exporter: LDLIBS += $(EXPORTER_LIBS)
$(BUILD)/unit/test_memleak_views: LDLIBS += -lprotobuf-c

# --- man pages, install ---
# Each tool's man page is kept as scdoc source in man/ and rendered here.
MAN_SRCS := $(wildcard man/*.8.scd)
MAN_PAGES := $(patsubst man/%.scd,$(BUILD)/man/%,$(MAN_SRCS))
.PHONY: man install uninstall
all: man
man: $(MAN_PAGES)
$(BUILD)/man/%: man/%.scd | $(DEPS_DONE)
	$(call msg,SCDOC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)scdoc < $< > $@

# make install [PREFIX=/usr/local] [DESTDIR=]: the tools, their man pages,
# the systemd units (their paths rewritten to this PREFIX), the alert rules,
# the exporter's configuration (into SYSCONFDIR unless one is there) and the
# docs the units point to. make uninstall takes back what install put, and
# leaves a configuration that was changed.
PREFIX     ?= /usr/local
SYSCONFDIR ?= /etc
SBINDIR    := $(PREFIX)/sbin
MAN8DIR    := $(PREFIX)/share/man/man8
DOCDIR     := $(PREFIX)/share/doc/memscope
DATADIR    := $(PREFIX)/share/memscope
UNITDIR    ?= $(PREFIX)/lib/systemd/system
UNITS      := $(wildcard deploy/systemd/*.service)
DOCS       := $(wildcard docs/*.md)
RULES      := deploy/prometheus/memscope-rules.yml deploy/prometheus/memscope-rules.test.yml
EXPORTER_CONF := $(DESTDIR)$(SYSCONFDIR)/memscope/exporter.conf
UNIT_PATHS := -e 's|/usr/local/sbin|$(SBINDIR)|g' -e 's|/usr/local/share/doc/memscope|$(DOCDIR)|g' \
	-e 's|/etc/memscope|$(SYSCONFDIR)/memscope|g'

install: tools man
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MAN8DIR) $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR)/docs \
		$(DESTDIR)$(DATADIR)/prometheus $(DESTDIR)$(UNITDIR)
	install -m 0755 $(BINS) $(DESTDIR)$(SBINDIR)/
	install -m 0644 $(MAN_PAGES) $(DESTDIR)$(MAN8DIR)/
	# docs/ keeps its place beside README.md, so the links between them work installed.
	install -m 0644 README.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/docs/
	install -m 0644 deploy/memscope-exporter.conf $(DESTDIR)$(DOCDIR)/examples/exporter.conf
	install -m 0644 $(RULES) $(DESTDIR)$(DATADIR)/prometheus/
	for u in $(UNITS); do sed $(UNIT_PATHS) $$u > $(DESTDIR)$(UNITDIR)/$${u##*/} && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$${u##*/} || exit 1; done
	[ -e $(EXPORTER_CONF) ] || install -D -m 0644 deploy/memscope-exporter.conf $(EXPORTER_CONF)

uninstall:
	rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,$(notdir $(BINS))) \
		$(addprefix $(DESTDIR)$(MAN8DIR)/,$(notdir $(MAN_PAGES))) \
		$(addprefix $(DESTDIR)$(UNITDIR)/,$(notdir $(UNITS)))
	rm -rf $(DESTDIR)$(DOCDIR) $(DESTDIR)$(DATADIR)
	if cmp -s deploy/memscope-exporter.conf $(EXPORTER_CONF); then \
		rm -f $(EXPORTER_CONF); rmdir $(DESTDIR)$(SYSCONFDIR)/memscope 2>/dev/null || true; \
	elif [ -e $(EXPORTER_CONF) ]; then echo "uninstall: $(EXPORTER_CONF) was changed: left in place"; fi

# make deb: the Debian package (debian/) built from a copy of the tracked
# files in $(BUILD)/deb, where the .deb is left; lintian checks it.
# Read when make deb runs, not at every make.
DEB_VERSION = $(shell dpkg-parsechangelog -l debian/changelog -S Version 2>/dev/null)
.PHONY: deb
deb: | $(DEPS_DONE)
	rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/memscope-$(DEB_VERSION)
	git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t $(BUILD)/deb/memscope-$(DEB_VERSION)
	# Our command line (BUILD=...) must not reach the package's own make.
	cd $(BUILD)/deb/memscope-$(DEB_VERSION) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		dpkg-buildpackage -b -us -uc -j2 > ../build.log 2>&1 || \
		{ tail -30 ../build.log; exit 1; }
	lintian --fail-on error $(BUILD)/deb/memscope_$(DEB_VERSION)_amd64.deb

# make static: the five tools with their libraries inside (STATIC=1 above),
# for a host where nothing can be installed; build/static/.
.PHONY: static
static:
	$(Q)$(MAKE) --no-print-directory STATIC=1 tools
	$(Q)for b in $(notdir $(BINS)); do printf '  %-20s %6s KiB, needs: %s\n' $$b \
		$$(( $$(stat -c %s build/static/$$b) / 1024 )) \
		"$$(objdump -p build/static/$$b | awk '/NEEDED/ { printf "%s ", $$2 }')"; done
