// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Every reader treats ENOENT and ESRCH from /proc/<pid> as "the process
 * is gone" and returns -ESRCH: a process can exit between any two reads. */

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>
#include "array.h"
#include "output.h"
#include "procfs.h"
#include "safeopen.h"

static int gone(int err, pid_t pid)
{
	return pid > 0 && (err == ENOENT || err == ESRCH) ? -ESRCH : -err;
}

static ssize_t read_fd_all(int fd, char **buf, size_t max)
{
	size_t cap = 0, len = 0;
	char *b = NULL;
	ssize_t n;

	for (;;) {
		ARRAY_GROW(b, len + 1, cap, 4096);
		n = read(fd, b + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int err = errno;
			free(b);
			return -err;
		}
		if (n == 0)
			break;
		len += n;
		if (len > max) {
			free(b);
			return -EFBIG;
		}
	}
	b[len] = '\0';
	*buf = b;
	return len;
}

static void say_refused(const char *path, int err, size_t max)
{
	char *e = term_escape(path), size[HUMAN_LEN];

	if (err == ELOOP)
		warn_msg("refusing to read %s: it is a symbolic link", e);
	else if (err == EINVAL)
		warn_msg("refusing to read %s: not a regular file", e);
	else
		warn_msg("refusing to read %s: larger than %s", e, fmt_bytes(size, max));
	free(e);
}

ssize_t read_file_max(const char *path, char **buf, size_t max)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
	struct stat st;
	ssize_t n;

	*buf = NULL;
	if (fd < 0) {
		n = -errno;
		if (n == -ELOOP)
			say_refused(path, ELOOP, max);
		return n;
	}
	/* /dev/zero would never end; /proc and cgroup files are regular
	 * files of size 0 (generated), so the size is checked while reading. */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		n = -EINVAL;
	else if ((uint64_t)st.st_size > max)
		n = -EFBIG;
	else
		n = read_fd_all(fd, buf, max);
	close(fd);
	if (n == -EINVAL || n == -EFBIG)
		say_refused(path, -n, max);
	return n;
}

ssize_t read_file(const char *path, char **buf)
{
	return read_file_max(path, buf, READ_FILE_MAX);
}

ssize_t proc_read(pid_t pid, const char *name, char **buf)
{
	char path[PATH_MAX];
	ssize_t n;

	if (pid > 0)
		snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	else
		snprintf(path, sizeof(path), "/proc/%s", name);
	n = read_file_max(path, buf, PROC_READ_MAX);
	return n < 0 ? gone(-n, pid) : n;
}

bool kv_u64(const char *buf, const char *key, uint64_t *val)
{
	size_t klen = strlen(key);
	const char *p = buf;

	while (p && *p) {
		if (!strncmp(p, key, klen) && (p[klen] == ':' || p[klen] == ' ' || p[klen] == '\t')) {
			const char *v = p + klen + (p[klen] == ':');
			while (*v == ' ' || *v == '\t')
				v++;
			if (!isdigit((unsigned char)*v))
				return false;
			*val = strtoull(v, NULL, 10);
			return true;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
}

bool proc_exists(pid_t pid)
{
	char path[32];

	snprintf(path, sizeof(path), "/proc/%d", pid);
	return pid > 0 && access(path, F_OK) == 0;
}

/* /proc/<pid>/stat after the comm, from the state on ("S 1 ..."), in buf;
 * NULL when gone. One read into the caller's buffer, no allocation: cheap
 * enough to ask at every poll. */
static const char *stat_after_comm(pid_t pid, char *buf, size_t size)
{
	char path[64], *end;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = 0;
	/* "pid (comm) S ...": the comm may hold anything, the state follows
	 * the last parenthesis. */
	end = strrchr(buf, ')');
	return end && end[1] == ' ' ? end + 2 : NULL;
}

bool proc_alive(pid_t pid)
{
	char buf[512];
	const char *s = stat_after_comm(pid, buf, sizeof(buf));

	return s && *s != 'Z' && *s != 'X';
}

/* PF_KTHREAD in the flags, stat's ninth field. */
#define PF_KTHREAD_FLAG 0x00200000u

bool proc_is_kthread(pid_t pid)
{
	char buf[512];
	const char *s = stat_after_comm(pid, buf, sizeof(buf));
	unsigned long long ppid, pgrp, session, tty, tpgid, flags;
	char state;

	return s && sscanf(s, "%c %llu %llu %llu %llu %llu %llu", &state, &ppid, &pgrp, &session, &tty, &tpgid,
			   &flags) == 7 && (flags & PF_KTHREAD_FLAG);
}

int proc_target_check(pid_t pid)
{
	if (!proc_exists(pid)) {
		die_msg("no process with pid %d", (int)pid);
		return -1;
	}
	if (proc_is_kthread(pid)) {
		die_msg("pid %d is a kernel thread: it has no user memory or file descriptors to follow", (int)pid);
		return -1;
	}
	return 0;
}

static uint64_t kb(const char *buf, const char *key)
{
	uint64_t v = 0;

	kv_u64(buf, key, &v);
	return v * 1024;
}

int proc_status(pid_t pid, struct proc_status *st)
{
	char *buf = NULL, *name;
	ssize_t n = proc_read(pid, "status", &buf);
	uint64_t v;

	memset(st, 0, sizeof(*st));
	if (n < 0)
		return (int)n;
	name = strstr(buf, "Name:\t");
	if (name) {
		name += 6;
		size_t len = strcspn(name, "\n");
		if (len >= sizeof(st->name))
			len = sizeof(st->name) - 1;
		memcpy(st->name, name, len);
	}
	if (kv_u64(buf, "Tgid", &v)) st->tgid = v;
	if (kv_u64(buf, "PPid", &v)) st->ppid = v;
	if (kv_u64(buf, "Uid", &v)) st->uid = v;
	kv_u64(buf, "Threads", &st->threads);
	st->vm_size = kb(buf, "VmSize");
	st->vm_rss = kb(buf, "VmRSS");
	st->rss_anon = kb(buf, "RssAnon");
	st->rss_file = kb(buf, "RssFile");
	st->rss_shmem = kb(buf, "RssShmem");
	st->vm_swap = kb(buf, "VmSwap");
	st->vm_pte = kb(buf, "VmPTE");
	free(buf);
	return 0;
}

char *argv_join(const char *argv, size_t n)
{
	char *s = malloc(n + 1);

	if (!s)
		abort();
	memcpy(s, argv, n);
	while (n > 0 && s[n - 1] == '\0')
		n--;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\0')
			s[i] = ' ';
	s[n] = '\0';
	return s;
}

char *proc_cmdline(pid_t pid)
{
	char *buf = NULL, *s;
	ssize_t n = proc_read(pid, "cmdline", &buf);

	if (n <= 0) {
		free(buf);
		return NULL;
	}
	s = argv_join(buf, n);
	free(buf);
	return s;
}

char *proc_comm(pid_t pid)
{
	char *buf = NULL;
	ssize_t n = proc_read(pid, "comm", &buf);

	if (n < 0)
		return NULL;
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return buf;
}

static char *readlink_alloc(const char *path)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

char *proc_exe(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	return readlink_alloc(path);
}

int proc_fds(pid_t pid, proc_fd_cb cb, void *ctx)
{
	char dir[64], path[384], target[PATH_MAX];
	struct dirent *de;
	int count = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	d = opendir(dir);
	if (!d)
		return gone(errno, pid);
	while ((de = readdir(d))) {
		ssize_t n;
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			continue; /* closed since readdir */
		target[n] = '\0';
		count++;
		if (cb && cb(atoi(de->d_name), target, ctx))
			break;
	}
	closedir(d);
	return count;
}

int proc_fd_count(pid_t pid)
{
	char dir[64];
	struct dirent *de;
	int count = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	d = opendir(dir);
	if (!d)
		return gone(errno, pid);
	while ((de = readdir(d)))
		count += isdigit((unsigned char)de->d_name[0]) != 0;
	closedir(d);
	return count;
}

uint64_t limits_nofile_parse(const char *buf)
{
	const char *line = strstr(buf, "Max open files");
	unsigned long long soft = 0;

	if (line && sscanf(line + strlen("Max open files"), " %llu", &soft) != 1)
		soft = 0;
	return soft;
}

uint64_t proc_nofile_limit(pid_t pid)
{
	char *buf = NULL;
	uint64_t soft;

	if (proc_read(pid, "limits", &buf) < 0)
		return 0;
	soft = limits_nofile_parse(buf);
	free(buf);
	return soft;
}

/* "start-end perms offset dev inode   path" */
static bool parse_maps_line(char *line, struct map_entry *m)
{
	unsigned long long start, end, off, ino;
	int pos = 0;

	if (sscanf(line, "%llx-%llx %4s %llx %x:%x %llu %n", &start, &end, m->perms, &off,
		   &m->dev_major, &m->dev_minor, &ino, &pos) < 7)
		return false;
	m->start = start;
	m->end = end;
	m->offset = off;
	m->inode = ino;
	m->path = pos ? line + pos : "";
	return true;
}

int maps_parse(char *buf, proc_map_cb cb, void *ctx)
{
	char *line, *save = NULL;
	struct map_entry m = {}, pending = {};
	bool have = false;
	int count = 0, stop = 0;

	for (line = strtok_r(buf, "\n", &save); line && !stop; line = strtok_r(NULL, "\n", &save)) {
		if (isxdigit((unsigned char)line[0]) && strchr(line, '-') < strchr(line, ' ') &&
		    parse_maps_line(line, &m)) {
			if (have)
				stop = cb(&pending, ctx), count++;
			pending = m;
			have = true;
			continue;
		}
		if (!have)
			continue;
		/* smaps detail lines, in kB */
		uint64_t v;
		if (kv_u64(line, "Rss", &v)) pending.rss = v * 1024;
		else if (kv_u64(line, "Pss", &v)) pending.pss = v * 1024;
		else if (kv_u64(line, "Anonymous", &v)) pending.anon = v * 1024;
		else if (kv_u64(line, "Swap", &v)) pending.swap = v * 1024;
		else if (kv_u64(line, "Shared_Dirty", &v)) pending.shared_dirty = v * 1024;
		else if (kv_u64(line, "Private_Dirty", &v)) pending.private_dirty = v * 1024;
	}
	if (have && !stop)
		cb(&pending, ctx), count++;
	return count;
}

static int walk_maps(pid_t pid, const char *file, proc_map_cb cb, void *ctx)
{
	char *buf = NULL;
	ssize_t n = proc_read(pid, file, &buf);
	int count;

	if (n < 0)
		return (int)n;
	count = maps_parse(buf, cb, ctx);
	free(buf);
	return count;
}

void proc_map_files_path(pid_t pid, uint64_t start, uint64_t end, char buf[PROC_MAP_FILES_LEN])
{
	snprintf(buf, PROC_MAP_FILES_LEN, "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, pid, start, end);
}

bool on_overlayfs(int fd)
{
	struct statfs sf;

	return fstatfs(fd, &sf) == 0 && (unsigned long)sf.f_type == OVERLAYFS_SUPER_MAGIC;
}

bool same_mapped_file(int fd, uint64_t ino, unsigned int dev_major, unsigned int dev_minor)
{
	struct stat st;

	if (fstat(fd, &st) || st.st_ino != ino)
		return false;
	if (major(st.st_dev) == dev_major && minor(st.st_dev) == dev_minor)
		return true;
	return on_overlayfs(fd);
}

static int mapped_or_closed(const struct map_entry *m, int fd)
{
	if (fd >= 0 && !same_mapped_file(fd, m->inode, m->dev_major, m->dev_minor)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

int proc_map_open(pid_t pid, const struct map_entry *m)
{
	const int flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK;
	char mf[PROC_MAP_FILES_LEN];
	int fd;

	proc_map_files_path(pid, m->start, m->end, mf);
	fd = mapped_or_closed(m, open(mf, flags));
	if (fd < 0 && m->path[0] == '/')
		fd = mapped_or_closed(m, open_in_proc_root(pid, m->path, flags));
	return fd;
}

bool proc_map_file(pid_t pid, const struct map_entry *m, char *buf, size_t size)
{
	char mf[PROC_MAP_FILES_LEN];
	int n, fd;

	/* Opened, not access(): for root, access() checks with every
	 * capability, though an open without CAP_SYS_ADMIN fails. */
	proc_map_files_path(pid, m->start, m->end, mf);
	fd = open(mf, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0 && strlen(mf) < size) {
		close(fd);
		strcpy(buf, mf);
		return true;
	}
	if (fd >= 0)
		close(fd);
	fd = mapped_or_closed(m, open_in_proc_root(pid, m->path, O_RDONLY | O_NONBLOCK));
	if (fd < 0)
		return false;
	close(fd);
	n = snprintf(buf, size, "/proc/%d/root%s", pid, m->path);
	return n > 0 && (size_t)n < size;
}

int proc_maps(pid_t pid, proc_map_cb cb, void *ctx)
{
	return walk_maps(pid, "maps", cb, ctx);
}

int proc_smaps(pid_t pid, proc_map_cb cb, void *ctx)
{
	return walk_maps(pid, "smaps", cb, ctx);
}

static int list_numeric_dir(const char *dir, pid_t pid, pid_t **out)
{
	size_t n = 0, cap = 16;
	struct dirent *de;
	pid_t *v;
	DIR *d = opendir(dir);

	if (!d)
		return gone(errno, pid);
	v = malloc(cap * sizeof(*v));
	if (!v)
		abort();
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		ARRAY_GROW(v, n, cap, 16);
		v[n++] = atoi(de->d_name);
	}
	closedir(d);
	*out = v;
	return n;
}

int proc_tids(pid_t pid, pid_t **tids)
{
	char dir[64];

	snprintf(dir, sizeof(dir), "/proc/%d/task", pid);
	return list_numeric_dir(dir, pid, tids);
}

int proc_pids(pid_t **pids)
{
	return list_numeric_dir("/proc", 0, pids);
}

int proc_children(pid_t pid, pid_t **kids)
{
	pid_t *all = NULL, *out;
	int n = proc_pids(&all), k = 0;
	struct proc_status st;

	if (n < 0)
		return n;
	out = malloc((n + 1) * sizeof(*out));
	if (!out)
		abort();
	for (int i = 0; i < n; i++)
		if (proc_status(all[i], &st) == 0 && st.ppid == pid)
			out[k++] = all[i];
	free(all);
	*kids = out;
	return k;
}

uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

double wall_time(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}
