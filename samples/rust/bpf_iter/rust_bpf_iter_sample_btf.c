// SPDX-License-Identifier: GPL-2.0
/*
 * BTF for the Rust sample BPF iterator target: pahole emits no BTF for Rust
 * code, so the context struct, the record type and the bpf_iter_<target>
 * anchor that programs attach to are declared here.
 *
 * The target is rust_sample in the module, rust_sample_builtin built in (so
 * that the module can be loaded beside it), and rust_sample_twin in
 * rust_bpf_iter_sample_twin.ko, a second module built from the same files
 * (only out of tree): the two modules' BTF then has the same layout, so the
 * two anchors have the same type id, which the link-update selftest needs.
 */
#include <linux/bpf.h>
#include <linux/compiler.h>
#include <linux/types.h>
#include "rust_bpf_iter_sample.h"

#if defined(RUST_SAMPLE_TWIN)
#define TARGET rust_sample_twin
#elif defined(MODULE)
#define TARGET rust_sample
#else
#define TARGET rust_sample_builtin
#endif

/* Expand TARGET before it is pasted into struct and function names. */
#define __CTX(target) bpf_iter__##target
#define CTX(target) __CTX(target)
#define DEFINE_ANCHOR(target, args...) DEFINE_BPF_ITER_FUNC(target, args)

/* Context of a program: meta, then one 8-byte slot per anchor argument. */
struct CTX(TARGET) {
	__bpf_md_ptr(struct bpf_iter_meta *, meta);
	__bpf_md_ptr(struct rust_sample_record *, rec);
	u32 index;

	/* Padded to the next 8-byte slot, as the anchor's next argument. */
	__bpf_md_ptr(const char *, name);
};

DEFINE_ANCHOR(TARGET, struct bpf_iter_meta *meta,
	      struct rust_sample_record *rec, u32 index, const char *name)

/* Keep the context struct in BTF even though no C code reads it. */
static const struct CTX(TARGET) __used *rust_sample_ctx;
