/* Maps, mallocs and releases everything: a tracer must report no leak.
 * usage: free_all COUNT [-w] [-x] (see leak_mmap.c) */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static volatile sig_atomic_t go;
static void on_usr1(int s) { (void)s; go = 1; }

__attribute__((noinline)) void map_and_release(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		exit(1);
	memset(p, 1, len);
	/* In two halves: partial unmaps must add up too. */
	munmap(p, len / 2);
	munmap(p + len / 2, len / 2);
}

__attribute__((noinline)) void alloc_and_free(size_t n)
{
	void *v[16];

	for (int i = 0; i < 16; i++)
		v[i] = malloc(n);
	for (int i = 0; i < 16; i++)
		free(v[i]);
}

int main(int argc, char **argv)
{
	int count, wait = 0, quit = 0;

	if (argc < 2)
		return 2;
	count = atoi(argv[1]);
	for (int i = 2; i < argc; i++) {
		wait |= !strcmp(argv[i], "-w");
		quit |= !strcmp(argv[i], "-x");
	}
	signal(SIGUSR1, on_usr1);
	/* A running program already has its malloc arena: make it now. */
	free(malloc(64 * 1024));
	while (wait && !go)
		pause();
	for (int i = 0; i < count; i++) {
		map_and_release(64 * 1024);
		alloc_and_free(100 + i % 5000);
	}
	if (write(1, "released\n", 9) < 0)
		return 1;
	if (quit)
		return 0;
	for (;;)
		pause();
}
