/* memleak-trace: per-process accounting of the events the BPF side sends
 * (mappings, heap) and the table of allocation stacks. */
#ifndef MEMSCOPE_MEMLEAK_TRACK_H
#define MEMSCOPE_MEMLEAK_TRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "memleak.h"
#include "hindex.h"
#include "memleak_ranges.h"
#include "symbolize.h"

/* What a stack allocated; the table ranks anon, heap and malloc. */
enum mm_kind { MK_ANON, MK_HEAP, MK_MALLOC, MK_FILE, MK_SHARED, MK_KINDS };
const char *mm_kind_name(enum mm_kind k);

struct stack_ent {
	/* key */
	int32_t stack_id;
	uint32_t kind;
	uint64_t ret_addr;
	uint64_t site;          /* the callers' discriminator (alloc_key.site) */
	uint64_t interp;        /* interpreter stack (interp_stacks), 0: none */
	/* outstanding bytes now, kept per event (growth checkpoints) */
	int64_t bytes;
	int64_t ckpt_bytes[2];
	/* the most it held, and when (mono ns): evidence of a process that
	 * released it all while exiting */
	int64_t peak;
	uint64_t peak_ns;
	/* everything it mapped or allocated while traced (pprof alloc_*) */
	uint64_t alloc_bytes, alloc_count;
	/* symbolized lazily, at the first report that shows the stack */
	struct frame *frames;
	int nframes;
	bool dwarf;             /* frames from DWARF unwinding, not frame pointers */
	/* ld.so's own mapping: the library it was loading, or NULL */
	char *loading;
};

struct tracker {
	pid_t pid;
	/* --faults: the ranges are pages first touched (one fault each), not
	 * mappings; mappings only tell which pages went away. */
	bool pages;
	struct ranges *ranges;
	struct stack_ent *stacks;
	uint32_t nstacks;
	size_t cap;
	struct hindex index;    /* by (stack id, return address, site, kind) */
	/* run totals */
	uint64_t mapped, released, released_untracked, events;
	uint64_t refaults;      /* --faults: faults on pages already counted */
	/* --faults: first touches counted, those that brought a transparent
	 * huge page (counted 2 MiB each) and the bytes they brought, and
	 * those whose page could not be looked up in pagemap (counted as
	 * one small page). */
	uint64_t faults, huge_faults, huge_bytes, huge_unknown;
	int pagemap_fd;         /* /proc/PID/pagemap, opened at the first need */
	/* Faults that may bring a huge page whose page was not in pagemap
	 * yet when the record was read (the tracepoint fires as the fault
	 * begins; zeroing 2 MiB takes a while): counted as one page, looked
	 * at again at each poll. */
	struct thp_pending { uint64_t addr; uint32_t owner, tries; } *thp_pending;
	size_t nthp_pending, thp_pending_cap;
	/* RssAnon when the trace began (or 0 at an exec): what --faults
	 * cannot see shows as RssAnon growth that no fault explains. */
	uint64_t rss_anon_start;
	bool rss_anon_start_known;
	uint64_t now_ns;        /* when the record being handled was read */
	/* heap (brk) */
	uint64_t brk_start, brk_cur;
	bool brk_known;
	/* a new executable mapping or exec: refresh the symbolizer */
	bool maps_changed;
	bool exec_seen;
	/* growth checkpoints at 1, 2, 4, 8... s after start */
	uint64_t t0_ns;
	double ckpt_t[2];
	int nckpt;
	double next_ckpt;
};

int tracker_init(struct tracker *t, pid_t pid, uint64_t t0_ns);
void tracker_fini(struct tracker *t);
/* Seed the heap break and RssAnon from /proc (attaching to a running
 * process). */
void tracker_seed_brk(struct tracker *t);
/* The ring-buffer records of the process's address space (memleak.h),
 * dispatched by mproc_record. */
void tracker_mmap(struct tracker *t, const struct mm_map_event *e);
void tracker_munmap(struct tracker *t, const struct mm_unmap_event *e);
void tracker_mremap(struct tracker *t, const struct mm_remap_event *r);
void tracker_brk(struct tracker *t, const struct mm_map_event *e);
void tracker_exec(struct tracker *t);
/* --faults: a first touch (MM_EV_FAULT), pages given back (MM_EV_GIVEBACK). */
void tracker_fault(struct tracker *t, const struct mm_map_event *e);
void tracker_giveback(struct tracker *t, const struct mm_unmap_event *e);
uint32_t tracker_stack(struct tracker *t, int32_t stack_id, uint64_t ret_addr, uint64_t site,
		       uint64_t interp, uint32_t kind);
/* A failed capture: no stack id and no site that a snapshot names (a site
 * whose walk failed can still be named by its snapshot). */
static inline bool stack_failed(const struct stack_ent *s)
{
	return s->stack_id < 0 && !s->site;
}
/* Set a stack's outstanding bytes (keeps its peak). */
void tracker_stack_bytes(struct tracker *t, uint32_t owner, int64_t bytes);
/* --faults: settle the faults whose huge page was not in pagemap yet. */
void tracker_thp_settle(struct tracker *t);
/* Take a growth checkpoint when one is due. */
void tracker_tick(struct tracker *t, uint64_t now_ns);
/* A rate needs this long a span: shorter, tracker_growth is 0. */
#define GROWTH_MIN_SPAN_S 0.05
/* Outstanding bytes per second of the stack over the latter part of the run. */
double tracker_growth(const struct tracker *t, const struct stack_ent *s, uint64_t now_ns);

#endif
