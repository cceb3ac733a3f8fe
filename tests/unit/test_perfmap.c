// Unit tests of the perf map reader: lookups by address, later lines
// winning over stale ones, a file that grows, a line still being written;
// and, for a process in a root of its own (chroot), that no link it plants
// makes us read a host file, and that a map it does not own, others may
// write, or of gigabytes is not trusted whole.
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/wait.h>
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

/* A JVM's dumps (jcmd Compiler.perfmap) replace the file whole: only the
 * newest is used, never a name of code the JVM has moved or freed since. */
static void test_snapshots(void **state)
{
	struct perfmap *pm;
	uint64_t start = 0;
	struct timespec later[2] = { { 0, UTIME_OMIT }, { 2000000000, 0 } };
	FILE *f;
	(void)state;

	snprintf(path, sizeof(path), "/tmp/perf-%d.map", getpid());
	unlink(path);
	pm = perfmap__new(getpid());
	perfmap__set_snapshots(pm);
	assert_false(perfmap__found(pm));
	append("0x1000 0x100 void A.old(int)\n0x2000 0x100 Interpreter\n");
	assert_true(perfmap__found(pm));
	assert_string_equal(perfmap__lookup(pm, 0x1010, &start), "void A.old(int)");
	/* The next dump: A.old was freed, B.new compiled elsewhere. */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("0x2000 0x100 Interpreter\n0x3000 0x40 void B.new()\n", f);
	fclose(f);
	assert_int_equal(utimensat(AT_FDCWD, path, later, 0), 0);
	assert_null(perfmap__lookup(pm, 0x1010, &start));
	assert_string_equal(perfmap__lookup(pm, 0x3004, &start), "void B.new()");
	assert_string_equal(perfmap__lookup(pm, 0x2004, &start), "Interpreter");
	assert_int_equal(perfmap__mtime(pm), 2000000000);
	perfmap__free(pm);
	unlink(path);
}

/* A child chroot'ed into a fresh directory, waiting to be killed. */
struct jail {
	char root[64], map[128], host[64];
	pid_t pid;
};

static void jail_start(struct jail *j)
{
	int p[2];
	char c;

	snprintf(j->root, sizeof(j->root), "/tmp/memscope-jail-%d", getpid());
	snprintf(j->host, sizeof(j->host), "/tmp/memscope-host-%d", getpid());
	assert_int_equal(system("true"), 0);
	mkdir(j->root, 0755);
	snprintf(j->map, sizeof(j->map), "%s/tmp", j->root);
	mkdir(j->map, 01777);
	assert_int_equal(pipe(p), 0);
	j->pid = fork();
	assert_true(j->pid >= 0);
	if (!j->pid) {
		if (chroot(j->root) || chdir("/"))
			_exit(1);
		(void)!write(p[1], "x", 1);
		pause();
		_exit(0);
	}
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	close(p[1]);
	snprintf(j->map, sizeof(j->map), "%s/tmp/perf-%d.map", j->root, j->pid);
	/* The host file a hostile process would like us to read. */
	mkdir(j->host, 0755);
	FILE *f = fopen(strcat(strcpy((char[128]){ 0 }, j->host), "/secret.map"), "w");
	assert_non_null(f);
	fprintf(f, "1000 100 HOST_SECRET\n");
	fclose(f);
}

static void jail_stop(struct jail *j)
{
	char cmd[200];

	kill(j->pid, SIGKILL);
	waitpid(j->pid, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", j->root, j->host);
	assert_int_equal(system(cmd), 0);
}

static const char *lookup_once(pid_t pid, uint64_t addr)
{
	static char name[64];
	struct perfmap *pm = perfmap__new(pid);
	uint64_t start;
	const char *n = perfmap__lookup(pm, addr, &start);

	snprintf(name, sizeof(name), "%s", n ? n : "(none)");
	perfmap__free(pm);
	return name;
}

static void write_map(const char *path, const char *text, mode_t mode, uid_t uid)
{
	FILE *f;

	unlink(path);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	assert_int_equal(chown(path, uid, 0), 0);
}

static void test_hostile_links(void **state)
{
	struct jail j;
	char target[128], tmpdir[128];
	(void)state;

	jail_start(&j);
	/* An absolute link: through /proc/PID/root the kernel would resolve
	 * it against our root, the host's. */
	snprintf(target, sizeof(target), "%s/secret.map", j.host);
	assert_int_equal(symlink(target, j.map), 0);
	assert_string_equal(lookup_once(j.pid, 0x1010), "(none)");
	/* The same file name inside the process's root, but still a link. */
	unlink(j.map);
	assert_int_equal(symlink("other.map", j.map), 0);
	write_map(strcat(strcpy(tmpdir, j.root), "/tmp/other.map"), "1000 100 via_link\n", 0644, 0);
	assert_string_equal(lookup_once(j.pid, 0x1010), "(none)");
	/* A link in the middle (its /tmp) resolves inside its root, where the
	 * host directory does not exist. */
	snprintf(tmpdir, sizeof(tmpdir), "%s/tmp", j.root);
	assert_int_equal(system(strcat(strcpy((char[200]){ 0 }, "rm -rf "), tmpdir)), 0);
	assert_int_equal(symlink(j.host, tmpdir), 0);
	snprintf(target, sizeof(target), "%s/perf-%d.map", j.host, j.pid);
	write_map(target, "1000 100 HOST_SECRET\n", 0644, 0);
	assert_string_equal(lookup_once(j.pid, 0x1010), "(none)");
	jail_stop(&j);
}

static void test_untrusted_maps(void **state)
{
	struct jail j;
	(void)state;

	jail_start(&j);
	write_map(j.map, "1000 100 trusted\n", 0644, 0);
	assert_string_equal(lookup_once(j.pid, 0x1010), "trusted");
	write_map(j.map, "1000 100 world_writable\n", 0666, 0);
	assert_string_equal(lookup_once(j.pid, 0x1010), "(none)");
	write_map(j.map, "1000 100 someone_else\n", 0644, 54321);
	assert_string_equal(lookup_once(j.pid, 0x1010), "(none)");
	/* Past 64 MiB the rest is not read: the lines before it are. */
	{
		FILE *f = (unlink(j.map), fopen(j.map, "w"));
		char *big = malloc(65 << 20);

		assert_non_null(f);
		assert_non_null(big);
		memset(big, 'x', 65 << 20);
		fprintf(f, "1000 100 first\n2000 100 ");
		fwrite(big, 1, 65 << 20, f);
		fprintf(f, "\n3000 100 after\n");
		fclose(f);
		free(big);
		chmod(j.map, 0644);
	}
	assert_string_equal(lookup_once(j.pid, 0x1010), "first");
	assert_string_equal(lookup_once(j.pid, 0x3010), "(none)");
	jail_stop(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_snapshots),
		cmocka_unit_test(test_hostile_links),
		cmocka_unit_test(test_untrusted_maps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
