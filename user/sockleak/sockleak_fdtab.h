/* sockleak's user-space state: the per-process table built from the BPF
 * maps at each report, the /proc baseline and reconciliation (so a release
 * through a path we do not hook never shows as a leak), and exits. */
#ifndef MEMSCOPE_SOCKLEAK_FDTAB_H
#define MEMSCOPE_SOCKLEAK_FDTAB_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "sockleak.h"

struct fd_entry {
	struct fd_key k;
	struct fd_info v;
};

/* An fd its process held when it exited (the exit closed it) that is
 * leak evidence: in CLOSE_WAIT, or older than --older-than. */
struct sl_held {
	struct fd_entry e;
	struct fd_exit x;        /* the kernel's view at the exit (or close) */
	bool have_x;
	bool late;               /* closed by the process itself, after sitting in
				  * CLOSE_WAIT (struct late_close) at close_ns */
	uint64_t close_ns;
};

struct sl_proc {
	uint32_t tgid;
	char comm[TASK_COMM_LEN + 1];
	struct proc_stats now, prev;   /* kernel counters: this / last report */
	uint64_t baseline;             /* in /proc at start */
	uint64_t found;                /* appeared in /proc, not seen created */
	uint64_t gone;                 /* vanished from /proc, not seen closed */
	uint64_t closed_exec, closed_exit;
	uint64_t pre_closed;           /* baseline fds gone by exec, exit, /proc */
	uint64_t prev_found, prev_gone, prev_closed_exec, prev_closed_exit, prev_pre_closed;
	uint32_t seen_execs;
	bool shutdown_leak;            /* closed at its shutdown a CLOSE_WAIT socket
					* it had kept while it made others */
	/* At its exit: fds it still held, of them in CLOSE_WAIT, and the
	 * ones that are leak evidence (kept with their stacks). */
	uint64_t held_at_exit, cw_at_exit, peak;
	uint64_t late;                 /* closes after a long CLOSE_WAIT */
	struct sl_held *held;          /* evidence: held at the exit, closed late */
	size_t nheld, capheld;
	bool exited, gone_from_kernel, shown;
	/* Computed at each refresh from the live entries. */
	uint64_t alive, alive_old, alive_prev, alive_start;
	uint64_t by_kind[FDK_MAX];
	uint64_t close_wait;
	double growth;                 /* alive per second over the interval */
	uint64_t nofile, nfds;         /* --all-fds: RLIMIT_NOFILE and open fds */
	char *cgroup;                  /* display path, "" unknown */
	char *cg_v2, *cg_v1;           /* paths of the kernel's cgroup ids */
	struct container_ref ctr;
};

struct fdtab_opts {
	int fds_map, procs_map, at_exit_map, late_map, short_cw_map; /* BPF map fds */
	/* Called when a process is found exited (its entries retired). */
	void (*on_exit)(void *ctx, uint32_t tgid);
	void *exit_ctx;
	pid_t pid;                     /* -p: 0 for all */
	const char *cg_rel;            /* -c: path in its hierarchy, or NULL */
	bool cg_v1;                    /* ... the v1 memory hierarchy */
	bool all_fds;
	bool kernel_sockets;           /* --kernel-sockets: sk_* counters live */
	double older_than_s;           /* --older-than */
};

struct fdtab {
	struct fdtab_opts o;
	struct sl_proc *procs;         /* sorted by tgid */
	size_t nprocs, cap;
	struct fd_entry *ents;         /* live entries, sorted by (tgid, fd) */
	size_t nents;
	struct fd_key *free;           /* HOW_FREE entries, sorted likewise */
	size_t nfree;
	uint32_t max_fds;              /* the fds map's capacity */
	uint64_t start_ns, now_ns, prev_ns;
	uint64_t reconciled;           /* corrections made from /proc, total */
	uint64_t map_full;             /* user-space inserts that failed */
};

struct fdtab *fdtab__new(const struct fdtab_opts *o);
void fdtab__free(struct fdtab *t);
/* Scan /proc (every process, or -p) and seed the maps: call before attach. */
int fdtab__baseline(struct fdtab *t);
/* Read the maps, retire exited processes, reconcile with /proc and compute
 * the per-process figures. */
int fdtab__refresh(struct fdtab *t);
struct sl_proc *fdtab__proc(struct fdtab *t, uint32_t tgid);
/* Entries of one process: a slice of t->ents. */
const struct fd_entry *fdtab__entries(const struct fdtab *t, uint32_t tgid, size_t *n);

/* Totals over the run, kinds in scope (sockets, or all with --all-fds):
 * created during the trace, closed of those, and closed of the ones open
 * before it (the baseline), so that alive = baseline - closed_pre +
 * created - closed. */
uint64_t sl_created(const struct fdtab *t, const struct sl_proc *p);
uint64_t sl_closed(const struct fdtab *t, const struct sl_proc *p);
uint64_t sl_closed_pre(const struct sl_proc *p);
uint64_t sl_created_prev(const struct fdtab *t, const struct sl_proc *p);
uint64_t sl_closed_prev(const struct fdtab *t, const struct sl_proc *p);
uint64_t sl_closed_pre_prev(const struct sl_proc *p);
/* -c: is the process in the cgroup (or below it)? */
bool fdtab__in_cgroup(const struct fdtab *t, const struct sl_proc *p);
/* --kernel-sockets: sockets it created that the kernel still holds, and
 * those of them no fd refers to any more (orphans on their way out). */
uint64_t sl_kernel_alive(const struct sl_proc *p);
uint64_t sl_kernel_no_fd(const struct sl_proc *p);
const char *fd_kind_name(int kind);
int fd_kind_of_target(const char *target, uint64_t *ino);

#endif
