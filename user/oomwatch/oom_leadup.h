/* The lead-up to an OOM kill: while oomwatch runs it samples every memory
 * cgroup that has a limit (usage, failures at the limit, reclaim), keeps
 * the last minutes of each in a ring, and notes the top memory users of
 * those above half their limit. It also keeps each cgroup's oom_kill
 * counter since start, so kills the tracer did not see show up. */
#ifndef MEMSCOPE_OOM_LEADUP_H
#define MEMSCOPE_OOM_LEADUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define LEADUP_DEFAULT_INTERVAL_S 1.0
#define LEADUP_DEFAULT_WINDOW_S   300.0
#define LEADUP_TOP_PROCS          5
/* Top users are looked up once usage passes this share of the limit. */
#define LEADUP_TOP_PCT            50.0
/* Deepest cgroup tree walked. */
#define LEADUP_MAX_DEPTH          32

struct leadup_sample {
	double t;            /* wall clock */
	uint64_t usage, limit;
	uint64_t failcnt;    /* v1 memory.failcnt, v2 memory.events "max" */
	uint64_t pgscan, pgsteal; /* v2 reclaim counters (0 on v1) */
	uint64_t refaults;   /* workingset_refault_anon + _file */
	uint64_t oom_kill;   /* the cgroup's local oom_kill counter */
};

struct leadup_proc {
	pid_t pid;
	char comm[64];       /* raw: escape before printing */
	uint64_t rss;
};

struct leadup_cg {
	uint64_t id;         /* inode of the directory, as the kernel's kn id */
	char *rel;           /* path relative to the hierarchy's mount */
	char *dir;           /* absolute directory */
	bool present;        /* seen by the last scan */
	bool limited;        /* has a limit of its own */
	/* oom_kill (local) when first seen: 0 for cgroups born after start. */
	uint64_t oom_kill_base, oom_kill_last;
	uint64_t seen_kills; /* counted by the tracer (oomwatch fills it) */
	uint64_t counted_twice; /* group kills whose victim the kernel counts twice */
	uint64_t ev_oom_kill; /* oom_kill as the last victim's event read it */
	struct leadup_sample *ring;
	size_t ring_cap, ring_head, ring_n;
	struct leadup_proc top[LEADUP_TOP_PROCS];
	int ntop;
	double top_t;        /* when top[] was taken */
};

struct leadup_opts {
	const char *mount;   /* the memory hierarchy's mount directory */
	int version;         /* 1 or 2 */
	const char *subtree; /* absolute directory to limit the walk, NULL: all */
	double interval_s, window_s;
};

struct leadup;

struct leadup *leadup__new(const struct leadup_opts *o);
void leadup__free(struct leadup *l);
/* Walk the hierarchy once: new cgroups, samples, counters. */
void leadup__scan(struct leadup *l);
/* The cgroup with this id (including ones that are gone), or NULL. */
struct leadup_cg *leadup__find(struct leadup *l, uint64_t id);
/* Like find, but reads an unknown cgroup's directory now (a cgroup made
 * and killed between two scans). */
struct leadup_cg *leadup__lookup(struct leadup *l, uint64_t id, const char *rel);
/* Re-read one cgroup's oom_kill counter now (if it still exists). */
void leadup__refresh_counter(struct leadup *l, struct leadup_cg *cg);
/* Iterate: i from 0 while it returns non-NULL. */
struct leadup_cg *leadup__at(struct leadup *l, size_t i);
/* The i-th sample counting back from the newest (0 = newest). */
const struct leadup_sample *leadup_cg_sample(const struct leadup_cg *cg, size_t back);
/* The oom_kill counter of a memory cgroup directory, local to it. */
int memcg_oom_kill_local(const char *dir, int version, uint64_t *val);

#endif
