// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* memleak-trace: mappings (mmap, munmap, mremap, brk) and, with --malloc,
 * the libc allocator of the traced processes.
 *
 * Mappings: only the sys_exit tracepoints are used. The syscall arguments
 * are still in the task's saved user registers at exit (these syscalls do
 * not modify them), so one program per call sees both the arguments and
 * the result: half the hook cost of an enter/exit pair and no per-thread
 * map. Each successful call writes one compact record in place in the
 * ring buffer; user space keeps the exact interval map (splits, moves,
 * MAP_FIXED replacement).
 *
 * Allocator: uprobes; outstanding blocks and per-stack totals stay in
 * kernel hashes and user space reads them at report time. */
#include "vmlinux.h"
#include <bpf/bpf_tracing.h>
#include "common.bpf.h"
#include "compat.bpf.h"
#include "memleak.h"
#include "interp.bpf.h"
#include "callsite.bpf.h"
#include "modrec.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The traced processes: one pid (-p, -- CMD), compared first so that
 * others cost one load and a branch; or, with -c, every process of a
 * cgroup and its descendants, on cgroup2 (the id of the cgroup and its
 * depth below the root) or in the v1 memory hierarchy (its id). */
const volatile __u32 target_tgid = 0;
const volatile __u64 target_cg2_id = 0;
const volatile __u32 target_cg2_level = 0;
const volatile __u64 target_memcg_id = 0;
const volatile __u64 sample_every = 1;
const volatile __u64 min_size = 0;
const volatile __u64 max_size = ~0ULL;
/* --faults: growth is counted at page faults (see on_page_fault). */
const volatile bool faults_mode = false;
/* --faults: the THP mode at start (MM_THP_*), read by user space from
 * sysfs: the kernel's transparent_hugepage_flags is not in every BTF. */
const volatile __u32 thp_mode = MM_THP_NEVER;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20); /* user space sets it (--ringbuf-mb) */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, MAX_STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

/* Per thread, in task storage (a pointer kept in the task: no hashing, no
 * insert or delete per call, gone with the thread): the allocator call in
 * flight between its uprobe and its uretprobe, and the last call site the
 * thread allocated from with its stack id, so that a loop allocating from
 * one place skips the call-site cache. */
struct thread_state {
	__u64 size;
	__u64 old_ptr;    /* realloc: block being replaced */
	__u64 memptr;     /* posix_memalign: where the result is stored */
	struct alloc_key key;
	__u32 weight;     /* the call is traced: what it stands for (0: not) */
	__u8 busy;        /* a call is in flight (its uretprobe not yet run) */
	__u8 is_realloc;
	__u8 last_valid;
	__s32 last_id;
	__u32 last_hits;  /* the site's hits, counted on here */
	__u32 last_gen;   /* cs_generation when last was taken */
	__u64 last_site;
	struct cs_key last;
	__u64 clock_jiffies; /* the tick clock_ns was read in */
	__u64 clock_ns;
};

/* Per thread: task storage, or before 5.11 (compat.bpf.h) a hash by
 * thread id, its entry deleted at the thread's exit. */
#define COMPAT_MAX_THREADS 65536
struct {
#ifdef MEMSCOPE_COMPAT
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, COMPAT_MAX_THREADS);
	__type(key, __u32);
#else
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
#endif
	__type(value, struct thread_state);
} threads SEC(".maps");

/* A new thread's state in the compat build: this map's one entry, never
 * written (in both builds: the skeletons must have the same maps). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct thread_state);
} thread_zero SEC(".maps");

static __always_inline struct thread_state *thread_get(bool create)
{
#ifdef MEMSCOPE_COMPAT
	__u32 tid = (__u32)bpf_get_current_pid_tgid(), zero = 0;
	struct thread_state *t = bpf_map_lookup_elem(&threads, &tid), *z;

	if (t || !create)
		return t;
	z = bpf_map_lookup_elem(&thread_zero, &zero);
	if (!z)
		return NULL;
	bpf_map_update_elem(&threads, &tid, z, BPF_NOEXIST);
	return bpf_map_lookup_elem(&threads, &tid);
#else
	return bpf_task_storage_get(&threads, bpf_get_current_task_btf(), 0,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
#endif
}

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 20);
	__type(key, __u64);
	__type(value, struct alloc_info);
} allocs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct alloc_key);
	__type(value, struct alloc_agg);
} stack_aggs SEC(".maps");

static __always_inline bool traced(__u32 tgid)
{
	if (target_tgid)
		return tgid == target_tgid;
	return current_in_cgroup(target_cg2_id, target_cg2_level, target_memcg_id);
}

static __always_inline __u32 current_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

static __always_inline void *reserve(__u64 size)
{
	void *r = bpf_ringbuf_reserve(&events, size, 0);

	if (!r)
		count_drop(DROP_RINGBUF);
	return r;
}

/* The stack of the current call as a stack id and site (the call-site
 * service: callsite.bpf.h) and, in *ret, the word at the user stack
 * pointer: the caller's return address when the current function (a leaf
 * syscall wrapper) has pushed nothing, the frame the walk skips. */
static __always_inline __s32 user_stack(void *ctx, struct pt_regs *regs, __u32 tgid, __u64 *ret,
				       __u64 *site)
{
	struct cs_call c;

	if (!cs_key_read(regs, tgid, false, &c)) {
		*ret = *site = 0;
		return -1;
	}
	cs_resolve(ctx, regs, &stacks, &events, &c, true);
	*ret = c.k.ret;
	*site = c.named ? c.site : 0;
	return c.stack_id;
}

/* Records go out without a wake-up: user space drains the ring at every
 * poll (100 ms). Urgent ones wake it (new code mapped: exec, dlopen, the
 * loader; user space must read the process's maps before it can exit,
 * for symbols), and so does any record once the ring holds more than
 * cs_wake_bytes (its positions asked of the ring, as for snapshots). A
 * count of records per CPU (a wake-up every 4096) cost more: the consumer,
 * woken ~150 times a second by a hot mmap loop, ran beside the producer,
 * and each record paid for the ring's positions moving between the CPUs
 * (exit_munmap 106 ns against 84, the tracer's CPU 28% against 16%). */
static __always_inline __u64 wake_flags(bool urgent)
{
	if (urgent || bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > cs_wake_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/* Failed syscalls return -errno (a value in the last page). */
static __always_inline bool failed(long ret)
{
	return (unsigned long)ret >= (unsigned long)-4095;
}

/* Fill the part every mapping record shares. */
static __always_inline void fill_map(void *ctx, struct pt_regs *regs, struct mm_map_event *e,
				     __u32 type, __u32 tgid, __u64 addr, __u64 len, __u32 flags,
				     __u32 prot)
{
	e->type = type;
	e->tgid = tgid;
	e->addr = addr;
	e->len = len;
	e->flags = flags;
	e->prot = prot;
	e->pad = 0;
	/* --faults: a mapping only tells which pages went away; its stack
	 * is not needed. */
	if (faults_mode && type != MM_EV_FAULT) {
		e->stack_id = -1;
		e->ret_addr = e->site = 0;
		return;
	}
	e->stack_id = user_stack(ctx, regs, tgid, &e->ret_addr, &e->site);
	e->interp = interp_stack(tgid);
}

SEC("tracepoint/syscalls/sys_exit_mmap")
int exit_mmap(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tgid = current_tgid();
	struct mm_map_event *e;
	struct pt_regs *regs;
	__u32 prot;

	if (!traced(tgid) || failed(ctx->ret))
		return 0;
	e = reserve(sizeof(*e));
	if (!e)
		return 0;
	regs = current_user_regs();
	if (!regs) {
		bpf_ringbuf_discard(e, 0);
		count_drop(DROP_STACK); /* the user registers unreadable */
		return 0;
	}
	prot = PT_REGS_PARM3_SYSCALL(regs);
	fill_map(ctx, regs, e, MM_EV_MAP, tgid, ctx->ret, PT_REGS_PARM2_SYSCALL(regs),
		 PT_REGS_PARM4_SYSCALL(regs), prot);
	bpf_ringbuf_submit(e, wake_flags(prot & MM_PROT_EXEC));
	/* Code from a file: where it lies, so that it is named after exit. */
	if ((prot & MM_PROT_EXEC) && !(PT_REGS_PARM4_SYSCALL(regs) & MM_MAP_ANONYMOUS) &&
	    !modrec_send(&events, MM_EV_MODULE, tgid, ctx->ret, 0))
		count_drop(DROP_RINGBUF);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_mremap")
int exit_mremap(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tgid = current_tgid();
	struct mm_remap_event *e;
	struct pt_regs *regs;

	if (!traced(tgid) || failed(ctx->ret))
		return 0;
	e = reserve(sizeof(*e));
	if (!e)
		return 0;
	regs = current_user_regs();
	if (!regs) {
		bpf_ringbuf_discard(e, 0);
		count_drop(DROP_STACK); /* the user registers unreadable */
		return 0;
	}
	fill_map(ctx, regs, &e->m, MM_EV_REMAP, tgid, ctx->ret, PT_REGS_PARM3_SYSCALL(regs),
		 PT_REGS_PARM4_SYSCALL(regs), 0);
	e->old_addr = PT_REGS_PARM1_SYSCALL(regs);
	e->old_len = PT_REGS_PARM2_SYSCALL(regs);
	bpf_ringbuf_submit(e, wake_flags(false));
	return 0;
}

/* brk returns the break in force afterwards, the old one on failure: user
 * space compares it with the last one it saw. */
SEC("tracepoint/syscalls/sys_exit_brk")
int exit_brk(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tgid = current_tgid();
	struct mm_map_event *e;
	struct pt_regs *regs;

	if (!traced(tgid))
		return 0;
	e = reserve(sizeof(*e));
	if (!e)
		return 0;
	regs = current_user_regs();
	if (!regs) {
		bpf_ringbuf_discard(e, 0);
		count_drop(DROP_STACK); /* the user registers unreadable */
		return 0;
	}
	fill_map(ctx, regs, e, MM_EV_BRK, tgid, ctx->ret, PT_REGS_PARM1_SYSCALL(regs), 0, 0);
	bpf_ringbuf_submit(e, wake_flags(false));
	return 0;
}

/* The most frequent record with the map: 24 bytes, no stack, no clock. */
SEC("tracepoint/syscalls/sys_exit_munmap")
int exit_munmap(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tgid = current_tgid();
	struct mm_unmap_event *e;
	struct pt_regs *regs;

	if (!traced(tgid) || ctx->ret != 0)
		return 0;
	e = reserve(sizeof(*e));
	if (!e)
		return 0;
	regs = current_user_regs();
	if (!regs) {
		bpf_ringbuf_discard(e, 0);
		count_drop(DROP_STACK); /* the user registers unreadable */
		return 0;
	}
	e->type = MM_EV_UNMAP;
	e->tgid = tgid;
	e->addr = PT_REGS_PARM1_SYSCALL(regs);
	e->len = PT_REGS_PARM2_SYSCALL(regs);
	bpf_ringbuf_submit(e, wake_flags(false));
	return 0;
}

/* A new program image: every mapping the tracker holds is gone. */
SEC("tracepoint/sched/sched_process_exec")
int on_exec(void *ctx)
{
	__u32 tgid = current_tgid();
	struct mm_unmap_event *e;

	if (!traced(tgid))
		return 0;
	e = reserve(sizeof(*e));
	if (!e)
		return 0;
	e->type = MM_EV_EXEC;
	e->tgid = tgid;
	e->addr = e->len = 0;
	bpf_ringbuf_submit(e, wake_flags(true));
	for (int lost = modrec_send_exec_images(&events, MM_EV_MODULE, tgid); lost > 0; lost--)
		count_drop(DROP_RINGBUF);
	return 0;
}

/* The end of a traced process: how it ended (an OOM kill, a signal, an
 * exit status), for the report of what it held. Urgent: user space reads
 * it before it reports the process as gone. */
SEC("tracepoint/sched/sched_process_exit")
int on_proc_exit(void *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	__u32 tgid = current_tgid();
	struct mm_exit_event *e;

#ifdef MEMSCOPE_COMPAT
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_delete_elem(&threads, &tid); /* task storage goes by itself */
#endif
	if (!traced(tgid) || !exiting_last_thread(t))
		return 0;
	e = reserve(sizeof(*e));
	if (!e)
		return 0;
	e->type = MM_EV_EXIT;
	e->tgid = tgid;
	task_ending(t, &e->ending);
	bpf_ringbuf_submit(e, wake_flags(true));
	return 0;
}

/* ---- allocator (--malloc) ---- */

/* The thread's last site again: same words, not refined (a refined key
 * needs its cache walk), checked when it was taken (an unchecked key's
 * hits each need the cache entry's word on it), and no refinement since. */
static __always_inline bool same_site(const struct thread_state *t, const struct cs_key *k)
{
	return t->last_valid && t->last_gen == cs_generation && t->last.ip == k->ip &&
	       t->last.ret == k->ret && t->last.up1 == k->up1 && t->last.up2 == k->up2 &&
	       t->last.space == k->space;
}

/* The stack of an allocator call: the thread's last site again (a loop),
 * or through the call-site cache. Hits of the shortcut are verified as
 * the cache's are, on the site's hit count carried on here. */
static __always_inline void alloc_stack(struct pt_regs *ctx, struct thread_state *t, __u32 tgid)
{
	struct cs_call c;

	t->key.tgid = tgid;
	t->key.interp = interp_stack(tgid);
	if (!cs_key_read(ctx, tgid, false, &c)) {
		t->key.stack_id = -1;
		t->key.ret_addr = t->key.site = 0;
		return;
	}
	t->key.ret_addr = c.k.ret;
	if (same_site(t, &c.k)) {
		c.stack_id = t->key.stack_id = t->last_id;
		c.site = t->last_site;
		c.hits = ++t->last_hits;
		c.young = false;
		cs_verify(&events, ctx, &c, true);
		t->key.site = c.site;
		return;
	}
	cs_resolve(ctx, ctx, &stacks, &events, &c, true);
	t->key.stack_id = c.stack_id;
	/* Site 0: a failed capture, nothing names it. */
	t->key.site = c.named ? c.site : 0;
	/* Failed captures are retried, as the site cache does. A key not
	 * yet checked goes through the cache at every hit: its entry says
	 * when user space has checked it. */
	t->last_valid = c.named && c.k.level == 0 && !c.young;
	t->last = c.k;
	t->last_id = c.stack_id;
	t->last_site = c.key_site;
	t->last_hits = c.hits;
	t->last_gen = cs_generation;
}

/* Whether to trace a call of this size, and what the block then stands
 * for (alloc_info.weight). Small blocks: one call in N, each standing for
 * N. From a page up to N pages, the chance is size / (N pages) and the
 * block stands for N pages of bytes, so no single draw can move the
 * estimate by more than N pages; beyond, every block is traced. */
static __always_inline __u32 sample_weight(__u64 size)
{
	__u64 period = sample_every * SAMPLE_PAGE;
	__u64 draw;

	if (sample_every <= 1 || size >= period)
		return SAMPLE_ONE;
	if (size < SAMPLE_PAGE)
		return bpf_get_prandom_u32() % sample_every ? 0 : sample_every * SAMPLE_ONE;
	draw = ((__u64)bpf_get_prandom_u32() << 32) | bpf_get_prandom_u32();
	return draw % period < size ? period * SAMPLE_ONE / size : 0;
}

static __always_inline int alloc_enter(struct pt_regs *ctx, __u64 size, __u64 old_ptr,
				       __u64 memptr, bool is_realloc)
{
	__u32 tgid = current_tgid();
	struct thread_state *t;

	if (!traced(tgid))
		return 0;
	t = thread_get(true);
	if (!t) {
		count_drop(DROP_MAP_FULL);
		return 0;
	}
	/* An allocator function called by another one (operator new calling
	 * malloc): the outer call is the one the program made. */
	if (t->busy)
		return 0;
	t->size = size;
	t->old_ptr = old_ptr;
	t->memptr = memptr;
	t->is_realloc = is_realloc;
	t->weight = size >= min_size && size <= max_size ? sample_weight(size) : 0;
	if (t->weight)
		alloc_stack(ctx, t, tgid);
	t->busy = 1;
	return 0;
}

static __always_inline void agg_add(const struct alloc_key *key, __s64 bytes, __s64 count)
{
	struct alloc_agg *a = bpf_map_lookup_elem(&stack_aggs, key);

	if (!a) {
		struct alloc_agg zero = {};

		if (count < 0)
			return;
		bpf_map_update_elem(&stack_aggs, key, &zero, BPF_NOEXIST);
		a = bpf_map_lookup_elem(&stack_aggs, key);
		if (!a) {
			count_drop(DROP_MAP_FULL);
			return;
		}
	}
	__sync_fetch_and_add(&a->bytes, bytes);
	__sync_fetch_and_add(&a->count, count);
	if (count > 0) {
		__sync_fetch_and_add(&a->total_allocs, count);
		__sync_fetch_and_add(&a->total_bytes, bytes);
	}
}

static __always_inline __s64 info_bytes(const struct alloc_info *info)
{
	return info->size * info->weight / SAMPLE_ONE;
}

static __always_inline void block_freed(__u64 addr)
{
	struct alloc_info *info;

	if (!addr)
		return;
	info = bpf_map_lookup_elem(&allocs, &addr);
	if (!info)
		return;
	agg_add(&info->key, -info_bytes(info), -(__s64)info->weight);
	bpf_map_delete_elem(&allocs, &addr);
}

/* A new live block. The address is usually free in the map: insert
 * without looking first; a block we think is live there was freed
 * unseen, and is released before the insert is retried. */
static __always_inline void block_new(__u64 addr, const struct thread_state *t)
{
	struct alloc_info info = {
		.size = t->size,
		.ts = t->clock_ns,
		.key = t->key,
		.weight = t->weight,
	};

	if (bpf_map_update_elem(&allocs, &addr, &info, BPF_NOEXIST)) {
		block_freed(addr);
		if (bpf_map_update_elem(&allocs, &addr, &info, BPF_ANY)) {
			count_drop(DROP_MAP_FULL);
			return;
		}
	}
	agg_add(&info.key, info_bytes(&info), info.weight);
}

/* Blocks are stamped with the monotonic clock read once per tick and
 * thread: ages are shown in seconds, and reading the clock costs more
 * than the rest of the return probe (jiffies is one inlined load). */
static __always_inline void tick_clock(struct thread_state *t)
{
	__u64 j = bpf_jiffies64();

	if (j != t->clock_jiffies || !t->clock_ns) {
		t->clock_jiffies = j;
		t->clock_ns = bpf_ktime_get_ns();
	}
}

static __always_inline int alloc_exit(struct pt_regs *ctx, __u64 addr)
{
	struct thread_state *t = thread_get(false);

	if (!t || !t->busy)
		return 0;
	t->busy = 0;
	if (t->memptr) {
		/* posix_memalign: returns 0 and stores the block at *memptr. */
		if (PT_REGS_RC(ctx) != 0 ||
		    bpf_probe_read_user(&addr, sizeof(addr), (void *)t->memptr))
			addr = 0;
	}
	if (t->is_realloc && (addr || t->size == 0))
		block_freed(t->old_ptr);
	if (addr && t->weight) {
		tick_clock(t);
		block_new(addr, t);
	}
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(malloc_enter, __u64 size)
{
	return alloc_enter(ctx, size, 0, 0, false);
}

SEC("uprobe")
int BPF_KPROBE(calloc_enter, __u64 n, __u64 size)
{
	return alloc_enter(ctx, n * size, 0, 0, false);
}

SEC("uprobe")
int BPF_KPROBE(realloc_enter, __u64 ptr, __u64 size)
{
	return alloc_enter(ctx, size, ptr, 0, true);
}

SEC("uprobe")
int BPF_KPROBE(reallocarray_enter, __u64 ptr, __u64 n, __u64 size)
{
	return alloc_enter(ctx, n * size, ptr, 0, true);
}

SEC("uprobe")
int BPF_KPROBE(memalign_enter, __u64 align, __u64 size)
{
	return alloc_enter(ctx, size, 0, 0, false);
}

SEC("uprobe")
int BPF_KPROBE(posix_memalign_enter, __u64 memptr, __u64 align, __u64 size)
{
	return alloc_enter(ctx, size, 0, memptr, false);
}

SEC("uprobe")
int BPF_KPROBE(valloc_enter, __u64 size)
{
	return alloc_enter(ctx, size, 0, 0, false);
}

SEC("uprobe")
int BPF_KPROBE(pvalloc_enter, __u64 size)
{
	return alloc_enter(ctx, (size + 4095) & ~4095ULL, 0, 0, false);
}

SEC("uretprobe")
int BPF_KRETPROBE(alloc_return, __u64 ret)
{
	return alloc_exit(ctx, ret);
}

SEC("uprobe")
int BPF_KPROBE(free_enter, __u64 ptr)
{
	if (!traced(current_tgid()))
		return 0;
	block_freed(ptr);
	return 0;
}

/* ---- page faults (--faults) ---- */

/* A process grows when it touches a page for the first time: the fault
 * that brings in a fresh anonymous page, whose stack is the code that
 * grows (malloc's first write to a new chunk is inside its caller's
 * stack). A steady process reuses its pages and faults no more, so it
 * pays nothing. Kept: faults on a page not present (error code bit 0
 * clear: protection faults, copy-on-write of a shared page included, do
 * not add memory) in an anonymous private mapping other than the stack.
 * The mapping is found with bpf_find_vma (5.17). */
/* Faults whose mapping could not be looked up (the mmap lock was busy):
 * not counted, and said in the report. */
__u64 faults_unclassified = 0;

#define PF_PROT  0x1      /* x86 error code: the page was present */
#define EBUSY_ERR 16
#define VM_SHARED_FLAG     0x00000008
#define VM_GROWSDOWN_FLAG  0x00000100
#define VM_HUGEPAGE_FLAG   0x20000000 /* madvise(MADV_HUGEPAGE) */
#define VM_NOHUGEPAGE_FLAG 0x40000000 /* madvise(MADV_NOHUGEPAGE) */

struct vma_class {
	__u64 addr;
	__u32 keep;
	__u32 flags;
};

/* Could the fault at addr be served by a huge page? Its 2 MiB-aligned
 * range must lie inside the mapping, and the mode (always, or madvise
 * with MADV_HUGEPAGE on the mapping) must allow one. Not checked here:
 * prctl(PR_SET_THP_DISABLE), an existing page table in the range, a
 * failed huge allocation; user space's pagemap look-up settles it. */
static __always_inline bool thp_possible(struct vm_area_struct *vma, __u64 addr)
{
	__u64 lo = addr & ~(MM_HPAGE_SIZE - 1);
	unsigned long fl = vma->vm_flags;

	if (lo < vma->vm_start || lo + MM_HPAGE_SIZE > vma->vm_end || (fl & VM_NOHUGEPAGE_FLAG))
		return false;
	return thp_mode == MM_THP_ALWAYS || (thp_mode == MM_THP_MADVISE && (fl & VM_HUGEPAGE_FLAG));
}

static long classify_vma(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct vma_class *c = data;
	struct mm_struct *mm = task->mm;

	if (!mm || vma->vm_file || (vma->vm_flags & (VM_SHARED_FLAG | VM_GROWSDOWN_FLAG)))
		return 0;
	/* The main thread's stack (threads' stacks are ordinary mappings). */
	if (vma->vm_start <= mm->start_stack && mm->start_stack < vma->vm_end)
		return 0;
	c->keep = 1;
	if (vma->vm_start <= mm->start_brk && mm->start_brk < vma->vm_end)
		c->flags = MM_FAULT_HEAP;
	if (thp_possible(vma, c->addr))
		c->flags |= MM_FAULT_THP;
	return 0;
}

/* The tracepoint's fields (x86: exceptions/page_fault_user). */
struct page_fault_ctx {
	__u64 common;
	__u64 address, ip, error_code;
};

SEC("tracepoint/exceptions/page_fault_user")
int on_page_fault(struct page_fault_ctx *ctx)
{
	__u32 tgid = current_tgid();
	struct vma_class c = { .addr = ctx->address };
	struct mm_map_event *e;
	struct pt_regs *regs;

	if (!traced(tgid) || (ctx->error_code & PF_PROT))
		return 0;
#ifdef MEMSCOPE_COMPAT
	return 0; /* never loaded there: --faults needs bpf_find_vma (5.17) */
#endif
	if (bpf_find_vma(bpf_get_current_task_btf(), ctx->address, classify_vma, &c, 0) == -EBUSY_ERR) {
		__sync_fetch_and_add(&faults_unclassified, 1);
		return 0;
	}
	if (!c.keep)
		return 0;
	e = reserve(sizeof(*e));
	if (!e)
		return 0;
	regs = current_user_regs();
	if (!regs) {
		bpf_ringbuf_discard(e, 0);
		count_drop(DROP_STACK); /* the user registers unreadable */
		return 0;
	}
	fill_map(ctx, regs, e, MM_EV_FAULT, tgid, ctx->address, 0, c.flags, 0);
	bpf_ringbuf_submit(e, wake_flags(false));
	return 0;
}

/* madvise(MADV_DONTNEED/FREE/REMOVE/DONTNEED_LOCKED): pages given back
 * without unmapping them (glibc's trim, jemalloc's and tcmalloc's purge). */
#define MADV_DONTNEED_ADV        4
#define MADV_FREE_ADV            8
#define MADV_REMOVE_ADV          9
#define MADV_DONTNEED_LOCKED_ADV 24

SEC("tracepoint/syscalls/sys_exit_madvise")
int exit_madvise(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tgid = current_tgid();
	struct mm_unmap_event *e;
	struct pt_regs *regs;
	__u64 advice;

	if (!traced(tgid) || ctx->ret != 0)
		return 0;
	regs = current_user_regs();
	if (!regs) {
		count_drop(DROP_STACK); /* the user registers unreadable */
		return 0;
	}
	advice = PT_REGS_PARM3_SYSCALL(regs);
	if (advice != MADV_DONTNEED_ADV && advice != MADV_FREE_ADV && advice != MADV_REMOVE_ADV &&
	    advice != MADV_DONTNEED_LOCKED_ADV)
		return 0;
	e = reserve(sizeof(*e));
	if (!e)
		return 0;
	e->type = MM_EV_GIVEBACK;
	e->tgid = tgid;
	e->addr = PT_REGS_PARM1_SYSCALL(regs);
	e->len = PT_REGS_PARM2_SYSCALL(regs);
	bpf_ringbuf_submit(e, wake_flags(false));
	return 0;
}
