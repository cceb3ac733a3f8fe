/* Loopback TCP server for sockleak's tests. By default it accepts and never
 * closes (the clients' close leaves its sockets in CLOSE_WAIT); with --close
 * it reads each connection to EOF and closes it; with --hangup it closes
 * right after accept, like a backend that drops idle clients (the clients'
 * sockets go to CLOSE_WAIT).
 * Usage: sockserver [--close | --hangup] [--accept4] PORT_FILE */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int listen_any(const char *port_file)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	FILE *f;

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 4096) ||
	    getsockname(fd, (struct sockaddr *)&a, &len)) {
		perror("sockserver: listen");
		exit(1);
	}
	f = fopen(port_file, "w");
	if (!f) {
		perror(port_file);
		exit(1);
	}
	fprintf(f, "%d\n", ntohs(a.sin_port));
	fclose(f);
	return fd;
}

/* Reads the request; forgets to close unless told to. */
static __attribute__((noinline)) void handle_conn(int fd, int do_close)
{
	char buf[256];

	if (!do_close) {
		(void)!read(fd, buf, sizeof(buf));
		return; /* the leak: fd stays open, the peer's FIN leaves CLOSE_WAIT */
	}
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
}

int main(int argc, char **argv)
{
	int do_close = 0, hangup = 0, use4 = 0, lfd;

	for (; argc > 2; argc--, argv++) {
		if (!strcmp(argv[1], "--close"))
			do_close = 1;
		else if (!strcmp(argv[1], "--hangup"))
			hangup = 1;
		else if (!strcmp(argv[1], "--accept4"))
			use4 = 1;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: sockserver [--close | --hangup] [--accept4] PORT_FILE\n");
		return 2;
	}
	lfd = listen_any(argv[1]);
	for (;;) {
		int fd = use4 ? accept4(lfd, NULL, NULL, SOCK_CLOEXEC) : accept(lfd, NULL, NULL);

		if (fd < 0)
			continue;
		if (hangup)
			close(fd);
		else
			handle_conn(fd, do_close);
	}
}
