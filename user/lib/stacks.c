/* Call stacks shared by the tracers (stacks.h). */
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "hindex.h"
#include "stacks.h"
#include "unwind.h"

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
		    size_t len, uint64_t *ips, int max)
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
	n = unwinder__unwind(u, &r, stack, len, ips, max);
	return n > 0 ? n : 0;
}

struct site_key {
	int32_t id;
	uint64_t ret;
};

static uint64_t site_hash(int32_t id, uint64_t ret)
{
	return hash_mix(ret ^ ((uint64_t)(uint32_t)id << 32));
}

static uint64_t entry_hash(uint32_t e, const void *ds)
{
	const struct dwarf_stack *d = &((const struct dwarf_stacks *)ds)->v[e];

	return site_hash(d->stack_id, d->ret_addr);
}

static bool entry_is(uint32_t e, const void *key, const void *ds)
{
	const struct dwarf_stack *d = &((const struct dwarf_stacks *)ds)->v[e];
	const struct site_key *k = key;

	return d->stack_id == k->id && d->ret_addr == k->ret;
}

static uint32_t *slot(const struct dwarf_stacks *ds, int32_t id, uint64_t ret)
{
	struct site_key k = { id, ret };

	return hindex_slot(&ds->index, site_hash(id, ret), entry_is, &k, ds);
}

void dwarf_stacks_put(struct dwarf_stacks *ds, int32_t id, uint64_t ret, const uint64_t *ips, int n)
{
	uint32_t *sl;
	struct dwarf_stack *d;

	hindex_reserve(&ds->index, ds->n, entry_hash, ds);
	sl = slot(ds, id, ret);
	if (*sl) {
		d = &ds->v[*sl - 1];
		/* A resent site (LRU eviction): keep what unwound further. */
		if (n <= d->n)
			return;
		free(d->ips);
	} else {
		ARRAY_GROW(ds->v, ds->n, ds->cap, 64);
		d = &ds->v[ds->n];
		*sl = ++ds->n;
		d->stack_id = id;
		d->ret_addr = ret;
	}
	d->ips = malloc(n * sizeof(*ips));
	if (!d->ips)
		abort();
	memcpy(d->ips, ips, n * sizeof(*ips));
	d->n = n;
}

const struct dwarf_stack *dwarf_stacks_find(const struct dwarf_stacks *ds, int32_t stack_id,
					    uint64_t ret_addr)
{
	uint32_t *sl;

	if (!ds || !ds->n)
		return NULL;
	sl = slot(ds, stack_id, ret_addr);
	return *sl ? &ds->v[*sl - 1] : NULL;
}

void dwarf_stacks_free(struct dwarf_stacks *ds)
{
	for (uint32_t i = 0; i < ds->n; i++)
		free(ds->v[i].ips);
	free(ds->v);
	hindex_free(&ds->index);
	memset(ds, 0, sizeof(*ds));
}
