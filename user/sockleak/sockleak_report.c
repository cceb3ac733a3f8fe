// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <bpf/bpf.h>

#include "array.h"
#include "ending.h"
#include "output.h"
#include "procfs.h"
#include "sockleak_report.h"
#include "stackgroup.h"
#include "proc_net.h"
#include "symbolize.h"

#define MAX_FRAMES 24
#define LEAKED_SHOWN 20   /* text: leaked sockets listed per process */
#define LEAKED_JSON 100   /* json: leaked sockets listed per process */
#define STACKS_SHOWN 5

/* A report's view: the collector's snapshot and how to show it. */
struct ctx {
	const struct sl_report_opts *o;
	const struct sl_snapshot *s;
	struct fdtab *t;
	double elapsed;
	bool final;
};

static const struct tcp_row *tcp_of(const struct ctx *c, const struct fd_info *v)
{
	return v->kind == FDK_SOCKET ? tcp_table_find(&c->s->tcp, v->ino) : NULL;
}

static bool leaked(const struct ctx *c, const struct fd_info *v)
{
	const struct tcp_row *r = tcp_of(c, v);

	if (r && r->state == TCP_ST_CLOSE_WAIT)
		return true;
	if (r && r->state == TCP_ST_LISTEN)
		return false; /* long-lived by design */
	return v->ts_ns && c->t->now_ns - v->ts_ns >= (uint64_t)(c->o->older_than_s * 1e9);
}

static void count_close_wait(struct ctx *c, struct sl_proc *p)
{
	size_t n;
	const struct fd_entry *e = fdtab__entries(c->t, p->tgid, &n);

	p->close_wait = 0;
	if (p->exited) {
		p->close_wait = p->cw_at_exit + p->late; /* held until its end */
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct tcp_row *r = tcp_of(c, &e[i].v);

		p->close_wait += r && r->state == TCP_ST_CLOSE_WAIT;
	}
}

static double run_growth(const struct ctx *c, const struct sl_proc *p)
{
	double span = c->elapsed > 1 ? c->elapsed : 1;

	return ((double)p->alive - (double)p->alive_start) / span;
}

static bool active(const struct ctx *c, const struct sl_proc *p)
{
	if (sl_kernel_alive(p))
		return true; /* even exited: its orphans are still allocated */
	if (c->final)
		return sl_created(c->t, p) || sl_closed(c->t, p) || sl_closed_pre(p) || p->alive ||
		       p->now.sk_born;
	return sl_created(c->t, p) != sl_created_prev(c->t, p) ||
	       sl_closed(c->t, p) != sl_closed_prev(c->t, p) ||
	       sl_closed_pre(p) != sl_closed_pre_prev(p) || p->alive ||
	       p->now.sk_freed != p->prev.sk_freed;
}

/* Rows in report order: live count growing fastest first. */
static int cmp_rows(const void *a, const void *b, void *ctx)
{
	const struct ctx *c = ctx;
	const struct sl_proc *x = *(struct sl_proc *const *)a, *y = *(struct sl_proc *const *)b;
	double gx = c->final ? run_growth(c, x) : x->growth;
	double gy = c->final ? run_growth(c, y) : y->growth;

	if ((x->close_wait > 0) != (y->close_wait > 0) && c->final)
		return x->close_wait ? -1 : 1;
	if (gx != gy)
		return gx > gy ? -1 : 1;
	if (x->alive != y->alive)
		return x->alive > y->alive ? -1 : 1;
	return x->tgid < y->tgid ? -1 : 1;
}

static size_t select_rows(struct ctx *c, struct sl_proc ***rows)
{
	size_t n = 0;

	*rows = calloc(c->t->nprocs + 1, sizeof(**rows));
	if (!*rows)
		abort();
	for (size_t i = 0; i < c->t->nprocs; i++) {
		struct sl_proc *p = &c->t->procs[i];

		if (c->t->o.pid && p->tgid != (uint32_t)c->t->o.pid)
			continue;
		if (!fdtab__in_cgroup(c->t, p) || !active(c, p))
			continue;
		count_close_wait(c, p);
		(*rows)[n++] = p;
	}
	qsort_r(*rows, n, sizeof(**rows), cmp_rows, c);
	return n;
}

/* ---- evidence: live fds that leaked, and fds held until the exit ---- */

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

static double age_s(const struct ctx *c, uint64_t ts)
{
	return ts ? (c->t->now_ns - ts) / 1e9 : -1;
}

static void fmt_addr(char *buf, int family, const uint8_t *addr, uint16_t port)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr, a, sizeof(a));
	snprintf(buf, ADDR_LEN, family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, port);
}

static void ev_live(const struct ctx *c, const struct fd_entry *e, struct ev *v)
{
	const struct tcp_row *r = tcp_of(c, &e->v);
	uint64_t since;

	memset(v, 0, sizeof(*v));
	v->e = e;
	v->state = r ? r->state : 0;
	v->local = r ? r->local : NULL;
	v->remote = r ? r->remote : NULL;
	v->age_s = e->v.ts_ns ? age_s(c, e->v.ts_ns) : -1;
	v->close_wait = v->state == TCP_ST_CLOSE_WAIT;
	since = v->close_wait ? sl_cw_since(c->s, &e->v) : 0;
	v->cw_s = since ? age_s(c, since) : -1;
}

static void ev_held(const struct sl_proc *p, const struct sl_held *h, struct ev *v)
{
	uint64_t exit_ns = h->late ? h->close_ns : p->now.exit_ns;

	memset(v, 0, sizeof(*v));
	v->e = &h->e;
	v->by_exit = !h->late;
	v->late = h->late;
	v->age_s = h->e.v.ts_ns && exit_ns ? (exit_ns - h->e.v.ts_ns) / 1e9 : -1;
	if (!h->have_x || !h->x.family)
		return;
	v->state = h->x.state;
	v->close_wait = v->state == TCP_ST_CLOSE_WAIT;
	v->cw_s = h->x.cw_ns && exit_ns ? (exit_ns - h->x.cw_ns) / 1e9 : -1;
	fmt_addr(v->lbuf, h->x.family, h->x.laddr, h->x.lport);
	fmt_addr(v->rbuf, h->x.family, h->x.raddr, h->x.rport);
	v->local = v->lbuf;
	v->remote = v->rbuf;
}

/* The process's leak evidence, live fds first. */
static size_t evidence(const struct ctx *c, const struct sl_proc *p, struct ev **out)
{
	size_t n, k = 0;
	const struct fd_entry *e = fdtab__entries(c->t, p->tgid, &n);
	struct ev *v = calloc(n + p->nheld + 1, sizeof(*v));

	if (!v)
		abort();
	for (size_t i = 0; i < n; i++)
		if (leaked(c, &e[i].v))
			ev_live(c, &e[i], &v[k++]);
	/* What it held until the end: evidence once it is gone. */
	for (size_t i = 0; p->exited && i < p->nheld; i++)
		ev_held(p, &p->held[i], &v[k++]);
	*out = v;
	return k;
}

static const char *ev_state(const struct ev *v)
{
	return v->state ? tcp_state_name(v->state) : fd_kind_name(v->e->v.kind);
}

/* ---- stacks ---- */

/* One call site as the user sees it: the evidence whose creating stacks
 * symbolize to the same frames, whatever kernel stack ids or BPF cache
 * entries they came from. */
struct stack_group {
	const struct sl_site *site;   /* the first one met: its frames */
	uint64_t count, oldest_ns;
	bool oldest_set;
};

static const struct sl_site *site_of(const struct ctx *c, const struct fd_entry *e)
{
	if (!e->v.site || !c->o->sites)
		return NULL;
	return sl_sites__get(c->o->sites, e->k.tgid, e->v.site, e->v.stack_id, e->v.caller,
			     e->v.interp);
}

static int cmp_group(const void *a, const void *b)
{
	const struct stack_group *x = a, *y = b;

	return x->count != y->count ? (x->count > y->count ? -1 : 1) : 0;
}

/* The group of a site: sites with the same frames are one call site as
 * the user sees it (stackgroup.h); a site without frames only itself. */
static size_t group_of(struct stack_groups *sg, size_t **by_id, size_t *cap, struct stack_group *g,
		       size_t *ng, const struct sl_site *st)
{
	uint32_t id;
	size_t j;

	if (!st->nframes) {
		for (j = 0; j < *ng && g[j].site != st; j++)
			;
	} else {
		id = stack_groups__id(sg, 0, (const char *const *)st->frames, st->nframes);
		if (id >= *cap) {
			size_t old = *cap;

			*by_id = array_grow(*by_id, id, cap, sizeof(**by_id), 16);
			for (size_t k = old; k < *cap; k++)
				(*by_id)[k] = SIZE_MAX;
		}
		if ((*by_id)[id] == SIZE_MAX)
			(*by_id)[id] = *ng;
		j = (*by_id)[id];
	}
	if (j == *ng)
		g[(*ng)++].site = st;
	return j;
}

/* Leak evidence of a process grouped by creating call site, largest
 * first. The groups point at sites owned by the sites table. */
static size_t group_stacks(struct ctx *c, struct sl_proc *p, struct stack_group **out)
{
	struct ev *v;
	size_t n = evidence(c, p, &v), ng = 0, cap = 0, *by_id = NULL;
	struct stack_group *g = calloc(n + 1, sizeof(*g));
	struct stack_groups *sg = stack_groups__new();

	if (!g || !sg)
		abort();
	for (size_t i = 0; i < n; i++) {
		const struct sl_site *st = site_of(c, v[i].e);
		uint64_t ts = v[i].e->v.ts_ns;
		size_t j;

		if (!st)
			continue;
		j = group_of(sg, &by_id, &cap, g, &ng, st);
		g[j].count++;
		if (ts && (!g[j].oldest_set || ts < g[j].oldest_ns)) {
			g[j].oldest_ns = ts;
			g[j].oldest_set = true;
		}
	}
	free(v);
	free(by_id);
	stack_groups__free(sg);
	qsort(g, ng, sizeof(*g), cmp_group);
	if (ng > STACKS_SHOWN)
		ng = STACKS_SHOWN;
	*out = g;
	return ng;
}

static const char *group_culprit(const struct stack_group *g)
{
	return g->site->culprit >= 0 ? g->site->frames[g->site->culprit] : NULL;
}

/* ---- verdict ---- */

static uint64_t count_leaked(struct ctx *c, struct sl_proc *p)
{
	size_t n, k = 0;
	const struct fd_entry *e = fdtab__entries(c->t, p->tgid, &n);

	for (size_t i = 0; i < n; i++)
		k += leaked(c, &e[i].v);
	return k;
}

static uint64_t held_close_wait(const struct sl_proc *p)
{
	uint64_t k = 0;

	for (size_t i = 0; i < p->nheld; i++)
		k += p->held[i].have_x && p->held[i].x.state == TCP_ST_CLOSE_WAIT;
	return k;
}

/* A process that exited leaked if it held, until the exit closed them,
 * sockets in CLOSE_WAIT or old ones while its count had grown. */
static bool is_leaking(struct ctx *c, struct sl_proc *p)
{
	if (p->exited)
		return p->nheld && (held_close_wait(p) || p->held_at_exit > p->alive_start);
	return p->close_wait > 0 || (count_leaked(c, p) > 0 && p->alive > p->alive_start);
}

/* ", and 12 more in CLOSE_WAIT": sockets held in CLOSE_WAIT that the
 * process closed itself, long after the peer (a shutdown's cleanup). */
static const char *late_text(const struct sl_proc *p)
{
	static char buf[64];

	if (!p->late)
		return "";
	snprintf(buf, sizeof(buf), ", and %llu more in CLOSE_WAIT that", (unsigned long long)p->late);
	return buf;
}

static double exit_at_s(const struct ctx *c, const struct sl_proc *p)
{
	return p->now.exit_ns > c->t->start_ns ? (p->now.exit_ns - c->t->start_ns) / 1e9 : 0;
}

/* " by OOM kill", " by signal 9 (SIGKILL)", " by exit 3"; "" when the
 * exit was not seen (the process ended before the trace). */
static const char *ended_by(const struct sl_proc *p, char buf[ENDING_TEXT_LEN + 4])
{
	char t[ENDING_TEXT_LEN];

	buf[0] = 0;
	if (ending_decode(&p->now.ending).kind != ENDING_UNKNOWN)
		snprintf(buf, ENDING_TEXT_LEN + 4, " by %s", ending_text(t, &p->now.ending));
	return buf;
}

static const char *what(const struct ctx *c)
{
	return c->o->all_fds ? "fds" : "sockets";
}

static char *verdict(struct ctx *c, struct sl_proc **rows, size_t n, size_t shown,
		     struct stack_group **groups, size_t *ngroups)
{
	char *s = NULL, *comm, *where = NULL, by[ENDING_TEXT_LEN + 4];
	uint64_t created = 0, closed = 0, pre = 0, closed_pre = 0;
	struct sl_proc *p;
	size_t i;
	int r;

	for (i = 0; i < shown; i++)
		if (is_leaking(c, rows[i]))
			goto leak;
	for (i = 0; i < n; i++) {
		created += sl_created(c->t, rows[i]);
		closed += sl_closed(c->t, rows[i]);
		pre += rows[i]->baseline;
		closed_pre += sl_closed_pre(rows[i]);
	}
	r = asprintf(&s, "no %s leak: %zu processes created %llu %s and closed %llu of them in %.1f s "
		     "(and closed %llu of the %llu open before); "
		     "none keeps %s older than %g s or in CLOSE_WAIT",
		     what(c), n, (unsigned long long)created, what(c), (unsigned long long)closed,
		     c->elapsed, (unsigned long long)closed_pre, (unsigned long long)pre, what(c),
		     c->o->older_than_s);
	return r < 0 ? NULL : s;
leak:
	p = rows[i];
	comm = term_escape(p->comm);
	if (ngroups[i] && group_culprit(&groups[i][0]))
		where = term_escape(group_culprit(&groups[i][0]));
	if (p->exited)
		r = asprintf(&s, "pid %u (%s) leaked %s until it exited at %.1f s%s: %llu held at the "
			     "exit (peak %llu), %llu in CLOSE_WAIT, closed by exit%s%s%s%s",
			     p->tgid, comm, what(c), exit_at_s(c, p), ended_by(p, by),
			     (unsigned long long)p->held_at_exit, (unsigned long long)p->peak,
			     (unsigned long long)p->cw_at_exit, late_text(p),
			     p->late ? " it closed late (at its shutdown or before)" : "",
			     where ? "; leaked from " : "", where ? where : "");
	else
		r = asprintf(&s, "pid %u (%s) leaks %s: %+.1f/s, %llu alive, %llu in CLOSE_WAIT%s%s",
			     p->tgid, comm, what(c), run_growth(c, p),
			     (unsigned long long)p->alive, (unsigned long long)p->close_wait,
			     where ? "; leaked from " : "", where ? where : "");
	free(comm);
	free(where);
	return r < 0 ? NULL : s;
}

/* A worker that exited with leaked sockets is usually replaced by a new
 * one (pools recycle them: php-fpm pm.max_requests, gunicorn
 * max_requests); only -c follows the replacements. NULL: nothing to say. */
static char *exit_note(const struct ctx *c, struct sl_proc **rows, size_t n, const bool *leaking)
{
	const struct sl_proc *first = NULL;
	size_t k = 0;
	char *s = NULL, *cg;
	int r;

	for (size_t i = 0; i < n; i++)
		if (leaking[i] && rows[i]->exited && !k++)
			first = rows[i];
	if (!k)
		return NULL;
	if (c->t->o.cg_rel) {
		r = asprintf(&s, "%zu process%s of the cgroup exited holding leaked %s (closed by exit, "
			     "kept above); -c follows the workers that replace them", k, k > 1 ? "es" : "",
			     what(c));
		return r < 0 ? NULL : s;
	}
	cg = term_escape(first->cgroup && *first->cgroup ? first->cgroup : "CGROUP");
	r = asprintf(&s, "pid %u exited holding leaked %s (closed by exit, kept above). Pools recycle "
		     "workers (php-fpm pm.max_requests, gunicorn max_requests): to follow the workers "
		     "that replace it, trace the pool's cgroup: sockleak -c %s",
		     first->tgid, what(c), cg);
	free(cg);
	return r < 0 ? NULL : s;
}

/* ---- text ---- */

static void kinds_text(char *buf, size_t len, const struct sl_proc *p)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int k = 0; k < FDK_MAX && off < len; k++)
		if (p->by_kind[k])
			off += snprintf(buf + off, len - off, "%s%s %llu", off ? ", " : "",
					fd_kind_name(k), (unsigned long long)p->by_kind[k]);
}

static void print_header(const struct ctx *c)
{
	printf("%-8s %-16s %6s %10s %8s %8s %7s %7s %6s %9s %10s", "PID", "COMM", "PRE", "PRE_CLOSED",
	       "CREATED", "CLOSED", "DIFF", "ALIVE", "OLD", "GROWTH/s", "CLOSE_WAIT");
	if (c->o->kernel_sockets)
		printf(" %9s %6s", "IN_KERNEL", "NO_FD");
	if (c->o->all_fds)
		printf(" %13s", "FDS/LIMIT");
	printf("  %s\n", c->o->all_fds ? "CGROUP / KINDS" : "CGROUP");
}

static void print_row(const struct ctx *c, const struct sl_proc *p)
{
	uint64_t cr = sl_created(c->t, p), cl = sl_closed(c->t, p), pcl = sl_closed_pre(p);
	double growth = c->final ? run_growth(c, p) : p->growth;
	char kinds[256], by[ENDING_TEXT_LEN + 4];

	if (!c->final) {
		cr -= sl_created_prev(c->t, p);
		cl -= sl_closed_prev(c->t, p);
		pcl -= sl_closed_pre_prev(p);
	}
	printf("%-8u ", p->tgid);
	print_term(stdout, p->comm, 16);
	printf(" %6llu %10llu", (unsigned long long)p->baseline, (unsigned long long)pcl);
	printf(" %8llu %8llu %+7lld %7llu %6llu %+9.1f %10llu", (unsigned long long)cr,
	       (unsigned long long)cl, (long long)(cr - cl), (unsigned long long)p->alive,
	       (unsigned long long)p->alive_old, growth, (unsigned long long)p->close_wait);
	if (c->o->kernel_sockets)
		printf(" %9llu %6llu", (unsigned long long)sl_kernel_alive(p),
		       (unsigned long long)sl_kernel_no_fd(p));
	if (c->o->all_fds) {
		char lim[32];

		snprintf(lim, sizeof(lim), "%llu/%llu", (unsigned long long)p->nfds,
			 (unsigned long long)p->nofile);
		printf(" %13s", p->exited ? "exited" : lim);
	}
	printf("  ");
	print_term(stdout, p->cgroup && *p->cgroup ? p->cgroup : "?", 0);
	if (p->exited && p->held_at_exit)
		printf(" (exited at %.1f s%s, holding %llu: closed by exit)", exit_at_s(c, p),
		       ended_by(p, by), (unsigned long long)p->held_at_exit);
	else if (p->exited)
		printf(" (exited%s)", ended_by(p, by));
	if (c->o->all_fds) {
		kinds_text(kinds, sizeof(kinds), p);
		if (*kinds)
			printf(" [%s]", kinds);
	}
	printf("\n");
}

/* --by-cgroup: the rows summed per shown cgroup, in the order of their
 * first (fastest-growing) process. */
struct cg_row {
	const struct sl_proc *first;
	uint64_t procs, pre, closed_pre, created, closed, alive, old, close_wait, k_alive, k_no_fd;
	double growth;
};

static size_t cgroup_rollup(const struct ctx *c, struct sl_proc **rows, size_t n, struct cg_row **out)
{
	struct cg_row *g = calloc(n + 1, sizeof(*g));
	size_t ng = 0;

	if (!g)
		abort();
	for (size_t i = 0; i < n; i++) {
		const struct sl_proc *p = rows[i];
		size_t j;

		for (j = 0; j < ng && strcmp(g[j].first->cgroup, p->cgroup); j++)
			;
		if (j == ng)
			g[ng++].first = p;
		g[j].procs++;
		g[j].pre += p->baseline;
		g[j].closed_pre += sl_closed_pre(p) - (c->final ? 0 : sl_closed_pre_prev(p));
		g[j].created += sl_created(c->t, p) - (c->final ? 0 : sl_created_prev(c->t, p));
		g[j].closed += sl_closed(c->t, p) - (c->final ? 0 : sl_closed_prev(c->t, p));
		g[j].alive += p->alive;
		g[j].old += p->alive_old;
		g[j].close_wait += p->close_wait;
		g[j].k_alive += sl_kernel_alive(p);
		g[j].k_no_fd += sl_kernel_no_fd(p);
		g[j].growth += c->final ? run_growth(c, p) : p->growth;
	}
	*out = g;
	return ng;
}

static void print_cgroup_rows(const struct ctx *c, struct sl_proc **rows, size_t n)
{
	struct cg_row *g;
	size_t ng = cgroup_rollup(c, rows, n, &g);

	printf("%-40s %5s %6s %10s %8s %8s %7s %7s %6s %9s %10s", "CGROUP", "PROCS", "PRE", "PRE_CLOSED",
	       "CREATED", "CLOSED", "DIFF", "ALIVE", "OLD", "GROWTH/s", "CLOSE_WAIT");
	if (c->o->kernel_sockets)
		printf(" %9s %6s", "IN_KERNEL", "NO_FD");
	printf("  %s\n", "CONTAINER");
	for (size_t i = 0; i < ng; i++) {
		const struct sl_proc *p = g[i].first;

		print_term(stdout, *p->cgroup ? p->cgroup : "?", 40);
		printf(" %5llu %6llu %10llu", (unsigned long long)g[i].procs, (unsigned long long)g[i].pre,
		       (unsigned long long)g[i].closed_pre);
		printf(" %8llu %8llu %+7lld %7llu %6llu %+9.1f %10llu",
		       (unsigned long long)g[i].created, (unsigned long long)g[i].closed,
		       (long long)(g[i].created - g[i].closed), (unsigned long long)g[i].alive,
		       (unsigned long long)g[i].old, g[i].growth, (unsigned long long)g[i].close_wait);
		if (c->o->kernel_sockets)
			printf(" %9llu %6llu", (unsigned long long)g[i].k_alive, (unsigned long long)g[i].k_no_fd);
		printf("  ");
		if (p->ctr.id[0] || p->ctr.pod_uid[0])
			printf("%s%s%.12s%s%s", p->ctr.runtime, p->ctr.runtime[0] ? " " : "", p->ctr.id,
			       p->ctr.pod_uid[0] ? " pod " : "", p->ctr.pod_uid);
		else
			printf("-");
		printf("\n");
	}
	free(g);
}

/* The interval and final tables alike: per cgroup, or the first shown
 * processes. */
static void print_table(const struct ctx *c, struct sl_proc **rows, size_t n, size_t shown)
{
	if (c->o->by_cgroup) {
		print_cgroup_rows(c, rows, n);
		return;
	}
	print_header(c);
	for (size_t i = 0; i < shown; i++)
		print_row(c, rows[i]);
}

static void json_container(struct jw *w, const struct sl_proc *p)
{
	if (!p->ctr.id[0] && !p->ctr.pod_uid[0]) {
		jw_null(w, "container");
		return;
	}
	jw_obj_begin(w, "container");
	jw_str(w, "runtime", p->ctr.runtime[0] ? p->ctr.runtime : NULL);
	jw_str(w, "id", p->ctr.id[0] ? p->ctr.id : NULL);
	jw_str(w, "pod_uid", p->ctr.pod_uid[0] ? p->ctr.pod_uid : NULL);
	jw_obj_end(w);
}

static void json_cgroups(const struct ctx *c, struct sl_proc **rows, size_t n)
{
	struct cg_row *g;
	size_t ng = cgroup_rollup(c, rows, n, &g);

	for (size_t i = 0; i < ng; i++) {
		struct jw w;

		jw_init(&w, stdout);
		jw_obj_begin(&w, NULL);
		jw_str(&w, "type", "cgroup");
		jw_str(&w, "report", c->final ? "final" : "interval");
		jw_str(&w, "cgroup", g[i].first->cgroup);
		json_container(&w, g[i].first);
		jw_u64(&w, "processes", g[i].procs);
		jw_u64(&w, "baseline", g[i].pre);
		jw_u64(&w, "closed_baseline", g[i].closed_pre);
		jw_u64(&w, "created", g[i].created);
		jw_u64(&w, "closed", g[i].closed);
		jw_i64(&w, "diff", (int64_t)(g[i].created - g[i].closed));
		jw_u64(&w, "alive", g[i].alive);
		jw_u64(&w, "alive_old", g[i].old);
		jw_double(&w, "growth_per_s", g[i].growth);
		jw_u64(&w, "close_wait", g[i].close_wait);
		if (c->o->kernel_sockets) {
			jw_u64(&w, "kernel_allocated", g[i].k_alive);
			jw_u64(&w, "kernel_without_fd", g[i].k_no_fd);
		}
		jw_obj_end(&w);
	}
	free(g);
}

static void print_host(const struct ctx *c)
{
	printf("host TCP: %llu CLOSE_WAIT, %llu TIME_WAIT, %llu orphans "
	       "(sockstat: inuse %llu orphan %llu tw %llu alloc %llu mem %llu pages; TCP6 inuse %llu)\n",
	       (unsigned long long)c->s->tcp.states[TCP_ST_CLOSE_WAIT],
	       (unsigned long long)c->s->tcp.states[TCP_ST_TIME_WAIT], (unsigned long long)c->s->ss.tcp_orphan,
	       (unsigned long long)c->s->ss.tcp_inuse, (unsigned long long)c->s->ss.tcp_orphan,
	       (unsigned long long)c->s->ss.tcp_tw, (unsigned long long)c->s->ss.tcp_alloc,
	       (unsigned long long)c->s->ss.tcp_mem_pages, (unsigned long long)c->s->ss.tcp6_inuse);
}

static void print_group(const struct ctx *c, const struct stack_group *g)
{
	char hb[HUMAN_LEN];

	if (g->oldest_set)
		printf("  %llu created at (oldest %s ago):\n", (unsigned long long)g->count,
		       fmt_duration(hb, age_s(c, g->oldest_ns)));
	else
		printf("  %llu created at:\n", (unsigned long long)g->count);
	for (int k = 0; k < g->site->nframes; k++) {
		printf("      ");
		print_term(stdout, g->site->frames[k], 0);
		printf("\n");
	}
	if (!g->site->nframes)
		printf("      (not symbolized: the process was gone before its stack was read)\n");
}

static void print_leaked(struct ctx *c, struct sl_proc *p, struct stack_group *g, size_t ng)
{
	char hb[HUMAN_LEN], by[ENDING_TEXT_LEN + 4];
	struct ev *v;
	size_t n = evidence(c, p, &v), shown = 0;

	printf("\npid %u (", p->tgid);
	print_term(stdout, p->comm, 0);
	if (p->exited)
		printf("): exited at %.1f s%s, holding %llu %s (peak %llu), %llu in CLOSE_WAIT: closed "
		       "by exit%s%s\n", exit_at_s(c, p), ended_by(p, by),
		       (unsigned long long)p->held_at_exit, what(c),
		       (unsigned long long)p->peak, (unsigned long long)p->cw_at_exit, late_text(p),
		       p->late ? " it closed late" : "");
	else
		printf("): %llu %s alive (peak %llu), %llu older than %g s, %llu in CLOSE_WAIT\n",
		       (unsigned long long)p->alive, what(c), (unsigned long long)p->peak,
		       (unsigned long long)p->alive_old, c->o->older_than_s,
		       (unsigned long long)p->close_wait);
	for (size_t j = 0; j < ng; j++)
		print_group(c, &g[j]);
	for (size_t i = 0; i < n && shown < LEAKED_SHOWN; i++, shown++) {
		if (!shown)
			printf("  %-6s %-12s %9s  %-24s %-24s %s\n", "FD", "STATE",
			       p->exited ? "AGE@EXIT" : "AGE", "LOCAL", "REMOTE", "CLOSE_WAIT FOR");
		printf("  %-6u %-12s %9s  %-24s %-24s ", v[i].e->k.fd,
		       v[i].late ? "CLOSED LATE" : ev_state(&v[i]),
		       v[i].age_s >= 0 ? fmt_duration(hb, v[i].age_s) : "before",
		       v[i].local ? v[i].local : "-", v[i].remote ? v[i].remote : "-");
		if (v[i].close_wait)
			printf("%s", v[i].cw_s >= 0 ? fmt_duration(hb, v[i].cw_s) : "since before start");
		printf("\n");
	}
	if (n > shown)
		printf("  ... %zu more\n", n - shown);
	free(v);
}

/* ---- json ---- */

static void json_frames(struct jw *w, const struct sl_site *st)
{
	jw_arr_begin(w, "frames");
	for (int k = 0; st && k < st->nframes; k++)
		jw_str(w, NULL, st->frames[k]);
	jw_arr_end(w);
	/* Parallel to frames (strings): what each one is. */
	jw_arr_begin(w, "frame_kinds");
	for (int k = 0; st && k < st->nframes; k++)
		jw_str(w, NULL, frame_kind_name(st->kinds ? st->kinds[k] : FRAME_NATIVE));
	jw_arr_end(w);
}

static void json_opt_s(struct jw *w, const char *key, double v)
{
	if (v >= 0)
		jw_double(w, key, v);
	else
		jw_null(w, key);
}

/* "leaked": the evidence (first LEAKED_JSON) and "leaked_total". */
static void json_evidence(struct ctx *c, struct jw *w, struct sl_proc *p)
{
	struct ev *v;
	size_t n = evidence(c, p, &v);

	if (!is_leaking(c, p) && p->exited)
		n = 0;  /* what an exit closed is not evidence unless it leaked */
	jw_arr_begin(w, "leaked");
	for (size_t i = 0; i < n && i < LEAKED_JSON; i++) {
		jw_obj_begin(w, NULL);
		jw_u64(w, "fd", v[i].e->k.fd);
		jw_str(w, "kind", fd_kind_name(v[i].e->v.kind));
		json_opt_s(w, "age_s", v[i].age_s);
		jw_str(w, "state", v[i].state ? tcp_state_name(v[i].state) : NULL);
		jw_str(w, "local", v[i].local);
		jw_str(w, "remote", v[i].remote);
		json_opt_s(w, "close_wait_s", v[i].close_wait ? v[i].cw_s : -1);
		jw_bool(w, "closed_by_exit", v[i].by_exit);
		jw_bool(w, "closed_late", v[i].late);
		json_frames(w, site_of(c, v[i].e));
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_u64(w, "leaked_total", n);
	free(v);
}

/* null while the process lives. */
static void json_closed_by_exit(struct ctx *c, struct jw *w, struct sl_proc *p)
{
	if (!p->exited) {
		jw_null(w, "closed_by_exit");
		return;
	}
	jw_obj_begin(w, "closed_by_exit");
	jw_double(w, "at_s", exit_at_s(c, p));
	jw_u64(w, "held", p->held_at_exit);
	jw_u64(w, "close_wait", p->cw_at_exit);
	jw_u64(w, "closed_late", p->late);
	jw_u64(w, "evidence", is_leaking(c, p) ? p->nheld : 0);
	ending_json(w, "ending", &p->now.ending);
	jw_obj_end(w);
}

/* Who the process is: pid, name, cgroups, container. */
static void json_row_identity(struct jw *w, const struct sl_proc *p)
{
	jw_u64(w, "pid", p->tgid);
	jw_str(w, "comm", p->comm);
	jw_str(w, "cgroup", p->cgroup);
	jw_str(w, "cgroup_v2", p->cg_v2);
	jw_str(w, "cgroup_v1_memory", p->cg_v1);
	json_container(w, p);
}

/* Its fds of the kinds in scope: made and closed (over the run, or the
 * interval), alive, and how each was accounted. */
static void json_row_counts(struct ctx *c, struct jw *w, struct sl_proc *p)
{
	uint64_t cr = sl_created(c->t, p), cl = sl_closed(c->t, p);

	if (!c->final) {
		cr -= sl_created_prev(c->t, p);
		cl -= sl_closed_prev(c->t, p);
	}
	jw_str(w, "kind", what(c));
	jw_u64(w, "created", cr);
	jw_u64(w, "closed", cl);
	jw_i64(w, "diff", (int64_t)(cr - cl));
	jw_u64(w, "alive", p->alive);
	jw_u64(w, "alive_old", p->alive_old);
	jw_double(w, "growth_per_s", c->final ? run_growth(c, p) : p->growth);
	jw_u64(w, "close_wait", p->close_wait);
	jw_u64(w, "peak", p->peak);
	jw_u64(w, "baseline", p->baseline);
	jw_u64(w, "closed_baseline", c->final ? sl_closed_pre(p) : sl_closed_pre(p) - sl_closed_pre_prev(p));
	jw_u64(w, "inherited", p->now.inherited);
	jw_u64(w, "closed_at_exit", p->closed_exit);
	jw_u64(w, "closed_on_exec", p->closed_exec);
	jw_u64(w, "reconciled_gone", p->gone);
	jw_u64(w, "reconciled_found", p->found);
	jw_bool(w, "exited", p->exited);
}

/* --kernel-sockets: the kernel's view of the sockets it created. */
static void json_row_kernel(struct jw *w, const struct sl_proc *p)
{
	jw_obj_begin(w, "kernel_sockets");
	jw_u64(w, "created", p->now.sk_born);
	jw_u64(w, "released", p->now.sk_released);
	jw_u64(w, "released_by_other", p->now.sk_released_other);
	jw_u64(w, "freed", p->now.sk_freed);
	jw_u64(w, "allocated", sl_kernel_alive(p));
	jw_u64(w, "without_fd", sl_kernel_no_fd(p));
	jw_obj_end(w);
}

/* --all-fds: open fds against the limit, by kind. */
static void json_row_fds(struct jw *w, const struct sl_proc *p)
{
	jw_u64(w, "fds", p->nfds);
	jw_u64(w, "nofile_limit", p->nofile);
	jw_obj_begin(w, "by_kind");
	for (int k = 0; k < FDK_MAX; k++)
		if (p->by_kind[k])
			jw_u64(w, fd_kind_name(k), p->by_kind[k]);
	jw_obj_end(w);
}

/* The final report's creating call stacks, one per group. */
static void json_row_stacks(struct jw *w, const struct stack_group *g, size_t ng)
{
	jw_arr_begin(w, "stacks");
	for (size_t j = 0; j < ng; j++) {
		jw_obj_begin(w, NULL);
		jw_u64(w, "count", g[j].count);
		jw_str(w, "culprit", group_culprit(&g[j]));
		json_frames(w, g[j].site);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static void json_row(struct ctx *c, struct sl_proc *p, struct stack_group *g, size_t ng)
{
	struct jw w;

	jw_init(&w, stdout);
	jw_obj_begin(&w, NULL);
	jw_str(&w, "type", "process");
	jw_str(&w, "report", c->final ? "final" : "interval");
	json_row_identity(&w, p);
	json_row_counts(c, &w, p);
	json_closed_by_exit(c, &w, p);
	if (c->o->kernel_sockets)
		json_row_kernel(&w, p);
	if (c->o->all_fds)
		json_row_fds(&w, p);
	if (c->final) {
		json_evidence(c, &w, p);
		json_row_stacks(&w, g, ng);
	}
	jw_obj_end(&w);
}

/* --kernel-sockets totals over the rows shown. */
struct ksum {
	uint64_t born, released, released_other, freed, alive, no_fd;
};

static void kernel_sum(struct sl_proc **rows, size_t n, struct ksum *k)
{
	memset(k, 0, sizeof(*k));
	for (size_t i = 0; i < n; i++) {
		k->born += rows[i]->now.sk_born;
		k->released += rows[i]->now.sk_released;
		k->released_other += rows[i]->now.sk_released_other;
		k->freed += rows[i]->now.sk_freed;
		k->alive += sl_kernel_alive(rows[i]);
		k->no_fd += sl_kernel_no_fd(rows[i]);
	}
}

static void print_kernel_sum(struct sl_proc **rows, size_t n)
{
	struct ksum k;

	kernel_sum(rows, n, &k);
	printf("kernel sockets (inet, made by socket() in these processes): %llu created, "
	       "%llu released (%llu by another process), %llu freed; %llu still allocated, "
	       "%llu of them without an fd (orphans closing)\n",
	       (unsigned long long)k.born, (unsigned long long)k.released,
	       (unsigned long long)k.released_other, (unsigned long long)k.freed,
	       (unsigned long long)k.alive, (unsigned long long)k.no_fd);
}

/* Open fds made under call sites whose key was later found to stand for
 * more than one stack: their stack is the first one seen there. */
static uint64_t merged_fds(const struct ctx *c)
{
	uint64_t n = 0;

	for (size_t i = 0; i < c->t->nents; i++) {
		const struct fd_entry *e = &c->t->ents[i];

		n += e->v.site && sl_sites__merged(c->o->sites, e->k.tgid, e->v.site);
	}
	return n;
}

static void json_summary(struct ctx *c, const char *verd, const char *note, size_t nrows,
			 struct sl_proc **rows)
{
	struct jw w;
	struct ksum k;

	jw_init(&w, stdout);
	jw_obj_begin(&w, NULL);
	jw_str(&w, "type", "summary");
	jw_str(&w, "report", c->final ? "final" : "interval");
	jw_double(&w, "elapsed_s", c->elapsed);
	jw_str(&w, "verdict", verd); /* null in interval summaries */
	jw_str(&w, "note", note);    /* exited workers and -c; null otherwise */
	jw_u64(&w, "processes", nrows);
	jw_u64(&w, "tracked", c->t->nents);
	jw_obj_begin(&w, "host_tcp");
	jw_u64(&w, "close_wait", c->s->tcp.states[TCP_ST_CLOSE_WAIT]);
	jw_u64(&w, "time_wait", c->s->tcp.states[TCP_ST_TIME_WAIT]);
	jw_u64(&w, "established", c->s->tcp.states[TCP_ST_ESTABLISHED]);
	jw_u64(&w, "sockstat_inuse", c->s->ss.tcp_inuse);
	jw_u64(&w, "sockstat_orphan", c->s->ss.tcp_orphan);
	jw_u64(&w, "sockstat_tw", c->s->ss.tcp_tw);
	jw_u64(&w, "sockstat_alloc", c->s->ss.tcp_alloc);
	jw_u64(&w, "sockstat_mem_pages", c->s->ss.tcp_mem_pages);
	jw_obj_end(&w);
	if (c->o->kernel_sockets) {
		kernel_sum(rows, nrows, &k);
		jw_obj_begin(&w, "kernel_sockets");
		jw_u64(&w, "created", k.born);
		jw_u64(&w, "released", k.released);
		jw_u64(&w, "released_by_other", k.released_other);
		jw_u64(&w, "freed", k.freed);
		jw_u64(&w, "allocated", k.alive);
		jw_u64(&w, "without_fd", k.no_fd);
		jw_obj_end(&w);
	}
	jw_u64(&w, "reconciled", c->t->reconciled);
	jw_u64(&w, "user_map_full", c->t->map_full);
	jw_u64(&w, "frames_unverified", c->s->frames_unverified);
	jw_drops(&w, "drops", c->o->drops, DROP_KINDS);
	sl_sites__json(c->o->sites, &w, c->o->sites ? merged_fds(c) : 0);
	jw_obj_end(&w);
}

/* ---- entry points ---- */

static void ctx_init(struct ctx *c, const struct sl_snapshot *snap, const struct sl_report_opts *o, bool final)
{
	memset(c, 0, sizeof(*c));
	c->o = o;
	c->s = snap;
	c->t = snap->t;
	c->final = final;
	c->elapsed = snap->elapsed;
}

static void print_footer(const struct ctx *c)
{
	printf("bookkeeping: %llu corrections from /proc, %zu %s tracked",
	       (unsigned long long)c->t->reconciled, c->t->nents, what(c));
	if (c->t->map_full)
		printf(", %llu baseline inserts failed (map full)", (unsigned long long)c->t->map_full);
	if (c->s->frames_unverified)
		printf(", %llu stack frames named module+offset only (binary not opened, or not the "
		       "file mapped)", (unsigned long long)c->s->frames_unverified);
	printf("; ");
	print_drops(stdout, c->o->drops, DROP_KINDS);
	if (c->o->sites)
		sl_sites__print(c->o->sites, merged_fds(c));
	printf("\n");
}

void sl_report_interval(const struct sl_snapshot *snap, const struct sl_report_opts *o)
{
	struct fdtab *t = snap->t;
	struct sl_proc **rows;
	struct ctx c;
	size_t n, shown;
	char tbuf[16];
	time_t now = time(NULL);

	ctx_init(&c, snap, o, false);
	n = select_rows(&c, &rows);
	shown = n < (size_t)o->top ? n : (size_t)o->top;
	if (o->json) {
		for (size_t i = 0; i < shown; i++)
			json_row(&c, rows[i], NULL, 0);
		if (o->by_cgroup)
			json_cgroups(&c, rows, n);
		json_summary(&c, NULL, NULL, n, rows);
	} else {
		strftime(tbuf, sizeof(tbuf), "%H:%M:%S", localtime(&now));
		printf("\n%s  %.1f s  %zu processes, %zu %s tracked; ", tbuf, c.elapsed, n, t->nents, what(&c));
		print_host(&c);
		print_table(&c, rows, n, shown);
		if (n > shown)
			printf("... %zu more processes\n", n - shown);
	}
	fflush(stdout);
	free(rows);
}

void sl_report_final(const struct sl_snapshot *snap, const struct sl_report_opts *o)
{
	struct sl_proc **rows;
	struct stack_group **groups;
	size_t *ngroups, n, shown;
	struct ctx c;
	char *verd, *note;
	bool *leaking;

	ctx_init(&c, snap, o, true);
	n = select_rows(&c, &rows);
	shown = n < (size_t)o->top ? n : (size_t)o->top;
	groups = calloc(shown + 1, sizeof(*groups));
	ngroups = calloc(shown + 1, sizeof(*ngroups));
	leaking = calloc(shown + 1, sizeof(*leaking));
	if (!groups || !ngroups || !leaking)
		abort();
	for (size_t i = 0; i < shown; i++) {
		leaking[i] = is_leaking(&c, rows[i]);
		if (leaking[i] || (o->json && rows[i]->alive_old))
			ngroups[i] = group_stacks(&c, rows[i], &groups[i]);
	}
	verd = verdict(&c, rows, n, shown, groups, ngroups);
	note = exit_note(&c, rows, shown, leaking);
	if (o->json) {
		for (size_t i = 0; i < shown; i++)
			json_row(&c, rows[i], groups[i], ngroups[i]);
		if (o->by_cgroup)
			json_cgroups(&c, rows, n);
		json_summary(&c, verd, note, n, rows);
	} else {
		printf("\n%s\n\n", verd ? verd : "?");
		printf("%s per %s over %.1f s (old: alive > %g s), fastest-growing first:\n",
		       what(&c), o->by_cgroup ? "cgroup" : "process", c.elapsed, o->older_than_s);
		print_table(&c, rows, n, shown);
		if (n > shown)
			printf("... %zu more processes (--top)\n", n - shown);
		for (size_t i = 0; i < shown; i++)
			if (leaking[i])
				print_leaked(&c, rows[i], groups[i], ngroups[i]);
		if (note)
			printf("\n%s\n", note);
		printf("\n");
		print_host(&c);
		if (o->kernel_sockets)
			print_kernel_sum(rows, n);
		print_footer(&c);
	}
	fflush(stdout);
	for (size_t i = 0; i < shown; i++)
		free(groups[i]);
	free(groups);
	free(ngroups);
	free(leaking);
	free(note);
	free(verd);
	free(rows);
}
