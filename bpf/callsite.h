/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The call-site service's kernel/user ABI (bpf/callsite.bpf.h, user side
 * user/lib/callsites.h), shared by memleak-trace and sockleak.
 *
 * A call site is keyed by a few words read at the user stack pointer; the
 * BPF side caches its stack id per key and sends a stack snapshot for
 * DWARF unwinding when a key is new (CS_SNAP_NEW) and, on a sample of
 * later hits, to check that the key still stands for one stack
 * (CS_SNAP_VERIFY). Where user space finds two stacks under one key, it
 * writes into the key's cache entry where the stack word that tells them
 * apart lies (refine_off): later lookups mix that word into
 * the key, one level deeper. */
#ifndef MEMSCOPE_CALLSITE_H
#define MEMSCOPE_CALLSITE_H

#include "common.h"

/* Ring-buffer tag of struct cs_snap_event, the same in every tool's ring
 * (above every tool's own tags). */
#define CS_EV_SNAP 64

#define CS_SNAP_NEW    0 /* a key seen for the first time */
#define CS_SNAP_VERIFY 1 /* a hit of a cached key, sampled */

#define CS_MAX_SITES   16384 /* cached keys (LRU) */
#define CS_MAX_LEVELS  4     /* refinements of one key, at most */
#define CS_VERIFY_FIRST 4    /* hits verified after a key's first event */
#define CS_VERIFY_EVERY 256  /* then one hit in this many (a power of 2) */
#define CS_OWN_MAX     64    /* hits of an unchecked key named by their own
				snapshot, at most (see cs_hit_site) */

/* Where a tool asks for it (memleak-trace), every hit of a key that user
 * space has not yet checked is recorded under a site of its own, named by
 * its own verify snapshot. A key is checked once user space has compared
 * its first CS_VERIFY_FIRST hits' stacks with the key's and, where they
 * differ, refined it (cs_val.checked). Until then nothing tells BPF
 * whether the key stands for one stack: a short program that allocates
 * twice through one wrapper from two callers (libc's stdio buffers of
 * stdin and stdout) gives a key no time to be refined, and perl's arena
 * refills from two callers of Perl_hv_common, a few milliseconds apart,
 * would take the first one's stack until the refinement came back. The
 * site is the key's mixed with a number unique in the run (cs_own_seq),
 * not with the hit's count: two hits never share one, whatever path
 * counted them. A hit whose snapshot is lost stays under the key's site
 * (counted with the verifies lost). */
static inline __u64 cs_hit_site(__u64 site, __u64 seq)
{
	return site ^ ((seq + 1) * 0x9e3779b97f4a7c15ULL);
}

/* The words that name a call site. level 0: the user ip (inside the
 * wrapper, or the allocator's first instruction), ret (the word at sp, or
 * the first executable text word near it: see cs_key_read), and the next
 * two frame-pointer return addresses (up1, up2) or, when the chain is
 * empty, the executable's text words near sp (the first in up1, the rest
 * folded into up2). Each refinement level mixes one more stack word in
 * (mix).
 *
 * The words are addresses, which mean one thing only within one address
 * space layout: space says whose. A tool whose children are many
 * short-lived forks of one server (sockleak system-wide) keys by the
 * layout rather than the process, so that a fork, which keeps its
 * parent's layout, finds its parent's sites cached instead of walking,
 * sending and unwinding each as new. */
struct cs_key {
	__u32 space;       /* whose addresses: the tgid, or (cs_share_forks)
			    * the address space's layout (cs_space_of) */
	__u32 level;
	__u64 ip, ret, up1, up2, mix;
};

struct cs_val {
	__u64 site;        /* the key's hash: what records carry */
	__s32 stack_id;    /* frame-pointer walk in the tool's stack map */
	__u32 hits;        /* lookups since the key was cached */
	/* Written by user space where two stacks were found under this
	 * key: the CFA of the frame where they part, in bytes above sp; the
	 * word just below it (its return address) tells them apart. 0 while
	 * none. */
	__u32 refine_off;
	/* Written by user space once the key's first CS_VERIFY_FIRST hits
	 * were compared with its stack (refined where they differed): from
	 * then on its hits are recorded under the key's site. */
	__u32 checked;
};

/* A snapshot: the user registers and the stack above sp (stack_len bytes;
 * 0 with --stack-mode fp, where only new keys are announced, for their
 * symbols), named by the site hash and the whole key, so that user space
 * can address the key's cache entry. */
struct cs_snap_event {
	__u32 type;        /* CS_EV_SNAP */
	__u32 tgid;
	__s32 stack_id;
	__u32 stack_len;
	__u64 site;        /* what the event is recorded under */
	__u64 key_site;    /* the key's site (differs: one of its first hits) */
	__u32 kind;        /* CS_SNAP_* */
	__u32 hit;         /* the key's hits so far (CS_SNAP_VERIFY) */
	struct cs_key key;
	struct user_regs_snap regs;
	__u8 stack[STACK_SNAP_BYTES];
};
#define CS_SNAP_HEAD (sizeof(struct cs_snap_event) - STACK_SNAP_BYTES)

#endif
