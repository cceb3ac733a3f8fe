// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* memleak-trace's verdict: what grows, or what the process held when it
 * exited, in one line, from a snapshot's rows and totals. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memleak_rows.h"
#include "memleak_verdict.h"
#include "output.h"

/* What a row counts: allocations (mappings, malloc blocks), or with
 * --faults pages first touched. */
const char *leak_unit_noun(const struct report_opts *o, uint64_t n)
{
	if (o->faults)
		return n == 1 ? "page first touched" : "pages first touched";
	return n == 1 ? "allocation" : "allocations";
}

bool leak_heap_row(const struct report_opts *o, const struct leak_row *r)
{
	return r->kind == MK_HEAP && !o->faults;
}

bool leak_estimated(const struct report_opts *o, uint32_t kind)
{
	return kind == MK_MALLOC && o->sample_every > 1;
}

const char *leak_est(const struct report_opts *o, uint32_t kind)
{
	return leak_estimated(o, kind) ? "~" : "";
}

/* The growth of what a row really holds: mapped growth in proportion to
 * the row's resident share, so that reserving address space is not
 * growth. */
double leak_held_growth(const struct leak_row *r)
{
	return r->acc.bytes ? r->growth * ((double)acc_held(&r->acc) / (double)r->acc.bytes) :
			      r->growth;
}

/* --malloc speaks of malloc: while there are malloc rows, the verdict
 * names one of them (the dynamic loader mapping libraries, or a mapping
 * of the program's, may hold or grow more, and stays in the table). */
static bool verdict_may_name(const struct report_opts *o, const struct leak_row *rows, int n,
			     const struct leak_row *r)
{
	if (!o->malloc || r->kind == MK_MALLOC)
		return true;
	for (int i = 0; i < n; i++)
		if (rows[i].kind == MK_MALLOC)
			return false;
	return true;
}

const struct leak_row *leak_growing_row(const struct report_opts *o, const struct leak_row *rows,
					int n)
{
	const struct leak_row *best = NULL;

	for (int i = 0; i < n; i++)
		if (leak_held_growth(&rows[i]) > 0 && verdict_may_name(o, rows, n, &rows[i]) &&
		    (!best || leak_held_growth(&rows[i]) > leak_held_growth(best)))
			best = &rows[i];
	return best;
}

/* The largest row the verdict may name (rows are sorted); NULL if none. */
static const struct leak_row *top_row(const struct report_opts *o, const struct leak_row *rows,
				      int n)
{
	for (int i = 0; i < n; i++)
		if (verdict_may_name(o, rows, n, &rows[i]))
			return &rows[i];
	return NULL;
}

/* The verdict's culprit text: the heap, or the stack's culprit. */
static char *row_culprit(const struct leak_row *r)
{
	return strdup(r->kind == MK_HEAP ? "the heap (brk)" : r->culprit);
}

const char *leak_ending_tag(const struct proc_ending *e, char buf[ENDING_TEXT_LEN + 8])
{
	char t[ENDING_TEXT_LEN];

	buf[0] = 0;
	if (ending_decode(e).kind != ENDING_UNKNOWN)
		snprintf(buf, ENDING_TEXT_LEN + 8, " [%s]", ending_text(t, e));
	return buf;
}

/* A process that exited: what it still held (released by the exit), or,
 * when its shutdown released most of it, what it held before. */
static char *exit_verdict(const struct report_opts *o, const struct leak_snapshot *snap,
			  const struct leak_row **named)
{
	const struct leak_totals *tot = &snap->tot;
	const struct leak_row *r = snap->show_peaks ? top_row(o, snap->peaks, snap->npeaks) :
				   top_row(o, snap->rows, snap->nrows);
	char b1[HUMAN_LEN], b2[HUMAN_LEN], how[ENDING_TEXT_LEN + 8], *who = row_culprit(r), *v;
	uint32_t kind = r->kind;
	int ret;

	*named = r;
	if (snap->show_peaks) {
		double at = r->acc.oldest_ts > snap->t0_ns ?
			(double)(r->acc.oldest_ts - snap->t0_ns) / 1e9 : 0;

		ret = asprintf(&v, "EXITED%s after releasing its memory (%s outstanding at the exit): "
			       "before, %s held %s%s (its peak, %.1f s into the trace)",
			       leak_ending_tag(&snap->ending, how), fmt_bytes(b1, tot->ranked), who,
			       leak_est(o, kind),
			       fmt_bytes(b2, r->acc.bytes), at);
	} else {
		ret = asprintf(&v, "EXITED%s holding %s%s: %s held %s%s in %s%" PRIu64 " %s %s "
			       "when the process exited",
			       leak_ending_tag(&snap->ending, how), leak_est(o, MK_MALLOC),
			       fmt_bytes(b1, tot->ranked), who,
			       leak_est(o, kind),
			       fmt_bytes(b2, r->acc.bytes), leak_est(o, kind), r->acc.count,
			       mm_kind_name(kind), leak_unit_noun(o, r->acc.count));
	}
	free(who);
	return ret < 0 ? NULL : v;
}

/* Too short a trace for a rate: what it holds is no evidence that nothing
 * grows (all of it may have been allocated while traced). */
static bool trace_too_short(const struct leak_snapshot *snap)
{
	return (double)(snap->now_ns - snap->t0_ns) / 1e9 < GROWTH_MIN_SPAN_S;
}

/* The verdict of a trace too short for a rate: the largest holder. */
static char *short_trace_verdict(const struct report_opts *o, const struct leak_snapshot *snap,
				 const struct leak_row **named)
{
	int n = snap->nrows;
	char b1[HUMAN_LEN], b2[HUMAN_LEN], *who, *v;
	int r;

	*named = top_row(o, snap->rows, n);
	who = row_culprit(*named);
	r = asprintf(&v, "Too short a trace to measure growth (%s): %s outstanding in %d stack%s, "
		     "most in %s", fmt_duration(b1, (double)(snap->now_ns - snap->t0_ns) / 1e9),
		     fmt_bytes(b2, snap->tot.ranked), n, n == 1 ? "" : "s", who ? who : "?");
	free(who);
	return r < 0 ? NULL : v;
}

/* The first line; *named: the row whose culprit it names, or NULL. */
char *leak_verdict(const struct report_opts *o, const struct leak_snapshot *snap,
		   const struct leak_row **named)
{
	const struct leak_row *g = snap->growing;
	int n = snap->nrows;
	char b1[HUMAN_LEN], b2[HUMAN_LEN], b3[HUMAN_LEN], reserved[96], *v;
	uint32_t kind;
	int r;

	*named = NULL;
	if (snap->target_exited && (n || snap->show_peaks))
		return exit_verdict(o, snap, named);
	if (!n)
		return strdup("No leak: nothing the target mapped or allocated while traced is outstanding");
	if (!g && trace_too_short(snap))
		return short_trace_verdict(o, snap, named);
	if (!g) {
		r = asprintf(&v, "Nothing grows: %s outstanding in %d stack%s, none of it increasing",
			     fmt_bytes(b1, snap->tot.ranked), n, n == 1 ? "" : "s");
		return r < 0 ? NULL : v;
	}
	*named = g;
	if (leak_heap_row(o, g)) {
		r = asprintf(&v, "GROWING: the heap (brk) holds %s more than at start, +%s/s; "
			     "--malloc names the code that allocates", fmt_bytes(b1, g->acc.bytes),
			     fmt_bytes(b2, (uint64_t)g->growth));
		return r < 0 ? NULL : v;
	}
	kind = g->kind;
	reserved[0] = 0;
	if (acc_held(&g->acc) < g->acc.bytes)
		snprintf(reserved, sizeof(reserved), " (resident; %s more mapped but not resident)",
			 fmt_bytes(b3, g->acc.bytes - acc_held(&g->acc)));
	r = asprintf(&v, "GROWING: %s holds %s%s%s in %s%" PRIu64 " %s %s, %s+%s/s%s",
		     g->culprit, leak_est(o, kind), fmt_bytes(b1, acc_held(&g->acc)), reserved,
		     leak_est(o, kind), g->acc.count,
		     mm_kind_name(kind), leak_unit_noun(o, g->acc.count), leak_est(o, kind),
		     fmt_bytes(b2, (uint64_t)leak_held_growth(g)),
		     leak_estimated(o, kind) ? " (estimated from the sample)" : "");
	return r < 0 ? NULL : v;
}

/* Said when the process exited while traced. */
const char leak_exit_hint[] =
	"the process exited: for a pool that recycles its workers (PHP-FPM pm.max_requests, "
	"gunicorn max_requests) trace the pool with -c CGROUP, which follows the replacement workers";

