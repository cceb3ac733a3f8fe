/* Transparent huge pages under memleak-trace --faults: a mapping of
 * COUNT + 1 2 MiB-aligned blocks, madvise(MADV_HUGEPAGE)'d (huge pages in
 * THP mode "madvise" and "always" alike). The first block is touched
 * before the trace (pre_touch: a huge page resident before it, which never
 * faults again), the other COUNT from leak_huge(), one fault each when the
 * kernel finds a huge page, 512 otherwise.
 * usage: leak_huge COUNT [-w] [-x]; prints "leaked COUNT at ADDR" (the
 * mapping's start, for its smaps entry). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define HPAGE (2UL << 20)

static volatile sig_atomic_t go;
static void on_usr1(int s) { (void)s; go = 1; }

/* COUNT + 1 blocks on a 2 MiB boundary, the slack around them unmapped. */
static char *map_aligned(size_t blocks)
{
	size_t len = blocks * HPAGE;
	char *raw = mmap(NULL, len + HPAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	char *p;

	if (raw == MAP_FAILED)
		exit(1);
	p = (char *)(((uintptr_t)raw + HPAGE - 1) & ~(HPAGE - 1));
	if (p > raw)
		munmap(raw, (size_t)(p - raw));
	munmap(p + len, (size_t)(raw + HPAGE - p));
	if (madvise(p, len, MADV_HUGEPAGE))
		exit(1);
	return p;
}

__attribute__((noinline)) void pre_touch(char *p)
{
	memset(p, 1, HPAGE);
}

__attribute__((noinline)) void leak_huge(char *p, size_t count)
{
	memset(p, 2, count * HPAGE);
}

int main(int argc, char **argv)
{
	int wait = 0, quit = 0;
	size_t count;
	char *p;

	if (argc < 2)
		return 2;
	count = (size_t)atoi(argv[1]);
	for (int i = 2; i < argc; i++) {
		wait |= !strcmp(argv[i], "-w");
		quit |= !strcmp(argv[i], "-x");
	}
	signal(SIGUSR1, on_usr1);
	p = map_aligned(count + 1);
	pre_touch(p);
	if (wait)
		while (!go)
			pause();
	leak_huge(p + HPAGE, count);
	dprintf(1, "leaked %zu at %p\n", count, (void *)p);
	if (quit)
		return 0;
	for (;;)
		pause();
}
