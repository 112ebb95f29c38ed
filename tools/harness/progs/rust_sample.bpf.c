// SPDX-License-Identifier: GPL-2.0
/*
 * Programs for the Rust sample target (samples/rust/bpf_iter), built once
 * per target name: -DTARGET=rust_sample (module) or rust_sample_builtin.
 *
 * Prints a header on the first object, one line per record, and a last
 * line from the final call that the end of the walk makes with NULL slots.
 *
 * Variants for the link-update suite: -DNAME_BYTES=32 reads past the 16-byte
 * name buffer, -DSLEEPABLE is a sleepable program, -DALT prints "alt" lines.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

/* The record as the module declares it; CO-RE matches it by name. */
struct rust_sample_record___prog {
	__u32 id;
	__u32 flags;
	__u64 value;
	char name[16];
} __attribute__((preserve_access_index));

/* One 8-byte slot per argument of the anchor bpf_iter_<TARGET>. */
struct sample_ctx {
	struct bpf_iter_meta *meta;
	struct rust_sample_record___prog *rec;
	__u32 index;
	const char *name;
};

#ifdef SLEEPABLE
#define __SEC_ITER(t) "iter.s/" #t
#else
#define __SEC_ITER(t) "iter/" #t
#endif
#define SEC_ITER(t) __SEC_ITER(t)

#ifndef NAME_BYTES
#define NAME_BYTES 16
#endif

SEC(SEC_ITER(TARGET))
int dump_sample(struct sample_ctx *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct rust_sample_record___prog *rec = ctx->rec;
	char name[NAME_BYTES] = {};

	if (!rec) {
		BPF_SEQ_PRINTF(seq, "end %llu\n", ctx->meta->seq_num);
		return 0;
	}
#ifdef ALT
	BPF_SEQ_PRINTF(seq, "alt %u\n", rec->id);
	return 0;
#endif
	if (ctx->meta->seq_num == 0)
		BPF_SEQ_PRINTF(seq, "index id value name\n");
	if (ctx->name)
		__builtin_memcpy(name, ctx->name, NAME_BYTES);
	name[sizeof(name) - 1] = 0;
	BPF_SEQ_PRINTF(seq, "%u %u %llu %s\n", ctx->index, rec->id, rec->value, name);
	return 0;
}
