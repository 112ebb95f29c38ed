// SPDX-License-Identifier: GPL-2.0
/*
 * iter/task_file: the seed example, one line per open file of each task.
 * Built twice (build.sh): for task_file and, with -DTWIN, for its Rust twin
 * rust_task_file; only SEC() differs.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

#ifdef TWIN
#define TARGET "rust_task_file"
#else
#define TARGET "task_file"
#endif

/* struct bpf_iter__task_file, without preserve_access_index (see task.bpf.c). */
struct task_file_ctx {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
	__u32 fd __attribute__((aligned(8)));
	struct file *file;
};

SEC("iter/" TARGET)
int dump_task_file(struct task_file_ctx *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	__u32 fd = ctx->fd;

	if (!task || !file)
		return 0;
	if (ctx->meta->seq_num == 0)
		BPF_SEQ_PRINTF(seq, "    tgid      pid       fd      file\n");
	BPF_SEQ_PRINTF(seq, "%8d %8d %8d %lx\n", task->tgid, task->pid, fd,
		       (long)file->f_op);
	return 0;
}
