/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The second build of memleak-trace's and sockleak's programs, for kernels
 * before 5.13 (Debian 11's 5.10): compiled with -DMEMSCOPE_COMPAT into
 * build/X.compat.bpf.o, whose bytes user space opens into the same
 * skeleton (BPF_SKEL_OPEN in user/lib/bpfutil.h) when the kernel lacks
 * helper callbacks or task storage. Such a kernel rejects a program that
 * merely names a callback, even in a branch a const volatile switch never
 * takes (ld_imm64 of a function is "unrecognized" before 5.13), so what
 * it lacks is left out at compile time:
 *   bpf_for_each_map_elem (5.13), bpf_loop and bpf_find_vma (5.17): the
 *     interpreter frame walks, module records and sockleak's fd-table
 *     walks are not built (user space says so in one line each);
 *   task storage (5.11): memleak-trace's per-thread state is a hash by
 *     thread id, deleted at the thread's exit;
 *   bpf_get_current_ancestor_cgroup_id in tracing programs: -c walks up
 *     the cgroup2 parents;
 *   bpf_get_current_task_btf (5.11), bpf_task_pt_regs (5.15): fields are
 *     read with BPF_CORE_READ, and the user registers are copied from the
 *     top of the task's kernel stack (current_user_regs below);
 *   atomic fetch and compare-and-exchange (5.12): a plain store or read
 *     back where a race only miscounts (sockleak's peak, a close raced by
 *     two threads).
 * The build checks that both skeletons have the same layout (maps,
 * programs, .rodata/.bss), so the swap cannot misplace a variable.
 * Include after common.bpf.h. */
#ifndef MEMSCOPE_COMPAT_BPF_H
#define MEMSCOPE_COMPAT_BPF_H

#ifdef MEMSCOPE_COMPAT
#define MS_COMPAT 1
#else
#define MS_COMPAT 0
#endif

#if defined(MEMSCOPE_COMPAT) && !defined(__TARGET_ARCH_x86)
#error "the compat build reads pt_regs at x86-64's top of stack: x86 only"
#endif

/* The copy of the user registers (compat build; an unused one-entry map
 * in the other, which must have the same maps). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pt_regs);
} compat_regs SEC(".maps");

/* x86-64's task_pt_regs: the user registers fill the top of the task's
 * kernel stack, THREAD_SIZE 16 KiB (Debian builds no KASAN), with no
 * padding above them before FRED (6.9). */
#define COMPAT_THREAD_SIZE 16384

/* The current task's user registers (a syscall's arguments), or NULL. */
static __always_inline struct pt_regs *current_user_regs(void)
{
#ifdef MEMSCOPE_COMPAT
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	void *stack = BPF_CORE_READ(t, stack);
	__u32 zero = 0;
	struct pt_regs *r = bpf_map_lookup_elem(&compat_regs, &zero);

	if (!r || !stack ||
	    bpf_probe_read_kernel(r, sizeof(*r), stack + COMPAT_THREAD_SIZE - sizeof(*r)))
		return NULL;
	return r;
#else
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
#endif
}

#endif
