// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "array.h"
#include "cgmetrics.h"
#include "cgroup.h"
#include "incarnation.h"
#include "memstat.h"

/* Deeper trees than this are not walked (Kubernetes nests 5 levels). */
#define CGM_MAX_DEPTH 32

struct cg {
	char *rel;               /* path relative to the mount, "/" for the root */
	struct cgm_container ctr;
	uint64_t usage, ws, anon, file, inactive_anon, inactive_file, limit;
	bool have_oom;
	uint64_t oom_kill;
	bool have_psi;           /* v2 memory.pressure (v1 has none) */
	uint64_t stall_some_us, stall_full_us;
	struct incarn inc;       /* the working set since the last restart */
	struct incarn_growth growth;
	double inc_start_unix;   /* when the current incarnation's first sample was taken */
	bool exported;
	bool taken;              /* found again in this refresh */
};

struct cgm {
	struct cgm_opts o;
	char root[PATH_MAX];
	struct cg **v;           /* sorted by rel */
	size_t n;
	struct cgm_stats st;
	bool have_host_psi;
	struct psi host_psi;     /* /proc/pressure/memory */
};

void cgm_container_of(const char *path, struct cgm_container *c)
{
	struct container_ref ref;

	memset(c, 0, sizeof(*c));
	if (!container_from_path(path, &ref))
		return;
	if (ref.id[0])
		snprintf(c->container_id, sizeof(c->container_id), "%s%s%s", ref.runtime, ref.runtime[0] ? "://" : "",
			 ref.id);
	snprintf(c->pod_uid, sizeof(c->pod_uid), "%s", ref.pod_uid);
}

struct cgm *cgm_new(const struct cgm_opts *o, int *err)
{
	const char *root = o->root;

	if (!root) {
		const struct cgroup_layout *l = cgroup_layout();
		root = l->memory_on_v2 ? l->v2_mount : l->v1_memory;
	}
	if (!root || !root[0]) {
		*err = -ENOENT;
		return NULL;
	}
	struct cgm *c = calloc(1, sizeof(*c));
	if (!c)
		abort();
	c->o = *o;
	snprintf(c->root, sizeof(c->root), "%s", root);
	return c;
}

const char *cgm_root(const struct cgm *c)
{
	return c->root;
}

static void cg_free(struct cg *g)
{
	if (g) {
		free(g->rel);
		free(g);
	}
}

void cgm_free(struct cgm *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		cg_free(c->v[i]);
	free(c->v);
	free(c);
}

struct cgm_stats cgm_stats(const struct cgm *c)
{
	return c->st;
}

/* One working-set sample into the cgroup's incarnation: a restart (its
 * oom_kill count rose, or the working set fell sharply and a process
 * started since) starts the growth afresh. Processes are read only after
 * a sharp drop, so the walk does not read every cgroup.procs each time. */
static void growth_push(struct cg *g, const char *dir, double now, double unix_now)
{
	struct incarn_sample s = {
		.t = now, .ws = (double)g->ws, .have_oom = g->have_oom, .oom_kill = g->oom_kill,
	};

	s.procs_replaced = incarn_wants_procs(&g->inc, s.ws) &&
			   incarn_procs_started(dir, incarn_pre_drop_t(&g->inc));
	if (incarn_push(&g->inc, &s) || !g->inc_start_unix)
		g->inc_start_unix = unix_now;
	g->growth = incarn_growth(&g->inc);
}

static int cg_cmp(const void *a, const void *b)
{
	return strcmp((*(struct cg *const *)a)->rel, (*(struct cg *const *)b)->rel);
}

/* The previous refresh's entry for rel, marked taken: what is not taken
 * afterwards are the cgroups that went away. */
static struct cg *take_old(struct cg **old, size_t n, const char *rel)
{
	struct cg key = { .rel = (char *)rel }, *kp = &key;
	struct cg **hit;

	/* The first refresh has no old list at all (bsearch wants an array). */
	if (!n)
		return NULL;
	hit = bsearch(&kp, old, n, sizeof(*old), cg_cmp);
	if (!hit || (*hit)->taken)
		return NULL;
	(*hit)->taken = true;
	return *hit;
}

struct walk {
	struct cgm *c;
	struct cg **old;
	size_t nold;
	struct cg **nv;
	size_t n, cap;
	double now, unix_now;
};

static void read_one(struct walk *w, const char *dir)
{
	struct cgroup_mem cm;
	struct working_set ws;
	const char *rel = dir + strlen(w->c->root);

	if (!*rel)
		rel = "/";
	if (cgroup_mem_read(dir, &cm)) {
		/* Removed while walked, or not a memory cgroup (v2 without
		 * the controller enabled there): not an error of ours. */
		if (access(dir, F_OK) == 0 && cm.bad_file)
			w->c->st.read_errors++;
		cgroup_mem_free(&cm);
		return;
	}
	working_set_compute(&cm.stat, cm.usage, true, cm.limit, &ws);

	struct cg *g = take_old(w->old, w->nold, rel);
	if (!g) {
		if (!(g = calloc(1, sizeof(*g))) || !(g->rel = strdup(rel)))
			abort();
		cgm_container_of(rel, &g->ctr);
		incarn_init(&g->inc, w->c->o.slope_window_s);
	}
	g->usage = ws.usage;
	g->ws = ws.working_set;
	g->anon = cm.stat.anon;
	g->file = cm.stat.file;
	g->inactive_anon = cm.stat.inactive_anon;
	g->inactive_file = cm.stat.inactive_file;
	g->limit = cm.limit;
	g->have_oom = cm.events.have;
	g->oom_kill = cm.events.oom_kill;
	g->have_psi = cm.have_psi;
	g->stall_some_us = cm.psi.some.total_us;
	g->stall_full_us = cm.psi.full.total_us;
	growth_push(g, dir, w->now, w->unix_now);
	cgroup_mem_free(&cm);

	ARRAY_GROW(w->nv, w->n, w->cap, 256);
	w->nv[w->n++] = g;
}

static void visit(const char *dir, int depth, void *w)
{
	(void)depth;
	read_one(w, dir);
}

/* Which cgroups the cap keeps: those with a limit, closest to it first,
 * then the rest by working set; the root always. */
static double rank(const struct cg *g)
{
	if (!strcmp(g->rel, "/"))
		return INFINITY;
	if (g->limit != MEM_UNLIMITED && g->limit)
		return 1e30 * ((double)g->ws / (double)g->limit + 1);
	return (double)g->ws;
}

static int rank_cmp(const void *a, const void *b)
{
	double x = rank(*(struct cg *const *)a), y = rank(*(struct cg *const *)b);
	return x < y ? 1 : x > y ? -1 : 0;
}

void cgm_refresh(struct cgm *c, double now, double unix_now)
{
	struct walk w = { .c = c, .old = c->v, .nold = c->n, .now = now, .unix_now = unix_now };

	cgroup_walk(c->root, CGM_MAX_DEPTH, visit, &w);
	c->have_host_psi = host_memory_psi(&c->host_psi);
	for (size_t i = 0; i < c->n; i++) {
		if (!w.old[i]->taken)
			cg_free(w.old[i]);
	}
	free(w.old);
	c->v = w.nv;
	c->n = w.n;

	c->st.seen = c->n;
	c->st.exported = c->n;
	c->st.dropped = 0;
	for (size_t i = 0; i < c->n; i++) {
		c->v[i]->exported = true;
		c->v[i]->taken = false;
	}
	if (c->o.max_cgroups && c->n > c->o.max_cgroups) {
		qsort(c->v, c->n, sizeof(*c->v), rank_cmp);
		for (size_t i = c->o.max_cgroups; i < c->n; i++)
			c->v[i]->exported = false;
		c->st.exported = c->o.max_cgroups;
		c->st.dropped = c->n - c->o.max_cgroups;
	}
	if (c->n)
		qsort(c->v, c->n, sizeof(*c->v), cg_cmp);
}

/* ---- exposition ---- */

enum cg_value { V_WS, V_USAGE, V_ANON, V_FILE, V_INACTIVE_ANON, V_INACTIVE_FILE, V_LIMIT, V_HEADROOM,
		V_SLOPE, V_ETA, V_INCARNATION, V_OOM };

static const struct cg_family {
	enum cg_value what;
	const char *name;
	enum expo_type type;
	const char *help;
} families[] = {
	{ V_WS, "memscope_cgroup_memory_working_set_bytes", EXPO_GAUGE,
	  "Working set as the kubelet computes it: usage - inactive_file (v1 memory.usage_in_bytes - "
	  "total_inactive_file, v2 memory.current - inactive_file), never below 0." },
	{ V_USAGE, "memscope_cgroup_memory_usage_bytes", EXPO_GAUGE,
	  "Memory charged to the cgroup (v1 memory.usage_in_bytes, v2 memory.current; the root: anon + file)." },
	{ V_ANON, "memscope_cgroup_memory_anon_bytes", EXPO_GAUGE,
	  "Anonymous memory without shmem (memory.stat v1 total_rss, v2 anon)." },
	{ V_FILE, "memscope_cgroup_memory_file_bytes", EXPO_GAUGE,
	  "Page cache including shmem (memory.stat v1 total_cache, v2 file)." },
	{ V_INACTIVE_ANON, "memscope_cgroup_memory_inactive_anon_bytes", EXPO_GAUGE,
	  "Anonymous and shmem pages on the inactive LRU list (memory.stat inactive_anon): growth here is "
	  "memory the process no longer touches but cannot give back without swap." },
	{ V_INACTIVE_FILE, "memscope_cgroup_memory_inactive_file_bytes", EXPO_GAUGE,
	  "Inactive page cache (memory.stat inactive_file), what the working set leaves out." },
	{ V_LIMIT, "memscope_cgroup_memory_limit_bytes", EXPO_GAUGE,
	  "Effective memory limit: the lowest memory.max (v2) or memory.limit_in_bytes / "
	  "hierarchical_memory_limit (v1) on the way to the root; absent when unlimited." },
	{ V_HEADROOM, "memscope_cgroup_memory_headroom_bytes", EXPO_GAUGE,
	  "Limit - working set (0 when over): what the cgroup can still grow before its OOM kill or eviction; "
	  "absent when unlimited." },
	{ V_SLOPE, "memscope_cgroup_memory_working_set_growth_bytes_per_second", EXPO_GAUGE,
	  "Least-squares slope of the working set over the slope window (slope-window), from the samples since "
	  "the cgroup's last restart only (its oom_kill count rose, or the working set fell by half and a "
	  "process started since); absent until 3 samples over 2 s since." },
	{ V_ETA, "memscope_cgroup_memory_seconds_until_limit", EXPO_GAUGE,
	  "Headroom / working-set growth since the last restart: seconds until the limit; +Inf when the "
	  "working set does not grow; absent when unlimited or while the growth is absent." },
	{ V_INCARNATION, "memscope_cgroup_incarnation_start_timestamp_seconds", EXPO_GAUGE,
	  "When the exporter saw the cgroup's current incarnation begin (Unix time): its first sample after "
	  "a restart, or the first sample at all. Changes at each restart." },
	{ V_OOM, "memscope_cgroup_oom_kills_total", EXPO_COUNTER,
	  "OOM kills the kernel counted for the cgroup (v2 memory.events oom_kill: the cgroup and below; v1 "
	  "memory.oom_control oom_kill). Victims by name: memscope_oom_kills_total." },
};

static bool limited(const struct cg *g)
{
	return g->limit != MEM_UNLIMITED;
}

/* False when the cgroup has no value for this family. */
static bool cg_value(const struct cg *g, enum cg_value what, double *v)
{
	switch (what) {
	case V_WS: *v = g->ws; return true;
	case V_USAGE: *v = g->usage; return true;
	case V_ANON: *v = g->anon; return true;
	case V_FILE: *v = g->file; return true;
	case V_INACTIVE_ANON: *v = g->inactive_anon; return true;
	case V_INACTIVE_FILE: *v = g->inactive_file; return true;
	case V_LIMIT: *v = g->limit; return limited(g);
	case V_HEADROOM: *v = g->limit > g->ws ? g->limit - g->ws : 0; return limited(g);
	case V_SLOPE: *v = g->growth.per_s; return g->growth.known;
	case V_ETA:
		*v = incarn_eta(&g->growth, (double)g->ws, (double)g->limit);
		return limited(g) && g->growth.known;
	case V_INCARNATION: *v = g->inc_start_unix; return true;
	case V_OOM: *v = g->oom_kill; return g->have_oom;
	}
	return false;
}

/* Every cgroup series starts with these. */
#define CG_LABELS 3
static size_t cg_labels(const struct cg *g, struct expo_label l[CG_LABELS])
{
	l[0] = (struct expo_label){ "cgroup", g->rel };
	l[1] = (struct expo_label){ "container_id", g->ctr.container_id };
	l[2] = (struct expo_label){ "pod_uid", g->ctr.pod_uid };
	return CG_LABELS;
}

/* Stall time as a counter per kind: the "total" of a PSI file. */
static void write_stalls(struct expo *e, struct expo_label *l, size_t nl, uint64_t some_us, uint64_t full_us)
{
	l[nl] = (struct expo_label){ "kind", "some" };
	expo_double(e, l, nl + 1, some_us / 1e6);
	l[nl] = (struct expo_label){ "kind", "full" };
	expo_double(e, l, nl + 1, full_us / 1e6);
}

static void write_pressure(const struct cgm *c, struct expo *e)
{
	expo_family(e, "memscope_cgroup_memory_pressure_stalled_seconds_total", EXPO_COUNTER,
		    "Time tasks of the cgroup stalled waiting for memory (reclaim, swap-in, refaults of the "
		    "working set), v2 memory.pressure total: kind=some (at least one task stalled) or full (all "
		    "non-idle tasks at once). rate() of it is the share of time lost. Absent on cgroup v1, which "
		    "has no pressure files.");
	for (size_t i = 0; i < c->n; i++) {
		const struct cg *g = c->v[i];
		struct expo_label l[CG_LABELS + 1];

		if (g->exported && g->have_psi)
			write_stalls(e, l, cg_labels(g, l), g->stall_some_us, g->stall_full_us);
	}
	expo_family(e, "memscope_host_memory_pressure_stalled_seconds_total", EXPO_COUNTER,
		    "Time tasks of the host stalled waiting for memory (/proc/pressure/memory total), "
		    "kind=some or full as for cgroups. Absent when the kernel has no PSI (CONFIG_PSI, psi=1).");
	if (c->have_host_psi) {
		struct expo_label l[1];
		write_stalls(e, l, 0, c->host_psi.some.total_us, c->host_psi.full.total_us);
	}
}

void cgm_write(const struct cgm *c, struct expo *e)
{
	for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
		expo_family(e, families[f].name, families[f].type, families[f].help);
		for (size_t i = 0; i < c->n; i++) {
			const struct cg *g = c->v[i];
			double v;
			struct expo_label l[CG_LABELS];

			if (g->exported && cg_value(g, families[f].what, &v))
				expo_double(e, l, cg_labels(g, l), v);
		}
	}
	write_pressure(c, e);
	expo_gauge1(e, "memscope_exporter_cgroups", "Memory cgroups found under the hierarchy in the last collection.",
		    c->st.seen);
	expo_gauge1(e, "memscope_exporter_cgroups_dropped",
		    "Memory cgroups not exported in the last collection: over max-cgroups (the cap keeps those "
		    "closest to their limit, then the largest working sets).",
		    c->st.dropped);
	expo_family(e, "memscope_exporter_cgroup_read_errors_total", EXPO_COUNTER,
		    "Memory cgroups whose usage or limit file held no number, since the exporter started.");
	expo_u64(e, NULL, 0, c->st.read_errors);
}
