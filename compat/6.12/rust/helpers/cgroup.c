// SPDX-License-Identifier: GPL-2.0

#include <linux/cgroup.h>

#ifdef CONFIG_CGROUPS
void rust_helper_cgroup_put(struct cgroup *cgrp)
{
	cgroup_put(cgrp);
}

u64 rust_helper_cgroup_id(const struct cgroup *cgrp)
{
	return cgroup_id(cgrp);
}
#endif
