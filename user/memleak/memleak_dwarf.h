/* memleak-trace: call stacks unwound with DWARF (.eh_frame) from the stack
 * snapshots the BPF side sends for each new call site (the store and the
 * unwinding are shared: stacks.h). They are kept per process under the
 * name the records of that site carry: the frame-pointer stack id and the
 * word at the stack pointer (ret_addr), with the callers' discriminator
 * (site) folded into the store's 64-bit key. */
#ifndef MEMSCOPE_MEMLEAK_DWARF_H
#define MEMSCOPE_MEMLEAK_DWARF_H

#include <stddef.h>
#include <stdint.h>

#include "stacks.h"

/* Unwind an MM_EV_STACK record of size bytes and keep the stack (the
 * longer one if the site was seen before). */
static inline uint64_t memleak_dwarf_key(uint64_t ret_addr, uint64_t site)
{
	return ret_addr ^ site * 0xbf58476d1ce4e5b9ULL;
}

void dwarf_stacks_add(struct dwarf_stacks *ds, struct unwinder *u, const void *rec, size_t size);

#endif
