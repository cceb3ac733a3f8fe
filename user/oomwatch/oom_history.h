/* OOM kills that already happened, read back from the kernel's log:
 * /dev/kmsg's ring buffer and, where there is one, the systemd journal
 * (journalctl -o export). Only what the kernel printed: victim, cgroups,
 * constraint, RSS, trigger, the memcg's usage line, its own lines; none of
 * oomwatch's live context (memory.stat at the kill, lead-up, cmdline).
 *
 *	struct oom_history h;
 *	oom_history_collect(&(struct oom_history_opts){ .window_s = 3600 }, &h);
 *	oom_history_print(stdout, &h, verbose);  or  oom_history_json(stdout, &h);
 *	oom_history_free(&h);
 */
#ifndef MEMSCOPE_OOM_HISTORY_H
#define MEMSCOPE_OOM_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "oom_kmsg.h"

struct oom_history_opts {
	double window_s;         /* kills of the last window_s seconds ... */
	bool since_boot;         /* ... or every kill since boot */
	const char *cgroup;      /* only kills whose memcg is this one or below (relative path); NULL: all */
	/* Live mode: asked right after the ring is read, for the sequence
	 * number from which kill lines are the live side's (false: none yet). */
	bool (*live_cutoff)(void *ctx, uint64_t *seq);
	void *live_ctx;
	bool have_cutoff;        /* filled from live_cutoff for the build */
	uint64_t cutoff_seq;
	const char *journal_export; /* tests: read this export file instead of running journalctl */
	bool no_journal;         /* tests: the kernel ring only */
};

struct oom_past_kill {
	double time;             /* wall clock of its "Killed process" line */
	const char *log;         /* "kmsg" or "journal" */
	bool this_boot;
	char boot_id[40];        /* the journal's _BOOT_ID; "" from /dev/kmsg */
	struct kernel_report kr;
};

/* A victim's memory cgroup with kills in the log of this boot, against its
 * own oom_kill counter. */
struct oom_history_cgroup {
	char *path;              /* task_memcg: the victim's memcg */
	uint64_t in_log;         /* kills of this boot in the log read, any time */
	uint64_t in_window;
	bool have_counter;       /* false: the cgroup is gone or unreadable */
	uint64_t kernel_oom_kill;
};

/* What was read: the input of oom_history_build (tests feed fixtures). */
struct oom_history_input {
	char **kmsg;             /* raw /dev/kmsg records, oldest first */
	size_t nkmsg;
	int kmsg_err;            /* 0 or -errno */
	const char *journal;     /* export text, NULL when none was read */
	size_t journal_len;
	const char *journal_state; /* "read", "absent", or why it failed */
	double now_real, now_mono; /* clocks read together (seconds) */
	const char *boot_id;     /* this boot's, 32 hex digits */
};

struct oom_history {
	double now, window_start; /* wall clock */
	bool since_boot;
	double boot_time;        /* wall clock */
	struct oom_past_kill *kills; /* in the window, oldest first */
	size_t nkills;
	/* The kernel's ring buffer. */
	int kmsg_err;
	size_t kmsg_records;
	bool ring_wrapped;       /* its oldest record is not the boot's first */
	uint64_t ring_first_seq;
	double ring_start;       /* wall clock of its oldest record */
	/* The journal. */
	const char *journal_state;
	uint64_t journal_records;
	uint64_t journal_kills;  /* kills only the journal still had */
	/* Counters. */
	uint64_t kills_this_boot; /* every kill of this boot in the log read */
	bool log_from_boot;      /* the log read reaches back to the boot */
	uint64_t host_oom_kill;  /* /proc/vmstat oom_kill: since boot */
	bool have_host_counter;
	uint64_t left_to_live;   /* kills after the cutoff: the live side reports them */
	uint64_t printed_twice;  /* a victim's second "Killed process" line (memory.oom.group) */
	struct oom_history_cgroup *cgroups;
	size_t ncgroups;
};

/* Read the ring buffer, the journal and the counters. 0, or -1 when no
 * log at all could be read (said on stderr). */
int oom_history_collect(struct oom_history_opts *o, struct oom_history *h);
/* The kills and coverage from what was read (pure: no I/O). */
void oom_history_build(const struct oom_history_opts *o, const struct oom_history_input *in,
		       struct oom_history *h);
void oom_history_free(struct oom_history *h);

void oom_history_print(FILE *f, const struct oom_history *h, bool verbose);
void oom_history_json(FILE *f, const struct oom_history *h);

#endif
