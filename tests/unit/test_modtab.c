// Unit tests of the module table: paths rebuilt from the kernel's
// leaf-first components, mappings replaced and unmapped, the first read
// of a live process's maps (this process's, checked against stat), and
// the symbolizer using the table once maps is not there.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cmocka.h>
#include "modrec.h"
#include "modtab.h"
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
	if (!modtab_on_overlayfs(e->fd)) {
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_join),
		cmocka_unit_test(test_replace_unmap),
		cmocka_unit_test(test_seed_maps),
		cmocka_unit_test(test_symbolize_from_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
