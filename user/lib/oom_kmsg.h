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
	int order;             /* allocation order, -1 unknown */
	bool have_memcg_line;  /* "memory: usage XkB, limit YkB, failcnt N" */
	uint64_t memcg_usage_kb, memcg_limit_kb, memcg_failcnt;
	bool have_killed;      /* parsed sizes of the "Killed process" line */
	char *message;         /* "Memory cgroup out of memory", "Out of memory" */
	uint64_t total_vm_kb, anon_rss_kb, file_rss_kb, shmem_rss_kb, pgtables_kb;
	long uid, oom_score_adj;
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

/* Find the report of the kill of thread pid; false if not (yet) seen. */
bool kmsg_match(struct kmsg *k, pid_t pid, struct kernel_report *r);
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

/* "CONSTRAINT_MEMCG" -> "memcg", NONE -> "global", CPUSET -> "cpuset",
 * MEMORY_POLICY -> "mempolicy"; NULL when unknown. */
const char *kmsg_constraint_name(const char *kernel_constraint);

#endif
