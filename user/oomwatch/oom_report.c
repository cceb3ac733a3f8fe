// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* One OOM kill: completion in user space and its printers. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "memcg_state.h"
#include "oom_report.h"
#include "output.h"
#include "procfs.h"

/* Pages at or above this are the page_counter's "no limit". */
#define PAGES_UNLIMITED (1ULL << 48)

static bool level_at_limit(uint64_t usage, uint64_t max)
{
	uint64_t slack = max / 64 > OOM_LIMIT_SLACK_PAGES ? max / 64 : OOM_LIMIT_SLACK_PAGES;

	if (max == 0 || max >= PAGES_UNLIMITED)
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
		k->paths[i] = p ? strdup(p) : NULL;
		if (e->chain[i].oom_group)
			k->oom_group = true;
	}
	k->limit_level = oom_limit_level(e, &k->memsw_hit);
	/* memcg when a cgroup on the way up was at its limit; otherwise the
	 * host ran out (cpuset and mempolicy OOMs look the same from here:
	 * only the kernel's report tells them apart). */
	k->constraint = k->limit_level >= 0 ? "memcg" : "global";
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

static void collect_victim(struct oom_kill *k)
{
	pid_t tgid = k->ev.victim_tgid ? k->ev.victim_tgid : k->ev.victim_pid;
	struct proc_status st;

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
	if (proc_status(tgid, &st) == 0) {
		if (!k->ppid) {
			k->ppid = st.ppid;
			k->parent_comm = proc_comm(st.ppid);
		}
		if (!k->ev.victim_tgid)
			k->ev.victim_tgid = st.tgid;
		/* The classic tracepoint before 6.9 carries only the pid: the
		 * rest comes from /proc while the victim is still there. */
		if (!(k->ev.flags & (OOM_F_TP_BTF | OOM_F_TP_FIELDS | OOM_F_VICTIM_IS_CUR))) {
			snprintf(k->ev.victim_comm, sizeof(k->ev.victim_comm), "%.15s", st.name);
			k->ev.victim_uid = st.uid;
			k->total_vm = st.vm_size;
			k->anon = st.rss_anon;
			k->file = st.rss_file;
			k->shmem = st.rss_shmem;
			k->pgtables = st.vm_pte;
		}
	}
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

void oom_kill_collect(struct oom_kill *k, const char *mount, int version, struct leadup *lu)
{
	int at = k->limit_level >= 0 ? k->limit_level : 0;
	struct leadup_cg *cg = NULL;

	collect_victim(k);
	collect_host(k);
	if (!k->ev.depth)
		return;
	k->stat_of = k->paths[at];
	if (k->stat_of) {
		char dir[PATH_MAX];

		snprintf(dir, sizeof(dir), "%s%s", mount, strcmp(k->stat_of, "/") ? k->stat_of : "");
		k->have_stat = oom_read_cgroup_files(dir, version, &k->stat, &k->events) == 0;
		k->stat_delay_s = wall_time() - k->time;
		cg = leadup__lookup(lu, k->ev.chain[at].id, k->stat_of);
	}
	if (cg) {
		collect_leadup(k, cg, 0);
		oom_kill_leadup_spans(k);
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

/* ---- plain text ------------------------------------------------------ */

#define LABEL OOM_LABEL

void oom_fmt_time(char *buf, size_t len, double t)
{
	time_t s = (time_t)t;
	struct tm tm;
	char tmp[32];

	localtime_r(&s, &tm);
	strftime(tmp, sizeof(tmp), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03d", tmp, (int)((t - s) * 1000));
}

static void print_headline(FILE *f, const struct oom_kill *k)
{
	const struct oom_memcg_level *l = k->limit_level >= 0 ? &k->ev.chain[k->limit_level] : NULL;
	char a[HUMAN_LEN], b[HUMAN_LEN];

	fprintf(f, "OOM kill: ");
	print_term(f, k->ev.victim_comm, 0);
	fprintf(f, "(%u) in ", k->ev.victim_pid);
	print_term(f, k->ev.depth && k->paths[0] ? k->paths[0] : "?", 0);
	if (!strcmp(k->constraint, "memcg") && l) {
		uint64_t max = k->memsw_hit ? l->memsw_max_pages : l->max_pages;
		uint64_t use = k->memsw_hit ? l->memsw_usage_pages : l->usage_pages;

		fprintf(f, " — cgroup %slimit %s hit", k->memsw_hit ? "memory+swap " : "",
			fmt_bytes(a, max * k->page_size));
		if (k->limit_level > 0) {
			fprintf(f, " in ");
			print_term(f, oom_kill_cgroup(k), 0);
		}
		fprintf(f, ", usage %s", fmt_bytes(b, use * k->page_size));
	} else if (!strcmp(k->constraint, "memcg")) {
		fprintf(f, " — cgroup limit hit");
	} else if (k->have_mi) {
		fprintf(f, " — %s OOM, host MemAvailable %s of %s", k->constraint,
			fmt_bytes(a, k->mi.mem_available), fmt_bytes(b, k->mi.mem_total));
	} else {
		fprintf(f, " — %s OOM", k->constraint);
	}
	if (strcmp(k->kind, "selected"))
		fprintf(f, " [%s]", k->kind);
	fputc('\n', f);
}

static void print_victim(FILE *f, const struct oom_kill *k)
{
	char t[64], a[HUMAN_LEN], b[HUMAN_LEN], c[HUMAN_LEN], d[HUMAN_LEN], e[HUMAN_LEN];

	oom_fmt_time(t, sizeof(t), k->time);
	fprintf(f, LABEL "%s  (#%" PRIu64 ")\n", "when", t, k->seq);
	fprintf(f, LABEL "pid %u tgid %u uid %u oom_score_adj %d", "victim", k->ev.victim_pid,
		k->ev.victim_tgid, k->ev.victim_uid, k->ev.oom_score_adj);
	if (k->ppid) {
		fprintf(f, "  parent ");
		print_term(f, k->parent_comm ? k->parent_comm : "?", 0);
		fprintf(f, "(%d)", k->ppid);
	}
	fputc('\n', f);
	fprintf(f, LABEL, "cmdline");
	print_term(f, k->cmdline ? k->cmdline : "(gone)", 0);
	fputc('\n', f);
	fprintf(f, LABEL "total-vm %s  anon %s  file %s  shmem %s  page tables %s", "memory",
		fmt_bytes(a, k->total_vm), fmt_bytes(b, k->anon), fmt_bytes(c, k->file),
		fmt_bytes(d, k->shmem), fmt_bytes(e, k->pgtables));
	if (k->swap)
		fprintf(f, "  swap %s", fmt_bytes(a, k->swap));
	fputc('\n', f);
	fprintf(f, LABEL, "trigger");
	print_term(f, k->ev.trigger_comm, 0);
	fprintf(f, "(%u)%s\n", k->ev.trigger_pid,
		k->ev.trigger_pid == k->ev.victim_pid ? " (the victim itself)" : "");
}

static void print_cgroups(FILE *f, const struct oom_kill *k)
{
	char a[HUMAN_LEN], b[HUMAN_LEN];

	fprintf(f, LABEL "%s (%s)  kind: %s%s\n", "constraint", k->constraint,
		k->constraint_from_kernel ? "kernel report" : "inferred from cgroup counters",
		k->kind, k->oom_group ? ", memory.oom.group set" : "");
	for (uint32_t i = 0; i < k->ev.depth; i++) {
		const struct oom_memcg_level *l = &k->ev.chain[i];

		if (l->max_pages >= PAGES_UNLIMITED && (int)i != k->limit_level && i)
			continue;
		fprintf(f, LABEL, i == 0 ? (k->ev.flags & OOM_F_CHAIN_OF_TRIG ? "trigger cg" : "cgroup") : "");
		print_term(f, k->paths[i] ? k->paths[i] : "(gone)", 0);
		if (l->max_pages < PAGES_UNLIMITED)
			fprintf(f, "  usage %s / limit %s (%.0f%%)", fmt_bytes(a, l->usage_pages * k->page_size),
				fmt_bytes(b, l->max_pages * k->page_size),
				pct_of(l->usage_pages, l->max_pages));
		else
			fprintf(f, "  usage %s, no limit", fmt_bytes(a, l->usage_pages * k->page_size));
		if (l->failcnt)
			fprintf(f, "  failcnt %" PRIu64, (uint64_t)l->failcnt);
		fprintf(f, "%s\n", (int)i == k->limit_level ? "  <- at its limit" : "");
	}
	if (k->have_container) {
		fprintf(f, LABEL, "container");
		print_term(f, k->container.runtime[0] ? k->container.runtime : "?", 0);
		fprintf(f, " %.12s%s%s\n", k->container.id, k->container.pod_uid[0] ? " pod " : "",
			k->container.pod_uid);
	}
}

static void print_stat_fields(FILE *f, const struct memstat *ms)
{
	static const enum memstat_field keys[] = { MS_anon, MS_file, MS_shmem, MS_kernel,
						   MS_active_anon, MS_inactive_anon, MS_active_file,
						   MS_inactive_file, MS_swap };
	char a[HUMAN_LEN];

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (memstat_has(ms, keys[i]))
			fprintf(f, "%s %s  ", memstat_field_name(keys[i]),
				fmt_bytes(a, memstat_get(ms, keys[i])));
}

static void print_stat(FILE *f, const struct oom_kill *k)
{
	char a[HUMAN_LEN];

	fprintf(f, LABEL, "at the kill");
	if (k->have_at_kill) {
		print_stat_fields(f, &k->at_kill);
		if (k->at_kill_flushed)
			fprintf(f, "(kernel counters at mark_victim)\n");
		else
			fprintf(f, "(kernel counters at mark_victim, as of their last flush: the kernel "
				"rate-limited its report%s)\n", k->at_kill_lru_exact ? "; LRU lists exact" : "");
	} else {
		fprintf(f, "not read: %s\n", k->at_kill_missing ? k->at_kill_missing : "no memcg");
	}
	if (!k->have_stat)
		return;
	fprintf(f, LABEL, "memory.stat");
	print_stat_fields(f, &k->stat);
	/* The kernel has been reaping the victim meanwhile: its pages may be gone. */
	fprintf(f, "(read %s after the kill)\n", fmt_duration(a, k->stat_delay_s));
	fprintf(f, LABEL "oom_kill %" PRIu64 " (+%" PRIu64 " since start, %" PRIu64
		" seen)  limit hits %" PRIu64 "\n", "events", k->events.oom_kill,
		k->oom_kill_since_start, k->seen_in_cgroup, k->events.max);
}

static void print_host(FILE *f, const struct oom_kill *k)
{
	char a[HUMAN_LEN], b[HUMAN_LEN], c[HUMAN_LEN];

	if (k->have_mi)
		fprintf(f, LABEL "MemAvailable %s of %s, swap free %s", "host",
			fmt_bytes(a, k->mi.mem_available), fmt_bytes(b, k->mi.mem_total),
			fmt_bytes(c, k->mi.swap_free));
	if (k->have_psi)
		fprintf(f, "; PSI some avg10 %.2f full avg10 %.2f", k->psi.some.avg10,
			k->psi.full.avg10);
	if (k->have_mi || k->have_psi)
		fputc('\n', f);
}

static void print_leadup(FILE *f, const struct oom_kill *k)
{
	const struct leadup_sample *first = k->leadup, *last = k->leadup + k->nleadup - 1;
	char a[HUMAN_LEN], b[HUMAN_LEN], c[HUMAN_LEN], d[HUMAN_LEN];
	uint64_t peak = 0;

	if (!k->nleadup) {
		fprintf(f, LABEL "no samples (the cgroup filled up between two samples)\n", "lead-up");
	} else {
		for (size_t i = 0; i < k->nleadup; i++)
			peak = k->leadup[i].usage > peak ? k->leadup[i].usage : peak;
		fprintf(f, LABEL "%zu samples over %s: usage %s -> %s (peak %s), limit hits +%" PRIu64,
			"lead-up", k->nleadup, fmt_duration(a, k->time - first->t),
			fmt_bytes(b, first->usage), fmt_bytes(c, last->usage), fmt_bytes(d, peak),
			last->failcnt - first->failcnt);
		if (last->pgscan || last->pgsteal)
			fprintf(f, ", reclaim scanned %" PRIu64 " stole %" PRIu64 " pages",
				last->pgscan - first->pgscan, last->pgsteal - first->pgsteal);
		if (last->refaults - first->refaults)
			fprintf(f, ", refaults +%" PRIu64, last->refaults - first->refaults);
		fputc('\n', f);
		if (k->leadup_prev_kills)
			fprintf(f, LABEL "it spans %" PRIu64 " earlier kill%s in this cgroup (a previous "
				"instance), the last %s before this one: the climb of this one starts there\n",
				"", k->leadup_prev_kills, k->leadup_prev_kills == 1 ? "" : "s",
				fmt_duration(a, k->leadup_prev_kill_age));
		if (k->leadup_limit_age)
			fprintf(f, LABEL "the limit changed during it: %s until %s before the kill, %s since\n",
				"", fmt_bytes(b, k->leadup_limit_from), fmt_duration(a, k->leadup_limit_age),
				fmt_bytes(c, last->limit));
		/* The last few samples, newest last: the shape of the climb. */
		size_t from = k->nleadup > 8 ? k->nleadup - 8 : 0;
		fprintf(f, LABEL, "");
		for (size_t i = from; i < k->nleadup; i++)
			fprintf(f, "%s-%.1fs %s", i == from ? "" : "  ", k->time - k->leadup[i].t,
				fmt_bytes(a, k->leadup[i].usage));
		fputc('\n', f);
	}
	for (int i = 0; i < k->ntop; i++) {
		fprintf(f, LABEL, i ? "" : "top users");
		print_term(f, k->top[i].comm, 0);
		fprintf(f, "(%d) rss %s\n", k->top[i].pid, fmt_bytes(a, k->top[i].rss));
	}
}

void kernel_report_print(FILE *f, const struct kernel_report *r, bool all_lines)
{
	size_t shown = 0;

	/* The lines that say what happened; the task dump is in the JSON. */
	for (size_t i = 0; i < r->nlines; i++) {
		const char *t = r->lines[i];

		if (all_lines || strstr(t, " invoked oom-killer: ") || !strncmp(t, "memory: usage", 13) ||
		    !strncmp(t, "memory+swap: usage", 18) || !strncmp(t, "oom-kill:", 9) ||
		    strstr(t, "Killed process ") || strstr(t, "are going to be killed")) {
			fprintf(f, LABEL, shown++ ? "" : "kernel");
			print_term(f, t, 0);
			fputc('\n', f);
		}
	}
	if (r->ntasks && !all_lines)
		fprintf(f, LABEL "%zu task%s in the kernel's dump (see --json)\n", "", r->ntasks,
			r->ntasks == 1 ? "" : "s");
	if (!r->dumped)
		fprintf(f, LABEL "(the kernel rate-limited its full report for this kill)\n", "");
}

static void print_kernel(FILE *f, const struct oom_kill *k)
{
	if (!k->kr.matched) {
		fprintf(f, LABEL "no matching \"Killed process %u\" line in /dev/kmsg\n", "kernel",
			k->ev.victim_pid);
		return;
	}
	kernel_report_print(f, &k->kr, false);
}

void oom_kill_print(FILE *f, const struct oom_kill *k)
{
	print_headline(f, k);
	print_victim(f, k);
	print_cgroups(f, k);
	print_stat(f, k);
	print_host(f, k);
	print_leadup(f, k);
	print_kernel(f, k);
	fprintf(f, LABEL "host oom_kill +%" PRIu64 " since start, %" PRIu64 " seen", "counters",
		k->host_oom_kill_delta, k->host_seen);
	if (k->host_ignored)
		fprintf(f, ", %" PRIu64 " elsewhere ignored", k->host_ignored);
	if (k->host_missed)
		fprintf(f, ": %" PRIu64 " MISSED", k->host_missed);
	else
		fprintf(f, ": none missed");
	fprintf(f, "; ");
	print_drops(f, k->drops, DROP_KINDS);
	fputc('\n', f);
	fflush(f);
}

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
		if (c->max_pages < PAGES_UNLIMITED)
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

/* ---- the run's summary ---- */

void oom_summary_free(struct oom_summary *sum)
{
	free(sum->cgroups);
	memset(sum, 0, sizeof(*sum));
}

void oom_summary_print(FILE *f, const struct oom_summary *sum)
{
	char d[HUMAN_LEN];
	bool any = false;

	fprintf(f, "oomwatch: %" PRIu64 " OOM kill%s in %s (%" PRIu64 " exiting-task shortcut%s, %"
		PRIu64 " group member%s)\n", sum->kills, sum->kills == 1 ? "" : "s",
		fmt_duration(d, sum->duration_s), sum->exiting_shortcuts,
		sum->exiting_shortcuts == 1 ? "" : "s", sum->group_members,
		sum->group_members == 1 ? "" : "s");
	for (size_t i = 0; i < sum->ncgroups; i++) {
		const struct oom_cgroup_summary *cg = &sum->cgroups[i];

		if (!any)
			fprintf(f, "  %-48s %6s %16s %7s\n", "CGROUP", "KILLS", "KERNEL oom_kill", "MISSED");
		any = true;
		fprintf(f, "  ");
		print_term(f, cg->path, 48);
		fprintf(f, " %6" PRIu64 " %16" PRIu64 " %7" PRIu64 "%s\n", cg->kills, cg->kernel_oom_kill,
			cg->missed, cg->present ? "" : "  (cgroup gone: last count read)");
	}
	fprintf(f, "  host /proc/vmstat oom_kill: +%" PRIu64 " since start, %" PRIu64 " seen",
		sum->host_oom_kill_since_start, sum->kills);
	if (sum->target)
		fprintf(f, " (only %s watched; %" PRIu64 " kills elsewhere ignored)", sum->target,
			sum->host_ignored);
	if (sum->host_missed)
		fprintf(f, ": %" PRIu64 " MISSED", sum->host_missed);
	else
		fprintf(f, ": none missed");
	fprintf(f, "\n  ");
	print_drops(f, sum->drops, DROP_KINDS);
	if (sum->kmsg_lost)
		fprintf(f, "; %" PRIu64 " kernel log records overwritten before read", sum->kmsg_lost);
	fprintf(f, "\n");
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
