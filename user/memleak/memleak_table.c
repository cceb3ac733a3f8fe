// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* memleak-trace's text report: the verdict, the top stacks by what they
 * hold, then a summary; a function of the snapshot. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "memleak_verdict.h"
#include "memleak_views.h"
#include "output.h"

/* The culprit, then the frames, under a table row. */
static void print_stack(FILE *out, const struct report_opts *o, const struct leak_row *s)
{
	fprintf(out, " %s\n", s->culprit);
	for (int j = 0; j < s->nframes && j < o->max_frames; j++) {
		char *f = frame_format(&s->frames[j]);
		char *e = term_escape(f ? f : "?");
		char *m = term_escape(s->frames[j].module ? s->frames[j].module : "?");

		fprintf(out, "%56s #%-2d %s [%s]\n", "", j, e, m);
		free(f);
		free(e);
		free(m);
	}
	if (!s->nframes)
		fprintf(out, "%56s (stack not captured)\n", "");
}

/* An exited process that released most of it: each stack at its peak. */
static void print_peaks(FILE *out, const struct report_opts *o, const struct leak_snapshot *snap)
{
	char b[2][HUMAN_LEN];

	fprintf(out, "\nbefore the exit: what each stack held at its peak (released while exiting)\n");
	fprintf(out, "%-4s %10s %9s  %-6s %s\n", "#", "PEAK", "AT", "KIND",
		"CALL STACK (innermost first)");
	for (int i = 0; i < snap->npeaks && i < o->top_n; i++) {
		const struct leak_row *r = &snap->peaks[i];
		char bytes[HUMAN_LEN + 1];

		snprintf(bytes, sizeof(bytes), "%s%s", leak_est(o, r->kind),
			 fmt_bytes(b[0], r->acc.bytes));
		fprintf(out, "%-4d %10s %9s  %-6s", i + 1, bytes,
			fmt_duration(b[1], leak_trace_s(snap, r->acc.oldest_ts)), mm_kind_name(r->kind));
		print_stack(out, o, r);
	}
	if (snap->npeaks > o->top_n)
		fprintf(out, "... %d more stack%s\n", snap->npeaks - o->top_n,
			snap->npeaks - o->top_n == 1 ? "" : "s");
}

static void print_thp(FILE *out, const struct report_opts *o, const struct leak_snapshot *snap)
{
	const struct leak_thp *v = &snap->thp;
	char b[3][HUMAN_LEN];

	fprintf(out, "         huge pages: %" PRIu64 " of %" PRIu64 " first touches brought a 2 MiB "
		"transparent huge page (%s counted for them); THP %s", snap->huge_faults, snap->faults,
		fmt_bytes(b[0], snap->huge_bytes), o->thp_mode ? o->thp_mode : "unknown");
	if (v->anon_huge_known)
		fprintf(out, ", AnonHugePages %s", fmt_bytes(b[1], v->anon_huge));
	fprintf(out, "\n");
	if (snap->huge_unknown)
		fprintf(out, "         %" PRIu64 " faults that may have brought a huge page could not be "
			"looked up in /proc/PID/pagemap: counted as one page each\n", snap->huge_unknown);
	if (v->unseen)
		fprintf(out, "         not seen: pages inside huge pages resident before the trace never "
			"fault (nor do ranges khugepaged collapses): compare RssAnon's growth\n");
	if (snap->have_status && snap->rss_anon_start_known)
		fprintf(out, "         RssAnon %s while traced; first touched and kept %s\n",
			fmt_bytes_delta(b[0], (int64_t)(snap->status.rss_anon - snap->rss_anon_start)),
			fmt_bytes(b[2], snap->kept_bytes));
}

/* The verdict, who and when, and the unit. */
static void print_header(FILE *out, const struct report_opts *o, const struct leak_snapshot *snap)
{
	char b[HUMAN_LEN], clock[16];
	char *ecomm = term_escape(snap->comm ? snap->comm : "?");
	time_t now = (time_t)snap->wall_s;
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	fprintf(out, "%s\n", snap->verdict);
	fprintf(out, "memleak-trace: pid %d (%s), traced %s, %s%s\n", snap->pid, ecomm,
		fmt_duration(b, (double)(snap->now_ns - snap->t0_ns) / 1e9),
		snap->final ? "final report at " : "report at ", clock);
	free(ecomm);
	if (o->faults)
		fprintf(out, "unit: pages first touched (page faults) and not given back since: resident "
			"growth, not bytes allocated (memory the allocator reuses costs no new page)\n");
}

/* The top rows, each with its stack. */
static void print_rows(FILE *out, const struct report_opts *o, const struct leak_snapshot *snap)
{
	int n = snap->nrows;
	char b[4][HUMAN_LEN];

	if (n)
		fprintf(out, "\n%-4s %10s %8s %9s %11s %10s  %-6s %s\n", "#", "BYTES",
			o->faults ? "PAGES" : "ALLOCS", "OLDEST",
			"GROWTH/s", "RESIDENT", "KIND", "CALL STACK (innermost first)");
	for (int i = 0; i < n && i < o->top_n; i++) {
		const struct leak_row *r = &snap->rows[i];
		const char *e = leak_est(o, r->kind);
		char bytes[HUMAN_LEN + 1], count[24], growth[HUMAN_LEN + 1];

		snprintf(bytes, sizeof(bytes), "%s%s", e, fmt_bytes(b[0], r->acc.bytes));
		snprintf(count, sizeof(count), "%s%" PRIu64, e, r->acc.count);
		snprintf(growth, sizeof(growth), "%s%s", e, fmt_bytes_delta(b[2], (int64_t)r->growth));
		fprintf(out, "%-4d %10s %8s %9s %11s %10s  %-6s",
			i + 1, bytes, count,
			fmt_duration(b[1], leak_age_s(snap, r->acc.oldest_ts)), growth,
			r->acc.resident_known ? fmt_bytes(b[3], r->acc.resident) : "-",
			mm_kind_name(r->kind));
		print_stack(out, o, r);
	}
	if (n > o->top_n)
		fprintf(out, "... %d more stack%s\n", n - o->top_n, n - o->top_n == 1 ? "" : "s");
}

/* What is outstanding, by kind; what was mapped and released; the process. */
static void print_summary(FILE *out, const struct report_opts *o, const struct leak_snapshot *snap)
{
	const struct leak_totals *tot = &snap->tot;
	const struct proc_status *st = &snap->status;
	char b[6][HUMAN_LEN], how[ENDING_TEXT_LEN + 8];

	fprintf(out, "\nsummary: outstanding %s%s in %s%" PRIu64 " %s (anon %s, heap %s, malloc %s%s",
		leak_est(o, MK_MALLOC), fmt_bytes(b[0], tot->ranked), leak_est(o, MK_MALLOC),
		tot->count, leak_unit_noun(o, tot->count), fmt_bytes(b[1], tot->by_kind[MK_ANON]),
		fmt_bytes(b[2], tot->by_kind[MK_HEAP]),
		leak_est(o, MK_MALLOC), fmt_bytes(b[3], tot->by_kind[MK_MALLOC]));
	fprintf(out, "; not ranked: file %s, shared %s)\n", fmt_bytes(b[4], tot->by_kind[MK_FILE]),
		fmt_bytes(b[5], tot->by_kind[MK_SHARED]));
	if (o->faults)
		fprintf(out, "         first touched %s, given back %s (+%s unmapped that was not touched "
			"while traced)", fmt_bytes(b[0], snap->mapped), fmt_bytes(b[1], snap->released),
			fmt_bytes(b[2], snap->released_untracked));
	else
		fprintf(out, "         mapped %s, released %s (+%s of mappings older than the trace)",
			fmt_bytes(b[0], snap->mapped), fmt_bytes(b[1], snap->released),
			fmt_bytes(b[2], snap->released_untracked));
	fprintf(out, ", heap %s\n", snap->brk_known ? fmt_bytes_delta(b[3], snap->heap_change) : "?");
	if (snap->have_status)
		fprintf(out, "         process RSS %s (anon %s, file %s, shmem %s), swap %s\n",
			fmt_bytes(b[0], st->vm_rss), fmt_bytes(b[1], st->rss_anon),
			fmt_bytes(b[2], st->rss_file), fmt_bytes(b[3], st->rss_shmem),
			fmt_bytes(b[4], st->vm_swap));
	else
		fprintf(out, "         process has exited%s\n", leak_ending_tag(&snap->ending, how));
	if (o->faults)
		print_thp(out, o, snap);
}

/* How the trace was made, and what it lost or could not name. */
static void print_notes(FILE *out, const struct report_opts *o, const struct leak_snapshot *snap)
{
	const struct leak_totals *tot = &snap->tot;

	if (snap->target_exited && !snap->cgroup)
		fprintf(out, "         %s\n", leak_exit_hint);
	if (o->malloc) {
		char *e = term_escape(o->allocators ? o->allocators : "");

		fprintf(out, "         malloc probes on %s\n",
			o->allocators ? e : "nothing: no allocator found");
		free(e);
	}
	if (o->malloc_fallback)
		fprintf(out, "         mode: mappings (--malloc found no library or executable defining "
			"malloc and free to probe)\n");
	if (o->sample_every > 1)
		fprintf(out, "         malloc sampled: 1 call in %" PRIu64 " traced (blocks of a page "
			"and more by size); malloc figures (~) are estimates\n", o->sample_every);
	if (o->faults && snap->faults_unclassified)
		fprintf(out, "         %" PRIu64 " page faults not counted: their mapping could not be "
			"looked up (mmap lock busy)\n", snap->faults_unclassified);
	callsites_print(out, "         ", &snap->sites, snap->verify_lost, o->stack_mode != STACK_FP,
			tot->merged_count, tot->merged_bytes, true,
			leak_unit_noun(o, tot->merged_count));
	if (tot->frames_unverified)
		fprintf(out, "         %" PRIu64 " frame%s named module+offset only: the binary could not "
			"be opened, or the file at its path is not the one that was mapped\n",
			tot->frames_unverified, tot->frames_unverified == 1 ? "" : "s");
	fprintf(out, "         ");
	print_drops(out, snap->drops, DROP_KINDS);
}

void leak_print_table(FILE *out, const struct report_opts *o, const struct leak_snapshot *snap)
{
	print_header(out, o, snap);
	print_rows(out, o, snap);
	if (snap->show_peaks)
		print_peaks(out, o, snap);
	print_summary(out, o, snap);
	print_notes(out, o, snap);
	fflush(out);
}
