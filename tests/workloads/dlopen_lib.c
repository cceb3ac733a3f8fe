/* Loads the shared library LIB with dlopen from load_plugin(): the dynamic
 * loader maps it, the zero-filled part of its data (.bss past the end of
 * its file) as an anonymous mapping, then says "loaded" and waits to be
 * killed. usage: dlopen_lib LIB [-w] (see leak_mmap.c) */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t go;
static void on_usr1(int s) { (void)s; go = 1; }

__attribute__((noinline)) void *load_plugin(const char *lib)
{
	return dlopen(lib, RTLD_NOW | RTLD_LOCAL);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	signal(SIGUSR1, on_usr1);
	if (argc > 2 && !strcmp(argv[2], "-w"))
		while (!go)
			pause();
	if (!load_plugin(argv[1])) {
		fprintf(stderr, "dlopen_lib: %s\n", dlerror());
		return 1;
	}
	if (write(1, "loaded\n", 7) < 0)
		return 1;
	for (;;)
		pause();
}
