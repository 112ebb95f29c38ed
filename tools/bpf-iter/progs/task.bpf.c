// SPDX-License-Identifier: GPL-2.0
/*
 * iter/task: one "tgid pid" line per task, header on the first object.
 * Built twice (build.sh): for the C target task and, with -DTWIN, for its
 * Rust twin rust_task (samples/rust/bpf_iter_task); only SEC() differs.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

#ifdef TWIN
#define TARGET "rust_task"
#else
#define TARGET "task"
#endif

/*
 * struct bpf_iter__task, one 8-byte slot per argument. Declared here, after
 * vmlinux.h, so without preserve_access_index: the twin's context is in its
 * module's BTF, which CO-RE (against vmlinux) does not see.
 */
struct task_ctx {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
};

SEC("iter/" TARGET)
int dump_task(struct task_ctx *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;

	if (!task)
		return 0;
	if (ctx->meta->seq_num == 0)
		BPF_SEQ_PRINTF(seq, "    tgid      pid\n");
	BPF_SEQ_PRINTF(seq, "%8d %8d\n", task->tgid, task->pid);
	return 0;
}
