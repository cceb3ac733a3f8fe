// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* memleak-trace: mappings (mmap, munmap, mremap, brk) and, with --malloc,
 * the libc allocator of the traced processes.
 *
 * Mappings: only the sys_exit tracepoints are used. The syscall arguments
 * are still in the task's saved user registers at exit (these syscalls do
 * not modify them), so one program per call sees both the arguments and
 * the result: half the hook cost of an enter/exit pair and no per-thread
 * map. Each successful call sends one compact record; user space keeps
 * the exact interval map (splits, moves, MAP_FIXED replacement).
 *
 * Allocator: uprobes; outstanding blocks and per-stack totals stay in
 * kernel hashes and user space reads them at report time. */
#include "vmlinux.h"
#include <bpf/bpf_tracing.h>
#include "common.bpf.h"
#include "memleak.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* One traced process: compared first, so that others cost one load and a
 * branch. 0 means "look in traced_tgids" (several processes, -c). */
const volatile __u32 target_tgid = 0;
const volatile __u64 sample_every = 1;
const volatile __u64 min_size = 0;
const volatile __u64 max_size = ~0ULL;
/* Wake user space only when this much is queued: at ~1M events/s a
 * wake-up per event would cost more than the event itself. */
const volatile __u64 wakeup_bytes = 256 * 1024;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_TRACED_TGIDS);
	__type(key, __u32);
	__type(value, __u8);
} traced_tgids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 32 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, MAX_STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

struct pending_alloc {
	__u64 size;
	__u64 old_ptr;    /* realloc: block being replaced */
	__u64 memptr;     /* posix_memalign: where the result is stored */
	struct alloc_key key;
	__u8 sampled;
	__u8 is_realloc;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct pending_alloc);
} pending SEC(".maps");

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
	__u32 t = target_tgid;

	if (t)
		return tgid == t;
	return bpf_map_lookup_elem(&traced_tgids, &tgid) != NULL;
}

static __always_inline __u32 current_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

/* The word at the user stack pointer: the caller's return address when
 * the current function (a leaf syscall wrapper, or an allocator entered
 * through a uprobe at its first instruction) has pushed nothing. */
static __always_inline __u64 top_of_stack(struct pt_regs *regs)
{
	__u64 ret = 0;

	bpf_probe_read_user(&ret, sizeof(ret), (void *)PT_REGS_SP(regs));
	return ret;
}

static __always_inline __s32 user_stack(void *ctx)
{
	long id = bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);

	if (id < 0)
		count_drop(DROP_STACK);
	return id;
}

static __always_inline void send(void *rec, __u64 size, bool urgent)
{
	__u64 flags = BPF_RB_NO_WAKEUP;

	/* urgent: new code mapped (exec, dlopen, the loader): user space must
	 * read the process's maps before it can exit, for symbols. */
	if (urgent || bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	if (bpf_ringbuf_output(&events, rec, size, flags))
		count_drop(DROP_RINGBUF);
}

static __always_inline struct pt_regs *user_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

static __always_inline int map_event(void *ctx, __u32 type, __u64 addr, __u64 len,
				     __u64 old_addr, __u64 old_len, __u32 flags, __u32 prot)
{
	struct pt_regs *regs = user_regs();
	struct mm_map_event e = {
		.type = type,
		.tgid = current_tgid(),
		.addr = addr,
		.len = len,
		.old_addr = old_addr,
		.old_len = old_len,
		.flags = flags,
		.prot = prot,
	};

	e.ts = bpf_ktime_get_ns();
	e.ret_addr = top_of_stack(regs);
	e.stack_id = user_stack(ctx);
	send(&e, sizeof(e), prot & MM_PROT_EXEC);
	return 0;
}

/* Failed syscalls return -errno (a value in the last page). */
static __always_inline bool failed(long ret)
{
	return (unsigned long)ret >= (unsigned long)-4095;
}

SEC("tracepoint/syscalls/sys_exit_mmap")
int exit_mmap(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs;

	if (!traced(current_tgid()) || failed(ctx->ret))
		return 0;
	regs = user_regs();
	return map_event(ctx, MM_EV_MAP, ctx->ret, PT_REGS_PARM2_CORE_SYSCALL(regs), 0, 0,
			 PT_REGS_PARM4_CORE_SYSCALL(regs), PT_REGS_PARM3_CORE_SYSCALL(regs));
}

SEC("tracepoint/syscalls/sys_exit_mremap")
int exit_mremap(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs;

	if (!traced(current_tgid()) || failed(ctx->ret))
		return 0;
	regs = user_regs();
	return map_event(ctx, MM_EV_REMAP, ctx->ret, PT_REGS_PARM3_CORE_SYSCALL(regs),
			 PT_REGS_PARM1_CORE_SYSCALL(regs), PT_REGS_PARM2_CORE_SYSCALL(regs),
			 PT_REGS_PARM4_CORE_SYSCALL(regs), 0);
}

/* brk returns the break in force afterwards, the old one on failure: user
 * space compares it with the last one it saw. */
SEC("tracepoint/syscalls/sys_exit_brk")
int exit_brk(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs;

	if (!traced(current_tgid()))
		return 0;
	regs = user_regs();
	return map_event(ctx, MM_EV_BRK, ctx->ret, PT_REGS_PARM1_CORE_SYSCALL(regs), 0, 0, 0, 0);
}

SEC("tracepoint/syscalls/sys_exit_munmap")
int exit_munmap(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs;
	struct mm_unmap_event e;

	if (!traced(current_tgid()) || ctx->ret != 0)
		return 0;
	regs = user_regs();
	e.type = MM_EV_UNMAP;
	e.tgid = current_tgid();
	e.addr = PT_REGS_PARM1_CORE_SYSCALL(regs);
	e.len = PT_REGS_PARM2_CORE_SYSCALL(regs);
	send(&e, sizeof(e), false);
	return 0;
}

/* A new program image: every mapping the tracker holds is gone. */
SEC("tracepoint/sched/sched_process_exec")
int on_exec(void *ctx)
{
	struct mm_unmap_event e = { .type = MM_EV_EXEC };

	e.tgid = current_tgid();
	if (!traced(e.tgid))
		return 0;
	send(&e, sizeof(e), true);
	return 0;
}

/* ---- allocator (--malloc) ---- */

static __always_inline int alloc_enter(struct pt_regs *ctx, __u64 size, __u64 old_ptr,
				       __u64 memptr, bool is_realloc)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending_alloc p = {};

	if (!traced(current_tgid()))
		return 0;
	/* An allocator function called by another one (operator new calling
	 * malloc): the outer call is the one the program made. */
	if (bpf_map_lookup_elem(&pending, &tid))
		return 0;
	p.size = size;
	p.old_ptr = old_ptr;
	p.memptr = memptr;
	p.is_realloc = is_realloc;
	p.sampled = size >= min_size && size <= max_size &&
		    (sample_every <= 1 || bpf_get_prandom_u32() % sample_every == 0);
	if (p.sampled) {
		p.key.tgid = current_tgid();
		p.key.ret_addr = top_of_stack(ctx);
		p.key.stack_id = user_stack(ctx);
	}
	if (bpf_map_update_elem(&pending, &tid, &p, BPF_ANY))
		count_drop(DROP_MAP_FULL);
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
	if (count > 0)
		__sync_fetch_and_add(&a->total_allocs, 1);
}

static __always_inline void block_freed(__u64 addr)
{
	struct alloc_info *info;

	if (!addr)
		return;
	info = bpf_map_lookup_elem(&allocs, &addr);
	if (!info)
		return;
	agg_add(&info->key, -(__s64)info->size, -1);
	bpf_map_delete_elem(&allocs, &addr);
}

static __always_inline int alloc_exit(struct pt_regs *ctx, __u64 addr)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending_alloc *p = bpf_map_lookup_elem(&pending, &tid);
	struct alloc_info info = {};

	if (!p)
		return 0;
	if (p->memptr) {
		/* posix_memalign: returns 0 and stores the block at *memptr. */
		if (PT_REGS_RC(ctx) != 0 ||
		    bpf_probe_read_user(&addr, sizeof(addr), (void *)p->memptr))
			addr = 0;
	}
	if (p->is_realloc && (addr || p->size == 0))
		block_freed(p->old_ptr);
	if (addr && p->sampled) {
		info.size = p->size;
		info.ts = bpf_ktime_get_ns();
		info.key = p->key;
		/* A block we think is live at this address was freed unseen. */
		block_freed(addr);
		if (bpf_map_update_elem(&allocs, &addr, &info, BPF_ANY))
			count_drop(DROP_MAP_FULL);
		else
			agg_add(&info.key, info.size, 1);
	}
	bpf_map_delete_elem(&pending, &tid);
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
