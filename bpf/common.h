/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What every memscope BPF program shares with user space. */
#ifndef MEMSCOPE_COMMON_H
#define MEMSCOPE_COMMON_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define TASK_COMM_LEN 16

/* Indexes of the loss counters every program keeps in .bss (`drops`).
 * User space prints each non-zero one: nothing is lost silently. */
#define DROP_RINGBUF    0 /* ring buffer full: event not sent */
#define DROP_MAP_FULL   1 /* a tracking map had no room */
#define DROP_STACK      2 /* stack capture failed */
#define DROP_MISSED     3 /* an exit without its entry (attached mid-call) */
#define DROP_KINDS      4

/* The cgroups a task belongs to: the cgroup2 id (the unified hierarchy,
 * what bpf_get_current_cgroup_id returns) and, where the memory controller
 * is mounted on cgroup v1, the kernfs id of its v1 memory cgroup. Both are
 * inode numbers of the cgroup's directory; user space maps them to paths. */
struct cgroup_ids {
	__u64 v2_id;
	__u64 v1_memcg_id;
};

/* How a process ended, read in the kernel when its last thread exits.
 * code is what wait(2) would report: the exit status in bits 8-15, or the
 * fatal signal in bits 0-6 (0x80: it dumped core). flags: ENDING_*.
 * User space decodes it (user/lib/ending.h). */
#define ENDING_SEEN 0x1  /* the exit was seen (else nothing is known) */
#define ENDING_OOM  0x2  /* the OOM killer chose it (signal->oom_mm set) */

struct proc_ending {
	__u32 code;
	__u32 flags;
};

/* A copy of the user stack at a call site seen for the first time, for
 * DWARF unwinding in user space (user/lib/unwind.h): the bytes above the
 * stack pointer and the registers of the moment. Registers are x86_64
 * (zero elsewhere): ip and sp, and the callee-saved ones a caller may keep
 * its frame base in. */
#define STACK_SNAP_BYTES 8192

struct user_regs_snap {
	__u64 ip, sp, bp, bx, r12, r13, r14, r15;
};

#endif
