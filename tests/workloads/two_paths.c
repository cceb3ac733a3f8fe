/* Two callers of one wrapper in a shared library (lib/xwrap.c, built -O2
 * -fomit-frame-pointer like this program): path_a() frees everything it
 * gets, path_b() leaks COUNT. Seen from the wrapper's call, the two paths
 * share every word a tracer keys a call site with; only the stack further
 * up tells them apart.
 * usage: two_paths malloc|mmap|socket COUNT [-w]
 *   -w: wait for SIGUSR1 before the warm-up
 * The warm-up runs each path once, balanced (path_b frees too), and says
 * "warm PID"; SIGUSR2 then starts the run: path_a 100 times balanced,
 * path_b COUNT times leaked, then "leaked COUNT" and it waits to be killed. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define KEEP __attribute__((noipa))
#define BLOCK 4096
#define MAP_LEN (64 * 1024)

void *xalloc(size_t n);
void *xmap(size_t len);
int xsocket(void);

static volatile sig_atomic_t got1, got2;
static void on_usr1(int s) { (void)s; got1 = 1; }
static void on_usr2(int s) { (void)s; got2 = 1; }
static volatile unsigned long checksum;
static int mode; /* 0 malloc, 1 mmap, 2 socket */

/* Each path calls the wrapper itself: the wrapper's caller is the path. */
KEEP void path_a(int n)
{
	for (int i = 0; i < n; i++) {
		if (mode == 0) {
			char *p = xalloc(BLOCK);

			p[0] = (char)i;
			checksum += (unsigned long)p[0];
			free(p);
		} else if (mode == 1) {
			char *p = xmap(MAP_LEN);

			p[0] = (char)i;
			checksum += (unsigned long)p[0];
			munmap(p, MAP_LEN);
		} else {
			close(xsocket());
		}
	}
}

/* keep: leak what it gets (else free it, as path_a does). */
KEEP void path_b(int n, int keep)
{
	for (int i = 0; i < n; i++) {
		if (mode == 0) {
			char *p = xalloc(BLOCK);

			memset(p, 2, BLOCK);
			checksum += (unsigned long)p[1];
			if (!keep)
				free(p);
		} else if (mode == 1) {
			char *p = xmap(MAP_LEN);

			memset(p, 2, MAP_LEN);
			checksum += (unsigned long)p[1];
			if (!keep)
				munmap(p, MAP_LEN);
		} else {
			int fd = xsocket();

			checksum += (unsigned long)fd;
			if (!keep)
				close(fd);
		}
	}
}

static void await(volatile sig_atomic_t *flag)
{
	sigset_t none;

	sigemptyset(&none);
	while (!*flag)
		sigsuspend(&none);
}

int main(int argc, char **argv)
{
	sigset_t block;
	int count;

	if (argc < 3)
		return 2;
	mode = !strcmp(argv[1], "malloc") ? 0 : !strcmp(argv[1], "mmap") ? 1 : 2;
	count = atoi(argv[2]);
	signal(SIGUSR1, on_usr1);
	signal(SIGUSR2, on_usr2);
	/* Signals wait for sigsuspend: none slips between a test and the wait. */
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigprocmask(SIG_BLOCK, &block, NULL);
	if (argc > 3 && !strcmp(argv[3], "-w"))
		await(&got1);
	path_a(1);
	path_b(1, 0);
	printf("warm %d\n", (int)getpid());
	fflush(stdout);
	await(&got2);
	path_a(100);
	path_b(count, 1);
	printf("leaked %d\n", count);
	fflush(stdout);
	for (;;)
		pause();
}
