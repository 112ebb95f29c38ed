#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build bpftool (and libbpf's headers) from the kernel tree into
# $CACHE/linux-$KVER/bpftool, once per kernel version.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
kernel_paths
OUT=$CACHE/linux-$KVER/bpftool
if [ "${1:-}" = --path ]; then echo "$OUT"; exit 0; fi
[ -f "$KSRC/.complete" ] || die "no kernel source yet: run 'make kernel'"
if [ -x "$OUT/bpftool" ] && [ -f "$OUT/libbpf/include/bpf/bpf_helper_defs.h" ]; then
	cached "bpftool: $OUT/bpftool"
	exit 0
fi
step "bpftool: building from $KSRC/tools/bpf/bpftool (about a minute)"
mkdir -p "$OUT"
make -C "$KSRC/tools/bpf/bpftool" -j"$(nproc)" OUTPUT="$OUT/" \
	>"$OUT/build.log" 2>&1 || { tail -n 20 "$OUT/build.log" >&2; die "bpftool build failed: see $OUT/build.log"; }
[ -f "$OUT/libbpf/include/bpf/bpf_helper_defs.h" ] ||
	die "bpftool build left no libbpf headers in $OUT/libbpf/include"
step "bpftool: $("$OUT/bpftool" version | head -n1)"
