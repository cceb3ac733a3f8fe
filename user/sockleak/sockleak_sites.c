// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* sockleak's call sites (sockleak_sites.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "array.h"
#include "culprit.h"
#include "hindex.h"
#include "interpreters.h"
#include "modtab.h"
#include "procfs.h"
#include "sockleak.h"
#include "sockleak_sites.h"
#include "symbolize.h"
#include "unwind.h"

#define SITE_MAX_IPS 127
/* libdwfl sessions kept open at once: each holds the process's parsed ELF
 * files, CFI and debug info (libc's alone is ~12 MiB once its lines are
 * read), and the frames are kept as text anyway. System-wide, the least
 * recently used one goes: 8 open sessions peaked at 165 MiB, 2 at 41 MiB. */
#define MAX_OPEN_PROCS 2

/* A traced process's symbols: the unwinder's symbolizer in DWARF modes. */
struct site_proc {
	uint32_t tgid;
	struct unwinder *unw;
	struct symbolizer *sym;
	bool gone;               /* could not be opened, or exited */
	bool stale;              /* code records came since its modules were read */
	uint64_t used;           /* s->tick at the last use */
	uint64_t jvm_dump_ns;    /* --jvm-perfmap: its map last dumped (0: never) */
};

/* A process's code mappings from SL_EV_MODULE records, until it exits:
 * its sites are symbolized from them once /proc/PID/maps is gone. */
struct proc_mods {
	uint32_t tgid;
	struct modtab mt;
};

struct sl_sites {
	struct sl_sites_opts o;
	struct proc_mods **mods; /* pointers: a symbolizer keeps its table's address */
	size_t nmods, capmods;
	struct sl_site **v;      /* in order of arrival */
	size_t n, cap;
	struct hindex index;     /* v by (tgid, site), or site (key_tgid) */
	struct site_proc *procs;
	size_t nprocs, capprocs;
	uint64_t dwarf, tick;
	struct callsites *cs;    /* the unwound stacks, verification */
	uint64_t frames_unverified; /* kept frames with module+offset only */
};

struct site_key {
	uint32_t tgid;
	uint64_t site;
};

/* The tgid part of a site's name: none where the BPF side shares sites
 * among a process's forks (the hash then names the layout). */
static uint32_t key_tgid(const struct sl_sites *s, uint32_t tgid)
{
	return s->o.cs.shared_spaces ? 0 : tgid;
}

static uint64_t key_hash(uint32_t tgid, uint64_t site)
{
	return hash_mix(site ^ ((uint64_t)tgid << 32));
}

static uint64_t entry_hash(uint32_t e, const void *s)
{
	const struct sl_site *st = ((const struct sl_sites *)s)->v[e];

	return key_hash(key_tgid(s, st->tgid), st->site);
}

static bool entry_is(uint32_t e, const void *key, const void *s)
{
	const struct sl_site *st = ((const struct sl_sites *)s)->v[e];
	const struct site_key *k = key;

	return key_tgid(s, st->tgid) == k->tgid && st->site == k->site;
}

static uint32_t *slot(const struct sl_sites *s, uint32_t tgid, uint64_t site)
{
	struct site_key k = { key_tgid(s, tgid), site };

	return hindex_slot(&s->index, key_hash(k.tgid, site), entry_is, &k, s);
}

struct sl_sites *sl_sites__new(const struct sl_sites_opts *o)
{
	struct sl_sites *s = calloc(1, sizeof(*s));

	if (!s)
		abort();
	s->o = *o;
	s->cs = callsites__new(&o->cs);
	return s;
}

static void proc_close(struct site_proc *p)
{
	if (p->unw)
		unwinder__free(p->unw);
	else
		symbolizer__free(p->sym);
	p->unw = NULL;
	p->sym = NULL;
	p->gone = true;
}

static void evict_lru(struct sl_sites *s)
{
	size_t lru = 0;

	for (size_t i = 1; i < s->nprocs; i++)
		if (s->procs[i].used < s->procs[lru].used)
			lru = i;
	proc_close(&s->procs[lru]);
	s->procs[lru] = s->procs[--s->nprocs];
}

static struct proc_mods *mods_of(const struct sl_sites *s, uint32_t tgid)
{
	for (size_t i = 0; i < s->nmods; i++)
		if (s->mods[i]->tgid == tgid)
			return s->mods[i];
	return NULL;
}

static struct modtab *modtab_of(const struct sl_sites *s, uint32_t tgid)
{
	struct proc_mods *m = mods_of(s, tgid);

	return m ? &m->mt : NULL;
}

static void mods_forget(struct sl_sites *s, uint32_t tgid)
{
	for (size_t i = 0; i < s->nmods; i++)
		if (s->mods[i]->tgid == tgid) {
			modtab_fini(&s->mods[i]->mt);
			free(s->mods[i]);
			s->mods[i] = s->mods[--s->nmods];
			return;
		}
}

static struct site_proc *find_proc(struct sl_sites *s, uint32_t tgid)
{
	for (size_t i = 0; i < s->nprocs; i++)
		if (s->procs[i].tgid == tgid)
			return &s->procs[i];
	return NULL;
}

/* Code of a process, ahead of its new site's record: kept; its open
 * symbolizer (if any) reads its modules again at its next site, and one
 * that could not be opened is tried again. */
static void module_record(struct sl_sites *s, const struct module_record *r, size_t size)
{
	struct proc_mods *m = mods_of(s, r->tgid);
	struct site_proc *p;

	if (!m) {
		m = calloc(1, sizeof(*m));
		if (!m)
			abort();
		m->tgid = r->tgid;
		modtab_init(&m->mt);
		ARRAY_GROW(s->mods, s->nmods, s->capmods, 16);
		s->mods[s->nmods++] = m;
	}
	modtab_record(&m->mt, r, size);
	p = find_proc(s, r->tgid);
	if (p && p->sym)
		p->stale = true;
	else if (p)
		*p = s->procs[--s->nprocs];
}

static struct site_proc *proc_of(struct sl_sites *s, uint32_t tgid)
{
	struct site_proc *p;

	s->tick++;
	p = find_proc(s, tgid);
	if (p) {
		p->used = s->tick;
		if (p->stale && p->sym)
			symbolizer__refresh(p->sym);
		p->stale = false;
		return p;
	}
	if (s->nprocs >= MAX_OPEN_PROCS)
		evict_lru(s);
	ARRAY_GROW(s->procs, s->nprocs, s->capprocs, 16);
	p = &s->procs[s->nprocs++];
	memset(p, 0, sizeof(*p));
	p->tgid = tgid;
	p->used = s->tick;
	if (s->o.mode != STACK_FP)
		p->unw = unwinder__new_with(tgid, modtab_of(s, tgid));
	p->sym = p->unw ? unwinder__symbolizer(p->unw) : symbolizer__new_with(tgid, modtab_of(s, tgid));
	p->gone = !p->sym;
	return p;
}

/* Symbolized frames of a list of addresses, ready to resolve (the first
 * exact, the others return address - 1), up to room. Past the last mapped
 * frame a broken chain or a stray word yields junk: the list ends there;
 * in a JVM without PreserveFramePointer, after its first compiled frame. */
static int resolve_ips(struct symbolizer *sym, const uint64_t *ips, int n, struct frame *fr, int room)
{
	int k = 0;

	symbolizer__prefetch(sym, ips, n);
	for (int i = 0; i < n && k < room; i++) {
		int got = symbolizer__resolve(sym, ips[i], fr + k, room - k);

		if (i && !fr[k + got - 1].module) {
			for (int j = 0; j < got; j++)
				frame_clear(&fr[k + j]);
			break;
		}
		k += got;
	}
	return symbolizer__jvm_trim(sym, fr, k);
}

/* The frame-pointer walk (stack id) with the caller found at sp that a
 * leaf syscall wrapper's walk skips, as addresses ready to resolve. With
 * no walk (its stack-map bucket was taken: -EEXIST), the site record's ip
 * still gives the first frame, so the stack reads the same as its
 * siblings'. */
static int fp_ips(const struct sl_sites *s, const struct sl_site *st, uint64_t ip, uint64_t *out)
{
	uint64_t ips[SL_MAX_STACK_DEPTH] = {};
	int nips = 0, n = 0;

	if (st->stack_id >= 0 && !bpf_map_lookup_elem(s->o.stacks_map, &st->stack_id, ips))
		while (nips < SL_MAX_STACK_DEPTH && ips[nips])
			nips++;
	if (nips)
		out[n++] = ips[0];
	else if (ip)
		out[n++] = ip;
	if (st->caller && (nips < 2 || ips[1] != st->caller))
		out[n++] = st->caller - 1;
	for (int i = 1; i < nips; i++)
		out[n++] = ips[i] - 1;
	return n;
}

static void keep_frames(struct sl_site *st, struct frame *fr, int n)
{
	st->frames = calloc(n + 1, sizeof(*st->frames));
	st->kinds = calloc(n + 1, sizeof(*st->kinds));
	if (!st->frames || !st->kinds)
		abort();
	st->culprit = culprit_index(fr, n);
	for (int i = 0; i < n; i++) {
		st->frames[i] = frame_format(&fr[i]);
		st->kinds[i] = (uint8_t)fr[i].kind;
	}
	st->nframes = n;
}

static void clear(struct frame *fr, int n)
{
	for (int i = 0; i < n; i++)
		frame_clear(&fr[i]);
}

static void count_unverified(struct sl_sites *s, const struct frame *fr, int n)
{
	for (int i = 0; i < n; i++)
		s->frames_unverified += fr[i].unverified;
}

#define JVM_DUMP_EVERY_NS 2000000000ull  /* a dump runs jcmd: ~0.5 s of a CPU */

/* --jvm-perfmap: sockleak has no report to dump a JVM's map before, as
 * memleak-trace does; a site is symbolized once, when it is new. So the
 * map is dumped at a process's first site, and again when a later site
 * runs compiled code it does not name (at most once every 2 s per
 * process: code that makes sockets is compiled early, then seldom).
 * True when it was dumped anew: resolve again. */
static bool jvm_map_dumped(struct site_proc *p, const struct frame *fr, int n)
{
	uint64_t now = mono_ns();
	bool unnamed = false;

	for (int i = 0; i < n && !unnamed; i++)
		unnamed = frame_jit_unnamed(&fr[i]);
	if (p->jvm_dump_ns && (!unnamed || now - p->jvm_dump_ns < JVM_DUMP_EVERY_NS))
		return false;
	p->jvm_dump_ns = now;
	symbolizer__jit_refresh(p->sym, true);
	return true;
}

/* Frames of the site: DWARF when its snapshot unwound (cs; in auto mode
 * unless the frame-pointer walk gives more frames), else the
 * frame-pointer ones (ip: the site's, for a site without a walk). */
static void symbolize_site(struct sl_sites *s, struct site_proc *p, struct sl_site *st,
			   const struct callsite *cs, uint64_t ip)
{
	uint64_t ips[SITE_MAX_IPS + 2];
	int room = s->o.max_frames, n, nd = 0, nips;
	struct frame *fr = calloc(room, sizeof(*fr)), *dw = calloc(room, sizeof(*dw));

	if (!fr || !dw)
		abort();
	nips = fp_ips(s, st, ip, ips);
	if (s->o.jvm_perfmap && !p->jvm_dump_ns)
		jvm_map_dumped(p, NULL, 0);
	n = resolve_ips(p->sym, ips, nips, fr, room);
	if (s->o.jvm_perfmap && jvm_map_dumped(p, fr, n)) {
		clear(fr, n);
		n = resolve_ips(p->sym, ips, nips, fr, room);
	}
	if (cs && cs->n)
		nd = resolve_ips(p->sym, cs->ips, cs->n, dw, room);
	if (nd && (s->o.mode == STACK_DWARF || nd >= n)) {
		keep_frames(st, dw, nd);
		st->dwarf = true;
		s->dwarf++;
	} else {
		keep_frames(st, fr, n);
	}
	count_unverified(s, st->dwarf ? dw : fr, st->nframes);
	clear(fr, n);
	clear(dw, nd);
	free(fr);
	free(dw);
}

static struct sl_site *site_add(struct sl_sites *s, uint32_t tgid, uint64_t site, int32_t stack_id,
				uint64_t caller, const struct callsite *cs, uint64_t ip)
{
	struct sl_site *st;
	struct site_proc *p;
	uint32_t *sl;

	hindex_reserve(&s->index, s->n, entry_hash, s);
	sl = slot(s, tgid, site);
	if (*sl)
		return s->v[*sl - 1];
	st = calloc(1, sizeof(*st));
	if (!st)
		abort();
	*st = (struct sl_site){ .tgid = tgid, .site = site, .stack_id = stack_id, .caller = caller,
				.culprit = -1 };
	ARRAY_GROW(s->v, s->n, s->cap, 256);
	s->v[s->n] = st;
	*sl = ++s->n;
	p = proc_of(s, tgid);
	if (!p->gone)
		symbolize_site(s, p, st, cs, ip);
	return st;
}

int sl_sites__on_event(void *ctx, void *data, size_t size)
{
	const struct cs_snap_event *e = data;
	const struct callsite *cs;
	struct sl_sites *s = ctx;
	struct site_proc *p;

	if (size >= sizeof(struct module_record) && e->type == SL_EV_MODULE) {
		module_record(ctx, data, size);
		return 0;
	}
	if (size < CS_SNAP_HEAD || e->type != SL_EV_SITE)
		return 0;
	p = proc_of(s, e->tgid);
	cs = callsites__record(s->cs, p->gone ? NULL : p->unw, data, size);
	if (cs && e->kind == CS_SNAP_NEW)
		site_add(s, e->tgid, e->site, e->stack_id, e->key.ret, cs, e->regs.ip);
	return 0;
}

/* A native site under an interpreter stack: a site of its own, keyed by
 * both, whose frames are the interpreter's then the native site's. */
static struct sl_site *interp_site(struct sl_sites *s, const struct sl_site *base, uint64_t interp)
{
	uint64_t key = (base->site ^ hash_mix(interp)) | 1;
	struct frame ifr[INTERP_MAX_FRAMES + 2];
	struct sl_site *st;
	uint32_t *sl;
	int k, n;

	hindex_reserve(&s->index, s->n, entry_hash, s);
	sl = slot(s, base->tgid, key);
	if (*sl)
		return s->v[*sl - 1];
	k = interp__frames(s->o.interp, interp, ifr, INTERP_MAX_FRAMES + 2);
	st = calloc(1, sizeof(*st));
	if (!st)
		abort();
	*st = *base;
	st->site = key;
	n = k + base->nframes;
	st->frames = calloc(n + 1, sizeof(*st->frames));
	st->kinds = calloc(n + 1, sizeof(*st->kinds));
	if (!st->frames || !st->kinds)
		abort();
	for (int i = 0; i < k; i++) {
		st->frames[i] = frame_format(&ifr[i]);
		st->kinds[i] = (uint8_t)ifr[i].kind;
	}
	for (int i = 0; i < base->nframes; i++) {
		st->frames[k + i] = strdup(base->frames[i]);
		st->kinds[k + i] = base->kinds ? base->kinds[i] : FRAME_NATIVE;
	}
	st->nframes = n;
	st->culprit = interp_culprit(ifr, k);
	if (st->culprit < 0 && base->culprit >= 0)
		st->culprit = base->culprit + k;
	clear(ifr, k);
	ARRAY_GROW(s->v, s->n, s->cap, 256);
	s->v[s->n] = st;
	*sl = ++s->n;
	return st;
}

const struct sl_site *sl_sites__get(struct sl_sites *s, uint32_t tgid, uint64_t site,
				    int32_t stack_id, uint64_t caller, uint64_t interp)
{
	struct sl_site *st = site_add(s, tgid, site, stack_id, caller, NULL, 0);

	return interp && s->o.interp ? interp_site(s, st, interp) : st;
}

void sl_sites__forget_proc(struct sl_sites *s, uint32_t tgid)
{
	mods_forget(s, tgid);
	for (size_t i = 0; i < s->nprocs; i++)
		if (s->procs[i].tgid == tgid) {
			proc_close(&s->procs[i]);
			s->procs[i] = s->procs[--s->nprocs];
			return;
		}
}

bool sl_sites__merged(const struct sl_sites *s, uint32_t tgid, uint64_t site)
{
	const struct callsite *c = callsites__find(s->cs, tgid, site);

	return c && c->state != CALLSITE_ONE;
}

static uint64_t verify_lost(const struct sl_sites *s)
{
	return s && s->o.verify_lost ? *s->o.verify_lost : 0;
}

void sl_sites__json(const struct sl_sites *s, struct jw *w, uint64_t merged)
{
	callsites_json(w, callsites__counts(s ? s->cs : NULL), verify_lost(s),
		       s && s->o.mode != STACK_FP, merged, 0, false);
}

void sl_sites__print(const struct sl_sites *s, uint64_t merged)
{
	callsites_print(stdout, "", callsites__counts(s->cs), verify_lost(s), s->o.mode != STACK_FP,
			merged, 0, false, "fds");
}

void sl_sites__counts(const struct sl_sites *s, uint64_t *sites, uint64_t *dwarf)
{
	*sites = s->n;
	*dwarf = s->dwarf;
}

uint64_t sl_sites__frames_unverified(const struct sl_sites *s)
{
	return s ? s->frames_unverified : 0;
}

void sl_sites__free(struct sl_sites *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		struct sl_site *st = s->v[i];

		for (int j = 0; j < st->nframes; j++)
			free(st->frames[j]);
		free(st->frames);
		free(st->kinds);
		free(st);
	}
	for (size_t i = 0; i < s->nprocs; i++)
		proc_close(&s->procs[i]);
	free(s->procs);
	while (s->nmods)
		mods_forget(s, s->mods[0]->tgid);
	free(s->mods);
	free(s->v);
	callsites__free(s->cs);
	hindex_free(&s->index);
	free(s);
}
