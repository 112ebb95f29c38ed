// SPDX-License-Identifier: GPL-2.0
/*
 * The program of the rust_primes example (samples/rust/bpf_iter_primes,
 * Documentation/rust/bpf_iter.rst): one line per prime, "INDEX PRIME". The
 * context is in the module's BTF, so it is declared here (bpftool btf dump
 * file /sys/kernel/btf/rust_bpf_iter_primes -B vmlinux format c gives the
 * same); both scalars are zero on the final call.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct bpf_iter__rust_primes {
	struct bpf_iter_meta *meta;
	__u32 index;
	__u32 pad;
	__u64 prime;
};

SEC("iter/rust_primes")
int show(struct bpf_iter__rust_primes *ctx)
{
	if (ctx->prime)
		BPF_SEQ_PRINTF(ctx->meta->seq, "%u %llu\n", ctx->index, ctx->prime);
	return 0;
}
