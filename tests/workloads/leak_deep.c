/* Leaks COUNT anonymous mappings of KIB KiB each through a call chain
 * main -> serve -> handle_request -> cache_insert -> grab_region -> mmap,
 * and maps and unmaps as many again (balanced) from scratch_buffer().
 * Built -O2 -fomit-frame-pointer (leak_deep-nofp) the frame-pointer walk
 * cannot follow this chain; the functions are kept out of line and do work
 * after each call so that neither inlining nor tail calls hide a frame.
 * usage: leak_deep COUNT KIB [-w] [-x]
 *   -w: wait for SIGUSR1 before starting (attach a tracer first)
 *   -x: exit when done instead of waiting to be killed */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define KEEP __attribute__((noipa))

static volatile sig_atomic_t go;
static void on_usr1(int s) { (void)s; go = 1; }
static volatile unsigned long checksum;

KEEP char *grab_region(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		exit(1);
	memset(p, 1, len);
	return p;
}

KEEP void scratch_buffer(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		exit(1);
	munmap(p, len);
}

KEEP int cache_insert(size_t len, int key)
{
	char *p = grab_region(len);

	p[0] = (char)key;
	checksum += (unsigned long)p[len - 1];
	return p[0];
}

KEEP int handle_request(size_t len, int key)
{
	int r = cache_insert(len, key);

	scratch_buffer(len);
	return r + 1;
}

KEEP int serve(int count, size_t len)
{
	int sum = 0;

	for (int i = 0; i < count; i++)
		sum += handle_request(len, i);
	return sum;
}

int main(int argc, char **argv)
{
	int count, wait = 0, quit = 0, sum;
	size_t len;

	if (argc < 3)
		return 2;
	count = atoi(argv[1]);
	len = (size_t)atoi(argv[2]) * 1024;
	for (int i = 3; i < argc; i++) {
		wait |= !strcmp(argv[i], "-w");
		quit |= !strcmp(argv[i], "-x");
	}
	signal(SIGUSR1, on_usr1);
	if (wait)
		while (!go)
			pause();
	sum = serve(count, len);
	dprintf(1, "leaked %d (%d)\n", count, sum);
	if (quit)
		return 0;
	for (;;)
		pause();
}
