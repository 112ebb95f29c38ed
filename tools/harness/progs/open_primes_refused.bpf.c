// SPDX-License-Identifier: GPL-2.0
/*
 * Programs that misuse the open-coded rust_primes iterator
 * (samples/rust/bpf_iter_primes), one per -D<CASE>: the verifier must refuse
 * each, and the open-coded suite matches its message. The declarations are
 * those of open_primes.bpf.c.
 */
#define BPF_NO_KFUNC_PROTOTYPES
#include "primes.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

extern int bpf_iter_rust_primes_new(struct bpf_iter_rust_primes *it, __u32 n) __ksym;
extern __u64 *bpf_iter_rust_primes_next(struct bpf_iter_rust_primes *it) __ksym;
extern void bpf_iter_rust_primes_destroy(struct bpf_iter_rust_primes *it) __ksym;

/* Whether this run is the first, and has a task: the walk is done once. */
static bool first(struct bpf_iter__task *ctx)
{
	return ctx->task && ctx->meta->seq_num == 0;
}

#if defined(NO_DESTROY)
/* The iterator is never destroyed: an unreleased reference. */
SEC("iter/task")
int bad(struct bpf_iter__task *ctx)
{
	struct bpf_iter_rust_primes it;
	__u64 *p;

	if (!first(ctx))
		return 0;
	bpf_iter_rust_primes_new(&it, 3);
	p = bpf_iter_rust_primes_next(&it);
	if (p)
		BPF_SEQ_PRINTF(ctx->meta->seq, "%llu\n", *p);
	return 0;
}
#elif defined(NEXT_AFTER_DESTROY)
SEC("iter/task")
int bad(struct bpf_iter__task *ctx)
{
	struct bpf_iter_rust_primes it;
	__u64 *p;

	if (!first(ctx))
		return 0;
	bpf_iter_rust_primes_new(&it, 3);
	bpf_iter_rust_primes_destroy(&it);
	p = bpf_iter_rust_primes_next(&it);
	if (p)
		BPF_SEQ_PRINTF(ctx->meta->seq, "%llu\n", *p);
	return 0;
}
#elif defined(NEW_TWICE)
SEC("iter/task")
int bad(struct bpf_iter__task *ctx)
{
	struct bpf_iter_rust_primes it;

	if (!first(ctx))
		return 0;
	bpf_iter_rust_primes_new(&it, 3);
	bpf_iter_rust_primes_new(&it, 4);
	bpf_iter_rust_primes_destroy(&it);
	return 0;
}
#elif defined(READ_STATE)
/* The program reads the state that Rust keeps in its stack. */
SEC("iter/task")
int bad(struct bpf_iter__task *ctx)
{
	struct bpf_iter_rust_primes it;
	__u64 v;

	if (!first(ctx))
		return 0;
	bpf_iter_rust_primes_new(&it, 3);
	v = *(volatile __u64 *)&it;
	bpf_iter_rust_primes_destroy(&it);
	BPF_SEQ_PRINTF(ctx->meta->seq, "%llu\n", v);
	return 0;
}
#elif defined(WRITE_STATE)
/* The program overwrites the state, then hands it to next. */
SEC("iter/task")
int bad(struct bpf_iter__task *ctx)
{
	struct bpf_iter_rust_primes it;
	__u64 *p;

	if (!first(ctx))
		return 0;
	bpf_iter_rust_primes_new(&it, 3);
	*(volatile __u64 *)&it = 0x4141414141414141ULL;
	p = bpf_iter_rust_primes_next(&it);
	if (p)
		BPF_SEQ_PRINTF(ctx->meta->seq, "%llu\n", *p);
	bpf_iter_rust_primes_destroy(&it);
	return 0;
}
#elif defined(SMALL_STATE)
/* A state of 8 bytes, the program's only stack slot (fp-8): the kernel's is larger. */
struct small_state {
	__u64 v;
} __attribute__((aligned(8)));

SEC("iter/task")
int bad(struct bpf_iter__task *ctx)
{
	struct small_state it;

	if (!first(ctx))
		return 0;
	bpf_iter_rust_primes_new((struct bpf_iter_rust_primes *)&it, 3);
	bpf_iter_rust_primes_destroy((struct bpf_iter_rust_primes *)&it);
	return 0;
}
#else
#error "build with -D<CASE>"
#endif
