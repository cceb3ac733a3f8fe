// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* memdiag's collector: one sample of the host, a cgroup or a process,
 * and the --all-cgroups table, read from /proc and the cgroup files. It
 * prints nothing. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "array.h"
#include "cgroup.h"
#include "loop.h"
#include "memdiag_gather.h"
#include "output.h"
#include "procfs.h"
#include "proc_net.h"

#define MAX_CG_PIDS      4096  /* fd and anon scan of a cgroup's processes */

/* First anon size seen of each process in the cgroup, to name the one
 * that grows (not only the biggest) when sampling with -i. */
struct md_seen {
	pid_t pid;
	uint64_t anon;
};

/* ---- gathering ---- */

/* Socket buffer memory of the whole host: TCP and UDP "mem" in pages. */
static bool host_sock_bytes(uint64_t *bytes)
{
	struct sockstat ss;

	if (sockstat_read(&ss) < 0 || !ss.have_mem)
		return false;
	*bytes = (ss.tcp_mem_pages + ss.udp_mem_pages) * (uint64_t)sysconf(_SC_PAGESIZE);
	return true;
}

static int read_meminfo(struct meminfo *mi)
{
	char *buf = NULL;
	int err = proc_read(0, "meminfo", &buf) < 0 ? -EIO : meminfo_parse(buf, mi);
	free(buf);
	return err;
}

static int gather_host(struct md_report *r)
{
	r->ms = &r->host_ms;
	meminfo_to_memstat(&r->mi, &r->host_ms);
	/* The kubelet's node working set on cgroup v2 (runc reads meminfo for
	 * the root): usage = MemTotal - MemFree, minus Inactive(file). */
	working_set_compute(&r->host_ms, r->mi.mem_total - r->mi.mem_free, true, r->mi.mem_total, &r->ws);
	r->usage_src = "MemTotal - MemFree";
	r->limit_src = "MemTotal";
	r->eviction_ws = r->mi.mem_total > DIAG_HOST_EVICTION_BYTES ? r->mi.mem_total - DIAG_HOST_EVICTION_BYTES : 0;
	r->have_oom = host_oom_kill_count(&r->oom_kills) == 0;
	r->have_sock = host_sock_bytes(&r->sock);
	r->sock_src = "/proc/net/sockstat TCP+UDP mem";
	r->have_swap = r->mi.swap_total > 0;
	r->swap = r->host_ms.swap;
	r->have_psi = host_memory_psi(&r->psi);
	r->psi_src = "/proc/pressure/memory";
	r->fd_count = -1;
	return 0;
}

static uint64_t first_anon(struct md_collector *a, pid_t pid, uint64_t now)
{
	for (size_t i = 0; i < a->nseen; i++)
		if (a->seen[i].pid == pid)
			return a->seen[i].anon;
	ARRAY_GROW(a->seen, a->nseen, a->capseen, 16);
	a->seen[a->nseen++] = (struct md_seen){ pid, now };
	return now;
}

/* Open fds, the biggest anon user and the fastest grower among the
 * cgroup's processes. */
static void scan_cgroup_procs(struct md_collector *a, struct md_report *r)
{
	uint64_t best_growth = 0;
	pid_t *pids = NULL;
	int n = cgroup_pids(r->cg_dir, &pids);

	r->fd_count = -1;
	if (n < 0)
		return;
	r->nprocs = n;
	r->fd_count = 0;
	for (int i = 0; i < n && i < MAX_CG_PIDS; i++) {
		struct proc_status st;
		int fds = proc_fd_count(pids[i]);
		if (fds > 0)
			r->fd_count += fds;
		if (proc_status(pids[i], &st))
			continue;
		if (st.rss_anon > r->top_anon) {
			r->top_anon = st.rss_anon;
			r->top_anon_pid = pids[i];
		}
		uint64_t first = a ? first_anon(a, pids[i], st.rss_anon) : st.rss_anon;
		if (st.rss_anon > first && st.rss_anon - first > best_growth) {
			best_growth = st.rss_anon - first;
			r->grow_pid = pids[i];
		}
	}
	free(pids);
}

static int gather_cgroup(struct md_collector *a, struct md_report *r, bool scan_procs)
{
	struct cgroup_mem *cm = &r->cm;
	int err = cgroup_mem_read(r->cg_dir, cm);

	if (err)
		return err;
	r->ms = &cm->stat;
	/* v1 shows kernel memory in its own counter, not in memory.stat. */
	if (cm->version == 1 && cm->have_kmem) {
		cm->stat.kernel = cm->kmem;
		cm->stat.have |= 1ULL << MS_kernel;
	}
	working_set_compute(&cm->stat, cm->usage, true, cm->limit, &r->ws);
	r->usage_src = cm->usage_src;
	r->limit_src = cm->limit_src;
	r->eviction_ws = cm->limit;
	r->have_oom = cm->events.have;
	r->oom_kills = cm->events.oom_kill;
	if (cm->version == 2 && memstat_has(&cm->stat, MS_sock)) {
		r->have_sock = true;
		r->sock = cm->stat.sock;
		r->sock_src = "sock in memory.stat";
	} else if (cm->have_tcp && cm->tcp) {
		r->have_sock = true;
		r->sock = cm->tcp;
		r->sock_src = "memory.kmem.tcp.usage_in_bytes";
	}
	r->have_swap = cm->have_swap;
	r->swap = cm->swap;
	if (cm->have_psi) {
		r->have_psi = true;
		r->psi = cm->psi;
		r->psi_src = "memory.pressure";
	} else if (!r->snapshot) {
		/* v1 has no per-cgroup PSI: the host's is the next best signal. */
		r->have_psi = host_memory_psi(&r->psi);
		r->psi_src = "/proc/pressure/memory (host)";
	}
	if (scan_procs)
		scan_cgroup_procs(a, r);
	else
		r->fd_count = -1;
	return 0;
}

static int map_cmp(const void *a, const void *b)
{
	const struct md_mapping *x = a, *y = b;
	return x->rss < y->rss ? 1 : x->rss > y->rss ? -1 : 0;
}

struct maps_ctx { struct md_report *r; int cap; };

/* Keep the cap largest mappings by RSS (replace the smallest kept). */
static int on_map(const struct map_entry *m, void *p)
{
	struct maps_ctx *c = p;
	struct md_report *r = c->r;
	int slot = r->nmaps;

	if (r->nmaps == c->cap) {
		slot = 0;
		for (int i = 1; i < r->nmaps; i++)
			if (r->maps[i].rss < r->maps[slot].rss)
				slot = i;
		if (r->maps[slot].rss >= m->rss)
			return 0;
		free(r->maps[slot].path);
	} else {
		r->nmaps++;
	}
	struct md_mapping *d = &r->maps[slot];
	*d = (struct md_mapping){ m->start, m->end, m->rss, m->pss, m->anon, m->swap, "", NULL };
	memcpy(d->perms, m->perms, sizeof(d->perms));
	d->path = strdup(m->path && m->path[0] ? m->path : "[anon]");
	return 0;
}

static int gather_process(struct md_report *r, uint64_t nmaps)
{
	char *buf = NULL;
	int err = proc_status(r->pid, &r->st);

	if (err)
		return err;
	r->comm = proc_comm(r->pid);
	r->cmdline = proc_cmdline(r->pid);
	if (proc_read(r->pid, "smaps_rollup", &buf) >= 0)
		r->have_rollup = smaps_rollup_parse(buf, &r->sr) == 0;
	free(buf);
	struct maps_ctx mc = { r, (int)(nmaps < MD_MAX_MAPS ? nmaps : MD_MAX_MAPS) };
	if (mc.cap > 0)
		proc_smaps(r->pid, on_map, &mc);
	qsort(r->maps, r->nmaps, sizeof(r->maps[0]), map_cmp);
	return 0;
}

void md_report_clear(struct md_report *r)
{
	cgroup_mem_free(&r->cm);
	memstat_free(&r->host_ms);
	host_procs_free(&r->procs);
	free(r->last_kill.oom_memcg);
	free(r->comm);
	free(r->cmdline);
	for (int i = 0; i < r->nmaps; i++)
		free(r->maps[i].path);
	free(r->cg_dir);
	free(r->cg_rel);
	memset(r, 0, sizeof(*r));
}

/* How this kernel ages anonymous pages (see inactive_anon_meaning). */
static enum lru_kind lru_kind(bool snapshot)
{
	struct utsname u;
	char *buf = NULL;
	int major = 0, minor = 0;
	enum lru_kind k;

	if (snapshot)
		return LRU_UNKNOWN;
	if (read_file("/sys/kernel/mm/lru_gen/enabled", &buf) >= 0 && strtoul(buf, NULL, 0) != 0) {
		free(buf);
		return LRU_MGLRU;
	}
	free(buf);
	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return LRU_UNKNOWN;
	k = major > 5 || (major == 5 && minor >= 9) ? LRU_CLASSIC_59 : LRU_CLASSIC;
	return k;
}

/* When the kernel log says the target's last OOM kill was, and of whom. */
static void find_last_kill(struct md_report *r)
{
	struct timespec now;

	if (!r->have_oom || !r->oom_kills || r->snapshot)
		return;
	if (kmsg_last_kill(r->kind == MD_HOST ? NULL : r->cg_rel, &r->last_kill) < 0)
		return;
	r->kill_log_read = true;
	if (!r->last_kill.found)
		return;
	/* kmsg stamps are the monotonic clock's seconds. */
	clock_gettime(CLOCK_MONOTONIC, &now);
	r->last_kill_age_s = now.tv_sec + now.tv_nsec / 1e9 - r->last_kill.ts;
	if (r->last_kill_age_s < 0)
		r->last_kill_age_s = 0;
}

static void run_diagnosis(struct md_report *r, const struct trend *tr, int samples)
{
	uint64_t pgscan = 0;
	struct diag_input in = {
		.host = r->kind == MD_HOST,
		.ms = r->ms, .ws = &r->ws, .ram = r->mi.mem_total,
		.have_oom = r->have_oom, .oom_kills = r->oom_kills,
		.kill_log_read = r->kill_log_read, .have_last_kill = r->last_kill.found, .last_kill_age_s = r->last_kill_age_s,
		.last_kill_comm = r->last_kill.comm, .last_kill_pid = r->last_kill.pid,
		.lru = lru_kind(r->snapshot), .swap_usable = r->snapshot ? r->have_swap && r->swap : r->mi.swap_total > 0,
		.anon_scanned = memstat_raw(r->ms, "pgscan", &pgscan) && pgscan > 0,
		.have_psi = r->have_psi, .psi = r->psi,
		.have_swap = r->have_swap, .swap = r->swap,
		.have_sock = r->have_sock, .sock = r->sock, .sock_src = r->sock_src,
		.pid = r->pid, .fd_count = r->fd_count, .fd_limit = r->fd_limit,
		.top_anon_pid = r->top_anon_pid, .grow_pid = r->grow_pid, .target = r->target_arg, .trend = tr,
		.samples = samples,
	};
	diagnose(&in, &r->diag);
}

/* A restart of the cgroup's service (its oom_kill count rose, or its
 * working set fell sharply and a process started since) ends the trend
 * (memdiag -c, -i):
 * the buckets start again from this sample; the previous incarnation's
 * growth is kept in a->inc. */
static void follow_incarnation(struct md_collector *a, double wall)
{
	struct md_incarnation *mi = &a->inc;
	const struct md_report *r = &a->cur;
	struct incarn_sample s = {
		.t = mono_ns() / 1e9, .ws = (double)r->ws.working_set,
		.have_oom = r->have_oom, .oom_kill = r->oom_kills,
	};

	/* A cgroup's service restarts; a process does not (memdiag -p ends
	 * with it), and its cgroup's figures are shared with others: a
	 * fall there (other processes exiting) is no restart of this one. */
	mi->followed = r->kind == MD_CGROUP && !r->snapshot;
	if (!mi->followed)
		return;
	s.procs_replaced = incarn_wants_procs(&mi->inc, s.ws) &&
			   incarn_procs_started(r->cg_dir, incarn_pre_drop_t(&mi->inc));
	if (incarn_push(&mi->inc, &s)) {
		mi->prev_span_s = mi->inc.prev_end_t - mi->inc.prev_start_t;
		trend_init(&a->trend);
		mi->start_wall = wall;
	} else if (!mi->start_wall) {
		mi->start_wall = wall;
	}
	mi->growth = incarn_growth(&mi->inc);
	mi->eta_s = r->ws.limit == MEM_UNLIMITED ? NAN : incarn_eta(&mi->growth, s.ws, (double)r->ws.limit);
}

/* ---- one sample ---- */

int md_sample(struct md_collector *a)
{
	struct md_report *r = &a->cur;
	const struct md_opts *o = &a->o;
	enum md_target kind = o->kind;
	pid_t pid = o->pid;
	int err;

	md_report_clear(r);
	r->kind = kind;
	r->snapshot = o->snapshot != NULL;
	r->target_arg = o->target_arg;
	r->pid = pid;
	if ((err = read_meminfo(&r->mi)))
		return err;
	if (kind == MD_HOST) {
		gather_host(r);
		r->have_procs = host_procs_scan(&r->procs) == 0;
		swap_io_read(&r->swapio, a->samples ? &a->prev_swapio : NULL);
		a->prev_swapio = r->swapio;
	} else {
		if (kind == MD_PROCESS) {
			if ((err = cgroup_memory_of_pid(pid, &r->cg_rel)) || (err = gather_process(r, o->nmaps)))
				return err;
			r->cg_dir = o->snapshot ? strdup(o->snapshot) : cgroup_memory_dir(r->cg_rel);
		} else {
			r->cg_dir = strdup(o->snapshot ? o->snapshot : o->cg_dir);
			r->cg_rel = strdup(o->snapshot ? o->snapshot : o->cg_rel);
		}
		if ((err = gather_cgroup(a, r, kind == MD_CGROUP && !o->snapshot)))
			return err;
		if (kind == MD_PROCESS) {
			int fds = proc_fd_count(pid);
			r->fd_count = fds >= 0 ? fds : -1;
			r->fd_limit = proc_nofile_limit(pid);
		}
	}
	a->samples++;
	double vals[TB_N], now = wall_time();
	r->wall = now;
	follow_incarnation(a, now);
	trend_values(r->ms, &r->ws, r->swap, r->sock, vals);
	vals[TB_fds] = r->fd_count > 0 ? r->fd_count : 0;
	trend_add(&a->trend, now, vals);
	find_last_kill(r);
	run_diagnosis(r, a->trend.n >= 3 ? &a->trend : NULL, a->trend.n);
	return 0;
}

static void collect_one(struct md_cg_list *l, const char *dir)
{
	struct md_report r = { .kind = MD_CGROUP };
	r.cg_dir = strdup(dir);
	if (gather_cgroup(NULL, &r, false)) {
		free(r.cg_dir);
		cgroup_mem_free(&r.cm);
		return;
	}
	r.mi.mem_total = l->ram;
	run_diagnosis(&r, NULL, 1);
	ARRAY_GROW(l->v, l->n, l->cap, 64);
	struct md_cg_row *row = &l->v[l->n++];
	const char *rel = dir + strlen(l->mount);
	row->rel = strdup(*rel ? rel : "/");
	row->version = r.cm.version;
	row->ws = r.ws;
	row->anon = r.ms->anon;
	row->inactive_anon = r.ms->inactive_anon;
	row->oom_kills = r.oom_kills;
	row->root = r.cm.root;
	row->usage_src = r.cm.usage_src;
	pid_t *pids = NULL;
	row->own_procs = cgroup_pids(dir, &pids);
	row->procs = row->own_procs;
	free(pids);
	row->ws_pct = r.ws.limit == MEM_UNLIMITED ? -1 : pct_of(r.ws.working_set, r.ws.limit);
	row->top_code = r.diag.n ? r.diag.f[0].code : "-";
	row->top_sev = r.diag.n ? r.diag.f[0].sev : SEV_INFO;
	md_report_clear(&r);
}

static void walk_one(const char *dir, int depth, void *l)
{
	(void)depth;
	collect_one(l, dir);
}

static int rel_cmp(const void *a, const void *b)
{
	return strcmp(((const struct md_cg_row *)a)->rel, ((const struct md_cg_row *)b)->rel);
}

/* A cgroup's usage counts its descendants' memory: its process count
 * counts their processes too, or a parent holding gigabytes would show
 * none. Each cgroup's own processes are added to every ancestor. */
static void count_procs_below(struct md_cg_list *l)
{
	qsort(l->v, l->n, sizeof(*l->v), rel_cmp);
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].own_procs <= 0)
			continue;
		char *up = strdup(l->v[i].rel);
		char *slash;
		while (up && (slash = strrchr(up, '/')) != NULL) {
			slash[slash == up] = '\0';   /* "/a/b" -> "/a" -> "/" */
			struct md_cg_row key = { .rel = up }, *p = bsearch(&key, l->v, l->n, sizeof(*l->v), rel_cmp);
			if (p && p->procs >= 0)
				p->procs += l->v[i].own_procs;
			if (!strcmp(up, "/"))
				break;
		}
		free(up);
	}
}

static int row_cmp(const void *a, const void *b, void *sort)
{
	const struct md_cg_row *x = a, *y = b;
	if (*(const enum md_sort *)sort == MD_SORT_LIMIT && x->ws_pct != y->ws_pct)
		return x->ws_pct < y->ws_pct ? 1 : -1;
	return x->ws.working_set < y->ws.working_set ? 1 : x->ws.working_set > y->ws.working_set ? -1 : 0;
}

int md_cgroups_collect(struct md_cg_list *l, enum md_sort sort)
{
	const struct cgroup_layout *lay = cgroup_layout();
	struct meminfo mi;

	memset(l, 0, sizeof(*l));
	l->mount = lay->memory_on_v2 ? lay->v2_mount : lay->v1_memory;
	if (!l->mount[0])
		return -ENOENT;
	if (read_meminfo(&mi))
		return -EIO;
	l->ram = mi.mem_total;
	cgroup_walk(l->mount, 33, walk_one, l); /* deeper than any real hierarchy */
	count_procs_below(l);
	qsort_r(l->v, l->n, sizeof(*l->v), row_cmp, &sort);
	return 0;
}

void md_cg_list_free(struct md_cg_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].rel);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void md_collector_init(struct md_collector *c, const struct md_opts *o)
{
	memset(c, 0, sizeof(*c));
	c->o = *o;
	c->t_start = wall_time();
	trend_init(&c->trend);
	incarn_init(&c->inc.inc, 0);
}

void md_collector_free(struct md_collector *c)
{
	md_report_clear(&c->cur);
	free(c->seen);
	c->seen = NULL;
	c->nseen = c->capseen = 0;
}
