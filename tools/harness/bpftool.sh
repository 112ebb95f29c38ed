#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build bpftool (and libbpf's headers) from the kernel tree into
# $CACHE/linux-$KVER/bpftool-<flags>, once per kernel version and flags.
#
# Without a JIT disassembler (nothing here dumps JITed code): bpftool's
# Makefile links libLLVM-14 when it finds it, and loading that library and its
# dependencies (about 140 MB) at every start cost 13 s of a `bpftool version`
# in the debug guest (KASAN and lockdep under TCG), where the suites run
# bpftool about 40 times.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
kernel_paths
FLAGS=(feature-llvm=0 feature-libbfd=0 feature-libbfd-liberty=0 feature-libbfd-liberty-z=0)
OUT=$CACHE/linux-$KVER/bpftool-$(printf '%s\n' "${FLAGS[@]}" | sha256sum | cut -c1-8)
if [ "${1:-}" = --path ]; then echo "$OUT"; exit 0; fi
[ -f "$KSRC/.complete" ] || die "no kernel source yet: run 'make kernel'"
if [ -x "$OUT/bpftool" ] && [ -f "$OUT/libbpf/include/bpf/bpf_helper_defs.h" ]; then
	cached "bpftool: $OUT/bpftool"
	exit 0
fi
step "bpftool: building from $KSRC/tools/bpf/bpftool (about a minute)"
mkdir -p "$OUT"
make -C "$KSRC/tools/bpf/bpftool" -j"$(nproc)" OUTPUT="$OUT/" "${FLAGS[@]}" \
	>"$OUT/build.log" 2>&1 || { tail -n 20 "$OUT/build.log" >&2; die "bpftool build failed: see $OUT/build.log"; }
[ -f "$OUT/libbpf/include/bpf/bpf_helper_defs.h" ] ||
	die "bpftool build left no libbpf headers in $OUT/libbpf/include"
ldd "$OUT/bpftool" | grep -q libLLVM && die "bpftool in $OUT links libLLVM although built with ${FLAGS[*]}"
step "bpftool: $("$OUT/bpftool" version | head -n1)"
