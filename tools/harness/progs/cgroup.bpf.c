// SPDX-License-Identifier: GPL-2.0
/*
 * A program for the kernel's C cgroup target, for the cli suite: one line
 * with the id of each cgroup of the walk (the id of its cgroupfs directory,
 * its inode number). Built only when vmlinux has the target (CONFIG_CGROUPS).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("iter/cgroup")
int dump_cgroup(struct bpf_iter__cgroup *ctx)
{
	struct cgroup *cgrp = ctx->cgroup;

	if (!cgrp)
		return 0;
	BPF_SEQ_PRINTF(ctx->meta->seq, "%llu\n", cgrp->kn->id);
	return 0;
}
