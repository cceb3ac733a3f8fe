// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The words about what each process leaked: ages, states, how it ended,
 * and the final report's verdict, read from the collector's sl_leaks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "sockleak_view.h"

const struct sl_leaks *slv_leaks(const struct sl_view *c, const struct sl_proc *p)
{
	return sl_leaks_of(c->s, p);
}

double slv_age_s(const struct sl_view *c, uint64_t ts)
{
	return ts ? (c->t->now_ns - ts) / 1e9 : -1;
}

const char *slv_ev_state(const struct ev *v)
{
	return v->state ? tcp_state_name(v->state) : fd_kind_name(v->e->v.kind);
}

/* ", and 12 more in CLOSE_WAIT": sockets held in CLOSE_WAIT that the
 * process closed itself, long after the peer (a shutdown's cleanup). */
const char *slv_late_text(const struct sl_proc *p)
{
	static char buf[64];

	if (!p->late)
		return "";
	snprintf(buf, sizeof(buf), ", and %llu more in CLOSE_WAIT that", (unsigned long long)p->late);
	return buf;
}

double slv_exit_at_s(const struct sl_view *c, const struct sl_proc *p)
{
	return p->now.exit_ns > c->t->start_ns ? (p->now.exit_ns - c->t->start_ns) / 1e9 : 0;
}

/* " by OOM kill", " by signal 9 (SIGKILL)", " by exit 3"; "" when the
 * exit was not seen (the process ended before the trace). */
const char *slv_ended_by(const struct sl_proc *p, char buf[ENDING_TEXT_LEN + 4])
{
	char t[ENDING_TEXT_LEN];

	buf[0] = 0;
	if (ending_decode(&p->now.ending).kind != ENDING_UNKNOWN)
		snprintf(buf, ENDING_TEXT_LEN + 4, " by %s", ending_text(t, &p->now.ending));
	return buf;
}

const char *slv_what(const struct sl_view *c)
{
	return c->o->all_fds ? "fds" : "sockets";
}

char *slv_verdict(const struct sl_view *c, const struct sl_proc **rows, size_t n, size_t shown)
{
	const struct sl_leaks *l;
	char *s = NULL, *comm, *where = NULL, by[ENDING_TEXT_LEN + 4];
	uint64_t created = 0, closed = 0, pre = 0, closed_pre = 0;
	const struct sl_proc *p;
	size_t i;
	int r;

	for (i = 0; i < shown; i++)
		if (slv_leaks(c, rows[i])->leaking)
			goto leak;
	for (i = 0; i < n; i++) {
		created += sl_created(c->t, rows[i]);
		closed += sl_closed(c->t, rows[i]);
		pre += rows[i]->baseline;
		closed_pre += sl_closed_pre(rows[i]);
	}
	r = asprintf(&s, "no %s leak: %zu processes created %llu %s and closed %llu of them in %.1f s "
		     "(and closed %llu of the %llu open before); "
		     "none keeps %s older than %g s or in CLOSE_WAIT",
		     slv_what(c), n, (unsigned long long)created, slv_what(c), (unsigned long long)closed,
		     c->elapsed, (unsigned long long)closed_pre, (unsigned long long)pre, slv_what(c),
		     c->o->older_than_s);
	return r < 0 ? NULL : s;
leak:
	p = rows[i];
	l = slv_leaks(c, p);
	comm = term_escape(p->comm);
	if (l->ngroups && sl_group_culprit(&l->groups[0]))
		where = term_escape(sl_group_culprit(&l->groups[0]));
	if (p->exited)
		r = asprintf(&s, "pid %u (%s) leaked %s until it exited at %.1f s%s: %llu held at the "
			     "exit (peak %llu), %llu in CLOSE_WAIT, closed by exit%s%s%s%s",
			     p->tgid, comm, slv_what(c), slv_exit_at_s(c, p), slv_ended_by(p, by),
			     (unsigned long long)p->held_at_exit, (unsigned long long)p->peak,
			     (unsigned long long)p->cw_at_exit, slv_late_text(p),
			     p->late ? " it closed late (at its shutdown or before)" : "",
			     where ? "; leaked from " : "", where ? where : "");
	else
		r = asprintf(&s, "pid %u (%s) leaks %s: %+.1f/s, %llu alive, %llu in CLOSE_WAIT%s%s",
			     p->tgid, comm, slv_what(c), slv_run_growth(c, p),
			     (unsigned long long)p->alive, (unsigned long long)p->close_wait,
			     where ? "; leaked from " : "", where ? where : "");
	free(comm);
	free(where);
	return r < 0 ? NULL : s;
}

/* A worker that exited with leaked sockets is usually replaced by a new
 * one (pools recycle them: php-fpm pm.max_requests, gunicorn
 * max_requests); only -c follows the replacements. NULL: nothing to say. */
char *slv_exit_note(const struct sl_view *c, const struct sl_proc **rows, size_t n)
{
	const struct sl_proc *first = NULL;
	size_t k = 0;
	char *s = NULL, *cg;
	int r;

	for (size_t i = 0; i < n; i++)
		if (slv_leaks(c, rows[i])->leaking && rows[i]->exited && !k++)
			first = rows[i];
	if (!k)
		return NULL;
	if (c->t->o.cg_rel) {
		r = asprintf(&s, "%zu process%s of the cgroup exited holding leaked %s (closed by exit, "
			     "kept above); -c follows the workers that replace them", k, k > 1 ? "es" : "",
			     slv_what(c));
		return r < 0 ? NULL : s;
	}
	cg = term_escape(first->cgroup && *first->cgroup ? first->cgroup : "CGROUP");
	r = asprintf(&s, "pid %u exited holding leaked %s (closed by exit, kept above). Pools recycle "
		     "workers (php-fpm pm.max_requests, gunicorn max_requests): to follow the workers "
		     "that replace it, trace the pool's cgroup: sockleak -c %s",
		     first->tgid, slv_what(c), cg);
	free(cg);
	return r < 0 ? NULL : s;
}
