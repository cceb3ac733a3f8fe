// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What a process leaked: its evidence (live fds leaked, fds held until
 * its end), whether it leaks, and the evidence grouped by creating call
 * site. Derived once per refresh by the collector; the views only read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "array.h"
#include "stackgroup.h"
#include "sockleak_collect.h"
#include "sockleak_leaks.h"

static const struct tcp_row *tcp_of(const struct sl_leaks_in *in, const struct fd_info *v)
{
	return v->kind == FDK_SOCKET ? tcp_table_find(in->tcp, v->ino) : NULL;
}

bool sl_fd_leaked(const struct sl_leaks_in *in, const struct fd_info *v)
{
	const struct tcp_row *r = tcp_of(in, v);

	if (r && r->state == TCP_ST_CLOSE_WAIT)
		return true;
	if (r && r->state == TCP_ST_LISTEN)
		return false; /* long-lived by design */
	return v->ts_ns && in->t->now_ns - v->ts_ns >= (uint64_t)(in->older_than_s * 1e9);
}

/* ---- evidence: live fds that leaked, and fds held until the exit ---- */

static double age_s(const struct sl_leaks_in *in, uint64_t ts)
{
	return ts ? (in->t->now_ns - ts) / 1e9 : -1;
}

static void fmt_addr(char *buf, int family, const uint8_t *addr, uint16_t port)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr, a, sizeof(a));
	snprintf(buf, ADDR_LEN, family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, port);
}

static void ev_live(const struct sl_leaks_in *in, const struct fd_entry *e, struct ev *v)
{
	const struct tcp_row *r = tcp_of(in, &e->v);
	uint64_t since;

	memset(v, 0, sizeof(*v));
	v->e = e;
	v->state = r ? r->state : 0;
	v->local = r ? r->local : NULL;
	v->remote = r ? r->remote : NULL;
	v->age_s = age_s(in, e->v.ts_ns);
	v->close_wait = v->state == TCP_ST_CLOSE_WAIT;
	since = v->close_wait ? sl_cw_since(in->s, &e->v) : 0;
	v->cw_s = since ? age_s(in, since) : -1;
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
static size_t evidence(const struct sl_leaks_in *in, const struct sl_proc *p, struct ev **out)
{
	size_t n, k = 0;
	const struct fd_entry *e = fdtab__entries(in->t, p->tgid, &n);
	struct ev *v = calloc(n + p->nheld + 1, sizeof(*v));

	if (!v)
		abort();
	for (size_t i = 0; i < n; i++)
		if (sl_fd_leaked(in, &e[i].v))
			ev_live(in, &e[i], &v[k++]);
	/* What it held until the end: evidence once it is gone. */
	for (size_t i = 0; p->exited && i < p->nheld; i++)
		ev_held(p, &p->held[i], &v[k++]);
	*out = v;
	return k;
}

/* ---- whether it leaks ---- */

static uint64_t held_close_wait(const struct sl_proc *p)
{
	uint64_t k = 0;

	for (size_t i = 0; i < p->nheld; i++)
		k += p->held[i].have_x && p->held[i].x.state == TCP_ST_CLOSE_WAIT;
	return k;
}

/* A process that exited leaked if it held, until the exit closed them,
 * sockets in CLOSE_WAIT or old ones while its count had grown; a live one
 * if it keeps CLOSE_WAIT sockets, or old ones while its count grew. */
static bool is_leaking(const struct sl_proc *p, size_t live_evidence)
{
	if (p->exited)
		return p->nheld && (held_close_wait(p) || p->held_at_exit > p->alive_start);
	return p->close_wait > 0 || (live_evidence > 0 && p->alive > p->alive_start);
}

/* ---- stacks ---- */

const struct sl_site *sl_site_of(struct sl_sites *sites, const struct fd_entry *e)
{
	if (!e->v.site || !sites)
		return NULL;
	return sl_sites__get(sites, e->k.tgid, e->v.site, e->v.stack_id, e->v.caller, e->v.interp);
}

const char *sl_group_culprit(const struct stack_group *g)
{
	return g->site->culprit >= 0 ? g->site->frames[g->site->culprit] : NULL;
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

/* Evidence grouped by creating call site, largest first. The groups
 * point at sites owned by the sites table. */
static size_t group_sites(struct sl_sites *sites, const struct ev *v, size_t n, struct stack_group **out)
{
	size_t ng = 0, cap = 0, *by_id = NULL;
	struct stack_group *g = calloc(n + 1, sizeof(*g));
	struct stack_groups *sg = stack_groups__new();

	if (!g || !sg)
		abort();
	for (size_t i = 0; i < n; i++) {
		const struct sl_site *st = sl_site_of(sites, v[i].e);
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
	free(by_id);
	stack_groups__free(sg);
	qsort(g, ng, sizeof(*g), cmp_group);
	*out = g;
	return ng < LEAK_SITES_KEPT ? ng : LEAK_SITES_KEPT;
}

void sl_leaks_fill(const struct sl_leaks_in *in, const struct sl_proc *p, struct sl_leaks *out)
{
	size_t live;

	memset(out, 0, sizeof(*out));
	out->nev = evidence(in, p, &out->ev);
	live = p->exited ? 0 : out->nev;
	out->leaking = is_leaking(p, live);
	if (p->exited && !out->leaking)
		out->nev = 0;   /* what an exit closed is not evidence unless it leaked */
	if (in->want_sites && in->sites && (out->leaking || p->alive_old))
		out->ngroups = group_sites(in->sites, out->ev, out->nev, &out->groups);
}

void sl_leaks_free(struct sl_leaks *l)
{
	free(l->ev);
	free(l->groups);
	memset(l, 0, sizeof(*l));
}
