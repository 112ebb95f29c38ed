// SPDX-License-Identifier: GPL-2.0
/*
 * The open-coded rust_records iterator (samples/rust/bpf_iter_records): the ids
 * of the module's records, in order, one a line, walked at the first task of
 * the kernel's task target by a sleepable program (the walk takes the
 * collection's mutex).
 */
#define BPF_NO_KFUNC_PROTOTYPES
#include "records.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

extern int bpf_iter_rust_records_new(struct bpf_iter_rust_records *it) __ksym;
extern __u64 *bpf_iter_rust_records_next(struct bpf_iter_rust_records *it) __ksym;
extern void bpf_iter_rust_records_destroy(struct bpf_iter_rust_records *it) __ksym;

SEC("iter.s/task")
int ids(struct bpf_iter__task *ctx)
{
	__u64 *id;

	if (!ctx->task || ctx->meta->seq_num != 0)
		return 0;
	bpf_for_each(rust_records, id)
		BPF_SEQ_PRINTF(ctx->meta->seq, "%llu\n", *id);
	return 0;
}
