/* DWARF unwinding of a user stack from a copied snapshot, as perf does for
 * --call-graph dwarf: the registers of the moment and the bytes above the
 * stack pointer are enough to walk through code built without frame
 * pointers, with the .eh_frame/.debug_frame of the binaries on disk.
 * x86_64 only (unwinder__new fails with ENOTSUP elsewhere). */
#ifndef MEMSCOPE_UNWIND_H
#define MEMSCOPE_UNWIND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct symbolizer;

/* x86_64 DWARF register numbers, the index into unwind_regs.r[]. */
enum unwind_reg {
	UNW_RAX = 0, UNW_RDX = 1, UNW_RCX = 2, UNW_RBX = 3,
	UNW_RSI = 4, UNW_RDI = 5, UNW_RBP = 6, UNW_RSP = 7,
	UNW_R8 = 8, UNW_R9, UNW_R10, UNW_R11, UNW_R12, UNW_R13, UNW_R14, UNW_R15,
	UNW_RIP = 16,
	UNW_NREGS = 17,
};

/* User registers at the moment the stack was copied. RIP and RSP are
 * required; every other register is used only if its bit is set in valid
 * (1u << UNW_x). The callee-saved ones (rbx, rbp, r12-r15) help: a caller
 * may keep its frame base in one of them. */
struct unwind_regs {
	uint64_t r[UNW_NREGS];
	uint32_t valid;
};

#define UNW_REGS_MIN ((1u << UNW_RIP) | (1u << UNW_RSP))

struct unwinder;

/* A libdwfl session for the process, with the modules of its
 * /proc/PID/maps (opened through /proc/PID/root or /proc/PID/map_files,
 * see symbolize.h). Created once per process and reused for every
 * snapshot. NULL with errno set if the process is gone or not x86_64. */
struct unwinder *unwinder__new(pid_t pid);
/* The same with a module table for when the process is gone
 * (symbolizer__new_with). */
struct modtab;
struct unwinder *unwinder__new_with(pid_t pid, const struct modtab *mt);

/* The symbolizer the unwinder reads its modules from: use it to resolve
 * the unwound addresses, and symbolizer__refresh it when the process has
 * mapped new code (dlopen) so that frames in that code unwind too. Owned
 * by the unwinder. */
struct symbolizer *unwinder__symbolizer(struct unwinder *u);

/* Walk the stack described by regs and the stack_len bytes copied from
 * address regs->r[UNW_RSP] upwards. Fills up to max addresses, innermost
 * first, and returns how many (at least 1 when max >= 1: ips[0] is the
 * interrupted instruction regs->r[UNW_RIP]), or -1 on bad arguments.
 *
 * The addresses are ready to symbolize as is: for a frame that returns
 * into its caller, the return address minus 1 (inside the call
 * instruction, so that the caller's function and line are found even when
 * the call is its last instruction); for activation frames (ips[0] and a
 * frame interrupted by a signal) the exact instruction.
 *
 * The walk stops where the snapshot ends, where no CFI covers the code
 * (then the x86_64 frame-pointer rule is tried), or at the outermost frame
 * (_start, clone). Nothing but the snapshot is read from the target. */
int unwinder__unwind(struct unwinder *u, const struct unwind_regs *regs, const void *stack,
		     size_t stack_len, uint64_t *ips, int max);

/* The same, with each frame's stack pointer in sps[i] (max entries): the
 * caller frame's CFA, so that the return address of frame i was read at
 * sps[i] - 8. */
int unwinder__unwind_sp(struct unwinder *u, const struct unwind_regs *regs, const void *stack,
			size_t stack_len, uint64_t *ips, uint64_t *sps, int max);

void unwinder__free(struct unwinder *u);

#endif
