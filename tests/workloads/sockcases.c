/* The fd life cycles sockleak must follow exactly. Each mode prints what
 * it did on stdout ("ready ...") and then holds still until killed.
 *   sockcases fork N         N sockets, fork: the child closes its copies
 *   sockcases close_range N  N sockets, released by close_range()
 *   sockcases cloexec A B    A sockets with SOCK_CLOEXEC and B without, exec
 *   sockcases exit N T       N sockets, exit after T seconds
 *   sockcases stuffed PORT N N connections to PORT, each written to until its
 *                            send buffer is full, then closed: the FIN waits
 *                            behind the data (FIN_WAIT1 orphans) while the
 *                            peer does not read
 *   sockcases allfds         3 files, 2 pipes, 1 socket, 1 eventfd, 1 epoll
 *   sockcases pass N         N sockets passed to a child over SCM_RIGHTS; the
 *                            parent closes its copies first, the child last
 *   sockcases idle N M       N sockets, then waits; at SIGUSR1 closes them
 *                            and opens M new ones, prints "swapped"
 *   sockcases hold           just wait (the exec target)
 *   sockcases spawn N        a socket, then N children forked one by one,
 *                            each making a socket in spawn_child; prints
 *                            "ready PARENT CHILD..." once all have */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
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

/* Not inlined: the children's sockets have a frame of their own to be
 * named by. */
static __attribute__((noinline)) void spawn_child(int ready_fd)
{
	make_socket(0);
	if (write(ready_fd, "x", 1) != 1)
		exit(1);
	hold();
}

static void do_spawn(int n)
{
	pid_t kids[256];
	int p[2];
	char c;

	make_socket(0);
	if (pipe(p))
		exit(1);
	for (int i = 0; i < n; i++) {
		kids[i] = fork();
		if (kids[i] < 0)
			exit(1);
		if (kids[i] == 0)
			spawn_child(p[1]);
		/* One at a time: each child's socket is made before the next
		 * fork, as a server's workers come and go. */
		if (read(p[0], &c, 1) != 1)
			exit(1);
	}
	printf("ready %d", getpid());
	for (int i = 0; i < n; i++)
		printf(" %d", kids[i]);
	printf("\n");
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

/* One datagram: a byte, and the fds in SCM_RIGHTS when n > 0. */
static void send_fds(int via, const int *fds, int n)
{
	char byte = 'x', cbuf[CMSG_SPACE(sizeof(int) * 64)] = { 0 };
	struct iovec iov = { &byte, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;

	if (n) {
		m.msg_control = cbuf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	}
	if (sendmsg(via, &m, 0) != 1) {
		perror("sendmsg");
		exit(1);
	}
}

/* Receive one datagram; returns how many fds came with it (into fds). */
static int recv_fds(int via, int *fds)
{
	char byte, cbuf[CMSG_SPACE(sizeof(int) * 64)];
	struct iovec iov = { &byte, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;

	if (recvmsg(via, &m, 0) != 1) {
		perror("recvmsg");
		exit(1);
	}
	c = CMSG_FIRSTHDR(&m);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return 0;
	memcpy(fds, CMSG_DATA(c), c->cmsg_len - CMSG_LEN(0));
	return (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
}

static void do_pass(int n)
{
	int fds[64], none[64], sv[2];
	pid_t kid;

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv)) {
		perror("socketpair");
		exit(1);
	}
	kid = fork();
	if (kid == 0) {
		int got = recv_fds(sv[1], fds);

		recv_fds(sv[1], none); /* the parent closed its copies */
		for (int i = 0; i < got; i++)
			close(fds[i]);
		send_fds(sv[1], NULL, 0);
		hold();
	}
	for (int i = 0; i < n; i++)
		fds[i] = make_socket(0);
	send_fds(sv[0], fds, n);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	send_fds(sv[0], NULL, 0);
	recv_fds(sv[0], none); /* the child closed them: the last references */
	printf("ready parent %d child %d\n", getpid(), kid);
	hold();
}

static void do_stuffed(int port, int n)
{
	static char buf[65536];
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

	for (int i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
			perror("connect");
			exit(1);
		}
		fcntl(fd, F_SETFL, O_NONBLOCK);
		while (write(fd, buf, sizeof(buf)) > 0)
			;
		if (errno != EAGAIN) {
			perror("write");
			exit(1);
		}
		close(fd);
	}
	printf("ready %d\n", getpid());
	hold();
}

static volatile sig_atomic_t swap_now;

static void on_usr1(int sig)
{
	(void)sig;
	swap_now = 1;
}

/* Sockets that exist before a tracer starts, closed (and replaced) later. */
static void do_idle(int n, int m)
{
	int fds[256];
	sigset_t block, old;

	signal(SIGUSR1, on_usr1);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	for (int i = 0; i < n; i++)
		fds[i] = make_socket(0);
	printf("ready %d\n", getpid());
	fflush(stdout);
	while (!swap_now)
		sigsuspend(&old);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	for (int i = 0; i < m; i++)
		make_socket(0);
	printf("swapped\n");
	hold();
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
	} else if (!strcmp(m, "stuffed") && argc == 4)
		do_stuffed(atoi(argv[2]), atoi(argv[3]));
	else if (!strcmp(m, "pass") && argc == 3)
		do_pass(atoi(argv[2]) % 64);
	else if (!strcmp(m, "idle") && argc == 4)
		do_idle(atoi(argv[2]) % 256, atoi(argv[3]));
	else if (!strcmp(m, "spawn") && argc == 3)
		do_spawn(atoi(argv[2]) % 256);
	else if (!strcmp(m, "allfds"))
		do_allfds();
	else if (!strcmp(m, "hold")) {
		printf("ready %d\n", getpid());
		hold();
	}
	fprintf(stderr, "usage: see the comment at the top of sockcases.c\n");
	return 2;
}
