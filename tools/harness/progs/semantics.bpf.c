// SPDX-License-Identifier: GPL-2.0
/*
 * Programs for the read-semantics suite (guest.d/35-read.sh), built for the
 * C target task and for its Rust twin rust_task (-DTARGET="...").
 *
 * stop_third: prints "seq_num pid" for every thread and returns 1 for the
 *	third (seq_num 2): the core then drops that object's output and ends
 *	the read() after the first two; the next read() retries the object,
 *	the program returns 1 again, and read() fails with EAGAIN.
 * too_big: prints about 39 KB for the first thread, more than the seq
 *	buffer (PAGE_SIZE << 3) holds: read() fails with E2BIG.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

/*
 * The context of task and rust_task, without preserve_access_index: the
 * twin's is in its module's BTF, which CO-RE (against vmlinux) does not see.
 */
struct task_ctx {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
};

SEC("iter/" TARGET)
int stop_third(struct task_ctx *ctx)
{
	struct task_struct *task = ctx->task;

	if (!task)
		return 0;
	BPF_SEQ_PRINTF(ctx->meta->seq, "%llu %d\n", ctx->meta->seq_num, task->pid);
	return ctx->meta->seq_num == 2;
}

SEC("iter/" TARGET)
int too_big(struct task_ctx *ctx)
{
	int i;

	if (!ctx->task || ctx->meta->seq_num > 0)
		return 0;
	for (i = 0; i < 600; i++)
		BPF_SEQ_PRINTF(ctx->meta->seq,
			       "%3d 0123456789012345678901234567890123456789012345678901234567\n", i);
	return 0;
}
