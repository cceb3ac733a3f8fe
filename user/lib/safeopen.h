/* Opening a file a traced process names, as root, without letting that
 * process choose a different file. Its paths are resolved inside its own
 * root (/proc/PID/root): through that link the kernel would otherwise
 * resolve an absolute symbolic link planted in a container against the
 * tracer's root, the host's, and a container could make the tracer read
 * any host file. */
#ifndef MEMSCOPE_SAFEOPEN_H
#define MEMSCOPE_SAFEOPEN_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Open path (absolute, as the process sees it) inside pid's root: every
 * symbolic link resolved within that root, no /proc magic links, and the
 * last component never a link. openat2(RESOLVE_IN_ROOT) from Linux 5.6;
 * before, a walk component by component that refuses any link or "..".
 * An fd (O_CLOEXEC added), or -1 with errno (ELOOP: a link was refused). */
int open_in_proc_root(pid_t pid, const char *path, int flags);

/* A file a process wrote for us to trust (a perf map): a regular file
 * owned by the process's user or root, that no other user may write. On
 * false, why (static text). */
bool owned_by_process(pid_t pid, const struct stat *st, const char **why);

#endif
