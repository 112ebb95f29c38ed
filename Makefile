# SPDX-License-Identifier: GPL-2.0
#
# rust-bpf-iter: safe Rust abstractions for BPF iterator targets.
# See README.md. Caches live outside the clone, in $(CACHE).

H := tools/harness
# make external M=DIR: M is for this Makefile only, not for the kernel's make
# that the harness runs (it would build DIR instead of the kernel).
MAKEOVERRIDES := $(filter-out M=%,$(MAKEOVERRIDES))
export CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/rust-bpf-iter

.PHONY: all deps kernel kdir bpftool modules external guest lint check check-normal demo bench clean help

all: check

help:
	@sed -n 's/^## //p' README.md

deps:
	@bash $(H)/deps.sh

kernel: deps
	@bash $(H)/kernel.sh

kdir:
	@bash $(H)/kernel.sh --kdir

bpftool: kernel
	@bash $(H)/bpftool.sh

modules: $(if $(KDIR),,kernel)
	@bash $(H)/modules.sh

# A target directory outside this repository (M=DIR, holding a Kbuild or
# Makefile), built as make modules builds samples/: the pinned toolchain, the
# kernel tree (or KDIR), the layout check; the .ko files land in DIR.
external: $(if $(KDIR),,kernel)
	@test -n "$(M)" || { echo "usage: make external M=/path/to/target [KDIR=...]" >&2; exit 2; }
	@EXT="$(M)" bash $(H)/modules.sh

# A command in a guest on the harness' kernel, e.g. a target built with make
# external: make guest CMD='insmod DIR/x.ko && bpf-iter run DIR/x.bpf.o'.
guest: kernel
	@WORKDIR="$(CURDIR)" bash $(H)/guest-run.sh

lint: modules
	@bash $(H)/lint.sh out/lint

check:
	@bash $(H)/check.sh check

# make check without the debug guest, for work on something else (it takes 25
# to 35 minutes of make check): its results then count it as not run.
check-normal:
	@DEBUG_KERNEL=0 bash $(H)/check.sh check

demo:
	@bash $(H)/check.sh demo

# The Rust twins against the C task targets, by instructions executed (QEMU
# icount), in one boot; BENCH=ROUNDS,PROCS,FDS. Not part of make check (its
# guest suite bench-smoke runs one round).
bench:
	@bash $(H)/check.sh bench

clean:
	rm -rf out
