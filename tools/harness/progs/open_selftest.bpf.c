// SPDX-License-Identifier: GPL-2.0
/*
 * The open-coded iterators of the selftest module
 * (samples/rust/bpf_iter_selftest): rust_rcu_count (RCU-protected) and
 * rust_sleep_count (sleepable, its state an allocation), each counting from 1
 * to 3, walked at the first task of the kernel's task target. Built as is, the
 * programs that respect their protection: rcu_count (not sleepable: always in
 * an RCU read-side critical section), rcu_count_locked (sleepable, between
 * bpf_rcu_read_lock() and bpf_rcu_read_unlock()), sleep_count (sleepable).
 * relapse and forever walk rust_relapse and rust_forever, which test what the
 * framework guarantees whatever an iterator's next does: a drained iterator
 * stays drained, and a walk ends after MAX_ITEMS items.
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
extern int bpf_iter_rust_relapse_new(struct bpf_iter_rust_relapse *it) __ksym;
extern __u32 *bpf_iter_rust_relapse_next(struct bpf_iter_rust_relapse *it) __ksym;
extern void bpf_iter_rust_relapse_destroy(struct bpf_iter_rust_relapse *it) __ksym;
extern int bpf_iter_rust_forever_new(struct bpf_iter_rust_forever *it) __ksym;
extern __u32 *bpf_iter_rust_forever_next(struct bpf_iter_rust_forever *it) __ksym;
extern void bpf_iter_rust_forever_destroy(struct bpf_iter_rust_forever *it) __ksym;
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

/*
 * rust_relapse's own next would yield again after its end: the items, then
 * whether next returned anything on two more calls (it must not).
 */
SEC("iter/task")
int relapse(struct bpf_iter__task *ctx)
{
	struct bpf_iter_rust_relapse it;
	int n = 0, more = 0;
	__u32 *v;

	if (!first(ctx))
		return 0;
	bpf_iter_rust_relapse_new(&it);
	while ((v = bpf_iter_rust_relapse_next(&it))) {
		BPF_SEQ_PRINTF(ctx->meta->seq, "%u\n", *v);
		if (++n > 10)
			break;
	}
	if (bpf_iter_rust_relapse_next(&it))
		more++;
	if (bpf_iter_rust_relapse_next(&it))
		more++;
	bpf_iter_rust_relapse_destroy(&it);
	BPF_SEQ_PRINTF(ctx->meta->seq, "more %d\n", more);
	return 0;
}

/* rust_forever never ends: the framework stops it after MAX_ITEMS (1000). */
SEC("iter/task")
int forever(struct bpf_iter__task *ctx)
{
	__u32 *v, last = 0;
	int n = 0;

	if (!first(ctx))
		return 0;
	bpf_for_each(rust_forever, v) {
		last = *v;
		n++;
	}
	BPF_SEQ_PRINTF(ctx->meta->seq, "%d %u\n", n, last);
	return 0;
}
#endif
