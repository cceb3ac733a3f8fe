/* memleak-trace's report: a verdict line, the top stacks by outstanding
 * bytes, then a summary. Figures come from the interval map (mappings,
 * heap) and from the kernel's allocator tables (--malloc). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "culprit.h"
#include "ending.h"
#include "memleak.h"
#include "memleak_pprof.h"
#include "memleak_report.h"
#include "memstat.h"
#include "output.h"
#include "procfs.h"
#include "stackgroup.h"

#define MAX_FRAMES 48

/* A row of the report: the stacks that read the same, summed. */
#define NO_ROW UINT32_MAX

struct row {
	uint32_t owner;         /* the member shown: the one holding most */
	uint32_t rank;          /* scratch: the row's number before sorting */
	struct stack_acc acc;
	double growth;
};

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
static bool ranked(const struct report_opts *o, struct report_in *in, struct stack_ent *s);

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
			    ranked(o, in, &in->t->stacks[i]);
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

/* What a row really holds: its resident bytes where known. */
static uint64_t row_held(const struct row *r)
{
	return r->acc.resident_known && r->acc.resident < r->acc.bytes ? r->acc.resident : r->acc.bytes;
}

/* ---- stacks to frames ---- */

static int add_frames(struct symbolizer *sym, uint64_t addr, bool is_return,
		      struct frame *out, int room)
{
	int n;

	if (room <= 0)
		return 0;
	/* A return address points after the call: look up the call itself. */
	n = symbolizer__resolve(sym, is_return ? addr - 1 : addr, out, room);
	if (is_return) {
		out[n - 1].addr = addr;
		out[n - 1].offset += 1;
	}
	return n;
}

/* Frames of the frame-pointer walk (stack id), with the return address
 * at sp that a leaf wrapper's caller leaves and the walk skips. */
static int fp_frames(struct report_in *in, const struct stack_ent *s, struct frame *fr)
{
	uint64_t ips[MAX_STACK_DEPTH] = {};
	struct frame probe[8];
	int n = 0, nips = 0;

	if (s->stack_id >= 0 && bpf_map_lookup_elem(in->stacks_fd, &s->stack_id, ips) == 0)
		while (nips < MAX_STACK_DEPTH && ips[nips])
			nips++;
	if (nips)
		n += add_frames(in->sym, ips[0], false, fr, MAX_FRAMES);
	/* The caller of a leaf wrapper, which the frame-pointer walk skips:
	 * kept when it lies in a mapped module and is not already next. */
	if (s->ret_addr && (nips < 2 || ips[1] != s->ret_addr)) {
		int k = symbolizer__resolve(in->sym, s->ret_addr - 1, probe, 8);
		bool mapped = probe[k - 1].module != NULL;

		for (int i = 0; i < k; i++)
			frame_clear(&probe[i]);
		if (mapped)
			n += add_frames(in->sym, s->ret_addr, true, fr + n, MAX_FRAMES - n);
	}
	for (int i = 1; i < nips && n < MAX_FRAMES; i++) {
		int k = add_frames(in->sym, ips[i], true, fr + n, MAX_FRAMES - n);

		/* Past the last real frame a broken chain yields junk. */
		if (!fr[n + k - 1].module) {
			for (int j = 0; j < k; j++)
				frame_clear(&fr[n + j]);
			break;
		}
		n += k;
	}
	return n;
}

/* Frames of the DWARF unwinding of the site's snapshot. Its addresses are
 * ready to resolve (return address - 1 past the first); shown, like the
 * frame-pointer ones, as the return address. */
static int dwarf_frames(struct report_in *in, const struct callsite *d, struct frame *fr)
{
	int n = 0;

	for (int i = 0; i < d->n && n < MAX_FRAMES; i++) {
		int k = symbolizer__resolve(in->sym, d->ips[i], fr + n, MAX_FRAMES - n);

		if (!fr[n + k - 1].module) {
			for (int j = 0; j < k; j++)
				frame_clear(&fr[n + j]);
			break;
		}
		if (i) {
			fr[n + k - 1].addr = d->ips[i] + 1;
			fr[n + k - 1].offset += 1;
		}
		n += k;
	}
	return n;
}

static void clear_frames(struct frame *fr, int n)
{
	for (int i = 0; i < n; i++)
		frame_clear(&fr[i]);
}

/* The interpreter's frames (PHP, Python) go first, innermost first: the
 * native ones below are the interpreter's loop, the same for any script.
 * fr holds n native frames and room for MAX_FRAMES; the total is returned. */
static int with_interp(struct report_in *in, const struct stack_ent *s, struct frame *fr, int n)
{
	struct frame ifr[INTERP_MAX_FRAMES + 2];
	int k = s->interp ? interp__frames(in->interp, s->interp, ifr, INTERP_MAX_FRAMES + 2) : 0;

	if (!k)
		return n;
	while (n + k > MAX_FRAMES)
		frame_clear(&fr[--n]);
	memmove(fr + k, fr, n * sizeof(*fr));
	memcpy(fr, ifr, k * sizeof(*ifr));
	return n + k;
}

/* The libraries that a stack's mappings follow (see loaded_library):
 * their names, ", "-separated, each once. */
struct loaded {
	struct report_in *in;
	uint32_t owner;
	char *libs;
};

static bool listed(const char *list, const char *name)
{
	size_t l = strlen(name);

	for (const char *p = list; p && (p = strstr(p, name)); p += l)
		if ((p == list || p[-1] == ' ') && (!p[l] || p[l] == ','))
			return true;
	return false;
}

static int loaded_range(const struct mrange *m, void *ctx)
{
	struct loaded *l = ctx;
	struct frame fr[8];
	const char *mod;
	char *more;
	int n;

	if (m->owner != l->owner || !m->start)
		return 0;
	n = symbolizer__resolve(l->in->sym, m->start - 1, fr, 8);
	mod = n ? fr[n - 1].module : NULL;
	if (mod && !loader_frame(&fr[n - 1]) && !listed(l->libs, mod)) {
		if (asprintf(&more, "%s%s%s", l->libs ? l->libs : "", l->libs ? ", " : "", mod) < 0)
			abort();
		free(l->libs);
		l->libs = more;
	}
	clear_frames(fr, n);
	return 0;
}

/* The mappings ld.so makes on its own while it loads a library are the
 * library's zero-filled data (.bss past the end of its file), placed
 * right after the library's last page: that library is what it was
 * loading (one call site of ld.so loads them all: a row lists each).
 * NULL when the stack is not ld.so's or its mappings follow no library. */
static char *loaded_library(struct report_in *in, const struct stack_ent *s)
{
	int c = culprit_index(s->frames, s->nframes);
	struct loaded l = { .in = in, .owner = (uint32_t)(s - in->t->stacks) };

	if (c < 0 || !loader_frame(&s->frames[c]) || in->t->pages)
		return NULL;
	ranges__foreach(in->t->ranges, loaded_range, &l);
	return l.libs;
}

/* The stack's frames, once: the DWARF ones when the site's snapshot was
 * unwound (in auto mode unless the frame-pointer walk reaches further: a
 * snapshot ends after 8 KiB of stack, frame pointers do not), else the
 * frame-pointer ones. */
static void resolve_stack(const struct report_opts *o, struct report_in *in, struct stack_ent *s)
{
	struct frame fr[MAX_FRAMES], dw[MAX_FRAMES];
	const struct callsite *d = NULL;
	int n, nd = 0;

	if (s->frames || !in->sym)
		return;
	n = fp_frames(in, s, fr);
	if (o->stack_mode != STACK_FP)
		d = callsites__stack(in->sites, callsites__find(in->sites, (uint32_t)in->t->pid, s->site));
	if (d)
		nd = dwarf_frames(in, d, dw);
	if (nd && (o->stack_mode == STACK_DWARF || nd >= n)) {
		clear_frames(fr, n);
		memcpy(fr, dw, nd * sizeof(*dw));
		n = nd;
		s->dwarf = true;
	} else {
		clear_frames(dw, nd);
	}
	n = symbolizer__jvm_trim(in->sym, fr, n);
	n = with_interp(in, s, fr, n);
	if (!n)
		return;
	s->frames = calloc(n, sizeof(*s->frames));
	if (!s->frames)
		abort();
	memcpy(s->frames, fr, n * sizeof(*fr));
	s->nframes = n;
	s->loading = loaded_library(in, s);
}

/* The culprit for JSON: its symbol, or "module+0xOFFSET" as the text
 * names a frame without one. Caller frees; NULL without a stack. */
static char *culprit_json(const struct stack_ent *s)
{
	char *txt;

	if (!s->loading)
		return culprit_label(s->frames, s->nframes, false);
	if (asprintf(&txt, "the dynamic loader (ld.so) loading %s", s->loading) < 0)
		abort();
	return txt;
}

static char *culprit_name(const struct stack_ent *s)
{
	char *txt = s->loading ? culprit_json(s) : culprit_label(s->frames, s->nframes, true), *esc;

	if (!txt)
		return strdup("[no stack]");
	esc = term_escape(txt);
	free(txt);
	return esc;
}

/* ---- ranking ---- */

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
static bool ranked(const struct report_opts *o, struct report_in *in, struct stack_ent *s)
{
	if (s->kind == MK_HEAP)
		return !o->malloc;
	if (s->kind == MK_ANON && o->malloc) {
		resolve_stack(o, in, s);
		for (int i = 0; i < s->nframes; i++)
			if (allocator_frame(&s->frames[i]))
				return false;
	}
	return o->all_kinds || s->kind == MK_ANON || s->kind == MK_MALLOC;
}

static int cmp_rows(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (row_held(x) != row_held(y))
		return row_held(x) < row_held(y) ? 1 : -1;
	if (x->acc.bytes != y->acc.bytes)
		return x->acc.bytes < y->acc.bytes ? 1 : -1;
	return x->owner < y->owner ? -1 : x->owner > y->owner;
}

struct totals {
	uint64_t by_kind[MK_KINDS], count, ranked;
	/* held under call sites found to stand for more than one stack */
	uint64_t merged_count, merged_bytes;
	/* Frames of the rows named module+offset only: their binary could
	 * not be opened, or the file at its path is not the one mapped. */
	uint64_t frames_unverified;
};

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

/* The text of a stack as the report shows it, the grouping key: frames
 * with their modules, or the kernel-side key when nothing resolved. */
static uint32_t group_of(struct stack_groups *g, const struct stack_ent *s)
{
	char *txt[MAX_FRAMES + 1];
	int n = 0;
	uint32_t id;

	for (int j = 0; j < s->nframes && j < MAX_FRAMES; j++) {
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
/* One row per stack as the user sees it, of the stacks with acc[i].bytes
 * that the report ranks: each is symbolized and stacks with the same
 * frames are summed. row_of[i]: stack i's row, NO_ROW if none; the rows
 * are in ranking order. */
static struct row *group_rows(const struct report_opts *o, struct report_in *in,
			      const struct stack_acc *acc, uint32_t *row_of, int *nrows)
{
	struct tracker *t = in->t;
	struct row *rows = calloc(t->nstacks + 1, sizeof(*rows));
	struct stack_groups *g = stack_groups__new();
	uint32_t *order;
	int n = 0;

	if (!rows || !g)
		abort();
	for (uint32_t i = 0; i < t->nstacks; i++) {
		row_of[i] = NO_ROW;
		if (acc[i].bytes && ranked(o, in, &t->stacks[i]))
			resolve_stack(o, in, &t->stacks[i]);
	}
	/* Whole stacks first, so that failed captures can join them. */
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < t->nstacks; i++) {
			struct stack_ent *s = &t->stacks[i];
			uint32_t r;
			bool joins;

			if (!acc[i].bytes || !ranked(o, in, s) || stack_failed(s) != pass)
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

/* The outstanding figures of every stack (acc), the totals, and the rows. */
static struct row *build_rows(const struct report_opts *o, struct report_in *in,
			      struct stack_acc *acc, uint32_t *row_of, int *nrows,
			      struct totals *tot)
{
	struct tracker *t = in->t;
	struct collect c = { .acc = acc, .now_ns = in->now_ns,
			     .min_age_ns = (uint64_t)(o->older_than_s * 1e9),
			     .page = t->pages ? (uint64_t)sysconf(_SC_PAGESIZE) : 0 };
	struct row *rows;

	ranges__foreach(t->ranges, collect_range, &c);
	for (uint32_t i = 0; i < in->malloc_n && i < t->nstacks; i++)
		if (t->stacks[i].kind == MK_MALLOC)
			acc[i] = in->malloc_acc[i];
	memset(tot, 0, sizeof(*tot));
	for (uint32_t i = 0; i < t->nstacks; i++) {
		tot->by_kind[t->stacks[i].kind] += acc[i].bytes;
		if (!acc[i].bytes || !ranked(o, in, &t->stacks[i]))
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
		if (ranked(o, in, &t->stacks[i]))
			p->total += acc[i].bytes;
	}
	p->rows = group_rows(o, in, acc, row_of, &p->n);
	free(row_of);
	free(acc);
}

/* Worth showing: the process released most of what it held before it
 * exited (what is still outstanding at the exit is in the main table). */
static bool show_peaks(const struct report_in *in, const struct peaks *p, const struct totals *tot)
{
	return in->target_exited && p->n && tot->ranked < p->total / 2;
}

/* What a row counts: allocations (mappings, malloc blocks), or with
 * --faults pages first touched. */
static const char *unit_noun(const struct report_opts *o, uint64_t n)
{
	if (o->faults)
		return n == 1 ? "page first touched" : "pages first touched";
	return n == 1 ? "allocation" : "allocations";
}

/* The heap as one mapping (brk has no stack worth naming); with --faults
 * its pages have the stacks that touched them. */
static bool heap_row(const struct report_opts *o, const struct stack_ent *s)
{
	return s->kind == MK_HEAP && !o->faults;
}

/* --malloc --sample N: malloc figures are the sample times N. */
static bool estimated(const struct report_opts *o, uint32_t kind)
{
	return kind == MK_MALLOC && o->sample_every > 1;
}

/* "~" before an estimate. */
static const char *est(const struct report_opts *o, uint32_t kind)
{
	return estimated(o, kind) ? "~" : "";
}

/* The growth of what a row really holds: mapped growth in proportion to
 * the row's resident share, so that reserving address space is not
 * growth. */
static double held_growth(const struct row *r)
{
	return r->acc.bytes ? r->growth * ((double)row_held(r) / (double)r->acc.bytes) : r->growth;
}

/* --malloc speaks of malloc: while there are malloc rows, the verdict
 * names one of them (the dynamic loader mapping libraries, or a mapping
 * of the program's, may hold or grow more, and stays in the table). */
static bool verdict_may_name(const struct report_opts *o, const struct report_in *in,
			     const struct row *rows, int n, const struct row *r)
{
	if (!o->malloc || in->t->stacks[r->owner].kind == MK_MALLOC)
		return true;
	for (int i = 0; i < n; i++)
		if (in->t->stacks[rows[i].owner].kind == MK_MALLOC)
			return false;
	return true;
}

static const struct row *growing_row(const struct report_opts *o, const struct report_in *in,
				     const struct row *rows, int n)
{
	const struct row *best = NULL;

	for (int i = 0; i < n; i++)
		if (held_growth(&rows[i]) > 0 && verdict_may_name(o, in, rows, n, &rows[i]) &&
		    (!best || held_growth(&rows[i]) > held_growth(best)))
			best = &rows[i];
	return best;
}

/* The largest row the verdict may name (rows are sorted); NULL if none. */
static const struct row *top_row(const struct report_opts *o, const struct report_in *in,
				 const struct row *rows, int n)
{
	for (int i = 0; i < n; i++)
		if (verdict_may_name(o, in, rows, n, &rows[i]))
			return &rows[i];
	return NULL;
}

/* The verdict's culprit text: the heap, or the stack's culprit. */
static char *row_culprit(const struct report_in *in, const struct row *r)
{
	const struct stack_ent *s = &in->t->stacks[r->owner];

	return s->kind == MK_HEAP ? strdup("the heap (brk)") : culprit_name(s);
}

/* " [OOM kill]", " [exit 3]": how the process ended, when known. */
static const char *ending_tag(const struct report_in *in, char buf[ENDING_TEXT_LEN + 8])
{
	char t[ENDING_TEXT_LEN];

	buf[0] = 0;
	if (ending_decode(in->ending).kind != ENDING_UNKNOWN)
		snprintf(buf, ENDING_TEXT_LEN + 8, " [%s]", ending_text(t, in->ending));
	return buf;
}

/* A process that exited: what it still held (released by the exit), or,
 * when its shutdown released most of it, what it held before. */
static char *exit_verdict(const struct report_opts *o, struct report_in *in, const struct row *rows,
			  int n, const struct totals *tot, const struct peaks *pk,
			  const struct row **named)
{
	const struct row *r = show_peaks(in, pk, tot) ? top_row(o, in, pk->rows, pk->n) :
			      top_row(o, in, rows, n);
	char b1[HUMAN_LEN], b2[HUMAN_LEN], how[ENDING_TEXT_LEN + 8], *who = row_culprit(in, r), *v;
	uint32_t kind = in->t->stacks[r->owner].kind;
	int ret;

	*named = r;
	if (show_peaks(in, pk, tot)) {
		double at = r->acc.oldest_ts > in->t->t0_ns ?
			(double)(r->acc.oldest_ts - in->t->t0_ns) / 1e9 : 0;

		ret = asprintf(&v, "EXITED%s after releasing its memory (%s outstanding at the exit): "
			       "before, %s held %s%s (its peak, %.1f s into the trace)",
			       ending_tag(in, how), fmt_bytes(b1, tot->ranked), who, est(o, kind),
			       fmt_bytes(b2, r->acc.bytes), at);
	} else {
		ret = asprintf(&v, "EXITED%s holding %s%s: %s held %s%s in %s%" PRIu64 " %s %s "
			       "when the process exited",
			       ending_tag(in, how), est(o, MK_MALLOC), fmt_bytes(b1, tot->ranked), who,
			       est(o, kind),
			       fmt_bytes(b2, r->acc.bytes), est(o, kind), r->acc.count,
			       mm_kind_name(kind), unit_noun(o, r->acc.count));
	}
	free(who);
	return ret < 0 ? NULL : v;
}

/* Too short a trace for a rate: what it holds is no evidence that nothing
 * grows (all of it may have been allocated while traced). */
static bool trace_too_short(const struct report_in *in)
{
	return (double)(in->now_ns - in->t->t0_ns) / 1e9 < GROWTH_MIN_SPAN_S;
}

/* The verdict of a trace too short for a rate: the largest holder. */
static char *short_trace_verdict(const struct report_opts *o, struct report_in *in,
				 const struct row *rows, int n, const struct totals *tot,
				 const struct row **named)
{
	char b1[HUMAN_LEN], b2[HUMAN_LEN], *who, *v;
	int r;

	*named = top_row(o, in, rows, n);
	who = row_culprit(in, *named);
	r = asprintf(&v, "Too short a trace to measure growth (%s): %s outstanding in %d stack%s, "
		     "most in %s", fmt_duration(b1, (double)(in->now_ns - in->t->t0_ns) / 1e9),
		     fmt_bytes(b2, tot->ranked), n, n == 1 ? "" : "s", who ? who : "?");
	free(who);
	return r < 0 ? NULL : v;
}

/* The first line; *named: the row whose culprit it names, or NULL. */
static char *verdict(const struct report_opts *o, struct report_in *in, const struct row *rows,
		     int n, const struct totals *tot, const struct peaks *pk, const struct row **named)
{
	const struct row *g = growing_row(o, in, rows, n);
	char b1[HUMAN_LEN], b2[HUMAN_LEN], b3[HUMAN_LEN], reserved[96], *who, *v;
	uint32_t kind;
	int r;

	*named = NULL;
	if (in->target_exited && (n || show_peaks(in, pk, tot)))
		return exit_verdict(o, in, rows, n, tot, pk, named);
	if (!n)
		return strdup("No leak: nothing the target mapped or allocated while traced is outstanding");
	if (!g && trace_too_short(in))
		return short_trace_verdict(o, in, rows, n, tot, named);
	if (!g) {
		r = asprintf(&v, "Nothing grows: %s outstanding in %d stack%s, none of it increasing",
			     fmt_bytes(b1, tot->ranked), n, n == 1 ? "" : "s");
		return r < 0 ? NULL : v;
	}
	*named = g;
	if (heap_row(o, &in->t->stacks[g->owner])) {
		r = asprintf(&v, "GROWING: the heap (brk) holds %s more than at start, +%s/s; "
			     "--malloc names the code that allocates", fmt_bytes(b1, g->acc.bytes),
			     fmt_bytes(b2, (uint64_t)g->growth));
		return r < 0 ? NULL : v;
	}
	kind = in->t->stacks[g->owner].kind;
	who = culprit_name(&in->t->stacks[g->owner]);
	reserved[0] = 0;
	if (row_held(g) < g->acc.bytes)
		snprintf(reserved, sizeof(reserved), " (resident; %s more mapped but not resident)",
			 fmt_bytes(b3, g->acc.bytes - row_held(g)));
	r = asprintf(&v, "GROWING: %s holds %s%s%s in %s%" PRIu64 " %s %s, %s+%s/s%s",
		     who, est(o, kind), fmt_bytes(b1, row_held(g)), reserved, est(o, kind), g->acc.count,
		     mm_kind_name(kind), unit_noun(o, g->acc.count), est(o, kind),
		     fmt_bytes(b2, (uint64_t)held_growth(g)),
		     estimated(o, kind) ? " (estimated from the sample)" : "");
	free(who);
	return r < 0 ? NULL : v;
}

/* Said when the process exited while traced. */
static const char exit_hint[] =
	"the process exited: for a pool that recycles its workers (PHP-FPM pm.max_requests, "
	"gunicorn max_requests) trace the pool with -c CGROUP, which follows the replacement workers";

/* ---- printers ---- */

static double age_s(const struct report_in *in, uint64_t ts)
{
	return ts && in->now_ns > ts ? (double)(in->now_ns - ts) / 1e9 : 0;
}

/* The culprit, then the frames, under a table row. */
static void print_stack(const struct report_opts *o, const struct stack_ent *s)
{
	char *top = culprit_name(s);

	printf(" %s\n", top);
	free(top);
	for (int j = 0; j < s->nframes && j < o->max_frames; j++) {
		char *f = frame_format(&s->frames[j]);
		char *e = term_escape(f ? f : "?");
		char *m = term_escape(s->frames[j].module ? s->frames[j].module : "?");

		printf("%56s #%-2d %s [%s]\n", "", j, e, m);
		free(f);
		free(e);
		free(m);
	}
	if (!s->nframes)
		printf("%56s (stack not captured)\n", "");
}

static double trace_s(const struct report_in *in, uint64_t ts)
{
	return ts > in->t->t0_ns ? (double)(ts - in->t->t0_ns) / 1e9 : 0;
}

static void print_peaks(const struct report_opts *o, struct report_in *in, const struct peaks *pk)
{
	char b[2][HUMAN_LEN];

	printf("\nbefore the exit: what each stack held at its peak (released while exiting)\n");
	printf("%-4s %10s %9s  %-6s %s\n", "#", "PEAK", "AT", "KIND", "CALL STACK (innermost first)");
	for (int i = 0; i < pk->n && i < o->top_n; i++) {
		const struct row *r = &pk->rows[i];
		const struct stack_ent *s = &in->t->stacks[r->owner];
		char bytes[HUMAN_LEN + 1];

		snprintf(bytes, sizeof(bytes), "%s%s", est(o, s->kind), fmt_bytes(b[0], r->acc.bytes));
		printf("%-4d %10s %9s  %-6s", i + 1, bytes,
		       fmt_duration(b[1], trace_s(in, r->acc.oldest_ts)), mm_kind_name(s->kind));
		print_stack(o, s);
	}
	if (pk->n > o->top_n)
		printf("... %d more stack%s\n", pk->n - o->top_n, pk->n - o->top_n == 1 ? "" : "s");
}

/* --faults and transparent huge pages: what the faults saw of them and
 * what they cannot see (huge pages resident before the trace). */
struct thp_view {
	bool anon_huge_known;
	uint64_t anon_huge;     /* AnonHugePages now (smaps_rollup) */
	bool unseen;            /* THP always, or the process has huge pages */
};

static struct thp_view thp_view(const struct report_opts *o, const struct report_in *in, bool alive)
{
	struct thp_view v = {};
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

static void print_thp(const struct report_opts *o, const struct report_in *in,
		      const struct thp_view *v, const struct proc_status *st)
{
	const struct tracker *t = in->t;
	char b[3][HUMAN_LEN];

	printf("         huge pages: %" PRIu64 " of %" PRIu64 " first touches brought a 2 MiB "
	       "transparent huge page (%s counted for them); THP %s", t->huge_faults, t->faults,
	       fmt_bytes(b[0], t->huge_bytes), o->thp_mode ? o->thp_mode : "unknown");
	if (v->anon_huge_known)
		printf(", AnonHugePages %s", fmt_bytes(b[1], v->anon_huge));
	printf("\n");
	if (t->huge_unknown)
		printf("         %" PRIu64 " faults that may have brought a huge page could not be "
		       "looked up in /proc/PID/pagemap: counted as one page each\n", t->huge_unknown);
	if (v->unseen)
		printf("         not seen: pages inside huge pages resident before the trace never "
		       "fault (nor do ranges khugepaged collapses): compare RssAnon's growth\n");
	if (st && t->rss_anon_start_known)
		printf("         RssAnon %s while traced; first touched and kept %s\n",
		       fmt_bytes_delta(b[0], (int64_t)(st->rss_anon - t->rss_anon_start)),
		       fmt_bytes(b[2], ranges__bytes(t->ranges)));
}

static void print_table(const struct report_opts *o, struct report_in *in, const struct row *rows,
			int n, const struct totals *tot, const struct peaks *pk, const char *v,
			const struct proc_status *st, const struct thp_view *thp)
{
	struct tracker *t = in->t;
	char b[6][HUMAN_LEN];
	double el = (double)(in->now_ns - t->t0_ns) / 1e9;
	char *ecomm = term_escape(in->comm ? in->comm : "?");
	time_t now = time(NULL);
	char clock[16], how[ENDING_TEXT_LEN + 8];

	strftime(clock, sizeof(clock), "%H:%M:%S", localtime(&now));
	printf("%s\n", v);
	printf("memleak-trace: pid %d (%s), traced %s, %s%s\n", t->pid, ecomm,
	       fmt_duration(b[0], el), in->final ? "final report at " : "report at ", clock);
	free(ecomm);
	if (o->faults)
		printf("unit: pages first touched (page faults) and not given back since: resident "
		       "growth, not bytes allocated (memory the allocator reuses costs no new page)\n");
	if (n) {
		printf("\n%-4s %10s %8s %9s %11s %10s  %-6s %s\n", "#", "BYTES",
		       o->faults ? "PAGES" : "ALLOCS", "OLDEST",
		       "GROWTH/s", "RESIDENT", "KIND", "CALL STACK (innermost first)");
	}
	for (int i = 0; i < n && i < o->top_n; i++) {
		const struct row *r = &rows[i];
		struct stack_ent *s = &t->stacks[r->owner];
		char bytes[HUMAN_LEN + 1], count[24], growth[HUMAN_LEN + 1];

		snprintf(bytes, sizeof(bytes), "%s%s", est(o, s->kind), fmt_bytes(b[0], r->acc.bytes));
		snprintf(count, sizeof(count), "%s%" PRIu64, est(o, s->kind), r->acc.count);
		snprintf(growth, sizeof(growth), "%s%s", est(o, s->kind),
			 fmt_bytes_delta(b[2], (int64_t)r->growth));
		printf("%-4d %10s %8s %9s %11s %10s  %-6s",
		       i + 1, bytes, count,
		       fmt_duration(b[1], age_s(in, r->acc.oldest_ts)), growth,
		       r->acc.resident_known ? fmt_bytes(b[3], r->acc.resident) : "-",
		       mm_kind_name(s->kind));
		print_stack(o, s);
	}
	if (n > o->top_n)
		printf("... %d more stack%s\n", n - o->top_n, n - o->top_n == 1 ? "" : "s");
	if (show_peaks(in, pk, tot))
		print_peaks(o, in, pk);
	printf("\nsummary: outstanding %s%s in %s%" PRIu64 " %s (anon %s, heap %s, malloc %s%s",
	       est(o, MK_MALLOC), fmt_bytes(b[0], tot->ranked), est(o, MK_MALLOC),
	       tot->count, unit_noun(o, tot->count), fmt_bytes(b[1], tot->by_kind[MK_ANON]), fmt_bytes(b[2], tot->by_kind[MK_HEAP]),
	       est(o, MK_MALLOC), fmt_bytes(b[3], tot->by_kind[MK_MALLOC]));
	printf("; not ranked: file %s, shared %s)\n", fmt_bytes(b[4], tot->by_kind[MK_FILE]),
	       fmt_bytes(b[5], tot->by_kind[MK_SHARED]));
	if (o->faults)
		printf("         first touched %s, given back %s (+%s unmapped that was not touched "
		       "while traced)", fmt_bytes(b[0], t->mapped), fmt_bytes(b[1], t->released),
		       fmt_bytes(b[2], t->released_untracked));
	else
		printf("         mapped %s, released %s (+%s of mappings older than the trace)",
		       fmt_bytes(b[0], t->mapped), fmt_bytes(b[1], t->released),
		       fmt_bytes(b[2], t->released_untracked));
	printf(", heap %s\n", t->brk_known ? fmt_bytes_delta(b[3], (int64_t)(t->brk_cur - t->brk_start)) : "?");
	if (st)
		printf("         process RSS %s (anon %s, file %s, shmem %s), swap %s\n",
		       fmt_bytes(b[0], st->vm_rss), fmt_bytes(b[1], st->rss_anon),
		       fmt_bytes(b[2], st->rss_file), fmt_bytes(b[3], st->rss_shmem),
		       fmt_bytes(b[4], st->vm_swap));
	else
		printf("         process has exited%s\n", ending_tag(in, how));
	if (o->faults)
		print_thp(o, in, thp, st);
	if (in->target_exited && !in->cgroup)
		printf("         %s\n", exit_hint);
	if (o->malloc) {
		char *e = term_escape(o->allocators ? o->allocators : "");

		printf("         malloc probes on %s\n", o->allocators ? e : "nothing: no allocator found");
		free(e);
	}
	if (o->malloc_fallback)
		printf("         mode: mappings (--malloc found no library or executable defining malloc and free "
		       "to probe)\n");
	if (o->sample_every > 1)
		printf("         malloc sampled: 1 call in %" PRIu64 " traced; malloc figures (~) are "
		       "estimates, the sample x%" PRIu64 "\n", o->sample_every, o->sample_every);
	if (o->faults && in->faults_unclassified)
		printf("         %" PRIu64 " page faults not counted: their mapping could not be looked "
		       "up (mmap lock busy)\n", in->faults_unclassified);
	callsites_print(stdout, "         ", callsites__counts(in->sites), in->verify_lost,
			o->stack_mode != STACK_FP, tot->merged_count, tot->merged_bytes, true,
			unit_noun(o, tot->merged_count));
	if (tot->frames_unverified)
		printf("         %" PRIu64 " frame%s named module+offset only: the binary could not be "
		       "opened, or the file at its path is not the one that was mapped\n",
		       tot->frames_unverified, tot->frames_unverified == 1 ? "" : "s");
	printf("         ");
	print_drops(stdout, in->drops, DROP_KINDS);
	fflush(stdout);
}

static void json_frames(struct jw *w, const struct stack_ent *s)
{
	jw_arr_begin(w, "frames");
	for (int j = 0; j < s->nframes; j++) {
		const struct frame *f = &s->frames[j];

		jw_obj_begin(w, NULL);
		jw_str(w, "symbol", f->symbol);
		jw_str(w, "module", f->module);
		jw_u64(w, "offset", f->offset);
		if (f->kind == FRAME_PHP || f->kind == FRAME_PYTHON)
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

static void json_peaks(struct jw *w, const struct report_opts *o, struct report_in *in,
		       const struct peaks *pk)
{
	jw_arr_begin(w, "before_exit");
	for (int i = 0; i < pk->n && i < o->top_n; i++) {
		const struct row *r = &pk->rows[i];
		const struct stack_ent *s = &in->t->stacks[r->owner];
		char *c = culprit_json(s);

		jw_obj_begin(w, NULL);
		jw_str(w, "kind", mm_kind_name(s->kind));
		jw_str(w, "culprit", c);
		free(c);
		jw_u64(w, "peak_bytes", r->acc.bytes);
		jw_double(w, "peak_at_s", trace_s(in, r->acc.oldest_ts));
		jw_bool(w, "estimated", estimated(o, s->kind));
		json_frames(w, s);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

/* --faults' huge-page figures (null otherwise, and when unknown). */
static void json_thp(struct jw *w, const struct report_opts *o, const struct tracker *t,
		     const struct thp_view *v, const struct proc_status *st)
{
	static const char *const keys[] = { "first_touch_faults", "huge_page_faults",
					     "huge_page_bytes", "huge_page_unknown" };
	const uint64_t vals[] = { t->faults, t->huge_faults, t->huge_bytes, t->huge_unknown };

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
	if (o->faults && st && t->rss_anon_start_known)
		jw_i64(w, "rss_anon_growth_bytes", (int64_t)(st->rss_anon - t->rss_anon_start));
	else
		jw_null(w, "rss_anon_growth_bytes");
}

static void print_json(const struct report_opts *o, struct report_in *in, const struct row *rows,
		       int n, const struct totals *tot, const struct peaks *pk,
		       const struct row *g, const char *v, const struct proc_status *st,
		       const struct thp_view *thp)
{
	struct tracker *t = in->t;
	struct jw w;

	jw_init(&w, stdout);
	jw_obj_begin(&w, NULL);
	jw_str(&w, "event", in->final ? "final_report" : "report");
	jw_str(&w, "mode", report_mode(o));
	jw_double(&w, "time", wall_time());
	jw_i64(&w, "pid", t->pid);
	jw_str(&w, "comm", in->comm);
	if (in->cgroup)
		jw_str(&w, "cgroup", in->cgroup);
	jw_double(&w, "elapsed_s", (double)(in->now_ns - t->t0_ns) / 1e9);
	jw_bool(&w, "target_exited", in->target_exited);
	ending_json(&w, "ending", in->ending);
	jw_str(&w, "verdict", v);
	jw_bool(&w, "growing", growing_row(o, in, rows, n) != NULL);
	/* What the verdict names. */
	if (g && heap_row(o, &t->stacks[g->owner])) {
		jw_str(&w, "culprit", "the heap (brk)");
	} else {
		char *c = g ? culprit_json(&t->stacks[g->owner]) : NULL;

		jw_str(&w, "culprit", c);
		free(c);
	}
	jw_arr_begin(&w, "stacks");
	for (int i = 0; i < n && i < o->top_n; i++) {
		const struct row *r = &rows[i];
		const struct stack_ent *s = &t->stacks[r->owner];
		char *c = culprit_json(s);

		jw_obj_begin(&w, NULL);
		jw_str(&w, "kind", mm_kind_name(s->kind));
		jw_str(&w, "culprit", c);
		free(c);
		jw_u64(&w, "bytes", r->acc.bytes);
		jw_u64(&w, "allocations", r->acc.count);
		jw_bool(&w, "estimated", estimated(o, s->kind));
		if (estimated(o, s->kind))
			jw_u64(&w, "sampled_allocations", r->acc.count / o->sample_every);
		else
			jw_null(&w, "sampled_allocations");
		jw_double(&w, "oldest_s", age_s(in, r->acc.oldest_ts));
		jw_i64(&w, "growth_bytes_per_s", llround(r->growth));
		if (r->acc.resident_known)
			jw_u64(&w, "resident_bytes", r->acc.resident);
		else
			jw_null(&w, "resident_bytes");
		jw_str(&w, "unwound", s->nframes ? (s->dwarf ? "dwarf" : "fp") : NULL);
		json_frames(&w, s);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_begin(&w, "summary");
	jw_u64(&w, "outstanding_bytes", tot->ranked);
	jw_u64(&w, "outstanding_allocations", tot->count);
	for (int k = 0; k < MK_KINDS; k++) {
		char key[32];

		snprintf(key, sizeof(key), "%s_bytes", mm_kind_name(k));
		jw_u64(&w, key, tot->by_kind[k]);
	}
	jw_u64(&w, "mapped_bytes", t->mapped);
	jw_u64(&w, "released_bytes", t->released);
	jw_u64(&w, "released_untracked_bytes", t->released_untracked);
	if (t->brk_known)
		jw_i64(&w, "heap_change_bytes", (int64_t)(t->brk_cur - t->brk_start));
	else
		jw_null(&w, "heap_change_bytes");
	if (st) {
		jw_u64(&w, "rss_bytes", st->vm_rss);
		jw_u64(&w, "rss_anon_bytes", st->rss_anon);
	} else {
		jw_null(&w, "rss_bytes");
		jw_null(&w, "rss_anon_bytes");
	}
	jw_u64(&w, "stacks", (uint64_t)n);
	jw_u64(&w, "sample_every", o->sample_every);
	jw_bool(&w, "malloc_estimated", o->malloc && o->sample_every > 1);
	jw_u64(&w, "frames_unverified", tot->frames_unverified);
	if (o->faults)
		jw_u64(&w, "faults_unclassified", in->faults_unclassified);
	else
		jw_null(&w, "faults_unclassified");
	json_thp(&w, o, t, thp, st);
	if (o->malloc || o->malloc_fallback)
		report_jw_allocators(&w, o->allocators);
	callsites_json(&w, callsites__counts(in->sites), in->verify_lost, o->stack_mode != STACK_FP,
		       tot->merged_count, tot->merged_bytes, true);
	jw_obj_end(&w);
	jw_drops(&w, "drops", in->drops, DROP_KINDS);
	if (show_peaks(in, pk, tot))
		json_peaks(&w, o, in, pk);
	else
		jw_null(&w, "before_exit");
	jw_str(&w, "hint", in->target_exited && !in->cgroup ? exit_hint : NULL);
	jw_obj_end(&w);
}

/* Flame-graph input: root first, frames joined by ';', weight in bytes. */
static void print_folded(const struct report_opts *o, struct report_in *in,
			 const struct row *rows, int n)
{
	for (int i = 0; i < n && i < o->top_n; i++) {
		const struct stack_ent *s = &in->t->stacks[rows[i].owner];

		for (int j = s->nframes - 1; j >= 0; j--) {
			const struct frame *f = &s->frames[j];
			char *txt = NULL, *e;

			if (f->kind == FRAME_PHP || f->kind == FRAME_PYTHON)
				txt = frame_format(f);
			else if (f->symbol)
				txt = strdup(f->symbol);
			else if (asprintf(&txt, "%s+0x%" PRIx64, f->module ? f->module : "[unknown]",
					  f->offset) < 0)
				txt = NULL;
			for (char *p = txt; p && *p; p++)
				if (*p == ';')
					*p = ':';
			e = term_escape(txt ? txt : "?");
			printf("%s%s", e, j ? ";" : "");
			free(txt);
			free(e);
		}
		printf("%s%s %" PRIu64 "\n", s->nframes ? "" : "[no stack]",
		       "", rows[i].acc.bytes);
	}
	fflush(stdout);
}

/* --pprof: each ranked stack that held or allocated memory while traced,
 * from its culprit outwards: the frames inside the allocator and the
 * syscall wrappers are left out, as Go's heap profiles leave out the
 * runtime's malloc, so that pprof's flat column names the culprit. */
static void pprof_stacks(const struct report_opts *o, struct report_in *in,
			 const struct stack_acc *acc)
{
	for (uint32_t i = 0; i < in->t->nstacks; i++) {
		struct stack_ent *s = &in->t->stacks[i];
		struct pprof_values v;
		int from;

		if ((!acc[i].bytes && !s->alloc_bytes) || !ranked(o, in, s))
			continue;
		resolve_stack(o, in, s);
		from = culprit_index(s->frames, s->nframes);
		from = from < 0 ? 0 : from;
		/* A --malloc profile counts what the program allocated: the
		 * dynamic loader's mappings (libraries' zero-filled data, its
		 * own pool) are neither malloc nor the program's. */
		if (o->malloc && from < s->nframes && loader_frame(&s->frames[from]))
			continue;
		v = (struct pprof_values){ (int64_t)s->alloc_count, (int64_t)s->alloc_bytes,
					   (int64_t)acc[i].count, (int64_t)acc[i].bytes };
		pprof__add(in->pprof, in->t->pid, in->sym, s->frames + from, s->nframes - from,
			   mm_kind_name(s->kind), &v);
	}
}

double report_growth(const struct report_opts *o, struct report_in *in, char **who)
{
	struct stack_acc *acc = calloc(in->t->nstacks + 1, sizeof(*acc));
	uint32_t *row_of = calloc(in->t->nstacks + 1, sizeof(*row_of));
	const struct row *g;
	struct totals tot;
	struct row *rows;
	double rate = 0;
	int n;

	if (!acc || !row_of)
		abort();
	rows = build_rows(o, in, acc, row_of, &n, &tot);
	g = growing_row(o, in, rows, n);
	*who = NULL;
	if (g) {
		struct stack_ent *s = &in->t->stacks[g->owner];

		rate = held_growth(g);
		*who = heap_row(o, s) ? strdup("the heap (brk)") : culprit_name(s);
	}
	free(rows);
	free(row_of);
	free(acc);
	return rate;
}

const char *report_mode(const struct report_opts *o)
{
	return o->faults ? "faults" : o->malloc ? "malloc" : "mappings";
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

void report_print(const struct report_opts *o, struct report_in *in)
{
	struct stack_acc *acc = calloc(in->t->nstacks + 1, sizeof(*acc));
	uint32_t *row_of = calloc(in->t->nstacks + 1, sizeof(*row_of));
	struct peaks pk = {};
	const struct row *named;
	struct proc_status st;
	struct thp_view thp;
	bool have_st;
	struct totals tot;
	struct row *rows;
	char *v;
	int n;

	if (!acc || !row_of)
		abort();
	/* Everything from the kernel and /proc is read here, once: the
	 * table and the JSON print the same numbers. */
	if (o->faults)
		tracker_thp_settle(in->t);
	rows = build_rows(o, in, acc, row_of, &n, &tot);
	if (in->pprof)
		pprof_stacks(o, in, acc);
	if (in->target_exited)
		peak_rows(o, in, &pk);
	have_st = !in->target_exited && proc_status(in->t->pid, &st) == 0;
	thp = thp_view(o, in, have_st);
	v = verdict(o, in, rows, n, &tot, &pk, &named);
	if (o->json)
		print_json(o, in, rows, n, &tot, &pk, named, v, have_st ? &st : NULL, &thp);
	else if (o->folded)
		print_folded(o, in, rows, n);
	else
		print_table(o, in, rows, n, &tot, &pk, v, have_st ? &st : NULL, &thp);
	free(pk.rows);
	free(v);
	free(rows);
	free(row_of);
	free(acc);
}
