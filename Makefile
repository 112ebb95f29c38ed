# SPDX-License-Identifier: GPL-2.0
#
# rust-bpf-iter: safe Rust abstractions for BPF iterator targets.
# See README.md. Caches live outside the clone, in $(CACHE).

H := tools/harness
export CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/rust-bpf-iter

.PHONY: all deps kernel kdir bpftool modules lint check check-debug demo clean help

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

lint: modules
	@bash $(H)/lint.sh out/lint

check:
	@bash $(H)/check.sh check

# make check, then the same suites on the debug kernel (.config.debug.fragment).
check-debug:
	@DEBUG_KERNEL=1 bash $(H)/check.sh check

demo:
	@bash $(H)/check.sh demo

clean:
	rm -rf out
