// SPDX-License-Identifier: GPL-2.0
/*
 * BTF for the Rust sample BPF iterator target: pahole emits no BTF for Rust
 * code, so the context struct, the record type and the bpf_iter_<target>
 * anchor that programs attach to are declared here. Built in, the target is
 * called rust_sample_builtin so that the module can be loaded beside it.
 */
#include <linux/bpf.h>
#include <linux/compiler.h>
#include <linux/types.h>
#include "rust_bpf_iter_sample.h"

/* Context of a program: meta, then one 8-byte slot per anchor argument. */
#ifdef MODULE
struct bpf_iter__rust_sample {
	__bpf_md_ptr(struct bpf_iter_meta *, meta);
	__bpf_md_ptr(struct rust_sample_record *, rec);
	u32 index;

	/* Padded to the next 8-byte slot, as the anchor's next argument. */
	__bpf_md_ptr(const char *, name);
};

DEFINE_BPF_ITER_FUNC(rust_sample, struct bpf_iter_meta *meta,
		     struct rust_sample_record *rec, u32 index, const char *name)

/* Keep the context struct in BTF even though no C code reads it. */
static const struct bpf_iter__rust_sample *rust_sample_ctx __used;
#else
struct bpf_iter__rust_sample_builtin {
	__bpf_md_ptr(struct bpf_iter_meta *, meta);
	__bpf_md_ptr(struct rust_sample_record *, rec);
	u32 index;

	/* Padded to the next 8-byte slot, as the anchor's next argument. */
	__bpf_md_ptr(const char *, name);
};

DEFINE_BPF_ITER_FUNC(rust_sample_builtin, struct bpf_iter_meta *meta,
		     struct rust_sample_record *rec, u32 index, const char *name)

static const struct bpf_iter__rust_sample_builtin *rust_sample_ctx __used;
#endif
