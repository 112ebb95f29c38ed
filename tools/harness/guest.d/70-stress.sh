#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Reliability, part 2: stress, bounded in time (guest-lib/stress.py says what
# each part does). 8 concurrent readers of a pinned iterator of each Rust
# target while records and tasks come and go; 1,000 cycles of load, attach,
# iterator, partial read, close over Rust and C targets; each target module
# loaded and unloaded in a loop while iterators are attached and read. The
# unregister/register loop with concurrent verifications is 50-reregister.
OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../guest-lib/tap.sh"
LOG=$OUT/stress.log
: >"$LOG"
BPFTOOL=$OUT/bin/bpftool
P=$OUT/progs
FS=/sys/fs/bpf
SECS=${STRESS_SECS:-6}
st() { python3 "$HERE/../guest-lib/stress.py" "$@"; }
MODS=(rust_bpf_iter_sample rust_bpf_iter_records rust_bpf_iter_task)

plan 17

for m in "${MODS[@]}"; do insmod "$OUT/modules/$m.ko" >>"$LOG" 2>&1; done
pins=()
for t in task:rust_task task_file:rust_task_file task_vma:rust_task_vma \
	records:records sample:rust_sample; do
	check "pin ${t#*:}" "$BPFTOOL" iter pin "$P/${t#*:}.bpf.o" "$FS/st_${t#*:}"
	pins+=("$FS/st_${t#*:}:${t%%:*}")
done
tap_from st readers "$SECS" "${pins[@]}" 2>>"$LOG"
tap_from st cycles 1000 rust_task@rust_bpf_iter_task rust_task_file@rust_bpf_iter_task \
	rust_task_vma@rust_bpf_iter_task rust_records@rust_bpf_iter_records \
	rust_sample@rust_bpf_iter_sample task@vmlinux task_file@vmlinux task_vma@vmlinux \
	bpf_map@vmlinux bpf_prog@vmlinux 2>>"$LOG"
for p in "${pins[@]}"; do rm -f "${p%%:*}"; done
for m in "${MODS[@]}"; do check "$m: rmmod after the readers and cycles" unload_module "$m"; done
tap_from st modules "$SECS" "$OUT/modules/rust_bpf_iter_sample.ko:rust_sample" \
	"$OUT/modules/rust_bpf_iter_records.ko:rust_records" \
	"$OUT/modules/rust_bpf_iter_task.ko:rust_task_file" 2>>"$LOG"
