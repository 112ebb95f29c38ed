#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Compile the harness' own BPF programs (tools/harness/progs) against the
# built kernel: progs.sh VMLINUX BPFTOOL LIBBPF_INCLUDE OUT
set -euo pipefail
. "$(dirname "$0")/lib.sh"
VMLINUX=$1 BPFTOOL=$2 LIBBPF_INCLUDE=$3 OUT=$4
mkdir -p "$OUT/include" "$OUT/progs"
[ -f "$OUT/include/vmlinux.h" ] ||
	"$BPFTOOL" btf dump file "$VMLINUX" format c >"$OUT/include/vmlinux.h" ||
	die "bpftool could not dump the BTF of $VMLINUX"
cc() { # cc SRC OUT DEFINES...
	local src=$1 out=$2
	shift 2
	# -fms-extensions: 7.3's vmlinux.h embeds named structs without a member name
	# (`struct ns_tree;` in struct ns_common), as the kernel is built.
	clang -O2 -g -Wall -Werror -target bpf -D__TARGET_ARCH_x86 -fms-extensions -Wno-microsoft-anon-tag "$@" \
		-I"$OUT/include" -I"$LIBBPF_INCLUDE" -c "$src" -o "$out" ||
		die "clang -target bpf failed on $(basename "$src")"
}
P=$ROOT/tools/harness/progs
cc "$P/rust_sample.bpf.c" "$OUT/progs/rust_sample.bpf.o" -DTARGET=rust_sample
cc "$P/rust_sample.bpf.c" "$OUT/progs/rust_sample_builtin.bpf.o" -DTARGET=rust_sample_builtin
cc "$P/rust_sample.bpf.c" "$OUT/progs/rust_sample_overread.bpf.o" -DTARGET=rust_sample -DNAME_BYTES=32
cc "$P/rust_sample.bpf.c" "$OUT/progs/rust_sample_sleepable.bpf.o" -DTARGET=rust_sample -DSLEEPABLE
cc "$P/rust_sample.bpf.c" "$OUT/progs/rust_sample_alt.bpf.o" -DTARGET=rust_sample -DALT
cc "$P/rust_sample.bpf.c" "$OUT/progs/rust_sample_twin.bpf.o" -DTARGET=rust_sample_twin -DALT
cc "$P/open_sample.bpf.c" "$OUT/progs/open_sample.bpf.o"
cc "$P/map_elem.bpf.c" "$OUT/progs/map_elem.bpf.o"
cc "$P/map_elem.bpf.c" "$OUT/progs/map_elem_overread.bpf.o" -DKEY_BYTES=304
cc "$P/map_elem.bpf.c" "$OUT/progs/map_elem_alt.bpf.o" -DALT
cc "$P/records.bpf.c" "$OUT/progs/records.bpf.o"
# soundness-2 point 6: a program of the selftest module built against the C of
# the module's own BTF, as a program author would (bpftool btf dump ... format c).
"$BPFTOOL" -B "$VMLINUX" btf dump file "$OUT/modules/rust_bpf_iter_selftest.ko" format c \
	>"$OUT/include/selftest.h" || die "bpftool could not dump the selftest module's BTF"
cc "$P/signed.bpf.c" "$OUT/progs/signed.bpf.o"
# The selftest module's open-coded iterators (the open-coded suite).
cc "$P/open_selftest.bpf.c" "$OUT/progs/open_selftest.bpf.o"
for c in RCU_NO_LOCK SLEEP_NOT_SLEEPABLE; do
	cc "$P/open_selftest.bpf.c" "$OUT/progs/open_selftest_$c.bpf.o" -D"$c"
done
cc "$P/thread.bpf.c" "$OUT/progs/thread.bpf.o"
# The cgroup target exists only with CONFIG_CGROUPS (the debug kernel has none).
if grep -q '^struct bpf_iter__cgroup {' "$OUT/include/vmlinux.h"; then
	cc "$P/cgroup.bpf.c" "$OUT/progs/cgroup.bpf.o"
fi
# The read-semantics suite's programs, for task and its Rust twin.
cc "$P/semantics.bpf.c" "$OUT/progs/semantics_task.bpf.o" -DTARGET='"task"'
cc "$P/semantics.bpf.c" "$OUT/progs/semantics_rust_task.bpf.o" -DTARGET='"rust_task"'
# For the targets of samples/rust/bpf_iter_params (the cli suite).
cc "$P/params.bpf.c" "$OUT/progs/rust_map_info.bpf.o" -DMAP_INFO
cc "$P/params.bpf.c" "$OUT/progs/rust_cgroup_info.bpf.o"
# For samples/rust/bpf_iter_primes, the guide's example (the cli suite).
cc "$P/primes.bpf.c" "$OUT/progs/rust_primes.bpf.o"
# Its open-coded iterator (the open-coded suite), against the C of the module's
# BTF as a program author gets it: the walks, then one object per case the
# verifier must refuse.
"$BPFTOOL" -B "$VMLINUX" btf dump file "$OUT/modules/rust_bpf_iter_primes.ko" format c \
	>"$OUT/include/primes.h" || die "bpftool could not dump the primes module's BTF"
cc "$P/open_primes.bpf.c" "$OUT/progs/open_primes.bpf.o"
cc "$P/open_primes_irq.bpf.c" "$OUT/progs/open_primes_irq.bpf.o"
cc "$P/nmi_primes.bpf.c" "$OUT/progs/nmi_primes.bpf.o"
for c in NO_DESTROY NEXT_AFTER_DESTROY NEW_TWICE READ_STATE WRITE_STATE SMALL_STATE; do
	cc "$P/open_primes_refused.bpf.c" "$OUT/progs/open_primes_$c.bpf.o" -D"$c"
done
# The task sample's open-coded rust_task against C's task iterator (the open-coded
# suite), against the C of the module's BTF.
"$BPFTOOL" -B "$VMLINUX" btf dump file "$OUT/modules/rust_bpf_iter_task.ko" format c \
	>"$OUT/include/task.h" || die "bpftool could not dump the task module's BTF"
cc "$P/open_task.bpf.c" "$OUT/progs/open_task.bpf.o"
cc "$P/open_task.bpf.c" "$OUT/progs/open_task_UNTRUSTED.bpf.o" -DUNTRUSTED
# The records sample's open-coded rust_records (the open-coded suite).
"$BPFTOOL" -B "$VMLINUX" btf dump file "$OUT/modules/rust_bpf_iter_records.ko" format c \
	>"$OUT/include/records.h" || die "bpftool could not dump the records module's BTF"
cc "$P/open_records.bpf.c" "$OUT/progs/open_records.bpf.o"
# Kfuncs of the samples' own, in their modules' kfunc sets (the open-coded suite).
cc "$P/kfunc_primes.bpf.c" "$OUT/progs/kfunc_primes.bpf.o"
cc "$P/kfunc_records.bpf.c" "$OUT/progs/kfunc_records.bpf.o"
cc "$P/kfunc_records.bpf.c" "$OUT/progs/kfunc_records_NOT_SLEEPABLE.bpf.o" -DNOT_SLEEPABLE
# make bench: the two open-coded task iterators, and the program without a walk.
cc "$P/bench_open.bpf.c" "$OUT/progs/bench_open_empty.bpf.o"
cc "$P/bench_open.bpf.c" "$OUT/progs/bench_open_task.bpf.o" -DITER=task
cc "$P/bench_open.bpf.c" "$OUT/progs/bench_open_rust_task.bpf.o" -DITER=rust_task
# make bench: an empty program and a counting one per task target and twin.
for t in task task_file task_vma; do
	for n in "$t" "rust_$t"; do
		cc "$P/bench.bpf.c" "$OUT/progs/bench_empty_$n.bpf.o" -DTARGET="\"$n\""
		cc "$P/bench.bpf.c" "$OUT/progs/bench_count_$n.bpf.o" -DTARGET="\"$n\"" -DCOUNT
	done
done
cc "$P/bench.bpf.c" "$OUT/progs/bench_empty_rust_records.bpf.o" -DTARGET='"rust_records"'
cc "$P/bench.bpf.c" "$OUT/progs/bench_count_rust_records.bpf.o" -DTARGET='"rust_records"' -DCOUNT
# make bench's workload and /proc walker (guest-lib/benchload.c), static: small processes.
command "${HOSTCC:-cc}" -O2 -Wall -Werror -static -o "$OUT/bin/benchload" "$ROOT/tools/harness/guest-lib/benchload.c" ||
	die "cc failed on benchload.c"
