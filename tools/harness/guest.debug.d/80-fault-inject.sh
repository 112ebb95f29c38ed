#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Reliability, part 3: fault injection (debug kernel only: the normal kernel
# has no CONFIG_FAULT_INJECTION). guest-lib/fault_inject.py makes every
# allocation on each path fail in turn with fail-nth: attach, iterator
# creation and first read on every Rust target and the C targets they mirror,
# the records sample's runtime Registration and add, and the load of the
# module that registers three targets. Each failure must give ENOMEM (or be
# absorbed by a fallback), leave nothing behind, and the next call must work;
# $OUT/fault-inject.md gets N (the injectable allocations) per path.
OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../guest-lib/tap.sh"
LOG=$OUT/fault-inject.log
: >"$LOG"
MODS=(rust_bpf_iter_sample rust_bpf_iter_records rust_bpf_iter_task)

for m in "${MODS[@]}"; do insmod "$OUT/modules/$m.ko" >>"$LOG" 2>&1; done
python3 "$HERE/../guest-lib/fault_inject.py" "$OUT" "$OUT/modules" ${#MODS[@]} 2>>"$LOG" |
	tee "$OUT/fault-inject.py.out"
# Continue the numbering.
_n=$(grep -cE '^(ok|not ok) ' "$OUT/fault-inject.py.out")
for m in "${MODS[@]}"; do check "$m: rmmod after the walks (nothing holds it)" unload_module "$m"; done
