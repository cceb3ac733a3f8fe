/* The call-site service, user side (callsites.h). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "array.h"
#include "callsites.h"
#include "hindex.h"
#include "output.h"
#include "unwind.h"

/* Frames of two unwinds of one key compared, at least (fewer only when
 * one unwind is shorter: a truncated snapshot is not a difference). */
#define CS_COMPARE_MIN 8

struct callsites {
	struct callsites_opts o;
	struct callsite *v;
	uint32_t n;
	size_t cap;
	struct hindex index;     /* v by (tgid, site) */
	struct callsite_counts counts;
};

struct site_name {
	uint32_t tgid;
	uint64_t site;
};

/* The tgid part of a site's name: none where sites are shared by the
 * processes of one address space layout (their hash says which). */
static uint32_t name_tgid(const struct callsites *cs, uint32_t tgid)
{
	return cs->o.shared_spaces ? 0 : tgid;
}

int stack_mode_parse(const char *s, enum stack_mode *mode)
{
	if (!strcmp(s, "auto"))
		*mode = STACK_AUTO;
	else if (!strcmp(s, "fp"))
		*mode = STACK_FP;
	else if (!strcmp(s, "dwarf"))
		*mode = STACK_DWARF;
	else
		return -1;
	return 0;
}

int unwind_snapshot(struct unwinder *u, const struct user_regs_snap *regs, const void *stack,
		    size_t len, uint64_t *ips, uint64_t *sps, int max)
{
	struct unwind_regs r = {};
	int n;

	if (!u || !len)
		return 0;
	r.r[UNW_RIP] = regs->ip;
	r.r[UNW_RSP] = regs->sp;
	r.r[UNW_RBP] = regs->bp;
	r.r[UNW_RBX] = regs->bx;
	r.r[UNW_R12] = regs->r12;
	r.r[UNW_R13] = regs->r13;
	r.r[UNW_R14] = regs->r14;
	r.r[UNW_R15] = regs->r15;
	r.valid = UNW_REGS_MIN | 1u << UNW_RBP | 1u << UNW_RBX | 1u << UNW_R12 | 1u << UNW_R13 |
		  1u << UNW_R14 | 1u << UNW_R15;
	n = unwinder__unwind_sp(u, &r, stack, len, ips, sps, max);
	return n > 0 ? n : 0;
}

static uint64_t name_hash(uint32_t tgid, uint64_t site)
{
	return hash_mix(site ^ ((uint64_t)tgid << 32));
}

static uint64_t entry_hash(uint32_t e, const void *cs)
{
	const struct callsite *c = &((const struct callsites *)cs)->v[e];

	return name_hash(name_tgid(cs, c->tgid), c->site);
}

static bool entry_is(uint32_t e, const void *key, const void *cs)
{
	const struct callsite *c = &((const struct callsites *)cs)->v[e];
	const struct site_name *k = key;

	return name_tgid(cs, c->tgid) == k->tgid && c->site == k->site;
}

static uint32_t *slot(const struct callsites *cs, uint32_t tgid, uint64_t site)
{
	struct site_name k = { name_tgid(cs, tgid), site };

	return hindex_slot(&cs->index, name_hash(k.tgid, site), entry_is, &k, cs);
}

struct callsites *callsites__new(const struct callsites_opts *o)
{
	struct callsites *cs = calloc(1, sizeof(*cs));

	if (!cs)
		abort();
	cs->o = *o;
	if (cs->o.max_ips < 1)
		cs->o.max_ips = 127;
	return cs;
}

/* One unwind of a snapshot. */
struct unwound {
	uint64_t *ips, *sps;
	int n;
};

static void unwound_free(struct unwound *uw)
{
	free(uw->ips);
	free(uw->sps);
}

static void unwind_record(const struct callsites *cs, struct unwinder *u,
			  const struct cs_snap_event *e, struct unwound *uw)
{
	uw->ips = calloc(cs->o.max_ips, sizeof(*uw->ips));
	uw->sps = calloc(cs->o.max_ips, sizeof(*uw->sps));
	if (!uw->ips || !uw->sps)
		abort();
	uw->n = unwind_snapshot(u, &e->regs, e->stack, e->stack_len, uw->ips, uw->sps, cs->o.max_ips);
}

/* Keep an unwind as the site's stack: the CFA of each frame as an offset
 * from the snapshot's sp (0 where the unwinder had none). */
static void keep_unwound(struct callsite *c, struct unwound *uw)
{
	free(c->ips);
	free(c->offs);
	c->n = uw->n;
	c->ips = uw->ips;
	c->offs = calloc(uw->n + 1, sizeof(*c->offs));
	if (!c->offs)
		abort();
	for (int i = 1; i < uw->n; i++)
		if (uw->sps[i] > uw->sps[0] && uw->sps[i] - uw->sps[0] <= STACK_SNAP_BYTES)
			c->offs[i] = (uint32_t)(uw->sps[i] - uw->sps[0]);
	uw->ips = NULL;
}

/* The entry of (tgid, site), made if new (*fresh). Moves the entries:
 * pointers to others taken before are stale after it. */
static struct callsite *site_at(struct callsites *cs, uint32_t tgid, uint64_t site, int32_t stack_id,
				bool *fresh)
{
	uint32_t *sl;
	struct callsite *c;

	hindex_reserve(&cs->index, cs->n, entry_hash, cs);
	sl = slot(cs, tgid, site);
	*fresh = !*sl;
	if (*sl)
		return &cs->v[*sl - 1];
	ARRAY_GROW(cs->v, cs->n, cs->cap, 64);
	c = &cs->v[cs->n];
	memset(c, 0, sizeof(*c));
	*sl = ++cs->n;
	c->tgid = tgid;
	c->site = site;
	c->stack_id = stack_id;
	return c;
}

static struct callsite *site_get(struct callsites *cs, const struct cs_snap_event *e, bool *fresh)
{
	return site_at(cs, e->tgid, e->site, e->stack_id, fresh);
}

static struct unwound unwound_dup(const struct unwound *uw, int max)
{
	struct unwound d = { calloc(max, sizeof(*d.ips)), calloc(max, sizeof(*d.sps)), uw->n };

	if (!d.ips || !d.sps)
		abort();
	memcpy(d.ips, uw->ips, uw->n * sizeof(*d.ips));
	memcpy(d.sps, uw->sps, uw->n * sizeof(*d.sps));
	return d;
}

/* The first frame where two unwinds of one key part, among those both
 * reach; 0 if they agree. */
static int parting_frame(const struct callsite *c, const struct unwound *uw)
{
	int m = c->n < uw->n ? c->n : uw->n;

	for (int i = 1; i < m; i++)
		if (c->ips[i] != uw->ips[i])
			return i;
	return 0;
}

/* Tell the BPF side to mix the stack word below the CFA at off into the
 * key: later calls through the key take the next level. */
static bool refine(struct callsites *cs, const struct cs_key *key, uint32_t off)
{
	struct cs_val v;

	if (cs->o.sites_map < 0 || bpf_map_lookup_elem(cs->o.sites_map, key, &v))
		return false;
	v.refine_off = off;
	if (bpf_map_update_elem(cs->o.sites_map, key, &v, BPF_EXIST))
		return false;
	if (cs->o.generation)
		__atomic_add_fetch(cs->o.generation, 1, __ATOMIC_RELAXED);
	return true;
}

/* A verify snapshot of a kept site. Where the two stacks part, frame i's
 * return address was read from the stack just below frame i's CFA; with
 * the frames below it shared, that CFA lies at the same offset from sp in
 * both snapshots (else no one word tells them apart: unresolved). */
static void verify(struct callsites *cs, struct callsite *c, const struct cs_snap_event *e,
		   struct unwound *uw)
{
	uint32_t off_v;
	int i;

	cs->counts.verifies++;
	if (c->state != CALLSITE_ONE || !uw->n)
		return;
	if (!c->n) {
		keep_unwound(c, uw);
		return;
	}
	i = parting_frame(c, uw);
	if (!i)
		return;
	cs->counts.mismatches++;
	off_v = uw->sps[i] > uw->sps[0] ? (uint32_t)(uw->sps[i] - uw->sps[0]) : 0;
	if (!c->offs[i] || c->offs[i] != off_v || c->offs[i] < 8 ||
	    e->key.level + 1 >= CS_MAX_LEVELS) {
		c->state = CALLSITE_UNRESOLVED;
		cs->counts.unresolved++;
		return;
	}
	if (!refine(cs, &e->key, off_v)) {
		cs->counts.refine_failed++;
		return;
	}
	c->state = CALLSITE_MERGED;
	c->refine_off = off_v;
	cs->counts.merged++;
}

/* Tell the BPF side that the key's first hits were compared with its
 * stack (and the key refined if they differed): its later hits go under
 * the key's site. */
static void check(struct callsites *cs, struct callsite *key, const struct cs_snap_event *e)
{
	struct cs_val v;

	if (!cs->o.own_sites || key->checked || e->hit < CS_VERIFY_FIRST || cs->o.sites_map < 0)
		return;
	if (bpf_map_lookup_elem(cs->o.sites_map, &e->key, &v))
		return;
	v.checked = 1;
	if (!bpf_map_update_elem(cs->o.sites_map, &e->key, &v, BPF_EXIST))
		key->checked = true;
}

/* The verify snapshot of a hit of an unchecked key, recorded under a
 * site of its own: it verifies the key, and is that site's stack (the
 * key's, by alias, if it did not unwind). */
static const struct callsite *record_own_hit(struct callsites *cs, const struct cs_snap_event *e,
					     struct unwound *uw)
{
	const struct callsite *found = callsites__find(cs, e->tgid, e->key_site);
	uint32_t key = found ? (uint32_t)(found - cs->v) + 1 : 0;
	struct unwound mine = unwound_dup(uw, cs->o.max_ips);
	struct callsite *own;
	bool fresh;

	if (key) {
		verify(cs, &cs->v[key - 1], e, uw);
		check(cs, &cs->v[key - 1], e);
	} else {
		cs->counts.verifies++;
	}
	own = site_get(cs, e, &fresh);
	if (mine.n)
		keep_unwound(own, &mine);
	else if (!own->n)
		own->alias = key;
	unwound_free(&mine);
	return own;
}

const struct callsite *callsites__record(struct callsites *cs, struct unwinder *u,
					 const void *rec, size_t size)
{
	struct cs_snap_event head;
	const struct cs_snap_event *e = rec;
	struct unwound uw = {};
	struct callsite *c;
	bool fresh;

	if (size < CS_SNAP_HEAD || e->type != CS_EV_SNAP)
		return NULL;
	if (e->stack_len > STACK_SNAP_BYTES || size < CS_SNAP_HEAD + e->stack_len) {
		memcpy(&head, e, CS_SNAP_HEAD);
		head.stack_len = 0;
		e = &head;
	}
	unwind_record(cs, u, e, &uw);
	if (e->kind == CS_SNAP_VERIFY && e->key_site != e->site) {
		c = (struct callsite *)record_own_hit(cs, e, &uw);
		unwound_free(&uw);
		return c;
	}
	c = site_get(cs, e, &fresh);
	if (e->kind == CS_SNAP_VERIFY && !fresh) {
		verify(cs, c, e, &uw);
	} else {
		cs->counts.snapshots += e->kind == CS_SNAP_NEW;
		cs->counts.verifies += e->kind == CS_SNAP_VERIFY;
		/* A resent site (LRU eviction): keep what unwound further,
		 * and give a refined key its refinement again, or its events
		 * would merge anew, unverified. */
		if (uw.n > c->n)
			keep_unwound(c, &uw);
		if (!fresh && c->state == CALLSITE_MERGED && !refine(cs, &e->key, c->refine_off))
			cs->counts.refine_failed++;
		/* A resent key's new cache entry is unchecked again. */
		if (e->kind == CS_SNAP_NEW)
			c->checked = false;
	}
	unwound_free(&uw);
	return c;
}

const struct callsite *callsites__find(const struct callsites *cs, uint32_t tgid, uint64_t site)
{
	uint32_t *sl;

	if (!cs || !cs->n)
		return NULL;
	sl = slot(cs, tgid, site);
	return *sl ? &cs->v[*sl - 1] : NULL;
}

const struct callsite *callsites__stack(const struct callsites *cs, const struct callsite *c)
{
	return c && c->alias ? &cs->v[c->alias - 1] : c;
}

const struct callsite_counts *callsites__counts(const struct callsites *cs)
{
	static const struct callsite_counts none;

	return cs ? &cs->counts : &none;
}

void callsites__free(struct callsites *cs)
{
	if (!cs)
		return;
	for (uint32_t i = 0; i < cs->n; i++) {
		free(cs->v[i].ips);
		free(cs->v[i].offs);
	}
	free(cs->v);
	hindex_free(&cs->index);
	free(cs);
}

void callsites_json(struct jw *w, const struct callsite_counts *c, uint64_t verify_lost,
		    bool verified, uint64_t merged_events, uint64_t merged_bytes, bool bytes_known)
{
	jw_str(w, "call_site_verification", verified ? "sampled" : "not verified");
	jw_u64(w, "new_call_sites", c->snapshots);
	jw_u64(w, "call_site_verifies", c->verifies);
	jw_u64(w, "call_site_verifies_lost", verify_lost);
	jw_u64(w, "call_site_mismatches", c->mismatches);
	jw_u64(w, "merged_call_sites", c->merged);
	jw_u64(w, "unresolved_call_sites", c->unresolved);
	jw_u64(w, "merged_events", merged_events);
	if (bytes_known)
		jw_u64(w, "merged_bytes", merged_bytes);
	else
		jw_null(w, "merged_bytes");
}

void callsites_print(FILE *f, const char *indent, const struct callsite_counts *c,
		     uint64_t verify_lost, bool verified, uint64_t merged_events,
		     uint64_t merged_bytes, bool bytes_known, const char *noun)
{
	char b[HUMAN_LEN];

	if (!verified) {
		fprintf(f, "%scall sites: not verified (--stack-mode fp: no stack snapshots)\n", indent);
		return;
	}
	if (!c->merged && !c->unresolved && !verify_lost && !c->refine_failed)
		return;
	fprintf(f, "%scall sites: %" PRIu64 " found to merge different stacks (split from then on",
		indent, c->merged + c->unresolved);
	if (c->unresolved)
		fprintf(f, ", %" PRIu64 " could not be: no stack word tells them apart", c->unresolved);
	fprintf(f, "); %" PRIu64 " %s", merged_events, noun);
	if (bytes_known)
		fprintf(f, " (%s)", fmt_bytes(b, merged_bytes));
	fprintf(f, " recorded before are shown under the first stack seen; %" PRIu64
		" of %" PRIu64 " verify snapshots differed", c->mismatches, c->verifies);
	if (verify_lost)
		fprintf(f, ", %" PRIu64 " lost (ring buffer full)", verify_lost);
	fprintf(f, "\n");
}
