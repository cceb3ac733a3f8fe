// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* memdiag's printers: text and JSON of what memdiag_gather.c collected. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "memdiag_report.h"
#include "output.h"

static char sz[8][HUMAN_LEN];
static int szi;
/* Human size, from a few rotating buffers so one printf can hold several. */
static const char *H(uint64_t b)
{
	szi = (szi + 1) % 8;
	return fmt_bytes(sz[szi], b);
}

/* A signed size: "+1.2 MiB", "-300 KiB". */
static const char *HD(double bytes)
{
	szi = (szi + 1) % 8;
	return fmt_bytes_delta(sz[szi], i64_saturate(bytes));
}

/* A trend for people, per second as in memleak-trace and sockleak (the
 * trend and the JSON keep bytes per minute). */
static const char *HR(double per_min)
{
	static char rate[8][HUMAN_LEN + 2];
	const char *d = HD(per_min / 60.0);

	snprintf(rate[szi], sizeof(rate[szi]), "%s/s", d);
	return rate[szi];
}

/* ---- plain output ---- */

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
		printf("; growth since: %s", HR(mi->growth.per_s * 60));
		if (isinf(mi->eta_s))
			printf(", not growing towards the limit");
		else if (!isnan(mi->eta_s))
			printf(", limit in ~%s", fmt_duration(sz[szi = (szi + 1) % 8], mi->eta_s));
	}
	printf("; previous incarnation grew %s over %s to %s\n", HR(in->prev.per_s * 60),
	       fmt_duration(sz[szi = (szi + 1) % 8], mi->prev_span_s), H((uint64_t)in->prev_peak));
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

/* The kernel keeps no usage counter for the root cgroup: memdiag adds
 * its rss and cache, while a child's counter also charges kernel memory
 * (slab, stacks, page tables, sockets), so a child can show more. */
#define ROOT_USAGE_WHY " (the root has no usage counter: no kernel memory, which its children's usage counts)"

static void print_summary(const struct md_report *r)
{
	const struct working_set *ws = &r->ws;
	uint64_t c = ceiling(r);

	printf("\n%-18s %10s %9s\n", "", "SIZE", ceiling_name(r));
	printf("%-18s %10s", "working set", H(ws->working_set));
	print_pct_col(ws->working_set, c);
	printf("   usage - inactive_file, as kubelet/cAdvisor\n");
	printf("%-18s %10s", "rss (anon)", H(ws->rss));
	print_pct_col(ws->rss, c);
	printf("   %s\n", r->kind == MD_HOST ? "AnonPages" : r->cm.version == 1 ? "total_rss" : "anon");
	printf("%-18s %10s", "usage", H(ws->usage));
	print_pct_col(ws->usage, c);
	printf("   %s%s\n", r->usage_src,
	       r->kind == MD_HOST ? "" : r->cm.root ? ROOT_USAGE_WHY :
	       r->cm.version == 1 ? " (approximate: per-CPU charge batches)" : "");
	if (r->kind == MD_HOST) {
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

static void print_row(const struct md_report *r, const struct trend *tr, const char *label,
		      uint64_t v, int bucket)
{
	printf("%-18s %10s", label, H(v));
	print_pct_col(v, ceiling(r));
	if (tr && tr->n >= 2)
		printf(" %13s", bucket >= 0 ? HR(trend_per_min(tr, bucket)) : "");
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
	       "working set", H(ws->working_set));
	uint64_t other = ws->usage > ws->rss_plus_cache ? ws->usage - ws->rss_plus_cache : 0;
	printf("  %-17s %10s  %s vs working set: it counts %s of inactive page cache (reclaimed before any "
	       "OOM kill)", "rss + cache", H(ws->rss_plus_cache),
	       HD((double)ws->rss_plus_cache - (double)ws->working_set), H(ws->inactive_file));
	if (other > ws->usage / 100)
		printf(" but not the %s of kernel and other memory in usage", H(other));
	printf("\n");
	printf("  %-17s %10s  the same pages sorted by LRU list: no double count, still has inactive_file\n",
	       "sum of LRU lists", H(ws->lru_sum));
	printf("  %-17s %10s  %s less: also drops active file %s and shmem %s, which are not freed cheaply\n",
	       "usage - cache", H(ws->usage_minus_cache), H(missing), H(ms->active_file), H(shmem));
	printf("  %-17s %10s  anonymous pages only: no page cache, no shmem%s\n", "rss", H(ws->rss),
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
	case EV_BYTES: printf("%s=%s", e->name, H(e->val)); break;
	case EV_PCT: printf("%s=%.1f%%", e->name, e->val); break;
	case EV_RATE: printf("%.*s=%s", rate_name_len(e->name), e->name, HR(e->val)); break;
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
		const struct md_mapping *m = &r->maps[i];
		printf("  %10s %10s %10s %10s %4s  ", H(m->rss), H(m->pss), H(m->anon), H(m->swap), m->perms);
		print_term(stdout, m->path, 0);
		printf(" (%s)\n", H(m->end - m->start));
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
		printf("%8d %-16s %10s %10s %10s %10s %10s %10s  ", (int)p->pid, comm, H(p->rss), H(p->anon),
		       H(p->file), H(p->shmem), p->have_pss ? H(p->pss) : "-", H(p->swap));
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
		       H(r->swapio.in_per_s * sysconf(_SC_PAGESIZE)), r->swapio.out_per_s,
		       H(r->swapio.out_per_s * sysconf(_SC_PAGESIZE)),
		       r->swapio.since_boot ? "on average since boot," : "over the last",
		       r->swapio.since_boot ? "use -i for the current rate" : fmt_duration(sz[szi = (szi + 1) % 8], r->swapio.window_s),
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
		printf("  sample %llu, %.0f s", (unsigned long long)a->samples, wall_time() - a->t_start);
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
	if (r->kind == MD_CGROUP && r->fd_count >= 0)
		printf("processes: %d, open fds: %lld%s\n", r->nprocs, (long long)r->fd_count,
		       r->top_anon_pid ? "" : "");
	print_incarnation(&a->inc);
	print_findings(&r->diag);
	fflush(stdout);
}

/* ---- JSON ---- */

static void jw_finite(struct jw *w, const char *key, bool known, double v)
{
	if (known && isfinite(v))
		jw_double(w, key, v);
	else
		jw_null(w, key);
}

static void json_incarnation(struct jw *w, const struct md_incarnation *mi)
{
	const struct incarn *in = &mi->inc;

	if (!mi->followed) {
		jw_null(w, "incarnation");
		return;
	}
	jw_obj_begin(w, "incarnation");
	jw_u64(w, "restarts", in->restarts);
	jw_str(w, "cause", incarn_cause_name(in->cause));
	jw_u64(w, "start_time_unix_ms", (uint64_t)(mi->start_wall * 1000));
	if (in->cause == INCARN_OOM_KILL)
		jw_u64(w, "oom_kill", in->oom_at_start);
	else
		jw_null(w, "oom_kill");
	jw_u64(w, "samples", mi->growth.samples);
	jw_bool(w, "enough_samples", mi->growth.known);
	jw_finite(w, "growth_bytes_per_min", mi->growth.known, mi->growth.per_s * 60);
	/* null: unknown or no limit; a working set that does not grow has no ETA either. */
	jw_finite(w, "limit_eta_s", mi->growth.known, mi->eta_s);
	if (in->have_prev) {
		jw_obj_begin(w, "previous");
		jw_double(w, "growth_bytes_per_min", in->prev.per_s * 60);
		jw_double(w, "span_s", mi->prev_span_s);
		jw_u64(w, "peak_bytes", (uint64_t)in->prev_peak);
		jw_obj_end(w);
	} else {
		jw_null(w, "previous");
	}
	jw_obj_end(w);
}

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
			if (e->kind == EV_PCT || e->kind == EV_REAL)
				jw_double(w, e->name, e->val);
			else
				jw_i64(w, e->name, (int64_t)e->val);
		}
		jw_obj_end(w);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static void json_process(struct jw *w, const struct md_report *r)
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
		const struct md_mapping *m = &r->maps[i];
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
		jw_str(w, "cgroup", p->cgroup);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static void json_host_procs(struct jw *w, const struct md_report *r)
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

void md_print_json(const struct md_collector *a)
{
	const struct md_report *r = &a->cur;
	const struct working_set *ws = &r->ws;
	const struct trend *tr = a->trend.n >= 2 ? &a->trend : NULL;
	struct jw w;

	jw_init(&w, stdout);
	jw_obj_begin(&w, NULL);
	jw_str(&w, "tool", "memdiag");
	jw_str(&w, "target", r->kind == MD_HOST ? "host" : r->kind == MD_CGROUP ? "cgroup" : "process");
	jw_u64(&w, "sample", a->samples);
	jw_double(&w, "elapsed_s", wall_time() - a->t_start);
	if (r->kind != MD_HOST) {
		jw_obj_begin(&w, "cgroup");
		jw_str(&w, "path", r->cg_rel);
		jw_str(&w, "dir", r->cg_dir);
		jw_i64(&w, "version", r->cm.version);
		jw_bool(&w, "root", r->cm.root);
		jw_u64(&w, "peak_bytes", r->cm.peak);
		jw_limit(&w, "high_bytes", r->cm.high);
		if (r->fd_count >= 0 && r->kind == MD_CGROUP) {
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
	if (r->kind == MD_PROCESS)
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
	if (r->kind == MD_HOST) {
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
		for (int b = 0; b < TB_BYTES_N; b++)
			jw_i64(&w, trend_bucket_name(b), i64_saturate(trend_per_min(tr, b)));
		jw_obj_end(&w);
	}
	json_incarnation(&w, &a->inc);
	json_findings(&w, &r->diag);
	jw_obj_end(&w);
}

/* ---- --all-cgroups ---- */

void md_print_cgroups(const struct md_cg_list *l, enum md_sort sort, size_t top, bool json)
{
	size_t shown = top && top < l->n ? top : l->n;

	if (json) {
		struct jw w;
		jw_init(&w, stdout);
		jw_obj_begin(&w, NULL);
		jw_str(&w, "tool", "memdiag");
		jw_str(&w, "target", "all_cgroups");
		jw_str(&w, "mount", l->mount);
		jw_str(&w, "sort", sort == MD_SORT_LIMIT ? "limit_share" : "working_set");
		jw_u64(&w, "cgroups_total", l->n);
		jw_arr_begin(&w, "cgroups");
		for (size_t i = 0; i < shown; i++) {
			const struct md_cg_row *c = &l->v[i];
			jw_obj_begin(&w, NULL);
			jw_str(&w, "path", c->rel);
			jw_i64(&w, "version", c->version);
			jw_u64(&w, "working_set_bytes", c->ws.working_set);
			jw_u64(&w, "usage_bytes", c->ws.usage);
			jw_str(&w, "usage_source", c->usage_src);
			jw_u64(&w, "rss_bytes", c->anon);
			jw_u64(&w, "cache_bytes", c->ws.cache);
			jw_u64(&w, "inactive_anon_bytes", c->inactive_anon);
			jw_limit(&w, "limit_bytes", c->ws.limit);
			if (c->ws_pct >= 0)
				jw_double(&w, "working_set_pct_of_limit", c->ws_pct);
			else
				jw_null(&w, "working_set_pct_of_limit");
			jw_u64(&w, "oom_kills", c->oom_kills);
			if (c->procs >= 0)
				jw_i64(&w, "processes", c->procs);
			else
				jw_null(&w, "processes");
			jw_str(&w, "top_finding", strcmp(c->top_code, "-") ? c->top_code : NULL);
			jw_obj_end(&w);
		}
		jw_arr_end(&w);
		jw_obj_end(&w);
	} else {
		printf("memdiag: %zu memory cgroups under %s, by %s (top %zu)\n", l->n, l->mount,
		       sort == MD_SORT_LIMIT ? "share of limit" : "working set", shown);
		printf("%10s %7s %10s %10s %10s %10s %5s %6s  %-16s %s\n", "WSET", "%LIMIT", "USAGE", "RSS",
		       "INACT_ANON", "LIMIT", "OOMS", "PROCS", "TOP FINDING", "CGROUP");
		for (size_t i = 0; i < shown; i++) {
			const struct md_cg_row *c = &l->v[i];
			char pct[16];
			if (c->ws_pct >= 0)
				snprintf(pct, sizeof(pct), "%.1f%%", c->ws_pct);
			else
				snprintf(pct, sizeof(pct), "-");
			char procs[16] = "?";
			if (c->procs >= 0)
				snprintf(procs, sizeof(procs), "%d", c->procs);
			printf("%10s %7s %10s %10s %10s %10s %5llu %6s  %-16s ", H(c->ws.working_set), pct, H(c->ws.usage),
			       H(c->anon), H(c->inactive_anon), c->ws.limit == MEM_UNLIMITED ? "none" : H(c->ws.limit),
			       (unsigned long long)c->oom_kills, procs, c->top_code);
			print_term(stdout, c->rel, 0);
			printf("\n");
		}
		for (size_t i = 0; i < shown; i++)
			if (l->v[i].root)
				printf("/: usage is %s%s\n", l->v[i].usage_src, ROOT_USAGE_WHY);
	}
}
