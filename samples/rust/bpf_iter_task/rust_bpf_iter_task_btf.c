// SPDX-License-Identifier: GPL-2.0
/*
 * BTF for rust_bpf_iter_task (rust_bpf_iter_task_main.rs).
 *
 * pahole emits no BTF for Rust code, so the bpf_iter_<target> anchors that
 * programs attach to, and the context structs programs may name, are
 * declared here. Their layouts are those of the C targets task, task_file
 * and task_vma (kernel/bpf/task_iter.c): a program written for one of them
 * runs against its twin by changing only SEC("iter/...").
 */
#include <linux/bpf.h>
#include <linux/compiler.h>
#include <linux/fs.h>
#include <linux/mm_types.h>
#include <linux/sched.h>
#include <linux/types.h>

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
