#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memleak_launch.h"
#include "output.h"

static void close_pair(int p[2])
{
	close(p[0]);
	close(p[1]);
}

/* Would execvp find an executable file for cmd? 0, or -errno as execvp
 * would fail (ENOENT, EACCES, EISDIR...). Asked before the fork, so that a
 * command that cannot run is refused before anything is set up for it
 * (the allocator search of --malloc would otherwise look at our own fork). */
static int command_resolves(const char *cmd)
{
	const char *path = getenv("PATH"), *p, *colon;
	char full[PATH_MAX];
	struct stat st;
	int err = -ENOENT, len;

	if (!*cmd)
		return -ENOENT;
	if (strchr(cmd, '/')) {
		if (stat(cmd, &st))
			return -errno;
		if (S_ISDIR(st.st_mode))
			return -EISDIR;
		return access(cmd, X_OK) ? -errno : 0;
	}
	for (p = path && *path ? path : "/usr/local/bin:/usr/bin:/bin"; p; p = colon ? colon + 1 : NULL) {
		colon = strchr(p, ':');
		len = colon ? (int)(colon - p) : (int)strlen(p);
		/* An empty PATH entry is the current directory, as for execvp. */
		if (snprintf(full, sizeof(full), "%.*s/%s", len ? len : 1, len ? p : ".", cmd) >= (int)sizeof(full))
			continue;
		if (stat(full, &st) || S_ISDIR(st.st_mode))
			continue;
		if (access(full, X_OK) == 0)
			return 0;
		err = -EACCES;
	}
	return err;
}

/* A second close-on-exec pipe tells the tracer whether the exec worked:
 * it closes empty when it did, and carries errno when it did not, so the
 * failure is the tracer's one error line, not a report on a command that
 * never ran. */
int launch_start(struct launch *l, char **argv)
{
	int p[2], e[2], err;
	char go;

	memset(l, 0, sizeof(*l));
	l->go_fd = l->exec_fd = -1;
	if ((err = command_resolves(argv[0])))
		return err;
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	if (pipe2(e, O_CLOEXEC)) {
		err = -errno;
		close_pair(p);
		return err;
	}
	l->pid = fork();
	if (l->pid < 0) {
		err = -errno;
		close_pair(p);
		close_pair(e);
		return err;
	}
	if (l->pid == 0) {
		close(p[1]);
		close(e[0]);
		signal(SIGPIPE, SIG_DFL);
		/* EOF instead of the byte: the tracer gave up. */
		if (read(p[0], &go, 1) != 1)
			_exit(127);
		/* --output took our stdout: the command gets the one we had. */
		if (out_original_stdout() >= 0)
			dup2(out_original_stdout(), STDOUT_FILENO);
		execvp(argv[0], argv);
		err = errno;
		if (write(e[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	close(p[0]);
	close(e[1]);
	l->go_fd = p[1];
	l->exec_fd = e[0];
	return 0;
}

int launch_exit_status(const struct launch *l)
{
	if (!l->reaped)
		return -1;
	return WIFSIGNALED(l->status) ? 128 + WTERMSIG(l->status) : WEXITSTATUS(l->status);
}

const char *launch_describe_exit(const struct launch *l, char *buf, size_t len)
{
	if (!l->reaped)
		snprintf(buf, len, "is still running");
	else if (WIFSIGNALED(l->status))
		snprintf(buf, len, "was killed by SIG%s", sigabbrev_np(WTERMSIG(l->status)) ?: "?");
	else
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(l->status));
	return buf;
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
	if (!err && l->exec_fd >= 0) {
		int child_err;
		ssize_t n;

		while ((n = read(l->exec_fd, &child_err, sizeof(child_err))) < 0 && errno == EINTR)
			;
		if (n == sizeof(child_err))
			err = -child_err;
	}
	if (l->exec_fd >= 0)
		close(l->exec_fd);
	l->exec_fd = -1;
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
	if (l->exec_fd >= 0) {
		close(l->exec_fd);
		l->exec_fd = -1;
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
