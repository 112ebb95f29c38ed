// SPDX-License-Identifier: GPL-2.0
/*
 * rust_records_count, a sleepable kfunc of the records sample's own, in the
 * module's one kfunc set beside its open-coded iterator's: the number of
 * records, printed at the first task of the kernel's task target by a
 * sleepable program. With -DNOT_SLEEPABLE the program is not sleepable, and
 * the verifier must refuse the call.
 */
#define BPF_NO_KFUNC_PROTOTYPES
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

extern s64 rust_records_count(void) __ksym;

#ifdef NOT_SLEEPABLE
SEC("iter/task")
#else
SEC("iter.s/task")
#endif
int count(struct bpf_iter__task *ctx)
{
	if (!ctx->task || ctx->meta->seq_num != 0)
		return 0;
	BPF_SEQ_PRINTF(ctx->meta->seq, "%lld\n", rust_records_count());
	return 0;
}
