/* Call stacks shared by the tracers (stacks.h). */
#include <stdlib.h>
#include <string.h>

#include "array.h"
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

static uint32_t site_hash(int32_t id, uint64_t ret)
{
	uint64_t h = (ret ^ ((uint64_t)(uint32_t)id << 32)) * 0x9e3779b97f4a7c15ULL;

	return (uint32_t)(h >> 32);
}

static uint32_t *slot(const struct dwarf_stacks *ds, int32_t id, uint64_t ret)
{
	uint32_t m = ds->index_size - 1, h = site_hash(id, ret) & m;

	for (; ds->index[h]; h = (h + 1) & m) {
		const struct dwarf_stack *d = &ds->v[ds->index[h] - 1];

		if (d->stack_id == id && d->ret_addr == ret)
			break;
	}
	return &ds->index[h];
}

static void grow(struct dwarf_stacks *ds)
{
	struct dwarf_stacks bigger = *ds;

	bigger.index_size = ds->index_size ? ds->index_size * 2 : 256;
	bigger.index = calloc(bigger.index_size, sizeof(*bigger.index));
	if (!bigger.index)
		abort();
	for (uint32_t i = 0; i < ds->n; i++)
		*slot(&bigger, ds->v[i].stack_id, ds->v[i].ret_addr) = i + 1;
	free(ds->index);
	*ds = bigger;
}

void dwarf_stacks_put(struct dwarf_stacks *ds, int32_t id, uint64_t ret, const uint64_t *ips, int n)
{
	uint32_t *sl;
	struct dwarf_stack *d;

	if ((ds->n + 1) * 2 > ds->index_size)
		grow(ds);
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
	free(ds->index);
	memset(ds, 0, sizeof(*ds));
}
