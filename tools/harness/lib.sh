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
# Where samples/ are built as out-of-tree modules: one copy per clone.
MODBUILD=$CACHE/modules-build-$(printf %s "$ROOT" | sha256sum | cut -c1-8)
# Repo directories copied into the kernel tree as they are.
OVERLAY_DIRS=(rust samples Documentation)

# Paths of the kernel source and build trees for the installed tarball and
# the current .config.fragment.
kernel_paths() {
	local pkgver
	pkgver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null) ||
		die "linux-source-6.12 is not installed: run 'make deps'"
	KVER=${pkgver%%-*}
	KPRISTINE=$CACHE/linux-$KVER/pristine
	KSRC=$CACHE/linux-$KVER/src
	KCONFIG_KEY=$(cat "$ROOT/.config.fragment" | sha256sum | cut -c1-12)
	KBUILD=$CACHE/linux-$KVER/build-$KCONFIG_KEY
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
