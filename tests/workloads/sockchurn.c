/* sockchurn [HELD]: holds HELD sockets open (default 0), then opens and
 * closes a TCP socket in a tight loop, so the same fd number is reused all
 * the time, until SIGUSR1; then prints "stopped N" (sockets made) and holds
 * still until killed. For sockleak's attach race. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_usr1(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	unsigned long n = 0;
	int held = argc > 1 ? atoi(argv[1]) : 0;

	for (int i = 0; i < held; i++)
		if (socket(AF_INET, SOCK_STREAM, 0) < 0)
			return 1;
	signal(SIGUSR1, on_usr1);
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0) {
			perror("socket");
			return 1;
		}
		close(fd);
		n++;
	}
	printf("stopped %lu\n", n);
	fflush(stdout);
	for (;;)
		pause();
}
