/* Pages first touched, then given back without unmapping, known page by
 * page (memleak-trace --faults):
 *   touch_pages: 64 pages written; madvise DONTNEED on 32 and FREE on 16
 *                -> 16 pages
 *   retouch:     4 of the DONTNEED'd pages written again    ->  4 pages
 *   move_me:     8 pages written, mremap'd to 16 (moved)     ->  8 pages
 *   heap_grow:   16 heap pages (sbrk) written, 8 given back by
 *                shrinking the break                         ->  8 pages
 *   steady_loop: malloc/free of the same 1000 bytes 100000 times: it
 *                reuses one block, so it touches almost nothing
 * usage: giveback [-w] [-x] (see leak_mmap.c) */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static volatile sig_atomic_t go;
static void on_usr1(int s) { (void)s; go = 1; }
static char *volatile sink;

__attribute__((noinline)) char *touch_pages(size_t ps)
{
	char *p = mmap(NULL, 64 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		exit(1);
	memset(p, 1, 64 * ps);
	if (madvise(p, 32 * ps, MADV_DONTNEED) || madvise(p + 32 * ps, 16 * ps, MADV_FREE))
		exit(1);
	return p;
}

__attribute__((noinline)) void retouch(char *p, size_t ps)
{
	memset(p, 2, 4 * ps);
}

__attribute__((noinline)) void move_me(size_t ps)
{
	char *p = mmap(NULL, 8 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* Something after it, so that growing must move it. */
	char *q = mmap(p + 8 * ps, ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (p == MAP_FAILED)
		exit(1);
	memset(p, 3, 8 * ps);
	p = mremap(p, 8 * ps, 16 * ps, MREMAP_MAYMOVE);
	if (p == MAP_FAILED)
		exit(1);
	sink = p;
	(void)q;
}

__attribute__((noinline)) void heap_grow(size_t ps)
{
	char *cur = sbrk(0);
	/* Start on a page boundary, so that the counts are exact. */
	char *base = (char *)(((unsigned long)cur + ps - 1) & ~(ps - 1));

	if (sbrk(base - cur + 16 * ps) == (void *)-1)
		exit(1);
	memset(base, 4, 16 * ps);
	if (sbrk(-(long)(8 * ps)) == (void *)-1)
		exit(1);
}

__attribute__((noinline)) void steady_loop(void)
{
	for (int i = 0; i < 100000; i++) {
		char *b = malloc(1000);

		if (!b)
			exit(1);
		memset(b, 5, 1000);
		sink = b;
		free(b);
	}
}

int main(int argc, char **argv)
{
	size_t ps = (size_t)sysconf(_SC_PAGESIZE);
	int wait = 0, quit = 0;
	char *p;

	for (int i = 1; i < argc; i++) {
		wait |= !strcmp(argv[i], "-w");
		quit |= !strcmp(argv[i], "-x");
	}
	signal(SIGUSR1, on_usr1);
	if (wait)
		while (!go)
			pause();
	steady_loop();
	p = touch_pages(ps);
	retouch(p, ps);
	move_me(ps);
	heap_grow(ps);
	dprintf(1, "done\n");
	if (quit)
		return 0;
	for (;;)
		pause();
}
