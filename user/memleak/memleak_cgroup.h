/* memleak-trace -c: the cgroup's own lines, around its processes'
 * reports: a snapshot of the cgroup's figures and its two views. */
#ifndef MEMSCOPE_MEMLEAK_CGROUP_H
#define MEMSCOPE_MEMLEAK_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct leak_cgroup {
	const char *path;       /* raw, as resolved */
	bool v1;                /* a v1 memory cgroup */
	bool removed;           /* the cgroup directory went away */
	uint64_t bytes;         /* held by its processes */
	size_t holding, seen, exited, oom_kills;
	size_t exited_kept, exited_not_kept, max_kept;
	/* the process growing fastest (pid 0: none grows) and where */
	pid_t pid;
	const char *comm;       /* raw */
	char *who;              /* its culprit, terminal-escaped; the snapshot owns it */
	double rate;            /* bytes/s */
};

/* The first lines: the process growing fastest, or that nothing grows;
 * then what the cgroup's processes hold. */
void leak_print_cgroup(FILE *out, const struct leak_cgroup *c);
/* After the processes' lines, one for the cgroup, so that a reader gets a
 * final line even when no process holds memory (or the cgroup is gone
 * with all of them). */
void leak_print_cgroup_json(FILE *out, const struct leak_cgroup *c, bool final);

#endif
