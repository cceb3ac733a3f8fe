/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The call-site service, BPF side (ABI in callsite.h; user side in
 * user/lib/callsites.c). Include after common.bpf.h.
 *
 * bpf_get_stackid's user frame-pointer walk costs more than an mmap or a
 * socket syscall, so it runs once per call site: a key read at sp (one
 * read of CS_WINDOW words) finds the stack id in an LRU cache. On a miss
 * a snapshot goes to user space for DWARF unwinding. A key can stand for
 * more than one stack (a wrapper in a library without frame pointers,
 * called from places whose return addresses lie beyond the window): hits
 * are verified by snapshot, the first CS_VERIFY_FIRST and then one in
 * CS_VERIFY_EVERY, and a key user space found ambiguous carries the
 * offset of the word that parts its stacks (cs_val.refine_off). */
#ifndef MEMSCOPE_CALLSITE_BPF_H
#define MEMSCOPE_CALLSITE_BPF_H

#include "callsite.h"

/* Snapshots carry the stack copy (--stack-mode fp: only the head). */
const volatile bool cs_snapshots = true;
/* Queued ring bytes above which a snapshot wakes user space (0: see
 * cs_wake). 8 KiB apiece: a burst of new sites must not fill a ring that
 * is drained only at each poll. */
const volatile __u64 cs_wake_bytes = 0;
/* Key call sites by address space layout rather than by process (see
 * struct cs_key): forks share their parent's sites. Site hashes then
 * include the layout, so that user space names a site by its hash alone
 * (callsites_opts.shared_spaces). */
const volatile bool cs_share_forks = false;
/* Bumped by user space at each refinement: shortcuts that skip the cache
 * (memleak's per-thread last site) are stale from then on. */
__u32 cs_generation = 0;
/* Verify snapshots that found the ring buffer full (not an event lost). */
__u64 cs_verify_lost = 0;
/* Own sites numbered so far (cs_hit_site). */
__u64 cs_own_seq = 0;
/* The compat build's own-site numbers, one count per CPU (an unused
 * one-entry map in the other build, which must have the same maps). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} cs_own_seq_cpu SEC(".maps");

/* Words read at the user sp in one go: the caller's return address and,
 * usually, the caller's own frame record (a power of 2). One read of 32
 * words costs about what a read of one does. Kept off the BPF stack: with
 * the interpreter walk's frames on top, 256 bytes there took sockleak past
 * the 512-byte chain limit of kernels that round frames to 32 bytes (6.1). */
#define CS_WINDOW 32
/* Words scanned for the caller when it is taken as the first executable
 * text word rather than the word at sp (see cs_key_read). */
#define CS_CALLER_SCAN 8

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64[CS_WINDOW]);
} cs_window SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CS_MAX_SITES);
	__type(key, struct cs_key);
	__type(value, struct cs_val);
} cs_sites SEC(".maps");

/* Where a call stood: the key (refined as far as the cache says), the
 * window it was read from, and what the cache gave. */
struct cs_call {
	struct cs_key k;
	__u32 tgid;        /* the calling process (snapshots name it) */
	__u64 *w;
	__u64 sp;
	__s32 stack_id;
	__u32 hits;
	bool young;        /* the key is not checked yet (cs_val.checked) */
	bool named;        /* a stack id or a snapshot names the site */
	__u64 site;        /* what the event is recorded under */
	__u64 key_site;    /* the key's own */
};

/* What the mm's layout says about who shares its addresses (cs_space_of). */
struct cs_layout {
	__u64 exe_file, mmap_base, start_stack, start_code, end_code;
};

static __always_inline void cs_layout_read(struct mm_struct *mm, struct cs_layout *l)
{
#ifdef MEMSCOPE_COMPAT /* no BTF pointers before 5.11 */
	l->start_code = BPF_CORE_READ(mm, start_code);
	l->end_code = BPF_CORE_READ(mm, end_code);
	if (!cs_share_forks)
		return;
	l->exe_file = (__u64)BPF_CORE_READ(mm, exe_file);
	l->mmap_base = BPF_CORE_READ(mm, mmap_base);
	l->start_stack = BPF_CORE_READ(mm, start_stack);
#else
	l->start_code = mm->start_code;
	l->end_code = mm->end_code;
	if (!cs_share_forks)
		return;
	/* The pointer as a number: the verifier refuses arithmetic on it. */
	bpf_core_read(&l->exe_file, sizeof(l->exe_file), &mm->exe_file);
	l->mmap_base = mm->mmap_base;
	l->start_stack = mm->start_stack;
#endif
}

/* The key's space under cs_share_forks: one per exec, kept by its forks.
 * A fork copies the mm: the same executable's struct file (an exec opens
 * its own), the same randomized mmap base and stack top; an exec gets a
 * new file and, under ASLR, a new base and stack. Two execs of one binary
 * with ASLR off could share a file's address only after the first family
 * is gone and its file freed, and would then also need the same base and
 * stack: the same layout. Without an mm (a kernel thread): the tgid. */
static __always_inline __u32 cs_space_of(const struct cs_layout *l, __u32 tgid)
{
	__u64 h;

	if (!cs_share_forks || !l->exe_file)
		return tgid;
	h = (l->exe_file ^ (l->mmap_base >> 12)) * 0x9e3779b97f4a7c15ULL;
	h = (h ^ l->start_stack) * 0x9e3779b97f4a7c15ULL;
	return (__u32)(h ^ (h >> 32));
}

/* The key's level-0 words. ret is the word at sp, the caller's return
 * address when the probed function (a leaf syscall wrapper, an allocator
 * at its first instruction) has pushed nothing; with scan_caller it is the
 * first word of the window's first CS_CALLER_SCAN that points into the
 * executable's text (syscall wrappers that spill registers first: the
 * caller sockleak reports). Code built without frame pointers leaves the
 * chain empty: then the window's words that point into the executable's
 * text, almost always return addresses of nested wrappers' callers, tell
 * sites apart at no extra read (the first in up1, every later one folded
 * into up2, so callers that part further up still get sites of their own).
 * False when the window has no room (never, in practice). */
static __always_inline bool cs_key_read(struct pt_regs *regs, __u32 tgid, bool scan_caller,
					struct cs_call *c)
{
	__u64 bp = PT_REGS_FP(regs), mix = 0;
	struct cs_layout l = {};
	struct mm_struct *mm = NULL;
	__u32 zero = 0;
	__u64 *w;

	w = bpf_map_lookup_elem(&cs_window, &zero);
	if (!w)
		return false;
	c->w = w;
	c->sp = PT_REGS_SP(regs);
	c->tgid = tgid;
	c->k.level = 0;
	c->k.ip = PT_REGS_IP(regs);
	c->k.mix = 0;
	/* Within CS_WINDOW words of the stack's top: read the one word. A
	 * failed read zeroes w: no words of an earlier call remain. */
	if (bpf_probe_read_user(w, CS_WINDOW * sizeof(*w), (void *)c->sp)) {
		for (int i = 1; i < CS_WINDOW; i++)
			w[i] = 0;
		bpf_probe_read_user(w, sizeof(*w), (void *)c->sp);
	}
	c->k.up1 = fp_step(w, CS_WINDOW, c->sp, &bp);
	c->k.up2 = bp ? fp_step(w, CS_WINDOW, c->sp, &bp) : 0;
	/* The mm's layout only when a text word is looked for or the key
	 * is by layout (loads through task and mm: a hot loop with a frame
	 * chain skips them). */
	if (scan_caller || !c->k.up1 || cs_share_forks) {
#ifdef MEMSCOPE_COMPAT /* no BTF task pointer before 5.11 */
		mm = BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), mm);
#else
		mm = bpf_get_current_task_btf()->mm;
#endif
		if (mm)
			cs_layout_read(mm, &l);
	}
	c->k.space = cs_space_of(&l, tgid);
	c->k.ret = scan_caller ? 0 : w[0];
	if (scan_caller) {
		for (int i = 0; i < CS_CALLER_SCAN; i++)
			if (w[i] >= l.start_code && w[i] < l.end_code) {
				c->k.ret = w[i];
				break;
			}
	}
	if (!c->k.up1 && mm) {
		fold_text_words(w, 1, CS_WINDOW, l.start_code, l.end_code, &c->k.up1, &mix);
		c->k.up2 = mix;
	}
	return true;
}

/* A key's site. Keys by process leave the tgid out (user space names
 * their sites by tgid and hash); keys by layout put it in, so that the
 * hash alone names a site in user space, whichever fork reports it. */
static __always_inline __u64 cs_hash(const struct cs_key *k)
{
	__u64 h = k->ip ^ (cs_share_forks ? (__u64)k->space << 32 : 0);

	h = (h ^ k->ret) * 0x9e3779b97f4a7c15ULL;
	h = (h ^ k->up1) * 0x9e3779b97f4a7c15ULL;
	h = (h ^ k->up2) * 0x9e3779b97f4a7c15ULL;
	h = (h ^ k->mix ^ k->level) * 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

/* The first CS_VERIFY_FIRST hits of a key, then one in CS_VERIFY_EVERY. */
static __always_inline bool cs_verify_due(__u32 hits)
{
	return cs_snapshots && (hits <= CS_VERIFY_FIRST || !(hits & (CS_VERIFY_EVERY - 1)));
}

/* The snapshot that lets user space check a key: its CS_VERIFY_FIRST-th
 * hit, or any later one of a key still unchecked (an earlier one lost). */
static __always_inline bool cs_check_due(const struct cs_call *c, __u32 kind)
{
	return kind == CS_SNAP_VERIFY && c->young && c->hits >= CS_VERIFY_FIRST;
}

/* How a snapshot wakes user space. A verify snapshot waits for the next
 * poll, unless the ring fills up (cs_wake_bytes), or unless the key waits
 * for user space's check (its hits are snapshotted until then). A new
 * site's wakes user space as the tool asks: past cs_wake_bytes, or (0) as
 * the ring buffer decides by default, when the consumer has caught up
 * (sockleak symbolizes new sites while their process lives). */
static __always_inline __u64 cs_wake(void *rb, const struct cs_call *c, __u32 kind)
{
	if (cs_check_due(c, kind))
		return 0;
	if (cs_wake_bytes)
		return bpf_ringbuf_query(rb, BPF_RB_AVAIL_DATA) > cs_wake_bytes
			       ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	return kind == CS_SNAP_NEW ? 0 : BPF_RB_NO_WAKEUP;
}

/* What cs_send did. */
#define CS_SENT     0
#define CS_NO_ROOM  1 /* the ring buffer is full */
#define CS_NO_STACK 2 /* the stack could not be read (counted: DROP_STACK) */

/* Send a snapshot of the call to user space (CS_SENT, CS_NO_*). The
 * stack is read straight into the ring buffer; near the top of a stack
 * the 8 KiB read fails whole (a missing page), hence snap_stack's shorter
 * retries. */
static __always_inline int cs_send(void *rb, struct pt_regs *regs, const struct cs_call *c,
				    __u32 kind)
{
	struct cs_snap_event *e;
	__u32 len = 0;

	e = bpf_ringbuf_reserve(rb, cs_snapshots ? sizeof(*e) : CS_SNAP_HEAD, 0);
	if (!e)
		return CS_NO_ROOM;
	if (cs_snapshots) {
		len = snap_stack(e->stack, c->sp);
		if (!len) {
			bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
			count_drop(DROP_STACK);
			return CS_NO_STACK;
		}
	}
	e->type = CS_EV_SNAP;
	e->tgid = c->tgid;
	e->stack_id = c->stack_id;
	e->stack_len = len;
	e->site = c->site;
	e->key_site = c->key_site;
	e->kind = kind;
	e->hit = c->hits;
	e->key = c->k;
	snap_regs(regs, &e->regs);
	bpf_ringbuf_submit(e, cs_wake(rb, c, kind));
	return CS_SENT;
}

/* The next own-site number, unique in the run. Before 5.12 there is no
 * atomic fetch-and-add (5.10 rejects it: "BPF_STX uses reserved
 * fields"), so the compat build counts per CPU, the CPU's id in the low
 * bits: one CPU runs these programs one at a time (they do not nest). */
static __always_inline __u64 cs_next_own_seq(void)
{
#ifdef MEMSCOPE_COMPAT
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&cs_own_seq_cpu, &zero);

	if (!n)
		return 0;
	return ((*n)++ << 16) | (bpf_get_smp_processor_id() & 0xffff);
#else
	return __sync_fetch_and_add(&cs_own_seq, 1);
#endif
}

/* A hit that is due for verification: its snapshot. With own_sites, a
 * hit of an unchecked key is recorded under a site of its own (see
 * cs_hit_site), if its snapshot, which names it, could be sent. */
static __always_inline void cs_verify(void *rb, struct pt_regs *regs, struct cs_call *c,
				      bool own_sites)
{
	bool own = own_sites && c->young && cs_snapshots;
	int sent;

	c->key_site = c->site;
	if (!own && !cs_verify_due(c->hits))
		return;
	if (own)
		c->site = cs_hit_site(c->key_site, cs_next_own_seq());
	sent = cs_send(rb, regs, c, CS_SNAP_VERIFY);
	if (sent != CS_SENT)
		c->site = c->key_site;
	if (sent == CS_NO_ROOM)
		__sync_fetch_and_add(&cs_verify_lost, 1);
}

/* The return address stored just below a frame's CFA, cfa bytes above sp:
 * from the window when it lies there. */
static __always_inline __u64 cs_word_at(const struct cs_call *c, __u32 cfa)
{
	__u32 off = cfa - 8, i = off / 8;
	__u64 v = 0;

	if (cfa < 8)
		return 0;
	if (i < CS_WINDOW) {
		/* Keep the mask: clang drops it after the test, the verifier
		 * needs it. */
		barrier_var(i);
		return c->w[i & (CS_WINDOW - 1)];
	}
	bpf_probe_read_user(&v, sizeof(v), (void *)(c->sp + off));
	return v;
}

/* The cache entry of the call: level 0, then down the refinements that
 * user space asked for, each mixing one more stack word into the key. A
 * miss at any level is a new site. */
static __always_inline struct cs_val *cs_lookup(struct cs_call *c)
{
	struct cs_val *v = bpf_map_lookup_elem(&cs_sites, &c->k);

	for (int i = 0; i < CS_MAX_LEVELS && v && v->refine_off; i++) {
		__u64 word = cs_word_at(c, v->refine_off);

		c->k.level++;
		c->k.mix = (c->k.mix << 13 | c->k.mix >> 51) ^ word;
		v = bpf_map_lookup_elem(&cs_sites, &c->k);
	}
	return v;
}

/* A call site already cached: its stack id and site into c, and a
 * verify snapshot when one is due. False on a miss. */
static __always_inline bool cs_hit(struct pt_regs *regs, void *rb, struct cs_call *c,
				   bool own_sites)
{
	struct cs_val *v = cs_lookup(c);

	if (!v)
		return false;
	c->stack_id = v->stack_id;
	c->site = v->site;
	c->named = true;
	c->hits = ++v->hits;
	/* Only a tool with own sites has its keys checked (sockleak's stay
	 * unchecked, and their hits under the key's site). */
	c->young = own_sites && !v->checked && c->hits <= CS_OWN_MAX;
	cs_verify(rb, regs, c, own_sites);
	return true;
}

/* A new call site: walked, its snapshot sent and, if that fits in the
 * ring buffer, cached (else the next call tries again). A walk that
 * fails is no reason to leave the site unnamed where its snapshot names
 * it: the stack map refuses a stack whose hash bucket another one holds
 * (-EEXIST), and code without frame pointers makes many short, different
 * walks (php lost a few hundred allocations a run that way, each call of
 * such a site walking again). Only a site nothing names is a drop
 * (--stack-mode fp, or a stack that could not be read). */
static __always_inline void cs_new(void *ctx, struct pt_regs *regs, void *stacks, void *rb,
				   struct cs_call *c)
{
	struct cs_val nv = {};
	int sent;
	long id;

	c->hits = 0;
	c->young = true;
	c->named = false;
	c->site = c->key_site = cs_hash(&c->k);
	id = bpf_get_stackid(ctx, stacks, BPF_F_USER_STACK);
	c->stack_id = id < 0 ? -1 : id;
	/* With no walk and no stack copy (--stack-mode fp) the site is not
	 * named, but its snapshot head still records its ip: the row then
	 * starts where its walked siblings' do, not at its caller. The site
	 * stays uncached, so the next call walks again. */
	if (id < 0 && !cs_snapshots)
		count_drop(DROP_STACK);
	sent = cs_send(rb, regs, c, CS_SNAP_NEW);
	if (sent == CS_NO_ROOM) {
		count_drop(DROP_RINGBUF);
		return;
	}
	if (id < 0 && (sent != CS_SENT || !cs_snapshots))
		return;
	c->named = true;
	nv.site = c->site;
	nv.stack_id = c->stack_id;
	bpf_map_update_elem(&cs_sites, &c->k, &nv, BPF_ANY);
}

static __always_inline void cs_resolve(void *ctx, struct pt_regs *regs, void *stacks, void *rb,
				       struct cs_call *c, bool own_sites)
{
	if (!cs_hit(regs, rb, c, own_sites))
		cs_new(ctx, regs, stacks, rb, c);
}

#endif
