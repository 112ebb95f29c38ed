// SPDX-License-Identifier: GPL-2.0
/*
 * make bench, built for each task target, its Rust twin and rust_records
 * (-DTARGET="..."):
 * a program that does nothing (the walk's and the framework's own cost), or
 * with -DCOUNT one that prints, at the end of the walk, the meta's seq_num:
 * that of the last object shown (they count from 0), one less than the
 * number of objects.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

#ifdef COUNT
/*
 * The first pointer of these targets' contexts (the task; rust_records' record)
 * is NULL only at the end.
 */
struct task_ctx {
	struct bpf_iter_meta *meta;
	void *task;
};

SEC("iter/" TARGET)
int count(struct task_ctx *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	__u64 n = ctx->meta->seq_num;

	if (!ctx->task)
		BPF_SEQ_PRINTF(seq, "%llu\n", n);
	return 0;
}
#else
SEC("iter/" TARGET)
int empty(void *ctx)
{
	return 0;
}
#endif
