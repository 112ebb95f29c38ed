// SPDX-License-Identifier: GPL-2.0
/*
 * The built-in sample's open-coded iterator (samples/rust/bpf_iter built in:
 * rust_sample_builtin), whose kfuncs and state struct are vmlinux's: at the
 * first task of the kernel's task target, each record it yields (a
 * struct rust_sample_record *), as rust_sample.bpf.c prints the records the
 * seq_file target shows, then how many.
 */
#define BPF_NO_KFUNC_PROTOTYPES
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

extern int bpf_iter_rust_sample_builtin_new(struct bpf_iter_rust_sample_builtin *it) __ksym;
extern struct rust_sample_record *
bpf_iter_rust_sample_builtin_next(struct bpf_iter_rust_sample_builtin *it) __ksym;
extern void bpf_iter_rust_sample_builtin_destroy(struct bpf_iter_rust_sample_builtin *it) __ksym;

SEC("iter/task")
int walk(struct bpf_iter__task *ctx)
{
	struct rust_sample_record *rec;
	int n = 0;

	if (!ctx->task || ctx->meta->seq_num != 0)
		return 0;
	bpf_for_each(rust_sample_builtin, rec) {
		BPF_SEQ_PRINTF(ctx->meta->seq, "%d %u %llu %s\n", n, rec->id, rec->value,
			       rec->name);
		n++;
	}
	BPF_SEQ_PRINTF(ctx->meta->seq, "records %d\n", n);
	return 0;
}
