/* DWARF unwinding from a stack snapshot with libdwfl's frame API.
 *
 * libdwfl unwinds a "process" through callbacks: which threads exist, the
 * initial registers of one, and word reads of its memory. We attach these
 * once to the symbolizer's Dwfl (its modules, ELF files and parsed CFI are
 * shared) and feed each snapshot through the unwinder: every
 * dwfl_getthread_frames builds its thread state afresh from
 * set_initial_registers, so swapping the registers and the stack copy
 * between calls is all a new unwind needs; nothing is cached across.
 *
 * Memory reads are served from the snapshot only. The CFI itself is read
 * by libdw from the files, so the target is never touched: a snapshot
 * taken in BPF at a syscall unwinds the same way later, when the stack
 * has long changed. */
#define _GNU_SOURCE
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbolize.h"
#include "unwind.h"

struct unwinder {
	pid_t pid;
	const struct modtab *mt;        /* not owned; see unwinder__new_with */
	struct symbolizer *sym;
	int exe_fd;
	Elf *exe;               /* gives libdwfl the architecture; see unwinder__new */
	/* The snapshot of the current unwinder__unwind call. */
	const struct unwind_regs *regs;
	const unsigned char *stack;
	uint64_t stack_lo;
	size_t stack_len;
};

static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	struct unwinder *u = arg;

	(void)dwfl;
	if (*thread_argp)
		return 0;
	*thread_argp = u;
	return u->pid;
}

static bool get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
	struct unwinder *u = arg;

	(void)dwfl;
	*thread_argp = u;
	return tid == u->pid;
}

static bool read_word(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct unwinder *u = arg;
	uint64_t off = addr - u->stack_lo;

	(void)dwfl;
	/* addr below the copy wraps off around to a huge value. */
	if (u->stack_len < sizeof(*result) || off > u->stack_len - sizeof(*result))
		return false;
	memcpy(result, u->stack + off, sizeof(*result));
	return true;
}

static bool initial_registers(Dwfl_Thread *thread, void *arg)
{
	const struct unwinder *u = arg;
	const struct unwind_regs *r = u->regs;

	for (int i = 0; i < UNW_RIP; i++) {
		Dwarf_Word v = r->r[i];

		if ((r->valid & (1u << i)) && !dwfl_thread_state_registers(thread, i, 1, &v))
			return false;
	}
	dwfl_thread_state_register_pc(thread, r->r[UNW_RIP]);
	return true;
}

static const Dwfl_Thread_Callbacks thread_cbs = {
	.next_thread = next_thread,
	.get_thread = get_thread,
	.memory_read = read_word,
	.set_initial_registers = initial_registers,
};

struct walk {
	uint64_t *ips;
	uint64_t *sps;          /* each frame's sp, or NULL */
	int max, n;
	uint64_t last_pc, last_sp;
};

static int on_frame(Dwfl_Frame *state, void *arg)
{
	struct walk *w = arg;
	Dwarf_Addr pc;
	Dwarf_Word sp = 0;
	bool activation = false;

	if (!dwfl_frame_pc(state, &pc, &activation))
		return DWARF_CB_ABORT;
	if (!activation && pc > 0)
		pc--;
	/* A caller's frame lies above its callee's: a walk that goes down
	 * or stands still is reading garbage (or looping). */
	if (dwfl_frame_reg(state, UNW_RSP, &sp) == 0 && w->n > 0 &&
	    (sp < w->last_sp || (sp == w->last_sp && pc == w->last_pc)))
		return DWARF_CB_ABORT;
	if (pc == 0)
		return DWARF_CB_ABORT;
	if (w->sps)
		w->sps[w->n] = sp;
	w->ips[w->n++] = pc;
	w->last_pc = pc;
	w->last_sp = sp;
	return w->n < w->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

/* The architecture comes from the executable rather than from one of the
 * Dwfl's modules: libdwfl would borrow that module's backend, which a
 * symbolizer__refresh may free when the module is unmapped. */
static int open_exe(struct unwinder *u)
{
	char path[64];
	GElf_Ehdr eh;

	snprintf(path, sizeof(path), "/proc/%d/exe", u->pid);
	u->exe_fd = open(path, O_RDONLY | O_CLOEXEC);
	/* Gone already (its modules come from a module table): only x86_64
	 * is unwound, and this tool is x86_64. */
	if (u->exe_fd < 0 && u->mt)
		u->exe_fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (u->exe_fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	u->exe = elf_begin(u->exe_fd, ELF_C_READ_MMAP, NULL);
	if (!u->exe || !gelf_getehdr(u->exe, &eh))
		return -ENOEXEC;
	if (eh.e_machine != EM_X86_64 || eh.e_ident[EI_CLASS] != ELFCLASS64)
		return -ENOTSUP;
	return 0;
}

struct unwinder *unwinder__new(pid_t pid)
{
	return unwinder__new_with(pid, NULL);
}

struct unwinder *unwinder__new_with(pid_t pid, const struct modtab *mt)
{
	struct unwinder *u;
	int err;

#ifndef __x86_64__
	errno = ENOTSUP;
	return NULL;
#endif
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->pid = pid;
	u->mt = mt;
	u->exe_fd = -1;
	err = open_exe(u);
	if (!err) {
		u->sym = symbolizer__new_local(pid, mt);
		err = u->sym ? 0 : -ESRCH;
	}
	if (!err && !dwfl_attach_state(symbolizer__dwfl(u->sym), u->exe, pid, &thread_cbs, u))
		err = -ENOTSUP;
	if (err) {
		unwinder__free(u);
		errno = -err;
		return NULL;
	}
	return u;
}

struct symbolizer *unwinder__symbolizer(struct unwinder *u)
{
	return u ? u->sym : NULL;
}

int unwinder__unwind(struct unwinder *u, const struct unwind_regs *regs, const void *stack,
		     size_t stack_len, uint64_t *ips, int max)
{
	return unwinder__unwind_sp(u, regs, stack, stack_len, ips, NULL, max);
}

int unwinder__unwind_sp(struct unwinder *u, const struct unwind_regs *regs, const void *stack,
			size_t stack_len, uint64_t *ips, uint64_t *sps, int max)
{
	struct walk w = { .ips = ips, .sps = sps, .max = max };

	if (!u || !regs || !ips || max < 1 || (regs->valid & UNW_REGS_MIN) != UNW_REGS_MIN)
		return -1;
	u->regs = regs;
	u->stack = stack;
	u->stack_lo = regs->r[UNW_RSP];
	u->stack_len = stack ? stack_len : 0;
	/* The end of the walk is an error too (no CFI, unreadable word):
	 * what was collected until then is the result. */
	dwfl_getthread_frames(symbolizer__dwfl(u->sym), u->pid, on_frame, &w);
	u->regs = NULL;
	u->stack = NULL;
	u->stack_len = 0;
	if (w.n == 0) {
		if (sps)
			sps[w.n] = regs->r[UNW_RSP];
		ips[w.n++] = regs->r[UNW_RIP];
	}
	return w.n;
}

void unwinder__free(struct unwinder *u)
{
	if (!u)
		return;
	/* dwfl_end (in symbolizer__free) still uses the backend of exe. */
	symbolizer__free(u->sym);
	if (u->exe)
		elf_end(u->exe);
	if (u->exe_fd >= 0)
		close(u->exe_fd);
	free(u);
}
