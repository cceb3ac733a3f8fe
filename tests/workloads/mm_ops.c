/* Mapping operations whose outcome is known page by page:
 *   grow_a:  16 pages, the middle 4 unmapped            -> 12 pages
 *   remap_b: 4 pages, mremap'd to 8 (may move)          ->  8 pages
 *   shrink_c: 8 pages, mremap'd down to 2               ->  2 pages
 *   fixed_d: 8 pages, 2 of them replaced with MAP_FIXED ->  8 pages
 *   span_e:  two adjacent 4-page mappings, one munmap of
 *            the 4 pages across their boundary          ->  4 pages
 * Anonymous total: 34 pages, 12 of them from grow_a.
 * usage: mm_ops [-w] [-x] (see leak_mmap.c) */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static volatile sig_atomic_t go;
static void on_usr1(int s) { (void)s; go = 1; }
static size_t ps;

static char *map(void *at, size_t pages, int extra)
{
	char *p = mmap(at, pages * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | extra, -1, 0);

	if (p == MAP_FAILED)
		exit(1);
	return p;
}

__attribute__((noinline)) void grow_a(void)
{
	char *a = map(NULL, 16, 0);

	munmap(a + 4 * ps, 4 * ps);
}

__attribute__((noinline)) void remap_b(void)
{
	char *b = map(NULL, 4, 0);

	if (mremap(b, 4 * ps, 8 * ps, MREMAP_MAYMOVE) == MAP_FAILED)
		exit(1);
}

__attribute__((noinline)) void shrink_c(void)
{
	char *c = map(NULL, 8, 0);

	if (mremap(c, 8 * ps, 2 * ps, 0) == MAP_FAILED)
		exit(1);
}

__attribute__((noinline)) void fixed_d(void)
{
	char *d = map(NULL, 8, 0);

	map(d + 2 * ps, 2, MAP_FIXED);
}

__attribute__((noinline)) void span_e(void)
{
	/* Reserve 8 pages, then lay two 4-page mappings over them. */
	char *e = map(NULL, 8, 0);

	munmap(e, 8 * ps);
	map(e, 4, MAP_FIXED_NOREPLACE);
	map(e + 4 * ps, 4, MAP_FIXED_NOREPLACE);
	munmap(e + 2 * ps, 4 * ps);
}

int main(int argc, char **argv)
{
	int wait = 0, quit = 0;

	ps = (size_t)sysconf(_SC_PAGESIZE);
	for (int i = 1; i < argc; i++) {
		wait |= !strcmp(argv[i], "-w");
		quit |= !strcmp(argv[i], "-x");
	}
	signal(SIGUSR1, on_usr1);
	while (wait && !go)
		pause();
	grow_a();
	remap_b();
	shrink_c();
	fixed_d();
	span_e();
	if (write(1, "done\n", 5) < 0)
		return 1;
	if (quit)
		return 0;
	for (;;)
		pause();
}
