// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Lead-up sampler of memory cgroups with a limit. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "array.h"
#include "cgroup.h"
#include "memstat.h"
#include "oom_leadup.h"
#include "procfs.h"

struct leadup {
	struct leadup_opts o;
	char *mount, *subtree;
	struct leadup_cg **cgs;
	size_t n, cap;
	bool initial_done;   /* cgroups found later were born after start */
};

int memcg_oom_kill_local(const char *dir, int version, uint64_t *val)
{
	struct mem_events ev;
	/* v1 counts a kill only in the victim's own memcg; v2's memory.events
	 * is hierarchical, memory.events.local (5.2+) is not. */
	char *buf = memcg_file_read(dir, version == 1 ? "memory.oom_control" : "memory.events.local");

	if (!buf && version == 2)
		buf = memcg_file_read(dir, "memory.events");
	if (!buf)
		return -ENOENT;
	mem_events_parse(buf, &ev);
	free(buf);
	if (!ev.have)
		return -EINVAL;
	*val = ev.oom_kill;
	return 0;
}

struct leadup *leadup__new(const struct leadup_opts *o)
{
	struct leadup *l = calloc(1, sizeof(*l));

	if (!l || !(l->mount = strdup(o->mount)))
		abort();
	l->o = *o;
	if (l->o.interval_s <= 0)
		l->o.interval_s = LEADUP_DEFAULT_INTERVAL_S;
	if (l->o.window_s <= 0)
		l->o.window_s = LEADUP_DEFAULT_WINDOW_S;
	if (o->subtree && !(l->subtree = strdup(o->subtree)))
		abort();
	return l;
}

static void cg_free(struct leadup_cg *cg)
{
	if (!cg)
		return;
	free(cg->rel);
	free(cg->dir);
	free(cg->ring);
	free(cg);
}

void leadup__free(struct leadup *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		cg_free(l->cgs[i]);
	free(l->cgs);
	free(l->mount);
	free(l->subtree);
	free(l);
}

struct leadup_cg *leadup__find(struct leadup *l, uint64_t id)
{
	for (size_t i = 0; id && i < l->n; i++)
		if (l->cgs[i]->id == id)
			return l->cgs[i];
	return NULL;
}

struct leadup_cg *leadup__at(struct leadup *l, size_t i)
{
	return i < l->n ? l->cgs[i] : NULL;
}

const struct leadup_sample *leadup_cg_sample(const struct leadup_cg *cg, size_t back)
{
	if (back >= cg->ring_n)
		return NULL;
	return &cg->ring[(cg->ring_head + cg->ring_cap - 1 - back) % cg->ring_cap];
}

static struct leadup_cg *cg_add(struct leadup *l, uint64_t id, const char *dir, const char *rel)
{
	struct leadup_cg *cg = calloc(1, sizeof(*cg));

	if (!cg || !(cg->dir = strdup(dir)) || !(cg->rel = strdup(rel && *rel ? rel : "/")))
		abort();
	cg->id = id;
	/* A cgroup that did not exist at start began with no kills. */
	if (!l->initial_done)
		memcg_oom_kill_local(dir, l->o.version, &cg->oom_kill_base);
	cg->oom_kill_last = cg->ev_oom_kill = cg->oom_kill_base;
	ARRAY_GROW(l->cgs, l->n, l->cap, 32);
	l->cgs[l->n++] = cg;
	return cg;
}

static void ring_push(const struct leadup *l, struct leadup_cg *cg, const struct leadup_sample *s)
{
	if (!cg->ring) {
		cg->ring_cap = l->o.window_s / l->o.interval_s + 1;
		if (!(cg->ring = calloc(cg->ring_cap, sizeof(*cg->ring))))
			abort();
	}
	cg->ring[cg->ring_head] = *s;
	cg->ring_head = (cg->ring_head + 1) % cg->ring_cap;
	if (cg->ring_n < cg->ring_cap)
		cg->ring_n++;
}

static void top_consider(struct leadup_cg *cg, pid_t pid)
{
	struct proc_status st;

	if (proc_status(pid, &st) < 0 || !st.vm_rss)
		return;
	for (int i = 0; i < cg->ntop; i++)
		if (cg->top[i].pid == pid)
			return;
	/* Insertion into the small sorted array, largest first. */
	int pos = cg->ntop, last = cg->ntop < LEADUP_TOP_PROCS ? cg->ntop : LEADUP_TOP_PROCS - 1;

	while (pos > 0 && cg->top[pos - 1].rss < st.vm_rss)
		pos--;
	if (pos >= LEADUP_TOP_PROCS)
		return;
	memmove(&cg->top[pos + 1], &cg->top[pos], (last - pos) * sizeof(cg->top[0]));
	cg->top[pos].pid = pid;
	cg->top[pos].rss = st.vm_rss;
	snprintf(cg->top[pos].comm, sizeof(cg->top[pos].comm), "%s", st.name);
	if (cg->ntop < LEADUP_TOP_PROCS)
		cg->ntop++;
}

static void top_visit(const char *dir, int depth, void *cg)
{
	pid_t *pids = NULL;
	int n = cgroup_pids(dir, &pids);

	(void)depth;
	for (int i = 0; i < n; i++)
		top_consider(cg, pids[i]);
	free(pids);
}

static void sample(struct leadup *l, struct leadup_cg *cg)
{
	struct leadup_sample s = { .t = wall_time() };
	bool v1 = l->o.version == 1;
	struct mem_events ev;
	struct memstat ms = { 0 };
	char *buf;

	memcg_file_limit(cg->dir, v1 ? "memory.limit_in_bytes" : "memory.max", &s.limit);
	cg->limited = s.limit != MEM_UNLIMITED && s.limit != 0;
	if (!cg->limited)
		return;
	memcg_file_u64(cg->dir, v1 ? "memory.usage_in_bytes" : "memory.current", &s.usage);
	memcg_oom_kill_local(cg->dir, l->o.version, &s.oom_kill);
	if (v1) {
		memcg_file_u64(cg->dir, "memory.failcnt", &s.failcnt);
	} else if ((buf = memcg_file_read(cg->dir, "memory.events"))) {
		mem_events_parse(buf, &ev);
		s.failcnt = ev.max;
		free(buf);
	}
	if ((buf = memcg_file_read(cg->dir, "memory.stat")) && memstat_parse(buf, &ms) == 0) {
		uint64_t a = 0, b = 0;

		memstat_raw(&ms, "pgscan", &s.pgscan);
		memstat_raw(&ms, "pgsteal", &s.pgsteal);
		memstat_raw(&ms, v1 ? "total_workingset_refault_anon" : "workingset_refault_anon", &a);
		memstat_raw(&ms, v1 ? "total_workingset_refault_file" : "workingset_refault_file", &b);
		s.refaults = a + b;
	}
	memstat_free(&ms);
	free(buf);
	ring_push(l, cg, &s);
	if (pct_of(s.usage, s.limit) >= LEADUP_TOP_PCT) {
		cg->ntop = 0;
		cgroup_walk(cg->dir, LEADUP_MAX_DEPTH, top_visit, cg); /* processes of the subtree, by RSS */
		cg->top_t = s.t;
	}
}

void leadup__refresh_counter(struct leadup *l, struct leadup_cg *cg)
{
	uint64_t v;

	if (cg && memcg_oom_kill_local(cg->dir, l->o.version, &v) == 0)
		cg->oom_kill_last = v;
}

struct scan {
	struct leadup *l;
	int depth0; /* the walk's start is this deep below the mount */
};

static void visit(const char *dir, int depth, void *ctx)
{
	struct scan *sc = ctx;
	struct leadup *l = sc->l;
	const char *rel = dir + strlen(l->mount);
	struct leadup_cg *cg;
	uint64_t id;

	if (cgroup_id_of_dir(dir, &id) < 0)
		return;
	cg = leadup__find(l, id);
	if (!cg)
		cg = cg_add(l, id, dir, rel);
	cg->present = true;
	leadup__refresh_counter(l, cg);
	if (sc->depth0 + depth > 0)
		sample(l, cg);
}

void leadup__scan(struct leadup *l)
{
	/* The root has no limit of its own (depth 0 is not sampled), but
	 * with -c the subtree's top is a cgroup like any other. */
	struct scan sc = { l, l->subtree ? 1 : 0 };

	for (size_t i = 0; i < l->n; i++)
		l->cgs[i]->present = false;
	cgroup_walk(l->subtree ? l->subtree : l->mount, LEADUP_MAX_DEPTH - sc.depth0, visit, &sc);
	l->initial_done = true;
}

struct leadup_cg *leadup__lookup(struct leadup *l, uint64_t id, const char *rel)
{
	struct leadup_cg *cg = leadup__find(l, id);
	char dir[PATH_MAX];
	uint64_t real;

	if (cg || !rel)
		return cg;
	if (snprintf(dir, sizeof(dir), "%s%s", l->mount, strcmp(rel, "/") ? rel : "") >=
	    (int)sizeof(dir))
		return NULL;
	if (cgroup_id_of_dir(dir, &real) < 0 || real != id)
		return NULL;
	cg = cg_add(l, id, dir, rel);
	cg->present = true;
	leadup__refresh_counter(l, cg);
	return cg;
}
