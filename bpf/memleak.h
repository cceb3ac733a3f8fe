/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* memleak-trace: what crosses the kernel/user boundary. */
#ifndef MEMSCOPE_MEMLEAK_H
#define MEMSCOPE_MEMLEAK_H

#include "callsite.h"
#include "common.h"
#include "modrec.h"

#define MAX_STACK_DEPTH   127

/* Ring-buffer record tags (first field of every record; the second is
 * the tgid: MM_EV_HEAD bytes every record has). */
#define MM_EV_HEAD   8
#define MM_EV_MAP    1  /* struct mm_map_event: mmap */
#define MM_EV_REMAP  2  /* struct mm_remap_event: mremap */
#define MM_EV_BRK    3  /* struct mm_map_event: brk (addr = new break) */
#define MM_EV_UNMAP  4  /* struct mm_unmap_event: munmap */
#define MM_EV_EXEC   5  /* struct mm_unmap_event: exec (address space reset) */
#define MM_EV_STACK  CS_EV_SNAP /* struct cs_snap_event: a call site's stack
				 * snapshot (the call-site service) */
#define MM_EV_FAULT  7  /* struct mm_map_event: --faults, a first touch of an
			 * anonymous private page (addr); flags: MM_FAULT_* */
#define MM_EV_GIVEBACK 8 /* struct mm_unmap_event: --faults, madvise gave the
			  * pages of [addr, addr+len) back */
#define MM_EV_EXIT   9  /* struct mm_exit_event: the process ended */
#define MM_EV_MODULE 10 /* struct module_record (modrec.h): code mapped from a file */

/* MM_EV_FAULT flags. */
#define MM_FAULT_HEAP     0x1 /* in the heap (brk), else an anonymous mapping */
#define MM_FAULT_THP      0x2 /* the fault may bring a transparent huge page: its
			       * 2 MiB-aligned range lies in the mapping and the
			       * THP mode or the mapping's madvise allow one
			       * (user space confirms in /proc/PID/pagemap) */

/* The THP mode (/sys/kernel/mm/transparent_hugepage/enabled). */
#define MM_THP_NEVER   0
#define MM_THP_MADVISE 1
#define MM_THP_ALWAYS  2
#define MM_HPAGE_SIZE  (2ULL << 20) /* x86-64 PMD size: the only THP size
				     * --faults' tracepoint exists on */

/* mmap flags the accounting needs (uapi values, identical on x86/arm64). */
#define MM_MAP_SHARED     0x01
#define MM_MAP_FIXED      0x10
#define MM_MAP_ANONYMOUS  0x20
#define MM_PROT_EXEC      0x4

/* A successful mmap or brk (and the head of an mremap record). The stack
 * is the frame-pointer walk (stack_id in the `stacks` map) plus ret_addr,
 * the word at the user stack pointer: for a leaf syscall wrapper (libc's
 * mmap, syscall(2)) that pushes nothing it is the return address into the
 * caller, which the frame-pointer walk skips. User space decides whether
 * to use it. No timestamp: user space stamps records as it drains them
 * (ages are shown in seconds; the clock read would cost a sixth of the
 * program). */
struct mm_map_event {
	__u32 type;
	__u32 tgid;
	__u64 addr;       /* result: start of the new mapping / new break */
	__u64 len;        /* new length (mmap, mremap) or requested break */
	__u64 ret_addr;
	__s32 stack_id;   /* < 0: capture failed (counted in DROP_STACK) */
	__u32 flags;      /* mmap: flags; mremap: flags */
	__u32 prot;       /* mmap: prot */
	__u32 pad;
	__u64 site;       /* the call site's discriminator (see alloc_key) */
	__u64 interp;     /* interpreter stack in interp_stacks, 0 if none */
};

/* mremap: where the mapping was and how long. */
struct mm_remap_event {
	struct mm_map_event m;
	__u64 old_addr;
	__u64 old_len;
};

struct mm_unmap_event {
	__u32 type;
	__u32 tgid;
	__u64 addr;
	__u64 len;
};

/* The last thread of a traced process exited: how (see proc_ending). */
struct mm_exit_event {
	__u32 type;
	__u32 tgid;
	struct proc_ending ending;
};

/* --malloc: kernel-side aggregation. A stack is the pair (frame-pointer
 * stack id, return address of the allocation function's caller). */
struct alloc_key {
	__s32 stack_id;
	__u32 tgid;
	__u64 ret_addr;
	/* The callers above ret_addr, hashed: in code without frame pointers
	 * the stack id is the same short walk for every caller of a wrapper
	 * (redis' _sdsnewlen from dbAdd or from the request parser), and only
	 * these words tell their sites, and their DWARF snapshots, apart. */
	__u64 site;
	/* The interpreter stack (PHP, Python) in interp_stacks, 0 if none:
	 * one native stack (the interpreter's loop) serves every script. */
	__u64 interp;
};

/* --malloc --sample N: how many calls a traced block stands for, in
 * units of 1/SAMPLE_ONE (SAMPLE_ONE itself when every call is traced).
 * Blocks under SAMPLE_PAGE are drawn one call in N; larger ones with a
 * chance that grows with their size, and from N pages on always (see
 * sample_weight): drawn one in N like the small ones, a single large
 * block would stand for N of its size, and redis' estimate was seen at
 * 2.3 times the truth. */
#define SAMPLE_ONE 1024
#define SAMPLE_PAGE 4096
#define SAMPLE_MAX 1000000   /* --sample's bound: N * SAMPLE_ONE fits a __u32 */

struct alloc_info {
	__u64 size;
	__u64 ts;
	struct alloc_key key;
	__u32 weight;     /* calls it stands for, in 1/SAMPLE_ONE */
};

/* Estimates: a traced block counts size * weight / SAMPLE_ONE bytes and
 * weight (1/SAMPLE_ONE) blocks; exact when every call is traced. */
struct alloc_agg {
	__u64 bytes;      /* outstanding */
	__u64 count;      /* outstanding blocks, in 1/SAMPLE_ONE */
	__u64 total_allocs; /* in 1/SAMPLE_ONE */
	__u64 total_bytes;  /* allocated while traced (freed or not) */
};

#endif
