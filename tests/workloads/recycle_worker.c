/* A pool worker that is recycled, like PHP-FPM's at pm.max_requests:
 * each of REQUESTS requests keeps KIB KiB in its request cache
 * (cache_request(), the leak), then the worker's shutdown unmaps
 * everything it holds (as PHP's Zend MM does) and it exits by itself.
 * usage: recycle_worker REQUESTS KIB [-w] (see leak_mmap.c) */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static volatile sig_atomic_t go;
static void on_usr1(int s) { (void)s; go = 1; }

static void **cache;
static size_t ncache;

__attribute__((noinline)) static void cache_request(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		exit(1);
	memset(p, 3, len);
	cache[ncache++] = p;
}

__attribute__((noinline)) static void worker_shutdown(size_t len)
{
	for (size_t i = 0; i < ncache; i++)
		munmap(cache[i], len);
	ncache = 0;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	int requests = atoi(argv[1]);
	size_t len = strtoul(argv[2], NULL, 10) * 1024;

	cache = calloc(requests > 0 ? requests : 1, sizeof(*cache));
	if (!cache)
		return 1;
	signal(SIGUSR1, on_usr1);
	if (argc > 3 && !strcmp(argv[3], "-w"))
		while (!go)
			pause();
	for (int i = 0; i < requests; i++)
		cache_request(len);
	if (write(1, "recycling\n", 10) < 0)
		return 1;
	worker_shutdown(len);
	return 0;
}
