// Unit tests of the stack grouping shared by the reports: equal frame
// lists are one group, anything else (a frame, the order, the tag, a
// prefix) another, through table growth.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include "stackgroup.h"

static void test_equal_stacks_share_a_group(void **state)
{
	const char *a[] = { "operator new[](unsigned long)+0x0 [libstdc++.so.6]",
			    "Cache::leak_entry(unsigned long)+0x14 (leak_new.cpp:24) [leak_new]",
			    "main+0xfb [leak_new]" };
	const char *b[] = { a[0], "Cache::leak_entry(unsigned long)+0x14 (leak_new.cpp:24) [leak_new]",
			    a[2] };
	struct stack_groups *g = stack_groups__new();
	(void)state;

	assert_int_equal(stack_groups__id(g, 2, a, 3), 0);
	assert_int_equal(stack_groups__id(g, 2, b, 3), 0);
	assert_int_equal(stack_groups__count(g), 1);
	stack_groups__free(g);
}

static void test_different_stacks_part(void **state)
{
	const char *a[] = { "f", "g", "h" }, *rev[] = { "h", "g", "f" }, *joined[] = { "f\ng", "h" };
	const char *empty[] = { "" };
	struct stack_groups *g = stack_groups__new();
	(void)state;

	assert_int_equal(stack_groups__id(g, 0, a, 3), 0);
	assert_int_equal(stack_groups__id(g, 0, a, 2), 1);     /* a prefix */
	assert_int_equal(stack_groups__id(g, 0, rev, 3), 2);   /* the order */
	assert_int_equal(stack_groups__id(g, 1, a, 3), 3);     /* the tag */
	assert_int_equal(stack_groups__id(g, 0, joined, 2), 2 + 2); /* frames, not text */
	assert_int_equal(stack_groups__id(g, 0, NULL, 0), 5);
	assert_int_equal(stack_groups__id(g, 0, empty, 1), 6);
	assert_int_equal(stack_groups__id(g, 0, a, 3), 0);
	stack_groups__free(g);
	stack_groups__free(NULL);
}

static void test_many_groups(void **state)
{
	struct stack_groups *g = stack_groups__new();
	char buf[32];
	const char *f[] = { buf };
	(void)state;

	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < 5000; i++) {
			snprintf(buf, sizeof(buf), "fn%d+0x1", i);
			assert_int_equal(stack_groups__id(g, 0, f, 1), i);
		}
	assert_int_equal(stack_groups__count(g), 5000);
	stack_groups__free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_equal_stacks_share_a_group),
		cmocka_unit_test(test_different_stacks_part),
		cmocka_unit_test(test_many_groups),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
