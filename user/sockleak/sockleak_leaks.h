/* What each process leaked, derived by sockleak's collector at a refresh
 * (SL_NEED_LEAKS) for every view to read: its leak evidence (live fds in
 * CLOSE_WAIT or older than --older-than, and the fds it held until its
 * end), whether it leaks (the verdict's test), and with SL_NEED_LEAK_SITES
 * the evidence grouped by creating call site. sockleak's own views read
 * it; other front ends need only sockleak_collect.h. */
#ifndef MEMSCOPE_SOCKLEAK_LEAKS_H
#define MEMSCOPE_SOCKLEAK_LEAKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proc_net.h"
#include "sockleak_fdtab.h"
#include "sockleak_sites.h"

#define LEAK_SITES_KEPT 5   /* call-site groups kept per process, largest first */

/* A leaked fd, live or held until its process's end. */
struct ev {
	const struct fd_entry *e;
	int state;                   /* TCP_ST_*, 0: not TCP or unknown */
	const char *local, *remote;  /* NULL: unknown */
	double age_s;                /* -1: open before the trace; at the exit if by_exit */
	bool close_wait;
	double cw_s;                 /* in CLOSE_WAIT for (-1: since before the trace) */
	bool by_exit;                /* closed by its process's exit */
	bool late;                   /* closed by the process, long after the peer */
	char lbuf[ADDR_LEN], rbuf[ADDR_LEN];
};

/* One call site as the user sees it: the evidence whose creating stacks
 * symbolize to the same frames, whatever kernel stack ids or BPF cache
 * entries they came from. */
struct stack_group {
	const struct sl_site *site;   /* the first one met: its frames */
	uint64_t count, oldest_ns;
	bool oldest_set;
};

struct sl_leaks {
	struct ev *ev;               /* evidence, live fds first; none for a process
				      * that exited without leaking */
	size_t nev;
	bool leaking;
	/* SL_NEED_LEAK_SITES, for a process that leaks or holds old fds */
	struct stack_group *groups;
	size_t ngroups;
};

struct sl_leaks_in {
	const struct fdtab *t;
	const struct tcp_table *tcp;
	const struct sl_snapshot *s;  /* CLOSE_WAIT entry times (sl_cw_since) */
	struct sl_sites *sites;       /* NULL: no stacks */
	double older_than_s;
	bool want_sites;
};

/* The leaks of p, one of s->t->procs, in a snapshot with SL_NEED_LEAKS. */
const struct sl_leaks *sl_leaks_of(const struct sl_snapshot *s, const struct sl_proc *p);
/* p's leaks into *out (freed with sl_leaks_free). */
void sl_leaks_fill(const struct sl_leaks_in *in, const struct sl_proc *p, struct sl_leaks *out);
void sl_leaks_free(struct sl_leaks *l);
/* A live fd that is leak evidence: in CLOSE_WAIT, or older than
 * older_than_s (a listener never). */
bool sl_fd_leaked(const struct sl_leaks_in *in, const struct fd_info *v);
/* The creating call site of an fd, NULL when unknown or without stacks. */
const struct sl_site *sl_site_of(struct sl_sites *sites, const struct fd_entry *e);
/* The frame blamed for a group's fds, NULL when none stands out. */
const char *sl_group_culprit(const struct stack_group *g);

#endif
