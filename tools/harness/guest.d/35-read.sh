#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What read() of an iterator does, Rust targets against C (guest-lib/
# read_semantics.py): a program returning 1, E2BIG, two iterators of one link,
# reads of 0 bytes, lseek, parallel readers; the twins' module loaded for it.
OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../guest-lib/tap.sh"
LOG=$OUT/read.log
: >"$LOG"
MOD=rust_bpf_iter_task

insmod "$OUT/modules/$MOD.ko" >>"$LOG" 2>&1
python3 "$HERE/../guest-lib/read_semantics.py" "$OUT" 1 2>>"$LOG" | tee "$OUT/read.py.out"
_n=$(grep -cE '^(ok|not ok) ' "$OUT/read.py.out")
check "$MOD: rmmod after the read cases (nothing holds it)" unload_module $MOD
