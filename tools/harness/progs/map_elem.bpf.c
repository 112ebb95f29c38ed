// SPDX-License-Identifier: GPL-2.0
/*
 * A program for the kernel's C bpf_map_elem target, for the link-update
 * suite: prints "key value" per element of a map with 4-byte keys and
 * values. -DKEY_BYTES=304 reads 300 bytes past the key (refused at attach
 * with EACCES), -DALT prints "alt" lines.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

#ifndef KEY_BYTES
#define KEY_BYTES 4
#endif

SEC("iter/bpf_map_elem")
int dump_elem(struct bpf_iter__bpf_map_elem *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	__u8 *key = ctx->key;
	__u32 *val = ctx->value;
	__u32 k;

	if (!key || !val)
		return 0;
	k = *(__u32 *)(key + KEY_BYTES - 4);
#ifdef ALT
	BPF_SEQ_PRINTF(seq, "alt %u\n", k);
#else
	BPF_SEQ_PRINTF(seq, "%u %u\n", k, *val);
#endif
	return 0;
}
