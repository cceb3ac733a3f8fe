// Unit tests of the perf map reader: lookups by address, later lines
// winning over stale ones, a file that grows, a line still being written.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>
#include <cmocka.h>
#include "perfmap.h"

static char path[64];

static void append(const char *text)
{
	FILE *f = fopen(path, "a");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_lookup(void **state)
{
	struct perfmap *pm;
	uint64_t start = 0;
	(void)state;

	snprintf(path, sizeof(path), "/tmp/perf-%d.map", getpid());
	unlink(path);
	pm = perfmap__new(getpid());
	assert_null(perfmap__lookup(pm, 0x1000, &start));     /* no file yet */
	append("1000 100 JS:~handler /app/x.js:3:1\n7f0000 20 Builtin:Foo\n");
	assert_string_equal(perfmap__lookup(pm, 0x1080, &start), "JS:~handler /app/x.js:3:1");
	assert_int_equal(start, 0x1000);
	assert_null(perfmap__lookup(pm, 0x1100, &start));     /* past its size */
	assert_null(perfmap__lookup(pm, 0xfff, &start));
	/* Code moved: a newer line over the same addresses wins. */
	append("1040 80 JS:*handler /app/x.js:3:1\n");
	assert_string_equal(perfmap__lookup(pm, 0x1080, &start), "JS:*handler /app/x.js:3:1");
	assert_int_equal(start, 0x1040);
	assert_string_equal(perfmap__lookup(pm, 0x1010, &start), "JS:~handler /app/x.js:3:1");
	/* A line being written is read once it is whole. */
	append("2000 10 JS:half");
	assert_null(perfmap__lookup(pm, 0x2004, &start));
	append("way\n");
	assert_string_equal(perfmap__lookup(pm, 0x2004, &start), "JS:halfway");
	perfmap__free(pm);
	perfmap__free(NULL);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_lookup) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
