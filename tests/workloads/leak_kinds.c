/* Leaks COUNT blocks through one allocation function of the C library,
 * each kind from its own function (leak_malloc_kind(), ...), prints one
 * line with stdio (so stdout's buffer is one more outstanding block) and
 * exits at once: a command gone before a tracer reads its /proc.
 * usage: leak_kinds KIND COUNT [-w]
 *        leak_kinds dlopen LIBRARY COUNT [-w] [-r REPLACEMENT]
 * KIND: malloc calloc realloc posix_memalign valloc memalign pvalloc
 * aligned_alloc. Each kind leaks blocks of its own size (kind_size below).
 * dlopen: loads LIBRARY and calls its plugin_leak(COUNT); -r then renames
 * REPLACEMENT over LIBRARY before exiting (another file at the path).
 * -w: wait for SIGUSR1 before leaking (a tracer attaches first). */
#include <dlfcn.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t go;
static void on_usr1(int s) { (void)s; go = 1; }

/* The block must look used, or the compiler drops the allocation; its
 * pointer is then forgotten (a definite leak). */
static void touch(void *p)
{
	if (!p)
		exit(1);
	memset(p, 0x5a, 8);
	__asm__ volatile("" : : "r"(p) : "memory");
}

__attribute__((noinline)) void leak_malloc_kind(int n)
{
	for (int i = 0; i < n; i++)
		touch(malloc(100));
}

__attribute__((noinline)) void leak_calloc_kind(int n)
{
	for (int i = 0; i < n; i++)
		touch(calloc(10, 12));
}

__attribute__((noinline)) void leak_realloc_kind(int n)
{
	for (int i = 0; i < n; i++) {
		char *p = malloc(16);

		touch(p);
		touch(realloc(p, 140));
	}
}

__attribute__((noinline)) void leak_posix_memalign_kind(int n)
{
	for (int i = 0; i < n; i++) {
		void *p = NULL;

		if (posix_memalign(&p, 64, 160))
			exit(1);
		touch(p);
	}
}

__attribute__((noinline)) void leak_valloc_kind(int n)
{
	for (int i = 0; i < n; i++)
		touch(valloc(180));
}

__attribute__((noinline)) void leak_memalign_kind(int n)
{
	for (int i = 0; i < n; i++)
		touch(memalign(32, 200));
}

__attribute__((noinline)) void leak_pvalloc_kind(int n)
{
	for (int i = 0; i < n; i++)
		touch(pvalloc(220));
}

__attribute__((noinline)) void leak_aligned_alloc_kind(int n)
{
	for (int i = 0; i < n; i++)
		touch(aligned_alloc(64, 256));
}

static const struct {
	const char *name;
	void (*leak)(int n);
} kinds[] = {
	{ "malloc", leak_malloc_kind },
	{ "calloc", leak_calloc_kind },
	{ "realloc", leak_realloc_kind },
	{ "posix_memalign", leak_posix_memalign_kind },
	{ "valloc", leak_valloc_kind },
	{ "memalign", leak_memalign_kind },
	{ "pvalloc", leak_pvalloc_kind },
	{ "aligned_alloc", leak_aligned_alloc_kind },
};

static int leak_from_library(const char *path, int n, const char *replacement)
{
	void *h = dlopen(path, RTLD_NOW);
	void (*leak)(int);

	if (!h) {
		fprintf(stderr, "leak_kinds: %s\n", dlerror());
		return 1;
	}
	*(void **)&leak = dlsym(h, "plugin_leak");
	if (!leak)
		return 1;
	leak(n);
	if (replacement && rename(replacement, path))
		return 1;
	printf("leaked %d blocks from %s\n", n, path);
	return 0;
}

int main(int argc, char **argv)
{
	int dl = argc > 1 && !strcmp(argv[1], "dlopen");
	const char *replacement = NULL;
	int wait = 0, n;

	if (argc < 3 + dl)
		return 2;
	n = atoi(argv[2 + dl]);
	for (int i = 3 + dl; i < argc; i++) {
		wait |= !strcmp(argv[i], "-w");
		if (!strcmp(argv[i], "-r") && i + 1 < argc)
			replacement = argv[++i];
	}
	signal(SIGUSR1, on_usr1);
	while (wait && !go)
		pause();
	if (dl)
		return leak_from_library(argv[2], n, replacement);
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(argv[1], kinds[i].name))
			continue;
		kinds[i].leak(n);
		printf("leaked %d %s blocks\n", n, kinds[i].name);
		return 0;
	}
	return 2;
}
