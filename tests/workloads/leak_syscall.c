/* Leaks COUNT mappings of KIB KiB through the raw mmap system call
 * (syscall(2), no mmap() wrapper), from leak_raw(). Built static too.
 * usage: leak_syscall COUNT KIB [-w] [-x] (see leak_mmap.c) */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile sig_atomic_t go;
static void on_usr1(int s) { (void)s; go = 1; }

__attribute__((noinline)) void *leak_raw(size_t len)
{
	long p = syscall(SYS_mmap, 0L, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1L, 0L);

	if (p < 0 && p > -4096)
		exit(1);
	memset((void *)p, 1, len);
	return (void *)p;
}

int main(int argc, char **argv)
{
	int count, wait = 0, quit = 0;
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
	for (int i = 0; i < count; i++)
		leak_raw(len);
	write(1, "leaked\n", 7);
	if (quit)
		return 0;
	for (;;)
		pause();
}
