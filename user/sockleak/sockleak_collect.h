/* sockleak's collector: the BPF side loaded and attached, the /proc
 * baseline reconciled, and at each refresh every process's socket (or fd)
 * figures read into a read-only snapshot (struct sl_proc_figures; the
 * detail sockleak's own printers show is in sockleak_fdtab.h, which other
 * front ends do not include) with the host's TCP view. It prints nothing on stdout; set-up failures
 * are one line on stderr (die_msg), as the tools print them. The printers
 * are sockleak_report.h's. Needs CAP_BPF and CAP_PERFMON (checked by
 * open). A front end:
 *
 *	struct sl_collector *c = sl_collector_open(&(struct sl_collector_opts){
 *		.needs = SL_NEED_REPORT, .older_than_s = 5, .frames = 24 });
 *	every ~200 ms: sl_collector_poll(c, 200);
 *	when it wants figures: s = sl_collector_refresh(c); read s->procs[0..s->nprocs);
 *	sl_collector_close(c);
 */
#ifndef MEMSCOPE_SOCKLEAK_COLLECT_H
#define MEMSCOPE_SOCKLEAK_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "callsites.h"
#include "proc_net.h"
#include "sockleak.h"

struct sl_collector;
struct ring_buffer;
struct fdtab;
struct sl_sites;
struct cgroup_target;

/* What a refresh does beyond the per-process counts, CLOSE_WAIT included
 * (which every snapshot has): a front end asks for what it reads
 * (sl_collector_opts.needs), and sl_snapshot.filled says what was done. */
enum sl_need {
	SL_NEED_STACKS    = 1u << 0, /* creating call stacks, symbolized (set at open) */
	SL_NEED_SOCKSTAT  = 1u << 1, /* /proc/net/sockstat */
	SL_NEED_CW_TIMES  = 1u << 2, /* when each socket entered CLOSE_WAIT (the BPF map, loaded and sorted) */
	SL_NEED_FD_LIMITS = 1u << 3, /* each live process's open fds and RLIMIT_NOFILE, from /proc */
	SL_NEED_LEAKS     = 1u << 4, /* each process's leak evidence and whether it leaks (sockleak_leaks.h) */
	SL_NEED_LEAK_SITES = 1u << 5, /* ... the evidence grouped by creating call site (symbolizes them) */
	/* sockleak's own report (its --no-stacks drops SL_NEED_STACKS). */
	SL_NEED_REPORT    = SL_NEED_STACKS | SL_NEED_SOCKSTAT | SL_NEED_CW_TIMES | SL_NEED_LEAKS,
};

/* One process's figures at a refresh: what a front end that is not
 * sockleak's report reads (the exporter). Strings are borrowed, valid
 * until the next refresh. */
struct sl_proc_figures {
	uint32_t tgid;
	const char *comm;
	const char *cg_v1, *cg_v2;  /* paths of its cgroups, NULL or "" unknown */
	bool exited;                /* found exited: its counts are final */
	uint64_t created, closed;   /* sockets (fds with all_fds) since the previous refresh */
	uint64_t alive, old;        /* open now; of them older than older_than_s */
	uint64_t close_wait;        /* open now in CLOSE_WAIT (held until its end, when exited) */
	int64_t fds;                /* SL_NEED_FD_LIMITS: fds of every kind open, -1: not read */
	uint64_t nofile;            /* SL_NEED_FD_LIMITS: soft RLIMIT_NOFILE, 0: unknown, UINT64_MAX: none */
};

/* Plain data: what sockleak's command line fills, or any other front end. */
struct sl_collector_opts {
	unsigned needs;           /* SL_NEED_* */
	pid_t pid;                /* only this process; 0: all */
	const char *cgroup;       /* only this cgroup subtree (path, unit or container id); NULL: all */
	bool all_fds;             /* every fd kind, not only sockets */
	bool kernel_sockets;      /* also follow sockets in the kernel (turned off where the host lacks it) */
	bool no_interp;           /* no PHP/Python frames in them (interpreters.h) */
	bool jvm_perfmap;         /* ask JVMs for their perf map (jcmd): the user's consent */
	enum stack_mode stack_mode;
	int frames;               /* frames kept per creating stack */
	uint64_t max_fds;         /* live fds tracked system-wide; 0: the BPF map's default */
	double older_than_s;      /* open longer: a leak suspect */
};

/* What the views read, valid until the next refresh or close; read-only.
 * The per-process close_wait (struct sl_proc and struct sl_proc_figures)
 * is counted here, once, against the host's TCP table. */
struct sl_snapshot {
	unsigned filled;          /* SL_NEED_* done by this refresh */
	struct sl_proc_figures *procs; /* every process, sorted by tgid */
	size_t nprocs;
	uint64_t reconciled;      /* corrections made from /proc, total */
	uint64_t map_full;        /* user-space inserts that failed */
	/* sockleak's own report reads these. */
	const struct fdtab *t;    /* per-process detail: t->procs[0..t->nprocs), sorted by tgid */
	struct tcp_table tcp;     /* /proc/net/tcp and tcp6 by inode */
	struct sockstat ss;       /* SL_NEED_SOCKSTAT: /proc/net/sockstat */
	struct sl_cw { uint64_t key, ts; } *by_sk, *by_ino; /* SL_NEED_CW_TIMES: CLOSE_WAIT entry times */
	size_t ncw;
	double elapsed;           /* seconds since tracing started */
	uint64_t frames_unverified; /* stack frames named module+offset only (sl_sites) */
	/* SL_NEED_LEAKS: what each process of t->procs leaked, in its order
	 * (sl_leaks_of, sockleak_leaks.h) */
	struct sl_leaks *leaks;
	size_t nleaks;
};

/* Check the target and the privileges, load and attach, take the /proc
 * baseline: sockets count from here. NULL on failure (said on stderr). */
struct sl_collector *sl_collector_open(const struct sl_collector_opts *o);
/* What the next refreshes do (SL_NEED_* but SL_NEED_STACKS, which is
 * chosen at open): e.g. the call-site groups for a final report only. */
void sl_collector_want(struct sl_collector *c, unsigned needs);
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
 * the host's TCP tables and count CLOSE_WAIT, then what the needs mask
 * asks for: the figures now. */
const struct sl_snapshot *sl_collector_refresh(struct sl_collector *c);
/* When a socket entered CLOSE_WAIT by the last refresh (0: before tracing,
 * or without SL_NEED_CW_TIMES). */
uint64_t sl_cw_since(const struct sl_snapshot *s, const struct fd_info *v);
/* The creating call sites, symbolized, and the BPF side's loss counters. */
struct sl_sites *sl_collector_sites(struct sl_collector *c);
const uint64_t *sl_collector_drops(const struct sl_collector *c);
/* Detach and free everything. NULL is fine. */
void sl_collector_close(struct sl_collector *c);

#endif
