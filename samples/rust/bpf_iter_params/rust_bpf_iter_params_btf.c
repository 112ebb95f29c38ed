// SPDX-License-Identifier: GPL-2.0
/*
 * BTF for rust_bpf_iter_params (rust_bpf_iter_params_main.rs): pahole emits
 * no BTF for Rust code, so the anchors programs attach to and their context
 * structs are declared here. Both contexts hold scalars only; the final call
 * of a walk (after the last object) gives zeros, which no map id or cgroup id
 * is.
 */
#include <linux/bpf.h>
#include <linux/compiler.h>
#include <linux/types.h>

struct bpf_iter__rust_map_info {
	__bpf_md_ptr(struct bpf_iter_meta *, meta);
	u32 map_id __aligned(8);
	u32 map_type __aligned(8);
};

DEFINE_BPF_ITER_FUNC(rust_map_info, struct bpf_iter_meta *meta, u32 map_id,
		     u32 map_type)

static const struct bpf_iter__rust_map_info *rust_map_info_ctx __used;

#ifdef CONFIG_CGROUPS
struct bpf_iter__rust_cgroup_info {
	__bpf_md_ptr(struct bpf_iter_meta *, meta);
	u64 cgroup_id;
	u32 order;	/* in the next 8-byte slot: after a u64 */
};

DEFINE_BPF_ITER_FUNC(rust_cgroup_info, struct bpf_iter_meta *meta,
		     u64 cgroup_id, u32 order)

static const struct bpf_iter__rust_cgroup_info *rust_cgroup_info_ctx __used;
#endif
