/* memleak-trace: the periodic and final report of one process: what the
 * run loop hands the collector (report_in) and the options the views
 * follow (report_opts). memleak_collect.h has the snapshot, memleak_views.h
 * the views. */
#ifndef MEMSCOPE_MEMLEAK_REPORT_H
#define MEMSCOPE_MEMLEAK_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"
#include "callsites.h"
#include "memleak_track.h"
#include "interpreters.h"
#include "symbolize.h"

struct report_opts {
	int top_n;
	double older_than_s;
	bool json;
	bool folded;
	bool all_kinds;         /* rank file-backed and shared mappings too */
	bool malloc;            /* --malloc: the heap is explained by malloc rows */
	int max_frames;         /* frames printed per stack in the table */
	uint64_t sample_every;  /* --malloc --sample N (1: every call) */
	enum stack_mode stack_mode;
	const char *allocators; /* --malloc: "libjemalloc.so.2, ..." probed, NULL: none found */
	bool malloc_fallback;   /* --malloc found no allocator: the report is the mappings mode's */
	const char *pprof_path; /* --pprof FILE */
	bool faults;            /* --faults: figures are pages first touched */
	const char *thp_mode;   /* --faults: "always", "madvise", "never", NULL: unknown */
};

/* Per-stack figures of one report, indexed like tracker->stacks. */
struct stack_acc {
	uint64_t bytes, count, oldest_ts, resident;
	uint64_t traced;  /* --sample: blocks seen, of the count estimated */
	bool resident_known;
};

struct report_in {
	struct tracker *t;
	struct symbolizer *sym;
	int stacks_fd;          /* BPF stack-trace map */
	const struct callsites *sites; /* the process's call sites (DWARF stacks) */
	uint64_t verify_lost;   /* call-site verify snapshots lost (BPF) */
	struct interp *interp;  /* interpreter stacks (PHP, Python), or NULL */
	const uint64_t *drops;  /* DROP_KINDS counters */
	struct stack_acc *malloc_acc; /* filled by the malloc module, or NULL */
	uint32_t malloc_n;      /* entries in malloc_acc */
	const char *comm;       /* raw, as last read from /proc */
	const struct proc_ending *ending; /* how it ended (flags 0: running, or unknown) */
	const char *cgroup;     /* -c: the cgroup's path, raw; NULL otherwise */
	bool final;
	bool target_exited;     /* the process has exited: the report is of what it held then */
	uint64_t now_ns;
	struct pprof *pprof;    /* --pprof: the profile this report adds to */
	uint64_t faults_unclassified; /* --faults: faults not counted (mmap lock busy) */
};

struct jw;
/* "allocators": the probed allocators' file names as an array. */
void report_jw_allocators(struct jw *w, const char *names);
/* Collect what the chosen view prints (and --pprof's samples), then print
 * it: the table, the JSON line or --folded. */
void report_print(const struct report_opts *o, struct report_in *in);
/* "mappings", "malloc" or "faults": what the figures count (JSON "mode"). */
const char *report_mode(const struct report_opts *o);
/* The fastest growth among the stacks report_print would rank (bytes/s,
 * 0 if none grows) and, in *who, its culprit, terminal-escaped (caller
 * frees; NULL if none grows). */
double report_growth(const struct report_opts *o, struct report_in *in, char **who);

#endif
