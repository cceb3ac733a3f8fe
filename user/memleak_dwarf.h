/* memleak-trace: call stacks unwound with DWARF (.eh_frame) from the stack
 * snapshots the BPF side sends for each new call site. They are kept per
 * process under the name the records of that site carry: the
 * frame-pointer stack id and the word at the stack pointer (ret_addr),
 * so a report finds them for any row whatever the order of arrival. */
#ifndef MEMSCOPE_MEMLEAK_DWARF_H
#define MEMSCOPE_MEMLEAK_DWARF_H

#include <stddef.h>
#include <stdint.h>

struct unwinder;

/* How report stacks are recovered (--stack-mode). */
enum stack_mode {
	STACK_AUTO,     /* DWARF unless the frame-pointer walk gives more frames */
	STACK_FP,       /* frame pointers + the return address at sp; no snapshots */
	STACK_DWARF,    /* DWARF whenever a snapshot was unwound */
};

struct dwarf_stack {
	int32_t stack_id;
	uint64_t ret_addr;
	/* ready to symbolize: ips[0] exact, the others return address - 1 */
	uint64_t *ips;
	int n;
};

struct dwarf_stacks {
	struct dwarf_stack *v;
	uint32_t n, cap;
	uint32_t *index;        /* open addressing: entry index + 1, 0 = empty */
	uint32_t index_size;
	uint64_t snapshots;     /* records received (LRU evictions resend) */
};

/* Unwind an MM_EV_STACK record of size bytes and keep the stack (the
 * longer one if the site was seen before). */
void dwarf_stacks_add(struct dwarf_stacks *ds, struct unwinder *u, const void *rec, size_t size);
const struct dwarf_stack *dwarf_stacks_find(const struct dwarf_stacks *ds, int32_t stack_id,
					    uint64_t ret_addr);
void dwarf_stacks_free(struct dwarf_stacks *ds);

#endif
