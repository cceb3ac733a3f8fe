/* Loopback TCP client for sockleak's tests: N requests, every LEAK_EVERY-th
 * one made by leaky_request(), which never closes its socket; then it holds
 * still until killed. Prints "done" on stdout when finished.
 * Usage: sockclient PORT N LEAK_EVERY [-g | -x]
 *   -g: then grow (touch anonymous memory, 1 MiB at a time) until killed:
 *       a worker that leaks sockets and memory, for an OOM kill
 *   -x: then exit at once (gone before a tracer reads its /proc) */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

static int port;

static int dial(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		perror("sockclient: connect");
		exit(1);
	}
	return fd;
}

static __attribute__((noinline)) void tidy_request(void)
{
	int fd = dial();

	(void)!write(fd, "GET\n", 4);
	close(fd);
}

static __attribute__((noinline)) void leaky_request(void)
{
	int fd = dial();

	(void)!write(fd, "GET\n", 4);
	/* forgot close(fd) */
}

static void grow_forever(void)
{
	for (;;) {
		char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			exit(1);
		memset(p, 1, 1 << 20);
	}
}

int main(int argc, char **argv)
{
	int n, every;

	if (argc != 4 && !(argc == 5 && (!strcmp(argv[4], "-g") || !strcmp(argv[4], "-x")))) {
		fprintf(stderr, "usage: sockclient PORT N LEAK_EVERY [-g | -x]\n");
		return 2;
	}
	port = atoi(argv[1]);
	n = atoi(argv[2]);
	every = atoi(argv[3]);
	for (int i = 1; i <= n; i++) {
		if (every && i % every == 0)
			leaky_request();
		else
			tidy_request();
	}
	printf("done\n");
	fflush(stdout);
	if (argc == 5 && !strcmp(argv[4], "-x"))
		return 0;
	if (argc == 5)
		grow_forever();
	for (;;)
		pause();
}
