/* memleak-trace: the traced processes, each with its own accounting,
 * symbolizer and name. One for -p and -- CMD; with -c, one per process
 * of the cgroup that maps or unmaps, created at its first record. */
#ifndef MEMSCOPE_MEMLEAK_PROCS_H
#define MEMSCOPE_MEMLEAK_PROCS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common.h"
#include "callsites.h"
#include "memleak_track.h"
#include "modtab.h"
#include "symbolize.h"

struct unwinder;

struct mproc {
	struct tracker t;
	/* With DWARF stacks, sym belongs to unw (they share the modules). */
	struct unwinder *unw;
	struct symbolizer *sym;
	struct callsites *cs;    /* its call sites' stacks (DWARF-unwound) */
	/* Its code mappings, from MM_EV_MODULE records and a first read of
	 * its maps: sym reports them once the process is gone. */
	struct modtab mods;
	char *comm;             /* raw, as last read from /proc */
	/* How it ended (MM_EV_EXIT); flags 0 while it runs, or when the
	 * record was lost. */
	struct proc_ending ending;
	uint64_t exit_ns;       /* mono_ns when its exit was noticed, 0 while it runs */
};

/* -c: exited processes kept with what they held at the exit, at most
 * this many (those holding least give way). */
#define MAX_KEPT_EXITED 32

struct procset {
	struct mproc **v;
	size_t n, cap;
	size_t gone;            /* processes that exited (-c) */
	/* -c: the exited processes that held memory at their exit, with
	 * their evidence (not searched by procset_find: their pids may come
	 * back), most held first. */
	struct mproc **ended;
	size_t nended, ended_cap;
	size_t ended_dropped;   /* exited holding memory, not kept (more than the cap) */
	size_t oom_kills;       /* exited by an OOM kill (kept or not) */
	size_t last;            /* index of the last one found */
	bool dwarf;             /* give each process a DWARF unwinder */
	struct callsites_opts cs_opts; /* each process's call-site store */
	bool pages;             /* --faults: trackers count pages first touched */
	struct interp *interp;  /* flags interpreters for the BPF walk; not owned */
	/* --jvm-perfmap: a JVM is asked for its perf map at the start and at
	 * each report (the user's consent to run jcmd as its user). */
	bool jvm_perfmap;
};

/* The process's entry, NULL if there is none. */
struct mproc *procset_find(struct procset *ps, pid_t pid);
/* An exited process kept (ps->ended) whose exit record had not come yet
 * when it was retired (it died between a drain and a report), or NULL. */
struct mproc *procset_find_unended(struct procset *ps, pid_t pid);
/* That record, come late: how it ended, and the OOM kills count. */
void procset_late_exit(struct procset *ps, struct mproc *p, const struct mm_exit_event *e);
/* A new entry. read_proc: the process runs its program already (attach,
 * or a process of the cgroup): read its heap break, mappings and name now.
 * Otherwise (a launched command before its exec) that waits for the exec. */
struct mproc *procset_add(struct procset *ps, pid_t pid, bool read_proc);
/* A ring-buffer record of the process, by type (memleak.h): a change to
 * its address space goes to its tracker; a new call site's stack
 * (MM_EV_STACK) is unwound now, while the mappings it went through are
 * those the unwinder knows. Short records are ignored. */
void mproc_record(struct procset *ps, struct mproc *p, const void *rec, size_t size);
/* Cheap per-poll work for each process: symbols for new code, name,
 * growth checkpoints. */
void procset_poll(struct procset *ps, uint64_t now_ns);
/* Take the processes that have exited out of the live set: those that
 * held memory at the exit (by mproc_outstanding with all_kinds) go to
 * ps->ended with their evidence, the others are forgotten. */
void procset_retire_exited(struct procset *ps, bool all_kinds);
void procset_free(struct procset *ps);
/* Outstanding bytes of the kinds the report ranks, for ordering processes. */
uint64_t mproc_outstanding(const struct mproc *p, bool all_kinds);
/* qsort_r order of struct mproc pointers, most outstanding first
 * (arg: a bool, all_kinds). */
int mproc_by_held(const void *x, const void *y, void *all_kinds);

#endif
