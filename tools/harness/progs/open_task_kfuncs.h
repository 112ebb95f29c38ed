/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kfuncs of C's open-coded task iterator (kernel/bpf/task_iter.c) and of
 * its Rust twin rust_task (samples/rust/bpf_iter_task), for programs built
 * against the task module's BTF (task.h: bpftool btf dump file
 * rust_bpf_iter_task.ko format c). pahole 1.24 (6.12) emits no bpf_kfunc
 * declaration tags, so they are declared here (BPF_NO_KFUNC_PROTOTYPES).
 */
#ifndef OPEN_TASK_KFUNCS_H
#define OPEN_TASK_KFUNCS_H

extern int bpf_iter_task_new(struct bpf_iter_task *it, struct task_struct *task__nullable,
			     unsigned int flags) __ksym;
extern struct task_struct *bpf_iter_task_next(struct bpf_iter_task *it) __ksym;
extern void bpf_iter_task_destroy(struct bpf_iter_task *it) __ksym;
extern int bpf_iter_rust_task_new(struct bpf_iter_rust_task *it,
				  struct task_struct *task__nullable, __u32 flags) __ksym;
extern struct task_struct *bpf_iter_rust_task_next(struct bpf_iter_rust_task *it) __ksym;
extern void bpf_iter_rust_task_destroy(struct bpf_iter_rust_task *it) __ksym;

/* enum bpf_iter_task_type */
#define ALL_PROCS 0
#define ALL_THREADS 1
#define PROC_THREADS 2

#endif
