#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Reliability, part 4: a table of malformed inputs (link parameters,
# iter_info_len, pids and pidfds, map and cgroup fds, programs, BPF_ITER_CREATE,
# pinning, the records sample's debugfs files), each with its errno and nothing
# left behind, on the Rust targets and on the C targets they mirror
# (guest-lib/bad_input.py writes the table, Rust vs C, to $OUT/bad-input.md).
# Then every module must unload.
OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../guest-lib/tap.sh"
LOG=$OUT/bad-input.log
: >"$LOG"
BPFTOOL=$OUT/bin/bpftool
P=$OUT/progs
FS=/sys/fs/bpf
MODS=(rust_bpf_iter_sample rust_bpf_iter_records rust_bpf_iter_task)

{
	for m in "${MODS[@]}"; do insmod "$OUT/modules/$m.ko"; done
	"$BPFTOOL" prog load "$P/rust_sample_overread.bpf.o" $FS/bi_overread_rust_sample
	"$BPFTOOL" prog load "$P/map_elem_overread.bpf.o" $FS/bi_overread_map_elem
} >>"$LOG" 2>&1
python3 "$HERE/../guest-lib/bad_input.py" "$OUT" ${#MODS[@]} 2>>"$LOG" | tee "$OUT/bad-input.py.out"
# Continue the numbering of the table.
_n=$(grep -cE '^(ok|not ok) ' "$OUT/bad-input.py.out")
rm -f $FS/bi_overread_rust_sample $FS/bi_overread_map_elem
for m in "${MODS[@]}"; do check "$m: rmmod after the table (nothing holds it)" unload_module "$m"; done
