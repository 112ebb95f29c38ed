// SPDX-License-Identifier: GPL-2.0
/*
 * BTF and C glue for rust_bpf_iter_task (rust_bpf_iter_task_main.rs).
 *
 * pahole emits no BTF for Rust code, so the bpf_iter_<target> anchors that
 * programs attach to, and the context structs programs may name, are
 * declared here. Their layouts are those of the C targets task, task_file
 * and task_vma (kernel/bpf/task_iter.c): a program written for one of them
 * runs against its twin by changing only SEC("iter/...").
 *
 * The rust_bpf_iter_task_*() functions wrap static inline functions of
 * the kernel headers that Rust cannot call and the kernel crate does not
 * wrap yet.
 */
#include <linux/bpf.h>
#include <linux/compiler.h>
#include <linux/fs.h>
#include <linux/mm_types.h>
#include <linux/mmap_lock.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/types.h>
#include "rust_bpf_iter_task.h"

struct bpf_iter__rust_task {
	__bpf_md_ptr(struct bpf_iter_meta *, meta);
	__bpf_md_ptr(struct task_struct *, task);
};

DEFINE_BPF_ITER_FUNC(rust_task, struct bpf_iter_meta *meta,
		     struct task_struct *task)

struct bpf_iter__rust_task_file {
	__bpf_md_ptr(struct bpf_iter_meta *, meta);
	__bpf_md_ptr(struct task_struct *, task);
	u32 fd __aligned(8);
	__bpf_md_ptr(struct file *, file);
};

DEFINE_BPF_ITER_FUNC(rust_task_file, struct bpf_iter_meta *meta,
		     struct task_struct *task, u32 fd, struct file *file)

struct bpf_iter__rust_task_vma {
	__bpf_md_ptr(struct bpf_iter_meta *, meta);
	__bpf_md_ptr(struct task_struct *, task);
	__bpf_md_ptr(struct vm_area_struct *, vma);
};

DEFINE_BPF_ITER_FUNC(rust_task_vma, struct bpf_iter_meta *meta,
		     struct task_struct *task, struct vm_area_struct *vma)

/* Keep the context structs in BTF even though no C code reads them. */
static const struct bpf_iter__rust_task *rust_task_ctx __used;
static const struct bpf_iter__rust_task_file *rust_task_file_ctx __used;
static const struct bpf_iter__rust_task_vma *rust_task_vma_ctx __used;

/* put_pid_ns() is inline (a no-op) without CONFIG_PID_NS. */
void rust_bpf_iter_task_put_pid_ns(struct pid_namespace *ns)
{
	put_pid_ns(ns);
}

/* The thread after @t in its thread group, or NULL; under RCU. */
struct task_struct *rust_bpf_iter_task_next_thread(struct task_struct *t)
{
	return __next_thread(t);
}

int rust_bpf_iter_task_mmap_read_lock_killable(struct mm_struct *mm)
{
	return mmap_read_lock_killable(mm);
}

bool rust_bpf_iter_task_mmap_lock_is_contended(struct mm_struct *mm)
{
	return mmap_lock_is_contended(mm);
}
