/* Growth per incarnation: a cgroup's working set followed across the
 * restarts of its service. In a crash loop (leak, OOM kill, the supervisor
 * starts the service again, it leaks again) a slope over a fixed window
 * mixes two processes: the fall at the kill cancels the new leak. Here a
 * restart ends the series: the cgroup's oom_kill counter rose, or the
 * working set fell sharply and a process started since (the service
 * exited or was killed otherwise, and its supervisor, inside the cgroup
 * like php-fpm's master or outside like systemd, started another). Growth
 * and the time to the limit come from the samples since, and only once
 * there are INCARN_MIN_SAMPLES over INCARN_MIN_SPAN_S ("not enough samples
 * since the restart" until then); the ended incarnation's growth is kept
 * as the previous one's.
 *
 * Pure logic on the caller's samples, but for incarn_procs_started, which
 * reads the cgroup's processes when incarn_wants_procs asks:
 *
 *	struct incarn in;
 *	incarn_init(&in, window_s);
 *	each sample: s.procs_replaced = incarn_wants_procs(&in, s.ws) &&
 *	                                incarn_procs_started(dir, incarn_pre_drop_t(&in));
 *	             incarn_push(&in, &s);
 *	             g = incarn_growth(&in); eta = incarn_eta(&g, ws, limit);
 */
#ifndef MEMSCOPE_INCARNATION_H
#define MEMSCOPE_INCARNATION_H

#include <stdbool.h>
#include <stdint.h>

#define INCARN_HIST        64    /* samples of the current incarnation kept for the slope */
#define INCARN_MIN_SAMPLES 3     /* before a growth is said ... */
#define INCARN_MIN_SPAN_S  2.0   /* ... over at least this many seconds */
#define INCARN_DROP        0.5   /* working set under this share of the sample before: a sharp drop */
#define INCARN_SETTLE_S    5.0   /* after a kill, falling samples this soon are the kill's, not growth */

enum incarn_cause {
	INCARN_FIRST,     /* the first sample: nothing known before */
	INCARN_OOM_KILL,  /* the cgroup's oom_kill counter rose */
	INCARN_REPLACED,  /* the working set fell sharply and a process started since */
};
/* "first", "oom_kill", "processes_replaced" */
const char *incarn_cause_name(enum incarn_cause c);

struct incarn_sample {
	double t;                /* seconds, CLOCK_MONOTONIC */
	double ws;               /* working set, bytes */
	bool have_oom;
	uint64_t oom_kill;       /* v2 memory.events oom_kill, v1 memory.oom_control oom_kill */
	bool procs_replaced;     /* incarn_procs_started() when incarn_wants_procs() asked */
};

/* The growth of one incarnation, from its samples in the window. */
struct incarn_growth {
	bool known;              /* enough samples and span: per_s is said */
	double per_s;            /* bytes per second */
	double span_s;           /* of the samples used */
	unsigned samples;
	double first, last;      /* working set at both ends */
};

struct incarn {
	double window_s;         /* samples this old at most; 0: all kept */
	unsigned restarts;       /* seen since the first sample */
	/* The current incarnation. */
	enum incarn_cause cause;
	double start_t;          /* its first sample's time */
	uint64_t oom_at_start;   /* the oom_kill count that started it */
	bool settling;           /* after a restart, while the working set still falls */
	double t[INCARN_HIST], v[INCARN_HIST];
	unsigned n, head;
	double peak;             /* its highest working set */
	bool have_last;
	struct incarn_sample last;
	bool drop_pending;       /* fell sharply; waiting for new processes */
	double pre_drop_t, pre_drop_ws;
	/* The one before, as it ended. */
	bool have_prev;
	enum incarn_cause prev_cause;
	struct incarn_growth prev;
	double prev_start_t, prev_end_t, prev_peak;
};

void incarn_init(struct incarn *in, double window_s);
/* Whether the caller must say if a process started: the working set ws
 * fell sharply now, or at an earlier sample not yet explained. */
bool incarn_wants_procs(const struct incarn *in, double ws);
/* The time a process must have started after to count as a replacement:
 * the last sample before the drop. */
double incarn_pre_drop_t(const struct incarn *in);
/* Add a sample; true when it starts a new incarnation. */
bool incarn_push(struct incarn *in, const struct incarn_sample *s);
/* The current incarnation's growth (known false until the minimum span). */
struct incarn_growth incarn_growth(const struct incarn *in);
/* Seconds until ws reaches limit at growth g: INFINITY when it does not
 * grow, 0 when already there; NAN when g is not known. */
double incarn_eta(const struct incarn_growth *g, double ws, double limit);
/* Least-squares slope (units per second) of n points; 0 when n < 2 or
 * the times do not spread. */
double incarn_slope(const double *t, const double *v, unsigned n);

/* A process of the memory cgroup directory started after since
 * (CLOCK_MONOTONIC seconds). */
bool incarn_procs_started(const char *cg_dir, double since);

#endif
