// Unit tests of the DWARF unwinder (user/lib/unwind.c): stacks copied from
// functions built without frame pointers, in this process and in a child
// stopped inside libc, must unwind to the named callers and up to main.
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "symbolize.h"
#include "unwind.h"

#define STACK_COPY 8192
#define MAX_FRAMES 64

struct snap {
	struct unwind_regs regs;
	unsigned char stack[STACK_COPY];
	size_t len;
	void (*leaf)(struct snap *s);
	int fd_ready, fd_block;         /* the child's pipes */
};

/* Bytes from sp to the end of its mapping in /proc/PID/maps, at most
 * STACK_COPY: how much of the stack can be copied. */
static size_t stack_room(pid_t pid, uint64_t sp)
{
	char path[64], line[512];
	size_t room = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && sp >= lo && sp < hi) {
			room = hi - sp;
			break;
		}
	}
	fclose(f);
	return room < STACK_COPY ? room : STACK_COPY;
}

/* The call chain under test: no frame pointers, no inlining, cloning or
 * tail calls, a little stack in each frame so that the CFA moves. Its
 * stack is read whole, so it is not AddressSanitizer's (whose red zones
 * would also realign these frames). */
#define NOFP __attribute__((noipa, optimize("omit-frame-pointer"), no_sanitize_address))
/* Tests that unwind their own stack through their own frame. Under
 * AddressSanitizer the frames above them (cmocka's, the runtime's) are
 * laid out by its instrumentation and the walk through them is not what
 * is tested: they skip there (the child-process tests still run). */
#define OWN_STACK __attribute__((no_sanitize_address))
#ifdef __SANITIZE_ADDRESS__
#define SKIP_UNDER_ASAN() skip()
#else
#define SKIP_UNDER_ASAN() do { } while (0)
#endif

/* Reads its own stack, AddressSanitizer's red zones included, as the BPF
 * side reads a traced one: not instrumented, and byte by byte so that no
 * intercepted memcpy sees it. */
__attribute__((no_sanitize_address, noinline)) static void copy_own_stack(void *dst, uint64_t src, size_t n)
{
	const volatile unsigned char *s = (const volatile unsigned char *)src;
	unsigned char *d = dst;

	for (size_t i = 0; i < n; i++)
		d[i] = s[i];
}

/* Copies the registers and the stack above them, as BPF would. Only rip
 * and rsp are given: rbp is a scratch register in this code. */
NOFP void unw_capture(struct snap *s)
{
	uint64_t ip, sp;

	__asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1" : "=r"(ip), "=r"(sp) : : "memory");
	memset(&s->regs, 0, sizeof(s->regs));
	s->regs.r[UNW_RIP] = ip;
	s->regs.r[UNW_RSP] = sp;
	s->regs.valid = UNW_REGS_MIN;
	s->len = stack_room(getpid(), sp);
	copy_own_stack(s->stack, sp, s->len);
}

NOFP int unw_mid2(struct snap *s, int x)
{
	volatile char pad[40];

	pad[0] = (char)x;
	s->leaf(s);
	return pad[0] + x + 1;
}

NOFP int unw_mid1(struct snap *s, int x)
{
	volatile long pad[7];

	pad[3] = x;
	return unw_mid2(s, x * 3) + (int)pad[3];
}

NOFP int unw_top(struct snap *s, int x)
{
	volatile int pad[5];

	pad[1] = x;
	return unw_mid1(s, x + 2) * 2 + pad[1];
}

/* The function each address falls in (the outermost of its frames). */
static int symbolize(struct symbolizer *sym, const uint64_t *ips, int n, char **names,
		     char **modules)
{
	for (int i = 0; i < n; i++) {
		struct frame fr[8];
		int k = symbolizer__resolve(sym, ips[i], fr, 8);

		names[i] = fr[k - 1].symbol ? strdup(fr[k - 1].symbol) : strdup("?");
		modules[i] = fr[k - 1].module ? strdup(fr[k - 1].module) : strdup("?");
		for (int j = 0; j < k; j++)
			frame_clear(&fr[j]);
	}
	return n;
}

static void free_names(char **names, char **modules, int n)
{
	for (int i = 0; i < n; i++) {
		free(names[i]);
		free(modules[i]);
	}
}

static int find_from(char **names, int n, int from, const char *want)
{
	for (int i = from; i < n; i++)
		if (!strcmp(names[i], want))
			return i;
	return -1;
}

/* names[at..] are want[] (NULL-terminated) in order, main further up. */
static void assert_chain(char **names, int n, int at, const char *const *want)
{
	int i = at;

	for (; *want; want++, i++) {
		assert_true(i < n);
		assert_string_equal(names[i], *want);
	}
	assert_true(find_from(names, n, i, "main") > 0);
}

static void print_stack(const char *title, char **names, char **modules, int n)
{
	print_message("%s (%d frames):", title, n);
	for (int i = 0; i < n; i++)
		print_message(" %s[%s]", names[i], modules[i]);
	print_message("\n");
}

static struct snap self_snap;

OWN_STACK static void test_self_nofp(void **state)
{
	struct unwinder *u;
	uint64_t ips[MAX_FRAMES];
	char *names[MAX_FRAMES], *mods[MAX_FRAMES];
	int n;

	(void)state;
	SKIP_UNDER_ASAN();
	u = unwinder__new(getpid());
	assert_non_null(u);
	self_snap.leaf = unw_capture;
	unw_top(&self_snap, 1);
	assert_true(self_snap.len > 1024);
	n = unwinder__unwind(u, &self_snap.regs, self_snap.stack, self_snap.len, ips, MAX_FRAMES);
	assert_true(n >= 6);
	assert_int_equal(ips[0], self_snap.regs.r[UNW_RIP]);
	symbolize(unwinder__symbolizer(u), ips, n, names, mods);
	print_stack("self", names, mods, n);
	/* Every caller, none lost, then main further up. */
	assert_chain(names, n, 0, (const char *const[]){ "unw_capture", "unw_mid2", "unw_mid1",
							 "unw_top", "test_self_nofp", NULL });
	free_names(names, mods, n);
	unwinder__free(u);
}

/* An unwinder of this process and a snapshot taken four calls down. */
OWN_STACK static __attribute__((noipa)) struct unwinder *self_setup(void)
{
	struct unwinder *u = unwinder__new(getpid());

	assert_non_null(u);
	self_snap.leaf = unw_capture;
	unw_top(&self_snap, 1);
	return u;
}

/* One unwinder, several snapshots: each walk is its own. */
OWN_STACK static void test_reuse(void **state)
{
	struct unwinder *u;
	uint64_t ips[MAX_FRAMES], first[MAX_FRAMES];
	char *names[MAX_FRAMES], *mods[MAX_FRAMES];
	int n, n1;

	(void)state;
	SKIP_UNDER_ASAN();
	u = self_setup();
	n1 = unwinder__unwind(u, &self_snap.regs, self_snap.stack, self_snap.len, first, MAX_FRAMES);
	unw_mid1(&self_snap, 5);        /* without unw_top and self_setup */
	n = unwinder__unwind(u, &self_snap.regs, self_snap.stack, self_snap.len, ips, MAX_FRAMES);
	assert_int_equal(n, n1 - 2);
	symbolize(unwinder__symbolizer(u), ips, n, names, mods);
	assert_chain(names, n, 0, (const char *const[]){ "unw_capture", "unw_mid2", "unw_mid1",
							 "test_reuse", NULL });
	free_names(names, mods, n);
	/* The same snapshot again gives the same walk. */
	assert_int_equal(unwinder__unwind(u, &self_snap.regs, self_snap.stack, self_snap.len,
					  first, MAX_FRAMES), n);
	assert_memory_equal(first, ips, n * sizeof(ips[0]));
	/* Re-reading the maps (after a dlopen) keeps the session attached. */
	assert_int_equal(symbolizer__refresh(unwinder__symbolizer(u)), 0);
	assert_int_equal(unwinder__unwind(u, &self_snap.regs, self_snap.stack, self_snap.len,
					  first, MAX_FRAMES), n);
	assert_memory_equal(first, ips, n * sizeof(ips[0]));
	/* max is honoured. */
	assert_int_equal(unwinder__unwind(u, &self_snap.regs, self_snap.stack, self_snap.len,
					  first, 3), 3);
	assert_memory_equal(first, ips, 3 * sizeof(ips[0]));
	unwinder__free(u);
}

/* Only what was copied is read: a short copy ends the walk early, an
 * empty one leaves the interrupted instruction alone. */
static void test_truncated(void **state)
{
	struct unwinder *u = self_setup();
	uint64_t ips[MAX_FRAMES];
	struct unwind_regs bad = {0};
	int full, n;

	(void)state;
	full = unwinder__unwind(u, &self_snap.regs, self_snap.stack, self_snap.len, ips, MAX_FRAMES);
	n = unwinder__unwind(u, &self_snap.regs, self_snap.stack, 0, ips, MAX_FRAMES);
	assert_int_equal(n, 1);
	assert_int_equal(ips[0], self_snap.regs.r[UNW_RIP]);
	n = unwinder__unwind(u, &self_snap.regs, NULL, 4096, ips, MAX_FRAMES);
	assert_int_equal(n, 1);
	n = unwinder__unwind(u, &self_snap.regs, self_snap.stack, 256, ips, MAX_FRAMES);
	assert_true(n >= 2 && n < full);
	assert_int_equal(unwinder__unwind(u, &bad, self_snap.stack, 256, ips, MAX_FRAMES), -1);
	assert_int_equal(unwinder__unwind(u, &self_snap.regs, self_snap.stack, 256, ips, 0), -1);
	unwinder__free(u);
}

/* In the child: tell the parent we are deep in the chain, then block in
 * read() until killed. */
NOFP void unw_block(struct snap *s)
{
	char c = 1;

	if (write(s->fd_ready, &c, 1) != 1)
		_exit(2);
	while (read(s->fd_block, &c, 1) != 0)
		;
	_exit(0);
}

static void regs_from_ptrace(struct unwind_regs *r, const struct user_regs_struct *p)
{
	memset(r, 0, sizeof(*r));
	r->r[UNW_RAX] = p->rax;
	r->r[UNW_RDX] = p->rdx;
	r->r[UNW_RCX] = p->rcx;
	r->r[UNW_RBX] = p->rbx;
	r->r[UNW_RSI] = p->rsi;
	r->r[UNW_RDI] = p->rdi;
	r->r[UNW_RBP] = p->rbp;
	r->r[UNW_RSP] = p->rsp;
	r->r[UNW_R8] = p->r8;
	r->r[UNW_R9] = p->r9;
	r->r[UNW_R10] = p->r10;
	r->r[UNW_R11] = p->r11;
	r->r[UNW_R12] = p->r12;
	r->r[UNW_R13] = p->r13;
	r->r[UNW_R14] = p->r14;
	r->r[UNW_R15] = p->r15;
	r->r[UNW_RIP] = p->rip;
	r->valid = (1u << UNW_NREGS) - 1;
}

/* The child signals readiness just before its read(): on a slow machine
 * it can still be on its way there. Wait until the kernel has it asleep in
 * the read syscall (number 0 on x86_64), a condition rather than a clock. */
static void wait_in_read(pid_t pid)
{
	char path[64], buf[64];

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	for (;;) {
		FILE *f = fopen(path, "r");
		int ok;

		if (!f)
			return; /* no /proc/PID/syscall here: nothing to wait on */
		ok = fgets(buf, sizeof(buf), f) && strncmp(buf, "0 ", 2) == 0;
		fclose(f);
		if (ok)
			return;
		usleep(1000);
	}
}

/* Another process, stopped inside libc (built without frame pointers):
 * its registers from ptrace, its stack read with process_vm_readv. */
static void test_child_in_libc(void **state)
{
	int ready[2], block[2], status;
	struct user_regs_struct pregs;
	struct snap *s = calloc(1, sizeof(*s));
	uint64_t ips[MAX_FRAMES];
	char *names[MAX_FRAMES], *mods[MAX_FRAMES];
	struct iovec local, remote;
	struct unwinder *u;
	ssize_t got;
	pid_t pid;
	char c;
	int n, i;

	(void)state;
	assert_non_null(s);
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(block), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(ready[0]);
		close(block[1]);
		s->fd_ready = ready[1];
		s->fd_block = block[0];
		s->leaf = unw_block;
		unw_top(s, 1);
		_exit(3);
	}
	close(ready[1]);
	close(block[0]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	wait_in_read(pid);
	assert_int_equal(ptrace(PTRACE_SEIZE, pid, 0, 0), 0);
	assert_int_equal(ptrace(PTRACE_INTERRUPT, pid, 0, 0), 0);
	assert_int_equal(waitpid(pid, &status, __WALL), pid);
	assert_true(WIFSTOPPED(status));
	assert_int_equal(ptrace(PTRACE_GETREGS, pid, 0, &pregs), 0);
	regs_from_ptrace(&s->regs, &pregs);
	s->len = stack_room(pid, pregs.rsp);
	local = (struct iovec){ s->stack, s->len };
	remote = (struct iovec){ (void *)pregs.rsp, s->len };
	got = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	assert_int_equal(got, (ssize_t)s->len);

	u = unwinder__new(pid);
	assert_non_null(u);
	n = unwinder__unwind(u, &s->regs, s->stack, s->len, ips, MAX_FRAMES);
	symbolize(unwinder__symbolizer(u), ips, n, names, mods);
	print_stack("child", names, mods, n);
	/* Stopped in libc's read, whose caller is found through its CFI. */
	assert_true(n >= 7);
	assert_non_null(strstr(mods[0], "libc"));
	i = find_from(names, n, 0, "unw_block");
	assert_true(i >= 1);
	assert_chain(names, n, i, (const char *const[]){ "unw_block", "unw_mid2", "unw_mid1",
							 "unw_top", "test_child_in_libc", NULL });
	free_names(names, mods, n);
	unwinder__free(u);

	kill(pid, SIGKILL);
	waitpid(pid, &status, __WALL);
	close(ready[0]);
	close(block[1]);
	free(s);
}

static void test_no_process(void **state)
{
	(void)state;
	assert_null(unwinder__new(0x7ffffff0));
	assert_int_equal(unwinder__unwind(NULL, NULL, NULL, 0, NULL, 1), -1);
	unwinder__free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_self_nofp),
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_child_in_libc),
		cmocka_unit_test(test_no_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
