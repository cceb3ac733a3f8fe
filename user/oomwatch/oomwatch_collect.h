/* oomwatch's collector: every OOM kill on the host (or in one cgroup
 * subtree), completed into a struct oom_kill (oom_kill.h) as far as the
 * caller's needs mask asks, and handed to a callback, with the counts that tell whether any kill was missed. It
 * prints nothing on stdout; set-up failures are one line on stderr
 * (die_msg), as the tools print them. The printers are oom_report.h's
 * oom_kill_print/oom_kill_json and oom_summary_print/oom_summary_json.
 * Needs CAP_BPF and CAP_PERFMON (bpf_preflight first). A front end:
 *
 *	struct oom_collector *c = oom_collector_open(&(struct oom_collector_opts){
 *		.needs = OOM_NEED_ALL, .leadup_interval_s = 1, .leadup_window_s = 300, .kmsg_wait_s = 1,
 *		.on_kill = my_kill, .ctx = me });
 *	every poll: oom_collector_poll(c, 100); every leadup_interval_s: oom_collector_refresh(c);
 *	at the end: oom_collector_finish(c); oom_collector_summary(c, &sum); oom_collector_close(c);
 */
#ifndef MEMSCOPE_OOMWATCH_COLLECT_H
#define MEMSCOPE_OOMWATCH_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "oom_kill.h"

struct oom_collector;
struct ring_buffer;

/* Plain data: what oomwatch's command line fills, or any other front end. */
struct oom_collector_opts {
	const char *cgroup;          /* only kills in this subtree (a path, unit or container id); NULL: all */
	unsigned needs;              /* OOM_NEED_*: what each kill is completed with (OOM_NEED_ALL: oomwatch's report) */
	double leadup_interval_s;    /* lead-up sampling period of limited cgroups (0: LEADUP_DEFAULT_INTERVAL_S) */
	double leadup_window_s;      /* lead-up history kept per cgroup (0: LEADUP_DEFAULT_WINDOW_S) */
	double kmsg_wait_s;          /* how long a kill waits for the kernel's report of it */
	const char *hook;            /* NULL (best available), "tp_btf" or "tracepoint" */
	const char *hold;            /* tests: wait for this file between the baselines and attaching */
	bool verbose;                /* which hook was chosen, on stderr */
	/* Each kill, in order, once complete; k is freed after the call. */
	void (*on_kill)(const struct oom_kill *k, void *ctx);
	void *ctx;
};

/* Resolve the cgroup, load and attach the BPF programs, take the oom_kill
 * baselines: kills count from here. NULL on failure (said on stderr). */
struct oom_collector *oom_collector_open(const struct oom_collector_opts *o);
/* The ring buffer, for a loop that polls it itself (loop_run); call
 * oom_collector_drain after each poll. */
struct ring_buffer *oom_collector_ringbuf(struct oom_collector *c);
/* Hand over the kills whose kernel report arrived or waited long enough
 * (every pending one with flush). */
void oom_collector_drain(struct oom_collector *c, bool flush);
/* Poll the ring buffer up to timeout_ms, then drain. 0 or -errno. */
int oom_collector_poll(struct oom_collector *c, int timeout_ms);
/* One lead-up sample of every limited cgroup (and notice new cgroups):
 * call every leadup_interval_s, so a kill's report shows the climb. */
void oom_collector_refresh(struct oom_collector *c);
/* At the end: read what is still in flight, wait out the kernel log's
 * slack (up to a second), hand over every pending kill. */
void oom_collector_finish(struct oom_collector *c);
/* The kernel log's sequence number from which kill lines are this
 * collector's (read at the baselines); false when no record has come
 * since, so every line read before now belongs to the past. Reads the
 * log now: call after reading the history. */
bool oom_collector_log_cutoff(struct oom_collector *c, uint64_t *seq);
/* The BPF side's loss counters (DROP_KINDS, by enum drop_kind). */
const uint64_t *oom_collector_drops(const struct oom_collector *c);
/* The watched cgroup's path (NULL: the host) and, if dir, its directory. */
const char *oom_collector_target(const struct oom_collector *c, const char **dir);

/* Fill sum (free with oom_summary_free; valid while c is open). */
void oom_collector_summary(struct oom_collector *c, struct oom_summary *sum);
/* Detach and free; pending kills are dropped (finish first). NULL is fine. */
void oom_collector_close(struct oom_collector *c);

#endif
