// Unit tests of the module table: paths rebuilt from the kernel's
// leaf-first components, mappings replaced and unmapped, the first read
// of a live process's maps (this process's, checked against stat), and
// the symbolizer using the table once maps is not there, and a live
// chroot'ed process whose library path is swapped for another file after
// mapping (the symbolizer must parse the mapped inode, not the new file).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cmocka.h>
#include "modrec.h"
#include "modtab.h"
#include "procfs.h"
#include "symbolize.h"

static struct module_record *record(const char *comps, size_t len, uint32_t flags)
{
	struct module_record *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	memcpy(r->path, comps, len);
	r->path_len = len;
	r->flags = flags;
	return r;
}

static void test_path_join(void **state)
{
	static const char comps[] = "libc.so.6\0x86_64-linux-gnu\0lib\0usr";
	struct module_record *r = record(comps, sizeof(comps), 0);
	char *p = modrec_path_join(r, sizeof(*r));
	(void)state;

	assert_string_equal(p, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	free(p);
	/* Too deep for the kernel's walk: no path rather than a wrong one. */
	r->flags = MODREC_TRUNCATED;
	assert_null(modrec_path_join(r, sizeof(*r)));
	assert_null(modrec_path_join(r, sizeof(*r) - 1));
	free(r);
}

static void test_replace_unmap(void **state)
{
	struct modtab mt;
	struct modtab_ent a = { .start = 0x1000, .end = 0x3000, .ino = 1, .path = "/a", .fd = -1 };
	struct modtab_ent b = { .start = 0x2000, .end = 0x4000, .ino = 2, .path = "/b", .fd = -1 };
	struct modtab_ent c = { .start = 0x8000, .end = 0x9000, .ino = 3, .path = "/c", .fd = -1 };
	uint64_t gen;
	(void)state;

	modtab_init(&mt);
	modtab_add(&mt, &a);
	modtab_add(&mt, &c);
	modtab_add(&mt, &b);            /* MAP_FIXED over part of a: a goes */
	assert_int_equal(mt.n, 2);
	assert_string_equal(mt.v[0].path, "/c");
	assert_string_equal(mt.v[1].path, "/b");
	gen = mt.gen;
	modtab_unmap(&mt, 0x5000, 0x1000);      /* nothing there */
	assert_int_equal(mt.n, 2);
	assert_int_equal(mt.gen, gen);
	modtab_unmap(&mt, 0x8800, 0x100);       /* part of c */
	assert_int_equal(mt.n, 1);
	assert_true(mt.gen > gen);
	modtab_reset(&mt);
	assert_int_equal(mt.n, 0);
	modtab_fini(&mt);
}

/* This test program's own text, as the table read it from maps. */
static const struct modtab_ent *own_text(const struct modtab *mt, const char *exe)
{
	for (size_t i = 0; i < mt->n; i++)
		if (!strcmp(mt->v[i].path, exe))
			return &mt->v[i];
	return NULL;
}

static void test_seed_maps(void **state)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const struct modtab_ent *e;
	struct modtab mt;
	struct stat st;
	(void)state;

	assert_true(n > 0);
	exe[n] = 0;
	assert_int_equal(stat(exe, &st), 0);
	modtab_init(&mt);
	assert_true(modtab_seed_maps(&mt, getpid()) > 0);
	e = own_text(&mt, exe);
	assert_non_null(e);
	assert_int_equal(e->ino, st.st_ino);
	/* On overlayfs (the test guest's root, a container's) maps names the
	 * layer's device and stat the overlay's: only the inode compares. */
	assert_true(e->fd >= 0);
	if (!on_overlayfs(e->fd)) {
		assert_int_equal(e->dev_major, major(st.st_dev));
		assert_int_equal(e->dev_minor, minor(st.st_dev));
	}
	assert_true(e->fd >= 0 && modtab_same_file(e, e->fd));
	assert_true((uintptr_t)test_seed_maps >= e->start && (uintptr_t)test_seed_maps < e->end);
	modtab_fini(&mt);
	assert_int_equal(modtab_seed_maps(&mt, 0x7ffffff0), -ENOENT);
}

/* A pid with no /proc (no such process): the symbolizer takes the modules
 * from the table, and names this very function, by the host path only
 * because device and inode match. */
static void test_symbolize_from_table(void **state)
{
	struct modtab mt, copy;
	struct symbolizer *s;
	struct frame fr[8];
	int n, k;
	(void)state;

	modtab_init(&mt);
	assert_true(modtab_seed_maps(&mt, getpid()) > 0);
	modtab_init(&copy);
	for (size_t i = 0; i < mt.n; i++) {
		struct modtab_ent e = mt.v[i];

		e.fd = -1;      /* by path, as after the exit */
		modtab_add(&copy, &e);
	}
	s = symbolizer__new_with(0x7ffffff0, &copy);
	assert_non_null(s);
	n = symbolizer__resolve(s, (uintptr_t)test_symbolize_from_table + 4, fr, 8);
	assert_string_equal(fr[n - 1].symbol, "test_symbolize_from_table");
	assert_false(fr[n - 1].unverified);
	for (k = 0; k < n; k++)
		frame_clear(&fr[k]);
	symbolizer__free(s);
	/* The same table pointing at another file: module+offset, flagged. */
	for (size_t i = 0; i < copy.n; i++)
		copy.v[i].ino ^= 1;
	s = symbolizer__new_with(0x7ffffff0, &copy);
	n = symbolizer__resolve(s, (uintptr_t)test_symbolize_from_table + 4, fr, 8);
	assert_null(fr[n - 1].symbol);
	assert_true(fr[n - 1].unverified);
	for (k = 0; k < n; k++)
		frame_clear(&fr[k]);
	symbolizer__free(s);
	modtab_fini(&copy);
	modtab_fini(&mt);
}

static void copy_file(const char *from, const char *to)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
	assert_int_equal(system(cmd), 0);
}

/* The innermost frame's symbol at addr of pid; NULL if none. */
static char *symbol_at(pid_t pid, uint64_t addr, bool *unverified)
{
	struct symbolizer *s = symbolizer__new(pid);
	struct frame fr[8];
	char *name;
	int n;

	assert_non_null(s);
	n = symbolizer__resolve(s, addr, fr, 8);
	name = fr[n - 1].symbol ? strdup(fr[n - 1].symbol) : NULL;
	*unverified = fr[n - 1].unverified;
	for (int k = 0; k < n; k++)
		frame_clear(&fr[k]);
	symbolizer__free(s);
	return name;
}

struct planted_ctx {
	pid_t pid;
	uint64_t mapped;
};

static int first_mapping(const struct map_entry *m, void *ctx)
{
	struct planted_ctx *c = ctx;

	if (m->start != c->mapped)
		return 0;
	char path[PATH_MAX];
	int fd = proc_map_open(c->pid, m);

	/* Only the planted file is reachable: nothing may be opened. */
	if (fd >= 0 || proc_map_file(c->pid, m, path, sizeof(path)))
		_exit(3);
	return 1;
}

/* Without CAP_SYS_ADMIN and CAP_CHECKPOINT_RESTORE (a tool given CAP_BPF
 * and CAP_PERFMON only) map_files cannot be opened: the planted file in the process's root must
 * be refused by proc_map_open and proc_map_file, and the symbolizer must
 * still name want (the mapped file is reached by its host path, the
 * chroot being a directory of the host, and verified). Exit status 0 if
 * so. */
static int without_sys_admin(pid_t pid, uint64_t addr, uint64_t mapped, const char *want)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	struct planted_ctx c = { pid, mapped };
	bool unverified;
	char *name;

	if (syscall(SYS_capget, &h, d))
		return 1;
	/* map_files takes either (CAP_CHECKPOINT_RESTORE: Linux 5.9). */
	d[0].effective &= ~(1u << CAP_SYS_ADMIN);
	d[CAP_CHECKPOINT_RESTORE / 32].effective &= ~(1u << (CAP_CHECKPOINT_RESTORE % 32));
	if (syscall(SYS_capset, &h, d))
		return 1;
	name = symbol_at(pid, addr, &unverified);
	if (!name || strcmp(name, want) || unverified)
		return 2;
	free(name);
	return proc_maps(pid, first_mapping, &c) > 0 ? 0 : 4;
}

/* A chroot'ed child maps a copy of libc at /lib.so. Its maps names the
 * file by the host's path (ROOT/lib.so), and the process plants another
 * ELF file at that path inside its own root (ROOT/ROOT/lib.so), where
 * /proc/PID/root + the path leads. The symbolizer must name the libc
 * function at its offset in the mapping, as in this process: the planted
 * file is not the one mapped, and parsing it would let the process choose
 * what we parse and name. */
static void test_planted_binary(void **state)
{
	char root[64], lib[96], planted[160], cmd[200];
	void *fn = dlsym(RTLD_NEXT, "getpid");
	uint64_t mapped;
	Dl_info info;
	bool unverified;
	char *want, *got;
	int p[2];
	pid_t pid;
	(void)state;

	assert_non_null(fn);
	assert_true(dladdr(fn, &info) && info.dli_fname && info.dli_fbase);
	want = symbol_at(getpid(), (uintptr_t)fn, &unverified);
	assert_non_null(want);
	snprintf(root, sizeof(root), "/tmp/memscope-swap-%d", getpid());
	snprintf(lib, sizeof(lib), "%s/lib.so", root);
	snprintf(planted, sizeof(planted), "%s%s", root, root);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", planted);
	assert_int_equal(system(cmd), 0);
	strcat(planted, "/lib.so");
	copy_file(info.dli_fname, lib);
	copy_file("/usr/bin/true", planted);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		struct stat st;
		int fd;
		void *m;

		if (chroot(root) || chdir("/") || (fd = open("/lib.so", O_RDONLY)) < 0 ||
		    fstat(fd, &st))
			_exit(1);
		m = mmap(NULL, st.st_size, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
		mapped = (uintptr_t)m;
		if (m == MAP_FAILED || write(p[1], &mapped, sizeof(mapped)) != sizeof(mapped))
			_exit(1);
		pause();
		_exit(0);
	}
	assert_int_equal(read(p[0], &mapped, sizeof(mapped)), sizeof(mapped));
	close(p[0]);
	close(p[1]);
	got = symbol_at(pid, mapped + ((uintptr_t)fn - (uintptr_t)info.dli_fbase), &unverified);
	pid_t weak = fork();
	int status = -1;

	assert_true(weak >= 0);
	if (!weak)
		_exit(without_sys_admin(pid, mapped + ((uintptr_t)fn - (uintptr_t)info.dli_fbase), mapped,
					want));
	waitpid(weak, &status, 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	assert_non_null(got);
	assert_string_equal(got, want);
	assert_false(unverified);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	free(got);
	free(want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_join),
		cmocka_unit_test(test_replace_unmap),
		cmocka_unit_test(test_seed_maps),
		cmocka_unit_test(test_symbolize_from_table),
		cmocka_unit_test(test_planted_binary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
