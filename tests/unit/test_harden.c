/* Parsers of outside text under input a broken or hostile host gives
 * (issue 16): each test was written against the defect it guards. */
#include <malloc.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "oom_kmsg.h"
#include "output.h"

/* One kill whose block holds two oom-kill: lines (the kernel prints one
 * per oom_kill_process call; a retried kill prints another). The newer
 * line wins, and matching it again and again must not grow the heap:
 * a long-running oomwatch leaked both paths of every such kill. */
static void test_kmsg_two_oom_kill_lines(void **st)
{
	static const char *block[] = {
		"4,1,1000,-;hog invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
		"6,2,1001,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
		"oom_memcg=/first,task_memcg=/first/t,task=hog,pid=7,uid=0",
		"6,3,1002,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
		"oom_memcg=/second,task_memcg=/second/t,task=hog,pid=7,uid=0",
		"3,4,1003,-;Memory cgroup out of memory: Killed process 7 (hog) total-vm:100kB, anon-rss:20kB, "
		"file-rss:4kB, shmem-rss:8kB, UID:0 pgtables:12kB oom_score_adj:0",
	};
	struct kmsg *k = kmsg_new();
	struct kernel_report r;
	size_t before, after;

	(void)st;
	for (size_t i = 0; i < sizeof(block) / sizeof(block[0]); i++)
		kmsg_feed(k, block[i]);
	assert_true(kmsg_match(k, 7, &r));
	assert_string_equal(r.oom_memcg, "/second");
	assert_string_equal(r.task_memcg, "/second/t");
	kernel_report_free(&r);

	before = mallinfo2().uordblks;
	for (int i = 0; i < 20000; i++) {
		assert_true(kmsg_match(k, 7, &r));
		kernel_report_free(&r);
	}
	after = mallinfo2().uordblks;
	/* Two leaked paths a match are ~1 MiB over the loop; none is ~0. */
	assert_true(after < before + 64 * 1024);
	kmsg_free(k);
}

static char *json_of(const char *s)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	json_escape(f, s);
	fclose(f);
	return out;
}

/* A byte that is not UTF-8 and the real character of the same value must
 * not look alike in JSON: \xff is \udcff (surrogateescape), U+00FF is
 * the character itself. */
static void test_json_invalid_utf8_unambiguous(void **st)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "\xff", "\"\\udcff\"" },
		{ "\xc3\xbf", "\"\xc3\xbf\"" },          /* U+00FF, valid */
		{ "a\x80" "b", "\"a\\udc80b\"" },
		{ "\xc2\x9b", "\"\\udcc2\\udc9b\"" },     /* C1 CSI */
		{ "\xed\xa0\x80", "\"\\udced\\udca0\\udc80\"" }, /* encoded surrogate */
		{ "x\xe2\x80\xae" "y", "\"x\\u202ey\"" },   /* bidi override */
		{ "\xef\xbb\xbf", "\"\\ufeff\"" },
	};

	(void)st;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *o = json_of(cases[i].in);
		assert_string_equal(o, cases[i].out);
		free(o);
	}
}

/* A comm holding U+202E would print the rest of its table row reversed. */
static void test_term_bidi_escaped(void **st)
{
	char *e;

	(void)st;
	e = term_escape("evil\xe2\x80\xae" "gnp.exe");
	assert_string_equal(e, "evil\\xe2\\x80\\xaegnp.exe");
	free(e);
	e = term_escape("a\xe2\x81\xa6" "b\xe2\x80\x8b" "c"); /* LRI, zero-width space */
	assert_string_equal(e, "a\\xe2\\x81\\xa6b\\xe2\\x80\\x8bc");
	free(e);
	e = term_escape("caf\xc3\xa9 \xe2\x82\xac"); /* é € stay */
	assert_string_equal(e, "caf\xc3\xa9 \xe2\x82\xac");
	free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kmsg_two_oom_kill_lines),
		cmocka_unit_test(test_json_invalid_utf8_unambiguous),
		cmocka_unit_test(test_term_bidi_escaped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
