/* HotSpot JVMs: version, frame pointers, perf map dumps (see jvm.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jvm.h"
#include "procfs.h"
#include "safeopen.h"

/* jcmd is a JVM itself: it starts in about a second, ten in an emulated
 * guest. Past this the dump is given up (and jcmd killed). */
#define JCMD_TIMEOUT_MS 60000
#define RELEASE_MAX 65536
#define FP_FLAG "PreserveFramePointer"

struct jvm {
	pid_t pid;
	char *home;             /* the JDK's home, as the process sees it */
	char *version;          /* JAVA_VERSION of its release file */
	bool frame_pointers;
};

/* ".../lib/server/libjvm.so" (JDK 9+) or ".../jre/lib/amd64/server/
 * libjvm.so" (8): the home is what lies before "/lib/" or "/jre/lib/". */
static char *jdk_home(const char *libjvm)
{
	const char *base = strrchr(libjvm, '/');
	const char *lib = NULL;

	if (!base || strcmp(base, "/libjvm.so"))
		return NULL;
	for (const char *p = libjvm; (p = strstr(p, "/lib/")) && p < base; p++)
		lib = p;
	if (!lib)
		return NULL;
	if (lib - libjvm >= 4 && !strncmp(lib - 4, "/jre", 4))
		lib -= 4;
	return strndup(libjvm, lib - libjvm);
}

/* JAVA_VERSION="17.0.15" from HOME/release, read inside the process's
 * root (a container's JDK). */
static char *release_version(pid_t pid, const char *home)
{
	char *path = NULL, *buf, *v = NULL, *p;
	ssize_t n;
	int fd;

	if (asprintf(&path, "%s/release", home) < 0)
		abort();
	fd = open_in_proc_root(pid, path, O_RDONLY);
	free(path);
	if (fd < 0)
		return NULL;
	buf = malloc(RELEASE_MAX);
	if (!buf)
		abort();
	n = read(fd, buf, RELEASE_MAX - 1);
	close(fd);
	if (n > 0) {
		buf[n] = 0;
		p = strstr(buf, "JAVA_VERSION=\"");
		if (p && (p == buf || p[-1] == '\n')) {
			p += strlen("JAVA_VERSION=\"");
			v = strndup(p, strcspn(p, "\"\n"));
		}
	}
	free(buf);
	return v;
}

/* NAME=VALUE of a NUL-separated environment block, or NULL. */
static const char *env_value(const char *env, size_t n, const char *name)
{
	size_t l = strlen(name);

	for (const char *p = env; p < env + n; p += strlen(p) + 1)
		if (!strncmp(p, name, l) && p[l] == '=')
			return p + l + 1;
	return NULL;
}

/* The last -XX:+/-PreserveFramePointer in s decides: +1, -1, 0 if none. */
static int fp_setting(const char *s, size_t n, int now)
{
	for (const char *p = s; p && p < s + n; p++) {
		p = memmem(p, s + n - p, FP_FLAG, strlen(FP_FLAG));
		if (!p)
			break;
		if (p - s >= 5 && !strncmp(p - 5, "-XX:", 4) && (p[-1] == '+' || p[-1] == '-'))
			now = p[-1] == '+' ? 1 : -1;
	}
	return now;
}

/* The JVM reads JAVA_TOOL_OPTIONS, then its command line (where the
 * launcher put JDK_JAVA_OPTIONS), then _JAVA_OPTIONS: the last wins. */
static bool preserves_frame_pointers(pid_t pid)
{
	char *env = NULL, *cmd = NULL;
	ssize_t ne = proc_read(pid, "environ", &env), nc = proc_read(pid, "cmdline", &cmd);
	const char *v;
	int fp = 0;

	if (ne > 0 && (v = env_value(env, ne, "JAVA_TOOL_OPTIONS")))
		fp = fp_setting(v, strlen(v), fp);
	if (nc > 0)
		fp = fp_setting(cmd, nc, fp);
	if (ne > 0 && (v = env_value(env, ne, "_JAVA_OPTIONS")))
		fp = fp_setting(v, strlen(v), fp);
	free(env);
	free(cmd);
	return fp > 0;
}

/* The path of the libjvm.so pid maps, from /proc/PID/maps; NULL if none. */
static char *libjvm_path(pid_t pid)
{
	char *maps = NULL, *found = NULL;

	if (proc_read(pid, "maps", &maps) < 0)
		return NULL;
	for (char *l = maps; l && *l && !found; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		size_t len = strcspn(l, "\n");
		char *path = memchr(l, '/', len);

		if (path && len - (path - l) > 10 && !strncmp(l + len - 10, "/libjvm.so", 10))
			found = strndup(path, l + len - path);
	}
	free(maps);
	return found;
}

struct jvm *jvm__probe(pid_t pid)
{
	char *lib = libjvm_path(pid);
	char *home = lib ? jdk_home(lib) : NULL;
	struct jvm *j;

	free(lib);

	if (!home)
		return NULL;
	j = calloc(1, sizeof(*j));
	if (!j)
		abort();
	j->pid = pid;
	j->home = home;
	j->version = release_version(pid, home);
	j->frame_pointers = preserves_frame_pointers(pid);
	return j;
}

const char *jvm__home(const struct jvm *j)
{
	return j->home;
}

const char *jvm__version(const struct jvm *j)
{
	return j ? j->version : NULL;
}

bool jvm__version_verified(const struct jvm *j)
{
	return j && j->version && !strncmp(j->version, "17.", 3);
}

bool jvm__frame_pointers(const struct jvm *j)
{
	return j && j->frame_pointers;
}

/* The effective uid and gid of pid (the attach listener accepts only
 * its own). */
static int proc_ids(pid_t pid, uid_t *uid, gid_t *gid)
{
	char *buf = NULL, *u, *g;
	unsigned long r, e;
	int ok;

	if (proc_read(pid, "status", &buf) < 0)
		return -1;
	u = strstr(buf, "\nUid:");
	g = strstr(buf, "\nGid:");
	ok = u && g && sscanf(u, "\nUid: %lu %lu", &r, &e) == 2;
	if (ok)
		*uid = (uid_t)e;
	ok = ok && sscanf(g, "\nGid: %lu %lu", &r, &e) == 2;
	if (ok)
		*gid = (gid_t)e;
	free(buf);
	return ok ? 0 : -1;
}

/* A program root may run as uid: owned by root or uid, written by no one
 * else (a JDK unpacked in a user's home runs its jcmd as that user). */
static bool trusted_program(const char *path, uid_t uid)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode) && (st.st_uid == 0 || st.st_uid == uid) &&
	       !(st.st_mode & (S_IWGRP | S_IWOTH)) && !access(path, X_OK);
}

/* The JDK's own jcmd when the JVM shares our mount namespace and the file
 * is trusted; else jcmd from PATH. Never a container's: its binary would
 * run with the host's namespaces (the host's jcmd attaches into a
 * container through /proc/PID/root by itself). */
static char *jcmd_path(const struct jvm *j, uid_t uid)
{
	struct stat a, b;
	char *p = NULL, ns[64];

	snprintf(ns, sizeof(ns), "/proc/%d/ns/mnt", j->pid);
	if (!stat("/proc/self/ns/mnt", &a) && !stat(ns, &b) && a.st_ino == b.st_ino &&
	    a.st_dev == b.st_dev) {
		if (asprintf(&p, "%s/bin/jcmd", j->home) < 0)
			abort();
		if (trusted_program(p, uid))
			return p;
		free(p);
	}
	p = strdup("jcmd");
	if (!p)
		abort();
	return p;
}

static void run_jcmd(const char *jcmd, pid_t pid, uid_t uid, gid_t gid, int out)
{
	char spid[16];

	snprintf(spid, sizeof(spid), "%d", pid);
	dup2(out, 1);
	dup2(out, 2);
	/* None of the tracer's descriptors (BPF maps, its output) for a
	 * program that runs as the JVM's user. */
	closefrom(3);
	if (setgroups(0, NULL) || setgid(gid) || setuid(uid))
		_exit(126);
	/* No hsperfdata file of jcmd's own in the JVM's /tmp. */
	execlp(jcmd, "jcmd", "-J-XX:-UsePerfData", spid, "Compiler.perfmap", (char *)NULL);
	_exit(127);
}

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

/* jcmd's output (its last line says why it failed) until it closes it or
 * JCMD_TIMEOUT_MS pass (then it is killed); its exit status, or -1
 * (killed, timed out). */
static int wait_jcmd(pid_t child, int fd, char *outbuf, size_t len)
{
	long long deadline = now_ms() + JCMD_TIMEOUT_MS;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t used = 0;
	int status;
	bool late = false;

	outbuf[0] = 0;
	for (;;) {
		long long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0) {
			late = true;
			break;
		}
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		n = read(fd, outbuf + used, len - 1 - used);
		if (n <= 0)
			break;
		used += n;
		outbuf[used] = 0;
		if (used == len - 1)
			used = 0; /* keep the end: the reason is last */
	}
	if (late)
		kill(child, SIGKILL);
	if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Why jcmd failed: its exception's line ("...AttachNotSupportedException:
 * The VM does not support the attach mechanism"), else its last line. */
static const char *jcmd_reason(char *s)
{
	char *end = s + strlen(s), *start, *ex = strstr(s, "Exception: ");

	if (ex) {
		start = ex;
		while (start > s && start[-1] != '\n')
			start--;
		start[strcspn(start, "\n")] = 0;
		return start;
	}
	while (end > s && (end[-1] == '\n' || end[-1] == ' '))
		*--end = 0;
	start = strrchr(s, '\n');
	return start ? start + 1 : s;
}

int jvm__dump_perfmap(struct jvm *j, char *why, size_t whylen)
{
	char out[1024], *jcmd;
	int pipefd[2], rc;
	uid_t uid;
	gid_t gid;
	pid_t child;

	if (proc_ids(j->pid, &uid, &gid)) {
		snprintf(why, whylen, "its user is unknown (the process is gone?)");
		return -1;
	}
	if (pipe2(pipefd, O_CLOEXEC)) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		return -1;
	}
	jcmd = jcmd_path(j, uid);
	child = fork();
	if (child == 0)
		run_jcmd(jcmd, j->pid, uid, gid, pipefd[1]);
	close(pipefd[1]);
	rc = child < 0 ? -1 : wait_jcmd(child, pipefd[0], out, sizeof(out));
	close(pipefd[0]);
	if (rc == 0 && !strstr(out, "Command executed successfully") && strstr(out, "Exception"))
		rc = 1;
	if (rc == 127)
		snprintf(why, whylen, "%s not found: install the JDK (jcmd)", jcmd);
	else if (rc == 126)
		snprintf(why, whylen, "cannot switch to uid %u to attach as the JVM's user", (unsigned)uid);
	else if (rc)
		snprintf(why, whylen, "%s failed: %s", jcmd, child < 0 ? strerror(errno) : rc < 0 ?
			 "killed or timed out" : jcmd_reason(out));
	free(jcmd);
	return rc ? -1 : 0;
}

void jvm__free(struct jvm *j)
{
	if (!j)
		return;
	free(j->home);
	free(j->version);
	free(j);
}

/* "RET a.b.C.m(ARGS)": a return type, a space, a dotted name, "(". */
bool jvm_method_name(const char *sym)
{
	const char *sp = sym ? strchr(sym, ' ') : NULL;
	const char *paren = sp ? strchr(sp, '(') : NULL;

	if (!sp || !paren || sp == sym)
		return false;
	for (const char *p = sp + 1; p < paren; p++)
		if (*p == ' ')
			return false;
	return memchr(sp + 1, '.', paren - sp - 1) != NULL;
}

bool jvm_jdk_method(const char *sym)
{
	static const char *const pkgs[] = { "java.", "javax.", "jdk.", "sun.", "com.sun.", NULL };
	const char *cls;

	if (!jvm_method_name(sym))
		return false;
	cls = strchr(sym, ' ') + 1;
	for (int i = 0; pkgs[i]; i++)
		if (!strncmp(cls, pkgs[i], strlen(pkgs[i])))
			return true;
	return false;
}
