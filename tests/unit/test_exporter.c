/* memscope-exporter's pieces without a server: the exposition writer
 * (escaping, number formats, the series cap), the listen-address and
 * configuration parsers, and the cgroup collector on a fixture tree. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgmetrics.h"
#include "config.h"
#include "expo.h"
#include "http.h"
#include "sockleak_collect.h"

static void test_label_escape(void **st)
{
	(void)st;
	char *s = expo_label_escape("a\"b\\c\nd");
	/* The quote escaped for the format; backslash and newline shown as
	 * the tools show them (\x5c, \x0a), with that backslash escaped. */
	assert_string_equal(s, "a\\\"b\\\\x5cc\\\\x0ad");
	free(s);
	s = expo_label_escape("caf\xc3\xa9 \xff");
	assert_string_equal(s, "caf\xc3\xa9 \\\\xff");
	free(s);
}

static void test_family_and_samples(void **st)
{
	(void)st;
	struct expo e;
	expo_init(&e, 0);
	expo_family(&e, "m_bytes", EXPO_GAUGE, "help with \\ and\nnewline");
	struct expo_label l[] = { { "cgroup", "/a" }, { "pod_uid", "" }, { "container_id", NULL } };
	expo_u64(&e, l, 3, 18446744073709551615ull);
	expo_double(&e, NULL, 0, 0.1);
	expo_double(&e, NULL, 0, INFINITY);
	expo_double(&e, NULL, 0, NAN);
	size_t len;
	char *t = expo_take(&e, &len);
	assert_string_equal(t, "# HELP m_bytes help with \\\\ and\\nnewline\n"
			       "# TYPE m_bytes gauge\n"
			       "m_bytes{cgroup=\"/a\"} 18446744073709551615\n"
			       "m_bytes 0.1\n"
			       "m_bytes +Inf\n"
			       "m_bytes NaN\n");
	assert_int_equal(len, strlen(t));
	free(t);
}

static void test_series_cap(void **st)
{
	(void)st;
	struct expo e;
	expo_init(&e, 2);
	expo_family(&e, "a", EXPO_COUNTER, "a");
	for (int i = 0; i < 5; i++) {
		char v[8];
		snprintf(v, sizeof(v), "%d", i);
		struct expo_label l[] = { { "k", v } };
		assert_int_equal(expo_u64(&e, l, 1, i), i < 2);
	}
	expo_family(&e, "b", EXPO_GAUGE, "b");
	expo_u64(&e, NULL, 0, 1);
	expo_write_drops(&e);
	char *t = expo_take(&e, NULL);
	assert_non_null(strstr(t, "a{k=\"1\"} 1\n"));
	assert_null(strstr(t, "a{k=\"2\"}"));
	assert_non_null(strstr(t, "memscope_exporter_series_dropped{family=\"a\"} 3\n"));
	assert_null(strstr(t, "family=\"b\""));
	free(t);
}

static void test_listen(void **st)
{
	(void)st;
	struct sockaddr_storage ss;
	char err[256];

	assert_int_equal(http_parse_listen(":19736", &ss, err, sizeof(err)), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 19736);
	assert_int_equal(((struct sockaddr_in *)&ss)->sin_addr.s_addr, htonl(INADDR_ANY));
	assert_int_equal(http_parse_listen("127.0.0.1:0", &ss, err, sizeof(err)), 0);
	assert_int_equal(http_parse_listen("[::1]:9", &ss, err, sizeof(err)), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(http_parse_listen("localhost:80", &ss, err, sizeof(err)), 0);
	assert_int_equal(http_parse_listen("127.0.0.1", &ss, err, sizeof(err)), -EINVAL);
	assert_int_equal(http_parse_listen("127.0.0.1:65536", &ss, err, sizeof(err)), -EINVAL);
	assert_int_equal(http_parse_listen("127.0.0.1:12abc", &ss, err, sizeof(err)), -EINVAL);
	assert_int_equal(http_parse_listen("example.org:80", &ss, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not an IPv4 or IPv6 address"));
	assert_int_equal(http_parse_listen("[::1:9", &ss, err, sizeof(err)), -EINVAL);
}

struct seen { char keys[8][32], vals[8][64]; int n; };

static int record(void *ctx, const char *key, const char *value, char *err, size_t errlen)
{
	struct seen *s = ctx;
	if (!strcmp(key, "bad")) {
		snprintf(err, errlen, "bad setting");
		return -1;
	}
	snprintf(s->keys[s->n], 32, "%s", key);
	snprintf(s->vals[s->n], 64, "%s", value);
	s->n++;
	return 0;
}

static void write_tmp(char *path, const char *text)
{
	strcpy(path, "/tmp/memscope-exporter-test-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void test_config(void **st)
{
	(void)st;
	char path[64], err[512];
	struct seen s = { 0 };

	write_tmp(path, "# memscope\n\nlisten = 127.0.0.1:19736  # loopback\ninterval 2\n  max-cgroups=50\n");
	assert_int_equal(config_load(path, record, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.keys[0], "listen");
	assert_string_equal(s.vals[0], "127.0.0.1:19736");
	assert_string_equal(s.keys[1], "interval");
	assert_string_equal(s.vals[1], "2");
	assert_string_equal(s.keys[2], "max-cgroups");
	assert_string_equal(s.vals[2], "50");
	unlink(path);

	write_tmp(path, "listen = :1\n\nbad = 1\n");
	assert_int_equal(config_load(path, record, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":3: bad setting"));
	unlink(path);
	write_tmp(path, "interval =\n");
	assert_int_equal(config_load(path, record, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":1: 'interval' has no value"));
	unlink(path);
	assert_int_equal(config_load("/nonexistent/x.conf", record, &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot read config file /nonexistent/x.conf"));
}

/* The nested v2 fixture: the child has no limit of its own, its parent
 * 1 GiB; usage 100 MiB with 30 MiB of inactive file. */
static void test_cgroup_tree(void **st)
{
	(void)st;
	struct cgm_opts o = { .root = "tests/fixtures/memstat/v2_nested", .max_cgroups = 10, .slope_window_s = 60 };
	int err = 0;
	struct cgm *c = cgm_new(&o, &err);
	assert_non_null(c);
	cgm_refresh(c, 100, 1700000000);
	cgm_refresh(c, 101, 1700000001);
	cgm_refresh(c, 102, 1700000002);
	struct cgm_stats s = cgm_stats(c);
	assert_int_equal(s.seen, 1);
	assert_int_equal(s.dropped, 0);

	struct expo e;
	expo_init(&e, 0);
	cgm_write(c, &e);
	char *t = expo_take(&e, NULL);
	assert_non_null(strstr(t, "memscope_cgroup_memory_working_set_bytes{cgroup=\"/child\"} 73400320\n"));
	assert_non_null(strstr(t, "memscope_cgroup_memory_limit_bytes{cgroup=\"/child\"} 1073741824\n"));
	assert_non_null(strstr(t, "memscope_cgroup_memory_headroom_bytes{cgroup=\"/child\"} 1000341504\n"));
	assert_non_null(strstr(t, "memscope_cgroup_memory_anon_bytes{cgroup=\"/child\"} 52428800\n"));
	/* Nothing grows between the three readings (the fewest that speak). */
	assert_non_null(strstr(t, "memscope_cgroup_memory_seconds_until_limit{cgroup=\"/child\"} +Inf\n"));
	assert_non_null(strstr(t, "memscope_cgroup_incarnation_start_timestamp_seconds{cgroup=\"/child\"} 1700000000\n"));
	free(t);
	cgm_free(c);

	o.max_cgroups = 0;
	o.root = "/nonexistent";
	c = cgm_new(&o, &err);
	cgm_refresh(c, 1, 1);
	assert_int_equal(cgm_stats(c).seen, 0);
	cgm_free(c);
}

/* A child that holds a listener and one accepted socket in CLOSE_WAIT
 * (its peer closed), until killed. Returns its pid once it is so. */
static pid_t close_wait_child(void)
{
	int ready[2];
	char c;

	assert_int_equal(pipe(ready), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t len = sizeof(a);
		int l = socket(AF_INET, SOCK_STREAM, 0), cl = socket(AF_INET, SOCK_STREAM, 0);

		if (l < 0 || cl < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) ||
		    getsockname(l, (struct sockaddr *)&a, &len) || connect(cl, (struct sockaddr *)&a, sizeof(a)) ||
		    accept(l, NULL, NULL) < 0)
			_exit(1);
		close(cl);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	return pid;
}

static const struct sl_proc_figures *figures_of(const struct sl_snapshot *s, pid_t pid)
{
	for (size_t i = 0; i < s->nprocs; i++)
		if (s->procs[i].tgid == (uint32_t)pid)
			return &s->procs[i];
	return NULL;
}

/* sockleak's collector as the exporter opens it (fd limits only) counts
 * the CLOSE_WAIT socket and reads the fds and RLIMIT_NOFILE, but neither
 * sockstat nor the CLOSE_WAIT times; with sockleak's report needs it is
 * the other way round. snapshot.filled says which. Loads BPF: root. */
static void test_sock_needs(void **st)
{
	(void)st;
	if (geteuid() != 0) {
		const char *ci = getenv("CI");

		if (ci && !strcmp(ci, "true"))
			fail_msg("sockleak's collector needs root (CAP_BPF, CAP_PERFMON)");
		skip();
	}
	pid_t child = close_wait_child();
	struct rlimit rl;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);

	struct sl_collector *c = sl_collector_open(&(struct sl_collector_opts){
		.needs = SL_NEED_FD_LIMITS, .pid = child, .older_than_s = 3600 });
	assert_non_null(c);
	const struct sl_snapshot *s = sl_collector_refresh(c);
	assert_int_equal(s->filled, SL_NEED_FD_LIMITS);
	assert_int_equal(s->ncw, 0);
	assert_int_equal(s->ss.tcp_inuse, 0);
	const struct sl_proc_figures *f = figures_of(s, child);
	assert_non_null(f);
	assert_int_equal(f->alive, 2);
	assert_int_equal(f->close_wait, 1);
	assert_true(f->fds >= 5); /* stdio, the pipe's end, two sockets */
	assert_int_equal(f->nofile, rl.rlim_cur);
	sl_collector_close(c);

	c = sl_collector_open(&(struct sl_collector_opts){
		.needs = SL_NEED_SOCKSTAT | SL_NEED_CW_TIMES, .pid = child, .older_than_s = 3600 });
	assert_non_null(c);
	s = sl_collector_refresh(c);
	assert_int_equal(s->filled, SL_NEED_SOCKSTAT | SL_NEED_CW_TIMES);
	assert_true(s->ss.tcp_inuse >= 2);
	f = figures_of(s, child);
	assert_non_null(f);
	assert_int_equal(f->close_wait, 1);
	assert_int_equal(f->fds, -1);
	sl_collector_close(c);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_escape),
		cmocka_unit_test(test_family_and_samples),
		cmocka_unit_test(test_series_cap),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_cgroup_tree),
		cmocka_unit_test(test_sock_needs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
