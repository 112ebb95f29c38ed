/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The rust_records BPF iterator target: the calls between the C debugfs glue
 * (rust_bpf_iter_records_debugfs.c) and the Rust part of the module
 * (rust_bpf_iter_records_main.rs).
 */
#ifndef RUST_BPF_ITER_RECORDS_H
#define RUST_BPF_ITER_RECORDS_H

#include <linux/types.h>

/* The debugfs files, and the command each one takes. */
enum rust_records_op {
	RUST_RECORDS_ADD = 1,	/* "NAME VALUE" */
	RUST_RECORDS_DEL = 2,	/* "ID" */
	RUST_RECORDS_CLEAR = 3,	/* anything */
	RUST_RECORDS_REGISTERED = 4,	/* "0": unregister the target, "1": register */
};

/* The longest command written to a debugfs file, in bytes. */
#define RUST_RECORDS_CMD_MAX 64

/* Rust: runs one command; 0 or a negative errno. */
int rust_bpf_iter_records_cmd(unsigned int op, const char *buf, size_t len);

/* C: creates and removes /sys/kernel/debug/rust_bpf_iter_records/. */
int rust_bpf_iter_records_debugfs_init(void);
void rust_bpf_iter_records_debugfs_exit(void);

#endif /* RUST_BPF_ITER_RECORDS_H */
