/* memleak-trace's collector: one process's report as a read-only
 * snapshot with every figure the views print (rows, totals, verdict,
 * process figures, losses, pprof samples). The text, JSON, folded and
 * pprof views are functions of a snapshot: they read no BPF map, no /proc
 * file and no tracker. */
#ifndef MEMSCOPE_MEMLEAK_COLLECT_H
#define MEMSCOPE_MEMLEAK_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "callsites.h"
#include "common.h"
#include "ending.h"
#include "memleak_pprof.h"
#include "memleak_report.h"
#include "procfs.h"
#include "symbolize.h"

/* What a caller reads, so that it pays for that only. */
enum leak_needs {
	LEAK_NEED_ROWS    = 1 << 0, /* rows: stacks symbolized, merged, ranked */
	LEAK_NEED_VERDICT = 1 << 1, /* the verdict line, and the peaks of an exited process */
	LEAK_NEED_PROCESS = 1 << 2, /* /proc status and --faults' huge-page figures */
	LEAK_NEED_PPROF   = 1 << 3, /* a sample per ranked stack for the pprof view */
};

/* A row: the stacks that read the same, summed; shown as the member
 * holding most. */
struct leak_row {
	uint32_t kind;          /* enum mm_kind */
	/* bytes, count, resident; oldest_ts: mono ns of the oldest (peaks:
	 * when the peak was) */
	struct stack_acc acc;
	double growth;          /* bytes/s of what is mapped or allocated */
	char *culprit;          /* terminal-escaped; "[no stack]" without one */
	char *culprit_raw;      /* raw, as JSON names it; NULL without a stack */
	/* the frames, innermost first: the tracker's, borrowed (valid until
	 * the tracker is freed) */
	const struct frame *frames;
	int nframes;
	bool dwarf;             /* unwound with DWARF, not frame pointers */
};

struct leak_totals {
	uint64_t by_kind[MK_KINDS]; /* outstanding bytes of every stack, ranked or not */
	uint64_t count, ranked;     /* allocations and bytes of the ranked stacks */
	/* held under call sites found to stand for more than one stack */
	uint64_t merged_count, merged_bytes;
	/* Frames of the rows named module+offset only: their binary could
	 * not be opened, or the file at its path is not the one mapped. */
	uint64_t frames_unverified;
};

/* --faults and transparent huge pages: what the faults saw of them and
 * what they cannot see (huge pages resident before the trace). */
struct leak_thp {
	bool anon_huge_known;
	uint64_t anon_huge;     /* AnonHugePages now (smaps_rollup) */
	bool unseen;            /* THP always, or the process has huge pages */
};

/* One stack for the pprof view: from its culprit outwards. */
struct leak_sample {
	const struct frame *frames; /* borrowed, as leak_row's */
	int nframes;
	uint32_t kind;
	struct pprof_values v;
};

struct leak_snapshot {
	unsigned needs;
	/* the process and the moment */
	pid_t pid;
	const char *comm;       /* raw; borrowed from the caller */
	const char *cgroup;     /* -c: the cgroup's path, raw; NULL otherwise */
	struct proc_ending ending;
	bool final, target_exited;
	uint64_t t0_ns, now_ns; /* when the trace began, and "now" (mono) */
	double wall_s;          /* wall clock when collected */
	bool have_status;       /* alive and /proc/PID/status read */
	struct proc_status status;
	struct leak_thp thp;
	/* the tracker's run totals */
	uint64_t mapped, released, released_untracked;
	bool brk_known;
	int64_t heap_change;
	uint64_t faults, huge_faults, huge_bytes, huge_unknown;
	bool rss_anon_start_known;
	uint64_t rss_anon_start;
	uint64_t kept_bytes;    /* --faults: first touched and kept */
	/* the rows, most held first */
	struct leak_row *rows;
	int nrows;
	struct leak_totals tot;
	/* an exited process: each stack at its peak, and whether the report
	 * shows them (it released most before it exited) */
	struct leak_row *peaks;
	int npeaks;
	uint64_t peak_total;
	bool show_peaks;
	/* the first line, the row it names (NULL: none), and the row
	 * growing fastest (NULL: nothing grows) */
	char *verdict;
	const struct leak_row *named;
	const struct leak_row *growing;
	/* losses */
	struct callsite_counts sites;
	uint64_t verify_lost;
	uint64_t drops[DROP_KINDS];
	uint64_t faults_unclassified;
	/* pprof */
	struct leak_sample *samples;
	size_t nsamples;
	struct symbolizer *sym; /* the pprof view names the samples' binaries with it */
};

/* The snapshot of one process now, with what needs asks for. */
struct leak_snapshot *leak_collect(const struct report_opts *o, struct report_in *in,
				   unsigned needs);
void leak_snapshot_free(struct leak_snapshot *s);
/* How long before the snapshot ts (mono ns) was; 0 for 0. */
double leak_age_s(const struct leak_snapshot *snap, uint64_t ts);
/* How far into the trace ts (mono ns) was. */
double leak_trace_s(const struct leak_snapshot *snap, uint64_t ts);

#endif
