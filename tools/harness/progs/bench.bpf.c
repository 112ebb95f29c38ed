// SPDX-License-Identifier: GPL-2.0
/*
 * make bench: a program that does nothing (the walk's and the framework's own
 * cost), built for each task target and its Rust twin (-DTARGET="...").
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("iter/" TARGET)
int empty(void *ctx)
{
	return 0;
}
