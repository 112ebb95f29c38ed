// SPDX-License-Identifier: GPL-2.0

#include <linux/pid_namespace.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/task.h>

struct pid_namespace *rust_helper_get_pid_ns(struct pid_namespace *ns)
{
	return get_pid_ns(ns);
}

/* An extern function with CONFIG_PID_NS (which Rust calls directly), inline without. */
void rust_helper_put_pid_ns(struct pid_namespace *ns)
{
	put_pid_ns(ns);
}

/* The pid namespace of @task with a reference on it, or NULL if it has none. */
struct pid_namespace *rust_helper_task_get_pid_ns(struct task_struct *task)
{
	struct pid_namespace *ns;

	rcu_read_lock();
	ns = task_active_pid_ns(task);
	if (ns)
		get_pid_ns(ns);
	rcu_read_unlock();
	return ns;
}

/* A reference on @t, or NULL if its count is zero (a task being freed). */
struct task_struct *rust_helper_tryget_task_struct(struct task_struct *t)
{
	return tryget_task_struct(t);
}
