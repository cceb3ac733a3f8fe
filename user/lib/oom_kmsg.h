/* The kernel's own OOM report, read from /dev/kmsg and matched to a kill.
 *
 * oom_kill_process() prints (rate-limited) "<comm> invoked oom-killer",
 * the memcg usage/limit line, a task dump and the
 * "oom-kill:constraint=..." line, then always "...: Killed process <pid>
 * (<comm>) total-vm:..." right after mark_victim. A kill's block is the
 * lines from the last "invoked oom-killer" up to its "Killed process". */
#ifndef MEMSCOPE_OOM_KMSG_H
#define MEMSCOPE_OOM_KMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Lines of kernel log kept for matching: a global OOM's task dump lists
 * every process, so keep plenty. */
#define KMSG_KEEP_LINES 16384
/* Lines of one kill's block kept in its report. */
#define KMSG_BLOCK_MAX  400

struct kernel_report {
	bool matched;          /* the "Killed process <pid>" line was found */
	bool dumped;           /* the rate-limited header and dump were printed */
	char constraint[32];   /* "CONSTRAINT_MEMCG", "" unknown */
	char *oom_memcg;       /* from the oom-kill: line, NULL if absent */
	char *task_memcg;
	char *trigger_comm;    /* "<comm> invoked oom-killer" */
	int trigger_pid;       /* its "CPU: n ... PID: <pid> Comm:" line, 0 if absent */
	int order;             /* allocation order, -1 unknown */
	bool have_memcg_line;  /* "memory: usage XkB, limit YkB, failcnt N" */
	uint64_t memcg_usage_kb, memcg_limit_kb, memcg_failcnt;
	bool have_killed;      /* parsed sizes of the "Killed process" line */
	char *message;         /* "Memory cgroup out of memory", "Out of memory" */
	uint64_t total_vm_kb, anon_rss_kb, file_rss_kb, shmem_rss_kb, pgtables_kb;
	long uid, oom_score_adj;
	int victim_pid;        /* "Killed process <pid> (<comm>)" */
	char *victim_comm;     /* raw: escape before printing */
	uint64_t seq;          /* kmsg sequence number of the Killed line */
	double ts;             /* its timestamp, seconds since boot */
	char **lines;          /* the block, oldest first (raw kmsg text) */
	size_t nlines;
	size_t ntasks;         /* task dump rows in the block */
	bool truncated;        /* block longer than KMSG_BLOCK_MAX */
};

struct kmsg;

/* Open /dev/kmsg, positioned at its end (only new messages are read).
 * NULL with errno set when it cannot be read (no CAP_SYSLOG, container). */
struct kmsg *kmsg_open(void);
/* A reader without a device, fed with kmsg_feed (tests, fixtures). */
struct kmsg *kmsg_new(void);
void kmsg_free(struct kmsg *k);
/* Read everything available without blocking; returns lines added.
 * Records overwritten before they were read are counted in kmsg_lost. */
int kmsg_poll(struct kmsg *k);
uint64_t kmsg_lost(const struct kmsg *k);
/* Add one raw /dev/kmsg record ("pri,seq,ts_usec,flags;text"). */
void kmsg_feed(struct kmsg *k, const char *record);
/* Add one line known only by its text and timestamp (the journal's copy
 * of a kernel record: it keeps no sequence number). */
void kmsg_feed_text(struct kmsg *k, uint64_t ts_usec, const char *text);
/* The first record this reader got since it was opened; false if none. */
bool kmsg_first_seq(const struct kmsg *k, uint64_t *seq);

/* One /dev/kmsg record, split; text is not NUL-terminated at len (the
 * continuation lines follow it). */
struct kmsg_record {
	uint64_t seq, usec;
	const char *text;
	size_t len;
};
bool kmsg_record_parse(const char *record, struct kmsg_record *out);
/* Every record the kernel's ring buffer still holds, oldest first,
 * without blocking. -errno when /dev/kmsg cannot be read (no CAP_SYSLOG). */
int kmsg_read_all(void (*cb)(const char *record, void *ctx), void *ctx);

/* Find the report of the kill of thread pid; false if not (yet) seen. */
bool kmsg_match(struct kmsg *k, pid_t pid, struct kernel_report *r);
/* The report of the kill whose "Killed process" line was the last one
 * fed, false if that line is something else: feed a log line by line and
 * ask after each (the reader keeps KMSG_KEEP_LINES, not a whole log). */
bool kmsg_newest_kill(struct kmsg *k, struct kernel_report *r);
void kernel_report_free(struct kernel_report *r);

/* The newest OOM kill the kernel log still holds for a memory cgroup. */
struct kmsg_kill {
	bool found;
	char comm[64];         /* raw: escape before printing */
	int pid;
	double ts;             /* seconds since boot */
	char *oom_memcg;       /* the cgroup at its limit (caller frees) */
};
/* Feed oom-kill: lines to find the newest one whose oom_memcg or
 * task_memcg is path or below it ("/" or NULL: any). */
void kmsg_kill_feed(struct kmsg_kill *kk, const char *record, const char *path);
/* Read the whole kernel log buffer (/dev/kmsg from its start). -errno
 * when it cannot be read (no CAP_SYSLOG). */
int kmsg_last_kill(const char *path, struct kmsg_kill *kk);

/* A kernel record as the systemd journal keeps it. */
struct journal_kernel_rec {
	const char *boot_id;   /* _BOOT_ID, "" if absent */
	uint64_t mono_usec;    /* _SOURCE_MONOTONIC_TIMESTAMP: the kmsg timestamp */
	uint64_t real_usec;    /* __REALTIME_TIMESTAMP: when journald stored it */
	const char *message;
};
/* Parse journalctl's export format (-o export): entries of "KEY=value"
 * lines or binary fields ("KEY", a little-endian 64-bit size, the bytes,
 * a newline), an empty line after each. cb gets every entry that has a
 * MESSAGE. Entries parsed, or -EINVAL at the first malformed field (the
 * entries before it were handed over). */
int journal_export_parse(const char *buf, size_t len,
			 void (*cb)(const struct journal_kernel_rec *rec, void *ctx), void *ctx);

/* "CONSTRAINT_MEMCG" -> "memcg", NONE -> "global", CPUSET -> "cpuset",
 * MEMORY_POLICY -> "mempolicy"; NULL when unknown. */
const char *kmsg_constraint_name(const char *kernel_constraint);

#endif
