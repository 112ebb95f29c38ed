// SPDX-License-Identifier: GPL-2.0
/*
 * iter/task: one fixed-size binary record per task via bpf_seq_write().
 * Built twice (build.sh): for task and, with -DTWIN, for rust_task.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#ifdef TWIN
#define TARGET "rust_task"
#else
#define TARGET "task"
#endif

/* struct bpf_iter__task, without preserve_access_index (see task.bpf.c). */
struct task_ctx {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
};

/* Layout shared with bpf-iter-selftest (native endian). */
struct task_record {
	__u32 magic;	/* TASK_RECORD_MAGIC */
	__u32 tgid;
	__u32 pid;
	__u32 seq_num;
};

#define TASK_RECORD_MAGIC 0x7a5c1d0e

SEC("iter/" TARGET)
int dump_task_bin(struct task_ctx *ctx)
{
	struct task_struct *task = ctx->task;
	struct task_record rec = {};

	if (!task)
		return 0;
	rec.magic = TASK_RECORD_MAGIC;
	rec.tgid = task->tgid;
	rec.pid = task->pid;
	rec.seq_num = (__u32)ctx->meta->seq_num;
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
	return 0;
}
