// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* One OOM kill and the run's summary in plain text: pure functions of the
 * completed struct oom_kill (oom_kill.h). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "oom_report.h"
#include "output.h"

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

		if (l->max_pages >= OOM_PAGES_UNLIMITED && (int)i != k->limit_level && i)
			continue;
		fprintf(f, LABEL, i == 0 ? (k->ev.flags & OOM_F_CHAIN_OF_TRIG ? "trigger cg" : "cgroup") : "");
		print_term(f, k->paths[i] ? k->paths[i] : "(gone)", 0);
		if (l->max_pages < OOM_PAGES_UNLIMITED)
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
