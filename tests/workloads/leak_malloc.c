/* Leaks COUNT blocks of BYTES bytes through malloc from leak_record(), and
 * allocates and frees as many again through calloc/realloc/free (balanced),
 * whatever allocator the process links or preloads.
 * usage: leak_malloc COUNT BYTES [-w] [-x] (see leak_mmap.c) */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t go;
static void on_usr1(int s) { (void)s; go = 1; }

__attribute__((noinline)) void *leak_record(size_t n)
{
	char *p = malloc(n);

	if (!p)
		exit(1);
	memset(p, 1, n);
	return p; /* dropped by the caller: leaked */
}

__attribute__((noinline)) void balanced_record(size_t n)
{
	char *p = calloc(1, n);

	if (!p || !(p = realloc(p, 2 * n)))
		exit(1);
	memset(p, 2, 2 * n);
	free(p);
}

int main(int argc, char **argv)
{
	int wait = 0, quit = 0, count;
	size_t n;

	if (argc < 3)
		return 2;
	count = atoi(argv[1]);
	n = strtoul(argv[2], NULL, 10);
	for (int i = 3; i < argc; i++) {
		wait |= !strcmp(argv[i], "-w");
		quit |= !strcmp(argv[i], "-x");
	}
	signal(SIGUSR1, on_usr1);
	while (wait && !go)
		pause();
	for (int i = 0; i < count; i++) {
		leak_record(n);
		balanced_record(n);
	}
	if (write(1, "leaked\n", 7) < 0)
		return 1;
	if (quit)
		return 0;
	for (;;)
		pause();
}
