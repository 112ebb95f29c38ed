// SPDX-License-Identifier: GPL-2.0
/*
 * soundness-2 point 6: a program of rust_signed (samples/rust/bpf_iter_selftest),
 * built against the C of the module's BTF (selftest.h, dumped by progs.sh):
 * it widens each slot to 64 bits as the BTF types it, so a negative value
 * prints as negative only if the module's BTF says the slot is signed.
 */
#include "selftest.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("iter/rust_signed")
int dump_signed(struct bpf_iter__rust_signed *ctx)
{
	/* The final call from stop has every slot zero. */
	if (!ctx->v32)
		return 0;
	BPF_SEQ_PRINTF(ctx->meta->seq, "%lld %lld %lld %lld\n", (long long)ctx->v8,
		       (long long)ctx->v16, (long long)ctx->v32, (long long)ctx->v64);
	return 0;
}
