// SPDX-License-Identifier: GPL-2.0
/*
 * rust_primes_nth, a kfunc of the primes sample's own (kernel::bpf::iter::Kfunc),
 * in the module's one kfunc set beside its open-coded iterator's: called at the
 * first task of the kernel's task target. nth prints the first 100 primes, one
 * a line, as the iterator's walk does; limits prints what it returns for 0,
 * 1000 and 1001 (-EINVAL outside 1..1000).
 */
#define BPF_NO_KFUNC_PROTOTYPES
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

extern s64 rust_primes_nth(__u32 n) __ksym;

static bool first(struct bpf_iter__task *ctx)
{
	return ctx->task && ctx->meta->seq_num == 0;
}

SEC("iter/task")
int nth(struct bpf_iter__task *ctx)
{
	int i;

	if (!first(ctx))
		return 0;
	bpf_for(i, 1, 101)
		BPF_SEQ_PRINTF(ctx->meta->seq, "%lld\n", rust_primes_nth(i));
	return 0;
}

SEC("iter/task")
int limits(struct bpf_iter__task *ctx)
{
	if (!first(ctx))
		return 0;
	BPF_SEQ_PRINTF(ctx->meta->seq, "%lld %lld %lld\n", rust_primes_nth(0),
		       rust_primes_nth(1000), rust_primes_nth(1001));
	return 0;
}
