// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* memdiag's text report of one sample, verdict first, for people. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "memdiag_fmt.h"
#include "memdiag_report.h"
#include "output.h"

static void print_clock(double wall)
{
	char t[16];
	time_t when = (time_t)wall;
	struct tm tm;

	localtime_r(&when, &tm);
	strftime(t, sizeof(t), "%H:%M:%S", &tm);
	printf("%s", t);
}

/* After a restart: when and why, the growth since (or why none yet) and
 * what the previous incarnation did. Nothing before the first restart:
 * the trend is then the whole run's. */
static void print_incarnation(const struct md_incarnation *mi)
{
	const struct incarn *in = &mi->inc;

	if (!mi->followed || !in->restarts)
		return;
	printf("restarted at ");
	print_clock(mi->start_wall);
	if (in->cause == INCARN_OOM_KILL)
		printf(" (OOM kill #%llu)", (unsigned long long)in->oom_at_start);
	else
		printf(" (the working set fell by half, a new process started)");
	if (in->restarts > 1)
		printf(", restart %u seen", in->restarts);
	if (!mi->growth.known) {
		printf("; growth since: not enough samples since the restart (%u over %.1f s; %d over %.0f s needed)",
		       mi->growth.samples, mi->growth.span_s, INCARN_MIN_SAMPLES, INCARN_MIN_SPAN_S);
	} else {
		printf("; growth since: %s", md_rate(mi->growth.per_s * 60));
		if (isinf(mi->eta_s))
			printf(", not growing towards the limit");
		else if (!isnan(mi->eta_s))
			printf(", limit in ~%s", md_duration(mi->eta_s));
	}
	printf("; previous incarnation grew %s over %s to %s\n", md_rate(in->prev.per_s * 60),
	       md_duration(mi->prev_span_s), md_size((uint64_t)in->prev_peak));
}

static void print_pct_col(uint64_t v, uint64_t whole)
{
	if (whole && whole != MEM_UNLIMITED)
		printf(" %8.1f%%", pct_of(v, whole));
	else
		printf(" %9s", "");
}

static const char *ceiling_name(const struct md_report *r)
{
	return r->kind == MD_HOST || r->ws.limit == MEM_UNLIMITED ? "% RAM" : "% LIMIT";
}

static uint64_t ceiling(const struct md_report *r)
{
	return r->kind == MD_HOST || r->ws.limit == MEM_UNLIMITED ? r->mi.mem_total : r->ws.limit;
}

static void print_summary(const struct md_report *r)
{
	const struct working_set *ws = &r->ws;
	uint64_t c = ceiling(r);

	printf("\n%-18s %10s %9s\n", "", "SIZE", ceiling_name(r));
	printf("%-18s %10s", "working set", md_size(ws->working_set));
	print_pct_col(ws->working_set, c);
	printf("   usage - inactive_file, as kubelet/cAdvisor\n");
	printf("%-18s %10s", "rss (anon)", md_size(ws->rss));
	print_pct_col(ws->rss, c);
	printf("   %s\n", r->kind == MD_HOST ? "AnonPages" : r->cm.version == 1 ? "total_rss" : "anon");
	printf("%-18s %10s", "usage", md_size(ws->usage));
	print_pct_col(ws->usage, c);
	printf("   %s%s\n", r->usage_src,
	       r->kind == MD_HOST ? "" : r->cm.root ? ROOT_USAGE_WHY :
	       r->cm.version == 1 ? " (approximate: per-CPU charge batches)" : "");
	if (r->kind == MD_HOST) {
		printf("%-18s %10s            MemTotal\n", "RAM", md_size(r->mi.mem_total));
		printf("%-18s %10s", "available", md_size(r->mi.mem_available));
		print_pct_col(r->mi.mem_available, c);
		printf("   MemAvailable (the kernel's estimate)\n");
		printf("%-18s %10s            kubelet hard eviction: memory.available < %s\n", "evicts at ws",
		       md_size(r->eviction_ws), md_size(DIAG_HOST_EVICTION_BYTES));
	} else if (ws->limit == MEM_UNLIMITED) {
		printf("%-18s %10s            no memory limit on this cgroup or above it\n", "limit", "none");
	} else {
		printf("%-18s %10s            %s\n", "limit", md_size(ws->limit), r->limit_src ? r->limit_src : "");
		printf("%-18s %10s", "headroom", md_size(ws->headroom));
		print_pct_col(ws->headroom, c);
		printf("   limit - working set: the OOM kill point for a container\n");
		if (r->cm.high != MEM_UNLIMITED)
			printf("%-18s %10s            memory.high: throttled and reclaimed above it\n", "high", md_size(r->cm.high));
	}
}

struct row {
	const char *label;
	int field;          /* enum memstat_field, or -1 for a special */
	int bucket;         /* trend bucket or -1 */
};

static void print_row(const struct md_report *r, const struct trend *tr, const char *label,
		      uint64_t v, int bucket)
{
	printf("%-18s %10s", label, md_size(v));
	print_pct_col(v, ceiling(r));
	if (tr && tr->n >= 2)
		printf(" %13s", bucket >= 0 ? md_rate(trend_per_min(tr, bucket)) : "");
	printf("\n");
}

static void print_breakdown(const struct md_report *r, const struct trend *tr)
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

	printf("\n%-18s %10s %9s%s\n", "BREAKDOWN", "SIZE", ceiling_name(r), trend ? "       TREND/s" : "");
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
		print_row(r, tr, r->kind == MD_HOST ? "socket buffers" : "sock", r->sock, TB_sock);
	if (r->have_swap)
		print_row(r, tr, "swap", r->swap, TB_swap);
	if (trend)
		print_row(r, tr, "working set", r->ws.working_set, TB_working_set);
}

static void print_why(const struct md_report *r)
{
	const struct working_set *ws = &r->ws;
	const struct memstat *ms = r->ms;
	uint64_t shmem = ms->shmem;
	uint64_t missing = ws->working_set > ws->usage_minus_cache ? ws->working_set - ws->usage_minus_cache : 0;

	printf("\nWHY THE NUMBERS DIFFER\n");
	printf("  %-17s %10s  usage - inactive_file: what kubelet/cAdvisor compare with the limit\n",
	       "working set", md_size(ws->working_set));
	uint64_t other = ws->usage > ws->rss_plus_cache ? ws->usage - ws->rss_plus_cache : 0;
	printf("  %-17s %10s  %s vs working set: it counts %s of inactive page cache (reclaimed before any "
	       "OOM kill)", "rss + cache", md_size(ws->rss_plus_cache),
	       md_size_delta((double)ws->rss_plus_cache - (double)ws->working_set), md_size(ws->inactive_file));
	if (other > ws->usage / 100)
		printf(" but not the %s of kernel and other memory in usage", md_size(other));
	printf("\n");
	printf("  %-17s %10s  the same pages sorted by LRU list: no double count, still has inactive_file\n",
	       "sum of LRU lists", md_size(ws->lru_sum));
	printf("  %-17s %10s  %s less: also drops active file %s and shmem %s, which are not freed cheaply\n",
	       "usage - cache", md_size(ws->usage_minus_cache), md_size(missing), md_size(ms->active_file), md_size(shmem));
	printf("  %-17s %10s  anonymous pages only: no page cache, no shmem%s\n", "rss", md_size(ws->rss),
	       r->kind == MD_HOST ? "" : ", no kernel memory");
}

/* "anon_rate_bytes_per_min" is the JSON key; the text shows "anon_rate"
 * with its value per second. */
static int rate_name_len(const char *name)
{
	const char *unit = strstr(name, "_bytes_per_min");

	return unit ? (int)(unit - name) : (int)strlen(name);
}

static void print_evidence(const struct evidence *e)
{
	switch (e->kind) {
	case EV_BYTES: printf("%s=%s", e->name, md_size(e->val)); break;
	case EV_PCT: printf("%s=%.1f%%", e->name, e->val); break;
	case EV_RATE: printf("%.*s=%s", rate_name_len(e->name), e->name, md_rate(e->val)); break;
	case EV_REAL: printf("%s=%+.1f", e->name, e->val); break;
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

static void print_process(const struct md_report *r)
{
	const struct proc_status *st = &r->st;

	printf("\nPROCESS %d ", (int)r->pid);
	print_term(stdout, r->comm ? r->comm : st->name, 0);
	if (r->cmdline) {
		printf("  ");
		print_term(stdout, r->cmdline, 60);
	}
	printf("\n  rss %s = anon %s + file %s + shmem %s\n", md_size(st->vm_rss), md_size(st->rss_anon),
	       md_size(st->rss_file), md_size(st->rss_shmem));
	if (r->have_rollup)
		printf("  pss %s (anon %s, file %s, shmem %s), swap %s, locked %s\n", md_size(r->sr.pss),
		       md_size(r->sr.pss_anon), md_size(r->sr.pss_file), md_size(r->sr.pss_shmem), md_size(r->sr.swap), md_size(r->sr.locked));
	printf("  virtual %s, page tables %s, %llu threads, %lld open fds (limit %llu)\n", md_size(st->vm_size),
	       md_size(st->vm_pte), (unsigned long long)st->threads, (long long)r->fd_count,
	       (unsigned long long)r->fd_limit);
	if (!r->nmaps)
		return;
	printf("\n  LARGEST MAPPINGS (by RSS)\n  %10s %10s %10s %10s %4s  %s\n", "RSS", "PSS", "ANON", "SWAP",
	       "PERM", "MAPPING");
	for (int i = 0; i < r->nmaps; i++) {
		const struct md_mapping *m = &r->maps[i];
		printf("  %10s %10s %10s %10s %4s  ", md_size(m->rss), md_size(m->pss), md_size(m->anon), md_size(m->swap), m->perms);
		print_term(stdout, m->path, 0);
		printf(" (%s)\n", md_size(m->end - m->start));
	}
}

#define CGROUP_COL 40
#define SHORT_ID   12   /* a container id as docker ps shows it */

/* A cgroup path for a table column, escaped: container ids (runs of 32+
 * hex digits) cut to 12 digits as docker ps shows them, then, when still
 * too wide, its last components that fit behind ".../" (the unit, pod or
 * container is at the end). JSON has the whole path. */
static void print_cgroup_col(const char *path)
{
	char *esc = term_escape(path ? path : "?");
	size_t o = 0, len;

	if (!esc) {
		printf("?");
		return;
	}
	for (size_t i = 0; esc[i];) {
		size_t run = 0;
		while (isxdigit((unsigned char)esc[i + run]))
			run++;
		size_t keep = run >= 32 ? SHORT_ID : run ? run : 1;
		memmove(esc + o, esc + i, keep);
		o += keep;
		i += run ? run : 1;
	}
	esc[o] = '\0';
	len = o;
	const char *tail = esc;
	if (len > CGROUP_COL) {
		tail = esc + len - (CGROUP_COL - 4);
		const char *slash = strchr(tail, '/');
		printf("...%s", slash ? slash : tail);
	} else {
		printf("%s", tail);
	}
	free(esc);
}

static void print_proc_table(const char *title, const struct host_proc *list, int n)
{
	printf("\n%s\n%8s %-16s %10s %10s %10s %10s %10s %10s  %s\n", title, "PID", "COMMAND", "RSS", "ANON",
	       "FILE", "SHMEM", "PSS", "SWAP", "MEMORY CGROUP");
	for (int i = 0; i < n; i++) {
		const struct host_proc *p = &list[i];
		char comm[17];

		/* Escaped first, then cut to the column. */
		char *esc = term_escape(p->comm);
		snprintf(comm, sizeof(comm), "%s", esc ? esc : "?");
		free(esc);
		printf("%8d %-16s %10s %10s %10s %10s %10s %10s  ", (int)p->pid, comm, md_size(p->rss), md_size(p->anon),
		       md_size(p->file), md_size(p->shmem), p->have_pss ? md_size(p->pss) : "-", md_size(p->swap));
		print_cgroup_col(p->cgroup);
		printf("\n");
	}
}

static void print_host_procs(const struct md_report *r)
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
		       md_size(r->swapio.in_per_s * sysconf(_SC_PAGESIZE)), r->swapio.out_per_s,
		       md_size(r->swapio.out_per_s * sysconf(_SC_PAGESIZE)),
		       r->swapio.since_boot ? "on average since boot," : "over the last",
		       r->swapio.since_boot ? "use -i for the current rate" : md_duration(r->swapio.window_s),
		       (unsigned long long)r->swapio.pswpin, (unsigned long long)r->swapio.pswpout);
}

void md_print_text(const struct md_collector *a)
{
	const struct md_report *r = &a->cur;
	const struct trend *tr = a->trend.n >= 2 ? &a->trend : NULL;

	if (r->kind == MD_HOST) {
		printf("memdiag: host (/proc/meminfo)");
	} else {
		if (r->kind == MD_PROCESS) {
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
		printf("  sample %llu, %.0f s", (unsigned long long)a->samples, r->wall - a->t_start);
	printf("\nVERDICT: %s\n", r->diag.verdict);
	if (r->kind == MD_PROCESS)
		print_process(r);
	print_summary(r);
	if (r->kind == MD_HOST)
		print_host_procs(r);
	print_breakdown(r, tr);
	print_why(r);
	if (r->have_psi)
		printf("\nPRESSURE (%s): some avg10 %.2f%% avg60 %.2f%%, full avg10 %.2f%% avg60 %.2f%%\n",
		       r->psi_src, r->psi.some.avg10, r->psi.some.avg60, r->psi.full.avg10, r->psi.full.avg60);
	if (r->have_oom) {
		printf("OOM kills: %llu%s", (unsigned long long)r->oom_kills, r->kind == MD_HOST ? " since boot" : "");
		if (r->last_kill.found) {
			char t[32];
			time_t when = (time_t)(r->wall - r->last_kill_age_s);
			struct tm tm;

			localtime_r(&when, &tm);
			strftime(t, sizeof(t), "%Y-%m-%d %H:%M:%S", &tm);
			printf(", the last %s ago (%s): ", md_duration(r->last_kill_age_s), t);
			print_term(stdout, r->last_kill.comm, 0);
			printf(" pid %d in ", r->last_kill.pid);
			print_term(stdout, r->last_kill.oom_memcg ? r->last_kill.oom_memcg : "?", 0);
		} else if (r->kill_log_read && r->oom_kills) {
			printf(" (no longer in the kernel log)");
		}
		printf("\n");
	}
	if (r->kind == MD_CGROUP && r->fd_count >= 0)
		printf("processes: %d, open fds: %lld%s\n", r->nprocs, (long long)r->fd_count,
		       r->top_anon_pid ? "" : "");
	print_incarnation(&a->inc);
	print_findings(&r->diag);
	fflush(stdout);
}
