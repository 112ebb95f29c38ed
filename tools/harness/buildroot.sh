#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The build root of a kernel that this host's toolchain cannot build. Linux 7.3
# needs clang >= 17, pahole >= 1.26, bindgen >= 0.71.1 and rustc >= 1.85
# (its Documentation/process/changes.rst); Debian 12 has clang 14 and pahole
# 1.24. Debian 13 (trixie) has them all as Debian packages, and its backports
# carry linux-source-7.3: the root is a `debootstrap --variant=minbase trixie`
# with those packages, so that every tool comes from one distribution's archive,
# at the versions Debian builds its own kernels with. Cached under $CACHE, keyed
# by the suite and the package list (a changed list makes a new root).
#
#   buildroot.sh                    make it, or confirm that it is there
#   buildroot.sh --path             print its directory
#   buildroot.sh --run CMD [ARG...] run CMD in it (a private mount namespace in
#                                   which $CACHE, the repository and /proc are
#                                   bind-mounted at the paths they have outside,
#                                   so that paths mean the same on both sides)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# BR_SUITE, BR_PKGS, BR_BACKPORTS_PKGS and BROOT: lib.sh.
SUITE=$BR_SUITE
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
PKGS=("${BR_PKGS[@]}")
BACKPORTS_PKGS=("${BR_BACKPORTS_PKGS[@]}")

if [ "${1:-}" = --path ]; then
	echo "$BROOT"
	exit 0
fi

if [ "${1:-}" = --run ]; then
	shift
	[ -f "$BROOT/.complete" ] || die "no build root at $BROOT: run 'make deps'"
	mkdir -p "$BROOT$CACHE" "$BROOT$ROOT"
	# unshare -m: the bind mounts vanish with the command, whatever it does.
	exec unshare -m --propagation private bash -c '
		set -e
		r=$1 cache=$2 repo=$3
		shift 3
		mount --bind "$cache" "$r$cache"
		mount --bind "$repo" "$r$repo"
		mount --bind /tmp "$r/tmp"
		mount -t proc proc "$r/proc"
		mount --bind /dev "$r/dev"
		exec chroot "$r" env -i HOME=/root LANG=C.UTF-8 \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
	' bash "$BROOT" "$CACHE" "$ROOT" "$@"
fi

[ "$(id -u)" = 0 ] || die "making the build root needs root (debootstrap, chroot)"
exec 9>"$CACHE/buildroot.lock"
flock 9
if [ -f "$BROOT/.complete" ]; then
	cached "deps: build root $BROOT ($SUITE: $(cat "$BROOT/.versions" | tr '\n' ' '))"
	exit 0
fi
command -v debootstrap >/dev/null || die "debootstrap not found: run 'make deps'"
step "deps: build root $BROOT: debootstrap $SUITE (about 40 s), then ${#PKGS[@]} packages (about 1 min)"
rm -rf "$BROOT.tmp"
mkdir -p "$BROOT.tmp"
debootstrap --variant=minbase "$SUITE" "$BROOT.tmp" "$MIRROR" >"$CACHE/buildroot.log" 2>&1 ||
	die "debootstrap $SUITE failed: see $CACHE/buildroot.log"
printf 'deb %s %s main\ndeb %s %s-backports main\n' "$MIRROR" "$SUITE" "$MIRROR" "$SUITE" \
	>"$BROOT.tmp/etc/apt/sources.list"
in_root() {
	unshare -m --propagation private bash -c 'mount -t proc proc "$1/proc" && shift &&
		exec chroot "$@"' bash "$BROOT.tmp" "$BROOT.tmp" env -i DEBIAN_FRONTEND=noninteractive \
		PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@" >>"$CACHE/buildroot.log" 2>&1
}
in_root apt-get update -qq || die "apt-get update in the build root failed: see $CACHE/buildroot.log"
in_root apt-get install -y -qq --no-install-recommends "${PKGS[@]}" ||
	die "apt-get install in the build root failed: see $CACHE/buildroot.log"
in_root apt-get install -y -qq --no-install-recommends -t "$SUITE-backports" "${BACKPORTS_PKGS[@]}" ||
	die "apt-get install -t $SUITE-backports ${BACKPORTS_PKGS[*]} failed: see $CACHE/buildroot.log"
in_root apt-get clean
chroot "$BROOT.tmp" sh -c 'echo "clang $(clang-19 --version | sed -n "s/.*clang version \([^ ]*\).*/\1/p")"
	echo "pahole $(pahole --version)"; echo "rustc $(rustc --version | cut -d" " -f2)"
	echo "bindgen $(bindgen --version | cut -d" " -f2)"
	echo "linux-source-7.3 $(dpkg-query -W -f="\${Version}" linux-source-7.3)"' >"$BROOT.tmp/.versions" ||
	die "the build root's tools do not run"
touch "$BROOT.tmp/.complete"
mv "$BROOT.tmp" "$BROOT"
step "deps: build root ready: $(tr '\n' ' ' <"$BROOT/.versions")"
