#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench's guest part (guest-lib/bench.py), one round on a small
# workload, so that it cannot rot: every case runs, each twin prints what its
# C target prints, /proc lists the objects the iterators show, and the scale
# series and its allocation counts run (at 5 and 10 processes). The ratios
# it prints are not judged (TCG wall time; make bench counts instructions).
# debug-kernel: no (the walks of selftest, rust-sample and read, doing less)
OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../guest-lib/tap.sh"
LOG=$OUT/bench-smoke.log
: >"$LOG"
MOD=rust_bpf_iter_task

insmod "$OUT/modules/$MOD.ko" >>"$LOG" 2>&1
python3 "$HERE/../guest-lib/bench.py" "$OUT" --rounds 1 --procs 20 --fds 5 --scale 5,10 \
	--scale-rounds 1 --read-sizes 64,65536 --records 10,100 --tap --extra 1 \
	--json "$OUT/bench-smoke.json" 2>>"$LOG" | tee "$OUT/bench-smoke.py.out"
_n=$(grep -cE '^(ok|not ok) ' "$OUT/bench-smoke.py.out")
check "$MOD: rmmod after the bench smoke (nothing holds it)" unload_module $MOD
