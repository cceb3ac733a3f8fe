/* oomwatch's user-space parsing on fixtures: the OOM cgroup's files (v2
 * and v1), the kernel's OOM report from /dev/kmsg records, which memcg
 * level was at its limit, --since's duration and the kills it reads back
 * from the kernel ring and the journal. Run from the repository root. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <cmocka.h>
#include <unistd.h>
#include "cli.h"
#include "memcg_state.h"
#include "oom_history.h"
#include "oom_kmsg.h"
#include "oom_leadup.h"
#include "oom_report.h"
#include "oom_kill_fixture.h"
#include "procfs.h"

#define FIX "tests/fixtures/oom"

static void test_v2_cgroup_files(void **st)
{
	struct memstat ms = { 0 };
	struct mem_events ev;
	uint64_t v = 0;

	(void)st;
	assert_int_equal(oom_read_cgroup_files(FIX "/v2", 2, &ms, &ev), 0);
	assert_int_equal(ms.src, MS_SRC_V2);
	assert_int_equal(memstat_get(&ms, MS_anon), 66797568);
	assert_int_equal(memstat_get(&ms, MS_file), 245760);
	assert_int_equal(memstat_get(&ms, MS_kernel), 1470464);
	assert_true(memstat_raw(&ms, "pgscan", &v));
	assert_int_equal(v, 1024);
	assert_true(memstat_raw(&ms, "pgsteal", &v));
	assert_int_equal(v, 187);
	assert_true(ev.have);
	assert_int_equal(ev.oom_kill, 2);
	assert_int_equal(ev.oom, 3);
	assert_int_equal(ev.max, 41);
	/* the local counter the missed-kill check uses */
	assert_int_equal(memcg_oom_kill_local(FIX "/v2", 2, &v), 0);
	assert_int_equal(v, 2);
	memstat_free(&ms);
}

static void test_v1_cgroup_files(void **st)
{
	struct memstat ms = { 0 };
	struct mem_events ev;
	uint64_t v = 0;

	(void)st;
	assert_int_equal(oom_read_cgroup_files(FIX "/v1", 1, &ms, &ev), 0);
	assert_int_equal(ms.src, MS_SRC_V1);
	/* v1 prefers the hierarchical total_ keys */
	assert_int_equal(memstat_get(&ms, MS_anon), 52047872);
	assert_int_equal(memstat_get(&ms, MS_file), 452345856);
	assert_int_equal(ev.oom_kill, 7);
	assert_int_equal(ev.max, 19); /* memory.failcnt */
	assert_int_equal(memcg_oom_kill_local(FIX "/v1", 1, &v), 0);
	assert_int_equal(v, 7);
	memstat_free(&ms);
	assert_int_not_equal(oom_read_cgroup_files(FIX "/nope", 2, &ms, &ev), 0);
}

static struct kmsg *feed_file(const char *path)
{
	struct kmsg *k = kmsg_new();
	char *buf = NULL, *line, *save = NULL;

	assert_true(read_file(path, &buf) > 0);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		kmsg_feed(k, line);
	free(buf);
	return k;
}

static void test_kmsg_memcg_report(void **st)
{
	struct kmsg *k = feed_file(FIX "/kmsg-memcg.txt");
	struct kernel_report r;

	(void)st;
	assert_false(kmsg_match(k, 4242, &r));
	assert_true(kmsg_match(k, 10474, &r));
	assert_true(r.dumped);
	assert_string_equal(r.constraint, "CONSTRAINT_MEMCG");
	assert_string_equal(kmsg_constraint_name(r.constraint), "memcg");
	assert_string_equal(r.oom_memcg, "/memscope-oomdev");
	assert_string_equal(r.task_memcg, "/memscope-oomdev");
	assert_string_equal(r.trigger_comm, "hog");
	assert_string_equal(r.message, "Memory cgroup out of memory");
	assert_int_equal(r.order, 0);
	assert_true(r.have_memcg_line);
	assert_int_equal(r.memcg_limit_kb, 65536);
	assert_true(r.have_killed);
	assert_int_equal(r.total_vm_kb, 67880);
	assert_int_equal(r.anon_rss_kb, 65280);
	assert_int_equal(r.file_rss_kb, 1364);
	assert_int_equal(r.pgtables_kb, 164);
	assert_int_equal(r.ntasks, 1);
	assert_int_equal(r.seq, 419);
	assert_int_equal(r.nlines, 81);
	assert_false(r.truncated);
	kernel_report_free(&r);
	kmsg_free(k);
}

/* In a storm the kernel rate-limits the header and dump: a kill then has
 * only its "Killed process" line, and must not borrow the previous one's. */
static void test_kmsg_ratelimited(void **st)
{
	struct kmsg *k = feed_file(FIX "/kmsg-memcg.txt");
	struct kernel_report r;

	(void)st;
	kmsg_feed(k, "3,420,695417300,-;Memory cgroup out of memory: Killed process 10480 (a)b) "
		  "total-vm:100kB, anon-rss:20kB, file-rss:4kB, shmem-rss:8kB, UID:1000 "
		  "pgtables:12kB oom_score_adj:1000");
	kmsg_feed(k, "6,430,695417400,-;unrelated line");
	assert_true(kmsg_match(k, 10480, &r));
	assert_false(r.dumped);
	assert_int_equal(r.nlines, 1);
	assert_string_equal(r.constraint, "");
	assert_true(r.have_killed);
	assert_int_equal(r.anon_rss_kb, 20);
	assert_int_equal(r.shmem_rss_kb, 8);
	assert_int_equal(r.uid, 1000);
	assert_int_equal(r.oom_score_adj, 1000);
	assert_int_equal(kmsg_lost(k), 9); /* seq 421..429 never read */
	kernel_report_free(&r);
	kmsg_free(k);
}

static void test_limit_level(void **st)
{
	struct oom_event e = { .depth = 3 };
	bool memsw;

	(void)st;
	/* child unlimited, parent at 16384 pages with usage 16300, root */
	e.chain[0] = (struct oom_memcg_level){ .usage_pages = 16300, .max_pages = 1ULL << 51 };
	e.chain[1] = (struct oom_memcg_level){ .usage_pages = 16300, .max_pages = 16384 };
	e.chain[2] = (struct oom_memcg_level){ .usage_pages = 900000, .max_pages = 1ULL << 51 };
	assert_int_equal(oom_limit_level(&e, &memsw), 1);
	assert_false(memsw);
	/* far below every limit: a global OOM */
	e.chain[1].usage_pages = 4000;
	assert_int_equal(oom_limit_level(&e, &memsw), -1);
	/* v1 memory+swap counter at its limit */
	e.chain[1].memsw_usage_pages = 20000;
	e.chain[1].memsw_max_pages = 20000;
	assert_int_equal(oom_limit_level(&e, &memsw), 1);
	assert_true(memsw);
}

/* Enum values as the kernel's BTF has them: 6.18 (vmlinux/x86/vmlinux.h). */
struct enum_fixture { const char *name; long long val; };
static const struct enum_fixture enums_618[] = {
	{ "NR_INACTIVE_ANON", 0 }, { "NR_ACTIVE_ANON", 1 }, { "NR_INACTIVE_FILE", 2 },
	{ "NR_ACTIVE_FILE", 3 }, { "NR_UNEVICTABLE", 4 }, { "NR_SLAB_RECLAIMABLE_B", 5 },
	{ "NR_SLAB_UNRECLAIMABLE_B", 6 }, { "WORKINGSET_REFAULT_ANON", 10 },
	{ "WORKINGSET_REFAULT_FILE", 11 }, { "WORKINGSET_ACTIVATE_ANON", 12 },
	{ "WORKINGSET_ACTIVATE_FILE", 13 }, { "WORKINGSET_RESTORE_ANON", 14 },
	{ "WORKINGSET_RESTORE_FILE", 15 }, { "WORKINGSET_NODERECLAIM", 16 }, { "NR_ANON_MAPPED", 17 },
	{ "NR_FILE_MAPPED", 18 }, { "NR_FILE_PAGES", 19 }, { "NR_FILE_DIRTY", 20 },
	{ "NR_WRITEBACK", 21 }, { "NR_SHMEM", 22 }, { "NR_SHMEM_THPS", 23 }, { "NR_FILE_THPS", 25 },
	{ "NR_ANON_THPS", 27 }, { "NR_KERNEL_STACK_KB", 36 }, { "NR_PAGETABLE", 37 },
	{ "NR_SECONDARY_PAGETABLE", 38 }, { "MEMCG_SWAP", 51 }, { "MEMCG_SOCK", 52 },
	{ "MEMCG_PERCPU_B", 53 }, { "MEMCG_VMALLOC", 54 }, { "MEMCG_KMEM", 55 },
	{ "MEMCG_NR_STAT", 58 }, { NULL, 0 },
};

static bool fixture_enum(const char *type, const char *name, long long *val, void *ctx)
{
	const struct enum_fixture *f = ctx;

	(void)type;
	for (; f->name; f++)
		if (!strcmp(f->name, name)) {
			*val = f->val;
			return true;
		}
	return false;
}

/* 6.18's compact state[40]: the slots follow memcg_node_stat_items[] (33
 * on this config) then the 7 memcg_stat_items. Slot numbers checked
 * against the kernel's memory.stat at a real kill (oomwatch.bats). */
static void test_memcg_state_compact(void **st)
{
	struct memcg_state_map m;
	int64_t state[40] = { 0 };
	struct memstat ms;

	(void)st;
	memcg_state_map_build(&m, 40, fixture_enum, (void *)enums_618);
	assert_true(m.ok);
	assert_true(m.compact);
	assert_int_equal(m.slot[MS_inactive_anon], 0);
	assert_int_equal(m.slot[MS_refault_anon], 7);
	assert_int_equal(m.slot[MS_anon], 14);
	assert_int_equal(m.slot[MS_file], 16);
	assert_int_equal(m.slot[MS_shmem], 19);
	assert_int_equal(m.slot[MS_kernel_stack], 23);
	assert_int_equal(m.slot[MS_pagetables], 24);
	assert_int_equal(m.slot[MS_swap], 33);
	assert_int_equal(m.slot[MS_sock], 34);
	assert_int_equal(m.slot[MS_vmalloc], 36);
	assert_int_equal(m.slot[MS_kernel], 37);
	state[14] = 16338;   /* pages */
	state[0] = 16315;
	state[5] = 123456;   /* bytes */
	state[23] = 48;      /* kB */
	state[37] = 46;
	state[7] = -1;       /* unfolded per-CPU delta */
	assert_true(memcg_state_to_memstat(&m, state, 40, 4096, &ms));
	assert_int_equal(memstat_get(&ms, MS_anon), 16338ULL * 4096);
	assert_int_equal(memstat_get(&ms, MS_inactive_anon), 16315ULL * 4096);
	assert_int_equal(memstat_get(&ms, MS_slab_reclaimable), 123456);
	assert_int_equal(memstat_get(&ms, MS_kernel_stack), 48 * 1024);
	assert_int_equal(memstat_get(&ms, MS_kernel), 46 * 4096);
	assert_int_equal(memstat_get(&ms, MS_refault_anon), 0);
	assert_true(memstat_has(&ms, MS_file));
}

/* Up to 6.10 every item has its own slot: the enum value. A kernel whose
 * array is longer than its enum is not understood. */
static void test_memcg_state_direct(void **st)
{
	struct memcg_state_map m;

	(void)st;
	memcg_state_map_build(&m, 58, fixture_enum, (void *)enums_618);
	assert_true(m.ok);
	assert_false(m.compact);
	assert_int_equal(m.slot[MS_anon], 17);
	assert_int_equal(m.slot[MS_kernel], 55);
	memcg_state_map_build(&m, 59, fixture_enum, (void *)enums_618);
	assert_false(m.ok);
	memcg_state_map_build(&m, 0, fixture_enum, (void *)enums_618);
	assert_false(m.ok);
}


static void test_parse_duration(void **st)
{
	static const char *bad[] = { "", "10", "m", "10x", "-1m", "1.5h", "0m", "0s0m", "10m ",
				     " 10m", "1h30", "10M", "boot", "1d1", NULL };
	double v = -1;

	(void)st;
	assert_int_equal(parse_duration("10m", 1e9, &v), 0);
	assert_true(v == 600);
	assert_int_equal(parse_duration("2h", 1e9, &v), 0);
	assert_true(v == 7200);
	assert_int_equal(parse_duration("1d", 1e9, &v), 0);
	assert_true(v == 86400);
	assert_int_equal(parse_duration("1h30m", 1e9, &v), 0);
	assert_true(v == 5400);
	assert_int_equal(parse_duration("90s", 1e9, &v), 0);
	assert_true(v == 90);
	for (int i = 0; bad[i]; i++)
		assert_int_equal(parse_duration(bad[i], 1e9, &v), -EINVAL);
	assert_int_equal(parse_duration("367d", 366 * 86400.0, &v), -ERANGE);
	assert_int_equal(parse_duration("99999999999999999999s", 1e30, &v), -ERANGE);
	assert_true(v == 90); /* untouched on error */
}

/* Raw records of a fixture, from line `from` (1-based) on. */
static char **fixture_records(const char *path, size_t from, size_t *n)
{
	char *buf = NULL, *line, *save = NULL, **v = NULL;
	size_t i = 0;

	*n = 0;
	assert_true(read_file(path, &buf) > 0);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (++i >= from) {
			v = realloc(v, (*n + 1) * sizeof(*v));
			assert_non_null(v);
			v[(*n)++] = strdup(line);
		}
	free(buf);
	return v;
}

static void free_records(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Three kills in a 32 MiB v1 memcg on 6.18, the ring read at 318 s after
 * boot: every kill's victim, cgroups, constraint and sizes, the window
 * and the live side's cutoff. */
static void test_history_ring(void **st)
{
	struct oom_history_input in = { .now_real = 1800000000.0, .now_mono = 318.0,
					.journal_state = "absent", .boot_id = "x" };
	struct oom_history_opts o = { .window_s = 600 };
	struct oom_history h;
	const struct oom_past_kill *k;

	(void)st;
	in.kmsg = fixture_records(FIX "/kmsg-three-kills.txt", 1, &in.nkmsg);
	oom_history_build(&o, &in, &h);
	assert_int_equal(h.nkills, 3);
	assert_int_equal(h.kills_this_boot, 3);
	assert_true(h.ring_wrapped);            /* its first record is seq 337 */
	assert_false(h.log_from_boot);
	assert_int_equal(h.ring_first_seq, 337);
	for (int i = 0; i < 3; i++) {
		k = &h.kills[i];
		assert_string_equal(k->log, "kmsg");
		assert_true(k->this_boot);
		assert_int_equal(k->kr.victim_pid, 14467 + i);
		assert_string_equal(k->kr.victim_comm, "hog");
		assert_string_equal(k->kr.trigger_comm, "hog");
		assert_int_equal(k->kr.trigger_pid, 14467 + i);
		assert_string_equal(kmsg_constraint_name(k->kr.constraint), "memcg");
		assert_string_equal(k->kr.oom_memcg, "/oom-since-fix-10820");
		assert_string_equal(k->kr.task_memcg, "/oom-since-fix-10820");
		assert_int_equal(k->kr.memcg_limit_kb, 32768);
		assert_int_equal(k->kr.total_vm_kb, 35112);
		assert_true(k->kr.dumped);
	}
	assert_int_equal(h.kills[0].kr.anon_rss_kb, 32640);
	assert_int_equal(h.kills[0].kr.file_rss_kb, 1240);
	/* wall clock = the boot (now_real - now_mono) + the record's time */
	assert_true(h.kills[0].time > 1800000000.0 - 318 + 317.44376 &&
		    h.kills[0].time < 1800000000.0 - 318 + 317.44378);
	assert_int_equal(h.ncgroups, 1);
	assert_int_equal(h.cgroups[0].in_window, 3);
	oom_history_free(&h);

	/* A window from 317.5 s holds the third kill only; the others count
	 * against the boot's counter still. */
	o.window_s = 0.5;
	oom_history_build(&o, &in, &h);
	assert_int_equal(h.nkills, 1);
	assert_int_equal(h.kills[0].kr.victim_pid, 14469);
	assert_int_equal(h.kills_this_boot, 3);
	oom_history_free(&h);

	/* Live mode: kill lines from seq 492 on are the live side's. */
	o = (struct oom_history_opts){ .since_boot = true, .have_cutoff = true, .cutoff_seq = 492 };
	oom_history_build(&o, &in, &h);
	assert_int_equal(h.nkills, 1);
	assert_int_equal(h.kills[0].kr.victim_pid, 14467);
	assert_int_equal(h.left_to_live, 2);
	oom_history_free(&h);

	/* -c: a cgroup with none of them */
	o = (struct oom_history_opts){ .since_boot = true, .cgroup = "/oom-since-fix" };
	oom_history_build(&o, &in, &h);
	assert_int_equal(h.nkills, 0);
	assert_int_equal(h.kills_this_boot, 3);
	oom_history_free(&h);
	free_records(in.kmsg, in.nkmsg);
}

/* The journal holds an earlier boot's kill and this boot's first kill,
 * which the ring lost (it starts at seq 415): each kill once, with its
 * source; the earlier boot's at journald's wall clock. The export fixture
 * is the real kernel text of the two kmsg fixtures in journalctl's export
 * format (one MESSAGE a binary field). */
static void test_history_journal(void **st)
{
	struct oom_history_input in = { .now_real = 1796616615.39 + 318.0, .now_mono = 318.0,
					.journal_state = "read",
					.boot_id = "8d3b5c4e-2f1a-4b6c-9d0e-1f2a3b4c5d6e" };
	struct oom_history_opts o = { .window_s = 30 * 86400 };
	struct oom_history h;
	char *journal = NULL;

	(void)st;
	in.kmsg = fixture_records(FIX "/kmsg-three-kills.txt", 79, &in.nkmsg);
	in.journal_len = read_file(FIX "/journal-export.txt", &journal);
	in.journal = journal;
	oom_history_build(&o, &in, &h);
	assert_int_equal(h.nkills, 4);
	assert_int_equal(h.kills[0].kr.victim_pid, 10474);
	assert_string_equal(h.kills[0].log, "journal");
	assert_false(h.kills[0].this_boot);
	assert_string_equal(h.kills[0].boot_id, "0f0e0d0c0b0a09080706050403020100");
	assert_string_equal(h.kills[0].kr.oom_memcg, "/memscope-oomdev");
	/* its "Killed process" record: 695.417266 s, stored 1.5 ms later */
	assert_true(h.kills[0].time > 1796000000.0 + 695.4187 && h.kills[0].time < 1796000000.0 + 695.4188);
	assert_int_equal(h.kills[1].kr.victim_pid, 14467);
	assert_string_equal(h.kills[1].log, "journal");
	assert_true(h.kills[1].this_boot);
	assert_true(h.kills[1].kr.dumped);
	assert_int_equal(h.kills[1].kr.anon_rss_kb, 32640);
	assert_int_equal(h.kills[2].kr.victim_pid, 14468);
	assert_string_equal(h.kills[2].log, "kmsg");
	assert_int_equal(h.kills[3].kr.victim_pid, 14469);
	assert_int_equal(h.kills_this_boot, 3);
	assert_int_equal(h.journal_kills, 2);
	assert_int_equal(h.cgroups[0].in_log, 3);
	oom_history_free(&h);
	free_records(in.kmsg, in.nkmsg);
	free(journal);
}

/* memory.oom.group: the kernel prints (and counts) the selected victim's
 * "Killed process" line twice; it is listed once, counted twice. */
static void test_history_printed_twice(void **st)
{
	struct oom_history_input in = { .now_real = 1800000000.0, .now_mono = 318.0,
					.journal_state = "absent", .boot_id = "x" };
	struct oom_history_opts o = { .since_boot = true };
	struct oom_history h;
	char *again = "3,571,317517310,-;Memory cgroup out of memory: Killed process 14469 (hog) "
		      "total-vm:35112kB, anon-rss:32512kB, file-rss:1324kB, shmem-rss:0kB, UID:0 "
		      "pgtables:100kB oom_score_adj:0";

	(void)st;
	in.kmsg = fixture_records(FIX "/kmsg-three-kills.txt", 1, &in.nkmsg);
	in.kmsg = realloc(in.kmsg, (in.nkmsg + 1) * sizeof(*in.kmsg));
	in.kmsg[in.nkmsg++] = strdup(again);
	oom_history_build(&o, &in, &h);
	assert_int_equal(h.nkills, 3);
	assert_int_equal(h.kills_this_boot, 4);
	assert_int_equal(h.printed_twice, 1);
	oom_history_free(&h);
	free_records(in.kmsg, in.nkmsg);
}

static void count_rec(const struct journal_kernel_rec *r, void *ctx)
{
	(void)r;
	++*(int *)ctx;
}

static void test_journal_export_malformed(void **st)
{
	static const char cut[] = "MESSAGE=a\n\nMESSAGE\n\x05\x00\x00\x00\x00\x00\x00\x00" "abc";
	int n = 0;

	(void)st;
	/* a binary field shorter than its size: the entry before it is kept */
	assert_int_equal(journal_export_parse(cut, sizeof(cut) - 1, count_rec, &n), -EINVAL);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(journal_export_parse("MESSAGE=x\n_BOOT_ID=1", 20, count_rec, &n), 1);
}

/* A kill completed with an empty needs mask (the exporter's) reads
 * nothing beyond the event: no cmdline, parent, host memory or PSI; with
 * the victim's and the host's needs it reads them, and filled says so.
 * The victim is this process, so /proc has it. */
static void test_collect_needs(void **st)
{
	(void)st;
	struct oom_kill *k = calloc(1, sizeof(*k));
	assert_non_null(k);
	k->ev.victim_pid = k->ev.victim_tgid = getpid();
	k->ev.flags = OOM_F_TP_BTF;
	snprintf(k->ev.victim_comm, sizeof(k->ev.victim_comm), "test_oom");

	oom_kill_collect(k, "/nonexistent", 2, NULL, 0);
	assert_int_equal(k->filled, 0);
	assert_null(k->cmdline);
	assert_int_equal(k->ppid, 0);
	assert_false(k->have_mi);
	assert_false(k->have_psi);
	assert_string_equal(k->ev.victim_comm, "test_oom");

	oom_kill_collect(k, "/nonexistent", 2, NULL, OOM_NEED_VICTIM | OOM_NEED_HOST);
	assert_int_equal(k->filled, OOM_NEED_VICTIM | OOM_NEED_HOST);
	assert_non_null(k->cmdline);
	assert_non_null(strstr(k->cmdline, "test_oom"));
	assert_string_equal(k->cmdline_src, "/proc");
	assert_int_equal(k->ppid, getppid());
	assert_true(k->have_mi);
	assert_true(k->mi.mem_total > 0);
	oom_kill_free(k);
}

/* Usage and limit in bytes, from the level at its limit; "no limit"
 * (the page_counter's maximum) is 0. */
static void test_usage_limit(void **st)
{
	(void)st;
	long ps = 4096;
	struct oom_kill *k = calloc(1, sizeof(*k));
	assert_non_null(k);
	k->ev.depth = 2;
	k->ev.chain[0] = (struct oom_memcg_level){ .usage_pages = 100, .max_pages = 1ull << 51 };
	k->ev.chain[1] = (struct oom_memcg_level){ .usage_pages = 1000, .max_pages = 1024 };
	oom_kill_decode(k, ps, false);
	assert_int_equal(k->limit_level, 1);
	assert_int_equal(k->usage, 1000 * ps);
	assert_int_equal(k->limit, 1024 * ps);
	oom_kill_free(k);

	k = calloc(1, sizeof(*k));
	assert_non_null(k);
	k->ev.depth = 1;
	k->ev.chain[0] = (struct oom_memcg_level){ .usage_pages = 100, .max_pages = 1ull << 51 };
	oom_kill_decode(k, ps, false);
	assert_int_equal(k->limit_level, -1);
	assert_int_equal(k->usage, 100 * ps);
	assert_int_equal(k->limit, 0);
	assert_string_equal(k->constraint, "global");
	oom_kill_free(k);
}

/* A cgroup gone before its id is looked up (systemd removes a dead
 * unit's at once) keeps the path its names had at the kill; a chain cut
 * short of the root, or a name cut at the copy's size, leaves it unknown
 * rather than wrong. The ids are no cgroup's. */
static void test_paths_from_names(void **st)
{
	(void)st;
	struct oom_kill *k = calloc(1, sizeof(*k));
	assert_non_null(k);
	k->ev.depth = 3;
	for (int i = 0; i < 3; i++)
		k->ev.chain[i] = (struct oom_memcg_level){ .id = 0xffffffff00ull + i, .max_pages = 1ull << 51 };
	strcpy(k->ev.chain[0].name, "memscope-vm-hog.service");
	strcpy(k->ev.chain[1].name, "system.slice");
	oom_kill_decode(k, 4096, false);
	assert_string_equal(k->paths[0], "/system.slice/memscope-vm-hog.service");
	assert_string_equal(k->paths[1], "/system.slice");
	assert_string_equal(k->paths[2], "/");
	oom_kill_free(k);

	k = calloc(1, sizeof(*k));
	assert_non_null(k);
	k->ev.depth = 2;
	k->ev.flags = OOM_F_CHAIN_CUT;
	k->ev.chain[0] = (struct oom_memcg_level){ .id = 0xffffffff00ull, .name = "pod" };
	k->ev.chain[1] = (struct oom_memcg_level){ .id = 0xffffffff01ull, .name = "kubepods" };
	oom_kill_decode(k, 4096, false);
	assert_null(k->paths[0]);
	oom_kill_free(k);

	k = calloc(1, sizeof(*k));
	assert_non_null(k);
	k->ev.depth = 2;
	k->ev.chain[0] = (struct oom_memcg_level){ .id = 0xffffffff00ull };
	memset(k->ev.chain[0].name, 'x', OOM_CGROUP_NAME_MAX - 1);
	k->ev.chain[1] = (struct oom_memcg_level){ .id = 0xffffffff01ull };
	oom_kill_decode(k, 4096, false);
	assert_null(k->paths[0]);
	assert_string_equal(k->paths[1], "/");
	oom_kill_free(k);
}

/* What oom_kill_print and oom_kill_json print for one fixed kill is
 * byte for byte what they printed before the collector/view split
 * (tests/fixtures/oom/kill.txt and kill.json were written by that build
 * from the same fixture). */
static void expect_output(void (*print)(FILE *, const struct oom_kill *), const struct oom_kill *k,
			  const char *golden)
{
	char *out = NULL, *want = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	print(f, k);
	fclose(f);
	assert_true(read_file(golden, &want) > 0);
	assert_string_equal(out, want);
	free(out);
	free(want);
}

static void test_kill_views_unchanged(void **st)
{
	(void)st;
	setenv("TZ", "UTC", 1);
	tzset();
	struct oom_kill *k = fixture_kill();
	assert_true(k->have_stat && k->have_mi && k->have_psi && k->kr.have_killed);
	expect_output(oom_kill_print, k, "tests/fixtures/oom/kill.txt");
	expect_output(oom_kill_json, k, "tests/fixtures/oom/kill.json");
	oom_kill_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_collect_needs),
		cmocka_unit_test(test_kill_views_unchanged),
		cmocka_unit_test(test_usage_limit),
		cmocka_unit_test(test_paths_from_names),
		cmocka_unit_test(test_v2_cgroup_files),
		cmocka_unit_test(test_v1_cgroup_files),
		cmocka_unit_test(test_kmsg_memcg_report),
		cmocka_unit_test(test_kmsg_ratelimited),
		cmocka_unit_test(test_limit_level),
		cmocka_unit_test(test_memcg_state_compact),
		cmocka_unit_test(test_memcg_state_direct),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_history_ring),
		cmocka_unit_test(test_history_journal),
		cmocka_unit_test(test_history_printed_twice),
		cmocka_unit_test(test_journal_export_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
