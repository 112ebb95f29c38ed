#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the QEMU guest (as root, host filesystem shared read-only,
# $OUT writable). Each suite writes TAP to $OUT/<suite>.tap; the host
# judges the results. Usage: guest.sh OUT MODE   (MODE: check | check-debug | demo)
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
else
	KML=/sys/kernel/debug/kmemleak
	# The debug kernel: forget what leaked while booting, so that the scan
	# after the suites reports what they left behind.
	[ "$MODE" = check-debug ] && [ -e $KML ] && echo clear >$KML
	for suite in "$HERE"/guest.d/*.sh; do
		name=$(basename "$suite" .sh)
		name=${name#[0-9][0-9]-}
		echo "guest: suite $name"
		timeout 300 bash "$suite" "$OUT" >"$OUT/$name.tap" 2>"$OUT/$name.err"
		echo "guest: suite $name exited $?"
	done
	[ "$MODE" = check-debug ] && "$HERE/kmemleak.sh" "$OUT" >"$OUT/kmemleak.tap" 2>&1
	rc=0
fi
dmesg >"$OUT/dmesg.txt"
sync
exit $rc
