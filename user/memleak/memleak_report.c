// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* memleak-trace's report of one process: a snapshot taken with what the
 * chosen views read (memleak_collect.c), then the views. The --folded
 * and --pprof views are here; the table and the JSON have files of their
 * own. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memleak_verdict.h"
#include "memleak_views.h"
#include "output.h"

/* A frame as flame-graph tools read it: ';' separates frames. */
static char *folded_frame(const struct frame *f)
{
	char *txt = NULL, *e;

	if (frame_is_interp(f))
		txt = frame_format(f);
	else if (f->symbol)
		txt = strdup(f->symbol);
	else if (asprintf(&txt, "%s+0x%" PRIx64, f->module ? f->module : "[unknown]", f->offset) < 0)
		txt = NULL;
	for (char *p = txt; p && *p; p++)
		if (*p == ';')
			*p = ':';
	e = term_escape(txt ? txt : "?");
	free(txt);
	return e;
}

void leak_print_folded(FILE *out, const struct report_opts *o, const struct leak_snapshot *snap)
{
	for (int i = 0; i < snap->nrows && i < o->top_n; i++) {
		const struct leak_row *r = &snap->rows[i];

		for (int j = r->nframes - 1; j >= 0; j--) {
			char *e = folded_frame(&r->frames[j]);

			fprintf(out, "%s%s", e, j ? ";" : "");
			free(e);
		}
		fprintf(out, "%s %" PRIu64 "\n", r->nframes ? "" : "[no stack]", r->acc.bytes);
	}
	fflush(out);
}

void leak_pprof_add(struct pprof *pp, const struct leak_snapshot *snap)
{
	for (size_t i = 0; i < snap->nsamples; i++) {
		const struct leak_sample *s = &snap->samples[i];

		pprof__add(pp, snap->pid, snap->sym, s->frames, s->nframes, mm_kind_name(s->kind),
			   &s->v);
	}
}

double report_growth(const struct report_opts *o, struct report_in *in, char **who)
{
	struct leak_snapshot *snap = leak_collect(o, in, LEAK_NEED_ROWS);
	const struct leak_row *g = snap->growing;
	double rate = 0;

	*who = NULL;
	if (g) {
		rate = leak_held_growth(g);
		*who = strdup(leak_heap_row(o, g) ? "the heap (brk)" : g->culprit);
		if (!*who)
			abort();
	}
	leak_snapshot_free(snap);
	return rate;
}

const char *report_mode(const struct report_opts *o)
{
	return o->faults ? "faults" : o->malloc ? "malloc" : "mappings";
}

void report_print(const struct report_opts *o, struct report_in *in)
{
	unsigned needs = o->folded && !o->json ? LEAK_NEED_ROWS :
			 LEAK_NEED_ROWS | LEAK_NEED_VERDICT | LEAK_NEED_PROCESS;
	struct leak_snapshot *snap;

	if (in->pprof)
		needs |= LEAK_NEED_PPROF;
	/* Everything from the kernel and /proc is read here, once: the
	 * views print the same numbers. */
	snap = leak_collect(o, in, needs);
	if (in->pprof)
		leak_pprof_add(in->pprof, snap);
	if (o->json)
		leak_print_json(stdout, o, snap);
	else if (o->folded)
		leak_print_folded(stdout, o, snap);
	else
		leak_print_table(stdout, o, snap);
	leak_snapshot_free(snap);
}
