#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo, inside the guest: load the Rust target modules, run the seed
# document's example (a task_file iterator limited to one pid) against the
# kernel's C target and its Rust twin, and read a pinned Rust iterator with
# cat. Output also goes to $OUT/demo.txt.
OUT=$1
set -o pipefail
{
	say() { printf '\n=== demo: %s\n' "$*"; }
	say "insmod rust_bpf_iter_task.ko rust_bpf_iter_sample.ko (targets written in Rust)"
	insmod "$OUT/modules/rust_bpf_iter_task.ko" || exit 1
	insmod "$OUT/modules/rust_bpf_iter_sample.ko" || exit 1
	say "bpf-iter list: iterator targets of this kernel and its modules"
	bpf-iter list || exit 1
	say "seed example against the Rust twin: SEC(\"iter/rust_task_file\"), --pid $$"
	echo "PID $$"
	bpf-iter run "$OUT/progs/rust_task_file.bpf.o" --pid $$ || exit 1
	say "the same program against the kernel's C target: SEC(\"iter/task_file\"), --pid $$"
	bpf-iter run "$OUT/progs/task_file.bpf.o" --pid $$ || exit 1
	say "bpftool iter pin rust_sample.bpf.o /sys/fs/bpf/rust_sample; cat it (twice)"
	bpftool iter pin "$OUT/progs/rust_sample.bpf.o" /sys/fs/bpf/rust_sample || exit 1
	cat /sys/fs/bpf/rust_sample || exit 1
	cat /sys/fs/bpf/rust_sample || exit 1
	say "rmmod while the iterator is pinned is refused:"
	rmmod rust_bpf_iter_sample && exit 1
	rm /sys/fs/bpf/rust_sample
	sleep 1
	say "after unpinning, rmmod works"
	rmmod rust_bpf_iter_sample || exit 1
	rmmod rust_bpf_iter_task || exit 1
	echo ok
} 2>&1 | tee "$OUT/demo.txt"
