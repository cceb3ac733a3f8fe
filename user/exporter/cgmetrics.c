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
#include "memstat.h"

/* Working-set samples kept per cgroup for the slope (older ones fall out
 * of the window anyway at the default interval). */
#define CGM_HIST 32
/* Deeper trees than this are not walked (Kubernetes nests 5 levels). */
#define CGM_MAX_DEPTH 32

struct cg {
	char *rel;               /* path relative to the mount, "/" for the root */
	struct cgm_container ctr;
	uint64_t usage, ws, anon, file, inactive_anon, inactive_file, limit;
	bool have_oom;
	uint64_t oom_kill;
	double slope;            /* working set, bytes per second */
	bool have_slope;
	double t[CGM_HIST], v[CGM_HIST];
	unsigned nhist, head;
	bool exported;
	bool taken;              /* found again in this refresh */
};

struct cgm {
	struct cgm_opts o;
	char root[PATH_MAX];
	struct cg **v;           /* sorted by rel */
	size_t n;
	struct cgm_stats st;
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

double cgm_slope(const double *t, const double *v, size_t n)
{
	double st = 0, sv = 0, stt = 0, stv = 0;

	if (n < 2)
		return 0;
	for (size_t i = 0; i < n; i++) {
		st += t[i];
		sv += v[i];
	}
	double mt = st / n, mv = sv / n;
	for (size_t i = 0; i < n; i++) {
		stt += (t[i] - mt) * (t[i] - mt);
		stv += (t[i] - mt) * (v[i] - mv);
	}
	return stt > 0 ? stv / stt : 0;
}

static void hist_push(struct cg *g, double now, double ws, double window)
{
	double t[CGM_HIST], v[CGM_HIST];
	size_t n = 0;

	g->t[g->head] = now;
	g->v[g->head] = ws;
	g->head = (g->head + 1) % CGM_HIST;
	if (g->nhist < CGM_HIST)
		g->nhist++;
	for (unsigned i = 0; i < g->nhist; i++) {
		unsigned k = (g->head + CGM_HIST - 1 - i) % CGM_HIST;
		if (now - g->t[k] > window)
			break;
		t[n] = g->t[k];
		v[n] = g->v[k];
		n++;
	}
	g->have_slope = n >= 2;
	g->slope = cgm_slope(t, v, n);
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
	double now;
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
	hist_push(g, w->now, (double)g->ws, w->c->o.slope_window_s);
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

void cgm_refresh(struct cgm *c, double now)
{
	struct walk w = { .c = c, .old = c->v, .nold = c->n, .now = now };

	cgroup_walk(c->root, CGM_MAX_DEPTH, visit, &w);
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
		V_SLOPE, V_ETA, V_OOM };

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
	  "Least-squares slope of the working set over the exporter's slope window (slope-window)." },
	{ V_ETA, "memscope_cgroup_memory_seconds_until_limit", EXPO_GAUGE,
	  "Headroom / working-set growth: seconds until the limit at the current slope; +Inf when the working "
	  "set does not grow; absent when unlimited or before two samples." },
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
	case V_SLOPE: *v = g->slope; return g->have_slope;
	case V_ETA:
		if (!limited(g) || !g->have_slope)
			return false;
		*v = g->slope > 0 ? (double)(g->limit > g->ws ? g->limit - g->ws : 0) / g->slope : INFINITY;
		return true;
	case V_OOM: *v = g->oom_kill; return g->have_oom;
	}
	return false;
}

void cgm_write(const struct cgm *c, struct expo *e)
{
	for (size_t f = 0; f < sizeof(families) / sizeof(families[0]); f++) {
		expo_family(e, families[f].name, families[f].type, families[f].help);
		for (size_t i = 0; i < c->n; i++) {
			const struct cg *g = c->v[i];
			double v;
			if (!g->exported || !cg_value(g, families[f].what, &v))
				continue;
			struct expo_label l[] = {
				{ "cgroup", g->rel },
				{ "container_id", g->ctr.container_id },
				{ "pod_uid", g->ctr.pod_uid },
			};
			expo_double(e, l, 3, v);
		}
	}
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
