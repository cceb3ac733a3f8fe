#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memleak_launch.h"
#include "output.h"

int launch_start(struct launch *l, char **argv)
{
	int p[2];
	char go;

	memset(l, 0, sizeof(*l));
	l->go_fd = -1;
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	l->pid = fork();
	if (l->pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (l->pid == 0) {
		close(p[1]);
		signal(SIGPIPE, SIG_DFL);
		/* EOF instead of the byte: the tracer gave up. */
		if (read(p[0], &go, 1) != 1)
			_exit(127);
		execvp(argv[0], argv);
		fprintf(stderr, "memleak-trace: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[0]);
	l->go_fd = p[1];
	return 0;
}

int launch_release(struct launch *l)
{
	int err = 0;

	if (l->go_fd < 0)
		return 0;
	if (write(l->go_fd, "g", 1) != 1)
		err = -errno;
	close(l->go_fd);
	l->go_fd = -1;
	return err;
}

bool launch_exited(struct launch *l)
{
	if (l->pid <= 0 || l->reaped)
		return true;
	if (waitpid(l->pid, &l->status, WNOHANG) == l->pid)
		l->reaped = true;
	return l->reaped;
}

void launch_abort(struct launch *l)
{
	if (l->go_fd >= 0) {
		close(l->go_fd);
		l->go_fd = -1;
	}
	launch_stop(l);
}

void launch_stop(struct launch *l)
{
	if (l->pid <= 0 || l->reaped)
		return;
	kill(l->pid, SIGTERM);
	if (waitpid(l->pid, &l->status, 0) == l->pid)
		l->reaped = true;
}
