// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* memleak-trace's report as one JSON line; a function of the snapshot. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memleak_verdict.h"
#include "memleak_views.h"
#include "output.h"

static void json_frames(struct jw *w, const struct leak_row *s)
{
	jw_arr_begin(w, "frames");
	for (int j = 0; j < s->nframes; j++) {
		const struct frame *f = &s->frames[j];

		jw_obj_begin(w, NULL);
		jw_str(w, "symbol", f->symbol);
		jw_str(w, "module", f->module);
		jw_u64(w, "offset", f->offset);
		if (frame_is_interp(f))
			jw_null(w, "address");
		else
			jw_u64(w, "address", f->addr);
		if (f->file) {
			jw_str(w, "file", f->file);
			jw_u64(w, "line", (uint64_t)f->line);
		}
		if (f->inlined)
			jw_bool(w, "inlined", true);
		if (f->line_is_def)
			jw_bool(w, "line_is_def", true);
		jw_str(w, "kind", frame_kind_name(f->kind));
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

/* An exited process that released most of it: each stack at its peak. */
static void json_peaks(struct jw *w, const struct report_opts *o, const struct leak_snapshot *snap)
{
	jw_arr_begin(w, "before_exit");
	for (int i = 0; i < snap->npeaks && i < o->top_n; i++) {
		const struct leak_row *r = &snap->peaks[i];

		jw_obj_begin(w, NULL);
		jw_str(w, "kind", mm_kind_name(r->kind));
		jw_str(w, "culprit", r->culprit_raw);
		jw_u64(w, "peak_bytes", r->acc.bytes);
		jw_double(w, "peak_at_s", leak_trace_s(snap, r->acc.oldest_ts));
		jw_bool(w, "estimated", leak_estimated(o, r->kind));
		json_frames(w, r);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

/* --faults' huge-page figures (null otherwise, and when unknown). */
static void json_thp(struct jw *w, const struct report_opts *o, const struct leak_snapshot *snap)
{
	static const char *const keys[] = { "first_touch_faults", "huge_page_faults",
					     "huge_page_bytes", "huge_page_unknown" };
	const uint64_t vals[] = { snap->faults, snap->huge_faults, snap->huge_bytes,
				  snap->huge_unknown };
	const struct leak_thp *v = &snap->thp;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (o->faults)
			jw_u64(w, keys[i], vals[i]);
		else
			jw_null(w, keys[i]);
	jw_str(w, "thp_mode", o->faults ? o->thp_mode : NULL);
	if (v->anon_huge_known)
		jw_u64(w, "anon_huge_bytes", v->anon_huge);
	else
		jw_null(w, "anon_huge_bytes");
	if (o->faults)
		jw_bool(w, "huge_pages_unseen", v->unseen);
	else
		jw_null(w, "huge_pages_unseen");
	if (o->faults && snap->have_status && snap->rss_anon_start_known)
		jw_i64(w, "rss_anon_growth_bytes",
		       (int64_t)(snap->status.rss_anon - snap->rss_anon_start));
	else
		jw_null(w, "rss_anon_growth_bytes");
}

/* The top rows, each with its frames. */
static void json_rows(struct jw *w, const struct report_opts *o, const struct leak_snapshot *snap)
{
	jw_arr_begin(w, "stacks");
	for (int i = 0; i < snap->nrows && i < o->top_n; i++) {
		const struct leak_row *r = &snap->rows[i];

		jw_obj_begin(w, NULL);
		jw_str(w, "kind", mm_kind_name(r->kind));
		jw_str(w, "culprit", r->culprit_raw);
		jw_u64(w, "bytes", r->acc.bytes);
		jw_u64(w, "allocations", r->acc.count);
		jw_bool(w, "estimated", leak_estimated(o, r->kind));
		if (leak_estimated(o, r->kind))
			jw_u64(w, "sampled_allocations", r->acc.traced);
		else
			jw_null(w, "sampled_allocations");
		jw_double(w, "oldest_s", leak_age_s(snap, r->acc.oldest_ts));
		jw_i64(w, "growth_bytes_per_s", llround(r->growth));
		if (r->acc.resident_known)
			jw_u64(w, "resident_bytes", r->acc.resident);
		else
			jw_null(w, "resident_bytes");
		jw_str(w, "unwound", r->nframes ? (r->dwarf ? "dwarf" : "fp") : NULL);
		json_frames(w, r);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

static void json_summary(struct jw *w, const struct report_opts *o, const struct leak_snapshot *snap)
{
	const struct leak_totals *tot = &snap->tot;

	jw_obj_begin(w, "summary");
	jw_u64(w, "outstanding_bytes", tot->ranked);
	jw_u64(w, "outstanding_allocations", tot->count);
	for (int k = 0; k < MK_KINDS; k++) {
		char key[32];

		snprintf(key, sizeof(key), "%s_bytes", mm_kind_name(k));
		jw_u64(w, key, tot->by_kind[k]);
	}
	jw_u64(w, "mapped_bytes", snap->mapped);
	jw_u64(w, "released_bytes", snap->released);
	jw_u64(w, "released_untracked_bytes", snap->released_untracked);
	if (snap->brk_known)
		jw_i64(w, "heap_change_bytes", snap->heap_change);
	else
		jw_null(w, "heap_change_bytes");
	if (snap->have_status) {
		jw_u64(w, "rss_bytes", snap->status.vm_rss);
		jw_u64(w, "rss_anon_bytes", snap->status.rss_anon);
	} else {
		jw_null(w, "rss_bytes");
		jw_null(w, "rss_anon_bytes");
	}
	jw_u64(w, "stacks", (uint64_t)snap->nrows);
	jw_u64(w, "sample_every", o->sample_every);
	jw_bool(w, "malloc_estimated", o->malloc && o->sample_every > 1);
	jw_u64(w, "frames_unverified", tot->frames_unverified);
	if (o->faults)
		jw_u64(w, "faults_unclassified", snap->faults_unclassified);
	else
		jw_null(w, "faults_unclassified");
	json_thp(w, o, snap);
	if (o->malloc || o->malloc_fallback)
		report_jw_allocators(w, o->allocators);
	callsites_json(w, &snap->sites, snap->verify_lost, o->stack_mode != STACK_FP,
		       tot->merged_count, tot->merged_bytes, true);
	jw_obj_end(w);
}

void leak_print_json(FILE *out, const struct report_opts *o, const struct leak_snapshot *snap)
{
	const struct leak_row *g = snap->named;
	struct jw w;

	jw_init(&w, out);
	jw_obj_begin(&w, NULL);
	jw_str(&w, "event", snap->final ? "final_report" : "report");
	jw_str(&w, "mode", report_mode(o));
	jw_double(&w, "time", snap->wall_s);
	jw_i64(&w, "pid", snap->pid);
	jw_str(&w, "comm", snap->comm);
	if (snap->cgroup)
		jw_str(&w, "cgroup", snap->cgroup);
	jw_double(&w, "elapsed_s", (double)(snap->now_ns - snap->t0_ns) / 1e9);
	jw_bool(&w, "target_exited", snap->target_exited);
	ending_json(&w, "ending", &snap->ending);
	jw_str(&w, "verdict", snap->verdict);
	jw_bool(&w, "growing", snap->growing != NULL);
	/* What the verdict names. */
	jw_str(&w, "culprit", g && leak_heap_row(o, g) ? "the heap (brk)" : g ? g->culprit_raw : NULL);
	json_rows(&w, o, snap);
	json_summary(&w, o, snap);
	jw_drops(&w, "drops", snap->drops, DROP_KINDS);
	if (snap->show_peaks)
		json_peaks(&w, o, snap);
	else
		jw_null(&w, "before_exit");
	jw_str(&w, "hint", snap->target_exited && !snap->cgroup ? leak_exit_hint : NULL);
	jw_obj_end(&w);
}

void report_jw_allocators(struct jw *w, const char *names)
{
	const char *p = names;

	jw_arr_begin(w, "allocators");
	while (p && *p) {
		size_t len = strcspn(p, ",");

		jw_str_n(w, NULL, p, len);
		p += len;
		p += strspn(p, ", ");
	}
	jw_arr_end(w);
}
