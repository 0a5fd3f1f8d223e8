# netprof build.
#   make            build ./netprof (BPF objects, skeletons, user space)
#   make static     build .output/static/netprof, fully static (for the VM tests)
#   make test       unit tests (no root needed) then integration tests (root)
#   make vmlinux    regenerate vmlinux/x86/vmlinux.h from this machine's BTF
#   make V=1        show the commands
# Outputs go under .output/; the only file written at the top is ./netprof.
# OUTPUT=dir BIN=path move both (parallel work trees, VM images).

OUTPUT  ?= .output
BIN     ?= netprof
ARCH    := x86
VMLINUX := vmlinux/$(ARCH)/vmlinux.h
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

# clang-19 when installed (it knows every kfunc and BTF tag we use), else clang.
CLANG   ?= $(shell command -v clang-19 2>/dev/null || command -v clang)
BPFTOOL ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
CC      ?= cc
PKG_CONFIG ?= pkg-config

LIBBPF_CFLAGS := $(shell $(PKG_CONFIG) --cflags libbpf 2>/dev/null)
LIBBPF_LIBS   := $(shell $(PKG_CONFIG) --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz)

WARN    := -Wall -Wextra -Werror
# Frame pointers: the stack sampler walks netprof's own threads with them.
CFLAGS  ?= -O2 -g -fno-omit-frame-pointer
CFLAGS  += -std=gnu11 $(WARN) -D_GNU_SOURCE -DNETPROF_VERSION='"$(VERSION)"' \
	   -I$(OUTPUT) -I. -Iuser $(LIBBPF_CFLAGS) -MMD -MP
LDLIBS  := $(LIBBPF_LIBS) -lelf -lz -lpthread -lm
# A BPF program's signature is fixed by its attach point, so unused
# parameters are normal there; every other warning is an error.
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) $(WARN) \
	      -Wno-unused-function -Wno-unused-parameter -I$(OUTPUT) -Ivmlinux/$(ARCH) -Ibpf -MMD -MP

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(OUTPUT)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS     := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))
# One folder per subsystem under user/ (cli, lib, probe, topo, datapath,
# loadgen, trace, profile, run); objects mirror the tree under $(OUTPUT)/user.
USER_SRCS := $(wildcard user/*/*.c)
USER_OBJS := $(patsubst user/%.c,$(OUTPUT)/user/%.o,$(USER_SRCS))
LIB_OBJS  := $(filter-out $(OUTPUT)/user/cli/main.o,$(USER_OBJS))
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_OBJS := $(patsubst tests/unit/%.c,$(OUTPUT)/unit/%.o,$(UNIT_SRCS))
# Programs the tests load with iproute2 or bpftool, to check netprof's claims.
TEST_BPF_OBJS := $(patsubst tests/bpf/%.bpf.c,$(OUTPUT)/tests/%.bpf.o,$(wildcard tests/bpf/*.bpf.c))

ifeq ($(V),1)
Q :=
msg =
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
# BPF objects and skeletons are intermediates of the link; keep them so a
# second make has nothing to do.
.SECONDARY:
.PHONY: all static test unit-test integration-test vmlinux clean setup

all: $(BIN)

$(BIN): $(USER_OBJS)
	$(call msg,LINK,$@)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(OUTPUT)/static/netprof: $(USER_OBJS)
	$(Q)mkdir -p $(@D)
	$(call msg,LINK,$@)$(CC) -static $(LDFLAGS) -o $@ $^ \
		$(shell $(PKG_CONFIG) --static --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz) \
		-lelf -lz -lpthread -lm
static: $(OUTPUT)/static/netprof

# The built-in cost categories: user/profile/categories.conf as a C string.
$(OUTPUT)/categories_default.h: user/profile/categories.conf
	$(Q)mkdir -p $(@D)
	$(call msg,GEN,$@)sed 's/\\/\\\\/g; s/"/\\"/g; s/^/"/; s/$$/\\n"/' $< > $@

# Skeletons and generated headers are order-only: they must exist before the
# first compile, and afterwards the .d files name the ones each object
# includes, so touching one .bpf.c rebuilds only the objects using its skeleton.
GENERATED := $(SKELS) $(OUTPUT)/categories_default.h
$(OUTPUT)/user/%.o: user/%.c | $(GENERATED)
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(CFLAGS) -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/bpf/%.bpf.o
	$(call msg,SKEL,$@)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

$(OUTPUT)/bpf/%.bpf.o: bpf/%.bpf.c $(VMLINUX) | $(OUTPUT)/bpf
	$(call msg,BPF,$@)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/tests/%.bpf.o: tests/bpf/%.bpf.c $(VMLINUX) | $(OUTPUT)/tests
	$(call msg,BPF,$@)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/unit/%.o: tests/unit/%.c | $(GENERATED) $(OUTPUT)/unit
	$(call msg,CC,$@)$(CC) $(CFLAGS) -Itests/unit -c $< -o $@

$(OUTPUT)/unit-tests: $(UNIT_OBJS) $(LIB_OBJS)
	$(call msg,LINK,$@)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(OUTPUT)/bpf $(OUTPUT)/unit $(OUTPUT)/tests:
	$(Q)mkdir -p $@

test: $(BIN) $(OUTPUT)/unit-tests $(TEST_BPF_OBJS)
	$(Q)OUTPUT=$(OUTPUT) NETPROF=$(abspath $(BIN)) tests/run.sh

unit-test: $(OUTPUT)/unit-tests
	$(Q)$(OUTPUT)/unit-tests

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(VMLINUX).tmp
	mv $(VMLINUX).tmp $(VMLINUX)

setup:
	scripts/setup.sh

clean:
	rm -rf $(OUTPUT) netprof

-include $(wildcard $(OUTPUT)/user/*/*.d $(OUTPUT)/bpf/*.d $(OUTPUT)/unit/*.d $(OUTPUT)/tests/*.d)
