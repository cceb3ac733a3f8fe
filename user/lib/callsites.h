/* The call-site service, user side (BPF side: bpf/callsite.bpf.h; ABI:
 * bpf/callsite.h, included from here), shared by memleak-trace and
 * sockleak: the --stack-mode choice, DWARF unwinding of the BPF side's stack snapshots, the stacks
 * kept per call site (tgid and site hash, or the hash alone with
 * shared_spaces) for reports to find whatever the
 * order of arrival, and the verification of cached keys: a verify
 * snapshot whose stack differs from the one kept for its key makes the
 * key refined in the BPF cache (refine_off), so that the two call paths
 * get sites of their own from then on. */
#ifndef MEMSCOPE_CALLSITE_USER_H
#define MEMSCOPE_CALLSITE_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "callsite.h"
#include "hindex.h"

struct unwinder;
struct jw;

/* How report stacks are recovered (--stack-mode). */
enum stack_mode {
	STACK_AUTO,     /* DWARF unless the frame-pointer walk gives more frames */
	STACK_FP,       /* frame pointers + the return address at sp; no snapshots */
	STACK_DWARF,    /* DWARF whenever a snapshot was unwound */
};

#define STACK_MODE_HELP \
	"How call stacks are recovered: fp (the kernel's walk of frame pointers, cheapest; stops " \
	"in code built without them), dwarf (a copy of the stack at each new call site, unwound " \
	"with the binaries' .eh_frame) or auto (default: dwarf unless frame pointers give more frames)"

/* "auto", "fp", "dwarf": 0 and *mode set, or -1. */
int stack_mode_parse(const char *s, enum stack_mode *mode);

/* Unwind a snapshot: the registers and len bytes copied from regs->sp
 * upwards. Returns the addresses found (see unwinder__unwind), 0 if none;
 * sps (or NULL) gets each frame's sp. */
int unwind_snapshot(struct unwinder *u, const struct user_regs_snap *regs, const void *stack,
		    size_t len, uint64_t *ips, uint64_t *sps, int max);

/* What a kept stack is known to stand for. */
enum callsite_state {
	CALLSITE_ONE,        /* one stack, as far as verified */
	CALLSITE_MERGED,     /* two stacks were found: its key is refined,
			      * events before the split stay here */
	CALLSITE_UNRESOLVED, /* two stacks, no stack word tells them apart */
};

struct callsite {
	uint32_t tgid;           /* the process whose snapshot named it first */
	int32_t stack_id;
	uint64_t site;
	/* ready to symbolize: ips[0] exact, the others return address - 1;
	 * n 0: not unwound (no snapshot, no unwinder) */
	uint64_t *ips;
	/* where frame i's return address was read: bytes above the
	 * snapshot's sp (offs[0] unused) */
	uint32_t *offs;
	int n;
	enum callsite_state state;
	uint32_t refine_off;     /* CALLSITE_MERGED: what the cache entry was given */
	/* An own site (cs_hit_site) whose snapshot did not unwind: 1 + the
	 * index of its key's entry, whose stack stands for it (0: none). */
	uint32_t alias;
	bool checked;            /* its cache entry was told (cs_val.checked) */
};

struct callsite_counts {
	uint64_t snapshots;      /* new sites' snapshots received */
	uint64_t verifies;       /* verify snapshots received */
	uint64_t mismatches;     /* of them, a stack other than the kept one */
	uint64_t merged;         /* sites refined (CALLSITE_MERGED) */
	uint64_t unresolved;     /* sites CALLSITE_UNRESOLVED */
	uint64_t refine_failed;  /* refinements the cache entry was gone for */
};

struct callsites_opts {
	int sites_map;           /* the BPF cs_sites map */
	uint32_t *generation;    /* the BPF cs_generation (.bss) */
	int max_ips;             /* frames unwound, at most */
	/* The BPF side records the hits of a key not yet checked under sites
	 * of their own (cs_hit_site): check keys (cs_val.checked), and give
	 * an own site whose snapshot does not unwind its key's stack. */
	bool own_sites;
	/* The BPF side keys call sites by address space layout, shared by a
	 * process's forks (cs_share_forks): a site is named by its hash
	 * alone, whichever process reports or looks it up. */
	bool shared_spaces;
};

struct callsites;
struct callsites *callsites__new(const struct callsites_opts *o);
/* A CS_EV_SNAP record of size bytes from the process u unwinds (NULL: no
 * unwinding; new sites are still kept, by name). A new site's stack is
 * kept (the longer one if the site was sent before: an LRU eviction); a
 * verify snapshot is compared with it. The site's entry, or NULL for a
 * short record. */
const struct callsite *callsites__record(struct callsites *cs, struct unwinder *u,
					 const void *rec, size_t size);
const struct callsite *callsites__find(const struct callsites *cs, uint32_t tgid, uint64_t site);
/* The entry whose stack (ips, offs, n) stands for c: c, or its key's
 * (callsite.alias). NULL for NULL. */
const struct callsite *callsites__stack(const struct callsites *cs, const struct callsite *c);
const struct callsite_counts *callsites__counts(const struct callsites *cs);
void callsites__free(struct callsites *cs);

/* The counts of the service and what the report holds under merged sites
 * (events and, bytes_known, bytes), in the tool's JSON summary: verified
 * false (--stack-mode fp) says no key can be verified. */
void callsites_json(struct jw *w, const struct callsite_counts *c, uint64_t verify_lost,
		    bool verified, uint64_t merged_events, uint64_t merged_bytes, bool bytes_known);
/* The same as one text line under the table, when anything is to say;
 * noun names the events ("allocations", "sockets"). */
void callsites_print(FILE *f, const char *indent, const struct callsite_counts *c,
		     uint64_t verify_lost, bool verified, uint64_t merged_events,
		     uint64_t merged_bytes, bool bytes_known, const char *noun);

#endif
