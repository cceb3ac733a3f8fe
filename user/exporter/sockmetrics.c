// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "array.h"
#include "cgmetrics.h"
#include "cgroup.h"
#include "sockleak_collect.h"
#include "sockmetrics.h"

/* One (cgroup, comm): counters live as long as the exporter. */
struct sock_row {
	char *cgroup;
	char comm[TASK_COMM_LEN + 1];
	struct cgm_container ctr;
	uint64_t created, closed;        /* since the exporter started */
	uint64_t open, close_wait, old, fds, procs;
	double nofile_ratio;             /* the highest of its processes */
};

struct sockm {
	struct sockm_opts o;
	struct sl_collector *col;
	const struct sl_snapshot *snap; /* the last refresh's */
	bool v1;
	struct sock_row *rows;
	size_t n, cap;
	uint64_t rows_dropped;           /* processes in no row: the cap */
	uint64_t drops[DROP_KINDS + 2];
};

static const char *const loss_names[DROP_KINDS + 2] = { "ringbuf_full", "map_full", "stack_failed", "missed",
							"table_full", "corrected_from_proc" };

static struct sock_row *row_for(struct sockm *m, const char *cg, const char *comm)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->rows[i].cgroup, cg) && !strcmp(m->rows[i].comm, comm))
			return &m->rows[i];
	if (m->n >= m->o.max_rows)
		return NULL;
	ARRAY_GROW(m->rows, m->n, m->cap, 64);
	struct sock_row *r = &m->rows[m->n++];
	memset(r, 0, sizeof(*r));
	if (!(r->cgroup = strdup(cg)))
		abort();
	snprintf(r->comm, sizeof(r->comm), "%s", comm);
	cgm_container_of(cg, &r->ctr);
	return r;
}

struct sockm *sockm_new(const struct sockm_opts *o)
{
	struct sockm *m = calloc(1, sizeof(*m));

	if (!m)
		abort();
	m->o = *o;
	m->v1 = !cgroup_layout()->memory_on_v2;
	/* The fd view of every process with its fd limits, without call
	 * stacks, sockstat or CLOSE_WAIT times: cheap enough to run always. */
	m->col = sl_collector_open(&(struct sl_collector_opts){ .needs = SL_NEED_FD_LIMITS,
								.older_than_s = o->older_than_s });
	if (!m->col) {
		free(m);
		return NULL;
	}
	return m;
}

static void row_add_proc(struct sock_row *r, const struct sl_proc_figures *p)
{
	r->created += p->created;
	r->closed += p->closed;
	if (p->exited)
		return;
	r->procs++;
	r->open += p->alive;
	r->old += p->old;
	r->close_wait += p->close_wait;
	if (p->fds >= 0) {
		r->fds += p->fds;
		if (p->nofile && p->nofile != UINT64_MAX && (double)p->fds / p->nofile > r->nofile_ratio)
			r->nofile_ratio = (double)p->fds / p->nofile;
	}
}

void sockm_refresh(struct sockm *m)
{
	const struct sl_snapshot *s = m->snap = sl_collector_refresh(m->col);

	for (size_t i = 0; i < m->n; i++) {
		struct sock_row *r = &m->rows[i];
		r->open = r->close_wait = r->old = r->fds = r->procs = 0;
		r->nofile_ratio = 0;
	}
	for (size_t i = 0; i < s->nprocs; i++) {
		const struct sl_proc_figures *p = &s->procs[i];
		const char *cg = m->v1 ? p->cg_v1 : p->cg_v2;
		struct sock_row *r = row_for(m, cg && cg[0] ? cg : "", p->comm);

		if (r)
			row_add_proc(r, p);
		else
			m->rows_dropped += !p->exited;
	}
}
static void row_labels(const struct sock_row *r, struct expo_label l[4])
{
	l[0] = (struct expo_label){ "cgroup", r->cgroup };
	l[1] = (struct expo_label){ "container_id", r->ctr.container_id };
	l[2] = (struct expo_label){ "pod_uid", r->ctr.pod_uid };
	l[3] = (struct expo_label){ "comm", r->comm };
}

enum sock_value { SV_OPEN, SV_CREATED, SV_CLOSED, SV_CW, SV_OLD, SV_FDS, SV_RATIO };

static double sock_value(const struct sock_row *r, enum sock_value v)
{
	switch (v) {
	case SV_OPEN: return r->open;
	case SV_CREATED: return r->created;
	case SV_CLOSED: return r->closed;
	case SV_CW: return r->close_wait;
	case SV_OLD: return r->old;
	case SV_FDS: return r->fds;
	case SV_RATIO: return r->nofile_ratio;
	}
	return 0;
}

void sockm_write(const struct sockm *c, struct expo *e)
{
	static const struct {
		enum sock_value v;
		const char *name;
		enum expo_type type;
		const char *help;
	} fams[] = {
		{ SV_OPEN, "memscope_sockets_open", EXPO_GAUGE,
		  "Socket fds open in the processes of this cgroup with this command name (sockleak's count)." },
		{ SV_CREATED, "memscope_sockets_created_total", EXPO_COUNTER,
		  "Sockets created (socket, accept, dup, inherited at fork) since the exporter started." },
		{ SV_CLOSED, "memscope_sockets_closed_total", EXPO_COUNTER,
		  "Socket fds closed (close, close_range, exec, exit) since the exporter started." },
		{ SV_CW, "memscope_sockets_close_wait", EXPO_GAUGE,
		  "Open sockets in CLOSE_WAIT (the peer closed, the program did not), as ss shows them in the "
		  "exporter's network namespace." },
		{ SV_OLD, "memscope_sockets_older_than_threshold", EXPO_GAUGE,
		  "Open sockets older than the exporter's socket-age threshold "
		  "(memscope_exporter_socket_age_threshold_seconds): leak suspects." },
		{ SV_FDS, "memscope_fds_open", EXPO_GAUGE, "File descriptors of every kind open in these processes." },
		{ SV_RATIO, "memscope_fds_nofile_ratio", EXPO_GAUGE,
		  "The highest open fds / soft RLIMIT_NOFILE among these processes (1 = the next open fails)." },
	};
	struct expo_label l[4];

	for (size_t f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
		expo_family(e, fams[f].name, fams[f].type, fams[f].help);
		for (size_t i = 0; i < c->n; i++) {
			const struct sock_row *r = &c->rows[i];
			/* A gauge of a row whose processes are gone: nothing to say. */
			if (fams[f].type == EXPO_GAUGE && !r->procs)
				continue;
			row_labels(r, l);
			expo_double(e, l, 4, sock_value(r, fams[f].v));
		}
	}
	expo_gauge1(e, "memscope_exporter_socket_age_threshold_seconds",
		    "Sockets open longer than this count in memscope_sockets_older_than_threshold.", c->o.older_than_s);
	expo_family(e, "memscope_exporter_socket_processes_unlabelled", EXPO_GAUGE,
		    "Processes with sockets counted in no series: their (cgroup, comm) would have passed max-series.");
	expo_u64(e, NULL, 0, c->rows_dropped);
}

void sockm_losses(const struct sockm *m, const char *const **names, const uint64_t **vals, size_t *n)
{
	struct sockm *w = (struct sockm *)m;

	memcpy(w->drops, sl_collector_drops(m->col), DROP_KINDS * sizeof(uint64_t));
	w->drops[DROP_KINDS] = m->snap ? m->snap->map_full : 0;
	w->drops[DROP_KINDS + 1] = m->snap ? m->snap->reconciled : 0;
	*names = loss_names;
	*vals = m->drops;
	*n = DROP_KINDS + 2;
}

void sockm_free(struct sockm *m)
{
	if (!m)
		return;
	sl_collector_close(m->col);
	for (size_t i = 0; i < m->n; i++)
		free(m->rows[i].cgroup);
	free(m->rows);
	free(m);
}
