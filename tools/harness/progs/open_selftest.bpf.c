// SPDX-License-Identifier: GPL-2.0
/*
 * The open-coded iterators of the selftest module
 * (samples/rust/bpf_iter_selftest): rust_rcu_count (RCU-protected) and
 * rust_sleep_count (sleepable, its state an allocation), each counting from 1
 * to 3, walked at the first task of the kernel's task target. Built as is, the
 * programs that respect their protection: rcu_count (not sleepable: always in
 * an RCU read-side critical section), rcu_count_locked (sleepable, between
 * bpf_rcu_read_lock() and bpf_rcu_read_unlock()), sleep_count (sleepable).
 * With -DRCU_NO_LOCK or -DSLEEP_NOT_SLEEPABLE, one the verifier must refuse.
 */
#define BPF_NO_KFUNC_PROTOTYPES
#include "selftest.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

extern int bpf_iter_rust_rcu_count_new(struct bpf_iter_rust_rcu_count *it, __u32 n) __ksym;
extern __u32 *bpf_iter_rust_rcu_count_next(struct bpf_iter_rust_rcu_count *it) __ksym;
extern void bpf_iter_rust_rcu_count_destroy(struct bpf_iter_rust_rcu_count *it) __ksym;
extern int bpf_iter_rust_sleep_count_new(struct bpf_iter_rust_sleep_count *it, __u32 n) __ksym;
extern __u32 *bpf_iter_rust_sleep_count_next(struct bpf_iter_rust_sleep_count *it) __ksym;
extern void bpf_iter_rust_sleep_count_destroy(struct bpf_iter_rust_sleep_count *it) __ksym;
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;

static bool first(struct bpf_iter__task *ctx)
{
	return ctx->task && ctx->meta->seq_num == 0;
}

#define COUNT(it, ctx)							\
	({								\
		__u32 *v;						\
		bpf_for_each(it, v, 3)					\
			BPF_SEQ_PRINTF((ctx)->meta->seq, "%u\n", *v);	\
	})

#if defined(RCU_NO_LOCK)
SEC("iter.s/task")
int bad(struct bpf_iter__task *ctx)
{
	if (first(ctx))
		COUNT(rust_rcu_count, ctx);
	return 0;
}
#elif defined(SLEEP_NOT_SLEEPABLE)
SEC("iter/task")
int bad(struct bpf_iter__task *ctx)
{
	if (first(ctx))
		COUNT(rust_sleep_count, ctx);
	return 0;
}
#else
SEC("iter/task")
int rcu_count(struct bpf_iter__task *ctx)
{
	if (first(ctx))
		COUNT(rust_rcu_count, ctx);
	return 0;
}

SEC("iter.s/task")
int rcu_count_locked(struct bpf_iter__task *ctx)
{
	if (!first(ctx))
		return 0;
	bpf_rcu_read_lock();
	COUNT(rust_rcu_count, ctx);
	bpf_rcu_read_unlock();
	return 0;
}

SEC("iter.s/task")
int sleep_count(struct bpf_iter__task *ctx)
{
	if (first(ctx))
		COUNT(rust_sleep_count, ctx);
	return 0;
}
#endif
