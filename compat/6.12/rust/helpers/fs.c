// SPDX-License-Identifier: GPL-2.0

#include <linux/fs.h>
#include <linux/fdtable.h>

struct file *rust_helper_get_file(struct file *f)
{
	return get_file(f);
}

/*
 * fget_task_next() of later kernels (6.13), which replaced this RCU-side
 * lookup with one that takes the RCU read lock itself.
 */
struct file *rust_helper_fget_task_next(struct task_struct *task, unsigned int *fd)
{
	struct file *file;

	rcu_read_lock();
	file = task_lookup_next_fdget_rcu(task, fd);
	rcu_read_unlock();
	return file;
}
