#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build samples/ as out-of-tree modules against the built kernel
# (make -C $KDIR M=...), in a copy outside the clone so the work tree stays
# clean. Usage: modules.sh [DEST]   (copies the .ko files to DEST)
#
# With EXT=DIR, builds the target directory DIR instead (make external M=DIR):
# DIR holds a Kbuild or Makefile for kbuild, as for make -C $KDIR M=DIR. The
# same toolchain, the same kernel tree, the same layout check; the build runs
# in a copy under the cache, and the .ko files are copied back to DIR (or to
# DEST).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
kernel_paths
if [ -n "${KDIR:-}" ]; then
	[ -f "$KDIR/Module.symvers" ] || die "KDIR=$KDIR is no built kernel tree (no Module.symvers)"
	KBUILD=$(cd "$KDIR" && pwd)
else
	[ -f "$KBUILD/.build-stamp" ] || die "kernel not built: run 'make kernel'"
fi
check_bindings "$KBUILD"
DEST=${1:-}
copy=(--exclude='*.o' --exclude='*.ko' --exclude='.*' --exclude='*.mod*'
	--exclude=modules.order --exclude=Module.symvers)
if [ -n "${EXT:-}" ]; then
	[ -d "$EXT" ] || die "M=$EXT is not a directory"
	EXT=$(cd "$EXT" && pwd)
	[ -f "$EXT/Kbuild" ] || [ -f "$EXT/Makefile" ] || die "M=$EXT has no Kbuild or Makefile"
	DEST=${DEST:-$EXT}
	M=$CACHE/external-build-$(printf %s "$EXT" | sha256sum | cut -c1-8)
	mkdir -p "$M"
	rsync -rc --delete "${copy[@]}" "$EXT/" "$M/" || die "rsync of $EXT failed"
else
	M=$MODBUILD
	mkdir -p "$M"
	rsync -rc --delete "${copy[@]}" \
		"$ROOT/Kbuild" "$ROOT/samples" "$M/" || die "rsync of samples/ failed"
fi
# A failed build's log, without pahole 1.24's notes on the Rust types it cannot encode in BTF
# (Rust enums and generics: `die__process_class: tag not supported`), which every module build
# prints and which are no error (Documentation/rust/bpf_iter.rst, "The C glue ...").
show_build_log() {
	local n
	n=$(grep -c 'die__process_class: tag not supported' "$1" || true)
	grep -v 'die__process_class: tag not supported' "$1" >&2
	((n == 0)) || echo "($n lines of pahole's 'die__process_class: tag not supported' left out: Rust types it does not encode, expected)" >&2
}
step "modules: make -C $KBUILD M=$M LLVM=$KLLVM"
RUSTUP_TOOLCHAIN=$KERNEL_RUST in_kroot make -C "$KBUILD" M="$M" LLVM="$KLLVM" -j"$(nproc)" modules \
	>"$M/build.log" 2>&1 || { show_build_log "$M/build.log"; die "out-of-tree module build failed"; }
mapfile -t kos < <(cd "$M" && find . -name '*.ko' | sort)
((${#kos[@]})) || die "no modules built: is Kbuild empty?"
step "modules: ${kos[*]}"
# The build-time check of Rust iterator contexts against the modules' BTF.
BPFTOOL=$(bash "$ROOT/tools/harness/bpftool.sh" --path)/bpftool
[ -x "$BPFTOOL" ] || bash "$ROOT/tools/harness/bpftool.sh" >&2
(cd "$M" && python3 "$ROOT/tools/harness/layout_check.py" --vmlinux "$KBUILD/vmlinux" \
	--bpftool "$BPFTOOL" "${kos[@]}") >&2 ||
	die "a BPF iterator context does not match its BTF anchor (see above)"
if [ -n "$DEST" ]; then
	mkdir -p "$DEST"
	for k in "${kos[@]}"; do cp "$M/$k" "$DEST/"; done
fi
