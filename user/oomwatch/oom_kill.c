// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* One OOM kill completed in user space from the kernel's record: decoded,
 * then filled from /proc, the cgroup files, host memory and the lead-up
 * as far as the collector's needs mask asks (oom_kill.h). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "memcg_state.h"
#include "oom_kill.h"
#include "output.h"
#include "procfs.h"

static bool level_at_limit(uint64_t usage, uint64_t max)
{
	uint64_t slack = max / 64 > OOM_LIMIT_SLACK_PAGES ? max / 64 : OOM_LIMIT_SLACK_PAGES;

	if (max == 0 || max >= OOM_PAGES_UNLIMITED)
		return false;
	return usage + slack >= max;
}

int oom_limit_level(const struct oom_event *e, bool *memsw)
{
	*memsw = false;
	for (uint32_t i = 0; i < e->depth && i < OOM_MAX_DEPTH; i++) {
		const struct oom_memcg_level *l = &e->chain[i];

		if (level_at_limit(l->usage_pages, l->max_pages))
			return i;
		if (level_at_limit(l->memsw_usage_pages, l->memsw_max_pages)) {
			*memsw = true;
			return i;
		}
	}
	return -1;
}

/* The OOM cgroup's usage and limit in bytes: the level at its limit, else
 * the victim's memcg (none for a kill without one). */
static void set_usage_limit(struct oom_kill *k)
{
	const struct oom_memcg_level *l = &k->ev.chain[k->limit_level >= 0 ? k->limit_level : 0];

	if (!k->ev.depth)
		return;
	k->usage = l->usage_pages * k->page_size;
	k->limit = l->max_pages < OOM_PAGES_UNLIMITED ? l->max_pages * k->page_size : 0;
}

/* Level i's path from the names copied at the kill (the cgroup may be
 * gone by now): NULL when a name is missing or too long, or the chain
 * does not reach the root. */
static char *path_from_names(const struct oom_event *e, uint32_t i)
{
	size_t len = 0, room = 1;
	char *p;

	if ((e->flags & OOM_F_CHAIN_CUT) || !e->depth || e->depth > OOM_MAX_DEPTH || e->chain[e->depth - 1].name[0])
		return NULL;
	for (uint32_t j = i; j + 1 < e->depth; j++) {
		size_t n = strnlen(e->chain[j].name, OOM_CGROUP_NAME_MAX);

		if (!n || n == OOM_CGROUP_NAME_MAX - 1)
			return NULL; /* unread, or cut at the copy's size */
		room += n + 1;
	}
	if (!(p = malloc(room + 1)))
		abort();
	p[0] = '\0';
	for (uint32_t j = e->depth - 1; j-- > i;)
		len += (size_t)sprintf(p + len, "/%s", e->chain[j].name);
	if (!len)
		strcpy(p, "/");
	return p;
}

void oom_kill_decode(struct oom_kill *k, long page_size, bool v1)
{
	const struct oom_event *e = &k->ev;
	/* The classic tracepoint gives kB, the task_struct gives pages. */
	uint64_t unit = (e->flags & OOM_F_TP_FIELDS) ? 1024 : (uint64_t)page_size;

	k->v1 = v1;
	k->page_size = page_size;
	k->total_vm = e->total_vm_pages * unit;
	k->anon = e->anon_pages * unit;
	k->file = e->file_pages * unit;
	k->shmem = e->shmem_pages * unit;
	k->swap = e->swap_ents * page_size;
	k->pgtables = e->pgtables_bytes;
	for (uint32_t i = 0; i < e->depth && i < OOM_MAX_DEPTH; i++) {
		const char *p = cgroup_path_by_id(e->chain[i].id, v1);

		if (!p) {
			/* Created since the cache was filled, or already gone. */
			cgroup_cache_flush();
			p = cgroup_path_by_id(e->chain[i].id, v1);
		}
		k->paths[i] = p ? strdup(p) : path_from_names(e, i);
		if (e->chain[i].oom_group)
			k->oom_group = true;
	}
	k->limit_level = oom_limit_level(e, &k->memsw_hit);
	/* memcg when a cgroup on the way up was at its limit; otherwise the
	 * host ran out (cpuset and mempolicy OOMs look the same from here:
	 * only the kernel's report tells them apart). */
	k->constraint = k->limit_level >= 0 ? "memcg" : "global";
	set_usage_limit(k);
}

/* Counters at the kill that cannot be this memcg's: a kernel layout
 * misread. Anon and file pages are charged to usage. */
static bool at_kill_plausible(const struct memstat *ms, uint64_t usage_bytes)
{
	return ms->anon + ms->file <= usage_bytes + usage_bytes / 4 + (16ULL << 20);
}

/* The victim's own memcg's LRU sizes are exact at the kill: they replace
 * the flushed counters when that memcg is the one reported. The
 * multi-gen LRU does not keep them. */
static void set_exact_lru(struct oom_kill *k, int at)
{
	static const enum memstat_field lru[OOM_NR_LRU] = { MS_inactive_anon, MS_active_anon,
							    MS_inactive_file, MS_active_file,
							    MS_unevictable };
	char *mglru = NULL;
	bool on;

	if (at != 0 || !(k->ev.flags & OOM_F_LRU) || (k->ev.flags & OOM_F_CHAIN_OF_TRIG))
		return;
	on = read_file("/sys/kernel/mm/lru_gen/enabled", &mglru) >= 0 && strtoul(mglru, NULL, 0);
	free(mglru);
	if (on)
		return;
	for (int i = 0; i < OOM_NR_LRU; i++)
		memstat_set(&k->at_kill, lru[i], k->ev.lru_pages[i] * k->page_size);
	k->at_kill_lru_exact = true;
}

void oom_kill_decode_state(struct oom_kill *k, const struct memcg_state_map *m)
{
	const struct oom_event *e = &k->ev;
	int at = k->limit_level >= 0 ? k->limit_level : 0;

	if (!e->state_len) {
		k->at_kill_missing = "this kernel's memcg layout is not known to oomwatch";
		return;
	}
	if (at >= (int)e->state_levels || at >= OOM_STAT_LEVELS) {
		k->at_kill_missing = "the OOM cgroup is above the levels copied at the kill";
		return;
	}
	if (!memcg_state_to_memstat(m, (const int64_t *)e->state[at], e->state_len < OOM_STATE_MAX ? e->state_len : OOM_STATE_MAX,
				    k->page_size, &k->at_kill)) {
		k->at_kill_missing = "the kernel's memcg counters could not be mapped (no BTF enums)";
		return;
	}
	if (!at_kill_plausible(&k->at_kill, e->chain[at].usage_pages * k->page_size)) {
		k->at_kill_missing = "the kernel's memcg counters did not add up (unknown layout)";
		memset(&k->at_kill, 0, sizeof(k->at_kill));
		return;
	}
	k->have_at_kill = true;
	set_exact_lru(k, at);
}

const char *oom_kill_cgroup(const struct oom_kill *k)
{
	int i = k->limit_level >= 0 ? k->limit_level : 0;
	const char *p = k->ev.depth ? k->paths[i] : NULL;

	return p ? p : "?";
}

int oom_read_cgroup_files(const char *dir, int version, struct memstat *ms, struct mem_events *ev)
{
	char path[PATH_MAX], *buf = NULL;
	int err;

	snprintf(path, sizeof(path), "%s/memory.stat", dir);
	if (read_file(path, &buf) < 0)
		return -ENOENT;
	err = version == 1 ? memstat_parse_v1(buf, ms) : memstat_parse_v2(buf, ms);
	free(buf);
	buf = NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, version == 1 ? "memory.oom_control" : "memory.events");
	memset(ev, 0, sizeof(*ev));
	if (read_file(path, &buf) >= 0)
		mem_events_parse(buf, ev);
	free(buf);
	if (version == 1) {
		/* v1 keeps the count of hits at the limit in its own file. */
		snprintf(path, sizeof(path), "%s/memory.failcnt", dir);
		buf = NULL;
		if (read_file(path, &buf) >= 0)
			ev->max = strtoull(buf, NULL, 10);
		free(buf);
	}
	return err;
}

/* The classic tracepoint before 6.9 carries only the pid: the victim's
 * tgid, comm and sizes come from /proc while it is still there. Every kill
 * needs them (they name it), whatever the needs mask. */
static bool identity_from_proc(const struct oom_kill *k)
{
	return !k->ev.victim_tgid || !(k->ev.flags & (OOM_F_TP_BTF | OOM_F_TP_FIELDS | OOM_F_VICTIM_IS_CUR));
}

static void set_identity(struct oom_kill *k, const struct proc_status *st)
{
	if (!k->ev.victim_tgid)
		k->ev.victim_tgid = st->tgid;
	if (k->ev.flags & (OOM_F_TP_BTF | OOM_F_TP_FIELDS | OOM_F_VICTIM_IS_CUR))
		return;
	snprintf(k->ev.victim_comm, sizeof(k->ev.victim_comm), "%.15s", st->name);
	k->ev.victim_uid = st->uid;
	k->total_vm = st->vm_size;
	k->anon = st->rss_anon;
	k->file = st->rss_file;
	k->shmem = st->rss_shmem;
	k->pgtables = st->vm_pte;
}

static void set_cmdline_and_parent(struct oom_kill *k, pid_t tgid)
{
	if (k->ev.flags & OOM_F_CMDLINE) {
		k->cmdline = argv_join(k->ev.cmdline, k->ev.cmdline_len < OOM_CMDLINE_MAX ?
				       k->ev.cmdline_len : OOM_CMDLINE_MAX - 1);
		k->cmdline_src = "kernel";
	} else if (!k->cmdline && (k->cmdline = proc_cmdline(tgid))) {
		k->cmdline_src = "/proc";
	}
	if (k->ev.parent_tgid) {
		k->ppid = k->ev.parent_tgid;
		k->parent_comm = strndup(k->ev.parent_comm, sizeof(k->ev.parent_comm));
	}
}

static void set_victim_cgroup(struct oom_kill *k)
{
	if (k->ev.victim_tgid) {
		char *v1_path = NULL; /* cgroup_of_pid wants both out pointers */

		if (cgroup_of_pid(k->ev.victim_tgid, &k->victim_v2_path, &v1_path) < 0)
			k->victim_v2_path = NULL;
		free(v1_path);
	}
	if (!k->victim_v2_path && k->ev.victim_v2_cgid) {
		const char *p = cgroup_path_by_id(k->ev.victim_v2_cgid, false);

		k->victim_v2_path = p ? strdup(p) : NULL;
	}
	for (uint32_t i = 0; i < k->ev.depth && !k->have_container; i++)
		if (k->paths[i])
			k->have_container = container_from_path(k->paths[i], &k->container);
}

/* Who the victim was; with details (OOM_NEED_VICTIM) also its cmdline,
 * parent, own cgroup and container. */
static void collect_victim(struct oom_kill *k, bool details)
{
	pid_t tgid = k->ev.victim_tgid ? k->ev.victim_tgid : k->ev.victim_pid;
	struct proc_status st;

	if (details)
		set_cmdline_and_parent(k, tgid);
	if ((details || identity_from_proc(k)) && proc_status(tgid, &st) == 0) {
		if (details && !k->ppid) {
			k->ppid = st.ppid;
			k->parent_comm = proc_comm(st.ppid);
		}
		set_identity(k, &st);
	}
	if (details)
		set_victim_cgroup(k);
}

static void collect_host(struct oom_kill *k)
{
	char *buf = NULL;

	if (proc_read(0, "meminfo", &buf) >= 0)
		k->have_mi = meminfo_parse(buf, &k->mi) == 0;
	free(buf);
	k->have_psi = host_memory_psi(&k->psi);
}

static void collect_leadup(struct oom_kill *k, struct leadup_cg *cg, double interval)
{
	size_t n = cg->ring_n < OOM_LEADUP_KEEP ? cg->ring_n : OOM_LEADUP_KEEP;

	k->leadup_interval = interval;
	k->leadup = calloc(n ? n : 1, sizeof(*k->leadup));
	if (!k->leadup)
		abort();
	for (size_t i = 0; i < n; i++)
		k->leadup[i] = *leadup_cg_sample(cg, n - 1 - i);
	k->nleadup = n;
	memcpy(k->top, cg->top, sizeof(k->top));
	k->ntop = cg->ntop;
	k->top_t = cg->top_t;
}

void oom_kill_leadup_spans(struct oom_kill *k)
{
	const struct leadup_sample *prev = NULL;

	k->leadup_prev_kills = 0;
	k->leadup_limit_age = 0;
	for (size_t i = 0; i < k->nleadup; i++) {
		const struct leadup_sample *s = &k->leadup[i];

		/* A sample taken after the kill already counts it. */
		if (s->t > k->time)
			break;
		if (prev && s->oom_kill > prev->oom_kill) {
			k->leadup_prev_kills += s->oom_kill - prev->oom_kill;
			k->leadup_prev_kill_age = k->time - s->t;
		}
		if (prev && s->limit != prev->limit) {
			if (!k->leadup_limit_age)
				k->leadup_limit_from = prev->limit;
			k->leadup_limit_age = k->time - s->t;
		}
		prev = s;
	}
}

/* The OOM cgroup's memory.stat and events now, right after the kill. */
static void collect_cgroup_files(struct oom_kill *k, const char *mount, int version)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s%s", mount, strcmp(k->stat_of, "/") ? k->stat_of : "");
	k->have_stat = oom_read_cgroup_files(dir, version, &k->stat, &k->events) == 0;
	k->stat_delay_s = wall_time() - k->time;
}

void oom_kill_collect(struct oom_kill *k, const char *mount, int version, struct leadup *lu, unsigned needs)
{
	int at = k->limit_level >= 0 ? k->limit_level : 0;
	struct leadup_cg *cg = NULL;

	collect_victim(k, needs & OOM_NEED_VICTIM);
	if (needs & OOM_NEED_HOST)
		collect_host(k);
	k->filled |= needs & (OOM_NEED_VICTIM | OOM_NEED_HOST);
	if (!k->ev.depth || !(k->stat_of = k->paths[at]))
		return;
	if (needs & OOM_NEED_CGROUP) {
		collect_cgroup_files(k, mount, version);
		k->filled |= OOM_NEED_CGROUP;
	}
	if ((needs & OOM_NEED_LEADUP) && (cg = leadup__lookup(lu, k->ev.chain[at].id, k->stat_of))) {
		collect_leadup(k, cg, 0);
		oom_kill_leadup_spans(k);
		k->filled |= OOM_NEED_LEADUP;
	}
}

bool oom_kill_set_cmdline(struct oom_kill *k, const struct oom_cmdline_event *c)
{
	if (!(k->ev.flags & OOM_F_CMDLINE_LATER) || (k->cmdline_src && !strcmp(k->cmdline_src, "kernel")) ||
	    (c->tgid != k->ev.victim_tgid && c->pid != k->ev.victim_pid))
		return false;
	if (c->flags & OOM_F_CMDLINE) {
		free(k->cmdline);
		k->cmdline = argv_join(c->cmdline, c->cmdline_len < OOM_CMDLINE_MAX ?
				       c->cmdline_len : OOM_CMDLINE_MAX - 1);
		k->cmdline_src = "kernel";
		k->ev.flags |= c->flags & (OOM_F_CMDLINE | OOM_F_CMDLINE_CUT);
	}
	k->ev.flags &= ~OOM_F_CMDLINE_LATER;
	return true;
}

bool oom_kill_awaits_cmdline(const struct oom_kill *k)
{
	return k->ev.flags & OOM_F_CMDLINE_LATER;
}

void oom_kill_set_kernel_report(struct oom_kill *k, struct kernel_report *kr)
{
	const char *c;

	k->kr = *kr;
	memset(kr, 0, sizeof(*kr));
	/* Before 6.9 the classic oom:mark_victim passes only the pid: when the
	 * victim was not the current task, its uid, oom_score_adj and sizes
	 * are the kernel's "Killed process" line's. */
	if (k->kr.have_killed &&
	    !(k->ev.flags & (OOM_F_TP_BTF | OOM_F_VICTIM_IS_CUR | OOM_F_TP_FIELDS))) {
		k->ev.victim_uid = (__u32)k->kr.uid;
		k->ev.oom_score_adj = (__s32)k->kr.oom_score_adj;
		k->total_vm = k->kr.total_vm_kb * 1024;
		k->anon = k->kr.anon_rss_kb * 1024;
		k->file = k->kr.file_rss_kb * 1024;
		k->shmem = k->kr.shmem_rss_kb * 1024;
		k->pgtables = k->kr.pgtables_kb * 1024;
	}
	/* Printing its report, the kernel flushed the memcg's counters just
	 * before mark_victim. */
	k->at_kill_flushed = k->kr.dumped;
	c = kmsg_constraint_name(k->kr.constraint);
	if (c) {
		k->constraint = c;
		k->constraint_from_kernel = true;
	}
}

void oom_kill_free(struct oom_kill *k)
{
	if (!k)
		return;
	free(k->cmdline);
	free(k->parent_comm);
	for (int i = 0; i < OOM_MAX_DEPTH; i++)
		free(k->paths[i]);
	free(k->victim_v2_path);
	memstat_free(&k->stat);
	free(k->leadup);
	kernel_report_free(&k->kr);
	free(k);
}

void oom_summary_free(struct oom_summary *sum)
{
	free(sum->cgroups);
	memset(sum, 0, sizeof(*sum));
}
