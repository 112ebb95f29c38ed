// SPDX-License-Identifier: GPL-2.0
/*
 * iter/task_vma: one line per memory mapping of each task, like
 * /proc/PID/maps: "tgid pid start-end perms pgoff". Built twice (build.sh):
 * for task_vma and, with -DTWIN, for its Rust twin rust_task_vma; only
 * SEC() differs.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

#ifdef TWIN
#define TARGET "rust_task_vma"
#else
#define TARGET "task_vma"
#endif

/* include/linux/mm.h; vmlinux.h has no macros. */
#define VM_READ		0x00000001
#define VM_WRITE	0x00000002
#define VM_EXEC		0x00000004
#define VM_SHARED	0x00000008

/* struct bpf_iter__task_vma, without preserve_access_index (see task.bpf.c). */
struct task_vma_ctx {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
	struct vm_area_struct *vma;
};

SEC("iter/" TARGET)
int dump_task_vma(struct task_vma_ctx *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct vm_area_struct *vma = ctx->vma;
	unsigned long flags;

	if (!task || !vma)
		return 0;
	if (ctx->meta->seq_num == 0)
		BPF_SEQ_PRINTF(seq, "    tgid      pid start-end perms pgoff\n");
	flags = vma->vm_flags;
	BPF_SEQ_PRINTF(seq, "%8d %8d %lx-%lx %c%c%c%c %08lx\n", task->tgid,
		       task->pid, vma->vm_start, vma->vm_end,
		       flags & VM_READ ? 'r' : '-', flags & VM_WRITE ? 'w' : '-',
		       flags & VM_EXEC ? 'x' : '-', flags & VM_SHARED ? 's' : 'p',
		       vma->vm_pgoff);
	return 0;
}
