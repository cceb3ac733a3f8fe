// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#include "output.h"
#include "procfs.h"
#include "sockleak_report.h"
#include "sockleak_tcp.h"
#include "symbolize.h"

#define MAX_FRAMES 24
#define LEAKED_SHOWN 20   /* text: leaked sockets listed per process */
#define LEAKED_JSON 100   /* json: leaked sockets listed per process */
#define STACKS_SHOWN 5

/* Everything a report needs besides the fd table, read once per report. */
struct ctx {
	const struct sl_report_opts *o;
	struct fdtab *t;
	struct tcp_table tcp;
	struct sockstat ss;
	struct cw_ent { uint64_t key; uint64_t ts; } *by_sk, *by_ino;
	size_t ncw;
	double elapsed;
	bool final;
};

static int cmp_cw(const void *a, const void *b)
{
	uint64_t x = ((const struct cw_ent *)a)->key, y = ((const struct cw_ent *)b)->key;

	return x < y ? -1 : x > y;
}

static void load_closewait(struct ctx *c)
{
	__u64 key, next, *prev = NULL;
	struct cw_info v;
	size_t cap = 0;

	while (!bpf_map_get_next_key(c->o->cw_map, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(c->o->cw_map, &key, &v))
			continue;
		if (c->ncw == cap) {
			cap = cap ? cap * 2 : 256;
			c->by_sk = realloc(c->by_sk, cap * sizeof(*c->by_sk));
			c->by_ino = realloc(c->by_ino, cap * sizeof(*c->by_ino));
			if (!c->by_sk || !c->by_ino)
				abort();
		}
		c->by_sk[c->ncw] = (struct cw_ent){ key, v.ts_ns };
		c->by_ino[c->ncw] = (struct cw_ent){ v.ino, v.ts_ns };
		c->ncw++;
	}
	qsort(c->by_sk, c->ncw, sizeof(*c->by_sk), cmp_cw);
	qsort(c->by_ino, c->ncw, sizeof(*c->by_ino), cmp_cw);
}

/* When the socket entered CLOSE_WAIT (0: before we started). */
static uint64_t cw_since(const struct ctx *c, const struct fd_info *v)
{
	struct cw_ent key = { .key = v->sk }, *e = NULL;

	if (v->sk)
		e = bsearch(&key, c->by_sk, c->ncw, sizeof(key), cmp_cw);
	if (!e && v->ino) {
		key.key = v->ino;
		e = bsearch(&key, c->by_ino, c->ncw, sizeof(key), cmp_cw);
	}
	return e ? e->ts : 0;
}

static const struct tcp_row *tcp_of(const struct ctx *c, const struct fd_info *v)
{
	return v->kind == FDK_SOCKET ? tcp_table_find(&c->tcp, v->ino) : NULL;
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
static struct ctx *g_sort_ctx;
static int cmp_rows(const void *a, const void *b)
{
	const struct sl_proc *x = *(struct sl_proc *const *)a, *y = *(struct sl_proc *const *)b;
	double gx = g_sort_ctx->final ? run_growth(g_sort_ctx, x) : x->growth;
	double gy = g_sort_ctx->final ? run_growth(g_sort_ctx, y) : y->growth;

	if ((x->close_wait > 0) != (y->close_wait > 0) && g_sort_ctx->final)
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
	g_sort_ctx = c;
	qsort(*rows, n, sizeof(**rows), cmp_rows);
	return n;
}

/* ---- stacks ---- */

struct stack_group {
	int32_t stack_id;
	uint64_t caller;
	uint64_t count, oldest_ns;
	char **frames;
	int nframes;
	int culprit;         /* index of the first frame outside libc */
};

static bool libc_frame(const struct frame *f)
{
	static const char *const mods[] = { "libc.so", "libc-", "ld-linux", "libpthread", NULL };

	for (int i = 0; f->module && mods[i]; i++)
		if (!strncmp(f->module, mods[i], strlen(mods[i])))
			return true;
	return false;
}

/* Resolve addr (a return address unless first) and append its frames. */
static void add_addr(struct symbolizer *sym, uint64_t addr, bool ret, struct stack_group *g,
		     bool *culprit_set, bool need_module)
{
	struct frame fr[4];
	int n = symbolizer__resolve(sym, ret ? addr - 1 : addr, fr, 4);

	if (need_module && !fr[n - 1].module)
		n = 0; /* not mapped: a broken chain or a stray word */
	for (int i = 0; i < n; i++) {
		if (g->nframes < MAX_FRAMES) {
			if (!*culprit_set && !libc_frame(&fr[i])) {
				g->culprit = g->nframes;
				*culprit_set = true;
			}
			g->frames[g->nframes++] = frame_format(&fr[i]);
		}
		frame_clear(&fr[i]);
	}
}

static void symbolize_group(struct ctx *c, struct symbolizer *sym, struct stack_group *g)
{
	uint64_t ips[SL_MAX_STACK_DEPTH] = {};
	bool culprit_set = false;
	int nips = 0;

	g->frames = calloc(MAX_FRAMES, sizeof(char *));
	if (!g->frames)
		abort();
	g->culprit = -1;
	if (g->stack_id >= 0 && !bpf_map_lookup_elem(c->o->stacks_map, &g->stack_id, ips))
		while (nips < SL_MAX_STACK_DEPTH && ips[nips])
			nips++;
	if (!sym)
		return;
	if (nips)
		add_addr(sym, ips[0], false, g, &culprit_set, false);
	/* The caller of a leaf syscall wrapper, missing from the walk. */
	if (g->caller && (nips < 2 || ips[1] != g->caller))
		add_addr(sym, g->caller, true, g, &culprit_set, true);
	for (int i = 1; i < nips; i++)
		add_addr(sym, ips[i], true, g, &culprit_set, true);
}

static void free_groups(struct stack_group *g, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (int j = 0; j < g[i].nframes; j++)
			free(g[i].frames[j]);
		free(g[i].frames);
	}
	free(g);
}

static int cmp_group(const void *a, const void *b)
{
	const struct stack_group *x = a, *y = b;

	return x->count != y->count ? (x->count > y->count ? -1 : 1) : 0;
}

/* Leaked sockets of a process grouped by creating stack, largest first. */
static size_t group_stacks(struct ctx *c, struct sl_proc *p, struct stack_group **out)
{
	size_t n, ng = 0;
	const struct fd_entry *e = fdtab__entries(c->t, p->tgid, &n);
	struct stack_group *g = calloc(n + 1, sizeof(*g));
	struct symbolizer *sym;

	if (!g)
		abort();
	for (size_t i = 0; i < n; i++) {
		size_t j;

		if (!leaked(c, &e[i].v) || e[i].v.stack_id < 0)
			continue;
		for (j = 0; j < ng; j++)
			if (g[j].stack_id == e[i].v.stack_id && g[j].caller == e[i].v.caller)
				break;
		if (j == ng)
			g[ng++] = (struct stack_group){ .stack_id = e[i].v.stack_id, .caller = e[i].v.caller,
							.oldest_ns = e[i].v.ts_ns };
		g[j].count++;
		if (e[i].v.ts_ns < g[j].oldest_ns)
			g[j].oldest_ns = e[i].v.ts_ns;
	}
	qsort(g, ng, sizeof(*g), cmp_group);
	if (ng > STACKS_SHOWN)
		ng = STACKS_SHOWN;
	sym = ng ? symbolizer__new(p->tgid) : NULL;
	for (size_t j = 0; j < ng; j++)
		symbolize_group(c, sym, &g[j]);
	symbolizer__free(sym);
	*out = g;
	return ng;
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

static bool is_leaking(struct ctx *c, struct sl_proc *p)
{
	if (p->exited)
		return false;
	return p->close_wait > 0 || (count_leaked(c, p) > 0 && p->alive > p->alive_start);
}

static const char *what(const struct ctx *c)
{
	return c->o->all_fds ? "fds" : "sockets";
}

static char *verdict(struct ctx *c, struct sl_proc **rows, size_t n, size_t shown,
		     struct stack_group **groups, size_t *ngroups)
{
	char *s = NULL, *comm, *where = NULL;
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
	if (ngroups[i] && groups[i][0].culprit >= 0)
		where = term_escape(groups[i][0].frames[groups[i][0].culprit]);
	r = asprintf(&s, "pid %u (%s) leaks %s: %+.1f/s, %llu alive, %llu in CLOSE_WAIT%s%s",
		     p->tgid, comm, what(c), run_growth(c, p),
		     (unsigned long long)p->alive, (unsigned long long)p->close_wait,
		     where ? "; leaked from " : "", where ? where : "");
	free(comm);
	free(where);
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
	char kinds[256];

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
	if (p->exited)
		printf(" (exited)");
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
	       (unsigned long long)c->tcp.states[TCP_ST_CLOSE_WAIT],
	       (unsigned long long)c->tcp.states[TCP_ST_TIME_WAIT], (unsigned long long)c->ss.tcp_orphan,
	       (unsigned long long)c->ss.tcp_inuse, (unsigned long long)c->ss.tcp_orphan,
	       (unsigned long long)c->ss.tcp_tw, (unsigned long long)c->ss.tcp_alloc,
	       (unsigned long long)c->ss.tcp_mem_pages, (unsigned long long)c->ss.tcp6_inuse);
}

static double age_s(const struct ctx *c, uint64_t ts)
{
	return ts ? (c->t->now_ns - ts) / 1e9 : -1;
}

static void print_leaked(struct ctx *c, struct sl_proc *p, struct stack_group *g, size_t ng)
{
	char hb[HUMAN_LEN];
	size_t n, shown = 0, total = 0;
	const struct fd_entry *e = fdtab__entries(c->t, p->tgid, &n);

	printf("\npid %u (", p->tgid);
	print_term(stdout, p->comm, 0);
	printf("): %llu %s alive, %llu older than %g s, %llu in CLOSE_WAIT\n",
	       (unsigned long long)p->alive, what(c), (unsigned long long)p->alive_old,
	       c->o->older_than_s, (unsigned long long)p->close_wait);
	for (size_t j = 0; j < ng; j++) {
		printf("  %llu created at (oldest %s ago):\n", (unsigned long long)g[j].count,
		       fmt_duration(hb, age_s(c, g[j].oldest_ns)));
		for (int k = 0; k < g[j].nframes; k++) {
			printf("      ");
			print_term(stdout, g[j].frames[k], 0);
			printf("\n");
		}
		if (!g[j].nframes)
			printf("      (stack %d: not symbolized)\n", g[j].stack_id);
	}
	for (size_t i = 0; i < n; i++) {
		const struct tcp_row *r = tcp_of(c, &e[i].v);

		if (!leaked(c, &e[i].v))
			continue;
		if (total++ >= LEAKED_SHOWN)
			continue;
		if (!shown++)
			printf("  %-6s %-12s %9s  %-24s %-24s %s\n", "FD", "STATE", "AGE", "LOCAL", "REMOTE",
			       "CLOSE_WAIT FOR");
		printf("  %-6u %-12s %9s  %-24s %-24s ", e[i].k.fd,
		       r ? tcp_state_name(r->state) : fd_kind_name(e[i].v.kind),
		       e[i].v.ts_ns ? fmt_duration(hb, age_s(c, e[i].v.ts_ns)) : "before",
		       r ? r->local : "-", r ? r->remote : "-");
		if (r && r->state == TCP_ST_CLOSE_WAIT) {
			uint64_t since = cw_since(c, &e[i].v);

			printf("%s", since ? fmt_duration(hb, age_s(c, since)) : "since before start");
		}
		printf("\n");
	}
	if (total > shown)
		printf("  ... %zu more\n", total - shown);
}

/* ---- json ---- */

static void json_row(struct ctx *c, struct sl_proc *p, struct stack_group *g, size_t ng)
{
	uint64_t cr = sl_created(c->t, p), cl = sl_closed(c->t, p);
	size_t n, total = 0;
	const struct fd_entry *e = fdtab__entries(c->t, p->tgid, &n);
	struct jw w;

	if (!c->final) {
		cr -= sl_created_prev(c->t, p);
		cl -= sl_closed_prev(c->t, p);
	}
	jw_init(&w, stdout);
	jw_obj_begin(&w, NULL);
	jw_str(&w, "type", "process");
	jw_str(&w, "report", c->final ? "final" : "interval");
	jw_u64(&w, "pid", p->tgid);
	jw_str(&w, "comm", p->comm);
	jw_str(&w, "cgroup", p->cgroup);
	jw_str(&w, "cgroup_v2", p->cg_v2);
	jw_str(&w, "cgroup_v1_memory", p->cg_v1);
	json_container(&w, p);
	jw_str(&w, "kind", what(c));
	jw_u64(&w, "created", cr);
	jw_u64(&w, "closed", cl);
	jw_i64(&w, "diff", (int64_t)(cr - cl));
	jw_u64(&w, "alive", p->alive);
	jw_u64(&w, "alive_old", p->alive_old);
	jw_double(&w, "growth_per_s", c->final ? run_growth(c, p) : p->growth);
	jw_u64(&w, "close_wait", p->close_wait);
	jw_u64(&w, "baseline", p->baseline);
	jw_u64(&w, "closed_baseline", c->final ? sl_closed_pre(p) : sl_closed_pre(p) - sl_closed_pre_prev(p));
	jw_u64(&w, "inherited", p->now.inherited);
	jw_u64(&w, "closed_at_exit", p->closed_exit);
	jw_u64(&w, "closed_on_exec", p->closed_exec);
	jw_u64(&w, "reconciled_gone", p->gone);
	jw_u64(&w, "reconciled_found", p->found);
	jw_bool(&w, "exited", p->exited);
	if (c->o->kernel_sockets) {
		jw_obj_begin(&w, "kernel_sockets");
		jw_u64(&w, "created", p->now.sk_born);
		jw_u64(&w, "released", p->now.sk_released);
		jw_u64(&w, "released_by_other", p->now.sk_released_other);
		jw_u64(&w, "freed", p->now.sk_freed);
		jw_u64(&w, "allocated", sl_kernel_alive(p));
		jw_u64(&w, "without_fd", sl_kernel_no_fd(p));
		jw_obj_end(&w);
	}
	if (c->o->all_fds) {
		jw_u64(&w, "fds", p->nfds);
		jw_u64(&w, "nofile_limit", p->nofile);
		jw_obj_begin(&w, "by_kind");
		for (int k = 0; k < FDK_MAX; k++)
			if (p->by_kind[k])
				jw_u64(&w, fd_kind_name(k), p->by_kind[k]);
		jw_obj_end(&w);
	}
	if (c->final) {
		jw_arr_begin(&w, "leaked");
		for (size_t i = 0; i < n; i++) {
			const struct tcp_row *r = tcp_of(c, &e[i].v);

			if (!leaked(c, &e[i].v) || total++ >= LEAKED_JSON)
				continue;
			jw_obj_begin(&w, NULL);
			jw_u64(&w, "fd", e[i].k.fd);
			jw_str(&w, "kind", fd_kind_name(e[i].v.kind));
			if (e[i].v.ts_ns)
				jw_double(&w, "age_s", age_s(c, e[i].v.ts_ns));
			else
				jw_null(&w, "age_s");
			jw_str(&w, "state", r ? tcp_state_name(r->state) : NULL);
			jw_str(&w, "local", r ? r->local : NULL);
			jw_str(&w, "remote", r ? r->remote : NULL);
			uint64_t since = r && r->state == TCP_ST_CLOSE_WAIT ? cw_since(c, &e[i].v) : 0;

			if (since)
				jw_double(&w, "close_wait_s", age_s(c, since));
			else
				jw_null(&w, "close_wait_s");
			jw_arr_begin(&w, "frames");
			for (size_t j = 0; j < ng; j++)
				if (g[j].stack_id == e[i].v.stack_id && g[j].caller == e[i].v.caller)
					for (int k = 0; k < g[j].nframes; k++)
						jw_str(&w, NULL, g[j].frames[k]);
			jw_arr_end(&w);
			jw_obj_end(&w);
		}
		jw_arr_end(&w);
		jw_u64(&w, "leaked_total", total);
		jw_arr_begin(&w, "stacks");
		for (size_t j = 0; j < ng; j++) {
			jw_obj_begin(&w, NULL);
			jw_u64(&w, "count", g[j].count);
			jw_str(&w, "culprit", g[j].culprit >= 0 ? g[j].frames[g[j].culprit] : NULL);
			jw_arr_begin(&w, "frames");
			for (int k = 0; k < g[j].nframes; k++)
				jw_str(&w, NULL, g[j].frames[k]);
			jw_arr_end(&w);
			jw_obj_end(&w);
		}
		jw_arr_end(&w);
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

static void json_summary(struct ctx *c, const char *verd, size_t nrows, struct sl_proc **rows)
{
	struct jw w;
	struct ksum k;

	jw_init(&w, stdout);
	jw_obj_begin(&w, NULL);
	jw_str(&w, "type", "summary");
	jw_str(&w, "report", c->final ? "final" : "interval");
	jw_double(&w, "elapsed_s", c->elapsed);
	jw_str(&w, "verdict", verd); /* null in interval summaries */
	jw_u64(&w, "processes", nrows);
	jw_u64(&w, "tracked", c->t->nents);
	jw_obj_begin(&w, "host_tcp");
	jw_u64(&w, "close_wait", c->tcp.states[TCP_ST_CLOSE_WAIT]);
	jw_u64(&w, "time_wait", c->tcp.states[TCP_ST_TIME_WAIT]);
	jw_u64(&w, "established", c->tcp.states[TCP_ST_ESTABLISHED]);
	jw_u64(&w, "sockstat_inuse", c->ss.tcp_inuse);
	jw_u64(&w, "sockstat_orphan", c->ss.tcp_orphan);
	jw_u64(&w, "sockstat_tw", c->ss.tcp_tw);
	jw_u64(&w, "sockstat_alloc", c->ss.tcp_alloc);
	jw_u64(&w, "sockstat_mem_pages", c->ss.tcp_mem_pages);
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
	jw_drops(&w, "drops", c->o->drops, DROP_KINDS);
	jw_obj_end(&w);
}

/* ---- entry points ---- */

static void ctx_init(struct ctx *c, struct fdtab *t, const struct sl_report_opts *o, bool final)
{
	memset(c, 0, sizeof(*c));
	c->o = o;
	c->t = t;
	c->final = final;
	c->elapsed = (t->now_ns - t->start_ns) / 1e9;
	fdtab__refresh(t);
	c->elapsed = (t->now_ns - t->start_ns) / 1e9;
	if (tcp_table_load(&c->tcp))
		memset(&c->tcp, 0, sizeof(c->tcp));
	sockstat_read(&c->ss);
	load_closewait(c);
}

static void ctx_free(struct ctx *c)
{
	tcp_table_free(&c->tcp);
	free(c->by_sk);
	free(c->by_ino);
}

static void print_footer(const struct ctx *c)
{
	printf("bookkeeping: %llu corrections from /proc, %zu %s tracked",
	       (unsigned long long)c->t->reconciled, c->t->nents, what(c));
	if (c->t->map_full)
		printf(", %llu baseline inserts failed (map full)", (unsigned long long)c->t->map_full);
	printf("; ");
	print_drops(stdout, c->o->drops, DROP_KINDS);
	printf("\n");
}

void sl_report_interval(struct fdtab *t, const struct sl_report_opts *o)
{
	struct sl_proc **rows;
	struct ctx c;
	size_t n, shown;
	char tbuf[16];
	time_t now = time(NULL);

	ctx_init(&c, t, o, false);
	n = select_rows(&c, &rows);
	shown = n < (size_t)o->top ? n : (size_t)o->top;
	if (o->json) {
		for (size_t i = 0; i < shown; i++)
			json_row(&c, rows[i], NULL, 0);
		if (o->by_cgroup)
			json_cgroups(&c, rows, n);
		json_summary(&c, NULL, n, rows);
	} else {
		strftime(tbuf, sizeof(tbuf), "%H:%M:%S", localtime(&now));
		printf("\n%s  %.1f s  %zu processes, %zu %s tracked; ", tbuf, c.elapsed, n, t->nents, what(&c));
		print_host(&c);
		if (o->by_cgroup)
			print_cgroup_rows(&c, rows, n);
		else {
			print_header(&c);
			for (size_t i = 0; i < shown; i++)
				print_row(&c, rows[i]);
		}
		if (n > shown)
			printf("... %zu more processes\n", n - shown);
	}
	fflush(stdout);
	free(rows);
	ctx_free(&c);
}

void sl_report_final(struct fdtab *t, const struct sl_report_opts *o)
{
	struct sl_proc **rows;
	struct stack_group **groups;
	size_t *ngroups, n, shown;
	struct ctx c;
	char *verd;

	ctx_init(&c, t, o, true);
	n = select_rows(&c, &rows);
	shown = n < (size_t)o->top ? n : (size_t)o->top;
	groups = calloc(shown + 1, sizeof(*groups));
	ngroups = calloc(shown + 1, sizeof(*ngroups));
	if (!groups || !ngroups)
		abort();
	for (size_t i = 0; i < shown; i++)
		if (is_leaking(&c, rows[i]) || (o->json && rows[i]->alive_old))
			ngroups[i] = group_stacks(&c, rows[i], &groups[i]);
	verd = verdict(&c, rows, n, shown, groups, ngroups);
	if (o->json) {
		for (size_t i = 0; i < shown; i++)
			json_row(&c, rows[i], groups[i], ngroups[i]);
		if (o->by_cgroup)
			json_cgroups(&c, rows, n);
		json_summary(&c, verd, n, rows);
	} else {
		printf("\n%s\n\n", verd ? verd : "?");
		printf("%s per process over %.1f s (old: alive > %g s), fastest-growing first:\n",
		       what(&c), c.elapsed, o->older_than_s);
		if (o->by_cgroup)
			print_cgroup_rows(&c, rows, n);
		else {
			print_header(&c);
			for (size_t i = 0; i < shown; i++)
				print_row(&c, rows[i]);
		}
		if (n > shown)
			printf("... %zu more processes (--top)\n", n - shown);
		for (size_t i = 0; i < shown; i++)
			if (is_leaking(&c, rows[i]))
				print_leaked(&c, rows[i], groups[i], ngroups[i]);
		printf("\n");
		print_host(&c);
		if (o->kernel_sockets)
			print_kernel_sum(rows, n);
		print_footer(&c);
	}
	fflush(stdout);
	for (size_t i = 0; i < shown; i++)
		free_groups(groups[i], ngroups[i]);
	free(groups);
	free(ngroups);
	free(verd);
	free(rows);
	ctx_free(&c);
}
