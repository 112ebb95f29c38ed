// SPDX-License-Identifier: GPL-2.0
/*
 * The open-coded rust_primes iterator (samples/rust/bpf_iter_primes,
 * Documentation/rust/bpf_iter.rst), walked from a program of the kernel's task
 * target, once (at the first task): each program prints the first N primes,
 * one a line. rust_walk walks the Rust iterator with bpf_for_each; c_walk
 * finds the same primes by trial division in BPF (bpf_for, the kernel's num
 * iterator); rust_limits calls the kfuncs by hand around what new refuses.
 *
 * The state struct comes from the module's BTF (primes.h: bpftool btf dump
 * file /sys/kernel/btf/rust_bpf_iter_primes format c), so it has the size the
 * verifier checks. pahole 1.24 (6.12) emits no bpf_kfunc declaration tags, so
 * bpftool prints no prototypes for the kfuncs: they are declared here.
 */
#define BPF_NO_KFUNC_PROTOTYPES
#include "primes.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

#ifndef N
#define N 100
#endif

extern int bpf_iter_rust_primes_new(struct bpf_iter_rust_primes *it, __u32 n) __ksym;
extern __u64 *bpf_iter_rust_primes_next(struct bpf_iter_rust_primes *it) __ksym;
extern void bpf_iter_rust_primes_destroy(struct bpf_iter_rust_primes *it) __ksym;

/* Whether this run is the first, and has a task: the walk is done once. */
static bool first(struct bpf_iter__task *ctx)
{
	return ctx->task && ctx->meta->seq_num == 0;
}

SEC("iter/task")
int rust_walk(struct bpf_iter__task *ctx)
{
	__u64 *p;

	if (!first(ctx))
		return 0;
	bpf_for_each(rust_primes, p, N)
		BPF_SEQ_PRINTF(ctx->meta->seq, "%llu\n", *p);
	return 0;
}

SEC("iter/task")
int c_walk(struct bpf_iter__task *ctx)
{
	int c, d, found = 0;

	if (!first(ctx))
		return 0;
	bpf_for(c, 2, 1 << 20) {
		bool prime = true;

		if (found == N)
			break;
		bpf_for(d, 2, c) {
			if (d * d > c)
				break;
			if ((__u32)c % (__u32)d == 0) {
				prime = false;
				break;
			}
		}
		if (prime) {
			BPF_SEQ_PRINTF(ctx->meta->seq, "%d\n", c);
			found++;
		}
	}
	return 0;
}

/*
 * What new returns for n = 0 (no primes), the largest n the sample takes,
 * and one more (-EINVAL), and how many items next yields after each.
 */
SEC("iter/task")
int rust_limits(struct bpf_iter__task *ctx)
{
	__u32 ns[3] = { 0, 10000, 10001 };
	int i;

	if (!first(ctx))
		return 0;
	bpf_for(i, 0, 3) {
		struct bpf_iter_rust_primes it;
		__u64 *p, last = 0;
		int ret, count = 0;

		ret = bpf_iter_rust_primes_new(&it, ns[i]);
		while ((p = bpf_iter_rust_primes_next(&it))) {
			last = *p;
			count++;
		}
		/* A drained iterator stays drained. */
		if (bpf_iter_rust_primes_next(&it))
			count = -1;
		bpf_iter_rust_primes_destroy(&it);
		BPF_SEQ_PRINTF(ctx->meta->seq, "n=%u ret=%d count=%d last=%llu\n", ns[i], ret,
			       count, last);
	}
	return 0;
}
