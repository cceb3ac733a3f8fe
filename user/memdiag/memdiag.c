// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* memdiag: where the memory of the host, a cgroup or a process is, how
 * close it is to the limit by the measure the kubelet uses (the working
 * set), and what that means. Pure user space: it reads /proc and the
 * cgroup files, no BPF. */
#define _GNU_SOURCE
#include <argp.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "array.h"
#include "cgroup.h"
#include "cli.h"
#include "loop.h"
#include "memdiag_diag.h"
#include "memdiag_procs.h"
#include "memstat.h"
#include "oom_kmsg.h"
#include "output.h"
#include "procfs.h"
#include "proc_net.h"

#define DEFAULT_MAPS     8
#define DEFAULT_TOP      20
#define MAX_CG_PIDS      4096  /* fd and anon scan of a cgroup's processes */
#define MAX_MAPS         64

enum target_kind { T_HOST, T_CGROUP, T_PROCESS };
enum sort_key { SORT_WS, SORT_LIMIT };

struct env {
	struct common_opts common;
	bool all_cgroups;
	uint64_t count;          /* -n: samples, 0 = until -d or Ctrl-C */
	uint64_t nmaps;
	uint64_t top;
	enum sort_key sort;
	const char *snapshot;    /* --snapshot DIR: memory.* files copied elsewhere */
};

struct mapping {
	uint64_t start, end, rss, pss, anon, swap;
	char perms[5];
	char *path;
};

/* Everything one sample knows. */
struct report {
	enum target_kind kind;
	bool snapshot;             /* files copied from elsewhere: no live host data */
	const char *target_arg;    /* "-c /x" for suggestions */
	char *cg_dir;              /* absolute directory of the memory cgroup */
	char *cg_rel;              /* path shown to the user */
	struct cgroup_mem cm;
	struct meminfo mi;
	struct memstat host_ms;
	const struct memstat *ms;
	struct working_set ws;
	uint64_t eviction_ws;      /* the working set at which eviction/OOM happens */
	const char *usage_src, *limit_src;
	bool have_sock; uint64_t sock; const char *sock_src;
	bool have_swap; uint64_t swap;
	bool have_oom; uint64_t oom_kills;
	bool have_procs; struct host_procs procs;  /* host: top processes */
	struct swap_io swapio;                     /* host: swap traffic */
	bool kill_log_read;
	struct kmsg_kill last_kill;    /* the newest kill the kernel log holds */
	double last_kill_age_s;
	bool have_psi; struct psi psi; const char *psi_src;
	int64_t fd_count; uint64_t fd_limit;
	pid_t top_anon_pid; uint64_t top_anon;
	pid_t grow_pid;            /* largest anon growth since the first sample */
	int nprocs;
	/* process */
	pid_t pid;
	char *comm, *cmdline;
	struct proc_status st;
	bool have_rollup; struct smaps_rollup sr;
	struct mapping maps[MAX_MAPS];
	int nmaps;
	struct diag diag;
};

/* First anon size seen of each process in the cgroup, to name the one
 * that grows (not only the biggest) when sampling with -i. */
struct seen {
	pid_t pid;
	uint64_t anon;
};

struct app {
	struct env env;
	struct seen *seen;
	size_t nseen, capseen;
	struct report cur;
	struct trend trend;
	struct swap_io prev_swapio;  /* the last sample's, for rates */
	struct cgroup_target cgt;
	uint64_t samples;
	double t_start;
	int failed;
};

static char sz[8][HUMAN_LEN];
static int szi;
/* Human size, from a few rotating buffers so one printf can hold several. */
static const char *H(uint64_t b)
{
	szi = (szi + 1) % 8;
	return fmt_bytes(sz[szi], b);
}

static const char *HR(double per_min)
{
	szi = (szi + 1) % 8;
	return fmt_bytes_delta(sz[szi], i64_saturate(per_min));
}

/* ---- gathering ---- */

static bool read_u64_file(const char *path, const char *key, uint64_t *v)
{
	char *buf = NULL;
	bool ok = read_file(path, &buf) >= 0 && kv_u64(buf, key, v);
	free(buf);
	return ok;
}

/* Socket buffer memory of the whole host: TCP and UDP "mem" in pages. */
static bool host_sock_bytes(uint64_t *bytes)
{
	struct sockstat ss;

	if (sockstat_read(&ss) < 0 || !ss.have_mem)
		return false;
	*bytes = (ss.tcp_mem_pages + ss.udp_mem_pages) * (uint64_t)sysconf(_SC_PAGESIZE);
	return true;
}

static bool host_psi(struct psi *p)
{
	char *buf = NULL;
	bool ok = read_file("/proc/pressure/memory", &buf) >= 0 && psi_parse(buf, p) == 0;
	free(buf);
	return ok;
}

static int read_meminfo(struct meminfo *mi)
{
	char *buf = NULL;
	int err = proc_read(0, "meminfo", &buf) < 0 ? -EIO : meminfo_parse(buf, mi);
	free(buf);
	return err;
}

static int gather_host(struct report *r)
{
	r->ms = &r->host_ms;
	meminfo_to_memstat(&r->mi, &r->host_ms);
	/* The kubelet's node working set on cgroup v2 (runc reads meminfo for
	 * the root): usage = MemTotal - MemFree, minus Inactive(file). */
	working_set_compute(&r->host_ms, r->mi.mem_total - r->mi.mem_free, true, r->mi.mem_total, &r->ws);
	r->usage_src = "MemTotal - MemFree";
	r->limit_src = "MemTotal";
	r->eviction_ws = r->mi.mem_total > DIAG_HOST_EVICTION_BYTES ? r->mi.mem_total - DIAG_HOST_EVICTION_BYTES : 0;
	r->have_oom = read_u64_file("/proc/vmstat", "oom_kill", &r->oom_kills);
	r->have_sock = host_sock_bytes(&r->sock);
	r->sock_src = "/proc/net/sockstat TCP+UDP mem";
	r->have_swap = r->mi.swap_total > 0;
	r->swap = r->host_ms.swap;
	r->have_psi = host_psi(&r->psi);
	r->psi_src = "/proc/pressure/memory";
	r->fd_count = -1;
	return 0;
}

static uint64_t first_anon(struct app *a, pid_t pid, uint64_t now)
{
	for (size_t i = 0; i < a->nseen; i++)
		if (a->seen[i].pid == pid)
			return a->seen[i].anon;
	ARRAY_GROW(a->seen, a->nseen, a->capseen, 16);
	a->seen[a->nseen++] = (struct seen){ pid, now };
	return now;
}

/* Open fds, the biggest anon user and the fastest grower among the
 * cgroup's processes. */
static void scan_cgroup_procs(struct app *a, struct report *r)
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

static int gather_cgroup(struct app *a, struct report *r, bool scan_procs)
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
		r->have_psi = host_psi(&r->psi);
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
	const struct mapping *x = a, *y = b;
	return x->rss < y->rss ? 1 : x->rss > y->rss ? -1 : 0;
}

struct maps_ctx { struct report *r; int cap; };

/* Keep the cap largest mappings by RSS (replace the smallest kept). */
static int on_map(const struct map_entry *m, void *p)
{
	struct maps_ctx *c = p;
	struct report *r = c->r;
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
	struct mapping *d = &r->maps[slot];
	*d = (struct mapping){ m->start, m->end, m->rss, m->pss, m->anon, m->swap, "", NULL };
	memcpy(d->perms, m->perms, sizeof(d->perms));
	d->path = strdup(m->path && m->path[0] ? m->path : "[anon]");
	return 0;
}

static int gather_process(struct report *r, uint64_t nmaps)
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
	struct maps_ctx mc = { r, (int)(nmaps < MAX_MAPS ? nmaps : MAX_MAPS) };
	if (mc.cap > 0)
		proc_smaps(r->pid, on_map, &mc);
	qsort(r->maps, r->nmaps, sizeof(r->maps[0]), map_cmp);
	return 0;
}

static void report_clear(struct report *r)
{
	cgroup_mem_free(&r->cm);
	memstat_free(&r->host_ms);
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
static void find_last_kill(struct report *r)
{
	struct timespec now;

	if (!r->have_oom || !r->oom_kills || r->snapshot)
		return;
	if (kmsg_last_kill(r->kind == T_HOST ? NULL : r->cg_rel, &r->last_kill) < 0)
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

static void run_diagnosis(struct report *r, const struct trend *tr)
{
	uint64_t pgscan = 0;
	struct diag_input in = {
		.host = r->kind == T_HOST,
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
	};
	diagnose(&in, &r->diag);
}

/* ---- plain output ---- */

static void print_pct_col(uint64_t v, uint64_t whole)
{
	if (whole && whole != MEM_UNLIMITED)
		printf(" %8.1f%%", pct_of(v, whole));
	else
		printf(" %9s", "");
}

static const char *ceiling_name(const struct report *r)
{
	return r->kind == T_HOST || r->ws.limit == MEM_UNLIMITED ? "% RAM" : "% LIMIT";
}

static uint64_t ceiling(const struct report *r)
{
	return r->kind == T_HOST || r->ws.limit == MEM_UNLIMITED ? r->mi.mem_total : r->ws.limit;
}

static void print_summary(const struct report *r)
{
	const struct working_set *ws = &r->ws;
	uint64_t c = ceiling(r);

	printf("\n%-18s %10s %9s\n", "", "SIZE", ceiling_name(r));
	printf("%-18s %10s", "working set", H(ws->working_set));
	print_pct_col(ws->working_set, c);
	printf("   usage - inactive_file, as kubelet/cAdvisor\n");
	printf("%-18s %10s", "rss (anon)", H(ws->rss));
	print_pct_col(ws->rss, c);
	printf("   %s\n", r->kind == T_HOST ? "AnonPages" : r->cm.version == 1 ? "total_rss" : "anon");
	printf("%-18s %10s", "usage", H(ws->usage));
	print_pct_col(ws->usage, c);
	printf("   %s%s\n", r->usage_src,
	       r->cm.version == 1 && !r->cm.root && r->kind != T_HOST ? " (approximate: per-CPU charge batches)" : "");
	if (r->kind == T_HOST) {
		printf("%-18s %10s            MemTotal\n", "RAM", H(r->mi.mem_total));
		printf("%-18s %10s", "available", H(r->mi.mem_available));
		print_pct_col(r->mi.mem_available, c);
		printf("   MemAvailable (the kernel's estimate)\n");
		printf("%-18s %10s            kubelet hard eviction: memory.available < %s\n", "evicts at ws",
		       H(r->eviction_ws), H(DIAG_HOST_EVICTION_BYTES));
	} else if (ws->limit == MEM_UNLIMITED) {
		printf("%-18s %10s            no memory limit on this cgroup or above it\n", "limit", "none");
	} else {
		printf("%-18s %10s            %s\n", "limit", H(ws->limit), r->limit_src ? r->limit_src : "");
		printf("%-18s %10s", "headroom", H(ws->headroom));
		print_pct_col(ws->headroom, c);
		printf("   limit - working set: the OOM kill point for a container\n");
		if (r->cm.high != MEM_UNLIMITED)
			printf("%-18s %10s            memory.high: throttled and reclaimed above it\n", "high", H(r->cm.high));
	}
}

struct row {
	const char *label;
	int field;          /* enum memstat_field, or -1 for a special */
	int bucket;         /* trend bucket or -1 */
};

static void print_row(const struct report *r, const struct trend *tr, const char *label,
		      uint64_t v, int bucket)
{
	printf("%-18s %10s", label, H(v));
	print_pct_col(v, ceiling(r));
	if (tr && tr->n >= 2)
		printf(" %11s", bucket >= 0 ? HR(trend_per_min(tr, bucket)) : "");
	printf("\n");
}

static void print_breakdown(const struct report *r, const struct trend *tr)
{
	static const struct row rows[] = {
		{ "anon", MS_anon, TB_anon },
		{ "  active_anon", MS_active_anon, TB_active_anon },
		{ "  inactive_anon", MS_inactive_anon, TB_inactive_anon },
		{ "  huge (THP)", MS_anon_thp, -1 },
		{ "file cache", MS_file, TB_file },
		{ "  active_file", MS_active_file, TB_active_file },
		{ "  inactive_file", MS_inactive_file, TB_inactive_file },
		{ "  mapped", MS_file_mapped, -1 },
		{ "  dirty", MS_file_dirty, -1 },
		{ "  writeback", MS_file_writeback, -1 },
		{ "  shmem/tmpfs", MS_shmem, TB_shmem },
		{ "  huge (file THP)", MS_file_thp, -1 },
		{ "unevictable", MS_unevictable, -1 },
		{ "hugetlb pages", MS_hugetlb, -1 },
		{ "kernel", MS_kernel, TB_kernel },
		{ "  slab reclaim.", MS_slab_reclaimable, -1 },
		{ "  slab unreclaim.", MS_slab_unreclaimable, -1 },
		{ "  kernel stacks", MS_kernel_stack, -1 },
		{ "  page tables", MS_pagetables, -1 },
		{ "  percpu", MS_percpu, -1 },
		{ "  vmalloc", MS_vmalloc, -1 },
	};
	const struct memstat *ms = r->ms;
	bool trend = tr && tr->n >= 2;

	printf("\n%-18s %10s %9s%s\n", "BREAKDOWN", "SIZE", ceiling_name(r), trend ? "   TREND/min" : "");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (!memstat_has(ms, rows[i].field))
			continue;
		/* Empty huge page and hugetlb rows are noise. */
		if ((rows[i].field == MS_anon_thp || rows[i].field == MS_file_thp || rows[i].field == MS_hugetlb) &&
		    !memstat_get(ms, rows[i].field))
			continue;
		print_row(r, tr, rows[i].label, memstat_get(ms, rows[i].field), rows[i].bucket);
	}
	if (r->have_sock)
		print_row(r, tr, r->kind == T_HOST ? "socket buffers" : "sock", r->sock, TB_sock);
	if (r->have_swap)
		print_row(r, tr, "swap", r->swap, TB_swap);
	if (trend)
		print_row(r, tr, "working set", r->ws.working_set, TB_working_set);
}

static void print_why(const struct report *r)
{
	const struct working_set *ws = &r->ws;
	const struct memstat *ms = r->ms;
	uint64_t shmem = ms->shmem;
	uint64_t missing = ws->working_set > ws->usage_minus_cache ? ws->working_set - ws->usage_minus_cache : 0;

	printf("\nWHY THE NUMBERS DIFFER\n");
	printf("  %-17s %10s  usage - inactive_file: what kubelet/cAdvisor compare with the limit\n",
	       "working set", H(ws->working_set));
	uint64_t other = ws->usage > ws->rss_plus_cache ? ws->usage - ws->rss_plus_cache : 0;
	printf("  %-17s %10s  %s vs working set: it counts %s of inactive page cache (reclaimed before any "
	       "OOM kill)", "rss + cache", H(ws->rss_plus_cache),
	       HR((double)ws->rss_plus_cache - (double)ws->working_set), H(ws->inactive_file));
	if (other > ws->usage / 100)
		printf(" but not the %s of kernel and other memory in usage", H(other));
	printf("\n");
	printf("  %-17s %10s  the same pages sorted by LRU list: no double count, still has inactive_file\n",
	       "sum of LRU lists", H(ws->lru_sum));
	printf("  %-17s %10s  %s less: also drops active file %s and shmem %s, which are not freed cheaply\n",
	       "usage - cache", H(ws->usage_minus_cache), H(missing), H(ms->active_file), H(shmem));
	printf("  %-17s %10s  anonymous pages only: no page cache, no shmem%s\n", "rss", H(ws->rss),
	       r->kind == T_HOST ? "" : ", no kernel memory");
}

static void print_evidence(const struct evidence *e)
{
	switch (e->kind) {
	case EV_BYTES: printf("%s=%s", e->name, H(e->val)); break;
	case EV_PCT: printf("%s=%.1f%%", e->name, e->val); break;
	case EV_RATE: printf("%s=%s/min", e->name, HR(e->val)); break;
	default: printf("%s=%.0f", e->name, e->val); break;
	}
}

static void print_findings(const struct diag *d)
{
	printf("\nFINDINGS%s\n", d->n ? " (most important first)" : "");
	if (!d->n)
		printf("  none: no OOM kills, no pressure, working set well below the ceiling\n");
	for (int i = 0; i < d->n; i++) {
		const struct finding *f = &d->f[i];
		printf("%2d. [%s] %s\n", i + 1, severity_name(f->sev), f->msg);
		printf("      evidence: ");
		for (int k = 0; k < f->nev; k++) {
			if (k)
				printf(", ");
			print_evidence(&f->ev[k]);
		}
		printf("\n");
		if (f->suggest[0])
			printf("      next: %s\n", f->suggest);
	}
}

static void print_process(const struct report *r)
{
	const struct proc_status *st = &r->st;

	printf("\nPROCESS %d ", (int)r->pid);
	print_term(stdout, r->comm ? r->comm : st->name, 0);
	if (r->cmdline) {
		printf("  ");
		print_term(stdout, r->cmdline, 60);
	}
	printf("\n  rss %s = anon %s + file %s + shmem %s\n", H(st->vm_rss), H(st->rss_anon),
	       H(st->rss_file), H(st->rss_shmem));
	if (r->have_rollup)
		printf("  pss %s (anon %s, file %s, shmem %s), swap %s, locked %s\n", H(r->sr.pss),
		       H(r->sr.pss_anon), H(r->sr.pss_file), H(r->sr.pss_shmem), H(r->sr.swap), H(r->sr.locked));
	printf("  virtual %s, page tables %s, %llu threads, %lld open fds (limit %llu)\n", H(st->vm_size),
	       H(st->vm_pte), (unsigned long long)st->threads, (long long)r->fd_count,
	       (unsigned long long)r->fd_limit);
	if (!r->nmaps)
		return;
	printf("\n  LARGEST MAPPINGS (by RSS)\n  %10s %10s %10s %10s %4s  %s\n", "RSS", "PSS", "ANON", "SWAP",
	       "PERM", "MAPPING");
	for (int i = 0; i < r->nmaps; i++) {
		const struct mapping *m = &r->maps[i];
		printf("  %10s %10s %10s %10s %4s  ", H(m->rss), H(m->pss), H(m->anon), H(m->swap), m->perms);
		print_term(stdout, m->path, 0);
		printf(" (%s)\n", H(m->end - m->start));
	}
}

static void print_proc_table(const char *title, const struct host_proc *list, int n)
{
	printf("\n%s\n%8s %-16s %10s %10s %10s %10s %10s %10s\n", title, "PID", "COMMAND", "RSS", "ANON",
	       "FILE", "SHMEM", "PSS", "SWAP");
	for (int i = 0; i < n; i++) {
		const struct host_proc *p = &list[i];
		char comm[17];

		/* Escaped first, then cut to the column. */
		char *esc = term_escape(p->comm);
		snprintf(comm, sizeof(comm), "%s", esc ? esc : "?");
		free(esc);
		printf("%8d %-16s %10s %10s %10s %10s %10s %10s\n", (int)p->pid, comm, H(p->rss), H(p->anon),
		       H(p->file), H(p->shmem), p->have_pss ? H(p->pss) : "-", H(p->swap));
	}
}

static void print_host_procs(const struct report *r)
{
	char title[96];

	if (r->have_procs) {
		snprintf(title, sizeof(title), "TOP PROCESSES BY RSS (%d of %d with memory)", r->procs.nrss,
			 r->procs.nprocs);
		print_proc_table(title, r->procs.by_rss, r->procs.nrss);
		if (r->procs.nswap)
			print_proc_table("TOP PROCESSES BY SWAP (VmSwap)", r->procs.by_swap, r->procs.nswap);
	}
	if (r->swapio.have)
		printf("\nSWAP TRAFFIC: in %.1f pages/s (%s/s), out %.1f pages/s (%s/s) %s %s (/proc/vmstat "
		       "pswpin %llu, pswpout %llu)\n", r->swapio.in_per_s,
		       H(r->swapio.in_per_s * sysconf(_SC_PAGESIZE)), r->swapio.out_per_s,
		       H(r->swapio.out_per_s * sysconf(_SC_PAGESIZE)),
		       r->swapio.since_boot ? "on average since boot," : "over the last",
		       r->swapio.since_boot ? "use -i for the current rate" : fmt_duration(sz[szi = (szi + 1) % 8], r->swapio.window_s),
		       (unsigned long long)r->swapio.pswpin, (unsigned long long)r->swapio.pswpout);
}

static void print_report(const struct app *a)
{
	const struct report *r = &a->cur;
	const struct trend *tr = a->trend.n >= 2 ? &a->trend : NULL;

	if (r->kind == T_HOST) {
		printf("memdiag: host (/proc/meminfo)");
	} else {
		if (r->kind == T_PROCESS) {
			printf("memdiag: process %d (", (int)r->pid);
			print_term(stdout, r->comm ? r->comm : r->st.name, 0);
			printf(") in cgroup ");
		} else {
			printf("memdiag: cgroup ");
		}
		print_term(stdout, r->cg_rel, 0);
		printf(" (cgroup v%d, ", r->cm.version);
		print_term(stdout, r->cg_dir, 0);
		printf(")");
	}
	if (a->samples > 1)
		printf("  sample %llu, %.0f s", (unsigned long long)a->samples, wall_time() - a->t_start);
	printf("\nVERDICT: %s\n", r->diag.verdict);
	if (r->kind == T_PROCESS)
		print_process(r);
	print_summary(r);
	if (r->kind == T_HOST)
		print_host_procs(r);
	print_breakdown(r, tr);
	print_why(r);
	if (r->have_psi)
		printf("\nPRESSURE (%s): some avg10 %.2f%% avg60 %.2f%%, full avg10 %.2f%% avg60 %.2f%%\n",
		       r->psi_src, r->psi.some.avg10, r->psi.some.avg60, r->psi.full.avg10, r->psi.full.avg60);
	if (r->have_oom) {
		printf("OOM kills: %llu%s", (unsigned long long)r->oom_kills, r->kind == T_HOST ? " since boot" : "");
		if (r->last_kill.found) {
			char t[32];
			time_t when = (time_t)(wall_time() - r->last_kill_age_s);
			struct tm tm;

			localtime_r(&when, &tm);
			strftime(t, sizeof(t), "%Y-%m-%d %H:%M:%S", &tm);
			printf(", the last %s ago (%s): ", fmt_duration(sz[szi = (szi + 1) % 8], r->last_kill_age_s), t);
			print_term(stdout, r->last_kill.comm, 0);
			printf(" pid %d in ", r->last_kill.pid);
			print_term(stdout, r->last_kill.oom_memcg ? r->last_kill.oom_memcg : "?", 0);
		} else if (r->kill_log_read && r->oom_kills) {
			printf(" (no longer in the kernel log)");
		}
		printf("\n");
	}
	if (r->kind == T_CGROUP && r->fd_count >= 0)
		printf("processes: %d, open fds: %lld%s\n", r->nprocs, (long long)r->fd_count,
		       r->top_anon_pid ? "" : "");
	print_findings(&r->diag);
	fflush(stdout);
}

/* ---- JSON ---- */

static void jw_limit(struct jw *w, const char *key, uint64_t v)
{
	if (v == MEM_UNLIMITED)
		jw_null(w, key);
	else
		jw_u64(w, key, v);
}

static void json_findings(struct jw *w, const struct diag *d)
{
	jw_str(w, "verdict", d->verdict);
	jw_arr_begin(w, "findings");
	for (int i = 0; i < d->n; i++) {
		const struct finding *f = &d->f[i];
		jw_obj_begin(w, NULL);
		jw_str(w, "severity", severity_name(f->sev));
		jw_str(w, "code", f->code);
		jw_str(w, "message", f->msg);
		jw_str(w, "suggest", f->suggest[0] ? f->suggest : NULL);
		jw_obj_begin(w, "evidence");
		for (int k = 0; k < f->nev; k++) {
			const struct evidence *e = &f->ev[k];
			if (e->kind == EV_PCT)
				jw_double(w, e->name, e->val);
			else
				jw_i64(w, e->name, (int64_t)e->val);
		}
		jw_obj_end(w);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static void json_process(struct jw *w, const struct report *r)
{
	jw_obj_begin(w, "process");
	jw_i64(w, "pid", r->pid);
	jw_str(w, "comm", r->comm ? r->comm : r->st.name);
	jw_str(w, "cmdline", r->cmdline);
	jw_u64(w, "rss_bytes", r->st.vm_rss);
	jw_u64(w, "rss_anon_bytes", r->st.rss_anon);
	jw_u64(w, "rss_file_bytes", r->st.rss_file);
	jw_u64(w, "rss_shmem_bytes", r->st.rss_shmem);
	jw_u64(w, "vm_size_bytes", r->st.vm_size);
	jw_u64(w, "page_tables_bytes", r->st.vm_pte);
	/* Documented fields are always there: null without smaps_rollup. */
	static const char *const rollup_keys[] = { "pss_bytes", "pss_anon_bytes", "pss_file_bytes",
						   "pss_shmem_bytes", "swap_bytes", "locked_bytes" };
	const uint64_t rollup[] = { r->sr.pss, r->sr.pss_anon, r->sr.pss_file,
				    r->sr.pss_shmem, r->sr.swap, r->sr.locked };
	for (size_t i = 0; i < sizeof(rollup) / sizeof(rollup[0]); i++) {
		if (r->have_rollup)
			jw_u64(w, rollup_keys[i], rollup[i]);
		else
			jw_null(w, rollup_keys[i]);
	}
	jw_i64(w, "fd_count", r->fd_count);
	jw_u64(w, "fd_limit", r->fd_limit);
	jw_u64(w, "threads", r->st.threads);
	jw_arr_begin(w, "largest_mappings");
	for (int i = 0; i < r->nmaps; i++) {
		const struct mapping *m = &r->maps[i];
		jw_obj_begin(w, NULL);
		jw_str(w, "path", m->path);
		jw_str(w, "perms", m->perms);
		jw_u64(w, "start", m->start);
		jw_u64(w, "size_bytes", m->end - m->start);
		jw_u64(w, "rss_bytes", m->rss);
		jw_u64(w, "pss_bytes", m->pss);
		jw_u64(w, "anon_bytes", m->anon);
		jw_u64(w, "swap_bytes", m->swap);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_obj_end(w);
}

static void json_proc_list(struct jw *w, const char *key, const struct host_proc *list, int n)
{
	jw_arr_begin(w, key);
	for (int i = 0; i < n; i++) {
		const struct host_proc *p = &list[i];

		jw_obj_begin(w, NULL);
		jw_i64(w, "pid", p->pid);
		jw_str(w, "comm", p->comm);
		jw_u64(w, "rss_bytes", p->rss);
		jw_u64(w, "rss_anon_bytes", p->anon);
		jw_u64(w, "rss_file_bytes", p->file);
		jw_u64(w, "rss_shmem_bytes", p->shmem);
		if (p->have_pss)
			jw_u64(w, "pss_bytes", p->pss);
		else
			jw_null(w, "pss_bytes");
		jw_u64(w, "swap_bytes", p->swap);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static void json_host_procs(struct jw *w, const struct report *r)
{
	if (r->have_procs) {
		jw_u64(w, "processes", r->procs.nprocs);
		json_proc_list(w, "top_processes", r->procs.by_rss, r->procs.nrss);
		json_proc_list(w, "top_swap_processes", r->procs.by_swap, r->procs.nswap);
	} else {
		jw_null(w, "processes");
		jw_null(w, "top_processes");
		jw_null(w, "top_swap_processes");
	}
	if (!r->swapio.have) {
		jw_null(w, "swap_io");
		return;
	}
	jw_obj_begin(w, "swap_io");
	jw_u64(w, "pswpin", r->swapio.pswpin);
	jw_u64(w, "pswpout", r->swapio.pswpout);
	jw_double(w, "in_pages_per_s", r->swapio.in_per_s);
	jw_double(w, "out_pages_per_s", r->swapio.out_per_s);
	jw_str(w, "window", r->swapio.since_boot ? "since_boot" : "interval");
	jw_double(w, "window_s", r->swapio.window_s);
	jw_obj_end(w);
}

static void print_json(const struct app *a)
{
	const struct report *r = &a->cur;
	const struct working_set *ws = &r->ws;
	const struct trend *tr = a->trend.n >= 2 ? &a->trend : NULL;
	struct jw w;

	jw_init(&w, stdout);
	jw_obj_begin(&w, NULL);
	jw_str(&w, "tool", "memdiag");
	jw_str(&w, "target", r->kind == T_HOST ? "host" : r->kind == T_CGROUP ? "cgroup" : "process");
	jw_u64(&w, "sample", a->samples);
	jw_double(&w, "elapsed_s", wall_time() - a->t_start);
	if (r->kind != T_HOST) {
		jw_obj_begin(&w, "cgroup");
		jw_str(&w, "path", r->cg_rel);
		jw_str(&w, "dir", r->cg_dir);
		jw_i64(&w, "version", r->cm.version);
		jw_bool(&w, "root", r->cm.root);
		jw_u64(&w, "peak_bytes", r->cm.peak);
		jw_limit(&w, "high_bytes", r->cm.high);
		if (r->fd_count >= 0 && r->kind == T_CGROUP) {
			jw_i64(&w, "processes", r->nprocs);
			jw_i64(&w, "fd_count", r->fd_count);
		} else {
			jw_null(&w, "processes");
			jw_null(&w, "fd_count");
		}
		if (r->top_anon_pid)
			jw_i64(&w, "top_anon_pid", r->top_anon_pid);
		else
			jw_null(&w, "top_anon_pid");
		jw_obj_end(&w);
	} else {
		jw_null(&w, "cgroup");
	}
	if (r->kind == T_PROCESS)
		json_process(&w, r);
	else
		jw_null(&w, "process");
	jw_u64(&w, "ram_bytes", r->mi.mem_total);
	jw_u64(&w, "working_set_bytes", ws->working_set);
	jw_u64(&w, "usage_bytes", ws->usage);
	jw_str(&w, "usage_source", r->usage_src);
	jw_u64(&w, "rss_bytes", ws->rss);
	jw_u64(&w, "cache_bytes", ws->cache);
	jw_u64(&w, "inactive_file_bytes", ws->inactive_file);
	jw_limit(&w, "limit_bytes", ws->limit);
	jw_str(&w, "limit_source", r->limit_src);
	jw_limit(&w, "headroom_bytes", ws->headroom);
	jw_limit(&w, "eviction_working_set_bytes", r->eviction_ws);
	if (r->kind == T_HOST) {
		jw_u64(&w, "available_bytes", r->mi.mem_available);
		json_host_procs(&w, r);
	}
	jw_obj_begin(&w, "naive");
	jw_u64(&w, "rss_plus_cache_bytes", ws->rss_plus_cache);
	jw_u64(&w, "lru_sum_bytes", ws->lru_sum);
	jw_u64(&w, "usage_minus_cache_bytes", ws->usage_minus_cache);
	jw_obj_end(&w);
	jw_obj_begin(&w, "breakdown");
	for (int f = 0; f < MS_NFIELDS; f++) {
		if (!memstat_has(r->ms, f) || f == MS_pgfault || f == MS_pgmajfault || f == MS_refault_anon ||
		    f == MS_refault_file || f == MS_hier_limit || f == MS_hier_memsw_limit ||
		    f == MS_sock || f == MS_swap) /* below, once: from the best source */
			continue;
		char key[64];
		snprintf(key, sizeof(key), "%s_bytes", memstat_field_name(f));
		jw_u64(&w, key, memstat_get(r->ms, f));
	}
	if (r->have_sock)
		jw_u64(&w, "sock_bytes", r->sock);
	else
		jw_null(&w, "sock_bytes");
	if (r->have_swap)
		jw_u64(&w, "swap_bytes", r->swap);
	else
		jw_null(&w, "swap_bytes");
	jw_obj_end(&w);
	if (r->have_oom)
		jw_u64(&w, "oom_kills", r->oom_kills);
	else
		jw_null(&w, "oom_kills");
	if (r->last_kill.found) {
		jw_obj_begin(&w, "last_oom_kill");
		jw_double(&w, "age_s", r->last_kill_age_s);
		jw_u64(&w, "time_unix_ms", (uint64_t)((wall_time() - r->last_kill_age_s) * 1000));
		jw_str(&w, "comm", r->last_kill.comm);
		jw_i64(&w, "pid", r->last_kill.pid);
		jw_str(&w, "oom_memcg", r->last_kill.oom_memcg);
		jw_obj_end(&w);
	} else {
		jw_null(&w, "last_oom_kill");
	}
	if (r->have_psi) {
		jw_obj_begin(&w, "psi");
		jw_str(&w, "source", r->psi_src);
		jw_double(&w, "some_avg10", r->psi.some.avg10);
		jw_double(&w, "some_avg60", r->psi.some.avg60);
		jw_double(&w, "full_avg10", r->psi.full.avg10);
		jw_double(&w, "full_avg60", r->psi.full.avg60);
		jw_obj_end(&w);
	} else {
		jw_null(&w, "psi");
	}
	if (!tr)
		jw_null(&w, "trend_bytes_per_min");
	if (tr) {
		jw_obj_begin(&w, "trend_bytes_per_min");
		jw_double(&w, "span_s", trend_span_s(tr));
		for (int b = 0; b < TB_N; b++)
			jw_i64(&w, trend_bucket_name(b), i64_saturate(trend_per_min(tr, b)));
		jw_obj_end(&w);
	}
	json_findings(&w, &r->diag);
	jw_obj_end(&w);
}

/* ---- one sample ---- */

static int take_sample(struct app *a)
{
	struct report *r = &a->cur;
	enum target_kind kind = r->kind;
	const char *targ = r->target_arg;
	pid_t pid = r->pid;
	int err;

	report_clear(r);
	r->kind = kind;
	r->snapshot = a->env.snapshot != NULL;
	r->target_arg = targ;
	r->pid = pid;
	if ((err = read_meminfo(&r->mi)))
		return err;
	if (kind == T_HOST) {
		gather_host(r);
		r->have_procs = host_procs_scan(&r->procs) == 0;
		swap_io_read(&r->swapio, a->samples ? &a->prev_swapio : NULL);
		a->prev_swapio = r->swapio;
	} else {
		if (kind == T_PROCESS) {
			char *v2 = NULL, *v1 = NULL;
			if ((err = cgroup_of_pid(pid, &v2, &v1)) || (err = gather_process(r, a->env.nmaps))) {
				free(v2);
				free(v1);
				return err;
			}
			const struct cgroup_layout *l = cgroup_layout();
			const char *rel = !l->memory_on_v2 && l->v1_memory[0] && v1 ? v1 : v2 ? v2 : "/";
			r->cg_rel = strdup(rel);
			r->cg_dir = a->env.snapshot ? strdup(a->env.snapshot) : cgroup_memory_dir(rel);
			free(v2);
			free(v1);
		} else {
			r->cg_dir = strdup(a->env.snapshot ? a->env.snapshot : a->cgt.dir);
			r->cg_rel = strdup(a->env.snapshot ? a->env.snapshot : a->cgt.rel);
		}
		if ((err = gather_cgroup(a, r, kind == T_CGROUP && !a->env.snapshot)))
			return err;
		if (kind == T_PROCESS) {
			int fds = proc_fd_count(pid);
			r->fd_count = fds >= 0 ? fds : -1;
			r->fd_limit = proc_nofile_limit(pid);
		}
	}
	a->samples++;
	double vals[TB_N];
	trend_values(r->ms, &r->ws, r->swap, r->sock, vals);
	trend_add(&a->trend, wall_time(), vals);
	find_last_kill(r);
	run_diagnosis(r, a->trend.n >= 3 ? &a->trend : NULL);
	return 0;
}

static void say_bad_file(const char *dir, const char *name)
{
	char *e = term_escape(dir);

	die_msg("%s/%s does not hold a number", e, name);
	free(e);
}

static int sample_and_print(void *ctx)
{
	struct app *a = ctx;
	int err = take_sample(a);

	if (err) {
		if (a->cur.kind == T_PROCESS && (err == -ESRCH || err == -ENOENT))
			die_msg("process %d is gone", (int)a->cur.pid);
		else if (err == -EBADMSG && a->cur.cm.bad_file)
			say_bad_file(a->cur.cg_dir, a->cur.cm.bad_file);
		else
			die_msg("cannot read memory accounting: %s", strerror(-err));
		a->failed = 1;
		return 1;
	}
	if (a->env.common.json)
		print_json(a);
	else {
		if (a->samples > 1)
			printf("\n");
		print_report(a);
	}
	return a->env.count && a->samples >= a->env.count;
}

/* ---- --all-cgroups ---- */

struct cg_row {
	char *rel;
	int version;
	struct working_set ws;
	uint64_t anon, inactive_anon, oom_kills;
	double ws_pct;
	const char *top_code;
	enum severity top_sev;
};

struct cg_list { struct cg_row *v; size_t n, cap; uint64_t ram; const char *mount; };

static void collect_one(struct cg_list *l, const char *dir)
{
	struct report r = { .kind = T_CGROUP };
	r.cg_dir = strdup(dir);
	if (gather_cgroup(NULL, &r, false)) {
		free(r.cg_dir);
		cgroup_mem_free(&r.cm);
		return;
	}
	r.mi.mem_total = l->ram;
	run_diagnosis(&r, NULL);
	ARRAY_GROW(l->v, l->n, l->cap, 64);
	struct cg_row *row = &l->v[l->n++];
	const char *rel = dir + strlen(l->mount);
	row->rel = strdup(*rel ? rel : "/");
	row->version = r.cm.version;
	row->ws = r.ws;
	row->anon = r.ms->anon;
	row->inactive_anon = r.ms->inactive_anon;
	row->oom_kills = r.oom_kills;
	row->ws_pct = r.ws.limit == MEM_UNLIMITED ? -1 : pct_of(r.ws.working_set, r.ws.limit);
	row->top_code = r.diag.n ? r.diag.f[0].code : "-";
	row->top_sev = r.diag.n ? r.diag.f[0].sev : SEV_INFO;
	report_clear(&r);
}

static void walk_one(const char *dir, int depth, void *l)
{
	(void)depth;
	collect_one(l, dir);
}

static enum sort_key g_sort;
static int row_cmp(const void *a, const void *b)
{
	const struct cg_row *x = a, *y = b;
	if (g_sort == SORT_LIMIT && x->ws_pct != y->ws_pct)
		return x->ws_pct < y->ws_pct ? 1 : -1;
	return x->ws.working_set < y->ws.working_set ? 1 : x->ws.working_set > y->ws.working_set ? -1 : 0;
}

static int all_cgroups(struct app *a)
{
	const struct cgroup_layout *lay = cgroup_layout();
	const char *mount = lay->memory_on_v2 ? lay->v2_mount : lay->v1_memory;
	struct meminfo mi;
	struct cg_list l = { .mount = mount };

	if (!mount[0]) {
		die_msg("no memory cgroup hierarchy is mounted (neither v1 memory nor cgroup2 with memory)");
		return 1;
	}
	if (read_meminfo(&mi)) {
		die_msg("cannot read /proc/meminfo");
		return 1;
	}
	l.ram = mi.mem_total;
	cgroup_walk(mount, 33, walk_one, &l); /* deeper than any real hierarchy */
	g_sort = a->env.sort;
	qsort(l.v, l.n, sizeof(*l.v), row_cmp);
	size_t shown = a->env.top && a->env.top < l.n ? a->env.top : l.n;

	if (a->env.common.json) {
		struct jw w;
		jw_init(&w, stdout);
		jw_obj_begin(&w, NULL);
		jw_str(&w, "tool", "memdiag");
		jw_str(&w, "target", "all_cgroups");
		jw_str(&w, "mount", mount);
		jw_str(&w, "sort", a->env.sort == SORT_LIMIT ? "limit_share" : "working_set");
		jw_u64(&w, "cgroups_total", l.n);
		jw_arr_begin(&w, "cgroups");
		for (size_t i = 0; i < shown; i++) {
			const struct cg_row *c = &l.v[i];
			jw_obj_begin(&w, NULL);
			jw_str(&w, "path", c->rel);
			jw_i64(&w, "version", c->version);
			jw_u64(&w, "working_set_bytes", c->ws.working_set);
			jw_u64(&w, "usage_bytes", c->ws.usage);
			jw_u64(&w, "rss_bytes", c->anon);
			jw_u64(&w, "cache_bytes", c->ws.cache);
			jw_u64(&w, "inactive_anon_bytes", c->inactive_anon);
			jw_limit(&w, "limit_bytes", c->ws.limit);
			if (c->ws_pct >= 0)
				jw_double(&w, "working_set_pct_of_limit", c->ws_pct);
			else
				jw_null(&w, "working_set_pct_of_limit");
			jw_u64(&w, "oom_kills", c->oom_kills);
			jw_str(&w, "top_finding", strcmp(c->top_code, "-") ? c->top_code : NULL);
			jw_obj_end(&w);
		}
		jw_arr_end(&w);
		jw_obj_end(&w);
	} else {
		printf("memdiag: %zu memory cgroups under %s, by %s (top %zu)\n", l.n, mount,
		       a->env.sort == SORT_LIMIT ? "share of limit" : "working set", shown);
		printf("%10s %7s %10s %10s %10s %10s %5s  %-16s %s\n", "WSET", "%LIMIT", "USAGE", "RSS",
		       "INACT_ANON", "LIMIT", "OOMS", "TOP FINDING", "CGROUP");
		for (size_t i = 0; i < shown; i++) {
			const struct cg_row *c = &l.v[i];
			char pct[16];
			if (c->ws_pct >= 0)
				snprintf(pct, sizeof(pct), "%.1f%%", c->ws_pct);
			else
				snprintf(pct, sizeof(pct), "-");
			printf("%10s %7s %10s %10s %10s %10s %5llu  %-16s ", H(c->ws.working_set), pct, H(c->ws.usage),
			       H(c->anon), H(c->inactive_anon), c->ws.limit == MEM_UNLIMITED ? "none" : H(c->ws.limit),
			       (unsigned long long)c->oom_kills, c->top_code);
			print_term(stdout, c->rel, 0);
			printf("\n");
		}
	}
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i].rel);
	free(l.v);
	return 0;
}

/* ---- command line ---- */

enum { OPT_ALL = 0x2000, OPT_SORT, OPT_TOP, OPT_MAPS, OPT_SNAPSHOT };

static const char doc[] =
	"memdiag: where the memory of the host, a cgroup or a process is, its working set "
	"(as the kubelet computes it) against RSS, usage and the limit, and what it means.\v"
	"EXAMPLES\n"
	"  memdiag                          the host: /proc/meminfo, PSI, OOM kills\n"
	"  memdiag -c /kubepods/pod1234     a cgroup (v1 or v2 path, or container/pod id)\n"
	"  memdiag -p 4242                  a process (RSS, PSS, mappings, fds) and its cgroup\n"
	"  memdiag -c web -i 10 -n 30       30 samples 10 s apart: growth per minute of each bucket\n"
	"  memdiag --all-cgroups --sort limit   every memory cgroup, closest to its limit first\n"
	"  memdiag --snapshot ./copied-cgroup   memory.* files copied from another machine\n"
	"\nExit status: 0 when the report was made, 1 on bad input or unreadable files.";

static const struct argp_option options[] = {
	{ "all-cgroups", OPT_ALL, NULL, 0, "Rank every memory cgroup", 0 },
	{ "sort", OPT_SORT, "KEY", 0, "--all-cgroups order: ws (working set, default) or limit (share of limit)", 0 },
	{ "top", OPT_TOP, "N", 0, "--all-cgroups: show the first N (default 20, 0 = all)", 0 },
	{ "count", 'n', "N", 0, "With -i: stop after N samples", 0 },
	{ "maps", OPT_MAPS, "N", 0, "With -p: show the N largest mappings (default 8, 0 = none)", 0 },
	{ "snapshot", OPT_SNAPSHOT, "DIR", 0, "Read memory.* files from DIR instead of a live cgroup", 0 },
	{},
};

static error_t parse_opt(int key, char *arg, struct argp_state *st)
{
	struct env *e = st->input;

	switch (key) {
	case ARGP_KEY_INIT:
		st->child_inputs[0] = &e->common;
		break;
	case OPT_ALL: e->all_cgroups = true; break;
	case OPT_SORT:
		if (!strcmp(arg, "ws") || !strcmp(arg, "working-set"))
			e->sort = SORT_WS;
		else if (!strcmp(arg, "limit"))
			e->sort = SORT_LIMIT;
		else
			argp_error(st, "invalid sort key '%s': ws or limit", arg);
		break;
	case OPT_TOP: e->top = argp_u64(st, "--top", arg, 0, 1000000); break;
	case 'n': e->count = argp_u64(st, "count", arg, 1, 10000000); break;
	case OPT_MAPS: e->nmaps = argp_u64(st, "--maps", arg, 0, MAX_MAPS); break;
	case OPT_SNAPSHOT: e->snapshot = arg; break;
	case ARGP_KEY_ARG:
		argp_error(st, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		if (e->all_cgroups && (e->common.pid || e->common.cgroup || e->snapshot))
			argp_error(st, "--all-cgroups takes no -p, -c or --snapshot");
		if (e->common.pid && e->common.cgroup)
			argp_error(st, "give -p or -c, not both");
		if (e->snapshot && e->common.pid)
			argp_error(st, "--snapshot replaces -c, not -p");
		if (e->count && !e->common.interval_s)
			argp_error(st, "-n needs -i");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static int resolve_target(struct app *a)
{
	struct env *e = &a->env;
	struct report *r = &a->cur;

	r->kind = T_HOST;
	if (e->common.pid) {
		r->kind = T_PROCESS;
		r->pid = e->common.pid;
		if (!proc_exists(r->pid)) {
			die_msg("no process with pid %d", (int)r->pid);
			return -1;
		}
		static char targ[32];
		snprintf(targ, sizeof(targ), "-p %d", (int)r->pid);
		r->target_arg = targ;
	} else if (e->snapshot) {
		r->kind = T_CGROUP;
		r->target_arg = "";
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/memory.stat", e->snapshot);
		if (access(path, R_OK)) {
			char *esc = term_escape(e->snapshot);
			die_msg("snapshot '%s' has no readable memory.stat", esc);
			free(esc);
			return -1;
		}
	} else if (e->common.cgroup) {
		r->kind = T_CGROUP;
		char *esc = term_escape(e->common.cgroup);
		if (cgroup_resolve(e->common.cgroup, &a->cgt)) {
			die_msg("cgroup '%s' not found (a path under the memory hierarchy, or a container/pod id)", esc);
			free(esc);
			return -1;
		}
		char mstat[PATH_MAX];
		snprintf(mstat, sizeof(mstat), "%s/memory.stat", a->cgt.dir);
		if (access(mstat, R_OK)) {
			die_msg("cgroup '%s' has no memory accounting (no memory.stat in it)", esc);
			free(esc);
			return -1;
		}
		free(esc);
		static char targ[PATH_MAX + 8];
		snprintf(targ, sizeof(targ), "-c %s", a->cgt.rel);
		r->target_arg = targ;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct argp_child children[] = { { &common_argp, 0, NULL, 0 }, {} };
	static struct argp argp = { options, parse_opt, "[-p PID | -c CGROUP | --all-cgroups]", doc,
				    children, NULL, NULL };
	static struct app a;
	int status = 0;

	a.env.nmaps = DEFAULT_MAPS;
	a.env.top = DEFAULT_TOP;
	cli_select(CLI_PID | CLI_CGROUP | CLI_INTERVAL | CLI_DURATION);
	if (argp_parse(&argp, argc, argv, 0, NULL, &a.env))
		return 1;
	out_set_json(a.env.common.json, "memdiag");

	if (a.env.all_cgroups)
		return all_cgroups(&a);
	if (resolve_target(&a))
		return 1;

	a.t_start = wall_time();
	trend_init(&a.trend);
	bool once = a.env.common.interval_s <= 0;
	if (sample_and_print(&a) || once || a.failed) {
		status = a.failed;
	} else {
		struct loop_opts lo = {
			.interval_s = a.env.common.interval_s,
			.duration_s = a.env.common.duration_s,
			.watch_pid = a.cur.kind == T_PROCESS ? a.cur.pid : 0,
			.on_interval = sample_and_print,
			.ctx = &a,
		};
		loop_signals_install();
		enum loop_stop why = loop_run(&lo);
		if (why == LOOP_TARGET_EXIT && !a.env.common.json)
			printf("\nprocess %d exited: stopping\n", (int)a.cur.pid);
		status = a.failed;
	}
	report_clear(&a.cur);
	cgroup_target_free(&a.cgt);
	free(a.seen);
	return status;
}
