// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Link-safe opens under a process's root (see safeopen.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "safeopen.h"

static int root_of(pid_t pid)
{
	char root[40];

	snprintf(root, sizeof(root), "/proc/%d/root", pid);
	return open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/* Before openat2: one component at a time from the root, each opened
 * with O_NOFOLLOW, so that a link anywhere fails (ELOOP or ENOTDIR) and
 * ".." cannot climb out. Stricter than RESOLVE_IN_ROOT (links inside the
 * root are refused too), which is the safe side. */
static int walk_open(int dir, const char *path, int flags)
{
	char *copy = strdup(path), *save = NULL, *comp, *next;
	int fd = dup(dir), err = 0;

	if (!copy || fd < 0)
		abort();
	comp = strtok_r(copy, "/", &save);
	while (comp && fd >= 0) {
		int nfd;

		next = strtok_r(NULL, "/", &save);
		if (!strcmp(comp, "..")) {
			err = EPERM;
			close(fd);
			fd = -1;
			break;
		}
		if (next)
			nfd = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		else
			nfd = openat(fd, comp, flags | O_NOFOLLOW | O_CLOEXEC);
		err = errno;
		close(fd);
		fd = nfd;
		comp = next;
	}
	free(copy);
	if (fd < 0)
		errno = err == ENOTDIR ? ELOOP : err;
	return fd;
}

int open_in_proc_root(pid_t pid, const char *path, int flags)
{
	struct open_how how = {
		.flags = (unsigned)(flags | O_NOFOLLOW | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int root = root_of(pid), fd, err;

	if (root < 0)
		return -1;
	fd = (int)syscall(SYS_openat2, root, path, &how, sizeof(how));
	if (fd < 0 && (errno == ENOSYS || errno == EPERM)) /* EPERM: a seccomp filter */
		fd = walk_open(root, path, flags);
	err = errno;
	close(root);
	errno = err;
	return fd;
}

bool owned_by_process(pid_t pid, const struct stat *st, const char **why)
{
	char dir[32];
	struct stat proc;

	snprintf(dir, sizeof(dir), "/proc/%d", pid);
	if (stat(dir, &proc)) {
		*why = "the process is gone";
		return false;
	}
	if (!S_ISREG(st->st_mode)) {
		*why = "not a regular file";
		return false;
	}
	if (st->st_uid != 0 && st->st_uid != proc.st_uid) {
		*why = "owned by another user than the process's";
		return false;
	}
	if (st->st_mode & S_IWOTH) {
		*why = "writable by other users";
		return false;
	}
	return true;
}
