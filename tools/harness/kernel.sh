#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the kernel the tests run on: Debian's linux-source-$KERNEL (lib.sh),
# patches/$KERNEL and this repo's kernel-tree parts overlaid on it, configured
# from tinyconfig plus .config.fragment (and .config.debug.fragment for
# FLAVOR=debug), built with LLVM=1 (6.12, this host's clang) or LLVM=-19 (7.3,
# in buildroot.sh's root). Everything lives under $CACHE, keyed by kernel
# version and config; an unchanged tree is not rebuilt at all.
#
#   kernel.sh          build (or confirm up to date)
#   kernel.sh --kdir   print the build directory only
#   kernel.sh --sync   unpack, patch and overlay the source tree only
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kernel_paths # sets KVER, KSRC, KPRISTINE, KBUILD, KCONFIG_KEY
if [ "${1:-}" = --kdir ]; then
	echo "$KBUILD"
	exit 0
fi

# One kernel build (and overlay sync) at a time on this machine.
if [ -z "${RUST_BPF_ITER_KBUILD_LOCKED:-}" ]; then
	export RUST_BPF_ITER_KBUILD_LOCKED=1
	exec 9>"$KBUILD_LOCK"
	flock -n 9 || { step "kernel: waiting for another kernel build to finish"; flock 9; }
fi

TARBALL=$KTARBALL
[ -f "$TARBALL" ] || die "$TARBALL missing: run 'make deps'"
case "$KVER" in
"$KERNEL".*) ;;
*) die "unexpected kernel version '$KVER' in $TARBALL: KERNEL=$KERNEL wants $KERNEL.x" ;;
esac
export RUSTUP_TOOLCHAIN=$KERNEL_RUST
sfx=${KLLVM/#1/} # LLVM=1: clang, ld.lld; LLVM=-19: clang-19, ld.lld-19
for t in clang$sfx ld.lld$sfx pahole bindgen rustc; do
	in_kroot sh -c "command -v $t" >/dev/null || die "$t not found${KROOT:+ in $KROOT}: run 'make deps'"
done

# 1. Pristine source, unpacked once per kernel version.
if [ ! -f "$KPRISTINE/.complete" ]; then
	step "kernel: unpacking $TARBALL ($KVER)"
	rm -rf "$KPRISTINE" "$KPRISTINE.tmp"
	mkdir -p "$KPRISTINE.tmp"
	tar -xJf "$TARBALL" -C "$KPRISTINE.tmp" --strip-components=1
	touch "$KPRISTINE.tmp/.complete"
	mv "$KPRISTINE.tmp" "$KPRISTINE"
else
	cached "kernel: source $KVER"
fi
if [ ! -f "$KSRC/.complete" ]; then
	step "kernel: working source tree $KSRC"
	rm -rf "$KSRC"
	cp -a "$KPRISTINE" "$KSRC"
	rm -f "$KSRC/.overlay-manifest"
fi

# 2. Overlay: new files from the repo, patched copies of pristine files.
#    Synced by content, so unchanged files keep their timestamps.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
for d in "${OVERLAY_DIRS[@]}"; do
	[ -d "$ROOT/$d" ] && (cd "$ROOT" && find "$d" -type f ! -name '*.o' ! -name '.*' -print0 |
		xargs -0 -r cp --parents -t "$stage")
done
[ -d "$COMPAT" ] && (cd "$COMPAT" && find . -type f ! -name '*.o' ! -name '.*' -print0 |
	xargs -0 -r cp --parents -t "$stage")
for p in "$PATCHES"/*.patch; do
	[ -e "$p" ] || continue
	for f in $(sed -n 's#^+++ b/\([^[:space:]]*\).*#\1#p' "$p"); do
		[ -e "$stage/$f" ] && continue
		mkdir -p "$stage/$(dirname "$f")"
		[ -e "$KPRISTINE/$f" ] && cp "$KPRISTINE/$f" "$stage/$f"
	done
	patch -s -p1 -d "$stage" --no-backup-if-mismatch <"$p" ||
		die "patch $(basename "$p") does not apply to $KVER: refresh it"
done
(cd "$stage" && find . -type f | sort) >"$stage.manifest"
if [ -f "$KSRC/.overlay-manifest" ]; then
	# Files the overlay no longer provides go back to pristine (or away).
	comm -23 "$KSRC/.overlay-manifest" "$stage.manifest" | while read -r f; do
		if [ -e "$KPRISTINE/$f" ]; then cp -p "$KPRISTINE/$f" "$KSRC/$f"; else rm -f "$KSRC/$f"; fi
	done
fi
changed=$(rsync -rc --out-format='%n' "$stage/" "$KSRC/" | grep -v '/$' || true)
# A file added to or removed from the overlay: Kbuild (with make 4.3) rebuilds the
# kernel crate for neither (a deleted source is no changed prerequisite, a new one
# is in no dependency list yet), so its root file is touched.
if [ -f "$KSRC/.overlay-manifest" ] && [ -n "$(comm -3 "$KSRC/.overlay-manifest" "$stage.manifest")" ]; then
	touch "$KSRC/rust/kernel/lib.rs"
fi
mv "$stage.manifest" "$KSRC/.overlay-manifest"
[ -n "$changed" ] && step "kernel: overlay changed: $(echo $changed | head -c 300)"
# kernel.sh --sync: the source tree only (for a build of some targets by hand).
[ "${1:-}" = --sync ] && exit 0

# 3. Config, one build directory per (version, fragment).
kmake() { in_kroot make -C "$KSRC" O="$KBUILD" LLVM="$KLLVM" "$@"; }
if [ ! -f "$KBUILD/.config-ok" ]; then
	# A new config starts from the newest built tree of this kernel version, so
	# that only what the config change touches is rebuilt.
	# (Not a -clippy tree: lint.sh's copy, rebuilt with CLIPPY=1.)
	# The newest build of the same flavor (KASAN or not): a seed of the other
	# flavor would leave nearly every object to recompile.
	kasan=n
	[ "${FLAVOR:-normal}" = debug ] && kasan=y
	seed=
	for s in $(ls -td "$CACHE/linux-$KVER"/build-????????????/.build-stamp 2>/dev/null); do
		s=$(dirname "$s")
		if grep -q '^CONFIG_KASAN=y' "$s/.config" 2>/dev/null; then k=y; else k=n; fi
		[ "$k" = "$kasan" ] && seed=$s && break
	done
	if [ -n "$seed" ] && [ ! -e "$KBUILD" ]; then
		step "kernel: new config, seeding $KBUILD from $seed"
		cp -a "$seed" "$KBUILD.tmp"
		rm -f "$KBUILD.tmp/.config-ok" "$KBUILD.tmp/.build-stamp"
		mv "$KBUILD.tmp" "$KBUILD"
	fi
fi
mkdir -p "$KBUILD"
if [ ! -f "$KBUILD/.config-ok" ]; then
	step "kernel: configuring $KBUILD (tinyconfig + ${FRAGMENTS[*]##*/})"
	kmake -s rustavailable >/dev/null || die "Rust toolchain not usable for this kernel: run 'make deps'"
	kmake -s tinyconfig >/dev/null
	in_kroot "$KSRC/scripts/kconfig/merge_config.sh" -m -O "$KBUILD" "$KBUILD/.config" \
		"${FRAGMENTS[@]}" >/dev/null
	kmake -s olddefconfig >/dev/null
	# What the fragments ask for, a later fragment overriding an earlier one.
	declare -A want=()
	while read -r line; do
		case "$line" in
		CONFIG_*=*) want[${line%%=*}]=$line ;;
		"# CONFIG_"*" is not set")
			opt=${line#"# "}; want[${opt%% *}]=$line ;;
		esac
	done < <(cat "${FRAGMENTS[@]}")
	bad=()
	for opt in "${!want[@]}"; do
		line=${want[$opt]}
		case "$line" in
		CONFIG_*=*) grep -qx "$line" "$KBUILD/.config" || bad+=("$line") ;;
		*) grep -q "^$opt=" "$KBUILD/.config" && bad+=("$line") ;;
		esac
	done
	((${#bad[@]} == 0)) || die "fragment options did not stick (missing dependency?): ${bad[*]}"
	touch "$KBUILD/.config-ok"
else
	cached "kernel: config $KCONFIG_KEY"
fi

# 4. Build, unless nothing that goes into it changed since the last success.
versions=$(
	echo "kernel $KVER ($(dpkg-query ${KROOT:+--admindir=$KROOT/var/lib/dpkg} -W -f='${Version}' "$KPKG"))"
	in_kroot sh -c 'echo "rustc $(rustc --version | cut -d" " -f2)"
		echo "bindgen $(bindgen --version | cut -d" " -f2)"
		echo "clang $(clang$0 --version | sed -n "s/.*clang version \([^ ]*\).*/\1/p")"
		echo "pahole $(pahole --version)"' "$sfx"
)
stamp=$( (echo "$versions"; cd "$KSRC" && xargs -a .overlay-manifest sha256sum) | sha256sum | cut -c1-16)
if [ -f "$KBUILD/arch/x86/boot/bzImage" ] && [ "$(cat "$KBUILD/.build-stamp" 2>/dev/null)" = "$stamp" ]; then
	cached "kernel: $KBUILD is up to date"
else
	step "kernel: make LLVM=$KLLVM -j$(nproc) (cold: 10 to 20 minutes; log: $KBUILD/build.log)"
	rm -f "$KBUILD/.build-stamp"
	start=$(date +%s)
	kmake -j"$(nproc)" all >"$KBUILD/build.log" 2>&1 &
	pid=$!
	while kill -0 $pid 2>/dev/null; do
		sleep 20
		kill -0 $pid 2>/dev/null &&
			printf '    %4ds  %s\n' $(($(date +%s) - start)) "$(tail -n1 "$KBUILD/build.log" | cut -c1-90)" >&2
	done
	if ! wait $pid; then
		grep -E 'error|Error' "$KBUILD/build.log" | head -n 20 >&2
		die "kernel build failed: see $KBUILD/build.log"
	fi
	# virtme-ng derives its module tree (modules.builtin among it) once: renew it.
	rm -rf "$KBUILD/.virtme_mods"
	echo "$stamp" >"$KBUILD/.build-stamp"
	step "kernel: built in $(($(date +%s) - start))s"
fi
# 5. The Rust bindings must lay out the structs Rust reads as C does.
check_bindings "$KBUILD"
echo "$versions" | tee "$KBUILD/versions.txt" | sed 's/^/    /' >&2
