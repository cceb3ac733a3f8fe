/* sockleak's collector: the BPF side loaded and attached, the /proc
 * baseline reconciled, and at each refresh every process's socket (or fd)
 * figures read into plain structs (struct sl_proc in sockleak_fdtab.h)
 * with the host's TCP view. It prints nothing on stdout; set-up failures
 * are one line on stderr (die_msg), as the tools print them. The printers
 * are sockleak_report.h's. Needs CAP_BPF and CAP_PERFMON (checked by
 * open). A front end:
 *
 *	struct sl_collector *c = sl_collector_open(&(struct sl_collector_opts){
 *		.older_than_s = 5, .frames = 24 });
 *	every ~200 ms: sl_collector_poll(c, 200);
 *	when it wants figures: s = sl_collector_refresh(c); read s->t->procs[0..s->t->nprocs);
 *	sl_collector_close(c);
 */
#ifndef MEMSCOPE_SOCKLEAK_COLLECT_H
#define MEMSCOPE_SOCKLEAK_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proc_net.h"
#include "sockleak_fdtab.h"
#include "sockleak_sites.h"

struct sl_collector;
struct ring_buffer;

/* Plain data: what sockleak's command line fills, or any other front end. */
struct sl_collector_opts {
	pid_t pid;                /* only this process; 0: all */
	const char *cgroup;       /* only this cgroup subtree (path, unit or container id); NULL: all */
	bool all_fds;             /* every fd kind, not only sockets */
	bool kernel_sockets;      /* also follow sockets in the kernel (turned off where the host lacks it) */
	bool no_stacks;           /* no creating call stacks (cheaper) */
	bool no_interp;           /* no PHP/Python frames in them (interpreters.h) */
	enum stack_mode stack_mode;
	int frames;               /* frames kept per creating stack */
	uint64_t max_fds;         /* live fds tracked system-wide; 0: the BPF map's default */
	double older_than_s;      /* open longer: a leak suspect */
};

/* What the printers read, valid until the next refresh or close. */
struct sl_snapshot {
	struct fdtab *t;          /* per-process figures: t->procs[0..t->nprocs), sorted by tgid */
	struct tcp_table tcp;     /* /proc/net/tcp and tcp6 by inode */
	struct sockstat ss;       /* /proc/net/sockstat */
	struct sl_cw { uint64_t key, ts; } *by_sk, *by_ino; /* CLOSE_WAIT entry times, by socket / inode */
	size_t ncw;
	double elapsed;           /* seconds since tracing started */
	uint64_t frames_unverified; /* stack frames named module+offset only (sl_sites) */
};

/* Check the target and the privileges, load and attach, take the /proc
 * baseline: sockets count from here. NULL on failure (said on stderr). */
struct sl_collector *sl_collector_open(const struct sl_collector_opts *o);
/* The options in force (kernel_sockets off when the host lacks it). */
const struct sl_collector_opts *sl_collector_options(const struct sl_collector *c);
/* The resolved -c cgroup, NULL without one. */
const struct cgroup_target *sl_collector_cgroup(const struct sl_collector *c);
/* The ring buffer of call-site stacks, for a loop that polls it itself. */
struct ring_buffer *sl_collector_ringbuf(struct sl_collector *c);
/* Read call-site stacks, waiting up to timeout_ms (0: what is there now):
 * they are symbolized as they come, while their process lives, so poll
 * often. 0 or -errno. */
int sl_collector_poll(struct sl_collector *c, int timeout_ms);
/* Read the BPF maps, retire exited processes, reconcile with /proc, read
 * the host's TCP tables: the figures now. */
const struct sl_snapshot *sl_collector_refresh(struct sl_collector *c);
/* When a socket entered CLOSE_WAIT by the last refresh (0: before tracing). */
uint64_t sl_cw_since(const struct sl_snapshot *s, const struct fd_info *v);
/* The creating call sites, symbolized, and the BPF side's loss counters. */
struct sl_sites *sl_collector_sites(struct sl_collector *c);
const uint64_t *sl_collector_drops(const struct sl_collector *c);
/* Detach and free everything. NULL is fine. */
void sl_collector_close(struct sl_collector *c);

#endif
