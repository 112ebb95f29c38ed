#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the QEMU guest (as root, host filesystem shared read-only,
# $OUT writable). Each suite writes TAP to $OUT/<suite>.tap; the host
# judges the results. Usage: guest.sh OUT MODE   (MODE: check | check-debug | demo | bench)
set -u
OUT=$1
MODE=${2:-check}
HERE=$(cd "$(dirname "$0")" && pwd)
export PATH="$OUT/bin:$PATH"

mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug
echo "guest: $(uname -r), $(nproc) cpu(s)"

if [ "$MODE" = demo ]; then
	"$HERE/demo.sh" "$OUT"
	rc=$?
elif [ "$MODE" = bench ]; then
	# make bench: rbi_bench=ROUNDS,PROCS,FDS[,SECTION+SECTION...] on the kernel
	# command line (all of bench.py's sections without the fourth field).
	IFS=, read -r rounds procs fds only <<<"${rbi_bench:-9,500,20}"
	insmod "$OUT/modules/rust_bpf_iter_task.ko"
	python3 "$HERE/guest-lib/bench.py" "$OUT" --rounds "$rounds" --procs "$procs" \
		--fds "$fds" --drgn "$OUT/drgn.conf" ${only:+--only "${only//+/,}"} \
		>"$OUT/bench.txt" 2>"$OUT/bench.err"
	rc=$?
else
	KML=/sys/kernel/debug/kmemleak
	limit=600
	if [ "$MODE" = check-debug ]; then
		# KASAN, lockdep and kmemleak under TCG: several times slower.
		limit=1800
		# No automatic scans during the suites (they compete for the CPU);
		# forget what leaked while booting, so that the scans after the
		# suites report what they left behind.
		[ -e $KML ] && echo scan=off >$KML && echo clear >$KML
	fi
	# guest.debug.d: suites that need the debug kernel's options (fault injection).
	suites=("$HERE"/guest.d/*.sh)
	export RBI_KERNEL=normal
	if [ "$MODE" = check-debug ]; then
		suites+=("$HERE"/guest.debug.d/*.sh)
		RBI_KERNEL=debug
	fi
	for suite in "${suites[@]}"; do
		name=$(basename "$suite" .sh)
		name=${name#[0-9][0-9]-}
		# A suite whose kernel paths the others cover says so in its header
		# (check.sh expects no results from it on the debug kernel).
		if [ "$RBI_KERNEL" = debug ] && grep -q '^# debug-kernel: no' "$suite"; then
			echo "guest: suite $name is not for the debug kernel: $(sed -n \
				's/^# debug-kernel: no *//p' "$suite")"
			continue
		fi
		# rbi_suites=NAME,... on the kernel command line (check.sh's GUEST_SUITES):
		# only those, for work on a suite (the others then count as failed).
		case ",${rbi_suites:-$name}," in *",$name,"*) ;; *) continue ;; esac
		echo "guest: suite $name"
		t0=$SECONDS
		timeout $limit bash "$suite" "$OUT" >"$OUT/$name.tap" 2>"$OUT/$name.err"
		echo "guest: suite $name exited $? after $((SECONDS - t0)) s"
	done
	[ "$MODE" = check-debug ] && "$HERE/kmemleak.sh" "$OUT" >"$OUT/kmemleak.tap" 2>&1
	rc=0
fi
dmesg >"$OUT/dmesg.txt"
sync
exit $rc
