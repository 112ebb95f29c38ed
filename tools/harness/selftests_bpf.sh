#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build upstream's BPF selftest runner, tools/testing/selftests/bpf/test_progs,
# with just the tests this repo's patches add (patches/$KERNEL/*: new files under
# prog_tests/), so that the series' selftests run as a maintainer would run
# them: selftests_bpf.sh KBUILD BPFTOOL_DIR OUT -> OUT/bin/test_progs.
#
# The selftests' own Makefile builds every test, about 800 BPF objects, the
# test modules and several helper binaries, and needs a newer clang than this
# machine has for some of them. This builds what the runner itself is made of
# (test_progs.c and its helpers, with the Makefile's flags), one tests.h
# listing the series' tests, and their BPF objects and skeletons, as the
# Makefile does (clang --target=bpf -mcpu=v3, bpftool gen skeleton). The BPF
# objects are built with the kernel's clang (KERNEL=7.3: the build root's
# clang-19), the runner with this host's gcc: the guest runs the host's userspace.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
KB=$1 BPFTOOL_DIR=$2 OUT=$3
kernel_paths # KSRC
S=$KSRC/tools/testing/selftests/bpf
B=$OUT/selftests-bpf
rm -rf "$B"
mkdir -p "$B/prog_tests" "$OUT/bin"

mapfile -t tests < <(sed -n 's#^+++ b/tools/testing/selftests/bpf/prog_tests/\([a-z0-9_]*\)\.c$#\1#p' \
	"$PATCHES"/*.patch | sort -u)
((${#tests[@]})) || die "no patch adds a test under tools/testing/selftests/bpf/prog_tests"
step "selftests/bpf: test_progs with ${tests[*]}"

# vmlinux.h: progs.sh's dump of the same $KB/vmlinux if it ran first, else our own.
mkdir -p "$OUT/include"
[ -f "$OUT/include/vmlinux.h" ] ||
	"$BPFTOOL_DIR/bpftool" btf dump file "$KB/vmlinux" format c >"$OUT/include/vmlinux.h" ||
	die "bpftool could not dump the BTF of $KB/vmlinux"
{
	echo '/* Generated header, do not edit */'
	for t in "${tests[@]}"; do
		sed -n -E 's/^void (serial_)?test_([a-zA-Z0-9_]+)\((void)?\).*/DEFINE_TEST(\2)/p' \
			"$S/prog_tests/$t.c"
	done | sort
} >"$B/prog_tests/tests.h"

# Later runners (7.3) register a signing certificate for signed programs
# (verification_cert.h), made as the selftests Makefile makes it: a key pair
# from verify_sig_setup.sh (openssl), the certificate as a C array.
if grep -q '#include "verification_cert.h"' "$S/test_progs.c"; then
	bash "$S/verify_sig_setup.sh" genkey "$B" >/dev/null 2>&1 ||
		die "verify_sig_setup.sh genkey failed (openssl)"
	{
		echo "unsigned char test_progs_verification_cert[] = {"
		od -v -t xC -w12 "$B/signing_key.der" | sed 's/ \(\S\+\)/ 0x\1,/g;s/^\S\+/ /;$d'
		echo "};"
		echo "unsigned int test_progs_verification_cert_len = $(wc -c <"$B/signing_key.der");"
	} >"$B/verification_cert.h"
fi

# BPF objects and skeletons: each test includes the skeletons it names.
for t in "${tests[@]}"; do
	for skel in $(sed -n 's/^#include "\([a-z0-9_]*\)\.skel\.h"$/\1/p' "$S/prog_tests/$t.c"); do
		in_kroot clang${KLLVM/#1/} -g -O2 --target=bpf -mcpu=v3 -Wall -Werror -D__TARGET_ARCH_x86 \
			-fms-extensions -Wno-microsoft-anon-tag \
			-Wno-compare-distinct-pointer-types -I"$OUT/include" -I"$S" \
			-I"$BPFTOOL_DIR/libbpf/include" -I"$KSRC/tools/include/uapi" \
			-c "$S/progs/$skel.c" -o "$B/$skel.bpf.o" ||
			die "clang --target=bpf failed on progs/$skel.c"
		"$BPFTOOL_DIR/bpftool" gen skeleton "$B/$skel.bpf.o" name "$skel" >"$B/$skel.skel.h" ||
			die "bpftool gen skeleton failed on $skel.bpf.o"
	done
done

# The runner, with the selftests Makefile's CFLAGS (OPT_FLAGS empty: -O0).
cflags=(-g -rdynamic -Wall -Werror -fno-omit-frame-pointer -DHAVE_GENHDR -D_GNU_SOURCE=
	-I"$B" -I"$S" -I"$BPFTOOL_DIR/libbpf/include" -I"$KSRC/tools/include"
	-I"$KSRC/tools/include/uapi" -I"$KSRC/tools/lib" -I"$KB/include/generated")
cp "$KSRC/kernel/bpf/disasm.c" "$KSRC/kernel/bpf/disasm.h" "$B/"
objs=()
# The runner's own sources: the C files of the Makefile's TRUNNER_EXTRA_SOURCES
# for test_progs (they differ between kernels).
mapfile -t runner < <(awk '/^TRUNNER_EXTRA_SOURCES := test_progs.c/ { f = 1 }
	f { print; if ($0 !~ /\\$/) exit }' "$S/Makefile" | tr -s ' \t\\' '\n' | sed -n 's/^\([a-z0-9_]*\)\.c$/\1/p')
((${#runner[@]})) || die "no TRUNNER_EXTRA_SOURCES for test_progs in $S/Makefile"
for src in "${runner[@]}" "${tests[@]/#/prog_tests/}"; do
	f=$S/$src.c
	[ "$src" = disasm ] && f=$B/disasm.c
	o=$B/$(basename "$src").o
	gcc "${cflags[@]}" -c "$f" -o "$o" || die "gcc failed on $src.c"
	objs+=("$o")
done
gcc -rdynamic -o "$OUT/bin/test_progs" "${objs[@]}" "$BPFTOOL_DIR/libbpf/libbpf.a" \
	-lelf -lz -lrt -lpthread || die "linking test_progs failed"
# What the guest expects test_progs to report: each test and its subtests.
for t in "${tests[@]}"; do
	echo "$t"
	sed -n 's/.*test__start_subtest("\([a-z0-9_]*\)").*/\1/p' "$S/prog_tests/$t.c" | sed "s#^#$t/#"
done >"$OUT/selftests-bpf.list"
