#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Inside the debug kernel's guest, after the suites: scan for leaks twice
# (kmemleak reports an object only once it has stayed unreferenced across
# scans) and report, as TAP, every suspected leak, and whether any of them was
# allocated by our code: a backtrace through a Rust symbol (_R...), the BPF
# iterator core or one of our modules. All reports go to OUT/kmemleak.txt.
OUT=$1
. "$(dirname "$0")/guest-lib/tap.sh"
KML=/sys/kernel/debug/kmemleak
plan 2
if [ -w $KML ] && echo scan >$KML && sleep 6 && echo scan >$KML; then
	cat $KML >"$OUT/kmemleak.txt"
	total=$(grep -c '^unreferenced object' "$OUT/kmemleak.txt")
	ok "kmemleak: scanned twice after the suites ($total suspected leak(s) in all, in kmemleak.txt)"
else
	not_ok "kmemleak: scanned twice after the suites" "no writable $KML"
	: >"$OUT/kmemleak.txt"
fi
# One report: "unreferenced object ..." up to the next one; ours if its
# backtrace names our code.
ours=$(awk '/^unreferenced object/ { if (r && o) n++; r = 1; o = 0 }
	/ _R[A-Za-z0-9_]+|bpf_iter|rust_bpf_iter|\[rust_/ { o = 1 }
	END { if (r && o) n++; print n + 0 }' "$OUT/kmemleak.txt")
expect_eq "kmemleak: no leak allocated by our code (Rust, bpf_iter, our modules)" "$ours" 0
