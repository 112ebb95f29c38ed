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
# backtrace names our code. Not counted: the allocations of the processes that
# a suite names in OUT/kmemleak-expected ("PID why" lines), which leak on
# purpose (soundness-2 point 4 forgets a registration, and with it the data
# it shares with attach): only such a process's own reports, by its pid.
pids=$(cut -d' ' -f1 "$OUT/kmemleak-expected" 2>/dev/null | tr '\n' ' ')
counts=$(awk -v pids=" $pids" '
	function done() { if (r && o) { if (e) x++; else n++ } }
	/^unreferenced object/ { done(); r = 1; o = 0; e = 0 }
	/^  comm ".*", pid [0-9]+,/ { p = $0; sub(/.*, pid /, "", p); sub(/,.*/, "", p)
		if (index(pids " ", " " p " ")) e = 1 }
	/ _R[A-Za-z0-9_]+|bpf_iter|rust_bpf_iter|\[rust_/ { o = 1 }
	END { done(); print n + 0, x + 0 }' "$OUT/kmemleak.txt")
read -r ours expected <<<"$counts"
expect_eq "kmemleak: no leak allocated by our code (Rust, bpf_iter, our modules; $expected on purpose, by pids $pids)" "$ours" 0
