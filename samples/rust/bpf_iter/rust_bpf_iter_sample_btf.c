// SPDX-License-Identifier: GPL-2.0
/*
 * BTF for the rust_sample BPF iterator target: pahole emits no BTF for
 * Rust code, so the context struct, the record type and the
 * bpf_iter_<target> anchor that programs attach to are declared here.
 */
#include <linux/bpf.h>
#include <linux/compiler.h>
#include <linux/types.h>
#include "rust_bpf_iter_sample.h"

/* Built in, the target has another name so both can be tried at once. */
#ifdef MODULE
#define RUST_SAMPLE_TARGET rust_sample
#else
#define RUST_SAMPLE_TARGET rust_sample_builtin
#endif

#define __RUST_SAMPLE_CTX(t) bpf_iter__ ## t
#define RUST_SAMPLE_CTX(t) __RUST_SAMPLE_CTX(t)

/* Context of a program: meta, then one 8-byte slot per anchor argument. */
struct RUST_SAMPLE_CTX(RUST_SAMPLE_TARGET) {
	__bpf_md_ptr(struct bpf_iter_meta *, meta);
	__bpf_md_ptr(struct rust_sample_record *, rec);
	u32 index;
	__bpf_md_ptr(const char *, name);
};

#define __RUST_SAMPLE_ANCHOR(t, args...) DEFINE_BPF_ITER_FUNC(t, args)
__RUST_SAMPLE_ANCHOR(RUST_SAMPLE_TARGET, struct bpf_iter_meta *meta,
		     struct rust_sample_record *rec, u32 index, const char *name)

/* Keep the context struct in BTF even though no C code reads it. */
static const struct RUST_SAMPLE_CTX(RUST_SAMPLE_TARGET) *rust_sample_ctx __used;
