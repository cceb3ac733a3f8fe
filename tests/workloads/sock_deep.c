/* Leaks COUNT sockets through a call chain main -> serve -> handle_request
 * -> pool_get -> open_conn -> socket, and opens and closes as many again
 * (balanced) from probe_backend(). Built -O2 -fomit-frame-pointer
 * (sock_deep-nofp), the frame-pointer walk cannot follow this chain; and,
 * as -O2 code does with its spare register, open_conn keeps data in rbp:
 * a pointer to a stack record that differs per call, so every call of the
 * one call site gives the kernel's walk another "stack".
 * usage: sock_deep COUNT [-w]
 *   -w: wait for SIGUSR1 before starting (attach a tracer first)
 * Prints "done" when finished, then waits to be killed. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define KEEP __attribute__((noipa))

static volatile sig_atomic_t go;
static void on_usr1(int s) { (void)s; go = 1; }
static volatile long checksum;

KEEP int open_conn(long tag)
{
	volatile long record[2] = { 0, tag };
	int fd;
#ifdef MEMSCOPE_NOFP
	register volatile long *bp asm("rbp") = record;

	asm volatile("" : "+r"(bp));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	asm volatile("" : "+r"(bp));
#else
	fd = socket(AF_INET, SOCK_DGRAM, 0);
#endif
	checksum += record[1];
	if (fd < 0)
		exit(1);
	return fd;
}

KEEP void probe_backend(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0)
		exit(1);
	close(fd);
}

KEEP int pool_get(int key)
{
	int fd = open_conn(0x1000 + key);

	checksum += fd;
	return fd;
}

KEEP int handle_request(int key)
{
	int fd = pool_get(key);

	probe_backend();
	checksum += key;
	return fd;
}

KEEP int serve(int count)
{
	int sum = 0;

	for (int i = 0; i < count; i++)
		sum += handle_request(i);
	checksum += sum;
	return sum;
}

int main(int argc, char **argv)
{
	int count = argc > 1 ? atoi(argv[1]) : 0;

	if (count <= 0) {
		fprintf(stderr, "usage: sock_deep COUNT [-w]\n");
		return 2;
	}
	if (argc > 2 && !strcmp(argv[2], "-w")) {
		sigset_t block, old;

		signal(SIGUSR1, on_usr1);
		sigemptyset(&block);
		sigaddset(&block, SIGUSR1);
		sigprocmask(SIG_BLOCK, &block, &old);
		printf("waiting %d\n", getpid());
		fflush(stdout);
		while (!go)
			sigsuspend(&old);
	}
	serve(count);
	printf("done\n");
	fflush(stdout);
	for (;;)
		pause();
}
