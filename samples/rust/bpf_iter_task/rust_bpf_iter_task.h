/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C glue of rust_bpf_iter_task (rust_bpf_iter_task_btf.c), called from
 * rust_bpf_iter_task_main.rs, which declares the same functions.
 */
#ifndef RUST_BPF_ITER_TASK_H
#define RUST_BPF_ITER_TASK_H

#include <linux/types.h>

struct mm_struct;
struct pid_namespace;
struct task_struct;

void rust_bpf_iter_task_put_pid_ns(struct pid_namespace *ns);
struct task_struct *rust_bpf_iter_task_next_thread(struct task_struct *t);
int rust_bpf_iter_task_mmap_read_lock_killable(struct mm_struct *mm);
bool rust_bpf_iter_task_mmap_lock_is_contended(struct mm_struct *mm);

#endif /* RUST_BPF_ITER_TASK_H */
