/* Call stacks shared by the tracers: the --stack-mode choice, DWARF
 * unwinding of a BPF stack snapshot (struct user_regs_snap and the bytes
 * above sp, see bpf/common.h), and a store of unwound stacks per call site
 * keyed by (stack id, a 64-bit site key), so that a report finds them for
 * any row whatever the order of arrival. */
#ifndef MEMSCOPE_STACKS_H
#define MEMSCOPE_STACKS_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "hindex.h"

struct unwinder;

/* How report stacks are recovered (--stack-mode). */
enum stack_mode {
	STACK_AUTO,     /* DWARF unless the frame-pointer walk gives more frames */
	STACK_FP,       /* frame pointers + the return address at sp; no snapshots */
	STACK_DWARF,    /* DWARF whenever a snapshot was unwound */
};

#define STACK_MODE_HELP \
	"How call stacks are recovered: fp (the kernel's walk of frame pointers, cheapest; stops " \
	"in code built without them), dwarf (a copy of the stack at each new call site, unwound " \
	"with the binaries' .eh_frame) or auto (default: dwarf unless frame pointers give more frames)"

/* "auto", "fp", "dwarf": 0 and *mode set, or -1. */
int stack_mode_parse(const char *s, enum stack_mode *mode);

/* Unwind a snapshot: the registers and len bytes copied from regs->sp
 * upwards. Returns the addresses found (see unwinder__unwind), 0 if none. */
int unwind_snapshot(struct unwinder *u, const struct user_regs_snap *regs, const void *stack,
		    size_t len, uint64_t *ips, int max);

struct dwarf_stack {
	int32_t stack_id;
	uint64_t ret_addr;      /* the site key besides the stack id */
	/* ready to symbolize: ips[0] exact, the others return address - 1 */
	uint64_t *ips;
	int n;
};

struct dwarf_stacks {
	struct dwarf_stack *v;
	uint32_t n;
	size_t cap;
	struct hindex index;    /* by (stack id, key) */
	uint64_t snapshots;     /* records received (LRU evictions resend) */
};

/* Keep the stack of a site (the longer one if the site was seen before). */
void dwarf_stacks_put(struct dwarf_stacks *ds, int32_t stack_id, uint64_t key,
		      const uint64_t *ips, int n);
const struct dwarf_stack *dwarf_stacks_find(const struct dwarf_stacks *ds, int32_t stack_id,
					    uint64_t ret_addr);
void dwarf_stacks_free(struct dwarf_stacks *ds);

#endif
