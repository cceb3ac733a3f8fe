/* memleak-trace: DWARF-unwound stacks per call site (memleak_dwarf.h). */
#include <string.h>

#include "memleak.h"
#include "memleak_dwarf.h"

void dwarf_stacks_add(struct dwarf_stacks *ds, struct unwinder *u, const void *rec, size_t size)
{
	const struct mm_stack_event *e = rec;
	uint64_t ips[MAX_STACK_DEPTH], ret = 0;
	int n;

	if (!u || size < sizeof(*e) || e->stack_len > sizeof(e->stack) || e->stack_len < sizeof(ret))
		return;
	ds->snapshots++;
	memcpy(&ret, e->stack, sizeof(ret));
	n = unwind_snapshot(u, &e->regs, e->stack, e->stack_len, ips, MAX_STACK_DEPTH);
	if (n > 0)
		dwarf_stacks_put(ds, e->stack_id, memleak_dwarf_key(ret, e->site), ips, n);
}
