/* Perf map files of JIT runtimes (see perfmap.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "array.h"
#include "output.h"
#include "perfmap.h"
#include "procfs.h"
#include "safeopen.h"

/* Past this the rest is not read (a runtime's map is a few MiB; a file of
 * gigabytes is a mistake or an attack, and would be kept whole). */
#define PERFMAP_MAX_BYTES (64 << 20)

struct pm_entry {
	uint64_t start, size;
	uint32_t seq;           /* line number: a later line wins */
	char *name;
};

struct perfmap {
	pid_t pid;
	char *path;             /* as the process sees it */
	off_t read_to;          /* bytes parsed so far */
	int fd;                 /* the map, once opened and trusted; -1 before */
	bool refused;           /* said once: not trusted, or past the cap */
	/* Each write replaces the file whole (the JVM's dumps): a change of
	 * size or time means a new map, read from its start. */
	bool snapshots;
	struct timespec mtime;  /* of the map read, with snapshots */
	struct pm_entry *v;
	size_t n, cap;
	bool sorted;
};

/* The pid in the process's own namespace: the last NSpid field. */
static pid_t ns_pid(pid_t pid)
{
	char *buf = NULL, *l;
	pid_t ns = pid;

	if (proc_read(pid, "status", &buf) < 0)
		return pid;
	l = strstr(buf, "\nNSpid:");
	if (l) {
		char *end = strchr(l + 1, '\n'), *p = l + 7;

		if (end)
			*end = 0;
		while (*p) {
			char *next;
			long v = strtol(p, &next, 10);

			if (next == p)
				break;
			ns = (pid_t)v;
			p = next;
		}
	}
	free(buf);
	return ns;
}

struct perfmap *perfmap__new(pid_t pid)
{
	struct perfmap *pm = calloc(1, sizeof(*pm));

	if (!pm || asprintf(&pm->path, "/tmp/perf-%d.map", ns_pid(pid)) < 0)
		abort();
	pm->pid = pid;
	pm->fd = -1;
	return pm;
}

static void add(struct perfmap *pm, uint64_t start, uint64_t size, const char *name)
{
	ARRAY_GROW(pm->v, pm->n, pm->cap, 1024);
	pm->v[pm->n] = (struct pm_entry){ start, size, (uint32_t)pm->n, strdup(name) };
	if (!pm->v[pm->n].name)
		abort();
	pm->n++;
	pm->sorted = false;
}

/* Once per map: why its names are not (all) used. */
static void refuse(struct perfmap *pm, const char *why)
{
	if (pm->refused)
		return;
	pm->refused = true;
	warn_msg("perf map %s of pid %d %s", pm->path, pm->pid, why);
}

/* The map, opened inside the process's root (never through a link) and
 * trusted as perf trusts one (see owned_by_process): its fd, kept, so that
 * later lookups only fstat it for growth; -1 while it is not there or
 * not trusted. */
static int open_map(struct perfmap *pm)
{
	char msg[96];
	const char *why;
	struct stat st;
	int fd = open_in_proc_root(pm->pid, pm->path, O_RDONLY);

	if (fd < 0) {
		if (errno == ELOOP)
			refuse(pm, "ignored: it is a symbolic link");
		return -1;
	}
	if (fstat(fd, &st)) {
		close(fd);
		return -1;
	}
	if (!owned_by_process(pm->pid, &st, &why)) {
		snprintf(msg, sizeof(msg), "ignored: %s", why);
		refuse(pm, msg);
		close(fd);
		return -1;
	}
	return fd;
}

static void drop_entries(struct perfmap *pm)
{
	for (size_t i = 0; i < pm->n; i++)
		free(pm->v[i].name);
	pm->n = 0;
	pm->read_to = 0;
}

/* With snapshots, a map rewritten since it was read: its old names go
 * (code moved or freed since would keep a wrong one). */
static void forget_replaced(struct perfmap *pm, const struct stat *st)
{
	if (!pm->snapshots)
		return;
	if (st->st_size < pm->read_to || st->st_mtim.tv_sec != pm->mtime.tv_sec ||
	    st->st_mtim.tv_nsec != pm->mtime.tv_nsec)
		drop_entries(pm);
	pm->mtime = st->st_mtim;
}

/* The lines added since the last read (whole lines only: the runtime may
 * be writing one), up to PERFMAP_MAX_BYTES. */
static void read_new(struct perfmap *pm)
{
	struct stat st;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f;

	if (pm->fd < 0 && (pm->fd = open_map(pm)) < 0)
		return;
	if (fstat(pm->fd, &st))
		return;
	forget_replaced(pm, &st);
	if (pm->read_to >= PERFMAP_MAX_BYTES || st.st_size <= pm->read_to)
		return;
	f = fdopen(dup(pm->fd), "r");
	if (!f)
		return;
	if (fseeko(f, pm->read_to, SEEK_SET) == 0) {
		while ((len = getline(&line, &cap, f)) > 0 && line[len - 1] == '\n') {
			if (pm->read_to + len > PERFMAP_MAX_BYTES) {
				refuse(pm, "read up to 64 MiB only: later JIT code keeps its JIT+offset names");
				pm->read_to = PERFMAP_MAX_BYTES;
				break;
			}
			uint64_t start, size;
			int pos = 0;

			pm->read_to += len;
			line[len - 1] = 0;
			if (sscanf(line, "%" SCNx64 " %" SCNx64 " %n", &start, &size, &pos) == 2 && pos)
				add(pm, start, size, line + pos);
		}
	}
	free(line);
	fclose(f);
}

static int by_start(const void *a, const void *b)
{
	const struct pm_entry *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The newest entry holding addr, among the few starting just below it
 * (code moved by the GC leaves stale overlapping lines). */
static const struct pm_entry *find(struct perfmap *pm, uint64_t addr)
{
	const struct pm_entry *best = NULL;
	size_t lo = 0, hi = pm->n;

	if (!pm->sorted && pm->n) { /* v may be NULL, which qsort must not get */
		qsort(pm->v, pm->n, sizeof(*pm->v), by_start);
		pm->sorted = true;
	}
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (pm->v[mid].start <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo, k = 0; i > 0 && k < 16; i--, k++) {
		const struct pm_entry *e = &pm->v[i - 1];

		if (addr < e->start + e->size && (!best || e->seq > best->seq))
			best = e;
	}
	return best;
}

const char *perfmap__lookup(struct perfmap *pm, uint64_t addr, uint64_t *start)
{
	const struct pm_entry *e;

	read_new(pm);
	e = find(pm, addr);
	if (!e)
		return NULL;
	*start = e->start;
	return e->name;
}

void perfmap__set_snapshots(struct perfmap *pm)
{
	pm->snapshots = true;
}

bool perfmap__found(struct perfmap *pm)
{
	read_new(pm);
	return pm->fd >= 0;
}

time_t perfmap__mtime(const struct perfmap *pm)
{
	return pm->mtime.tv_sec;
}

void perfmap__free(struct perfmap *pm)
{
	if (!pm)
		return;
	drop_entries(pm);
	free(pm->v);
	free(pm->path);
	if (pm->fd >= 0)
		close(pm->fd);
	free(pm);
}
