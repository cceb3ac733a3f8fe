/* memstat parsers, the working set and memdiag's diagnosis on fixtures:
 * the memory fault guide's cgroup v1 sample, a v2 pod, nested v2 limits,
 * this machine's meminfo and a smaps_rollup. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <unistd.h>

#include "memdiag_diag.h"
#include "memstat.h"
#include "procfs.h"

#ifndef FIXTURES
#define FIXTURES "tests/fixtures/memstat"
#endif

static char *slurp(const char *rel)
{
	char path[512], *buf = NULL;
	snprintf(path, sizeof(path), "%s/%s", FIXTURES, rel);
	assert_true(read_file(path, &buf) >= 0);
	return buf;
}

static const struct finding *find(const struct diag *d, const char *code)
{
	for (int i = 0; i < d->n; i++)
		if (!strcmp(d->f[i].code, code))
			return &d->f[i];
	return NULL;
}

static double evidence(const struct finding *f, const char *name)
{
	for (int i = 0; i < f->nev; i++)
		if (!strcmp(f->ev[i].name, name))
			return f->ev[i].val;
	fail_msg("no evidence %s in %s", name, f->code);
	return 0;
}

/* The guide's numbers: limit 6,291,456,000; rss 2,389,835,776; cache
 * 3,224,702,976; inactive_file 2,374,172,672. */
static void test_v1_guide_parse(void **state)
{
	(void)state;
	struct memstat ms;
	char *buf = slurp("v1_guide/memory.stat");

	assert_int_equal(memstat_parse(buf, &ms), 0);
	assert_int_equal(ms.src, MS_SRC_V1);
	assert_int_equal(ms.anon, 2389835776ULL);
	assert_int_equal(ms.file, 3224702976ULL);
	assert_int_equal(ms.inactive_anon, 2438934528ULL);
	assert_int_equal(ms.active_anon, 196939776ULL);
	assert_int_equal(ms.inactive_file, 2374172672ULL);
	assert_int_equal(ms.active_file, 612716544ULL);
	assert_int_equal(ms.shmem, 237355008ULL);
	assert_int_equal(ms.anon_thp, 562036736ULL);
	assert_int_equal(ms.hier_limit, 6291456000ULL);
	assert_true(memstat_has(&ms, MS_swap));
	assert_false(memstat_has(&ms, MS_sock));     /* v1 memory.stat has no sock */
	/* Raw keys stay reachable, including ones not normalised. */
	uint64_t v;
	assert_true(memstat_raw(&ms, "total_pgpgin", &v));
	assert_int_equal(v, 869437272ULL);
	assert_true(memstat_raw(&ms, "workingset_nodereclaim", &v));
	assert_false(memstat_raw(&ms, "no_such_key", &v));
	assert_int_equal(ms.nraw, 50);
	memstat_free(&ms);
	free(buf);
}

/* v1 prefers the hierarchical total_ keys: the root's local "rss" is only
 * its own pages. */
static void test_v1_prefers_total(void **state)
{
	(void)state;
	struct memstat ms;
	const char *buf = "cache 100\nrss 200\ninactive_file 30\ntotal_cache 1000\ntotal_rss 2000\n"
			  "total_inactive_file 300\n";
	assert_int_equal(memstat_parse(buf, &ms), 0);
	assert_int_equal(ms.file, 1000);
	assert_int_equal(ms.anon, 2000);
	assert_int_equal(ms.inactive_file, 300);
	memstat_free(&ms);
}

static void test_v1_guide_working_set(void **state)
{
	(void)state;
	struct cgroup_mem cm;
	struct working_set ws;

	assert_int_equal(cgroup_mem_read(FIXTURES "/v1_guide", &cm), 0);
	assert_int_equal(cm.version, 1);
	assert_int_equal(cm.limit, 6291456000ULL);
	assert_string_equal(cm.usage_src, "rss+cache");
	assert_true(cm.events.have);
	assert_int_equal(cm.events.oom_kill, 0);
	working_set_compute(&cm.stat, cm.usage, true, cm.limit, &ws);
	/* usage = rss + cache = 5,614,538,752 (about 5.61e9) */
	assert_int_equal(ws.usage, 5614538752ULL);
	/* working set = usage - inactive_file = 3,240,366,080 (3.02 GiB), not
	 * the guide's 5.2 "GB" of rss + cache */
	assert_int_equal(ws.working_set, 3240366080ULL);
	assert_true(ws.working_set > 3.23e9 && ws.working_set < 3.25e9);
	assert_int_equal(ws.rss_plus_cache, 5614538752ULL);
	assert_int_equal(ws.lru_sum, 2438934528ULL + 196939776ULL + 2374172672ULL + 612716544ULL);
	assert_int_equal(ws.usage_minus_cache, 2389835776ULL);
	assert_int_equal(ws.headroom, 6291456000ULL - 3240366080ULL);
	assert_true(pct_of(ws.working_set, ws.limit) > 51.4 && pct_of(ws.working_set, ws.limit) < 51.6);
	cgroup_mem_free(&cm);
}

static void diag_of(const char *dir, struct diag *d, struct cgroup_mem *cm, struct working_set *ws)
{
	assert_int_equal(cgroup_mem_read(dir, cm), 0);
	working_set_compute(&cm->stat, cm->usage, true, cm->limit, ws);
	struct diag_input in = {
		.ms = &cm->stat, .ws = ws, .ram = 64ULL << 30,
		.have_oom = cm->events.have, .oom_kills = cm->events.oom_kill,
		.have_psi = cm->have_psi, .psi = cm->psi,
		.have_swap = cm->have_swap, .swap = cm->swap,
		.have_sock = memstat_has(&cm->stat, MS_sock), .sock = cm->stat.sock,
		.fd_count = -1, .target = "-c /x",
	};
	diagnose(&in, d);
}

/* The guide concluded "healthy, 5.2 GB close to 6 GB". Made precise: the
 * usage is mostly reclaimable cache (not a leak). Its 2.27 GiB of
 * inactive_anon is not "cold" anon: on 5.9+ new anonymous pages start on
 * the inactive list, and with no swap nothing ever moves them; a level is
 * information, not a warning. */
static void test_v1_guide_diagnosis(void **state)
{
	(void)state;
	struct diag d;
	struct cgroup_mem cm;
	struct working_set ws;

	diag_of(FIXTURES "/v1_guide", &d, &cm, &ws);
	assert_null(find(&d, "oom_kills"));
	assert_null(find(&d, "near_limit"));   /* 51.5% by working set */
	const struct finding *ia = find(&d, "inactive_anon");
	assert_non_null(ia);
	assert_int_equal(ia->sev, SEV_INFO);
	assert_int_equal((uint64_t)evidence(ia, "inactive_anon_bytes"), 2438934528ULL);
	assert_int_equal((uint64_t)evidence(ia, "shmem_bytes"), 237355008ULL);
	/* inactive_anon > rss because shmem sits on the anon LRU */
	assert_non_null(strstr(ia->msg, "shmem"));
	assert_non_null(strstr(ia->msg, "not a sign of idle memory"));
	assert_non_null(strstr(ia->msg, "start on the inactive list"));
	assert_null(strstr(ia->msg, "not touched lately"));
	assert_non_null(strstr(ia->suggest, "-i 10"));
	const struct finding *rc = find(&d, "reclaimable_cache");
	assert_non_null(rc);
	assert_int_equal((uint64_t)evidence(rc, "inactive_file_bytes"), 2374172672ULL);
	assert_int_equal((uint64_t)evidence(rc, "working_set_bytes"), 3240366080ULL);
	assert_non_null(strstr(rc->msg, "not a leak"));
	assert_int_equal(d.f[0].sev, SEV_INFO);
	/* one look at the files: nothing wrong, and no word on growth */
	assert_ptr_equal(strstr(d.verdict, "UNKNOWN: no finding in 1 sample, growth not measured"), d.verdict);
	cgroup_mem_free(&cm);
}

/* The guide's cgroup as diagnose() input, levels only. */
static struct diag_input guide_input(struct cgroup_mem *cm, struct working_set *ws)
{
	assert_int_equal(cgroup_mem_read(FIXTURES "/v1_guide", cm), 0);
	working_set_compute(&cm->stat, cm->usage, true, cm->limit, ws);
	return (struct diag_input){ .ms = &cm->stat, .ws = ws, .ram = 64ULL << 30, .fd_count = -1 };
}

/* With swap and reclaim that scanned the cgroup, inactive is what reclaim
 * left there: then the guide's reading holds; with MGLRU, older
 * generations. */
static void test_inactive_anon_aged(void **state)
{
	(void)state;
	struct diag d;
	struct cgroup_mem cm;
	struct working_set ws;
	struct diag_input in = guide_input(&cm, &ws);

	in.lru = LRU_CLASSIC_59;
	in.swap_usable = in.anon_scanned = true;
	diagnose(&in, &d);
	assert_non_null(strstr(find(&d, "inactive_anon")->msg, "not referenced since it last scanned"));
	in.lru = LRU_MGLRU;
	diagnose(&in, &d);
	assert_non_null(strstr(find(&d, "inactive_anon")->msg, "older generations"));
	cgroup_mem_free(&cm);
}

/* A lifetime oom_kill counter: critical while the last kill is recent,
 * a warning naming it once it is history, critical when its time is
 * unknown. */
static void test_old_oom_kill(void **state)
{
	(void)state;
	struct diag d;
	struct cgroup_mem cm;
	struct working_set ws;
	struct diag_input in = guide_input(&cm, &ws);

	in.have_oom = in.kill_log_read = in.have_last_kill = true;
	in.oom_kills = 2;
	in.last_kill_age_s = 3 * 3600.0;
	in.last_kill_comm = "redis-server";
	in.last_kill_pid = 4242;
	diagnose(&in, &d);
	const struct finding *f = find(&d, "oom_kills");
	assert_int_equal(f->sev, SEV_WARN);
	assert_non_null(strstr(f->msg, "the last one 3.0 h ago killed redis-server (pid 4242), none since"));
	assert_non_null(strstr(d.verdict, "WARNING: 2 OOM kills, the last 3.0 h ago"));
	assert_int_equal((int)evidence(f, "last_kill_pid"), 4242);
	in.last_kill_age_s = 60;
	diagnose(&in, &d);
	assert_int_equal(find(&d, "oom_kills")->sev, SEV_CRIT);
	in.have_last_kill = false;
	diagnose(&in, &d);
	assert_int_equal(find(&d, "oom_kills")->sev, SEV_CRIT);
	assert_non_null(strstr(find(&d, "oom_kills")->msg, "no longer holds"));
	cgroup_mem_free(&cm);
}

static void test_v2_pod(void **state)
{
	(void)state;
	struct diag d;
	struct cgroup_mem cm;
	struct working_set ws;

	diag_of(FIXTURES "/v2_pod", &d, &cm, &ws);
	assert_int_equal(cm.version, 2);
	assert_false(cm.root);
	assert_string_equal(cm.usage_src, "memory.current");
	assert_int_equal(cm.usage, 2420113408ULL);
	assert_int_equal(cm.limit, 2684354560ULL);
	assert_int_equal(cm.high, MEM_UNLIMITED);
	assert_int_equal(cm.peak, 2550000000ULL);
	assert_true(cm.have_swap);
	assert_int_equal(cm.stat.anon, 1610612736ULL);
	assert_int_equal(cm.stat.file, 536870912ULL);
	assert_int_equal(cm.stat.sock, 104857600ULL);
	assert_int_equal(cm.stat.kernel, 167772160ULL);
	assert_int_equal(cm.stat.slab_unreclaimable, 31457280ULL);
	assert_int_equal(cm.events.oom_kill, 3);
	assert_int_equal(cm.events.max, 57);
	assert_true(cm.have_psi);
	assert_true(cm.psi.some.avg10 > 12.49 && cm.psi.some.avg10 < 12.51);
	assert_true(cm.psi.have_full);
	/* memory.current - inactive_file */
	assert_int_equal(ws.working_set, 2420113408ULL - 268435456ULL);

	/* most important first: the OOM kills */
	assert_string_equal(d.f[0].code, "oom_kills");
	assert_int_equal(d.f[0].sev, SEV_CRIT);
	assert_non_null(strstr(d.f[0].suggest, "oomwatch"));
	const struct finding *nl = find(&d, "near_limit");
	assert_non_null(nl);                    /* 80.2% of the limit */
	assert_int_equal(nl->sev, SEV_WARN);
	const struct finding *sk = find(&d, "socket_memory");
	assert_non_null(sk);
	assert_non_null(strstr(sk->suggest, "sockleak"));
	assert_int_equal((uint64_t)evidence(sk, "sock_bytes"), 104857600ULL);
	const struct finding *pr = find(&d, "pressure");
	assert_non_null(pr);
	assert_int_equal(pr->sev, SEV_WARN);    /* full avg10 4.2 < 5 */
	assert_non_null(find(&d, "anon_high")); /* 60% of the limit */
	assert_non_null(find(&d, "inactive_anon"));
	assert_null(find(&d, "swap"));          /* swap.current is 0 */
	assert_non_null(strstr(d.verdict, "CRITICAL: 3 OOM kills"));
	for (int i = 1; i < d.n; i++)
		assert_true(d.f[i - 1].sev >= d.f[i].sev);
	cgroup_mem_free(&cm);
}

/* A v2 child without its own limit is bounded by its parent's memory.max. */
static void test_v2_nested_limit(void **state)
{
	(void)state;
	struct cgroup_mem cm;

	assert_int_equal(cgroup_mem_read(FIXTURES "/v2_nested/child", &cm), 0);
	assert_int_equal(cm.version, 2);
	assert_int_equal(cm.limit, 1073741824ULL);
	assert_string_equal(cm.limit_src, "an ancestor's limit");
	assert_false(cm.have_psi);
	cgroup_mem_free(&cm);
	assert_int_equal(cgroup_mem_read(FIXTURES "/no_such_dir", &cm), -ENOENT);
}

static void test_limits(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_int_equal(mem_limit_parse("max\n", &v), 0);
	assert_int_equal(v, MEM_UNLIMITED);
	assert_int_equal(mem_limit_parse("9223372036854771712\n", &v), 0);
	assert_int_equal(v, MEM_UNLIMITED);
	assert_int_equal(mem_limit_parse("104857600\n", &v), 0);
	assert_int_equal(v, 104857600ULL);
	/* Unparsable is an error, never "no limit" (issue 16 #5). */
	assert_int_equal(mem_limit_parse("garbage", &v), -EINVAL);
	assert_int_equal(mem_limit_parse("maximum", &v), -EINVAL);
	assert_int_equal(mem_limit_parse("", &v), -EINVAL);
}

/* A usage file is a number: "max" or "anon 1" in memory.current is an
 * error naming the file, not 16384 PiB of usage (issue 16 #5). */
static void test_usage_not_a_number(void **state)
{
	char dir[] = "/tmp/memscope-usage-XXXXXX", path[128];
	static const char *bad[] = { "anon 1\n", "max\n", "", "12abc\n", "99999999999999999999999\n" };
	struct cgroup_mem cm;
	uint64_t v;
	FILE *f;

	(void)state;
	assert_int_equal(mem_number_parse(" 4096\n", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(mem_number_parse("max\n", &v), -EINVAL);
	assert_int_equal(mem_number_parse("-1", &v), -EINVAL);
	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		static const char *files[][2] = { { "memory.stat", "anon 4096\nfile 8192\n" },
						  { "memory.max", "max\n" } };
		for (size_t j = 0; j < 2; j++) {
			snprintf(path, sizeof(path), "%s/%s", dir, files[j][0]);
			assert_non_null(f = fopen(path, "w"));
			fputs(files[j][1], f);
			fclose(f);
		}
		snprintf(path, sizeof(path), "%s/memory.current", dir);
		assert_non_null(f = fopen(path, "w"));
		fputs(bad[i], f);
		fclose(f);
		assert_int_equal(cgroup_mem_read(dir, &cm), -EBADMSG);
		assert_string_equal(cm.bad_file, "memory.current");
		cgroup_mem_free(&cm);
	}
	for (const char *const *n = (const char *const[]){ "memory.stat", "memory.max", "memory.current", NULL };
	     *n; n++) {
		snprintf(path, sizeof(path), "%s/%s", dir, *n);
		unlink(path);
	}
	assert_int_equal(rmdir(dir), 0);
}

static void test_meminfo(void **state)
{
	(void)state;
	struct meminfo mi;
	struct memstat ms;
	struct working_set ws;
	char *buf = slurp("meminfo_host");

	assert_int_equal(meminfo_parse(buf, &mi), 0);
	assert_int_equal(mi.mem_total, 24683656ULL * 1024);
	assert_int_equal(mi.mem_free, 24333516ULL * 1024);
	assert_int_equal(mi.inactive_file, 153772ULL * 1024);
	assert_int_equal(mi.sreclaimable, 51772ULL * 1024);
	assert_int_equal(mi.hugepage_size, 2048ULL * 1024);
	assert_int_equal(mi.hugepages_total, 0);
	meminfo_to_memstat(&mi, &ms);
	assert_int_equal(ms.anon, 11692ULL * 1024);
	assert_int_equal(ms.file, (2568ULL + 224164ULL) * 1024);
	assert_int_equal(ms.kernel, (72344ULL + 1372 + 1784 + 688 + 5652) * 1024);
	assert_int_equal(ms.swap, 0);
	working_set_compute(&ms, mi.mem_total - mi.mem_free, true, mi.mem_total, &ws);
	assert_int_equal(ws.working_set, (24683656ULL - 24333516ULL - 153772ULL) * 1024);
	assert_int_equal(meminfo_parse("nothing here\n", &mi), -EINVAL);
	free(buf);
}

static void test_smaps_rollup(void **state)
{
	(void)state;
	struct smaps_rollup sr;
	char *buf = slurp("smaps_rollup_cat");

	assert_int_equal(smaps_rollup_parse(buf, &sr), 0);
	assert_int_equal(sr.rss, 1664 * 1024);
	assert_int_equal(sr.pss, 398 * 1024);
	assert_int_equal(sr.pss_anon, 112 * 1024);
	assert_int_equal(sr.pss_file, 286 * 1024);
	assert_int_equal(sr.anonymous, 112 * 1024);
	assert_int_equal(sr.swap, 0);
	free(buf);
}

static void test_psi_and_events(void **state)
{
	(void)state;
	struct psi p;
	struct mem_events ev;
	char *buf = slurp("psi_idle");

	assert_int_equal(psi_parse(buf, &p), 0);
	assert_true(p.have_full);
	assert_true(p.some.avg10 == 0.0);
	free(buf);
	/* Older kernels show only the "some" line at the system level. */
	assert_int_equal(psi_parse("some avg10=1.50 avg60=0.20 avg300=0.00 total=42\n", &p), 0);
	assert_false(p.have_full);
	assert_int_equal(p.some.total_us, 42);
	assert_int_equal(psi_parse("bogus\n", &p), -EINVAL);
	assert_int_equal(mem_events_parse("oom_kill_disable 0\nunder_oom 1\noom_kill 7\n", &ev), 0);
	assert_int_equal(ev.oom_kill, 7);
	assert_int_equal(ev.under_oom, 1);
	assert_int_equal(mem_events_parse("low 0\n", &ev), -EINVAL);
}

static void test_bad_input(void **state)
{
	(void)state;
	struct memstat ms;
	assert_int_equal(memstat_parse("", &ms), -EINVAL);
	assert_int_equal(memstat_parse("hello world\nfoo\n", &ms), -EINVAL);
	/* a truncated last line still parses */
	assert_int_equal(memstat_parse("anon 4096\nfile 8192", &ms), 0);
	assert_int_equal(ms.src, MS_SRC_V2);
	assert_int_equal(ms.file, 8192);
	memstat_free(&ms);
}

/* -i: a steady anon slope is a leak suspect; a flat level is not. */
static void test_trend_leak(void **state)
{
	(void)state;
	struct trend tr;
	struct memstat ms = { .src = MS_SRC_V2 };
	struct working_set ws;
	struct diag d;

	ms.have = (1ULL << MS_anon) | (1ULL << MS_file) | (1ULL << MS_inactive_anon);
	trend_init(&tr);
	for (int i = 0; i < 6; i++) {
		double v[TB_N];
		ms.anon = (100ULL << 20) + (uint64_t)i * (10ULL << 20);  /* +10 MiB every 10 s */
		ms.file = 50ULL << 20;
		working_set_compute(&ms, ms.anon + ms.file, true, 1ULL << 30, &ws);
		trend_values(&ms, &ws, 0, 0, v);
		trend_add(&tr, 1000.0 + i * 10.0, v);
	}
	double rate = trend_per_min(&tr, TB_anon);
	assert_true(rate > 59.9 * (1 << 20) && rate < 60.1 * (1 << 20));
	assert_true(trend_per_min(&tr, TB_file) == 0.0);
	assert_true(trend_span_s(&tr) > 49.9 && trend_span_s(&tr) < 50.1);

	struct diag_input in = { .ms = &ms, .ws = &ws, .ram = 8ULL << 30, .fd_count = -1,
				 .pid = 77, .trend = &tr };
	diagnose(&in, &d);
	const struct finding *g = find(&d, "anon_growth");
	assert_non_null(g);
	assert_non_null(strstr(g->suggest, "memleak-trace -p 77"));
	/* 1 GiB limit, ws 200 MiB growing 60 MiB/min: limit in ~14 min */
	const struct finding *eta = find(&d, "limit_eta");
	assert_non_null(eta);
	assert_int_equal(eta->sev, SEV_CRIT);
	assert_string_equal(d.f[0].code, "limit_eta");

	/* Flat: no growth finding */
	trend_init(&tr);
	for (int i = 0; i < 6; i++) {
		double v[TB_N];
		trend_values(&ms, &ws, 0, 0, v);
		trend_add(&tr, i * 10.0, v);
	}
	diagnose(&in, &d);
	assert_null(find(&d, "anon_growth"));
	assert_null(find(&d, "limit_eta"));
}

/* The host: eviction below memory.available 100Mi. */
static void test_host_eviction(void **state)
{
	(void)state;
	struct memstat ms = { .src = MS_SRC_MEMINFO };
	struct working_set ws;
	struct diag d;
	uint64_t ram = 4ULL << 30;

	ms.have = (1ULL << MS_anon) | (1ULL << MS_inactive_file);
	ms.anon = ram - (150ULL << 20);
	ms.inactive_file = 10ULL << 20;
	working_set_compute(&ms, ram - (60ULL << 20), true, ram, &ws);
	struct diag_input in = { .host = true, .ms = &ms, .ws = &ws, .ram = ram, .fd_count = -1,
				 .have_oom = true, .oom_kills = 0 };
	diagnose(&in, &d);
	const struct finding *e = find(&d, "eviction");
	assert_non_null(e);
	assert_int_equal(e->sev, SEV_CRIT);
	assert_int_equal((uint64_t)evidence(e, "memory_available_bytes"), 70ULL << 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1_guide_parse),
		cmocka_unit_test(test_v1_prefers_total),
		cmocka_unit_test(test_v1_guide_working_set),
		cmocka_unit_test(test_v1_guide_diagnosis),
		cmocka_unit_test(test_inactive_anon_aged),
		cmocka_unit_test(test_old_oom_kill),
		cmocka_unit_test(test_v2_pod),
		cmocka_unit_test(test_v2_nested_limit),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_usage_not_a_number),
		cmocka_unit_test(test_meminfo),
		cmocka_unit_test(test_smaps_rollup),
		cmocka_unit_test(test_psi_and_events),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_trend_leak),
		cmocka_unit_test(test_host_eviction),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
