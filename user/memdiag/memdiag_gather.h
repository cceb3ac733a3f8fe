/* memdiag's collector: where the memory of the host, a cgroup or a
 * process is, the working set by the kubelet's formula and the findings
 * (memdiag_diag.h), sampled from /proc and the cgroup files without
 * printing anything; memdiag_report.h prints what it gathers. A second
 * front end fills struct md_opts itself (no argp, no main):
 *
 *	struct md_collector c;
 *	md_collector_init(&c, &(struct md_opts){ .kind = MD_CGROUP, .cg_dir = dir, .cg_rel = rel });
 *	while (md_sample(&c) == 0) { use c.cur, c.trend; sleep; }
 *	md_collector_free(&c);
 */
#ifndef MEMSCOPE_MEMDIAG_GATHER_H
#define MEMSCOPE_MEMDIAG_GATHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "incarnation.h"
#include "memdiag_diag.h"
#include "memdiag_procs.h"
#include "memstat.h"
#include "oom_kmsg.h"
#include "procfs.h"

#define MD_MAX_MAPS 64         /* the largest mappings a process report keeps */

enum md_target { MD_HOST, MD_CGROUP, MD_PROCESS };
enum md_sort { MD_SORT_WS, MD_SORT_LIMIT };

/* What to sample: plain data. Strings are borrowed for the collector's life. */
struct md_opts {
	enum md_target kind;
	pid_t pid;                 /* MD_PROCESS */
	const char *cg_dir;        /* MD_CGROUP: absolute directory of a memory cgroup (cgroup_resolve) */
	const char *cg_rel;        /* MD_CGROUP: its path as shown */
	const char *snapshot;      /* memory.* files copied to this directory: read them instead (MD_CGROUP) */
	const char *target_arg;    /* how findings suggest a command names the target ("-c /x"), "" for none */
	uint64_t nmaps;            /* MD_PROCESS: largest mappings kept, up to MD_MAX_MAPS */
};

struct md_mapping {
	uint64_t start, end, rss, pss, anon, swap;
	char perms[5];
	char *path;
};

/* Everything one sample knows. */
struct md_report {
	enum md_target kind;
	bool snapshot;             /* files copied from elsewhere: no live host data */
	const char *target_arg;    /* "-c /x" for suggestions */
	char *cg_dir;              /* absolute directory of the memory cgroup */
	char *cg_rel;              /* path shown to the user */
	struct cgroup_mem cm;
	struct meminfo mi;
	struct memstat host_ms;
	const struct memstat *ms;
	struct working_set ws;
	uint64_t eviction_ws;      /* the working set at which eviction/OOM happens */
	const char *usage_src, *limit_src;
	bool have_sock; uint64_t sock; const char *sock_src;
	bool have_swap; uint64_t swap;
	bool have_oom; uint64_t oom_kills;
	bool have_procs; struct host_procs procs;  /* host: top processes */
	struct swap_io swapio;                     /* host: swap traffic */
	bool kill_log_read;
	struct kmsg_kill last_kill;    /* the newest kill the kernel log holds */
	double last_kill_age_s;
	double wall;                /* wall_time() when the sample was taken */
	bool have_psi; struct psi psi; const char *psi_src;
	int64_t fd_count; uint64_t fd_limit;
	pid_t top_anon_pid; uint64_t top_anon;
	pid_t grow_pid;            /* largest anon growth since the first sample */
	int nprocs;
	/* process */
	pid_t pid;
	char *comm, *cmdline;
	struct proc_status st;
	bool have_rollup; struct smaps_rollup sr;
	struct md_mapping maps[MD_MAX_MAPS];
	int nmaps;
	struct diag diag;
};

struct md_seen;

/* The cgroup's service across restarts (a cgroup or process target,
 * sampled live): the trend holds only the current incarnation's samples. */
struct md_incarnation {
	bool followed;               /* a live cgroup or process target */
	struct incarn inc;
	struct incarn_growth growth; /* of the working set since the last restart */
	double eta_s;                /* to the limit at that growth: NAN unknown or no limit, INFINITY not growing */
	double start_wall;           /* wall_time() of the current incarnation's first sample */
	double prev_span_s;          /* how long the previous one was followed */
};

/* A sampler of one target: its last sample and the trend over all of them. */
struct md_collector {
	struct md_opts o;
	struct md_report cur;        /* the last sample */
	struct trend trend;          /* the buckets of every sample since the last restart
				      * (slopes with 2+, findings with 3+) */
	struct md_incarnation inc;
	uint64_t samples;
	double t_start;              /* wall_time() at init */
	struct swap_io prev_swapio;  /* the last sample's, for rates */
	struct md_seen *seen;        /* first anon size of each process of the cgroup */
	size_t nseen, capseen;
};

/* Start sampling o's target; nothing is read until md_sample. */
void md_collector_init(struct md_collector *c, const struct md_opts *o);
/* Read one sample into c->cur (the previous one is freed), add it to the
 * trend and run the diagnosis. 0, or -errno: -ESRCH/-ENOENT when the
 * process is gone, -EBADMSG with c->cur.cm.bad_file naming a file that is
 * not a number. c->cur.kind, pid and cg_dir are set even on failure. */
int md_sample(struct md_collector *c);
void md_collector_free(struct md_collector *c);
/* Free what a report holds and zero it (md_sample does it for c->cur). */
void md_report_clear(struct md_report *r);

/* --all-cgroups: one row per memory cgroup of the host. */
struct md_cg_row {
	char *rel;
	int version;
	struct working_set ws;
	uint64_t anon, inactive_anon, oom_kills;
	bool root;                 /* the hierarchy's root: usage is rss + cache, no kernel memory */
	const char *usage_src;     /* where usage comes from (static string) */
	int own_procs;             /* in its cgroup.procs */
	int procs;                 /* in it and below: what its usage counts; -1 unreadable */
	double ws_pct;             /* of the limit; -1: no limit */
	const char *top_code;      /* the first finding's code, "-" for none */
	enum severity top_sev;
};

struct md_cg_list {
	struct md_cg_row *v;       /* sorted as asked, largest first */
	size_t n, cap;
	uint64_t ram;              /* MemTotal */
	const char *mount;         /* the memory hierarchy walked */
};

/* Every memory cgroup under the memory hierarchy, diagnosed on its own
 * and sorted. 0, -ENOENT when no memory hierarchy is mounted, -EIO when
 * /proc/meminfo cannot be read. Free with md_cg_list_free. */
int md_cgroups_collect(struct md_cg_list *l, enum md_sort sort);
void md_cg_list_free(struct md_cg_list *l);

#endif
