// SPDX-License-Identifier: GPL-2.0

#include <linux/rcupdate.h>

void rust_helper_rcu_read_lock(void)
{
	rcu_read_lock();
}

void rust_helper_rcu_read_unlock(void)
{
	rcu_read_unlock();
}

int rust_helper_rcu_read_lock_held(void)
{
	return rcu_read_lock_held();
}

int rust_helper_rcu_preempt_depth(void)
{
	return rcu_preempt_depth();
}

int rust_helper_preempt_count(void)
{
	return preempt_count();
}
