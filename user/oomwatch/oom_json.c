// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* One OOM kill and the run's summary in JSON: pure functions of the
 * completed struct oom_kill (oom_kill.h), fields as in
 * tests/e2e/json-fields.txt. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "oom_report.h"
#include "output.h"

/* ---- JSON ------------------------------------------------------------ */

static void json_victim(struct jw *w, const struct oom_kill *k)
{
	jw_obj_begin(w, "victim");
	jw_u64(w, "pid", k->ev.victim_pid);
	jw_u64(w, "tgid", k->ev.victim_tgid);
	jw_str_n(w, "comm", k->ev.victim_comm, strnlen(k->ev.victim_comm, sizeof(k->ev.victim_comm)));
	jw_str(w, "cmdline", k->cmdline);
	jw_str(w, "cmdline_source", k->cmdline_src);
	jw_bool(w, "cmdline_truncated", k->ev.flags & OOM_F_CMDLINE_CUT);
	jw_u64(w, "uid", k->ev.victim_uid);
	jw_i64(w, "oom_score_adj", k->ev.oom_score_adj);
	jw_u64(w, "total_vm_bytes", k->total_vm);
	jw_u64(w, "anon_rss_bytes", k->anon);
	jw_u64(w, "file_rss_bytes", k->file);
	jw_u64(w, "shmem_rss_bytes", k->shmem);
	jw_u64(w, "swap_bytes", k->swap);
	jw_u64(w, "pgtables_bytes", k->pgtables);
	jw_obj_begin(w, "parent");
	jw_i64(w, "pid", k->ppid);
	jw_str(w, "comm", k->parent_comm);
	jw_obj_end(w);
	jw_str(w, "cgroup_v2", k->victim_v2_path);
	jw_bool(w, "exiting", k->ev.flags & (OOM_F_PF_EXITING));
	jw_obj_end(w);
	jw_obj_begin(w, "trigger");
	jw_u64(w, "pid", k->ev.trigger_pid);
	jw_u64(w, "tgid", k->ev.trigger_tgid);
	jw_str_n(w, "comm", k->ev.trigger_comm, strnlen(k->ev.trigger_comm, sizeof(k->ev.trigger_comm)));
	jw_bool(w, "is_victim", k->ev.trigger_pid == k->ev.victim_pid);
	jw_obj_end(w);
}

static void json_at_kill(struct jw *w, const struct oom_kill *k)
{
	jw_bool(w, "stat_at_kill_flushed", k->have_at_kill && k->at_kill_flushed);
	jw_bool(w, "stat_at_kill_lru_exact", k->at_kill_lru_exact);
	jw_str(w, "stat_at_kill_missing", k->have_at_kill ? NULL : k->at_kill_missing);
	if (!k->have_at_kill) {
		jw_null(w, "stat_at_kill");
		return;
	}
	jw_obj_begin(w, "stat_at_kill");
	for (int f = 0; f < MS_NFIELDS; f++) {
		char key[64];

		if (!memstat_has(&k->at_kill, f))
			continue;
		/* The refault counters are events, every other one bytes. */
		snprintf(key, sizeof(key), "%s%s", memstat_field_name(f),
			 f == MS_refault_anon || f == MS_refault_file ? "" : "_bytes");
		jw_u64(w, key, memstat_get(&k->at_kill, f));
	}
	jw_obj_end(w);
}

static void json_stat(struct jw *w, const struct oom_kill *k)
{
	json_at_kill(w, k);
	if (!k->have_stat) {
		jw_null(w, "stat");
		return;
	}
	jw_double(w, "stat_read_after_s", k->stat_delay_s);
	jw_obj_begin(w, "stat");
	for (size_t i = 0; i < k->stat.nraw; i++)
		jw_u64(w, k->stat.raw[i].key, k->stat.raw[i].val);
	jw_obj_end(w);
	jw_obj_begin(w, "events");
	jw_u64(w, "oom", k->events.oom);
	jw_u64(w, "oom_kill", k->events.oom_kill);
	jw_u64(w, "max", k->events.max);
	jw_u64(w, "oom_kill_since_start", k->oom_kill_since_start);
	jw_u64(w, "seen_since_start", k->seen_in_cgroup);
	jw_obj_end(w);
}

static void json_memcg(struct jw *w, const struct oom_kill *k)
{
	const struct oom_memcg_level *l = k->limit_level >= 0 ? &k->ev.chain[k->limit_level] : NULL;

	jw_obj_begin(w, "memcg");
	jw_str(w, "path", k->limit_level >= 0 ? k->paths[k->limit_level] : k->stat_of);
	jw_str(w, "victim_path", k->ev.depth ? k->paths[0] : NULL);
	jw_str(w, "hierarchy", k->v1 ? "v1" : "v2");
	if (l) {
		jw_u64(w, "limit_bytes", (k->memsw_hit ? l->memsw_max_pages : l->max_pages) * k->page_size);
		jw_u64(w, "usage_bytes", (k->memsw_hit ? l->memsw_usage_pages : l->usage_pages) * k->page_size);
		jw_str(w, "limit_kind", k->memsw_hit ? "memory+swap" : "memory");
	} else {
		jw_null(w, "limit_bytes");
		jw_u64(w, "usage_bytes", k->ev.depth ? k->ev.chain[0].usage_pages * k->page_size : 0);
	}
	jw_bool(w, "oom_group", k->oom_group);
	if (k->have_container) {
		jw_obj_begin(w, "container");
		jw_str(w, "runtime", k->container.runtime);
		jw_str(w, "id", k->container.id);
		jw_str(w, "pod_uid", k->container.pod_uid);
		jw_obj_end(w);
	} else {
		jw_null(w, "container");
	}
	json_stat(w, k);
	jw_arr_begin(w, "chain");
	for (uint32_t i = 0; i < k->ev.depth; i++) {
		const struct oom_memcg_level *c = &k->ev.chain[i];

		jw_obj_begin(w, NULL);
		jw_str(w, "path", k->paths[i]);
		jw_u64(w, "id", c->id);
		jw_u64(w, "usage_bytes", c->usage_pages * k->page_size);
		if (c->max_pages < OOM_PAGES_UNLIMITED)
			jw_u64(w, "limit_bytes", c->max_pages * k->page_size);
		else
			jw_null(w, "limit_bytes");
		jw_u64(w, "failcnt", c->failcnt);
		jw_bool(w, "at_limit", (int)i == k->limit_level);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_obj_end(w);
}

static void json_host(struct jw *w, const struct oom_kill *k)
{
	jw_obj_begin(w, "host");
	if (k->have_mi) {
		jw_obj_begin(w, "meminfo");
		jw_u64(w, "mem_total_bytes", k->mi.mem_total);
		jw_u64(w, "mem_free_bytes", k->mi.mem_free);
		jw_u64(w, "mem_available_bytes", k->mi.mem_available);
		jw_u64(w, "cached_bytes", k->mi.cached);
		jw_u64(w, "anon_pages_bytes", k->mi.anon_pages);
		jw_u64(w, "shmem_bytes", k->mi.shmem);
		jw_u64(w, "slab_bytes", k->mi.slab);
		jw_u64(w, "swap_total_bytes", k->mi.swap_total);
		jw_u64(w, "swap_free_bytes", k->mi.swap_free);
		jw_obj_end(w);
	}
	if (k->have_psi) {
		jw_obj_begin(w, "psi_memory");
		jw_double(w, "some_avg10", k->psi.some.avg10);
		jw_double(w, "some_avg60", k->psi.some.avg60);
		jw_double(w, "full_avg10", k->psi.full.avg10);
		jw_double(w, "full_avg60", k->psi.full.avg60);
		jw_u64(w, "some_total_us", k->psi.some.total_us);
		jw_u64(w, "full_total_us", k->psi.full.total_us);
		jw_obj_end(w);
	}
	jw_u64(w, "oom_kill_since_start", k->host_oom_kill_delta);
	jw_u64(w, "seen_since_start", k->host_seen);
	jw_u64(w, "ignored_since_start", k->host_ignored);
	jw_u64(w, "missed", k->host_missed);
	jw_obj_end(w);
}

static void json_leadup(struct jw *w, const struct oom_kill *k)
{
	jw_obj_begin(w, "leadup");
	jw_arr_begin(w, "samples");
	for (size_t i = 0; i < k->nleadup; i++) {
		const struct leadup_sample *s = &k->leadup[i];

		jw_obj_begin(w, NULL);
		jw_double(w, "age_s", k->time - s->t);
		jw_u64(w, "usage_bytes", s->usage);
		jw_u64(w, "limit_bytes", s->limit);
		jw_u64(w, "limit_hits", s->failcnt);
		jw_u64(w, "pgscan", s->pgscan);
		jw_u64(w, "pgsteal", s->pgsteal);
		jw_u64(w, "refaults", s->refaults);
		jw_u64(w, "oom_kill", s->oom_kill);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_u64(w, "earlier_kills", k->leadup_prev_kills);
	if (k->leadup_prev_kills)
		jw_double(w, "earlier_kill_age_s", k->leadup_prev_kill_age);
	else
		jw_null(w, "earlier_kill_age_s");
	if (k->leadup_limit_age) {
		jw_u64(w, "limit_before_bytes", k->leadup_limit_from);
		jw_double(w, "limit_changed_age_s", k->leadup_limit_age);
	} else {
		jw_null(w, "limit_before_bytes");
		jw_null(w, "limit_changed_age_s");
	}
	jw_arr_begin(w, "top");
	for (int i = 0; i < k->ntop; i++) {
		jw_obj_begin(w, NULL);
		jw_i64(w, "pid", k->top[i].pid);
		jw_str(w, "comm", k->top[i].comm);
		jw_u64(w, "rss_bytes", k->top[i].rss);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	if (k->ntop)
		jw_double(w, "top_age_s", k->time - k->top_t);
	else
		jw_null(w, "top_age_s");
	jw_obj_end(w);
}

void json_kernel_report(struct jw *w, const char *key, const struct kernel_report *r)
{
	jw_obj_begin(w, key);
	jw_bool(w, "matched", r->matched);
	if (r->matched) {
		jw_bool(w, "full_report", r->dumped);
		jw_str(w, "constraint", r->constraint[0] ? r->constraint : NULL);
		jw_str(w, "oom_memcg", r->oom_memcg);
		jw_str(w, "task_memcg", r->task_memcg);
		jw_str(w, "message", r->message);
		if (r->have_killed) {
			jw_u64(w, "total_vm_bytes", r->total_vm_kb * 1024);
			jw_u64(w, "anon_rss_bytes", r->anon_rss_kb * 1024);
			jw_u64(w, "file_rss_bytes", r->file_rss_kb * 1024);
			jw_u64(w, "shmem_rss_bytes", r->shmem_rss_kb * 1024);
			jw_u64(w, "pgtables_bytes", r->pgtables_kb * 1024);
		}
		if (r->have_memcg_line) {
			jw_u64(w, "memcg_usage_bytes", r->memcg_usage_kb * 1024);
			jw_u64(w, "memcg_limit_bytes", r->memcg_limit_kb * 1024);
		}
		jw_u64(w, "tasks_dumped", r->ntasks);
		jw_bool(w, "truncated", r->truncated);
		jw_arr_begin(w, "lines");
		for (size_t i = 0; i < r->nlines; i++)
			jw_str(w, NULL, r->lines[i]);
		jw_arr_end(w);
	}
	jw_obj_end(w);
}

void json_kill_head(struct jw *w, const char *source, double time)
{
	char t[64];

	jw_str(w, "event", "oom_kill");
	jw_str(w, "source", source);
	oom_fmt_time(t, sizeof(t), time);
	jw_str(w, "time", t);
	jw_u64(w, "time_unix_ms", (uint64_t)(time * 1000));
}

void oom_kill_json(FILE *f, const struct oom_kill *k)
{
	struct jw w;

	jw_init(&w, f);
	jw_obj_begin(&w, NULL);
	json_kill_head(&w, "live", k->time);
	jw_u64(&w, "seq", k->seq);
	jw_str(&w, "kind", k->kind);
	jw_str(&w, "constraint", k->constraint);
	jw_str(&w, "constraint_source", k->constraint_from_kernel ? "kernel_report" : "inferred");
	json_victim(&w, k);
	json_memcg(&w, k);
	json_host(&w, k);
	json_leadup(&w, k);
	json_kernel_report(&w, "kernel_report", &k->kr);
	jw_drops(&w, "drops", k->drops, DROP_KINDS);
	jw_u64(&w, "kmsg_lost", k->kmsg_lost);
	jw_obj_end(&w);
}


void oom_summary_json(FILE *f, const struct oom_summary *sum)
{
	struct jw w;

	jw_init(&w, f);
	jw_obj_begin(&w, NULL);
	jw_str(&w, "event", "summary");
	jw_double(&w, "duration_s", sum->duration_s);
	jw_u64(&w, "kills", sum->kills);
	jw_u64(&w, "exiting_shortcuts", sum->exiting_shortcuts);
	jw_u64(&w, "group_members", sum->group_members);
	jw_u64(&w, "host_oom_kill_since_start", sum->host_oom_kill_since_start);
	jw_u64(&w, "host_missed", sum->host_missed);
	jw_u64(&w, "host_ignored", sum->host_ignored);
	jw_u64(&w, "filtered", sum->filtered);
	jw_arr_begin(&w, "cgroups");
	for (size_t i = 0; i < sum->ncgroups; i++) {
		const struct oom_cgroup_summary *cg = &sum->cgroups[i];

		jw_obj_begin(&w, NULL);
		jw_str(&w, "path", cg->path);
		jw_u64(&w, "kills", cg->kills);
		jw_u64(&w, "kernel_oom_kill", cg->kernel_oom_kill);
		jw_u64(&w, "missed", cg->missed);
		jw_bool(&w, "present", cg->present);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_drops(&w, "drops", sum->drops, DROP_KINDS);
	jw_u64(&w, "kmsg_lost", sum->kmsg_lost);
	jw_obj_end(&w);
}
