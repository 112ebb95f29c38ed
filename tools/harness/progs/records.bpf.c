// SPDX-License-Identifier: GPL-2.0
/*
 * Program for the rust_records target (samples/rust/bpf_iter_records):
 * one line "ID VALUE NAME" per record, then "end" from the final call that
 * the end of the walk makes with a NULL record.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

/* The record as the module declares it; CO-RE matches it by name. */
struct rust_record___prog {
	__u64 id;
	__u64 value;
	char name[16];
} __attribute__((preserve_access_index));

/* One 8-byte slot per argument of the anchor bpf_iter_rust_records. */
struct records_ctx {
	struct bpf_iter_meta *meta;
	struct rust_record___prog *rec;
};

SEC("iter/rust_records")
int dump_records(struct records_ctx *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct rust_record___prog *rec = ctx->rec;
	char name[16] = {};

	if (!rec) {
		BPF_SEQ_PRINTF(seq, "end\n");
		return 0;
	}
	bpf_probe_read_kernel_str(name, sizeof(name), rec->name);
	BPF_SEQ_PRINTF(seq, "%llu %llu %s\n", rec->id, rec->value, name);
	return 0;
}
