// SPDX-License-Identifier: GPL-2.0
/*
 * soundness-2 point 2: a program of rust_thread (samples/rust/bpf_iter_selftest)
 * reads the thread its link holds through the trusted pointer, which stays
 * valid after the thread's process has been reaped, and asks for a reference
 * (bpf_task_acquire(), which gives none once the task has been reaped).
 */
#include "selftest.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

SEC("iter/rust_thread")
int dump_thread(struct bpf_iter__rust_thread *ctx)
{
	struct task_struct *task = ctx->task, *held;

	if (!task)
		return 0;
	/* A reference on the task's RCU users: none once it has been reaped. */
	held = bpf_task_acquire(task);
	BPF_SEQ_PRINTF(ctx->meta->seq, "%d %d %d\n", task->pid, task->tgid, held != NULL);
	if (held)
		bpf_task_release(held);
	return 0;
}
