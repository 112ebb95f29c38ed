#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Lints of the kernel-tree parts, as TAP on stdout (details in $OUT/lint-*.log):
# rustfmt, clippy (make CLIPPY=1, in a separate build directory so the main
# one keeps its objects), rustdoc, checkpatch on the C files and the patches;
# and of tools/bpf-iter: cargo fmt --check, cargo clippy (every target, -D warnings).
# Usage: lint.sh OUT
set -uo pipefail
. "$(dirname "$0")/lib.sh"
OUT=$1
mkdir -p "$OUT"
kernel_paths
export RUSTUP_TOOLCHAIN=$KERNEL_RUST
CL=$KBUILD-clippy
n=0
fails=0
tap() { # tap NAME LOG CMD...
	local name=$1 log=$2
	shift 2
	n=$((n + 1))
	if "$@" >"$log" 2>&1; then
		echo "ok $n - $name"
	else
		fails=$((fails + 1))
		echo "not ok $n - $name # see $log: $(grep -m1 -E 'error|warning|ERROR|WARNING|Diff in' "$log" | cut -c1-160)"
	fi
}
# quiet CMD...: run, print the output without colours, fail on a warning too.
quiet() {
	local t rc
	t=$(mktemp)
	"$@" >"$t" 2>&1
	rc=$?
	sed 's/\x1b\[[0-9;]*m//g' "$t"
	grep -qE '^(warning|error)(\[|:)' <(sed 's/\x1b\[[0-9;]*m//g' "$t") && rc=1
	rm -f "$t"
	return $rc
}
# The clippy tree builds the Rust crates and samples only, not vmlinux: its
# Module.symvers is older than its kernel crate, so modpost only warns there.
clippy() {
	[ -f "$CL/.config" ] || cp -a "$KBUILD" "$CL" || return 1
	cp "$KBUILD/.config" "$CL/.config"
	rsync -a --delete "$MODBUILD/" "$MODBUILD-clippy/" || return 1
	quiet in_kroot make -C "$KSRC" O="$CL" LLVM="$KLLVM" CLIPPY=1 -j"$(nproc)" prepare samples/rust/ &&
		quiet in_kroot make -C "$CL" LLVM="$KLLVM" CLIPPY=1 KBUILD_MODPOST_WARN=1 M="$MODBUILD-clippy" -j"$(nproc)" modules
}
rustdoc() {
	quiet in_kroot make -C "$KSRC" O="$CL" LLVM="$KLLVM" -j"$(nproc)" rustdoc
}
# tools CARGO-ARGS...: cargo in tools/bpf-iter, on its own toolchain
# (rust-toolchain.toml), failing on a warning too.
tools() {
	(cd "$ROOT/tools/bpf-iter" && unset RUSTUP_TOOLCHAIN && quiet cargo "$@")
}
checkpatch() {
	# Run outside any git work tree: inside one, checkpatch reads patch
	# context lines as the tree's own and misreports them.
	local files d
	mapfile -t files < <(find "$ROOT/samples" "$ROOT/rust" "$ROOT/compat" -name '*.[ch]' | sort)
	d=$(mktemp -d)
	(cd "$d" && "$KSRC/scripts/checkpatch.pl" --no-tree --strict --terse \
		--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG -f "${files[@]}") &&
		# MISSING_SIGN_OFF: the series carries no Signed-off-by; whoever submits
		# it adds their own (README.md, "The kernel patches"). UNKNOWN_COMMIT_ID:
		# with no upstream git history here, checkpatch cannot look up the id of
		# 0001's Fixes: tag (checked against the list archive instead).
		(cd "$d" && "$KSRC/scripts/checkpatch.pl" --no-tree --terse \
			--ignore FILE_PATH_CHANGES,GIT_COMMIT_ID,UNKNOWN_COMMIT_ID,MISSING_SIGN_OFF \
			"$ROOT"/patches/*/*.patch)
	local rc=$?
	rmdir "$d"
	return $rc
}

echo "TAP version 13"
echo "1..6"
exec 9>"$KBUILD_LOCK"
flock 9
tap "rustfmt (make rustfmtcheck)" "$OUT/lint-rustfmt.log" \
	in_kroot make -C "$KSRC" O="$KBUILD" LLVM="$KLLVM" rustfmtcheck
tap "clippy (make CLIPPY=1), no warnings" "$OUT/lint-clippy.log" clippy
tap "rustdoc (make rustdoc), no warnings" "$OUT/lint-rustdoc.log" rustdoc
tap "checkpatch (C files and patches)" "$OUT/lint-checkpatch.log" checkpatch
flock -u 9
tap "tools/bpf-iter: cargo fmt --check" "$OUT/lint-tools-fmt.log" tools fmt --check
tap "tools/bpf-iter: cargo clippy --all-targets -D warnings" "$OUT/lint-tools-clippy.log" \
	tools clippy --locked --all-targets -- -D warnings
exit 0
