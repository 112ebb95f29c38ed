#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build.sh VMLINUX OUT_DIR
#
# Generates OUT_DIR/include/vmlinux.h from VMLINUX (an ELF with BTF, or a raw
# BTF file such as /sys/kernel/btf/vmlinux), compiles progs/*.bpf.c into
# OUT_DIR/progs/ (those with an "#ifdef TWIN" also as rust_<name>.bpf.o, for
# the Rust twins of the task targets), builds the crate (release, --locked) and copies the
# bpf-iter and bpf-iter-selftest binaries into OUT_DIR/bin/.
#
# Environment (required): BPFTOOL (bpftool binary), LIBBPF_INCLUDE (directory
# holding bpf/bpf_helpers.h and bpf/bpf_helper_defs.h).
# Optional: CLANG (default clang), CARGO_TARGET_DIR (default
# $HOME/.cache/rust-bpf-iter/cargo-target, outside the repository).
set -euo pipefail

die() { echo "build.sh: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: build.sh VMLINUX OUT_DIR"
VMLINUX=$1
OUT=$2
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

[ -n "${BPFTOOL:-}" ] || die "BPFTOOL is not set"
[ -x "$BPFTOOL" ] || die "BPFTOOL=$BPFTOOL is not an executable"
[ -n "${LIBBPF_INCLUDE:-}" ] || die "LIBBPF_INCLUDE is not set"
for h in bpf/bpf_helpers.h bpf/bpf_helper_defs.h bpf/bpf_tracing.h; do
	[ -f "$LIBBPF_INCLUDE/$h" ] || die "LIBBPF_INCLUDE=$LIBBPF_INCLUDE has no $h"
done
[ -r "$VMLINUX" ] || die "cannot read VMLINUX=$VMLINUX"
CLANG=${CLANG:-clang}
command -v "$CLANG" >/dev/null || die "$CLANG not found"
command -v cargo >/dev/null || die "cargo not found"

mkdir -p "$OUT/include" "$OUT/progs" "$OUT/bin"
OUT=$(cd "$OUT" && pwd)

"$BPFTOOL" btf dump file "$VMLINUX" format c > "$OUT/include/vmlinux.h.tmp" ||
	die "bpftool could not dump BTF of $VMLINUX"
mv "$OUT/include/vmlinux.h.tmp" "$OUT/include/vmlinux.h"

bpf_cc() { # SRC OBJ [CFLAGS...]
	local src=$1 obj=$2
	shift 2
	"$CLANG" -O2 -g -target bpf -D__TARGET_ARCH_x86 -fms-extensions -Wno-microsoft-anon-tag \
		-I"$OUT/include" -I"$LIBBPF_INCLUDE" "$@" \
		-c "$src" -o "$obj" || die "compiling $src $* failed"
}
# Programs that test for TWIN are built a second time, as rust_<name>.bpf.o,
# for the Rust twin of their target (samples/rust/bpf_iter_task).
for src in "$HERE"/progs/*.bpf.c; do
	name=$(basename "${src%.c}")
	bpf_cc "$src" "$OUT/progs/$name.o"
	if grep -q '^#ifdef TWIN' "$src"; then
		bpf_cc "$src" "$OUT/progs/rust_$name.o" -DTWIN
	fi
done

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/rust-bpf-iter/cargo-target}
(cd "$HERE" && cargo build --release --locked) || die "cargo build failed"
for b in bpf-iter bpf-iter-selftest; do
	install -m 0755 "$CARGO_TARGET_DIR/release/$b" "$OUT/bin/$b"
done
echo "build.sh: built $OUT/bin and $OUT/progs"
