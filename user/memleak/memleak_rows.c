// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* memleak-trace: which stacks the report ranks, and its rows: the stacks
 * that read the same once symbolized, summed and sorted by what they
 * hold. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memleak_frames.h"
#include "memleak_rows.h"
#include "stackgroup.h"

uint64_t acc_held(const struct stack_acc *a)
{
	return a->resident_known && a->resident < a->bytes ? a->resident : a->bytes;
}

/* A frame of the malloc implementation itself: an allocator library, or
 * glibc's malloc and the functions it maps memory from. */
static bool allocator_frame(const struct frame *f)
{
	static const char *const mods[] = { "libjemalloc", "libtcmalloc", "libmimalloc", NULL };
	static const char *const syms[] = { "malloc", "calloc", "realloc", "memalign", "__libc_malloc",
					    "__libc_calloc", "__libc_realloc", "__libc_memalign",
					    "_int_malloc", "_int_realloc", "_int_memalign", "sysmalloc",
					    "sysmalloc_mmap", "new_heap", "alloc_new_heap", NULL };

	for (int i = 0; f->module && mods[i]; i++)
		if (!strncmp(f->module, mods[i], strlen(mods[i])))
			return true;
	for (int i = 0; f->symbol && syms[i]; i++) {
		size_t l = strlen(syms[i]);

		/* "sysmalloc_mmap.constprop.0": a compiler's clone. */
		if (!strncmp(f->symbol, syms[i], l) && (!f->symbol[l] || f->symbol[l] == '.'))
			return true;
	}
	return false;
}

/* Whether the report ranks the stack. With --malloc the pages the
 * allocator maps (the heap, jemalloc's extents, glibc's mmap'd large
 * blocks) hold the malloc rows' blocks: counted in the summary, not
 * ranked twice. */
bool stack_ranked(const struct report_opts *o, struct report_in *in, struct stack_ent *s)
{
	if (s->kind == MK_HEAP)
		return !o->malloc;
	if (s->kind == MK_ANON && o->malloc) {
		stack_resolve(o, in, s);
		for (int i = 0; i < s->nframes; i++)
			if (allocator_frame(&s->frames[i]))
				return false;
	}
	return o->all_kinds || s->kind == MK_ANON || s->kind == MK_MALLOC;
}

static int cmp_rows(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (acc_held(&x->acc) != acc_held(&y->acc))
		return acc_held(&x->acc) < acc_held(&y->acc) ? 1 : -1;
	if (x->acc.bytes != y->acc.bytes)
		return x->acc.bytes < y->acc.bytes ? 1 : -1;
	return x->owner < y->owner ? -1 : x->owner > y->owner;
}

/* The text of a stack as the report shows it, the grouping key: frames
 * with their modules, or the kernel-side key when nothing resolved. */
static uint32_t group_of(struct stack_groups *g, const struct stack_ent *s)
{
	char *txt[LEAK_MAX_FRAMES + 1];
	int n = 0;
	uint32_t id;

	for (int j = 0; j < s->nframes && j < LEAK_MAX_FRAMES; j++) {
		char *f = frame_format(&s->frames[j]);

		if (asprintf(&txt[n++], "%s [%s]", f ? f : "?",
			     s->frames[j].module ? s->frames[j].module : "?") < 0)
			abort();
		free(f);
	}
	if (!n && asprintf(&txt[n++], "unresolved %d %" PRIx64, s->stack_id, s->ret_addr) < 0)
		abort();
	id = stack_groups__id(g, s->kind, (const char *const *)txt, n);
	for (int j = 0; j < n; j++)
		free(txt[j]);
	return id;
}

/* A failed stack capture (the kernel's stack map had no room for it)
 * knows only its caller's return address: it belongs to the one whole
 * stack of its kind returning there, if there is exactly one. */
static uint32_t joined_row(const struct tracker *t, const struct row *rows, int n,
			   const struct stack_ent *s)
{
	uint32_t found = NO_ROW;

	if (!s->ret_addr)
		return NO_ROW;
	for (int r = 0; r < n; r++) {
		const struct stack_ent *w = &t->stacks[rows[r].owner];
		bool hit = false;

		if (w->kind != s->kind || stack_failed(w))
			continue;
		for (int j = 0; j < w->nframes && !hit; j++)
			hit = !w->frames[j].inlined && w->frames[j].addr == s->ret_addr;
		if (hit && found != NO_ROW)
			return NO_ROW;
		if (hit)
			found = (uint32_t)r;
	}
	return found;
}

/* owner_acc: the figures of the row's shown member; a failed capture
 * (partial stack) joining a row never becomes it. */
static void row_add(struct row *r, uint32_t owner, const struct stack_acc *a, double growth,
		    const struct stack_acc *owner_acc, bool partial)
{
	if (!r->acc.count || (!partial && a->bytes > owner_acc->bytes))
		r->owner = owner;
	r->acc.bytes += a->bytes;
	r->acc.count += a->count;
	r->acc.traced += a->traced;
	r->acc.resident += a->resident;
	r->acc.resident_known |= a->resident_known;
	if (a->oldest_ts && (!r->acc.oldest_ts || a->oldest_ts < r->acc.oldest_ts))
		r->acc.oldest_ts = a->oldest_ts;
	r->growth += growth;
}

/* One row per stack as the user sees it: every ranked stack holding
 * memory is symbolized, and stacks with the same frames (kernel keys
 * that differ only in junk past the real frames) are summed. row_of[i]:
 * stack i's row, NO_ROW if none; the rows are in ranking order. */
struct row *group_rows(const struct report_opts *o, struct report_in *in,
		       const struct stack_acc *acc, uint32_t *row_of, int *nrows)
{
	struct tracker *t = in->t;
	struct row *rows = calloc(t->nstacks + 1, sizeof(*rows));
	struct stack_groups *g = stack_groups__new();
	uint32_t *order;
	int n = 0;

	if (!rows || !g)
		abort();
	stacks_prefetch(o, in, acc);
	for (uint32_t i = 0; i < t->nstacks; i++) {
		row_of[i] = NO_ROW;
		if (acc[i].bytes && stack_ranked(o, in, &t->stacks[i]))
			stack_resolve(o, in, &t->stacks[i]);
	}
	/* Whole stacks first, so that failed captures can join them. */
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < t->nstacks; i++) {
			struct stack_ent *s = &t->stacks[i];
			uint32_t r;
			bool joins;

			if (!acc[i].bytes || !stack_ranked(o, in, s) || stack_failed(s) != pass)
				continue;
			r = pass ? joined_row(t, rows, n, s) : NO_ROW;
			if (r == NO_ROW)
				r = group_of(g, s);
			joins = pass && (int)r < n;
			if ((int)r == n)
				n++;
			row_add(&rows[r], i, &acc[i], tracker_growth(t, s, in->now_ns),
				&acc[rows[r].owner], joins);
			row_of[i] = r;
		}
	}
	stack_groups__free(g);
	/* Sorting moves rows: renumber row_of after it. */
	order = calloc(n + 1, sizeof(*order));
	if (!order)
		abort();
	for (int i = 0; i < n; i++)
		rows[i].rank = (uint32_t)i;
	qsort(rows, n, sizeof(*rows), cmp_rows);
	for (int i = 0; i < n; i++)
		order[rows[i].rank] = (uint32_t)i;
	for (uint32_t i = 0; i < t->nstacks; i++)
		if (row_of[i] != NO_ROW)
			row_of[i] = order[row_of[i]];
	free(order);
	*nrows = n;
	return rows;
}
