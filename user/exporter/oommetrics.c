// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "array.h"
#include "cgmetrics.h"
#include "oommetrics.h"
#include "oomwatch_collect.h"
#include "output.h"

/* One (cgroup, victim comm, constraint). */
struct oom_row {
	char *cgroup;
	char comm[TASK_COMM_LEN + 1];
	const char *constraint;
	struct cgm_container ctr;
	uint64_t kills;
	double last;              /* Unix seconds of the last kill */
};

struct oomm {
	struct oom_collector *col;
	struct oom_row *rows;
	size_t n, cap, max_rows;
	uint64_t rows_dropped;    /* kills whose row would pass the cap */
};

static const char *const drop_names[DROP_KINDS] = { "ringbuf_full", "map_full", "stack_failed", "missed" };

static struct oom_row *row_for(struct oomm *m, const char *cg, const char *comm, const char *constraint)
{
	for (size_t i = 0; i < m->n; i++) {
		struct oom_row *r = &m->rows[i];
		if (!strcmp(r->cgroup, cg) && !strcmp(r->comm, comm) && !strcmp(r->constraint, constraint))
			return r;
	}
	if (m->n >= m->max_rows)
		return NULL;
	ARRAY_GROW(m->rows, m->n, m->cap, 16);
	struct oom_row *r = &m->rows[m->n++];
	memset(r, 0, sizeof(*r));
	if (!(r->cgroup = strdup(cg)))
		abort();
	snprintf(r->comm, sizeof(r->comm), "%s", comm);
	r->constraint = constraint;
	cgm_container_of(cg, &r->ctr);
	return r;
}

/* The journal's line: who, where, why; oomwatch has the rest. */
static void journal_line(const struct oom_kill *k, const char *cg, const char *comm)
{
	char *ecomm = term_escape(comm), *ecg = term_escape(cg), u[HUMAN_LEN], l[HUMAN_LEN];

	fprintf(stderr, "memscope-exporter: OOM kill: %s(%u) in %s, constraint %s, usage %s of limit %s%s\n",
		ecomm, k->ev.victim_tgid, ecg, k->constraint, fmt_bytes(u, k->usage),
		k->limit ? fmt_bytes(l, k->limit) : "none",
		k->ev.flags & OOM_F_PF_EXITING ? " (victim already exiting)" : "");
	free(ecomm);
	free(ecg);
}

static void on_kill(const struct oom_kill *k, void *ctx)
{
	struct oomm *m = ctx;
	const char *cg = oom_kill_cgroup(k);
	char comm[TASK_COMM_LEN + 1];

	if (!cg[0])
		cg = "/";
	snprintf(comm, sizeof(comm), "%.*s", TASK_COMM_LEN, k->ev.victim_comm);
	struct oom_row *r = row_for(m, cg, comm, k->constraint);
	if (r) {
		r->kills++;
		r->last = k->time;
	} else {
		m->rows_dropped++;
	}
	journal_line(k, cg, comm);
}

/* The victim's command line, memory.stat at the kill and the lead-up are
 * oomwatch's job (its output directory): the needs mask is empty, so each
 * kill is its decoded event only, nothing runs between kills (no cmdline
 * hooks) and there is no kernel log to wait for. */
struct oomm *oomm_new(size_t max_series)
{
	struct oomm *m = calloc(1, sizeof(*m));

	if (!m)
		abort();
	m->max_rows = max_series;
	m->col = oom_collector_open(&(struct oom_collector_opts){ .needs = 0, .on_kill = on_kill, .ctx = m });
	if (!m->col) {
		free(m);
		return NULL;
	}
	return m;
}

struct ring_buffer *oomm_ringbuf(struct oomm *m)
{
	return oom_collector_ringbuf(m->col);
}

void oomm_drain(struct oomm *m)
{
	oom_collector_drain(m->col, false);
}

void oomm_losses(const struct oomm *m, const char *const **names, const uint64_t **vals, size_t *n)
{
	*names = drop_names;
	*vals = oom_collector_drops(m->col);
	*n = DROP_KINDS;
}
static void labels(const struct oom_row *r, struct expo_label l[5], bool victim)
{
	l[0] = (struct expo_label){ "cgroup", r->cgroup };
	l[1] = (struct expo_label){ "container_id", r->ctr.container_id };
	l[2] = (struct expo_label){ "pod_uid", r->ctr.pod_uid };
	l[3] = (struct expo_label){ "comm", victim ? r->comm : NULL };
	l[4] = (struct expo_label){ "constraint", victim ? r->constraint : NULL };
}

void oomm_write(const struct oomm *c, struct expo *e)
{
	struct expo_label l[5];

	expo_family(e, "memscope_oom_kills_total", EXPO_COUNTER,
		    "OOM victims seen at oom:mark_victim since the exporter started, by the cgroup that hit its "
		    "limit (the victim's for a global OOM), the victim's command name and the constraint (memcg, "
		    "global, inferred from the cgroup counters). One line per kill in the exporter's journal; "
		    "cmdline, memory.stat at the kill and the lead-up: oomwatch --output-dir (oomwatch.service).");
	for (size_t i = 0; i < c->n; i++) {
		labels(&c->rows[i], l, true);
		expo_u64(e, l, 5, c->rows[i].kills);
	}
	expo_family(e, "memscope_oom_last_kill_timestamp_seconds", EXPO_GAUGE,
		    "When the last victim of this cgroup, command name and constraint was killed, Unix seconds.");
	for (size_t i = 0; i < c->n; i++) {
		labels(&c->rows[i], l, true);
		expo_double(e, l, 5, c->rows[i].last);
	}
	expo_family(e, "memscope_exporter_oom_kills_unlabelled_total", EXPO_COUNTER,
		    "OOM victims counted in no memscope_oom_kills_total series: their (cgroup, comm, constraint) "
		    "would have passed max-series.");
	expo_u64(e, NULL, 0, c->rows_dropped);
}

void oomm_free(struct oomm *c)
{
	if (!c)
		return;
	oom_collector_close(c->col);
	for (size_t i = 0; i < c->n; i++)
		free(c->rows[i].cgroup);
	free(c->rows);
	free(c);
}
