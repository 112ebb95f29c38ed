// SPDX-License-Identifier: GPL-2.0
/*
 * The open-coded rust_task iterator (samples/rust/bpf_iter_task) against C's
 * task iterator (bpf_iter_task_{new,next,destroy}, kernel/bpf/task_iter.c),
 * walked side by side in one program, in one RCU read-side critical section,
 * so that both see the same tasks: one line per walk, how many tasks both
 * yielded, the index at which they first differed (-1 for none) and what each
 * new returned.
 *
 * lockstep runs from the kernel's task target: at its first task, every
 * process, every thread, and two walks new must refuse (flags 7; the threads
 * of a NULL process); then at each process, its threads (the target's task is
 * trusted). With -DUNTRUSTED, new gets a pointer that is neither referenced
 * nor trusted (a task's real_parent, RCU-protected): the verifier must refuse
 * it.
 *
 * open_and_seq runs from the task sample's seq_file target, rust_task: at its
 * first task it prints every thread that the open-coded rust_task yields
 * ("open TID"), then, at each task, the task the target shows ("seq TID"). The
 * open-coded walk starts at init_task (TID 0), which no pid names, so the
 * seq_file target does not show it.
 */
#define BPF_NO_KFUNC_PROTOTYPES
#include "task.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "open_task_kfuncs.h"

char LICENSE[] SEC("license") = "GPL";

static __always_inline void lockstep(struct seq_file *seq, const char *what, int id,
				     struct task_struct *task, __u32 flags)
{
	struct bpf_iter_task c_it;
	struct bpf_iter_rust_task r_it;
	struct task_struct *c, *r;
	int n = 0, differ = -1, c_ret, r_ret;

	c_ret = bpf_iter_task_new(&c_it, task, flags);
	r_ret = bpf_iter_rust_task_new(&r_it, task, flags);
	while ((c = bpf_iter_task_next(&c_it))) {
		r = bpf_iter_rust_task_next(&r_it);
		if (!r || r->pid != c->pid || r->tgid != c->tgid) {
			differ = n;
			break;
		}
		n++;
	}
	/* Both drained together, or Rust yielded more. */
	if (differ < 0 && bpf_iter_rust_task_next(&r_it))
		differ = n;
	bpf_iter_rust_task_destroy(&r_it);
	bpf_iter_task_destroy(&c_it);
	BPF_SEQ_PRINTF(seq, "%s %d n=%d differ=%d ret=%d,%d\n", what, id, n, differ, c_ret,
		       r_ret);
}

SEC("iter/task")
int lockstep_walks(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;

	if (!task)
		return 0;
#ifdef UNTRUSTED
	lockstep(seq, "untrusted", 0, task->real_parent, PROC_THREADS);
#else
	if (ctx->meta->seq_num == 0) {
		lockstep(seq, "procs", 0, NULL, ALL_PROCS);
		lockstep(seq, "threads", 0, NULL, ALL_THREADS);
		lockstep(seq, "badflags", 0, NULL, 7);
		lockstep(seq, "nullproc", 0, NULL, PROC_THREADS);
	}
	if (task->pid == task->tgid)
		lockstep(seq, "proc", task->tgid, task, PROC_THREADS);
#endif
	return 0;
}

#ifndef UNTRUSTED
/*
 * Its context is the module's struct, from task.h, read through CO-RE against
 * the module's BTF as libbpf does it (bpf-iter gives aya-obj vmlinux's BTF with
 * the module's merged in).
 */
SEC("iter/rust_task")
int open_and_seq(struct bpf_iter__rust_task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task, *t;

	if (!task)
		return 0;
	if (ctx->meta->seq_num == 0)
		bpf_for_each(rust_task, t, NULL, ALL_THREADS)
			BPF_SEQ_PRINTF(seq, "open %d\n", t->pid);
	BPF_SEQ_PRINTF(seq, "seq %d\n", task->pid);
	return 0;
}
#endif
