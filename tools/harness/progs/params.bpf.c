// SPDX-License-Identifier: GPL-2.0
/*
 * Programs for the targets of samples/rust/bpf_iter_params, for the cli
 * suite: -DMAP_INFO for rust_map_info ("map ID type TYPE"), else for
 * rust_cgroup_info ("cgroup ID order ORDER"). Their contexts are in the
 * module's BTF, so they are declared here, without preserve_access_index;
 * the scalars are zero on the final call.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

#ifdef MAP_INFO
struct map_info_ctx {
	struct bpf_iter_meta *meta;
	__u32 map_id;
	__u32 pad1;
	__u32 map_type;
	__u32 pad2;
};

SEC("iter/rust_map_info")
int show_map(struct map_info_ctx *ctx)
{
	if (ctx->map_id)
		BPF_SEQ_PRINTF(ctx->meta->seq, "map %u type %u\n", ctx->map_id, ctx->map_type);
	return 0;
}
#else
struct cgroup_info_ctx {
	struct bpf_iter_meta *meta;
	__u64 cgroup_id;
	__u32 order;
	__u32 pad;
};

SEC("iter/rust_cgroup_info")
int show_cgroup(struct cgroup_info_ctx *ctx)
{
	if (ctx->cgroup_id)
		BPF_SEQ_PRINTF(ctx->meta->seq, "cgroup %llu order %u\n", ctx->cgroup_id, ctx->order);
	return 0;
}
#endif
