/* The host report's processes: the largest by RSS (split into anon, file
 * and shmem, with PSS) and by swap, and the host's swap traffic; the
 * memory fault guide's first steps (`ps aux --sort=-%mem`, `vmstat` si/so)
 * in one place. */
#ifndef MEMSCOPE_MEMDIAG_PROCS_H
#define MEMSCOPE_MEMDIAG_PROCS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define HOST_TOP_PROCS 10

struct host_proc {
	pid_t pid;
	char comm[64];            /* raw: escape before printing */
	uint64_t rss, anon, file, shmem, swap; /* /proc/PID/status, bytes */
	bool have_pss;
	uint64_t pss;             /* smaps_rollup (read for the listed ones only) */
	char *cgroup;             /* memory cgroup path, raw (listed ones only); NULL if gone */
};

struct host_procs {
	int nprocs;                               /* processes looked at */
	struct host_proc by_rss[HOST_TOP_PROCS];  /* largest first */
	int nrss;
	struct host_proc by_swap[HOST_TOP_PROCS]; /* those with swap, most first */
	int nswap;
};

/* Rank every process; 0 or -errno when /proc cannot be listed. Free
 * with host_procs_free (a zeroed struct is fine). */
int host_procs_scan(struct host_procs *hp);
void host_procs_free(struct host_procs *hp);

/* Swap-ins and -outs (/proc/vmstat pswpin, pswpout: pages). */
struct swap_io {
	bool have;
	uint64_t pswpin, pswpout;
	double t;                 /* monotonic seconds of the reading */
	bool since_boot;          /* rates are averages since boot (no earlier reading) */
	double window_s;
	double in_per_s, out_per_s; /* pages per second */
};
/* Read now; rates against prev when it has a reading, else since boot. */
void swap_io_read(struct swap_io *now, const struct swap_io *prev);

#endif
