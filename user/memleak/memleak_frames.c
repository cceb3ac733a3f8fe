// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* memleak-trace: a stack's frames, from the frame-pointer walk or the
 * DWARF unwinding of its call site's snapshot, with the interpreter's
 * frames on top, symbolized once; and the culprit they name. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "array.h"
#include "culprit.h"
#include "memleak.h"
#include "memleak_frames.h"
#include "output.h"

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

/* The addresses of the frame-pointer walk (stack id); how many. */
static int fp_ips(struct report_in *in, const struct stack_ent *s, uint64_t ips[MAX_STACK_DEPTH])
{
	int nips = 0;

	memset(ips, 0, sizeof(uint64_t) * MAX_STACK_DEPTH);
	if (s->stack_id >= 0 && bpf_map_lookup_elem(in->stacks_fd, &s->stack_id, ips) == 0)
		while (nips < MAX_STACK_DEPTH && ips[nips])
			nips++;
	return nips;
}

/* Frames of the frame-pointer walk (stack id), with the return address
 * at sp that a leaf wrapper's caller leaves and the walk skips. */
static int fp_frames(struct report_in *in, const struct stack_ent *s, struct frame *fr)
{
	uint64_t ips[MAX_STACK_DEPTH];
	struct frame probe[8];
	int n = 0, nips = fp_ips(in, s, ips);

	if (nips)
		n += add_frames(in->sym, ips[0], false, fr, LEAK_MAX_FRAMES);
	/* The caller of a leaf wrapper, which the frame-pointer walk skips:
	 * kept when it lies in a mapped module and is not already next. */
	if (s->ret_addr && (nips < 2 || ips[1] != s->ret_addr)) {
		int k = symbolizer__resolve(in->sym, s->ret_addr - 1, probe, 8);
		bool mapped = probe[k - 1].module != NULL;

		for (int i = 0; i < k; i++)
			frame_clear(&probe[i]);
		if (mapped)
			n += add_frames(in->sym, s->ret_addr, true, fr + n, LEAK_MAX_FRAMES - n);
	}
	for (int i = 1; i < nips && n < LEAK_MAX_FRAMES; i++) {
		int k = add_frames(in->sym, ips[i], true, fr + n, LEAK_MAX_FRAMES - n);

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

	for (int i = 0; i < d->n && n < LEAK_MAX_FRAMES; i++) {
		int k = symbolizer__resolve(in->sym, d->ips[i], fr + n, LEAK_MAX_FRAMES - n);

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
 * fr holds n native frames and room for LEAK_MAX_FRAMES; the total is returned. */
static int with_interp(struct report_in *in, const struct stack_ent *s, struct frame *fr, int n)
{
	struct frame ifr[INTERP_MAX_FRAMES + 2];
	int k = s->interp ? interp__frames(in->interp, s->interp, ifr, INTERP_MAX_FRAMES + 2) : 0;

	if (!k)
		return n;
	while (n + k > LEAK_MAX_FRAMES)
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
void stack_resolve(const struct report_opts *o, struct report_in *in, struct stack_ent *s)
{
	struct frame fr[LEAK_MAX_FRAMES], dw[LEAK_MAX_FRAMES];
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

static void push_addr(uint64_t **v, size_t *n, size_t *cap, uint64_t addr)
{
	ARRAY_GROW(*v, *n, *cap, 256);
	(*v)[(*n)++] = addr;
}

void stacks_prefetch(const struct report_opts *o, struct report_in *in,
		     const struct stack_acc *acc)
{
	uint64_t ips[MAX_STACK_DEPTH], *v = NULL;
	size_t n = 0, cap = 0;

	for (uint32_t i = 0; in->sym && i < in->t->nstacks; i++) {
		const struct stack_ent *s = &in->t->stacks[i];
		const struct callsite *d = NULL;
		int k;

		if (!acc[i].bytes || s->frames)
			continue;
		k = fp_ips(in, s, ips);
		for (int j = 0; j < k; j++)
			push_addr(&v, &n, &cap, j ? ips[j] - 1 : ips[j]);
		if (s->ret_addr)
			push_addr(&v, &n, &cap, s->ret_addr - 1);
		if (o->stack_mode != STACK_FP)
			d = callsites__stack(in->sites, callsites__find(in->sites, (uint32_t)in->t->pid, s->site));
		for (int j = 0; d && j < d->n; j++)
			push_addr(&v, &n, &cap, d->ips[j]);
	}
	if (n)
		symbolizer__prefetch(in->sym, v, (int)n);
	free(v);
}

char *stack_culprit_raw(const struct stack_ent *s)
{
	char *txt;

	if (!s->loading)
		return culprit_label(s->frames, s->nframes, false);
	if (asprintf(&txt, "the dynamic loader (ld.so) loading %s", s->loading) < 0)
		abort();
	return txt;
}

char *stack_culprit_name(const struct stack_ent *s)
{
	char *txt = s->loading ? stack_culprit_raw(s) : culprit_label(s->frames, s->nframes, true), *esc;

	if (!txt)
		return strdup("[no stack]");
	esc = term_escape(txt);
	free(txt);
	return esc;
}
