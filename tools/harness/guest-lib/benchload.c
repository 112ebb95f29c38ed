// SPDX-License-Identifier: GPL-2.0
/*
 * make bench's workload and its /proc reference, run in the guest.
 *
 *   benchload spawn N FDS
 *	Forks N processes that each open FDS more files (/dev/null) and wait.
 *	Prints "ready" and then their pids, one per line, once every one holds
 *	its files; they exit when benchload's standard input reaches its end
 *	(the caller closes it), and benchload reaps them and exits.
 *	Static and small, so that 10,000 of them fit in the guest.
 *
 *   benchload proc fd|maps|status
 *	Walks /proc as a tool would for the data the task_file, task_vma and
 *	task iterators give: every /proc/PID/fd/N link (readlink), every
 *	/proc/PID/maps, every /proc/PID/task/TID/status. Prints one line per
 *	object as the selftests' BPF programs do ("tgid fd", "tgid start-end",
 *	"tgid pid"), and on standard error the nanoseconds (CLOCK_MONOTONIC)
 *	the walk took, printing included.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int spawn(int n, int fds)
{
	int ready[2], hold[2];
	pid_t *kids = calloc(n, sizeof(*kids));
	char c;

	if (!kids || pipe(ready) || pipe(hold))
		die("spawn");
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0) {
			int null = open("/dev/null", O_RDONLY);

			/* Standard input and output are the caller's pipes. */
			if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0)
				_exit(1);
			close(ready[0]);
			close(hold[1]);
			for (int f = 1; f < fds; f++)
				if (open("/dev/null", O_RDONLY) < 0)
					_exit(1);
			if (write(ready[1], "r", 1) != 1)
				_exit(1);
			close(ready[1]);
			/* Until benchload closes its end. */
			while (read(hold[0], &c, 1) > 0)
				;
			_exit(0);
		}
		kids[i] = pid;
	}
	close(ready[1]);
	close(hold[0]);
	for (int i = 0; i < n; i++)
		if (read(ready[0], &c, 1) != 1)
			die("a child did not start");
	printf("ready\n");
	for (int i = 0; i < n; i++)
		printf("%d\n", kids[i]);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	close(hold[1]);
	for (int i = 0; i < n; i++)
		waitpid(kids[i], NULL, 0);
	return 0;
}

static int numeric(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* Calls fn(pid, name) for each numeric entry of directory path. */
static void each_numeric(const char *path, const char *pid,
			 void (*fn)(const char *pid, const char *name))
{
	struct dirent *e;
	DIR *d = opendir(path);

	if (!d)
		return;
	while ((e = readdir(d)))
		if (numeric(e->d_name))
			fn(pid, e->d_name);
	closedir(d);
}

static void show_fd(const char *pid, const char *fd)
{
	char path[600], link[4096];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%s/fd/%s", pid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return;
	link[n] = 0;
	printf("%s %s %s\n", pid, fd, link);
}

static void walk_fd(const char *pid)
{
	char path[600];

	snprintf(path, sizeof(path), "/proc/%s/fd", pid);
	each_numeric(path, pid, show_fd);
}

static void walk_maps(const char *pid)
{
	char path[600], line[4096];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/maps", pid);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end;

		if (sscanf(line, "%lx-%lx", &start, &end) == 2)
			printf("%s %lx-%lx\n", pid, start, end);
	}
	fclose(f);
}

static void show_status(const char *pid, const char *tid)
{
	char path[600], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/task/%s/status", pid, tid);
	f = fopen(path, "r");
	if (!f)
		return;
	/* What ps reads of it; the line is the one the task program prints. */
	while (fgets(line, sizeof(line), f))
		;
	fclose(f);
	printf("%s %s\n", pid, tid);
}

static void walk_status(const char *pid)
{
	char path[600];

	snprintf(path, sizeof(path), "/proc/%s/task", pid);
	each_numeric(path, pid, show_status);
}

static void (*walk)(const char *pid);

static void walk_pid(const char *unused, const char *pid)
{
	walk(pid);
}

static int proc_walk(const char *what)
{
	struct timespec t0, t1;

	if (!strcmp(what, "fd"))
		walk = walk_fd;
	else if (!strcmp(what, "maps"))
		walk = walk_maps;
	else if (!strcmp(what, "status"))
		walk = walk_status;
	else
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	each_numeric("/proc", NULL, walk_pid);
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "%lld\n",
		(long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "spawn"))
		return spawn(atoi(argv[2]), atoi(argv[3]));
	if (argc == 3 && !strcmp(argv[1], "proc"))
		return proc_walk(argv[2]);
	fprintf(stderr, "usage: benchload spawn N FDS | benchload proc fd|maps|status\n");
	return 2;
}
