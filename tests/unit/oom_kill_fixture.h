/* One completed OOM kill with every part oomwatch's printers show, built
 * from fixed values and the fixture files (no live system): the input of
 * test_oom's check that its text and JSON stay byte for byte what they
 * were (tests/fixtures/oom/kill.txt, kill.json). Run from the source
 * root. */
#ifndef MEMSCOPE_TEST_OOM_KILL_FIXTURE_H
#define MEMSCOPE_TEST_OOM_KILL_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "memstat.h"
#include "oom_kmsg.h"
#include "oom_report.h"
#include "procfs.h"

#define KILL_TIME 1700000000.25

static void fixture_event(struct oom_event *e)
{
	e->type = OOM_EV_MARK_VICTIM;
	e->flags = OOM_F_TP_BTF;
	e->victim_pid = e->victim_tgid = 10474;
	e->trigger_pid = 10474;
	snprintf(e->victim_comm, sizeof(e->victim_comm), "hog");
	snprintf(e->trigger_comm, sizeof(e->trigger_comm), "hog");
	e->victim_uid = 1000;
	e->oom_score_adj = 200;
	e->depth = 2;
	e->chain[0] = (struct oom_memcg_level){ .id = 101, .usage_pages = 16380, .max_pages = 16384,
						.failcnt = 3, .oom_kill_local = 1 };
	e->chain[1] = (struct oom_memcg_level){ .id = 1, .usage_pages = 200000, .max_pages = 1ull << 51 };
}

static void fixture_host(struct oom_kill *k)
{
	char *buf = NULL;

	if (read_file("tests/fixtures/memstat/meminfo_host", &buf) > 0)
		k->have_mi = meminfo_parse(buf, &k->mi) == 0;
	free(buf);
	buf = NULL;
	if (read_file("tests/fixtures/memstat/psi_idle", &buf) > 0)
		k->have_psi = psi_parse(buf, &k->psi) == 0;
	free(buf);
	k->host_oom_kill_delta = 2;
	k->host_seen = 1;
	k->host_missed = 1;
}

static void fixture_leadup(struct oom_kill *k)
{
	k->nleadup = 3;
	k->leadup = calloc(3, sizeof(*k->leadup));
	for (size_t i = 0; i < 3; i++)
		k->leadup[i] = (struct leadup_sample){ .t = KILL_TIME - 3 + i, .usage = (40 + 10 * i) << 20,
						       .limit = 64 << 20, .failcnt = i, .pgscan = 100 * i,
						       .pgsteal = 50 * i, .refaults = 7 * i };
	k->leadup_interval = 1;
	k->top[0] = (struct leadup_proc){ .pid = 10474, .comm = "hog", .rss = 60 << 20 };
	k->top[1] = (struct leadup_proc){ .pid = 10470, .comm = "sh", .rss = 1 << 20 };
	k->ntop = 2;
	k->top_t = KILL_TIME - 1;
}

static void fixture_kernel_report(struct oom_kill *k)
{
	struct kmsg *m = kmsg_new();
	char *buf = NULL, *line, *save = NULL;

	if (read_file("tests/fixtures/oom/kmsg-memcg.txt", &buf) > 0)
		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			kmsg_feed(m, line);
	free(buf);
	kmsg_match(m, 10474, &k->kr);
	kmsg_free(m);
}

static struct oom_kill *fixture_kill(void)
{
	struct oom_kill *k = calloc(1, sizeof(*k));

	fixture_event(&k->ev);
	k->time = KILL_TIME;
	k->seq = 1;
	k->kind = "selected";
	k->real_kill = true;
	k->total_vm = 67880 << 10;
	k->anon = 65280 << 10;
	k->file = 1364 << 10;
	k->pgtables = 164 << 10;
	k->cmdline = strdup("hog --size 64M");
	k->cmdline_src = "kernel";
	k->ppid = 10470;
	k->parent_comm = strdup("sh");
	k->page_size = 4096;
	k->paths[0] = strdup("/memscope-oomdev");
	k->paths[1] = strdup("/");
	k->victim_v2_path = strdup("/memscope-oomdev");
	k->limit_level = 0;
	k->constraint = "memcg";
	k->constraint_from_kernel = true;
	k->at_kill_missing = "fixture";
	k->stat_of = k->paths[0];
	k->have_stat = oom_read_cgroup_files("tests/fixtures/oom/v2", 2, &k->stat, &k->events) == 0;
	k->stat_delay_s = 0.004;
	k->oom_kill_since_start = 1;
	k->seen_in_cgroup = 1;
	fixture_host(k);
	fixture_leadup(k);
	fixture_kernel_report(k);
	k->drops[1] = 5;
	return k;
}

#endif
