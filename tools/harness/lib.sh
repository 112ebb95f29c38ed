# SPDX-License-Identifier: GPL-2.0
# Shared helpers of the harness scripts (sourced, not run).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rust-bpf-iter}
VENV=${VENV:-$CACHE/venv}
export PATH="$HOME/.cargo/bin:$VENV/bin:$PATH"

step() { printf '==> %s\n' "$*" >&2; }
cached() { printf '==> %s (cached)\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

KERNEL_RUST=${KERNEL_RUST:-1.95.0}
TOOLS_RUST=${TOOLS_RUST:-1.98.0}
# Lock held while the kernel tree of $CACHE is synced or built.
KBUILD_LOCK=/tmp/rust-bpf-iter-kbuild-$(printf %s "$CACHE" | sha256sum | cut -c1-8).lock
# Repo directories copied into the kernel tree as they are (both kernels); then
# compat/$KERNEL/, whose files land at the same paths in the tree: for 6.12, the
# kernel-crate modules later kernels have and 6.12 lacks (seq_file, fs::File,
# pid_namespace, mm, sync::rcu, debugfs), with their names and shapes.
OVERLAY_DIRS=(rust samples Documentation scripts)

# The kernel: KERNEL=7.3, the default (trixie-backports' linux-source-7.3,
# built in the Debian trixie root of buildroot.sh with its clang-19, pahole,
# rustc and bindgen: Debian 12's clang 14 and pahole 1.24 are too old for it),
# or KERNEL=6.12 (Debian's linux-source-6.12, the LTS, built with this host's
# clang and the rustup toolchain $KERNEL_RUST). Each has its series in
# patches/$KERNEL/.
# The build root (buildroot.sh): Debian trixie, the toolchain of a Rust-enabled
# kernel build with BTF, and the kernel source; keyed by suite and packages.
BR_SUITE=trixie
BR_PKGS=(clang-19 lld-19 llvm-19 libclang-19-dev pahole rustc rust-src rustfmt rust-clippy bindgen
	libelf-dev libssl-dev zlib1g-dev bison flex bc python3 make gcc libc6-dev cpio kmod
	xz-utils rsync)
BR_BACKPORTS_PKGS=(linux-source-7.3)
BROOT=$CACHE/buildroot-$BR_SUITE-$(printf '%s\n' "$BR_SUITE" "${BR_PKGS[@]}" -- \
	"${BR_BACKPORTS_PKGS[@]}" | sha256sum | cut -c1-12)
KERNEL=${KERNEL:-7.3}
case "$KERNEL" in
6.12) KPKG=linux-source-6.12 KLLVM=1 KROOT= ;;
7.3) KPKG=linux-source-7.3 KLLVM=-19 KROOT=$BROOT ;;
*) die "KERNEL=$KERNEL: 6.12 or 7.3" ;;
esac
PATCHES=$ROOT/patches/$KERNEL
# The kernel configuration: .config.fragment, then the kernel's own
# (.config.$KERNEL.fragment, if there is one), then for FLAVOR=debug
# .config.debug.fragment (KASAN, lockdep, ...).
FLAVOR=${FLAVOR:-normal}
FRAGMENTS=("$ROOT/.config.fragment")
[ -f "$ROOT/.config.$KERNEL.fragment" ] && FRAGMENTS+=("$ROOT/.config.$KERNEL.fragment")
case "$FLAVOR" in
normal) ;;
debug) FRAGMENTS+=("$ROOT/.config.debug.fragment") ;;
*) die "FLAVOR=$FLAVOR: normal or debug" ;;
esac
# Where samples/ are built as out-of-tree modules: one copy per clone and kernel.
MODBUILD=$CACHE/modules-build-$(printf %s "$ROOT" | sha256sum | cut -c1-8)-$KERNEL
[ "$FLAVOR" = normal ] || MODBUILD=$MODBUILD-$FLAVOR
COMPAT=$ROOT/compat/$KERNEL
# in_kroot CMD...: CMD where this kernel's toolchain is (the build root for 7.3).
in_kroot() {
	if [ -n "$KROOT" ]; then
		bash "$ROOT/tools/harness/buildroot.sh" --run "$@"
	else
		"$@"
	fi
}

# Paths of the kernel source and build trees for the installed tarball and
# the configuration fragments of $FLAVOR.
kernel_paths() {
	local pkgver
	pkgver=$(dpkg-query ${KROOT:+--admindir=$KROOT/var/lib/dpkg} -W -f='${Version}' \
		"$KPKG" 2>/dev/null) || die "$KPKG is not installed${KROOT:+ in $KROOT}: run 'make deps'"
	KVER=${pkgver%%-*}
	KTARBALL=$KROOT/usr/src/$KPKG.tar.xz
	KPRISTINE=$CACHE/linux-$KVER/pristine
	KSRC=$CACHE/linux-$KVER/src
	KCONFIG_KEY=$(cat "${FRAGMENTS[@]}" | sha256sum | cut -c1-12)
	KBUILD=$CACHE/linux-$KVER/build-$KCONFIG_KEY
}

# The Rust bindings of kernel build tree $1 must lay every struct Rust reads out
# as its vmlinux BTF does (bindgen can differ, and the kernel builds them with
# --no-layout-tests): bindings_check.py, remembered per tree by content.
check_bindings() {
	local kb=$1 key ok log rc=0
	key=$( (stat -c '%s %Y' "$kb/vmlinux" && cat "$kb/rust/bindings/bindings_generated.rs" \
		"$ROOT/tools/harness/bindings_check.py") 2>/dev/null | sha256sum | cut -c1-16)
	ok=$CACHE/bindings-ok-$(printf %s "$kb" | sha256sum | cut -c1-8)
	if [ "$(cat "$ok" 2>/dev/null)" = "$key" ]; then
		cached "bindings: Rust layouts match vmlinux BTF"
		return 0
	fi
	step "bindings: Rust layouts of the kernel's structs against vmlinux BTF"
	rm -f "$ok"
	log=$(RUSTUP_TOOLCHAIN=$KERNEL_RUST in_kroot python3 "$ROOT/tools/harness/bindings_check.py" \
		--kdir "$kb" 2>&1) || rc=$?
	printf '%s\n' "$log" >&2
	case $rc in
	0) mkdir -p "$CACHE" && echo "$key" >"$ok" ;;
	1) die "Rust bindings of $kb lay out a struct unlike C: $(sed -n '1s/^bindings_check: //p' \
		<<<"$log") (all above; fix rust/bindgen_parameters)" ;;
	*) die "bindings_check.py could not compare the Rust bindings of $kb with vmlinux BTF (above)" ;;
	esac
}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$CACHE/cargo-target}

# Machine-wide lock by name, whoever runs it (2 cores): check.sh runs one QEMU
# guest at a time with `with_lock qemu`. (Kernel builds take $KBUILD_LOCK in
# kernel.sh and lint.sh instead: one build per cache.) with_lock NAME CMD...
with_lock() {
	local name=$1
	shift
	(
		flock -n 9 || {
			step "waiting for the $name lock (another build or guest is running)"
			flock 9
		}
		"$@"
	) 9>"/tmp/rust-bpf-iter-$name.lock"
}
