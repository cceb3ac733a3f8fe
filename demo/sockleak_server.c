/* sockleak demo: a loopback "API server" whose error path forgets to close
 * the connection, and a client process that sends it requests, one in
 * five of them bad. The bad ones stay open on the server, and when the
 * client hangs up they sit in CLOSE_WAIT. Runs until killed. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static __attribute__((noinline)) void handle_conn(int fd)
{
	char buf[64] = { 0 };

	if (read(fd, buf, sizeof(buf) - 1) <= 0 || strncmp(buf, "GET", 3)) {
		/* bad request: reply and ... forget close(fd) */
		(void)!write(fd, "400\n", 4);
		return;
	}
	(void)!write(fd, "200\n", 4);
	close(fd);
}

static void client(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char buf[8];

	for (int i = 1;; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)))
			exit(1);
		(void)!write(fd, i % 5 ? "GET /\n" : "BREW /\n", 7);
		(void)!read(fd, buf, sizeof(buf));
		close(fd);
		usleep(20000);
	}
}

int main(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);

	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 128) ||
	    getsockname(lfd, (struct sockaddr *)&a, &len)) {
		perror("sockleak_server");
		return 1;
	}
	signal(SIGCHLD, SIG_IGN);
	if (fork() == 0) {
		close(lfd);
		client(ntohs(a.sin_port));
	}
	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd >= 0)
			handle_conn(fd);
	}
}
