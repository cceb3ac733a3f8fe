/* The fd life cycles sockleak must follow exactly. Each mode prints what
 * it did on stdout ("ready ...") and then holds still until killed.
 *   sockcases fork N         N sockets, fork: the child closes its copies
 *   sockcases close_range N  N sockets, released by close_range()
 *   sockcases cloexec A B    A sockets with SOCK_CLOEXEC and B without, exec
 *   sockcases exit N T       N sockets, exit after T seconds
 *   sockcases allfds         3 files, 2 pipes, 1 socket, 1 eventfd, 1 epoll
 *   sockcases hold           just wait (the exec target) */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static void hold(void)
{
	fflush(stdout);
	for (;;)
		pause();
}

static int make_socket(int flags)
{
	int fd = socket(AF_INET, SOCK_DGRAM | flags, 0);

	if (fd < 0) {
		perror("socket");
		exit(1);
	}
	return fd;
}

static void do_fork(int n)
{
	int fds[256];
	pid_t kid;

	for (int i = 0; i < n; i++)
		fds[i] = make_socket(0);
	kid = fork();
	if (kid == 0) {
		for (int i = 0; i < n; i++)
			close(fds[i]);
		hold();
	}
	printf("ready parent %d child %d\n", getpid(), kid);
	hold();
}

static void do_close_range(int n)
{
	int first = -1;

	for (int i = 0; i < n; i++) {
		int fd = make_socket(0);

		if (first < 0)
			first = fd;
	}
	if (syscall(SYS_close_range, first, ~0U, 0)) {
		perror("close_range");
		exit(1);
	}
	printf("ready %d\n", getpid());
	hold();
}

static void do_cloexec(const char *self, int a, int b)
{
	for (int i = 0; i < a; i++)
		make_socket(SOCK_CLOEXEC);
	for (int i = 0; i < b; i++)
		make_socket(0);
	/* Let a report see them before exec. */
	usleep(1500 * 1000);
	execl(self, self, "hold", (char *)NULL);
	perror("exec");
	exit(1);
}

static void do_allfds(void)
{
	int p[2];

	for (int i = 0; i < 3; i++)
		if (open("/dev/null", O_RDONLY) < 0)
			exit(1);
	for (int i = 0; i < 2; i++)
		if (pipe(p))
			exit(1);
	make_socket(0);
	if (eventfd(0, 0) < 0 || epoll_create1(0) < 0)
		exit(1);
	printf("ready %d\n", getpid());
	hold();
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";

	if (!strcmp(m, "fork") && argc == 3)
		do_fork(atoi(argv[2]) % 256);
	else if (!strcmp(m, "close_range") && argc == 3)
		do_close_range(atoi(argv[2]));
	else if (!strcmp(m, "cloexec") && argc == 4)
		do_cloexec("/proc/self/exe", atoi(argv[2]), atoi(argv[3]));
	else if (!strcmp(m, "exit") && argc == 4) {
		for (int i = 0; i < atoi(argv[2]); i++)
			make_socket(0);
		printf("ready %d\n", getpid());
		fflush(stdout);
		sleep(atoi(argv[3]));
		return 0;
	} else if (!strcmp(m, "allfds"))
		do_allfds();
	else if (!strcmp(m, "hold")) {
		printf("ready %d\n", getpid());
		hold();
	}
	fprintf(stderr, "usage: see the comment at the top of sockcases.c\n");
	return 2;
}
