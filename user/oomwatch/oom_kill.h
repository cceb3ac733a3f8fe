/* One OOM kill as oomwatch's collector completes it (the model its
 * printers, oom_report.h, and the exporter read): the kernel's record,
 * decoded, and filled in user space as far as the caller's needs mask asks
 * (paths, /proc, the OOM cgroup's files, host memory, the lead-up, the
 * kernel's own report); and the run's summary. */
#ifndef MEMSCOPE_OOM_KILL_H
#define MEMSCOPE_OOM_KILL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "cgroup.h"
#include "memstat.h"
#include "oom_kmsg.h"
#include "oom_leadup.h"
#include "oomwatch.h"

/* A level counts as "at its limit" when usage is within this many pages
 * of it (a THP charge of 512 pages fails that far below), or 1/64th of
 * the limit for big ones. */
#define OOM_LIMIT_SLACK_PAGES 512
/* Lead-up samples kept in one report. */
#define OOM_LEADUP_KEEP 300

/* What a kill is completed with beyond the kernel's record and its
 * decoding (which every kill gets: cgroup paths, the level at its limit,
 * usage and limit, the constraint, the kind, the counts that tell whether
 * one was missed). A front end asks for what it reads
 * (oom_collector_opts.needs); struct oom_kill.filled says what was done. */
enum oom_need {
	OOM_NEED_VICTIM   = 1u << 0, /* cmdline, parent, /proc status, the victim's own cgroup, container */
	OOM_NEED_CGROUP   = 1u << 1, /* the OOM cgroup's memory.stat and events read after the kill */
	OOM_NEED_HOST     = 1u << 2, /* /proc/meminfo and memory PSI */
	OOM_NEED_LEADUP   = 1u << 3, /* the OOM cgroup's lead-up samples and top processes */
	OOM_NEED_KMSG     = 1u << 4, /* the kernel's own report (waits for it) */
	OOM_NEED_CMDLINE_HOOKS = 1u << 5, /* victims' cmdlines copied in the kernel at their SIGKILL */
	OOM_NEED_ALL      = (1u << 6) - 1,
};

/* Pages at or above this are the page_counter's "no limit". */
#define OOM_PAGES_UNLIMITED (1ULL << 48)

struct oom_kill {
	struct oom_event ev;       /* as the kernel sent it */
	unsigned filled;           /* OOM_NEED_* completed (VICTIM only when asked, ...) */
	/* The OOM cgroup (the level at its limit, else the victim's memcg), in
	 * bytes; limit 0: none. From the event: every kill has them. */
	uint64_t usage, limit;
	double time;               /* wall clock of the kill */
	uint64_t seq;              /* 1, 2, ... in order seen */
	const char *kind;          /* "selected", "group member", "exiting" */
	bool real_kill;            /* the kernel counted it in oom_kill */
	/* Victim, in bytes. */
	uint64_t total_vm, anon, file, shmem, swap, pgtables;
	char *cmdline;             /* NULL when no longer readable */
	const char *cmdline_src;   /* "kernel" (copied at the kill or at the victim's
				    * SIGKILL), "/proc", NULL */
	pid_t ppid;
	char *parent_comm;
	/* Cgroups. */
	bool v1;                   /* memcg ids are of the v1 hierarchy */
	long page_size;
	char *paths[OOM_MAX_DEPTH]; /* path of each chain level, NULL if gone */
	char *victim_v2_path;
	struct container_ref container;
	bool have_container;
	int limit_level;           /* chain index at its limit, -1: none */
	bool memsw_hit;            /* it was the v1 memory+swap limit */
	bool oom_group;
	const char *constraint;    /* "memcg", "global", "cpuset", "mempolicy" */
	bool constraint_from_kernel; /* from the kernel's report, else inferred */
	/* The OOM cgroup's memory.stat counters in the kernel at the kill. */
	struct memstat at_kill;
	bool have_at_kill;
	bool at_kill_lru_exact;    /* LRU lists from the memcg's live list sizes */
	bool at_kill_flushed;      /* the kernel flushed the counters for its report */
	const char *at_kill_missing; /* why not, when not */
	/* The OOM cgroup (limit level, else the victim's memcg), read now. */
	const char *stat_of;       /* its path */
	struct memstat stat;
	bool have_stat;
	double stat_delay_s;       /* read this long after the kill */
	struct mem_events events;
	uint64_t oom_kill_since_start; /* its local counter's growth */
	uint64_t seen_in_cgroup;   /* kills seen there by oomwatch so far */
	/* Host. */
	struct meminfo mi;
	bool have_mi;
	struct psi psi;
	bool have_psi;
	uint64_t host_oom_kill_delta, host_seen;
	/* Kills outside -c's cgroup: seen by the kernel-side probe and
	 * ignored, so neither counted as seen nor as missed. */
	uint64_t host_ignored;
	uint64_t host_missed;
	/* Lead-up of the OOM cgroup, oldest first. */
	struct leadup_sample *leadup;
	size_t nleadup;
	double leadup_interval;
	/* What the lead-up window spans besides this kill's climb. */
	uint64_t leadup_prev_kills;   /* earlier kills in the same cgroup */
	double leadup_prev_kill_age;  /* seconds before this kill, of the last one */
	uint64_t leadup_limit_from;   /* the limit at the window's start ... */
	double leadup_limit_age;      /* ... changed this long before the kill (0: never) */
	struct leadup_proc top[LEADUP_TOP_PROCS];
	int ntop;
	double top_t;
	/* The kernel's own report. */
	struct kernel_report kr;
	uint64_t drops[DROP_KINDS];
	uint64_t kmsg_lost;
};

/* Sizes from the event (pages or kB) to bytes, the path of each level and
 * which one was at its limit, the constraint as inferred. */
void oom_kill_decode(struct oom_kill *k, long page_size, bool v1);
struct memcg_state_map;
/* The OOM cgroup's counters at the kill from the event's raw state[]
 * (after oom_kill_decode, which finds the level at its limit). */
void oom_kill_decode_state(struct oom_kill *k, const struct memcg_state_map *m);
/* Index of the chain level at its limit (-1: none); memsw set when it was
 * the v1 memory+swap counter. Pure: used by the unit tests. */
int oom_limit_level(const struct oom_event *e, bool *memsw);
/* Fill what /proc and the cgroup files still show. */
void oom_kill_collect(struct oom_kill *k, const char *memcg_mount, int version,
		      struct leadup *lu, unsigned needs);
/* Earlier kills and limit changes inside the lead-up samples (pure: unit
 * tested). */
void oom_kill_leadup_spans(struct oom_kill *k);
/* The cmdline the victim's own SIGKILL delivery copied; false when the
 * event is not this kill's. */
bool oom_kill_set_cmdline(struct oom_kill *k, const struct oom_cmdline_event *c);
/* Still waiting for that event. */
bool oom_kill_awaits_cmdline(const struct oom_kill *k);
/* Take the kernel report (moved into k) and let it settle the constraint. */
void oom_kill_set_kernel_report(struct oom_kill *k, struct kernel_report *kr);
void oom_kill_free(struct oom_kill *k);

/* The OOM cgroup's path, "" for the root: for messages and summaries. */
const char *oom_kill_cgroup(const struct oom_kill *k);
/* A run of oomwatch so far (oom_collector_summary), per cgroup with
 * kills, against the kernel's counters. */
struct oom_cgroup_summary {
	const char *path;            /* borrowed from the collector */
	uint64_t kills, kernel_oom_kill, missed;
	bool present;                /* false: the cgroup is gone, its last count read */
};

struct oom_summary {
	double duration_s;
	uint64_t kills, exiting_shortcuts, group_members;
	uint64_t host_oom_kill_since_start, host_missed, host_ignored, filtered;
	const char *target;          /* the -c cgroup, NULL: host */
	struct oom_cgroup_summary *cgroups;
	size_t ncgroups;
	uint64_t drops[DROP_KINDS];
	uint64_t kmsg_lost;          /* kernel log records overwritten before read */
};

void oom_summary_free(struct oom_summary *sum);

/* Read the OOM cgroup's memory.stat and events from a directory (also
 * used against fixtures). */
int oom_read_cgroup_files(const char *dir, int version, struct memstat *ms,
			  struct mem_events *ev);

#endif
