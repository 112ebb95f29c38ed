/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What BPF programs of the rust_sample iterator target see. The Rust side
 * (rust_bpf_iter_sample_main.rs) declares the same context; registration checks
 * the two against each other through BTF.
 */
#ifndef RUST_BPF_ITER_SAMPLE_H
#define RUST_BPF_ITER_SAMPLE_H

#define RUST_SAMPLE_NAME_LEN 16

/* One object the target walks over, owned by the module. */
struct rust_sample_record {
	__u32 id;
	__u32 flags;
	__u64 value;
	char name[RUST_SAMPLE_NAME_LEN];
};

#endif /* RUST_BPF_ITER_SAMPLE_H */
