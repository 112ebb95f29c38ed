#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Compile-fail tests of the Rust API (tools/harness/compile_fail/*.rs), as TAP:
# each case must fail to build with the errors its `// expect:` lines name,
# and its control (`// FAIL` lines dropped, `// PASS` lines uncommented) must
# build. Usage: compile_fail.sh KBUILD WORKDIR
set -uo pipefail
. "$(dirname "$0")/lib.sh"
KB=$1
W=$2
D=$ROOT/tools/harness/compile_fail
export RUSTUP_TOOLCHAIN=$KERNEL_RUST
mapfile -t cases < <(cd "$D" && ls ./*.rs | sed 's|^\./||; s|\.rs$||' | sort)
echo "TAP version 13"
echo "1..$((2 * ${#cases[@]}))"
n=0
# build NAME SRC: build SRC as an object of an out-of-tree tree in $W/NAME, as
# a module crate (`module!`: 7.3's `#[vtable]` names the crate's LocalModule).
build() {
	rm -rf "${W:?}/$1"
	mkdir -p "$W/$1"
	cp "$2" "$W/$1/$1.rs"
	cat >>"$W/$1/$1.rs" <<-EOF

		kernel::prelude::module! { type: CompileFailModule, name: "$1", license: "GPL", }
		struct CompileFailModule;
		impl kernel::Module for CompileFailModule {
		    fn init(_: &'static kernel::ThisModule) -> kernel::error::Result<Self> {
		        Ok(CompileFailModule)
		    }
		}
	EOF
	echo "obj-m := $1.o" >"$W/$1/Kbuild"
	in_kroot make -C "$KB" M="$W/$1" LLVM="$KLLVM" "$1.o" >"$W/$1/build.log" 2>&1
}
for c in "${cases[@]}"; do
	src=$D/$c.rs
	what=$(sed -n 's|^//! *||p' "$src" | head -n1 | cut -d: -f1)
	n=$((n + 1))
	if build "$c" "$src"; then
		echo "not ok $n - compile-fail $c: $what # it compiled"
	else
		miss=""
		while IFS= read -r e; do
			grep -qF -- "$e" "$W/$c/build.log" || miss="$miss '$e'"
		done < <(sed -n 's|^// expect: *||p' "$src")
		if [ -z "$miss" ]; then
			echo "ok $n - compile-fail $c: $what"
		else
			echo "not ok $n - compile-fail $c: $what # failed without$miss: $(grep -m1 '^error' "$W/$c/build.log")"
		fi
	fi
	n=$((n + 1))
	sed -e '/\/\/ FAIL$/d' -e 's|^\( *\)// \(.*\) // PASS$|\1\2|' "$src" >"$W/$c.control.rs"
	if build "${c}_control" "$W/$c.control.rs"; then
		echo "ok $n - compile-fail $c: control (the refused line replaced) builds"
	else
		echo "not ok $n - compile-fail $c: control does not build # $(grep -m1 '^error' "$W/${c}_control/build.log")"
	fi
done
