#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make guest CMD='...': runs CMD as root in a guest booted on the harness'
# kernel (QEMU TCG through vng; the host's root filesystem is the guest's),
# with bpffs and debugfs mounted and bpf-iter and bpftool on PATH (those of
# make demo or make check, or BIN=DIR), from the directory make was run in.
# For trying a target built with `make external`. Prints what CMD prints and
# exits with its status; one guest at a time (the harness' qemu lock).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
[ -n "${CMD:-}" ] ||
	die "usage: make guest CMD='insmod /path/x.ko && bpf-iter run /path/x.bpf.o'"
KB=$(bash "$ROOT/tools/harness/kernel.sh" --kdir) || die "no kernel tree: run make demo first"
[ -f "$KB/arch/x86/boot/bzImage" ] || die "no kernel image in $KB: run make demo first"
BIN=${BIN:-}
if [ -z "$BIN" ]; then
	for d in "$ROOT/out/demo/bin" "$ROOT/out/check/bin"; do
		[ -x "$d/bpf-iter" ] && BIN=$d && break
	done
fi
[ -n "$BIN" ] && [ -x "$BIN/bpf-iter" ] || die "no bpf-iter built: run make demo (or make check) first"
script="mount -t bpf bpf /sys/fs/bpf 2>/dev/null; mount -t debugfs none /sys/kernel/debug 2>/dev/null;"
script+=" export PATH=$(printf %q "$BIN"):\$PATH; cd $(printf %q "${WORKDIR:-$PWD}") && { $CMD; }"
# root=/dev/root and its rootflags: see boot() in check.sh (vng names no root device).
with_lock qemu timeout -k 10 "${GUEST_RUN_TIMEOUT:-600}" vng --disable-kvm \
	--run "$KB/arch/x86/boot/bzImage" --memory 2G \
	--append "root=/dev/root rootflags=version=9p2000.L,trans=virtio,access=any" \
	--exec "$script" </dev/null
