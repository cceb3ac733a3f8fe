// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* memdiag's report of one sample as one JSON line (the fields the docs list). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memdiag_fmt.h"
#include "memdiag_report.h"
#include "output.h"

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
	jw_double(&w, "elapsed_s", r->wall - a->t_start);
	if (r->kind != MD_HOST) {
		jw_obj_begin(&w, "cgroup");
		jw_str(&w, "path", r->cg_rel);
		jw_str(&w, "dir", r->cg_dir);
		jw_i64(&w, "version", r->cm.version);
		jw_bool(&w, "root", r->cm.root);
		jw_u64(&w, "peak_bytes", r->cm.peak);
		md_jw_limit(&w, "high_bytes", r->cm.high);
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
	md_jw_limit(&w, "limit_bytes", ws->limit);
	jw_str(&w, "limit_source", r->limit_src);
	md_jw_limit(&w, "headroom_bytes", ws->headroom);
	md_jw_limit(&w, "eviction_working_set_bytes", r->eviction_ws);
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
		jw_u64(&w, "time_unix_ms", (uint64_t)((r->wall - r->last_kill_age_s) * 1000));
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
