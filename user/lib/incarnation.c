// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "incarnation.h"
#include "procfs.h"

const char *incarn_cause_name(enum incarn_cause c)
{
	switch (c) {
	case INCARN_FIRST: return "first";
	case INCARN_OOM_KILL: return "oom_kill";
	case INCARN_REPLACED: return "processes_replaced";
	}
	return "?";
}

void incarn_init(struct incarn *in, double window_s)
{
	memset(in, 0, sizeof(*in));
	in->window_s = window_s;
}

double incarn_slope(const double *t, const double *v, unsigned n)
{
	double st = 0, sv = 0, stt = 0, stv = 0;

	if (n < 2)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		st += t[i];
		sv += v[i];
	}
	double mt = st / n, mv = sv / n;
	for (unsigned i = 0; i < n; i++) {
		stt += (t[i] - mt) * (t[i] - mt);
		stv += (t[i] - mt) * (v[i] - mv);
	}
	return stt > 0 ? stv / stt : 0;
}

static bool sharp_drop(double before, double now)
{
	return before > 0 && now < before * INCARN_DROP;
}

bool incarn_wants_procs(const struct incarn *in, double ws)
{
	return in->have_last && !in->settling && (in->drop_pending || sharp_drop(in->last.ws, ws));
}

double incarn_pre_drop_t(const struct incarn *in)
{
	return in->drop_pending ? in->pre_drop_t : in->last.t;
}

static void series_reset(struct incarn *in)
{
	in->n = in->head = 0;
	in->peak = 0;
}

static void series_add(struct incarn *in, double t, double ws)
{
	in->t[in->head] = t;
	in->v[in->head] = ws;
	in->head = (in->head + 1) % INCARN_HIST;
	if (in->n < INCARN_HIST)
		in->n++;
	if (ws > in->peak)
		in->peak = ws;
}

struct incarn_growth incarn_growth(const struct incarn *in)
{
	struct incarn_growth g = { 0 };
	double t[INCARN_HIST], v[INCARN_HIST];
	unsigned n = 0;

	if (!in->n)
		return g;
	double now = in->t[(in->head + INCARN_HIST - 1) % INCARN_HIST];
	/* Newest first, so the window cuts the oldest. */
	for (unsigned i = 0; i < in->n; i++) {
		unsigned k = (in->head + INCARN_HIST - 1 - i) % INCARN_HIST;
		if (in->window_s > 0 && now - in->t[k] > in->window_s)
			break;
		t[n] = in->t[k];
		v[n] = in->v[k];
		n++;
	}
	g.samples = n;
	g.last = v[0];
	g.first = v[n - 1];
	g.span_s = t[0] - t[n - 1];
	g.per_s = incarn_slope(t, v, n);
	g.known = n >= INCARN_MIN_SAMPLES && g.span_s >= INCARN_MIN_SPAN_S;
	return g;
}

double incarn_eta(const struct incarn_growth *g, double ws, double limit)
{
	if (!g->known)
		return NAN;
	if (ws >= limit)
		return 0;
	return g->per_s > 0 ? (limit - ws) / g->per_s : INFINITY;
}

static bool oom_rose(const struct incarn *in, const struct incarn_sample *s)
{
	return in->have_last && in->last.have_oom && s->have_oom && s->oom_kill > in->last.oom_kill;
}

static void start_new(struct incarn *in, const struct incarn_sample *s, enum incarn_cause cause)
{
	in->have_prev = true;
	in->prev_cause = in->cause;
	in->prev = incarn_growth(in);
	in->prev_start_t = in->start_t;
	in->prev_end_t = in->last.t;
	in->prev_peak = in->peak;
	in->restarts++;
	in->cause = cause;
	in->start_t = s->t;
	in->oom_at_start = s->have_oom ? s->oom_kill : 0;
	in->settling = true;
	in->drop_pending = false;
	series_reset(in);
}

/* The kill's memory is given back over a moment (the OOM reaper, the
 * exit; seconds in a slow guest): while the working set still falls after
 * a restart, the incarnation has not begun to grow and its series starts
 * at the lowest point. It has settled at the first rise, or after
 * INCARN_SETTLE_S once a sample after the restart's was seen (at a long
 * interval the next sample is the first low one). */
static void settle(struct incarn *in, const struct incarn_sample *s)
{
	if (!in->settling || !in->n)
		return;
	double prev = in->v[(in->head + INCARN_HIST - 1) % INCARN_HIST];
	if (s->ws > prev || (s->t - in->start_t > INCARN_SETTLE_S && in->last.t > in->start_t))
		in->settling = false;
	else if (s->ws < prev)
		series_reset(in);
}

bool incarn_push(struct incarn *in, const struct incarn_sample *s)
{
	bool restarted = false;

	if (!in->have_last) {
		in->cause = INCARN_FIRST;
		in->start_t = s->t;
	} else if (oom_rose(in, s)) {
		start_new(in, s, INCARN_OOM_KILL);
		restarted = true;
	} else if (in->settling) {
		/* A drop now is the kill's memory leaving, not one more restart. */
	} else if (s->procs_replaced && (in->drop_pending || sharp_drop(in->last.ws, s->ws))) {
		start_new(in, s, INCARN_REPLACED);
		restarted = true;
	} else if (!in->drop_pending && sharp_drop(in->last.ws, s->ws)) {
		/* The old processes may still be on their way out, or the
		 * cgroup empty until the supervisor starts the next one. */
		in->drop_pending = true;
		in->pre_drop_t = in->last.t;
		in->pre_drop_ws = in->last.ws;
	} else if (in->drop_pending && s->ws >= in->pre_drop_ws) {
		in->drop_pending = false;    /* it was a dip, not a restart */
	}
	settle(in, s);
	series_add(in, s->t, s->ws);
	in->last = *s;
	in->have_last = true;
	return restarted;
}

/* Seconds CLOCK_BOOTTIME runs ahead of CLOCK_MONOTONIC (time suspended):
 * process start times count from boot. */
static double boot_minus_mono(void)
{
	struct timespec b;

	clock_gettime(CLOCK_BOOTTIME, &b);
	return b.tv_sec + b.tv_nsec / 1e9 - mono_ns() / 1e9;
}

/* Start time of pid in seconds since boot; < 0 when gone. */
static double proc_start_s(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long long start;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!(f = fopen(path, "re")))
		return -1;
	size_t len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = 0;
	/* comm may hold spaces and parentheses: fields count from the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	p++;
	for (int field = 3; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p, " %llu", &start) != 1)
		return -1;
	return (double)start / (double)sysconf(_SC_CLK_TCK);
}

bool incarn_procs_started(const char *cg_dir, double since)
{
	pid_t *pids = NULL;
	int n = cgroup_pids(cg_dir, &pids);
	double since_boot = since + boot_minus_mono();
	bool started = false;

	for (int i = 0; i < n && !started; i++)
		started = proc_start_s(pids[i]) > since_boot;
	free(pids);
	return started;
}
