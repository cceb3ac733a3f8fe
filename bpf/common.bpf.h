/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* BPF-only helpers shared by memscope's programs. Include after vmlinux.h. */
#ifndef MEMSCOPE_COMMON_BPF_H
#define MEMSCOPE_COMMON_BPF_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "common.h"

/* Loss counters read by user space through the skeleton's .bss. */
__u64 drops[DROP_KINDS] = {};

static __always_inline void count_drop(int kind)
{
	if (kind >= 0 && kind < DROP_KINDS)
		__sync_fetch_and_add(&drops[kind], 1);
}

/* The task's css of the memory controller (its v1 memory cgroup, or on a
 * v2-only host its v2 cgroup), NULL when none. memory_cgrp_id is an enum
 * whose value depends on the kernel config, hence the CO-RE enum
 * relocation. */
static __always_inline struct cgroup_subsys_state *task_memory_css(struct task_struct *task)
{
	int id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);

	if (id < 0 || id >= CGROUP_SUBSYS_COUNT)
		return NULL;
	return BPF_CORE_READ(task, cgroups, subsys[id]);
}

/* The task's memory cgroup (struct mem_cgroup embeds its css), or NULL. */
static __always_inline struct mem_cgroup *task_memcg(struct task_struct *task)
{
	struct cgroup_subsys_state *css = task_memory_css(task);

	return css ? container_of(css, struct mem_cgroup, css) : NULL;
}

/* The memory cgroup of a task as the kernfs id of its directory; on a
 * v2-only host still a valid directory inode there. 0 when none. */
static __always_inline __u64 task_memcg_id(struct task_struct *task)
{
	struct cgroup_subsys_state *css = task_memory_css(task);

	return css ? BPF_CORE_READ(css, cgroup, kn, id) : 0;
}

static __always_inline void current_cgroup_ids(struct cgroup_ids *ids)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	ids->v2_id = bpf_get_current_cgroup_id();
	ids->v1_memcg_id = task_memcg_id(task);
}

/* Parents of a v1 memory cgroup walked for -c (its nesting depth). */
#define MEMCG_MAX_DEPTH 16

/* -c: is the current task in the target cgroup or below it?
 * cgroup2 (cg2_id set): one helper, bpf_get_current_ancestor_cgroup_id
 * (5.6), compares the task's ancestor at the target's depth cg2_level.
 * v1 memory hierarchy (memcg_id): no helper knows it, so walk up from the
 * task's memory css. memory_cgrp_id is an enum whose value depends on the
 * controllers the kernel was built with, hence the CO-RE enum relocation.
 * Every process on the host may pay this, so the chain is read with direct
 * loads through the BTF pointers of bpf_get_current_task_btf (5.11), not
 * BPF_CORE_READ (one probe-read helper call per field: five times the
 * cost); a faulting load reads 0 and ends the walk. kn->id is the
 * directory's inode number (a 64-bit id since 5.5), which user space gets
 * from stat(). Neither set: false. */
static __always_inline bool current_in_cgroup(__u64 cg2_id, __u32 cg2_level, __u64 memcg_id)
{
	int sub = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	struct task_struct *task;
	struct cgroup_subsys_state *css;

#ifdef MEMSCOPE_COMPAT
	/* compat.bpf.h: tracing programs have no
	 * bpf_get_current_ancestor_cgroup_id on 5.10 ("unknown func"): walk
	 * up from the task's cgroup2 cgroup (ids are unique: the depth needs
	 * no check). */
	if (cg2_id) {
		struct cgroup *cg = BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), cgroups, dfl_cgrp);

		for (int i = 0; i < MEMCG_MAX_DEPTH && cg; i++) {
			if (BPF_CORE_READ(cg, kn, id) == cg2_id)
				return true;
			cg = BPF_CORE_READ(cg, self.parent, cgroup);
		}
		return false;
	}
#else
	if (cg2_id)
		return bpf_get_current_ancestor_cgroup_id(cg2_level) == cg2_id;
#endif
	if (!memcg_id || sub < 0 || sub >= CGROUP_SUBSYS_COUNT)
		return false;
#ifdef MEMSCOPE_COMPAT /* compat.bpf.h: no BTF task pointer before 5.11 */
	task = (struct task_struct *)bpf_get_current_task();
	css = BPF_CORE_READ(task, cgroups, subsys[sub]);
	for (int i = 0; i < MEMCG_MAX_DEPTH && css; i++) {
		if (BPF_CORE_READ(css, cgroup, kn, id) == memcg_id)
			return true;
		css = BPF_CORE_READ(css, parent);
	}
#else
	task = bpf_get_current_task_btf();
	css = task->cgroups->subsys[sub];
	for (int i = 0; i < MEMCG_MAX_DEPTH && css; i++) {
		if (css->cgroup->kn->id == memcg_id)
			return true;
		css = css->parent;
	}
#endif
	return false;
}

/* At sched_process_exit: is the exiting thread its process's last? The
 * kernel decrements signal->live before the tracepoint fires. */
static __always_inline bool exiting_last_thread(struct task_struct *t)
{
	return BPF_CORE_READ(t, signal, live.counter) == 0;
}

/* At sched_process_exit of the last thread: how the process ended.
 * do_exit() stores its code in task->exit_code before the tracepoint (on
 * 6.1 and since). A group exit (exit_group, a fatal signal) makes every
 * thread exit with signal->group_exit_code, so the last thread's code is
 * the group's, what wait(2) reports: no need to read group_exit_code and
 * the SIGNAL_GROUP_EXIT flag. The OOM killer sends SIGKILL and marks the
 * victim (mark_oom_victim sets signal->oom_mm, 4.9+), which stays set
 * until the signal struct is freed, after the exit. */
static __always_inline void task_ending(struct task_struct *t, struct proc_ending *e)
{
	e->code = (__u32)BPF_CORE_READ(t, exit_code);
	e->flags = ENDING_SEEN | (BPF_CORE_READ(t, signal, oom_mm) ? ENDING_OOM : 0);
}

/* A frame pointer worth following: at or above sp, 8-byte aligned and
 * within 1 MiB of it. Code built without frame pointers (glibc's
 * __libc_start_call_main, -O2 programs) leaves any value in that register,
 * and a user read at an unmapped address takes a page fault: ~0.8 us, more
 * than the rest of a hook. */
static __always_inline bool fp_plausible(__u64 bp, __u64 sp)
{
	return bp >= sp && bp - sp < (1 << 20) && !(bp & 7);
}

/* One step up the frame-pointer chain: the return address in the frame
 * record at *bp (saved bp, return address), and *bp moved to the caller's
 * record (0: the chain ended, is implausible or unreadable). w holds the
 * nwords (a power of 2) words already read at sp: a record inside them
 * costs no read, and every bpf_probe_read_user costs ~150 ns whatever its
 * size. */
static __always_inline __u64 fp_step(const __u64 *w, __u32 nwords, __u64 sp, __u64 *bp)
{
	__u64 rec[2] = {};
	__u64 i = (*bp - sp) / 8;

	if (!fp_plausible(*bp, sp)) {
		*bp = 0;
		return 0;
	}
	if (i + 1 < nwords) {
		rec[0] = w[i & (nwords - 1)];
		rec[1] = w[(i + 1) & (nwords - 1)];
	} else if (bpf_probe_read_user(rec, sizeof(rec), (void *)*bp)) {
		*bp = 0;
		return 0;
	}
	*bp = rec[0];
	return rec[1];
}

/* Words of w[from..n) that point into [lo, hi) (the executable's text):
 * almost always return addresses. The first goes into *first (when it is
 * 0), every later one is folded into *mix. Without a frame chain they are
 * what tells the callers of one wrapper apart, at no extra read. */
static __always_inline void fold_text_words(const __u64 *w, int from, int n, __u64 lo, __u64 hi,
					    __u64 *first, __u64 *mix)
{
	for (int i = from; i < n; i++) {
		if (w[i] < lo || w[i] >= hi)
			continue;
		if (!*first)
			*first = w[i];
		else
			*mix = (*mix << 7 | *mix >> 57) ^ w[i];
	}
}

static __always_inline void snap_regs(struct pt_regs *regs, struct user_regs_snap *r)
{
	r->ip = PT_REGS_IP(regs);
	r->sp = PT_REGS_SP(regs);
	r->bp = PT_REGS_FP(regs);
#if defined(__TARGET_ARCH_x86)
	r->bx = regs->bx;
	r->r12 = regs->r12;
	r->r13 = regs->r13;
	r->r14 = regs->r14;
	r->r15 = regs->r15;
#else
	r->bx = r->r12 = r->r13 = r->r14 = r->r15 = 0;
#endif
}

/* Copy the user stack from sp upwards into dst (STACK_SNAP_BYTES of room):
 * the bytes copied, 0 if nothing could be read. Near the top of a stack
 * the whole read fails (a page past the stack's end): then it reads to the
 * end of the last page there is, the next whole page and sp's, or sp's
 * alone, so that the outermost frames (main, __libc_start_call_main, just
 * below the program's arguments) are in the copy. Fixed shorter retries
 * (4, 2, 1 KiB) cut them off whenever the stack's end, placed at random
 * by ASLR, fell between two sizes: sqlite3's getpwuid buffer then lost
 * __libc_start_call_main in about one run in three. */
static __always_inline __u32 snap_stack(void *dst, __u64 sp)
{
	__u32 to_page_end = 4096 - (sp & 4095), len;

	if (!bpf_probe_read_user(dst, STACK_SNAP_BYTES, (void *)sp))
		return STACK_SNAP_BYTES;
	len = to_page_end + 4096;
	if (len < STACK_SNAP_BYTES &&
	    !bpf_probe_read_user(dst, len & (STACK_SNAP_BYTES - 1), (void *)sp))
		return len;
	len = to_page_end;
	if (!bpf_probe_read_user(dst, len & (STACK_SNAP_BYTES - 1), (void *)sp))
		return len;
	return 0;
}

#endif
