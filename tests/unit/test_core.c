// Unit tests of the shared user-space core: units, escaping, JSON, strict
// number parsing, container ids in cgroup paths, /proc readers.
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "cgroup.h"
#include "cli.h"
#include "ending.h"
#include "output.h"
#include "procfs.h"

static void test_fmt_bytes(void **state)
{
	char b[HUMAN_LEN];
	(void)state;
	assert_string_equal(fmt_bytes(b, 0), "0 B");
	assert_string_equal(fmt_bytes(b, 1023), "1023 B");
	assert_string_equal(fmt_bytes(b, 4096), "4.00 KiB");
	assert_string_equal(fmt_bytes(b, 3221225472ull), "3.00 GiB");
	assert_string_equal(fmt_bytes(b, 150ull << 20), "150 MiB");
	assert_string_equal(fmt_bytes_delta(b, -4096), "-4.00 KiB");
	assert_string_equal(fmt_bytes_delta(b, 0), "0 B");
}

static void test_fmt_duration(void **state)
{
	char b[HUMAN_LEN];
	(void)state;
	assert_string_equal(fmt_duration(b, 0.25), "250 ms");
	assert_string_equal(fmt_duration(b, 12.34), "12.3 s");
	assert_string_equal(fmt_duration(b, 270), "4.5 min");
	assert_string_equal(fmt_duration(b, 7200), "2.0 h");
	assert_string_equal(fmt_duration(b, -1), "?");
}

static void test_term_escape(void **state)
{
	char *e;
	(void)state;
	/* An ANSI sequence that would clear the screen must arrive inert. */
	e = term_escape("evil\x1b[2Jcomm\n");
	assert_string_equal(e, "evil\\x1b[2Jcomm\\x0a");
	free(e);
	e = term_escape("back\\slash\x7f");
	assert_string_equal(e, "back\\x5cslash\\x7f");
	free(e);
	/* Valid UTF-8 passes, invalid bytes and C1 controls are escaped. */
	e = term_escape("caf\xc3\xa9 \xff \xc2\x9b");
	assert_string_equal(e, "caf\xc3\xa9 \\xff \\xc2\\x9b");
	free(e);
	e = term_escape_n("a\0b", 3);
	assert_string_equal(e, "a\\x00b");
	free(e);
	e = term_escape(NULL);
	assert_string_equal(e, "");
	free(e);
}

static char *capture_json(void (*fn)(struct jw *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct jw w;

	jw_init(&w, f);
	fn(&w);
	fclose(f);
	return buf;
}

static void json_doc(struct jw *w)
{
	jw_obj_begin(w, NULL);
	jw_str(w, "comm", "a\"b\\c\n\x01\xff");
	jw_u64(w, "bytes", 18446744073709551615ull);
	jw_i64(w, "delta", -5);
	jw_arr_begin(w, "frames");
	jw_obj_begin(w, NULL);
	jw_str(w, "symbol", "main");
	jw_null(w, "file");
	jw_obj_end(w);
	jw_u64(w, NULL, 7);
	jw_arr_end(w);
	jw_double(w, "rate", 1.5);
	jw_double(w, "nan", 0.0 / 0.0);
	jw_bool(w, "ok", true);
	jw_obj_end(w);
}

static void test_json_writer(void **state)
{
	char *out = capture_json(json_doc);
	(void)state;
	assert_string_equal(out, "{\"comm\":\"a\\\"b\\\\c\\u000a\\u0001\\udcff\",\"bytes\":18446744073709551615,"
				 "\"delta\":-5,\"frames\":[{\"symbol\":\"main\",\"file\":null},7],"
				 "\"rate\":1.5,\"nan\":null,\"ok\":true}\n");
	free(out);
}

static void json_numbers(struct jw *w)
{
	jw_obj_begin(w, NULL);
	jw_double(w, "time", 1795451234.567891);
	jw_double(w, "rate", 5880000);
	jw_double(w, "third", 1.0 / 3);
	jw_double(w, "big", 1e300);
	jw_obj_end(w);
}

/* Times and rates as exact as the double: %g lost thousands of seconds. */
static void test_json_numbers(void **state)
{
	char *out = capture_json(json_numbers);
	(void)state;
	assert_string_equal(out, "{\"time\":1795451234.567891,\"rate\":5880000,"
				 "\"third\":0.3333333333333333,\"big\":1e+300}\n");
	free(out);
}

static void test_parse_numbers(void **state)
{
	uint64_t v;
	int64_t i;
	double d;
	(void)state;
	assert_int_equal(parse_u64("1234", 0, UINT64_MAX, &v), 0);
	assert_int_equal(v, 1234);
	assert_int_equal(parse_u64("12abc", 0, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(parse_u64("", 0, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(parse_u64("-1", 0, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(parse_u64(" 5", 0, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(parse_u64("99999999999999999999999", 0, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(parse_u64("0", 1, 10, &v), -ERANGE);
	assert_int_equal(parse_i64("-42", -100, 100, &i), 0);
	assert_int_equal(i, -42);
	assert_int_equal(parse_i64("4x", -100, 100, &i), -EINVAL);
	assert_int_equal(parse_seconds("0.5", 0.1, 10, &d), 0);
	assert_true(d == 0.5);
	assert_int_equal(parse_seconds("1e999", 0, 10, &d), -ERANGE);
	assert_int_equal(parse_seconds("nan", 0, 10, &d), -EINVAL);
	assert_int_equal(parse_seconds("-1", 0, 10, &d), -EINVAL);
	assert_int_equal(parse_size("64M", &v), 0);
	assert_int_equal(v, 64ull << 20);
	assert_int_equal(parse_size("2GiB", &v), 0);
	assert_int_equal(v, 2ull << 30);
	assert_int_equal(parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_size("5X", &v), -EINVAL);
	assert_int_equal(parse_size("99999999999999G", &v), -ERANGE);
}

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_container_ids(void **state)
{
	struct container_ref r;
	(void)state;
	assert_true(container_from_path("/system.slice/docker-" HEX64 ".scope", &r));
	assert_string_equal(r.runtime, "docker");
	assert_string_equal(r.id, HEX64);
	assert_true(container_from_path("/docker/" HEX64, &r));
	assert_string_equal(r.runtime, "docker");
	assert_true(container_from_path("/kubepods.slice/kubepods-burstable.slice/"
					"kubepods-burstable-pod1b2c3d4e_0000_4111_8222_123456789abc.slice/"
					"cri-containerd-" HEX64 ".scope", &r));
	assert_string_equal(r.runtime, "containerd");
	assert_string_equal(r.pod_uid, "1b2c3d4e-0000-4111-8222-123456789abc");
	assert_true(container_from_path("/kubepods/besteffort/pod1b2c3d4e-0000-4111-8222-123456789abc/" HEX64,
					&r));
	assert_string_equal(r.pod_uid, "1b2c3d4e-0000-4111-8222-123456789abc");
	assert_string_equal(r.id, HEX64);
	assert_true(container_from_path("/machine.slice/libpod-" HEX64 ".scope/container", &r));
	assert_string_equal(r.runtime, "podman");
	assert_true(container_from_path("/kubepods.slice/crio-" HEX64 ".scope", &r));
	assert_string_equal(r.runtime, "cri-o");
	assert_false(container_from_path("/user.slice/user-0.slice/session-1.scope", &r));
	assert_false(container_from_path("/", &r));
	/* 63 or 65 hex chars are not a container id */
	assert_false(container_from_path("/x/" HEX64 "0", &r));
	assert_false(container_from_path("/x/123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", &r));
}

static void test_kv(void **state)
{
	const char *buf = "VmRSS:\t  1234 kB\nRssAnon:\t 1000 kB\ncache 3224702976\nrss 2389835776\n";
	uint64_t v = 0;
	(void)state;
	assert_true(kv_u64(buf, "VmRSS", &v));
	assert_int_equal(v, 1234);
	assert_true(kv_u64(buf, "rss", &v));
	assert_int_equal(v, 2389835776ull);
	assert_false(kv_u64(buf, "Rss", &v));
	assert_false(kv_u64(buf, "missing", &v));
}

static void test_proc_self(void **state)
{
	struct proc_status st;
	char *cmd;
	(void)state;
	assert_int_equal(proc_status(getpid(), &st), 0);
	assert_int_equal(st.tgid, getpid());
	assert_true(st.vm_rss > 0);
	cmd = proc_cmdline(getpid());
	assert_non_null(cmd);
	assert_non_null(strstr(cmd, "test_core"));
	free(cmd);
	assert_true(proc_fd_count(getpid()) >= 3);
	assert_true(proc_nofile_limit(getpid()) > 0);
}

static int count_maps(const struct map_entry *m, void *ctx)
{
	*(int *)ctx += m->end > m->start;
	return 0;
}

static void test_proc_gone(void **state)
{
	struct proc_status st;
	pid_t pid = fork();
	int n = 0;
	char *buf = NULL;
	(void)state;
	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	/* The process is reaped: every reader must say so, not crash. */
	assert_int_equal(proc_status(pid, &st), -ESRCH);
	assert_null(proc_cmdline(pid));
	assert_null(proc_comm(pid));
	assert_int_equal(proc_fd_count(pid), -ESRCH);
	assert_int_equal(proc_maps(pid, count_maps, &n), -ESRCH);
	assert_int_equal(proc_read(pid, "cgroup", &buf), -ESRCH);
	assert_false(proc_exists(pid));
	assert_true(proc_maps(getpid(), count_maps, &n) > 0);
	assert_true(n > 3);
}

/* A child's real wait status: exit with status, or die of sig. */
static int child_status(int status, int sig)
{
	int st = 0;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (!pid) {
		if (sig)
			raise(sig);
		_exit(status);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static void test_ending(void **state)
{
	struct proc_ending e;
	char buf[ENDING_TEXT_LEN];

	(void)state;
	e = ending_from_wait(child_status(3, 0));
	assert_string_equal(ending_text(buf, &e), "exit 3");
	assert_int_equal(ending_decode(&e).kind, ENDING_EXIT);
	e = ending_from_wait(child_status(0, SIGKILL));
	assert_string_equal(ending_text(buf, &e), "signal 9 (SIGKILL)");
	/* The OOM killer's victim: its SIGKILL is the kill. */
	e.flags |= ENDING_OOM;
	assert_string_equal(ending_text(buf, &e), "OOM kill");
	assert_int_equal(ending_decode(&e).signal, SIGKILL);
	/* A victim that died of another fatal signal first: that signal. */
	e = ending_from_wait(child_status(0, SIGTERM));
	e.flags |= ENDING_OOM;
	assert_string_equal(ending_text(buf, &e), "signal 15 (SIGTERM)");
	/* Not seen: unknown, null in JSON. */
	e = (struct proc_ending){ .code = 0, .flags = 0 };
	assert_string_equal(ending_text(buf, &e), "unknown");
	assert_int_equal(ending_decode(NULL).kind, ENDING_UNKNOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fmt_bytes),     cmocka_unit_test(test_fmt_duration),
		cmocka_unit_test(test_term_escape),   cmocka_unit_test(test_json_writer),
		cmocka_unit_test(test_json_numbers),
		cmocka_unit_test(test_parse_numbers), cmocka_unit_test(test_container_ids),
		cmocka_unit_test(test_kv),            cmocka_unit_test(test_proc_self),
		cmocka_unit_test(test_proc_gone),     cmocka_unit_test(test_ending),
	};
	return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
