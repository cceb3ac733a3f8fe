/* memleak-trace -- CMD: start a command held before its exec, so tracing
 * is in place from its first instruction. */
#ifndef MEMSCOPE_MEMLEAK_LAUNCH_H
#define MEMSCOPE_MEMLEAK_LAUNCH_H

#include <stdbool.h>
#include <sys/types.h>

struct launch {
	pid_t pid;
	int go_fd;      /* write end: one byte releases the child */
	int exec_fd;    /* read end: EOF when the exec worked, else its errno */
	int status;
	bool reaped;
};

/* Fork; the child waits on a pipe, then execs argv (same pid). */
int launch_start(struct launch *l, char **argv);
/* Let the child exec; waits for the exec itself. -errno when the
 * command could not be executed (the child has then exited 127). */
int launch_release(struct launch *l);
/* The command's exit status (128 + signal when killed), -1 while it runs. */
int launch_exit_status(const struct launch *l);
/* One line for people: "exited with status 3", "was killed by SIGKILL". */
const char *launch_describe_exit(const struct launch *l, char *buf, size_t len);
/* Has the child exited (reaps it)? */
bool launch_exited(struct launch *l);
/* The child never runs (setup failed), or is stopped at the end. */
void launch_abort(struct launch *l);
void launch_stop(struct launch *l);

#endif
