/* Leaks COUNT anonymous mappings of KIB KiB each from leak_mapping(), and
 * maps and unmaps as many again (balanced) from churn().
 * usage: leak_mmap COUNT KIB [-w] [-x] [-e STATUS] [-v] [-l LIB]
 *   -w: wait for SIGUSR1 before starting (attach a tracer first)
 *   -x: exit when done instead of waiting to be killed
 *   -l LIB: when done, load LIB with dlopen (code mapped last)
 *   -e STATUS: exit with STATUS when done
 *   -v: say "mapped N" after each leaked mapping (N so far), for a run
 *       that ends early (an OOM kill) to tell how far it got */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static volatile sig_atomic_t go;
static void on_usr1(int s) { (void)s; go = 1; }

__attribute__((noinline)) void *leak_mapping(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		exit(1);
	memset(p, 1, len);
	return p;
}

__attribute__((noinline)) void churn(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		exit(1);
	munmap(p, len);
}

int main(int argc, char **argv)
{
	int count, wait = 0, quit = 0, status = 0, verbose = 0;
	const char *lib = NULL;
	size_t len;

	if (argc < 3)
		return 2;
	count = atoi(argv[1]);
	len = (size_t)atoi(argv[2]) * 1024;
	for (int i = 3; i < argc; i++) {
		wait |= !strcmp(argv[i], "-w");
		quit |= !strcmp(argv[i], "-x");
		verbose |= !strcmp(argv[i], "-v");
		if (!strcmp(argv[i], "-e") && i + 1 < argc) {
			quit = 1;
			status = atoi(argv[++i]);
		}
		if (!strcmp(argv[i], "-l") && i + 1 < argc)
			lib = argv[++i];
	}
	signal(SIGUSR1, on_usr1);
	if (wait)
		while (!go)
			pause();
	for (int i = 0; i < count; i++) {
		leak_mapping(len);
		if (verbose)
			dprintf(1, "mapped %d\n", i + 1);
		churn(len);
	}
	dprintf(1, "leaked %d\n", count);
	if (lib && !dlopen(lib, RTLD_NOW)) {
		fprintf(stderr, "leak_mmap: %s\n", dlerror());
		return 1;
	}
	if (quit)
		return status;
	for (;;)
		pause();
}
