// Unit tests of memleak-trace's views: a snapshot built here, as the
// collector would leave it for a process traced 10 s, printed by the
// table, JSON and folded views, whose output is checked byte for byte.
// The views read nothing else (no BPF map, /proc file or tracker), so
// the same snapshot gives the same text.
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include "memleak_verdict.h"
#include "memleak_views.h"

#define SEC 1000000000ull
#define T0 (100 * SEC)

static struct frame leak_frames[] = {
	{ .addr = 0x7f0000001000, .symbol = "malloc", .module = "libc.so.6", .offset = 0x10 },
	{ .addr = 0x401234, .symbol = "leak_here", .module = "prog", .offset = 0x1c,
	  .file = "/src/leak.c", .line = 12 },
	{ .addr = 0x401300, .symbol = "main", .module = "prog", .offset = 0x40, .file = "/src/leak.c",
	  .line = 30 },
};

/* Two rows: a malloc call site growing 8 KiB/s (100 blocks of 4 KiB,
 * the oldest 2.5 s old) and a 1 MiB mapping with no stack, 64 KiB of it
 * resident (so it ranks by those 64 KiB, below the malloc row). */
static struct leak_row rows[] = {
	{ .kind = MK_MALLOC, .acc = { .bytes = 409600, .count = 100, .oldest_ts = T0 + 7500000000ull },
	  .growth = 8192, .culprit = "leak_here (leak.c:12)", .culprit_raw = "leak_here",
	  .frames = leak_frames, .nframes = 3, .dwarf = true },
	{ .kind = MK_ANON, .acc = { .bytes = 1 << 20, .count = 1, .resident = 65536,
				    .resident_known = true, .oldest_ts = T0 + 1 * SEC },
	  .culprit = "[no stack]" },
};

static const struct report_opts opts = { .top_n = 5, .max_frames = 12, .sample_every = 1,
					 .malloc = true, .allocators = "libc.so.6" };

static struct leak_snapshot snapshot(void)
{
	struct leak_snapshot s = {
		.pid = 4242, .comm = "prog", .t0_ns = T0, .now_ns = T0 + 10 * SEC,
		.wall_s = 1700000000.0, .have_status = true,
		.status = { .vm_rss = 8 << 20, .rss_anon = 2 << 20, .rss_file = 6 << 20 },
		.mapped = 3 << 20, .released = 2 << 20, .brk_known = true, .heap_change = 135168,
		.rows = rows, .nrows = 2,
		.tot = { .by_kind = { [MK_ANON] = 1 << 20, [MK_MALLOC] = 409600, [MK_FILE] = 4096 },
			 .count = 101, .ranked = 409600 + (1 << 20) },
		.drops = { 0, 3, 0, 0 },
	};

	s.growing = leak_growing_row(&opts, s.rows, s.nrows);
	s.verdict = leak_verdict(&opts, &s, &s.named);
	return s;
}

static char *render(void (*view)(FILE *, const struct report_opts *, const struct leak_snapshot *),
		    const struct leak_snapshot *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	view(f, &opts, s);
	fclose(f);
	return buf;
}

static void test_verdict(void **state)
{
	struct leak_snapshot s = snapshot();

	(void)state;
	assert_ptr_equal(s.growing, &rows[0]);
	assert_ptr_equal(s.named, &rows[0]);
	assert_string_equal(s.verdict, "GROWING: leak_here (leak.c:12) holds 400 KiB in 100 malloc "
			    "allocations, +8.00 KiB/s");
	free(s.verdict);
}

static void test_table(void **state)
{
	struct leak_snapshot s = snapshot();
	char *out = render(leak_print_table, &s);
	const char *want =
		"GROWING: leak_here (leak.c:12) holds 400 KiB in 100 malloc allocations, +8.00 KiB/s\n"
		"memleak-trace: pid 4242 (prog), traced 10.0 s, report at 22:13:20\n"
		"\n"
		"#         BYTES   ALLOCS    OLDEST    GROWTH/s   RESIDENT  KIND   CALL STACK (innermost first)\n"
		"1       400 KiB      100     2.5 s   +8.00 KiB          -  malloc leak_here (leak.c:12)\n"
		"                                                         #0  malloc+0x10 [libc.so.6]\n"
		"                                                         #1  leak_here+0x1c (leak.c:12) [prog]\n"
		"                                                         #2  main+0x40 (leak.c:30) [prog]\n"
		"2      1.00 MiB        1     9.0 s         0 B   64.0 KiB  anon   [no stack]\n"
		"                                                         (stack not captured)\n"
		"\n"
		"summary: outstanding 1.39 MiB in 101 allocations (anon 1.00 MiB, heap 0 B, malloc 400 KiB"
		"; not ranked: file 4.00 KiB, shared 0 B)\n"
		"         mapped 3.00 MiB, released 2.00 MiB (+0 B of mappings older than the trace), "
		"heap +132 KiB\n"
		"         process RSS 8.00 MiB (anon 2.00 MiB, file 6.00 MiB, shmem 0 B), swap 0 B\n"
		"         malloc probes on libc.so.6\n"
		"         events lost: 3 (map full)\n";

	(void)state;
	assert_string_equal(out, want);
	free(out);
	free(s.verdict);
}

static void test_json(void **state)
{
	struct leak_snapshot s = snapshot();
	char *out = render(leak_print_json, &s);

	(void)state;
	assert_non_null(strstr(out, "{\"event\":\"report\",\"mode\":\"malloc\",\"time\":1700000000,"
				    "\"pid\":4242,\"comm\":\"prog\",\"elapsed_s\":10,"));
	assert_non_null(strstr(out, "\"growing\":true,\"culprit\":\"leak_here\",\"stacks\":[{\"kind\":"
				    "\"malloc\",\"culprit\":\"leak_here\",\"bytes\":409600,"
				    "\"allocations\":100,"));
	assert_non_null(strstr(out, "\"oldest_s\":2.5,\"growth_bytes_per_s\":8192,"
				    "\"resident_bytes\":null,\"unwound\":\"dwarf\""));
	assert_non_null(strstr(out, "{\"kind\":\"anon\",\"culprit\":null,\"bytes\":1048576,"));
	assert_non_null(strstr(out, "\"resident_bytes\":65536,\"unwound\":null,\"frames\":[]"));
	assert_non_null(strstr(out, "\"summary\":{\"outstanding_bytes\":1458176,"
				    "\"outstanding_allocations\":101,"));
	assert_non_null(strstr(out, "\"heap_change_bytes\":135168,\"rss_bytes\":8388608,"));
	assert_non_null(strstr(out, "\"allocators\":[\"libc.so.6\"]"));
	assert_non_null(strstr(out, "\"before_exit\":null,\"hint\":null}\n"));
	free(out);
	free(s.verdict);
}

static void test_folded(void **state)
{
	struct leak_snapshot s = snapshot();
	char *out = render(leak_print_folded, &s);

	(void)state;
	assert_string_equal(out, "main;leak_here;malloc 409600\n[no stack] 1048576\n");
	free(out);
	free(s.verdict);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdict),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_folded),
	};

	/* The table's clock is local time. */
	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
