// Unit tests of interpreter detection on the real Debian binaries (the
// version from the file, the root symbol from .dynsym, a layout or a clear
// refusal) and of the culprit rule over mixed frames.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>
#include "interpreters.h"
#include "pylines.h"

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

/* A binary the test reads: skipped when absent, failed under CI (CI
 * machines have every one: scripts/deps.sh test, pyenv's builds). */
static void need_file(const char *path)
{
	if (access(path, R_OK)) {
		if (getenv("CI"))
			fail_msg("%s missing", path);
		skip();
	}
}

static void test_php(void **state)
{
	const char *path = "/usr/sbin/php-fpm8.2";
	struct interp_bin b;
	char why[160];
	(void)state;

	need_file(path);
	assert_int_equal(interp_probe_file(path, &b, why, sizeof(why)), INTERP_PHP);
	assert_int_equal(b.version, 0x0802);
	assert_true(b.has_layout);
	assert_string_equal(why, "");
	assert_int_equal(b.root_sym, nm_value(path, "executor_globals"));
	assert_int_equal(b.layout.op_filename, 152);
}

static void test_python(void **state)
{
	const char *path = "/usr/bin/python3.11";
	struct interp_bin b;
	char why[160];
	(void)state;

	need_file(path);
	assert_int_equal(interp_probe_file(path, &b, why, sizeof(why)), INTERP_PYTHON);
	assert_int_equal(b.version, 0x030b);
	assert_true(b.has_layout);
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
	assert_false(b.has_layout);
	assert_string_equal(why, "");
}

/* 3.13's layout comes from the _Py_DebugOffsets in its _PyRuntime: the
 * same offsets as offsetof() over its headers. */
static void test_python313_published(void **state)
{
	const char *path = "/root/.pyenv/versions/3.13.0/lib/libpython3.13.so.1.0";
	struct interp_bin b;
	char why[160];
	(void)state;

	need_file(path);
	assert_int_equal(interp_probe_file(path, &b, why, sizeof(why)), INTERP_PYTHON);
	assert_string_equal(why, "");
	assert_int_equal(b.version, 0x030d);
	assert_true(b.has_layout);
	assert_int_equal(b.code_type_sym, nm_value(path, "PyCode_Type"));
	assert_int_equal(b.layout.rt_interp_head, 632);
	assert_int_equal(b.layout.is_threads_head, 7344);
	assert_int_equal(b.layout.ts_tid, 160);
	assert_int_equal(b.layout.ts_frame, 72);
	assert_int_equal(b.layout.fr_instr, 56);
	assert_int_equal(b.layout.fr_owner, 70);
	assert_int_equal(b.layout.co_code, 200);
	assert_int_equal(b.layout.ustr_data, 40);
}

/* A copy of php-fpm8.2 whose X-Powered-By says PHP/8.3: a version no
 * layout was checked for is refused with a note naming it, not walked
 * with a neighbour's offsets. */
static void test_php_unverified(void **state)
{
	static const char tag[] = "X-Powered-By: PHP/8.2";
	const char *real = "/usr/sbin/php-fpm8.2";
	char dir[] = "/tmp/memscope-phpXXXXXX", path[64], why[160];
	struct interp_bin b;
	size_t n = 0;
	char *buf = NULL, *hit;
	FILE *in, *out;
	int fd;
	(void)state;

	need_file(real);
	assert_non_null(in = fopen(real, "rb"));
	out = open_memstream(&buf, &n);
	for (int c; (c = fgetc(in)) != EOF;)
		fputc(c, out);
	fclose(in);
	fclose(out);
	assert_non_null(hit = memmem(buf, n, tag, sizeof(tag) - 1));
	hit[sizeof(tag) - 2] = '3';
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/php-fpm8.3", dir);
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0);
	assert_int_equal(write(fd, buf, n), (ssize_t)n);
	close(fd);
	free(buf);
	assert_int_equal(interp_probe_file(path, &b, why, sizeof(why)), INTERP_PHP);
	unlink(path);
	rmdir(dir);
	assert_int_equal(b.version, 0x0803);
	assert_false(b.has_layout);
	assert_non_null(strstr(why, "PHP 8.3 has no known layout (supported: PHP 7.4, 8.2, 8.4;"));
}

/* CPython 3.7 has no layout here: refused with a note, not mislabelled. */
static void test_python_unknown(void **state)
{
	const char *path = "/root/.pyenv/versions/3.7.16/lib/libpython3.7m.so.1.0";
	struct interp_bin b;
	char why[160];
	(void)state;

	need_file(path);
	assert_int_equal(interp_probe_file(path, &b, why, sizeof(why)), INTERP_PYTHON);
	assert_false(b.has_layout);
	assert_non_null(strstr(why, "CPython 3.7 has no known layout"));
}

/* A file name that disagrees with the version the binary exports
 * (Py_Version, 3.11+) is refused, not walked with the wrong layout. */
static void test_python_mislabelled(void **state)
{
	const char *real = "/root/.pyenv/versions/3.12.1/lib/libpython3.12.so.1.0";
	char dir[] = "/tmp/memscope-pyXXXXXX", link[64];
	struct interp_bin b;
	char why[160];
	(void)state;

	need_file(real);
	assert_non_null(mkdtemp(dir));
	snprintf(link, sizeof(link), "%s/libpython3.11.so.1.0", dir);
	assert_int_equal(symlink(real, link), 0);
	assert_int_equal(interp_probe_file(link, &b, why, sizeof(why)), INTERP_PYTHON);
	unlink(link);
	rmdir(dir);
	assert_false(b.has_layout);
	assert_string_equal(why, "its file name says CPython 3.11, its Py_Version 3.12");
}

/* Line tables of one function as each version compiled it:
 *   def f(n):                        (line 2)
 *       keep = []                    (3)
 *       x = n + 1                    (4)
 *       keep.append(bytearray(x))    (5)
 *       return keep                  (6)
 * with the instruction of each call and of the return as that version's
 * frames count it (dis.get_instructions, co_lines()). */
static void test_line_tables(void **state)
{
	static const uint8_t lnotab38[] = { 0x00, 0x01, 0x04, 0x01, 0x08, 0x01, 0x0e, 0x01 };
	static const uint8_t lt310[] = { 0x04, 0x01, 0x08, 0x01, 0x0e, 0x01, 0x04, 0x01 };
	static const uint8_t loc312[] = {
		0x80, 0x00, 0xd8, 0x0b, 0x0d, 0x80, 0x44, 0xd8, 0x08, 0x09, 0x88, 0x41, 0x89,
		0x05, 0x80, 0x41, 0xd8, 0x04, 0x08, 0x87, 0x4b, 0x81, 0x4b, 0x94, 0x09, 0x98,
		0x21, 0x93, 0x0c, 0xd4, 0x04, 0x1d, 0xd8, 0x0b, 0x0f, 0x80, 0x4b };
	static const uint8_t loc311[] = {
		0x80, 0x00, 0xd8, 0x0b, 0x0d, 0x80, 0x44, 0xd8, 0x08, 0x09, 0x88, 0x41, 0x89,
		0x05, 0x80, 0x41, 0xd8, 0x04, 0x08, 0x87, 0x4b, 0x82, 0x4b, 0x95, 0x09, 0x98,
		0x21, 0x91, 0x0c, 0x94, 0x0c, 0xd1, 0x04, 0x1d, 0xd4, 0x04, 0x1d, 0xd0, 0x04,
		0x1d, 0xd8, 0x0b, 0x0f, 0x80, 0x4b };
	(void)state;

	assert_int_equal(py_addr2line(0x0308, lnotab38, 8, 8, 2, 0), 3);
	assert_int_equal(py_addr2line(0x0308, lnotab38, 8, 8, 2, 20), 5);
	assert_int_equal(py_addr2line(0x0309, lnotab38, 8, 8, 2, 28), 6);
	assert_int_equal(py_addr2line(0x030a, lt310, 8, 8, 2, 0), 3);
	assert_int_equal(py_addr2line(0x030a, lt310, 8, 8, 2, 10), 5);
	assert_int_equal(py_addr2line(0x030a, lt310, 8, 8, 2, 14), 6);
	assert_int_equal(py_addr2line(0x030b, loc311, sizeof(loc311), sizeof(loc311), 2, 1), 3);
	assert_int_equal(py_addr2line(0x030b, loc311, sizeof(loc311), sizeof(loc311), 2, 29), 5);
	assert_int_equal(py_addr2line(0x030b, loc311, sizeof(loc311), sizeof(loc311), 2, 36), 5);
	assert_int_equal(py_addr2line(0x030b, loc311, sizeof(loc311), sizeof(loc311), 2, 43), 6);
	assert_int_equal(py_addr2line(0x030c, loc312, sizeof(loc312), sizeof(loc312), 2, 25), 5);
	assert_int_equal(py_addr2line(0x030d, loc312, sizeof(loc312), sizeof(loc312), 2, 35), 6);
	/* Not started yet: the first line, as CPython says. */
	assert_int_equal(py_addr2line(0x030c, loc312, sizeof(loc312), sizeof(loc312), 2, -1), 2);
	/* A table cut before the instruction does not say; cut after, it does. */
	assert_int_equal(py_addr2line(0x030c, loc312, 10, sizeof(loc312), 2, 25), 0);
	assert_int_equal(py_addr2line(0x030c, loc312, 30, sizeof(loc312), 2, 25), 5);
	/* The first line and the deltas are the process's: a sum out of
	 * int's range is no line (fuzz_pylines found the overflow). */
	static const uint8_t down310[] = { 0x0b, 0xf6 };
	static const uint8_t up310[] = { 0x0b, 0x7f };

	assert_int_equal(py_addr2line(0x030a, down310, 2, 2, INT_MIN, 0), 0);
	assert_int_equal(py_addr2line(0x030a, up310, 2, 2, INT_MAX, 0), 0);
	assert_int_equal(py_addr2line(0x030a, up310, 2, 2, 100, 0), 227);
	assert_int_equal(py_addr2line(0x0308, lnotab38, 4, 8, 2, 20), 0);
	assert_int_equal(py_addr2line(0x030a, lt310, 4, 8, 2, 10), 0);
	/* A version it does not know. */
	assert_int_equal(py_addr2line(0x030e, loc312, sizeof(loc312), sizeof(loc312), 2, 25), 0);
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
		cmocka_unit_test(test_php_unverified),
		cmocka_unit_test(test_python313_published),
		cmocka_unit_test(test_python_unknown),
		cmocka_unit_test(test_python_mislabelled),
		cmocka_unit_test(test_line_tables),
		cmocka_unit_test(test_culprit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
