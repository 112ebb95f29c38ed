#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install every host dependency of the build/boot harness, idempotently.
# Says what it installs; installs nothing that is already there.
set -euo pipefail
. "$(dirname "$0")/lib.sh"



BINDGEN_VERSION=${BINDGEN_VERSION:-0.73.2}
VNG_VERSION=${VNG_VERSION:-1.42}

APT_PKGS=(linux-source-6.12 clang llvm lld dwarves libelf-dev zlib1g-dev flex bison bc
	  libssl-dev libcap-dev cpio rsync make gcc python3-venv qemu-system-x86 udev
	  busybox-static kmod debootstrap)

missing=()
for p in "${APT_PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if ((${#missing[@]})); then
	step "deps: apt-get install ${missing[*]}"
	command -v apt-get >/dev/null || die "apt-get not found: this harness needs a Debian host"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null || die "apt-get update failed: check the Debian mirror"
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
		die "apt-get install ${missing[*]} failed"
else
	cached "deps: Debian packages"
fi

command -v rustup >/dev/null || die "rustup not found: install Rust with rustup first"
for tc in "$KERNEL_RUST" "$TOOLS_RUST"; do
	if ! rustup toolchain list | grep -q "^$tc-"; then
		step "deps: rustup toolchain install $tc"
		rustup toolchain install --profile minimal "$tc" >/dev/null 2>&1 ||
			die "rustup toolchain install $tc failed"
	fi
done
if ! rustup component list --installed --toolchain "$KERNEL_RUST" | grep -q '^rust-src'; then
	step "deps: rustup component add rust-src clippy rustfmt ($KERNEL_RUST)"
	rustup component add --toolchain "$KERNEL_RUST" rust-src clippy rustfmt >/dev/null 2>&1 ||
		die "rustup component add rust-src failed"
fi
# clippy and rustfmt of both: make lint checks the kernel tree and tools/bpf-iter.
for tc in "$KERNEL_RUST" "$TOOLS_RUST"; do
	for c in clippy rustfmt; do
		rustup component list --installed --toolchain "$tc" | grep -q "^$c" ||
			rustup component add --toolchain "$tc" "$c" >/dev/null 2>&1 ||
			die "rustup component add --toolchain $tc $c failed"
	done
done
cached "deps: rust $KERNEL_RUST (kernel) and $TOOLS_RUST (tools)"

if ! bindgen --version 2>/dev/null | grep -q "$BINDGEN_VERSION"; then
	step "deps: cargo install bindgen-cli $BINDGEN_VERSION (about 2 minutes)"
	RUSTUP_TOOLCHAIN=$KERNEL_RUST cargo install --quiet --locked \
		--version "$BINDGEN_VERSION" bindgen-cli >/dev/null 2>&1 ||
		die "cargo install bindgen-cli failed"
else
	cached "deps: bindgen $BINDGEN_VERSION"
fi

if ! "$VENV/bin/vng" --version 2>/dev/null | grep -q "$VNG_VERSION"; then
	step "deps: virtme-ng $VNG_VERSION in $VENV"
	python3 -m venv "$VENV" || die "python3 -m venv failed: apt-get install python3-venv"
	"$VENV/bin/pip" install -q "virtme-ng==$VNG_VERSION" ||
		die "pip install virtme-ng failed"
else
	cached "deps: virtme-ng $VNG_VERSION"
fi
# The guests boot with rbi_init=tools/harness/guest-init.sh on the kernel command line
# (check.sh): virtme-ng-init's udev start-up alone took 465 s of a 634 s boot of the
# debug kernel under TCG, and the suites need nothing udev makes. vng has no option
# for another init, so its virtme-ng-init is wrapped: the wrapper runs $rbi_init (the
# kernel hands unknown name=value options to init as environment) if it is set, and
# virtme-ng-init itself otherwise (plain vng use is unchanged).
ginit=$("$VENV/bin/python3" -c 'import virtme, os; print(os.path.dirname(virtme.__file__))')/guest/bin/virtme-ng-init
wrapper=$ROOT/tools/harness/virtme-ng-init.wrapper
if cmp -s "$ginit" "$wrapper"; then
	cached "deps: virtme-ng-init wrapped (rbi_init=PATH runs PATH as init)"
elif grep -q 'rbi_init' "$ginit"; then
	cp "$wrapper" "$ginit" # an older wrapper
else
	step "deps: wrapping $ginit (rbi_init=PATH runs PATH as init)"
	mv "$ginit" "$ginit.real" && cp "$wrapper" "$ginit" && chmod +x "$ginit" ||
		die "could not wrap $ginit"
fi
# KERNEL=7.3's toolchain and source: a Debian trixie root (buildroot.sh).
bash "$ROOT/tools/harness/buildroot.sh"
echo "deps: all present"
