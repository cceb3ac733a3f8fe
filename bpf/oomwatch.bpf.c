// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* oomwatch: record every OOM victim at the moment the kernel marks it.
 *
 * oom:mark_victim fires for the chosen victim, for each member of a
 * memory.oom.group kill and for the "already exiting" shortcut. By the
 * time user space runs, the victim is being reaped, so everything that
 * explains the kill (sizes, the memcg chain with limits and usage) is read
 * here. */
#include "vmlinux.h"
#include "common.bpf.h"
#include <bpf/bpf_tracing.h>
#include "oomwatch.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, OOM_RINGBUF_BYTES);
} events SEC(".maps");

/* Victims (tgid, or thread id from the classic tracepoint) whose cmdline
 * is copied when they take their SIGKILL. LRU: a victim that never takes
 * it (already exiting) is pushed out by later ones. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, OOM_CMDLINE_WAIT_MAX);
	__type(key, __u32);
	__type(value, __u8);
} cmdline_wanted SEC(".maps");

#define SIGKILL 9
#define SI_KERNEL 0x80 /* the si_code of SEND_SIG_PRIV, as the OOM killer sends */

/* Possible NUMA nodes (nr_node_ids), set by user space before load. */
const volatile __u32 nr_nodes = 1;
/* Not in vmlinux.h: include/linux/sched.h and sched/signal.h. */
#define PF_EXITING        0x00000004
#define SIGNAL_GROUP_EXIT 0x00000004

/* ---- CO-RE compat: kernel structs that changed shape ----------------- */

/* Before 6.2 (commit f1a7941243c1 "mm: convert mm's rss stats into
 * percpu_counter") the RSS counters were atomics in struct mm_rss_stat. */
struct mm_rss_stat___pre62 {
	atomic_long_t count[4];
} __attribute__((preserve_access_index));
struct mm_struct___pre62 {
	struct mm_rss_stat___pre62 rss_stat;
} __attribute__((preserve_access_index));

/* memory_events_local appeared in 5.2; before, memory_events was the only
 * array (and on v1 it is local anyway). */
struct mem_cgroup___pre52 {
	atomic_long_t memory_events[8];
} __attribute__((preserve_access_index));

/* One RSS counter (enum value idx) in pages, clamped at 0 like the
 * kernel's get_mm_counter(). */
static __always_inline __u64 mm_counter(struct mm_struct *mm, int idx)
{
	if (idx < 0 || idx >= 4)
		return 0;
	if (bpf_core_type_exists(struct mm_rss_stat___pre62)) {
		struct mm_struct___pre62 *old = (void *)mm;
		long v = 0;

		bpf_probe_read_kernel(&v, sizeof(v),
				      (void *)&old->rss_stat +
				      idx * sizeof(atomic_long_t));
		return v > 0 ? v : 0;
	}
	/* 6.2+: percpu_counter rss_stat[NR_MM_COUNTERS]; .count is the
	 * folded part only (the per-CPU deltas below the batch are not
	 * summed), which is what percpu_counter_read_positive() returns. */
	s64 c = 0;
	unsigned long off = bpf_core_field_offset(struct mm_struct, rss_stat) +
			    idx * bpf_core_type_size(struct percpu_counter) +
			    bpf_core_field_offset(struct percpu_counter, count);

	bpf_probe_read_kernel(&c, sizeof(c), (void *)mm + off);
	return c > 0 ? c : 0;
}

/* Where the memcg's page-state counters live. 6.1+ (and some earlier
 * stable trees) point to a separately allocated struct memcg_vmstats;
 * 5.13 ("mm: memcontrol: switch to rstat") to that embedded it; before
 * 5.13 they were an atomic_long_t array vmstats[MEMCG_NR_STAT] of the
 * memcg itself. 6.11 ("memcg: reduce memory for the lruvec and memcg
 * stats") shrank state[] to the items memcg accounts, which user space
 * maps from the array length. */
struct mem_cgroup___vmstats_ptr {
	struct memcg_vmstats *vmstats;
} __attribute__((preserve_access_index));
struct mem_cgroup___vmstats_embed {
	struct memcg_vmstats vmstats;
} __attribute__((preserve_access_index));
struct mem_cgroup___vmstats_pre513 {
	atomic_long_t vmstats[1];
} __attribute__((preserve_access_index));

static __always_inline __u64 memcg_oom_kills(struct mem_cgroup *memcg)
{
	int ev = bpf_core_enum_value(enum memcg_memory_event, MEMCG_OOM_KILL);
	long v = 0;

	if (ev < 0 || ev >= 16)
		return 0;
	if (bpf_core_field_exists(memcg->memory_events_local)) {
		bpf_probe_read_kernel(&v, sizeof(v),
				      (void *)memcg +
				      bpf_core_field_offset(struct mem_cgroup, memory_events_local) +
				      ev * sizeof(atomic_long_t));
	} else {
		struct mem_cgroup___pre52 *old = (void *)memcg;

		bpf_probe_read_kernel(&v, sizeof(v),
				      (void *)&old->memory_events + ev * sizeof(atomic_long_t));
	}
	return v > 0 ? v : 0;
}

/* Walk from memcg towards the root, recording limit and usage of each
 * level; user space decides which one was at its limit. */
static __always_inline void record_chain(struct oom_event *e, struct mem_cgroup *memcg)
{
	__u32 i;

	for (i = 0; i < OOM_MAX_DEPTH; i++) {
		struct oom_memcg_level *l = &e->chain[i];
		struct cgroup_subsys_state *parent;

		if (!memcg)
			return;
		__builtin_memset(l, 0, offsetof(struct oom_memcg_level, name));
		l->id = BPF_CORE_READ(memcg, css.cgroup, kn, id);
		bpf_probe_read_kernel_str(l->name, sizeof(l->name), BPF_CORE_READ(memcg, css.cgroup, kn, name));
		l->usage_pages = BPF_CORE_READ(memcg, memory.usage.counter);
		l->max_pages = BPF_CORE_READ(memcg, memory.max);
		if (bpf_core_field_exists(memcg->memory.failcnt))
			l->failcnt = BPF_CORE_READ(memcg, memory.failcnt);
		l->memsw_usage_pages = BPF_CORE_READ(memcg, memsw.usage.counter);
		l->memsw_max_pages = BPF_CORE_READ(memcg, memsw.max);
		l->oom_kill_local = memcg_oom_kills(memcg);
		if (bpf_core_field_exists(memcg->oom_group))
			l->oom_group = BPF_CORE_READ(memcg, oom_group);
		e->depth = i + 1;
		parent = BPF_CORE_READ(memcg, css.parent);
		memcg = parent ? container_of(parent, struct mem_cgroup, css) : NULL;
	}
	if (memcg)
		e->flags |= OOM_F_CHAIN_CUT;
}

/* The kernel address of memcg's state[] and its length in longs (0: a
 * layout this build does not know). */
static __always_inline void *memcg_state_array(struct mem_cgroup *memcg, __u32 *len)
{
	if (bpf_core_field_exists(struct mem_cgroup___vmstats_ptr, vmstats)) {
		struct mem_cgroup___vmstats_ptr *m = (void *)memcg;
		void *vs = BPF_CORE_READ(m, vmstats);

		*len = bpf_core_field_size(struct memcg_vmstats, state) / sizeof(long);
		return vs ? vs + bpf_core_field_offset(struct memcg_vmstats, state) : NULL;
	}
	if (bpf_core_field_exists(struct mem_cgroup___vmstats_embed, vmstats)) {
		*len = bpf_core_field_size(struct memcg_vmstats, state) / sizeof(long);
		return (void *)memcg + bpf_core_field_offset(struct mem_cgroup___vmstats_embed, vmstats) +
		       bpf_core_field_offset(struct memcg_vmstats, state);
	}
	if (bpf_core_field_exists(struct mem_cgroup___vmstats_pre513, vmstats)) {
		*len = bpf_core_field_size(struct mem_cgroup___vmstats_pre513, vmstats) / sizeof(long);
		return (void *)memcg + bpf_core_field_offset(struct mem_cgroup___vmstats_pre513, vmstats);
	}
	*len = 0;
	return NULL;
}

/* Copy memory.stat's counters of memcg and its first ancestors as they are
 * at the kill: read later, the victim's pages are already being freed.
 * These are what the kernel's own OOM report prints. */
static __always_inline void record_memcg_state(struct oom_event *e, struct mem_cgroup *memcg)
{
	__u32 len = 0, n, i;

	for (i = 0; i < OOM_STAT_LEVELS && memcg; i++) {
		struct cgroup_subsys_state *parent;
		void *src = memcg_state_array(memcg, &len);

		if (!src || !len)
			return;
		n = len < OOM_STATE_MAX ? len : OOM_STATE_MAX;
		if (bpf_probe_read_kernel(e->state[i], n * sizeof(long), src))
			return;
		e->state_len = len;
		e->state_levels = i + 1;
		parent = BPF_CORE_READ(memcg, css.parent);
		memcg = parent ? container_of(parent, struct mem_cgroup, css) : NULL;
	}
}

/* The memcg's LRU sizes summed over nodes and zones: exact at the kill,
 * while state[] is as of the last rstat flush (the kernel flushes for its
 * own report, which is rate-limited). */
static __always_inline void record_memcg_lru(struct oom_event *e, struct mem_cgroup *memcg)
{
	int zones = bpf_core_enum_value(enum zone_type, __MAX_NR_ZONES);
	unsigned long nodeinfo = bpf_core_field_offset(struct mem_cgroup, nodeinfo);
	unsigned long lzs = bpf_core_field_offset(struct mem_cgroup_per_node, lru_zone_size);
	__u32 nid, z, l;

	if (!memcg || zones <= 0 || zones > 8)
		return;
	for (nid = 0; nid < OOM_MAX_NODES && nid < nr_nodes; nid++) {
		void *pn = NULL;

		if (bpf_probe_read_kernel(&pn, sizeof(pn), (void *)memcg + nodeinfo + nid * sizeof(void *)) || !pn)
			continue;
		for (z = 0; z < 8 && z < (__u32)zones; z++)
			for (l = 0; l < OOM_NR_LRU; l++) {
				unsigned long v = 0;

				bpf_probe_read_kernel(&v, sizeof(v), pn + lzs +
						      (z * OOM_NR_LRU + l) * sizeof(long));
				e->lru_pages[l] += v;
			}
	}
	e->flags |= OOM_F_LRU;
}

/* The victim's argv, copied while its memory is still mapped. Only the
 * current task's user memory can be read from here, so this works when
 * the victim is the task whose allocation failed (the common case of a
 * single hog); otherwise user space reads /proc at once. */
static __always_inline void copy_cmdline(char *buf, __u32 *len, __u32 *flags, struct task_struct *task)
{
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	unsigned long start, end;
	__u64 n;

	if (!mm)
		return;
	start = BPF_CORE_READ(mm, arg_start);
	end = BPF_CORE_READ(mm, arg_end);
	if (end <= start)
		return;
	/* At most OOM_CMDLINE_MAX - 1 bytes: a mask the verifier can follow. */
	n = end - start;
	if (n > OOM_CMDLINE_MAX - 1) {
		n = OOM_CMDLINE_MAX - 1;
		*flags |= OOM_F_CMDLINE_CUT;
	}
	n &= OOM_CMDLINE_MAX - 1;
	if (!n || bpf_probe_read_user(buf, n, (void *)start))
		return;
	*len = n;
	*flags |= OOM_F_CMDLINE;
}

static __always_inline void record_cmdline(struct oom_event *e, struct task_struct *task)
{
	copy_cmdline(e->cmdline, &e->cmdline_len, &e->flags, task);
}

/* Another task's memory cannot be read from here: ask for the cmdline
 * when the victim itself takes its SIGKILL. */
static __always_inline void want_cmdline(struct oom_event *e, __u32 id)
{
	__u8 one = 1;

	if (id && !bpf_map_update_elem(&cmdline_wanted, &id, &one, BPF_ANY))
		e->flags |= OOM_F_CMDLINE_LATER;
}

static __always_inline void record_mm(struct oom_event *e, struct task_struct *task)
{
	struct mm_struct *mm = BPF_CORE_READ(task, mm);

	if (!mm) {
		e->flags |= OOM_F_NO_MM;
		return;
	}
	if (bpf_core_type_exists(struct mm_rss_stat___pre62))
		e->flags |= OOM_F_RSS_OLD;
	e->total_vm_pages = BPF_CORE_READ(mm, total_vm);
	/* The counter indexes are an anonymous enum (no CO-RE relocation);
	 * they have been 0..3 since MM_SHMEMPAGES arrived in 4.5. */
	e->file_pages = mm_counter(mm, MM_FILEPAGES);
	e->anon_pages = mm_counter(mm, MM_ANONPAGES);
	e->swap_ents = mm_counter(mm, MM_SWAPENTS);
	e->shmem_pages = mm_counter(mm, MM_SHMEMPAGES);
	if (bpf_core_field_exists(mm->pgtables_bytes))
		e->pgtables_bytes = BPF_CORE_READ(mm, pgtables_bytes.counter);
}

/* Everything the kernel still knows about the victim task. */
static __always_inline void record_victim(struct oom_event *e, struct task_struct *v)
{
	e->victim_pid = BPF_CORE_READ(v, pid);
	e->victim_tgid = BPF_CORE_READ(v, tgid);
	BPF_CORE_READ_STR_INTO(&e->victim_comm, v, comm);
	e->victim_uid = BPF_CORE_READ(v, real_cred, uid.val);
	e->oom_score_adj = BPF_CORE_READ(v, signal, oom_score_adj);
	e->parent_tgid = BPF_CORE_READ(v, real_parent, tgid);
	BPF_CORE_READ_STR_INTO(&e->parent_comm, v, real_parent, comm);
	if (BPF_CORE_READ(v, flags) & PF_EXITING)
		e->flags |= OOM_F_PF_EXITING;
	if (BPF_CORE_READ(v, signal, flags) & SIGNAL_GROUP_EXIT)
		e->flags |= OOM_F_GROUP_EXIT;
	record_mm(e, v);
	e->victim_v2_cgid = BPF_CORE_READ(v, cgroups, dfl_cgrp, kn, id);
}

static __always_inline struct oom_event *event_begin(struct task_struct *cur)
{
	struct oom_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop(DROP_RINGBUF);
		return NULL;
	}
	/* The chain, counters and cmdline arrays are read only up to their
	 * lengths (record_chain zeroes each level it fills): zero the rest,
	 * too big for one inlined memset. */
	__builtin_memset(e, 0, offsetof(struct oom_event, chain));
	__builtin_memset(e->lru_pages, 0, sizeof(e->lru_pages));
	e->state_len = e->state_levels = e->cmdline_len = 0;
	e->type = OOM_EV_MARK_VICTIM;
	e->ts_ns = bpf_ktime_get_ns();
	e->trigger_pid = BPF_CORE_READ(cur, pid);
	e->trigger_tgid = BPF_CORE_READ(cur, tgid);
	bpf_get_current_comm(&e->trigger_comm, sizeof(e->trigger_comm));
	e->trigger_memcg_id = task_memcg_id(cur);
	return e;
}

/* The one handler behind both hook variants. victim is NULL when only the
 * classic tracepoint's pid is known. */
static __always_inline int handle_victim(struct task_struct *victim)
{
	struct task_struct *cur = (struct task_struct *)bpf_get_current_task();
	struct oom_event *e = event_begin(cur);

	if (!e)
		return 0;
	e->flags |= OOM_F_TP_BTF;
	record_victim(e, victim);
	if (victim == cur)
		e->flags |= OOM_F_VICTIM_IS_CUR;
	record_chain(e, task_memcg(victim));
	record_memcg_state(e, task_memcg(victim));
	record_memcg_lru(e, task_memcg(victim));
	if (victim == cur)
		record_cmdline(e, victim);
	else
		want_cmdline(e, e->victim_tgid);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/mark_victim")
int BPF_PROG(mark_victim_btf, struct task_struct *victim)
{
	return handle_victim(victim);
}

/* Classic tracepoint: only the victim's thread id is certain (the sizes,
 * uid and score exist from 6.9 on). mark_victim runs in the context of
 * the task whose allocation failed; when that task is the victim (the
 * exiting shortcut) everything is read from it, otherwise user space
 * completes the victim from /proc and the memcg chain is the trigger's:
 * the OOM cgroup is its ancestor too. */
SEC("tracepoint/oom/mark_victim")
int mark_victim_tp(struct trace_event_raw_mark_victim *ctx)
{
	struct task_struct *cur = (struct task_struct *)bpf_get_current_task();
	__u32 pid = BPF_CORE_READ(ctx, pid);
	/* One reservation and one NULL check for both cases: with one per
	 * branch clang merges the reserves and tests the pointer again later,
	 * and the 6.1 verifier (no branch pruning on a non-NULL alloc_mem)
	 * then sees an unreleased reference on an impossible path. */
	struct oom_event *e = event_begin(cur);

	if (!e)
		return 0;
	if (pid == BPF_CORE_READ(cur, pid)) {
		record_victim(e, cur);
		e->flags |= OOM_F_VICTIM_IS_CUR;
		record_memcg_lru(e, task_memcg(cur));
		record_cmdline(e, cur);
	} else {
		e->victim_pid = pid;
		if (bpf_core_field_exists(ctx->total_vm)) {
			unsigned short off = BPF_CORE_READ(ctx, __data_loc_comm) & 0xffff;

			/* These fields are in kB (OOM_F_TP_FIELDS tells user space). */
			e->flags |= OOM_F_TP_FIELDS;
			bpf_probe_read_kernel_str(&e->victim_comm, sizeof(e->victim_comm),
						  (void *)ctx + off);
			e->total_vm_pages = BPF_CORE_READ(ctx, total_vm);
			e->anon_pages = BPF_CORE_READ(ctx, anon_rss);
			e->file_pages = BPF_CORE_READ(ctx, file_rss);
			e->shmem_pages = BPF_CORE_READ(ctx, shmem_rss);
			e->victim_uid = BPF_CORE_READ(ctx, uid);
			e->pgtables_bytes = BPF_CORE_READ(ctx, pgtables) * 1024;
			e->oom_score_adj = BPF_CORE_READ(ctx, oom_score_adj);
		}
		e->flags |= OOM_F_CHAIN_OF_TRIG;
		want_cmdline(e, pid);
	}
	record_chain(e, task_memcg(cur));
	record_memcg_state(e, task_memcg(cur));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* Copy the cmdline of the current task if a kill asked for it. */
static __always_inline int capture_wanted_cmdline(void)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, pid = (__u32)id, key = tgid;
	struct oom_cmdline_event *c;

	if (!bpf_map_lookup_elem(&cmdline_wanted, &key)) {
		key = pid;
		if (!bpf_map_lookup_elem(&cmdline_wanted, &key))
			return 0;
	}
	bpf_map_delete_elem(&cmdline_wanted, &key);
	c = bpf_ringbuf_reserve(&events, sizeof(*c), 0);
	if (!c) {
		count_drop(DROP_RINGBUF);
		return 0;
	}
	c->type = OOM_EV_CMDLINE;
	c->flags = 0;
	c->pid = pid;
	c->tgid = tgid;
	c->cmdline_len = 0;
	copy_cmdline(c->cmdline, &c->cmdline_len, &c->flags,
		     (struct task_struct *)bpf_get_current_task());
	bpf_ringbuf_submit(c, 0);
	return 0;
}

/* The OOM killer sends SIGKILL (SEND_SIG_PRIV) before mark_victim, and a
 * victim on another CPU can take it before mark_victim asks for its
 * cmdline: ask already here, for any SIGKILL the kernel sends itself (few
 * besides the OOM killer's; user space drops the copies no kill claims). */
SEC("tracepoint/signal/signal_generate")
int victim_signalled(struct trace_event_raw_signal_generate *ctx)
{
	__u32 pid = ctx->pid;
	__u8 one = 1;

	if (ctx->sig == SIGKILL && ctx->code == SI_KERNEL)
		bpf_map_update_elem(&cmdline_wanted, &pid, &one, BPF_ANY);
	return 0;
}

/* A victim taking its SIGKILL (get_signal's group-exit path, in the
 * victim's context with its memory still mapped). */
SEC("tracepoint/signal/signal_deliver")
int victim_signal(struct trace_event_raw_signal_deliver *ctx)
{
	if (ctx->sig != SIGKILL)
		return 0;
	return capture_wanted_cmdline();
}

/* The second chance, for a victim that took its SIGKILL before anyone
 * asked. Since 6.16 (trace_sched_process_exit moved before exit_mm) its
 * memory is still there at exit; before, the event says it is gone. */
SEC("tracepoint/sched/sched_process_exit")
int victim_exit(void *ctx)
{
	return capture_wanted_cmdline();
}
