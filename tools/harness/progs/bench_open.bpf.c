// SPDX-License-Identifier: GPL-2.0
/*
 * make bench's open-coded case: C's task iterator against the task sample's
 * rust_task, each walked once over every thread (BPF_TASK_ITER_ALL_THREADS)
 * from a program of the task target pinned for one task (--tid), which prints
 * how many tasks it saw (reading each one's pid). -DITER=task or -DITER=rust_task; without ITER, the
 * same program without the walk, whose cost bench.py subtracts.
 */
#define BPF_NO_KFUNC_PROTOTYPES
#include "task.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "open_task_kfuncs.h"

char LICENSE[] SEC("license") = "GPL";

/* ITER expanded before bpf_for_each pastes it into the kfuncs' names. */
#define WALK(type, t) bpf_for_each(type, t, NULL, ALL_THREADS)

SEC("iter/task")
int walk(struct bpf_iter__task *ctx)
{
	int n = 0;

	if (!ctx->task)
		return 0;
#ifdef ITER
	struct task_struct *t;

	/* A read of each task (whose type BTF then has whole, as libbpf and aya want). */
	WALK(ITER, t)
		n += t->pid >= 0;
#endif
	BPF_SEQ_PRINTF(ctx->meta->seq, "%d\n", n);
	return 0;
}
