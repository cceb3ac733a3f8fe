// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* sockleak's reports: rows chosen and ordered, the top-like table, the
 * leaked sockets of each process and the final report's layout; the JSON
 * twins are sockleak_json.c's, the verdict's words sockleak_verdict.c's.
 * What each process leaked is the collector's (sockleak_leaks.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "array.h"
#include "output.h"
#include "sockleak_sites.h"
#include "sockleak_view.h"

double slv_run_growth(const struct sl_view *c, const struct sl_proc *p)
{
	double span = c->elapsed > 1 ? c->elapsed : 1;

	return ((double)p->alive - (double)p->alive_start) / span;
}

static bool active(const struct sl_view *c, const struct sl_proc *p)
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
	const struct sl_view *c = ctx;
	const struct sl_proc *x = *(const struct sl_proc *const *)a, *y = *(const struct sl_proc *const *)b;
	double gx = c->final ? slv_run_growth(c, x) : x->growth;
	double gy = c->final ? slv_run_growth(c, y) : y->growth;

	if ((x->close_wait > 0) != (y->close_wait > 0) && c->final)
		return x->close_wait ? -1 : 1;
	if (gx != gy)
		return gx > gy ? -1 : 1;
	if (x->alive != y->alive)
		return x->alive > y->alive ? -1 : 1;
	return x->tgid < y->tgid ? -1 : 1;
}

static size_t select_rows(struct sl_view *c, const struct sl_proc ***rows)
{
	size_t n = 0;

	*rows = calloc(c->t->nprocs + 1, sizeof(**rows));
	if (!*rows)
		abort();
	for (size_t i = 0; i < c->t->nprocs; i++) {
		const struct sl_proc *p = &c->t->procs[i];

		if (c->t->o.pid && p->tgid != (uint32_t)c->t->o.pid)
			continue;
		if (!fdtab__in_cgroup(c->t, p) || !active(c, p))
			continue;
		(*rows)[n++] = p;
	}
	qsort_r(*rows, n, sizeof(**rows), cmp_rows, c);
	return n;
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

static void print_header(const struct sl_view *c)
{
	printf("%-8s %-16s %6s %10s %8s %8s %7s %7s %6s %9s %10s", "PID", "COMM", "PRE", "PRE_CLOSED",
	       "CREATED", "CLOSED", "DIFF", "ALIVE", "OLD", "GROWTH/s", "CLOSE_WAIT");
	if (c->o->kernel_sockets)
		printf(" %9s %6s", "IN_KERNEL", "NO_FD");
	if (c->o->all_fds)
		printf(" %13s", "FDS/LIMIT");
	printf("  %s\n", c->o->all_fds ? "CGROUP / KINDS" : "CGROUP");
}

static void print_row(const struct sl_view *c, const struct sl_proc *p)
{
	uint64_t cr = sl_created(c->t, p), cl = sl_closed(c->t, p), pcl = sl_closed_pre(p);
	double growth = c->final ? slv_run_growth(c, p) : p->growth;
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
		printf(" (exited at %.1f s%s, holding %llu: closed by exit)", slv_exit_at_s(c, p),
		       slv_ended_by(p, by), (unsigned long long)p->held_at_exit);
	else if (p->exited)
		printf(" (exited%s)", slv_ended_by(p, by));
	if (c->o->all_fds) {
		kinds_text(kinds, sizeof(kinds), p);
		if (*kinds)
			printf(" [%s]", kinds);
	}
	printf("\n");
}


size_t slv_cgroup_rollup(const struct sl_view *c, const struct sl_proc **rows, size_t n, struct cg_row **out)
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
		g[j].growth += c->final ? slv_run_growth(c, p) : p->growth;
	}
	*out = g;
	return ng;
}

static void print_cgroup_rows(const struct sl_view *c, const struct sl_proc **rows, size_t n)
{
	struct cg_row *g;
	size_t ng = slv_cgroup_rollup(c, rows, n, &g);

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
static void print_table(const struct sl_view *c, const struct sl_proc **rows, size_t n, size_t shown)
{
	if (c->o->by_cgroup) {
		print_cgroup_rows(c, rows, n);
		return;
	}
	print_header(c);
	for (size_t i = 0; i < shown; i++)
		print_row(c, rows[i]);
}

static void print_host(const struct sl_view *c)
{
	printf("host TCP: %llu CLOSE_WAIT, %llu TIME_WAIT, %llu orphans "
	       "(sockstat: inuse %llu orphan %llu tw %llu alloc %llu mem %llu pages; TCP6 inuse %llu)\n",
	       (unsigned long long)c->s->tcp.states[TCP_ST_CLOSE_WAIT],
	       (unsigned long long)c->s->tcp.states[TCP_ST_TIME_WAIT], (unsigned long long)c->s->ss.tcp_orphan,
	       (unsigned long long)c->s->ss.tcp_inuse, (unsigned long long)c->s->ss.tcp_orphan,
	       (unsigned long long)c->s->ss.tcp_tw, (unsigned long long)c->s->ss.tcp_alloc,
	       (unsigned long long)c->s->ss.tcp_mem_pages, (unsigned long long)c->s->ss.tcp6_inuse);
}

static void print_group(const struct sl_view *c, const struct stack_group *g)
{
	char hb[HUMAN_LEN];

	if (g->oldest_set)
		printf("  %llu created at (oldest %s ago):\n", (unsigned long long)g->count,
		       fmt_duration(hb, slv_age_s(c, g->oldest_ns)));
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

static void print_leaked(const struct sl_view *c, const struct sl_proc *p)
{
	char hb[HUMAN_LEN], by[ENDING_TEXT_LEN + 4];
	const struct sl_leaks *l = slv_leaks(c, p);
	const struct ev *v = l->ev;
	size_t n = l->nev, shown = 0;

	printf("\npid %u (", p->tgid);
	print_term(stdout, p->comm, 0);
	if (p->exited)
		printf("): exited at %.1f s%s, holding %llu %s (peak %llu), %llu in CLOSE_WAIT: closed "
		       "by exit%s%s\n", slv_exit_at_s(c, p), slv_ended_by(p, by),
		       (unsigned long long)p->held_at_exit, slv_what(c),
		       (unsigned long long)p->peak, (unsigned long long)p->cw_at_exit, slv_late_text(p),
		       p->late ? " it closed late" : "");
	else
		printf("): %llu %s alive (peak %llu), %llu older than %g s, %llu in CLOSE_WAIT\n",
		       (unsigned long long)p->alive, slv_what(c), (unsigned long long)p->peak,
		       (unsigned long long)p->alive_old, c->o->older_than_s,
		       (unsigned long long)p->close_wait);
	for (size_t j = 0; j < l->ngroups; j++)
		print_group(c, &l->groups[j]);
	for (size_t i = 0; i < n && shown < LEAKED_SHOWN; i++, shown++) {
		if (!shown)
			printf("  %-6s %-12s %9s  %-24s %-24s %s\n", "FD", "STATE",
			       p->exited ? "AGE@EXIT" : "AGE", "LOCAL", "REMOTE", "CLOSE_WAIT FOR");
		printf("  %-6u %-12s %9s  %-24s %-24s ", v[i].e->k.fd,
		       v[i].late ? "CLOSED LATE" : slv_ev_state(&v[i]),
		       v[i].age_s >= 0 ? fmt_duration(hb, v[i].age_s) : "before",
		       v[i].local ? v[i].local : "-", v[i].remote ? v[i].remote : "-");
		if (v[i].close_wait)
			printf("%s", v[i].cw_s >= 0 ? fmt_duration(hb, v[i].cw_s) : "since before start");
		printf("\n");
	}
	if (n > shown)
		printf("  ... %zu more\n", n - shown);
}


void slv_kernel_sum(const struct sl_proc **rows, size_t n, struct ksum *k)
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

static void print_kernel_sum(const struct sl_proc **rows, size_t n)
{
	struct ksum k;

	slv_kernel_sum(rows, n, &k);
	printf("kernel sockets (inet, made by socket() in these processes): %llu created, "
	       "%llu released (%llu by another process), %llu freed; %llu still allocated, "
	       "%llu of them without an fd (orphans closing)\n",
	       (unsigned long long)k.born, (unsigned long long)k.released,
	       (unsigned long long)k.released_other, (unsigned long long)k.freed,
	       (unsigned long long)k.alive, (unsigned long long)k.no_fd);
}

/* Open fds made under call sites whose key was later found to stand for
 * more than one stack: their stack is the first one seen there. */
uint64_t slv_merged_fds(const struct sl_view *c)
{
	uint64_t n = 0;

	for (size_t i = 0; i < c->t->nents; i++) {
		const struct fd_entry *e = &c->t->ents[i];

		n += e->v.site && sl_sites__merged(c->o->sites, e->k.tgid, e->v.site);
	}
	return n;
}

/* ---- entry points ---- */

static void ctx_init(struct sl_view *c, const struct sl_snapshot *snap, const struct sl_report_opts *o, bool final)
{
	memset(c, 0, sizeof(*c));
	c->o = o;
	c->s = snap;
	c->t = snap->t;
	c->final = final;
	c->elapsed = snap->elapsed;
}

static void print_footer(const struct sl_view *c)
{
	printf("bookkeeping: %llu corrections from /proc, %zu %s tracked",
	       (unsigned long long)c->t->reconciled, c->t->nents, slv_what(c));
	if (c->t->map_full)
		printf(", %llu baseline inserts failed (map full)", (unsigned long long)c->t->map_full);
	if (c->s->frames_unverified)
		printf(", %llu stack frames named module+offset only (binary not opened, or not the "
		       "file mapped)", (unsigned long long)c->s->frames_unverified);
	printf("; ");
	print_drops(stdout, c->o->drops, DROP_KINDS);
	if (c->o->sites)
		sl_sites__print(c->o->sites, slv_merged_fds(c));
	printf("\n");
}

void sl_report_interval(const struct sl_snapshot *snap, const struct sl_report_opts *o)
{
	const struct fdtab *t = snap->t;
	const struct sl_proc **rows;
	struct sl_view c;
	size_t n, shown;
	char tbuf[16];
	time_t now = time(NULL);

	ctx_init(&c, snap, o, false);
	n = select_rows(&c, &rows);
	shown = n < (size_t)o->top ? n : (size_t)o->top;
	if (o->json) {
		for (size_t i = 0; i < shown; i++)
			slv_json_row(&c, rows[i]);
		if (o->by_cgroup)
			slv_json_cgroups(&c, rows, n);
		slv_json_summary(&c, NULL, NULL, n, rows);
	} else {
		strftime(tbuf, sizeof(tbuf), "%H:%M:%S", localtime(&now));
		printf("\n%s  %.1f s  %zu processes, %zu %s tracked; ", tbuf, c.elapsed, n, t->nents, slv_what(&c));
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
	const struct sl_proc **rows;
	size_t n, shown;
	struct sl_view c;
	char *verd, *note;

	ctx_init(&c, snap, o, true);
	n = select_rows(&c, &rows);
	shown = n < (size_t)o->top ? n : (size_t)o->top;
	verd = slv_verdict(&c, rows, n, shown);
	note = slv_exit_note(&c, rows, shown);
	if (o->json) {
		for (size_t i = 0; i < shown; i++)
			slv_json_row(&c, rows[i]);
		if (o->by_cgroup)
			slv_json_cgroups(&c, rows, n);
		slv_json_summary(&c, verd, note, n, rows);
	} else {
		printf("\n%s\n\n", verd ? verd : "?");
		printf("%s per %s over %.1f s (old: alive > %g s), fastest-growing first:\n",
		       slv_what(&c), o->by_cgroup ? "cgroup" : "process", c.elapsed, o->older_than_s);
		print_table(&c, rows, n, shown);
		if (n > shown)
			printf("... %zu more processes (--top)\n", n - shown);
		for (size_t i = 0; i < shown; i++)
			if (slv_leaks(&c, rows[i])->leaking)
				print_leaked(&c, rows[i]);
		if (note)
			printf("\n%s\n", note);
		printf("\n");
		print_host(&c);
		if (o->kernel_sockets)
			print_kernel_sum(rows, n);
		print_footer(&c);
	}
	fflush(stdout);
	free(note);
	free(verd);
	free(rows);
}
