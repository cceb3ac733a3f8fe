// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* memleak-trace's collector: everything one report says of a process,
 * read once from the tracker, the kernel's maps and /proc, into a
 * snapshot that the views print (memleak_collect.h). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "culprit.h"
#include "memleak_collect.h"
#include "memleak_frames.h"
#include "memleak_rows.h"
#include "memleak_verdict.h"
#include "memstat.h"
#include "output.h"

struct collect {
	struct stack_acc *acc;
	uint64_t now_ns, min_age_ns;
	uint64_t page;          /* --faults: a range is a run of pages, counted each */
};

static int collect_range(const struct mrange *m, void *ctx)
{
	struct collect *c = ctx;
	struct stack_acc *a = &c->acc[m->owner];

	if (c->now_ns - m->ts < c->min_age_ns)
		return 0;
	a->bytes += m->end - m->start;
	a->count += c->page ? (m->end - m->start) / c->page : 1;
	if (!a->oldest_ts || m->ts < a->oldest_ts)
		a->oldest_ts = m->ts;
	return 0;
}

/* Resident pages of the top stacks' ranges, from /proc/PID/pagemap
 * (bit 63: page present in RAM). */
struct resident {
	struct stack_acc *acc;
	const bool *wanted;
	int fd;
};

static int resident_range(const struct mrange *m, void *ctx)
{
	struct resident *r = ctx;
	uint64_t ps = (uint64_t)sysconf(_SC_PAGESIZE), buf[512];

	if (!r->wanted[m->owner])
		return 0;
	r->acc[m->owner].resident_known = true;
	for (uint64_t p = m->start; p < m->end;) {
		size_t n = (m->end - p) / ps;
		ssize_t got;

		if (n > 512)
			n = 512;
		got = pread(r->fd, buf, n * 8, (off_t)(p / ps * 8));
		if (got <= 0) {
			r->acc[m->owner].resident_known = false;
			return 0;
		}
		for (ssize_t i = 0; i < got / 8; i++)
			if (buf[i] >> 63)
				r->acc[m->owner].resident += ps;
		p += (uint64_t)(got / 8) * ps;
	}
	return 0;
}

/* The resident bytes of every ranked mapping stack: what it really holds.
 * A mapping that is only reserved (glibc's per-thread arenas, 64 MiB of
 * PROT_NONE with a few pages in use) is ranked and judged by those pages,
 * not by its size. malloc blocks live inside the allocator's pages: their
 * residency is the allocator's. */
static void stacks_resident(const struct report_opts *o, struct report_in *in,
			    struct stack_acc *acc)
{
	struct resident r = { .acc = acc };
	bool *wanted = calloc(in->t->nstacks + 1, 1), any = false;
	char path[64];

	if (!wanted)
		abort();
	for (uint32_t i = 0; i < in->t->nstacks; i++) {
		wanted[i] = acc[i].bytes && in->t->stacks[i].kind != MK_MALLOC &&
			    stack_ranked(o, in, &in->t->stacks[i]);
		any |= wanted[i];
	}
	snprintf(path, sizeof(path), "/proc/%d/pagemap", in->t->pid);
	r.wanted = wanted;
	r.fd = in->target_exited || !any ? -1 : open(path, O_RDONLY | O_CLOEXEC);
	if (r.fd >= 0) {
		ranges__foreach(in->t->ranges, resident_range, &r);
		close(r.fd);
	}
	free(wanted);
}

/* Is the stack's call site one whose key was found to merge stacks? */
static bool merged_site(const struct report_in *in, const struct stack_ent *s)
{
	const struct callsite *c = callsites__find(in->sites, (uint32_t)in->t->pid, s->site);

	return c && c->state != CALLSITE_ONE;
}

static uint64_t unverified_frames(const struct tracker *t, const struct row *rows, int n)
{
	uint64_t k = 0;

	for (int i = 0; i < n; i++) {
		const struct stack_ent *s = &t->stacks[rows[i].owner];

		for (int j = 0; j < s->nframes; j++)
			k += s->frames[j].unverified;
	}
	return k;
}

/* The outstanding figures of every stack: its ranges', or the malloc
 * module's. */
static void stack_figures(const struct report_opts *o, const struct report_in *in,
			  struct stack_acc *acc)
{
	struct tracker *t = in->t;
	struct collect c = { .acc = acc, .now_ns = in->now_ns,
			     .min_age_ns = (uint64_t)(o->older_than_s * 1e9),
			     .page = t->pages ? (uint64_t)sysconf(_SC_PAGESIZE) : 0 };

	ranges__foreach(t->ranges, collect_range, &c);
	for (uint32_t i = 0; i < in->malloc_n && i < t->nstacks; i++)
		if (t->stacks[i].kind == MK_MALLOC)
			acc[i] = in->malloc_acc[i];
}

/* The totals and the rows of the stacks' figures (acc: their resident
 * bytes are added). */
static struct row *build_rows(const struct report_opts *o, struct report_in *in,
			      struct stack_acc *acc, uint32_t *row_of, int *nrows,
			      struct leak_totals *tot)
{
	struct tracker *t = in->t;
	struct row *rows;

	memset(tot, 0, sizeof(*tot));
	for (uint32_t i = 0; i < t->nstacks; i++) {
		tot->by_kind[t->stacks[i].kind] += acc[i].bytes;
		if (!acc[i].bytes || !stack_ranked(o, in, &t->stacks[i]))
			continue;
		tot->count += acc[i].count;
		tot->ranked += acc[i].bytes;
		if (merged_site(in, &t->stacks[i])) {
			tot->merged_count += acc[i].count;
			tot->merged_bytes += acc[i].bytes;
		}
	}
	stacks_resident(o, in, acc);
	rows = group_rows(o, in, acc, row_of, nrows);
	tot->frames_unverified = unverified_frames(t, rows, *nrows);
	return rows;
}

/* A process gone (a recycled worker): each stack at its peak, the most
 * it held while the process ran (oldest_ts: when). Programs that free
 * everything in their shutdown (PHP's Zend MM, CPython) leave nothing
 * outstanding at the exit: this is the evidence. */
struct peaks {
	struct row *rows;
	int n;
	uint64_t total;
};

static void peak_rows(const struct report_opts *o, struct report_in *in, struct peaks *p)
{
	struct tracker *t = in->t;
	struct stack_acc *acc = calloc(t->nstacks + 1, sizeof(*acc));
	uint32_t *row_of = calloc(t->nstacks + 1, sizeof(*row_of));

	if (!acc || !row_of)
		abort();
	memset(p, 0, sizeof(*p));
	for (uint32_t i = 0; i < t->nstacks; i++) {
		if (t->stacks[i].peak <= 0)
			continue;
		acc[i].bytes = (uint64_t)t->stacks[i].peak;
		acc[i].oldest_ts = t->stacks[i].peak_ns;
		if (stack_ranked(o, in, &t->stacks[i]))
			p->total += acc[i].bytes;
	}
	p->rows = group_rows(o, in, acc, row_of, &p->n);
	free(row_of);
	free(acc);
}

/* Worth showing: the process released most of what it held before it
 * exited (what is still outstanding at the exit is in the main table). */
static bool show_peaks(const struct report_in *in, const struct peaks *p, const struct leak_totals *tot)
{
	return in->target_exited && p->n && tot->ranked < p->total / 2;
}

/* --faults: the huge pages the process has now. */
static struct leak_thp thp_view(const struct report_opts *o, const struct report_in *in, bool alive)
{
	struct leak_thp v = {};
	struct smaps_rollup sr;
	char path[64], *buf = NULL;

	if (!o->faults)
		return v;
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)in->t->pid);
	if (alive && read_file(path, &buf) >= 0 && smaps_rollup_parse(buf, &sr) == 0) {
		v.anon_huge_known = true;
		v.anon_huge = sr.anon_huge;
	}
	free(buf);
	v.unseen = (o->thp_mode && !strcmp(o->thp_mode, "always")) || v.anon_huge ||
		   in->t->huge_faults;
	return v;
}

/* --pprof: each ranked stack that held or allocated memory while traced,
 * from its culprit outwards: the frames inside the allocator and the
 * syscall wrappers are left out, as Go's heap profiles leave out the
 * runtime's malloc, so that pprof's flat column names the culprit. */
static void pprof_samples(const struct report_opts *o, struct report_in *in,
			  const struct stack_acc *acc, struct leak_snapshot *snap)
{
	snap->samples = calloc(in->t->nstacks + 1, sizeof(*snap->samples));
	if (!snap->samples)
		abort();
	for (uint32_t i = 0; i < in->t->nstacks; i++) {
		struct stack_ent *s = &in->t->stacks[i];
		int from;

		if ((!acc[i].bytes && !s->alloc_bytes) || !stack_ranked(o, in, s))
			continue;
		stack_resolve(o, in, s);
		from = culprit_index(s->frames, s->nframes);
		from = from < 0 ? 0 : from;
		/* A --malloc profile counts what the program allocated: the
		 * dynamic loader's mappings (libraries' zero-filled data, its
		 * own pool) are neither malloc nor the program's. */
		if (o->malloc && from < s->nframes && loader_frame(&s->frames[from]))
			continue;
		snap->samples[snap->nsamples++] = (struct leak_sample){
			.frames = s->frames + from, .nframes = s->nframes - from, .kind = s->kind,
			.v = { (int64_t)s->alloc_count, (int64_t)s->alloc_bytes, (int64_t)acc[i].count,
			       (int64_t)acc[i].bytes } };
	}
}

/* The snapshot's rows of the collector's: figures, culprit and frames. */
static struct leak_row *leak_rows(const struct tracker *t, const struct row *rows, int n)
{
	struct leak_row *out = calloc(n + 1, sizeof(*out));

	if (!out)
		abort();
	for (int i = 0; i < n; i++) {
		const struct stack_ent *s = &t->stacks[rows[i].owner];

		out[i] = (struct leak_row){ .kind = s->kind, .acc = rows[i].acc,
					    .growth = rows[i].growth,
					    .culprit = stack_culprit_name(s),
					    .culprit_raw = stack_culprit_raw(s), .frames = s->frames,
					    .nframes = s->nframes, .dwarf = s->dwarf };
	}
	return out;
}

static void free_rows(struct leak_row *rows, int n)
{
	for (int i = 0; i < n; i++) {
		free(rows[i].culprit);
		free(rows[i].culprit_raw);
	}
	free(rows);
}

/* The tracker's run totals and the run's losses. */
static void copy_totals(const struct report_in *in, struct leak_snapshot *snap)
{
	const struct tracker *t = in->t;

	snap->mapped = t->mapped;
	snap->released = t->released;
	snap->released_untracked = t->released_untracked;
	snap->brk_known = t->brk_known;
	snap->heap_change = (int64_t)(t->brk_cur - t->brk_start);
	snap->faults = t->faults;
	snap->huge_faults = t->huge_faults;
	snap->huge_bytes = t->huge_bytes;
	snap->huge_unknown = t->huge_unknown;
	snap->rss_anon_start_known = t->rss_anon_start_known;
	snap->rss_anon_start = t->rss_anon_start;
	snap->kept_bytes = ranges__bytes(t->ranges);
	snap->sites = *callsites__counts(in->sites);
	snap->verify_lost = in->verify_lost;
	if (in->drops)
		memcpy(snap->drops, in->drops, sizeof(snap->drops));
	snap->faults_unclassified = in->faults_unclassified;
}

static struct leak_snapshot *snapshot_new(const struct report_in *in, unsigned needs)
{
	struct leak_snapshot *snap = calloc(1, sizeof(*snap));

	if (!snap)
		abort();
	snap->needs = needs;
	snap->pid = in->t->pid;
	snap->comm = in->comm;
	snap->cgroup = in->cgroup;
	if (in->ending)
		snap->ending = *in->ending;
	snap->final = in->final;
	snap->target_exited = in->target_exited;
	snap->t0_ns = in->t->t0_ns;
	snap->now_ns = in->now_ns;
	snap->wall_s = wall_time();
	snap->sym = in->sym;
	copy_totals(in, snap);
	return snap;
}

/* An exited process's peaks, kept when its shutdown released most. */
static void collect_peaks(const struct report_opts *o, struct report_in *in,
			  struct leak_snapshot *snap)
{
	struct peaks pk;

	peak_rows(o, in, &pk);
	snap->peaks = leak_rows(in->t, pk.rows, pk.n);
	snap->npeaks = pk.n;
	snap->peak_total = pk.total;
	snap->show_peaks = show_peaks(in, &pk, &snap->tot);
	free(pk.rows);
}

struct leak_snapshot *leak_collect(const struct report_opts *o, struct report_in *in,
				   unsigned needs)
{
	struct leak_snapshot *snap = snapshot_new(in, needs);
	struct stack_acc *acc = calloc(in->t->nstacks + 1, sizeof(*acc));
	uint32_t *row_of = calloc(in->t->nstacks + 1, sizeof(*row_of));
	struct row *rows = NULL;
	int n = 0;

	if (!acc || !row_of)
		abort();
	if (o->faults)
		tracker_thp_settle(in->t);
	stack_figures(o, in, acc);
	if (needs & (LEAK_NEED_ROWS | LEAK_NEED_VERDICT)) {
		rows = build_rows(o, in, acc, row_of, &n, &snap->tot);
		snap->rows = leak_rows(in->t, rows, n);
		snap->nrows = n;
		snap->growing = leak_growing_row(o, snap->rows, n);
	}
	if (needs & LEAK_NEED_PPROF)
		pprof_samples(o, in, acc, snap);
	if ((needs & LEAK_NEED_VERDICT) && in->target_exited)
		collect_peaks(o, in, snap);
	if (needs & LEAK_NEED_PROCESS) {
		snap->have_status = !in->target_exited && proc_status(in->t->pid, &snap->status) == 0;
		snap->thp = thp_view(o, in, snap->have_status);
	}
	if (needs & LEAK_NEED_VERDICT)
		snap->verdict = leak_verdict(o, snap, &snap->named);
	free(rows);
	free(row_of);
	free(acc);
	return snap;
}

double leak_age_s(const struct leak_snapshot *snap, uint64_t ts)
{
	return ts && snap->now_ns > ts ? (double)(snap->now_ns - ts) / 1e9 : 0;
}

double leak_trace_s(const struct leak_snapshot *snap, uint64_t ts)
{
	return ts > snap->t0_ns ? (double)(ts - snap->t0_ns) / 1e9 : 0;
}

void leak_snapshot_free(struct leak_snapshot *s)
{
	if (!s)
		return;
	free_rows(s->rows, s->nrows);
	free_rows(s->peaks, s->npeaks);
	free(s->samples);
	free(s->verdict);
	free(s);
}
