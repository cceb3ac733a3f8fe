// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* sockleak's --json reports: each row, the --by-cgroup rows and the
 * summary, from the same context as the text table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "sockleak_view.h"
#include "symbolize.h"

static void json_container(struct jw *w, const struct sl_proc *p)
{
	if (!p->ctr.id[0] && !p->ctr.pod_uid[0]) {
		jw_null(w, "container");
		return;
	}
	jw_obj_begin(w, "container");
	jw_str(w, "runtime", p->ctr.runtime[0] ? p->ctr.runtime : NULL);
	jw_str(w, "id", p->ctr.id[0] ? p->ctr.id : NULL);
	jw_str(w, "pod_uid", p->ctr.pod_uid[0] ? p->ctr.pod_uid : NULL);
	jw_obj_end(w);
}

void slv_json_cgroups(const struct sl_view *c, const struct sl_proc **rows, size_t n)
{
	struct cg_row *g;
	size_t ng = slv_cgroup_rollup(c, rows, n, &g);

	for (size_t i = 0; i < ng; i++) {
		struct jw w;

		jw_init(&w, stdout);
		jw_obj_begin(&w, NULL);
		jw_str(&w, "type", "cgroup");
		jw_str(&w, "report", c->final ? "final" : "interval");
		jw_str(&w, "cgroup", g[i].first->cgroup);
		json_container(&w, g[i].first);
		jw_u64(&w, "processes", g[i].procs);
		jw_u64(&w, "baseline", g[i].pre);
		jw_u64(&w, "closed_baseline", g[i].closed_pre);
		jw_u64(&w, "created", g[i].created);
		jw_u64(&w, "closed", g[i].closed);
		jw_i64(&w, "diff", (int64_t)(g[i].created - g[i].closed));
		jw_u64(&w, "alive", g[i].alive);
		jw_u64(&w, "alive_old", g[i].old);
		jw_double(&w, "growth_per_s", g[i].growth);
		jw_u64(&w, "close_wait", g[i].close_wait);
		if (c->o->kernel_sockets) {
			jw_u64(&w, "kernel_allocated", g[i].k_alive);
			jw_u64(&w, "kernel_without_fd", g[i].k_no_fd);
		}
		jw_obj_end(&w);
	}
	free(g);
}

/* ---- json ---- */

static void json_frames(struct jw *w, const struct sl_site *st)
{
	jw_arr_begin(w, "frames");
	for (int k = 0; st && k < st->nframes; k++)
		jw_str(w, NULL, st->frames[k]);
	jw_arr_end(w);
	/* Parallel to frames (strings): what each one is. */
	jw_arr_begin(w, "frame_kinds");
	for (int k = 0; st && k < st->nframes; k++)
		jw_str(w, NULL, frame_kind_name(st->kinds ? st->kinds[k] : FRAME_NATIVE));
	jw_arr_end(w);
}

static void json_opt_s(struct jw *w, const char *key, double v)
{
	if (v >= 0)
		jw_double(w, key, v);
	else
		jw_null(w, key);
}

/* "leaked": the evidence (first LEAKED_JSON) and "leaked_total". */
static void json_evidence(const struct sl_view *c, struct jw *w, const struct sl_proc *p)
{
	const struct sl_leaks *l = slv_leaks(c, p);
	const struct ev *v = l->ev;
	size_t n = l->nev;

	jw_arr_begin(w, "leaked");
	for (size_t i = 0; i < n && i < LEAKED_JSON; i++) {
		jw_obj_begin(w, NULL);
		jw_u64(w, "fd", v[i].e->k.fd);
		jw_str(w, "kind", fd_kind_name(v[i].e->v.kind));
		json_opt_s(w, "age_s", v[i].age_s);
		jw_str(w, "state", v[i].state ? tcp_state_name(v[i].state) : NULL);
		jw_str(w, "local", v[i].local);
		jw_str(w, "remote", v[i].remote);
		json_opt_s(w, "close_wait_s", v[i].close_wait ? v[i].cw_s : -1);
		jw_bool(w, "closed_by_exit", v[i].by_exit);
		jw_bool(w, "closed_late", v[i].late);
		json_frames(w, sl_site_of(c->o->sites, v[i].e));
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_u64(w, "leaked_total", n);
}

/* null while the process lives. */
static void json_closed_by_exit(const struct sl_view *c, struct jw *w, const struct sl_proc *p)
{
	if (!p->exited) {
		jw_null(w, "closed_by_exit");
		return;
	}
	jw_obj_begin(w, "closed_by_exit");
	jw_double(w, "at_s", slv_exit_at_s(c, p));
	jw_u64(w, "held", p->held_at_exit);
	jw_u64(w, "close_wait", p->cw_at_exit);
	jw_u64(w, "closed_late", p->late);
	jw_u64(w, "evidence", slv_leaks(c, p)->leaking ? p->nheld : 0);
	ending_json(w, "ending", &p->now.ending);
	jw_obj_end(w);
}

/* Who the process is: pid, name, cgroups, container. */
static void json_row_identity(struct jw *w, const struct sl_proc *p)
{
	jw_u64(w, "pid", p->tgid);
	jw_str(w, "comm", p->comm);
	jw_str(w, "cgroup", p->cgroup);
	jw_str(w, "cgroup_v2", p->cg_v2);
	jw_str(w, "cgroup_v1_memory", p->cg_v1);
	json_container(w, p);
}

/* Its fds of the kinds in scope: made and closed (over the run, or the
 * interval), alive, and how each was accounted. */
static void json_row_counts(const struct sl_view *c, struct jw *w, const struct sl_proc *p)
{
	uint64_t cr = sl_created(c->t, p), cl = sl_closed(c->t, p);

	if (!c->final) {
		cr -= sl_created_prev(c->t, p);
		cl -= sl_closed_prev(c->t, p);
	}
	jw_str(w, "kind", slv_what(c));
	jw_u64(w, "created", cr);
	jw_u64(w, "closed", cl);
	jw_i64(w, "diff", (int64_t)(cr - cl));
	jw_u64(w, "alive", p->alive);
	jw_u64(w, "alive_old", p->alive_old);
	jw_double(w, "growth_per_s", c->final ? slv_run_growth(c, p) : p->growth);
	jw_u64(w, "close_wait", p->close_wait);
	jw_u64(w, "peak", p->peak);
	jw_u64(w, "baseline", p->baseline);
	jw_u64(w, "closed_baseline", c->final ? sl_closed_pre(p) : sl_closed_pre(p) - sl_closed_pre_prev(p));
	jw_u64(w, "inherited", p->now.inherited);
	jw_u64(w, "closed_at_exit", p->closed_exit);
	jw_u64(w, "closed_on_exec", p->closed_exec);
	jw_u64(w, "reconciled_gone", p->gone);
	jw_u64(w, "reconciled_found", p->found);
	jw_bool(w, "exited", p->exited);
}

/* --kernel-sockets: the kernel's view of the sockets it created. */
static void json_row_kernel(struct jw *w, const struct sl_proc *p)
{
	jw_obj_begin(w, "kernel_sockets");
	jw_u64(w, "created", p->now.sk_born);
	jw_u64(w, "released", p->now.sk_released);
	jw_u64(w, "released_by_other", p->now.sk_released_other);
	jw_u64(w, "freed", p->now.sk_freed);
	jw_u64(w, "allocated", sl_kernel_alive(p));
	jw_u64(w, "without_fd", sl_kernel_no_fd(p));
	jw_obj_end(w);
}

/* --all-fds: open fds against the limit, by kind. */
static void json_row_fds(struct jw *w, const struct sl_proc *p)
{
	jw_u64(w, "fds", p->nfds);
	jw_u64(w, "nofile_limit", p->nofile);
	jw_obj_begin(w, "by_kind");
	for (int k = 0; k < FDK_MAX; k++)
		if (p->by_kind[k])
			jw_u64(w, fd_kind_name(k), p->by_kind[k]);
	jw_obj_end(w);
}

/* The final report's creating call stacks, one per group. */
static void json_row_stacks(struct jw *w, const struct stack_group *g, size_t ng)
{
	jw_arr_begin(w, "stacks");
	for (size_t j = 0; j < ng; j++) {
		jw_obj_begin(w, NULL);
		jw_u64(w, "count", g[j].count);
		jw_str(w, "culprit", sl_group_culprit(&g[j]));
		json_frames(w, g[j].site);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

void slv_json_row(const struct sl_view *c, const struct sl_proc *p)
{
	struct jw w;

	jw_init(&w, stdout);
	jw_obj_begin(&w, NULL);
	jw_str(&w, "type", "process");
	jw_str(&w, "report", c->final ? "final" : "interval");
	json_row_identity(&w, p);
	json_row_counts(c, &w, p);
	json_closed_by_exit(c, &w, p);
	if (c->o->kernel_sockets)
		json_row_kernel(&w, p);
	if (c->o->all_fds)
		json_row_fds(&w, p);
	if (c->final) {
		json_evidence(c, &w, p);
		json_row_stacks(&w, slv_leaks(c, p)->groups, slv_leaks(c, p)->ngroups);
	}
	jw_obj_end(&w);
}

void slv_json_summary(struct sl_view *c, const char *verd, const char *note, size_t nrows,
			 const struct sl_proc **rows)
{
	struct jw w;
	struct ksum k;

	jw_init(&w, stdout);
	jw_obj_begin(&w, NULL);
	jw_str(&w, "type", "summary");
	jw_str(&w, "report", c->final ? "final" : "interval");
	jw_double(&w, "elapsed_s", c->elapsed);
	jw_str(&w, "verdict", verd); /* null in interval summaries */
	jw_str(&w, "note", note);    /* exited workers and -c; null otherwise */
	jw_u64(&w, "processes", nrows);
	jw_u64(&w, "tracked", c->t->nents);
	jw_obj_begin(&w, "host_tcp");
	jw_u64(&w, "close_wait", c->s->tcp.states[TCP_ST_CLOSE_WAIT]);
	jw_u64(&w, "time_wait", c->s->tcp.states[TCP_ST_TIME_WAIT]);
	jw_u64(&w, "established", c->s->tcp.states[TCP_ST_ESTABLISHED]);
	jw_u64(&w, "sockstat_inuse", c->s->ss.tcp_inuse);
	jw_u64(&w, "sockstat_orphan", c->s->ss.tcp_orphan);
	jw_u64(&w, "sockstat_tw", c->s->ss.tcp_tw);
	jw_u64(&w, "sockstat_alloc", c->s->ss.tcp_alloc);
	jw_u64(&w, "sockstat_mem_pages", c->s->ss.tcp_mem_pages);
	jw_obj_end(&w);
	if (c->o->kernel_sockets) {
		slv_kernel_sum(rows, nrows, &k);
		jw_obj_begin(&w, "kernel_sockets");
		jw_u64(&w, "created", k.born);
		jw_u64(&w, "released", k.released);
		jw_u64(&w, "released_by_other", k.released_other);
		jw_u64(&w, "freed", k.freed);
		jw_u64(&w, "allocated", k.alive);
		jw_u64(&w, "without_fd", k.no_fd);
		jw_obj_end(&w);
	}
	jw_u64(&w, "reconciled", c->t->reconciled);
	jw_u64(&w, "user_map_full", c->t->map_full);
	jw_u64(&w, "frames_unverified", c->s->frames_unverified);
	jw_drops(&w, "drops", c->o->drops, DROP_KINDS);
	sl_sites__json(c->o->sites, &w, c->o->sites ? slv_merged_fds(c) : 0);
	jw_obj_end(&w);
}
