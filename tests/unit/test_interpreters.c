// Unit tests of interpreter detection on the real Debian binaries (the
// version from the file, the root symbol from .dynsym, a layout or a clear
// refusal) and of the culprit rule over mixed frames.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "interpreters.h"

/* st_value of SYM as nm -D prints it, 0 if nm or the symbol is missing. */
static uint64_t nm_value(const char *path, const char *sym)
{
	char cmd[512], line[256];
	uint64_t v = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "nm -D %s 2>/dev/null", path);
	p = popen(cmd, "r");
	if (!p)
		return 0;
	while (fgets(line, sizeof(line), p)) {
		char name[128], type;
		unsigned long long a;

		if (sscanf(line, "%llx %c %127s", &a, &type, name) == 3 && !strcmp(name, sym))
			v = a;
	}
	pclose(p);
	return v;
}

static void test_php(void **state)
{
	const char *path = "/usr/sbin/php-fpm8.2";
	struct interp_bin b;
	char why[160];
	(void)state;

	if (access(path, R_OK)) {
		if (getenv("CI"))
			fail_msg("%s missing: run scripts/deps.sh test", path);
		skip();
	}
	assert_int_equal(interp_probe_file(path, &b, why, sizeof(why)), INTERP_PHP);
	assert_int_equal(b.version, 0x0802);
	assert_non_null(b.layout);
	assert_string_equal(why, "");
	assert_int_equal(b.root_sym, nm_value(path, "executor_globals"));
	assert_int_equal(b.layout->op_filename, 152);
}

static void test_python(void **state)
{
	const char *path = "/usr/bin/python3.11";
	struct interp_bin b;
	char why[160];
	(void)state;

	if (access(path, R_OK)) {
		if (getenv("CI"))
			fail_msg("%s missing", path);
		skip();
	}
	assert_int_equal(interp_probe_file(path, &b, why, sizeof(why)), INTERP_PYTHON);
	assert_int_equal(b.version, 0x030b);
	assert_non_null(b.layout);
	assert_int_equal(b.root_sym, nm_value(path, "_PyRuntime"));
	/* Non-PIE: the first segment is at 0x400000, not 0. */
	assert_int_equal(b.first_vaddr, 0x400000);
}

static void test_not_an_interpreter(void **state)
{
	struct interp_bin b;
	char why[160];
	(void)state;

	assert_int_equal(interp_probe_file("/bin/sh", &b, why, sizeof(why)), INTERP_NONE);
	assert_null(b.layout);
	assert_string_equal(why, "");
}

static void test_culprit(void **state)
{
	struct frame fr[5] = {
		{ .kind = FRAME_PYTHON, .symbol = "__init__", .file = "/usr/lib/python3.11/socket.py" },
		{ .kind = FRAME_PYTHON, .symbol = "get", .file = "/usr/lib/python3/dist-packages/requests/api.py" },
		{ .kind = FRAME_PYTHON, .symbol = "handle", .file = "/srv/app.py" },
		{ .kind = FRAME_NATIVE, .symbol = "__socket" },
	};
	struct frame php[3] = {
		{ .kind = FRAME_PHP, .symbol = "pfsockopen" },
		{ .kind = FRAME_PHP, .symbol = "connect_backend", .file = "/srv/app.php" },
		{ .kind = FRAME_NATIVE, .symbol = "__socket" },
	};
	(void)state;

	/* The standard library is skipped; an installed package is code too. */
	assert_int_equal(interp_culprit(fr, 4), 1);
	assert_int_equal(interp_culprit(fr, 1), 0);
	/* A builtin is not the culprit: its caller with a file is. */
	assert_int_equal(interp_culprit(php, 3), 1);
	assert_int_equal(interp_culprit(php, 1), 0);
	assert_int_equal(interp_culprit(fr + 3, 1), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_php),
		cmocka_unit_test(test_python),
		cmocka_unit_test(test_not_an_interpreter),
		cmocka_unit_test(test_culprit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
