// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs glue of the rust_records BPF iterator target (the target and the
 * C of its BTF come from rust_bpf_iter_records_main.rs).
 *
 * 6.12 has no Rust debugfs abstraction, so the write-only files
 * add, del, clear and registered under
 * /sys/kernel/debug/rust_bpf_iter_records/ are made here; each write is
 * copied in and handed to the Rust part, which parses and runs it.
 * debugfs_remove() waits for writes in progress, so after
 * rust_bpf_iter_records_debugfs_exit() no call into Rust is running or can
 * start.
 */
#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/types.h>
#include <linux/uaccess.h>
#include "rust_bpf_iter_records.h"

static struct dentry *rust_records_dir;

static ssize_t rust_records_write(struct file *file, const char __user *ubuf,
				  size_t len, loff_t *ppos)
{
	unsigned int op = (unsigned long)file->private_data;
	char buf[RUST_RECORDS_CMD_MAX];
	int ret;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	ret = rust_bpf_iter_records_cmd(op, buf, len);
	if (ret)
		return ret;
	return len;
}

static const struct file_operations rust_records_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = rust_records_write,
	.llseek = noop_llseek,
};

static void rust_records_file(struct dentry *dir, const char *name,
			      unsigned long op)
{
	debugfs_create_file(name, 0200, dir, (void *)op, &rust_records_fops);
}

int rust_bpf_iter_records_debugfs_init(void)
{
	struct dentry *dir;

	dir = debugfs_create_dir("rust_bpf_iter_records", NULL);
	if (IS_ERR(dir))
		return PTR_ERR(dir);
	rust_records_file(dir, "add", RUST_RECORDS_ADD);
	rust_records_file(dir, "del", RUST_RECORDS_DEL);
	rust_records_file(dir, "clear", RUST_RECORDS_CLEAR);
	rust_records_file(dir, "registered", RUST_RECORDS_REGISTERED);
	rust_records_dir = dir;
	return 0;
}

void rust_bpf_iter_records_debugfs_exit(void)
{
	debugfs_remove(rust_records_dir);
	rust_records_dir = NULL;
}
