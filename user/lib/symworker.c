/* The symbolizer worker (symworker.h): the tracer's side, which starts it
 * and checks every answer, and the worker's side, which drops every
 * privilege before it parses anything.
 *
 * The worker is this very executable run again (/proc/self/exe, spawned
 * with posix_spawn, so the tracer's memory is neither copied nor shared):
 * a constructor sees MEMSCOPE_SYMWORKER_CHILD in its environment and
 * serves requests on fd 3 instead of running main. A fresh image holds
 * none of the tracer's secrets (BPF objects, TLS keys, the records). */
#define _GNU_SOURCE
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dwlookup.h"
#include "golines.h"
#include "output.h"
#include "symbolize.h"
#include "symworker.h"
#include "symworker_proto.h"

#define CHILD_ENV "MEMSCOPE_SYMWORKER_CHILD"
#define CHILD_FD 3
/* Test hook: the worker crashes (SIGSEGV) when it resolves an
 * address to this symbol, as a crafted binary could make libdw crash. */
#define CRASH_ENV "MEMSCOPE_TEST_SYMW_CRASH"
#define NOBODY 65534

struct symworker {
	pid_t pid;
	int sock;
	bool dead;
	uint64_t next_session;
	char *buf;              /* SYMW_MSG_MAX bytes: one message */
};

/* ---- both sides: one message, with at most one fd ---- */

static ssize_t send_msg(int sock, const void *buf, size_t len, int fd)
{
	union { char b[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } ctl = {};
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t r;

	if (fd >= 0) {
		struct cmsghdr *c;

		mh.msg_control = ctl.b;
		mh.msg_controllen = sizeof(ctl.b);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		r = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r;
}

/* One message into buf; *fd the descriptor it carried, or -1. */
static ssize_t recv_msg(int sock, void *buf, size_t cap, int *fd)
{
	union { char b[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } ctl;
	struct iovec iov = { buf, cap };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b,
			     .msg_controllen = sizeof(ctl.b) };
	struct cmsghdr *c;
	ssize_t r;

	*fd = -1;
	do
		r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return r;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	/* A cut message is a broken protocol, not a short one. */
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		errno = EMSGSIZE;
		return -1;
	}
	return r;
}

/* ==== the worker ==== */

struct wsession {
	uint64_t id;
	Dwfl *dwfl;
	struct golines *go;
	bool reporting;         /* between SYMW_BEGIN and SYMW_END */
};

static struct {
	struct wsession *v;
	size_t n, cap;
	int pending_fd;         /* the file find_elf hands libdwfl */
	const char *crash_on;
} W = { .pending_fd = -1 };

/* A module's separate debug file, held in its libdwfl userdata (fd + 1,
 * NULL: none) until libdwfl first wants its DWARF. */
static int debug_fd_of(void *userdata)
{
	return (int)(intptr_t)userdata - 1;
}

static void *debug_fd_data(int fd)
{
	return (void *)(intptr_t)(fd + 1);
}

/* libdwfl asks for a module's file: the one the tracer just sent. */
static int find_sent_elf(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base,
			 char **file_name, Elf **elfp)
{
	(void)mod, (void)userdata, (void)name, (void)base, (void)elfp;
	*file_name = NULL;
	return W.pending_fd >= 0 ? dup(W.pending_fd) : -1;
}

/* A separate debug file: only one the tracer sent for the module
 * (finding one means opening paths). */
static int find_sent_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
			       Dwarf_Addr base, const char *file_name, const char *debuglink_file,
			       GElf_Word debuglink_crc, char **debuginfo_file_name)
{
	int fd = debug_fd_of(*userdata);

	(void)mod, (void)modname, (void)base, (void)file_name;
	(void)debuglink_file, (void)debuglink_crc;
	*debuginfo_file_name = NULL;
	return fd >= 0 ? dup(fd) : -1;
}

/* dwfl_report_end's and the session's end: the debug file a module held. */
static int close_debug_fd(Dwfl_Module *mod, void *userdata, const char *name, Dwarf_Addr base,
			  void *arg)
{
	int fd = debug_fd_of(userdata);

	(void)mod, (void)name, (void)base, (void)arg;
	if (fd >= 0)
		close(fd);
	return DWARF_CB_OK;
}

static int close_module_debug_fd(Dwfl_Module *mod, void **userdata, const char *name,
				 Dwarf_Addr base, void *arg)
{
	return close_debug_fd(mod, *userdata, name, base, arg);
}

static const Dwfl_Callbacks worker_cbs = {
	.find_elf = find_sent_elf,
	.find_debuginfo = find_sent_debuginfo,
};

static struct wsession *wsession(uint64_t id, bool create)
{
	struct wsession *s;

	for (size_t i = 0; i < W.n; i++)
		if (W.v[i].id == id)
			return &W.v[i];
	if (!create)
		return NULL;
	if (W.n == W.cap) {
		size_t cap = W.cap ? W.cap * 2 : 16;
		struct wsession *v = realloc(W.v, cap * sizeof(*v));

		if (!v)
			return NULL;
		W.v = v;
		W.cap = cap;
	}
	s = &W.v[W.n];
	*s = (struct wsession){ .id = id, .dwfl = dwfl_begin(&worker_cbs) };
	if (!s->dwfl)
		return NULL;
	W.n++;
	return s;
}

static void wsession_close(uint64_t id)
{
	struct wsession *s = wsession(id, false);

	if (!s)
		return;
	dwfl_getmodules(s->dwfl, close_module_debug_fd, NULL, 0);
	dwfl_end(s->dwfl);
	golines__free(s->go);
	*s = W.v[--W.n];
}

static struct symw_ack w_module(struct wsession *s, const struct symw_module *m, int fd)
{
	struct symw_ack ack = {};
	char name[SYMW_NAME_MAX];
	Dwfl_Module *mod = NULL;
	Dwarf_Addr low = 0, high = 0, bias = 0;
	uint64_t b;

	memcpy(name, m->name, m->name_len);
	name[m->name_len] = 0;
	if (m->kind == SYMW_MOD_RANGE) {
		W.pending_fd = fd;
		mod = dwfl_report_module(s->dwfl, name, m->low, m->high);
		/* Open it now, while the fd is the pending one. */
		if (mod && !dwfl_module_getelf(mod, &bias))
			mod = NULL;
		W.pending_fd = -1;
	} else if (m->kind == SYMW_MOD_MAPPED && fd >= 0 &&
		   dwlookup_elf_bias(fd, m->low, m->pgoff, &b)) {
		mod = dwfl_report_elf(s->dwfl, name, name, fd, b, true);
		if (mod)
			fd = -1;        /* libdwfl's now */
	}
	if (fd >= 0)
		close(fd);
	if (mod) {
		const unsigned char *bits;
		GElf_Addr vaddr;
		int n = dwfl_module_build_id(mod, &bits, &vaddr);

		dwfl_module_info(mod, NULL, &low, &high, NULL, NULL, NULL, NULL);
		ack = (struct symw_ack){ .ok = 1, .low = low, .high = high };
		if (n > 0 && n <= SYMW_BUILD_ID_MAX) {
			ack.build_id_len = (__u32)n;
			memcpy(ack.build_id, bits, (size_t)n);
		}
	}
	return ack;
}

/* A module outside a report (SYMW_BEGIN..SYMW_END) joins the modules
 * the session holds, which stay. */
static struct symw_ack w_module_added(struct wsession *s, const struct symw_module *m, int fd)
{
	struct symw_ack ack;

	if (s->reporting)
		return w_module(s, m, fd);
	dwfl_report_begin_add(s->dwfl);
	ack = w_module(s, m, fd);
	dwfl_report_end(s->dwfl, close_debug_fd, NULL);
	return ack;
}

/* The module's debug file, kept (fd is taken) for when its DWARF is
 * first read: reading it now (decompressing its sections) would hold up
 * the tracer, which waits for the answer while it drains the records. */
static void w_debuginfo(struct wsession *s, const struct symw_module *m, int fd)
{
	Dwfl_Module *mod = dwfl_addrmodule(s->dwfl, m->low);
	void **userdata = NULL;

	if (mod)
		dwfl_module_info(mod, &userdata, NULL, NULL, NULL, NULL, NULL, NULL);
	if (!userdata || debug_fd_of(*userdata) >= 0) {
		close(fd);
		return;
	}
	*userdata = debug_fd_data(fd);
}

/* A string into the answer's string area; false if it does not fit. */
static bool put_str(char *strs, size_t cap, uint32_t *len, const char *s, __u32 *off, __u32 *n)
{
	size_t l = s ? strnlen(s, SYMW_STR_MAX - 1) : 0;

	*off = *len;
	*n = (__u32)l;
	if (*len + l > cap)
		return false;
	if (l)
		memcpy(strs + *len, s, l);
	*len += (uint32_t)l;
	return true;
}

/* The test hook: the fault a crafted binary could cause in libdw. */
static void crash_if_asked(const struct frame *fr, int n)
{
	for (int i = 0; W.crash_on && i < n; i++)
		if (fr[i].symbol && !strcmp(fr[i].symbol, W.crash_on))
			raise(SIGSEGV);
}

/* Append addr's frames to the answer; false (nothing appended) if they
 * do not fit. */
static bool w_append(struct symw_resolved *h, struct symw_frame *frames, char *strs, size_t scap,
		     size_t fcap, int idx, const struct frame *fr, int n)
{
	struct symw_resolved save = *h;

	if (h->nframes + (size_t)n > fcap)
		return false;
	for (int i = 0; i < n; i++) {
		struct symw_frame *f = &frames[h->nframes++];

		*f = (struct symw_frame){ .addr_index = (__u32)idx, .offset = fr[i].offset,
					  .line = fr[i].line,
					  .flags = fr[i].inlined ? SYMW_FRAME_INLINED : 0 };
		if (!put_str(strs, scap, &h->str_len, fr[i].symbol, &f->symbol_off, &f->symbol_len) ||
		    !put_str(strs, scap, &h->str_len, fr[i].file, &f->file_off, &f->file_len)) {
			*h = save;
			return false;
		}
	}
	return true;
}

/* The answer is packed in place: frames are counted first, strings kept
 * aside and moved behind the frames at the end. */
static size_t w_resolve(struct wsession *s, const uint64_t *addrs, uint32_t count, char *out)
{
	static char strs[SYMW_MSG_MAX];
	struct symw_resolved *h = (struct symw_resolved *)out;
	struct symw_frame *frames = (struct symw_frame *)(h + 1);
	size_t room = SYMW_MSG_MAX - sizeof(*h);
	struct frame fr[SYMW_MAX_FRAMES];

	*h = (struct symw_resolved){};
	for (uint32_t i = 0; i < count; i++) {
		int n = dwlookup_addr(s->dwfl, &s->go, addrs[i], fr, SYMW_MAX_FRAMES);
		size_t fcap = (room - h->str_len) / sizeof(*frames);
		bool fits;

		crash_if_asked(fr, n);
		fits = w_append(h, frames, strs, room - (size_t)(h->nframes + n) * sizeof(*frames),
				fcap, (int)i, fr, n);
		for (int j = 0; j < n; j++)
			frame_clear(&fr[j]);
		if (!fits)
			break;
		h->addrs = i + 1;
	}
	memcpy((char *)frames + h->nframes * sizeof(*frames), strs, h->str_len);
	return sizeof(*h) + h->nframes * sizeof(*frames) + h->str_len;
}

static bool w_module_valid(const struct symw_module *m, size_t len)
{
	return len == sizeof(*m) && m->name_len < SYMW_NAME_MAX &&
	       (m->kind == SYMW_MOD_RANGE || m->kind == SYMW_MOD_MAPPED);
}

/* One request, one answer. False when the request is malformed: the
 * worker then exits, and the tracer sees it gone. */
static bool w_serve_one(char *in, size_t len, int fd, char *out)
{
	const struct symw_req *r = (const struct symw_req *)in;
	struct symw_ack ack = { .ok = 1 };
	struct wsession *s;
	size_t olen = 0;        /* of an answer other than an ack */

	if (len < sizeof(*r))
		return false;
	if (r->type == SYMW_CLOSE) {
		wsession_close(r->session);
		return send_msg(CHILD_FD, &ack, sizeof(ack), -1) == sizeof(ack);
	}
	/* A session begins with its first request: a module added alone, or
	 * a resolve before any module was sent. */
	if (!(s = wsession(r->session, true)))
		return false;
	switch (r->type) {
	case SYMW_BEGIN:
		dwfl_report_begin(s->dwfl);
		s->reporting = true;
		break;
	case SYMW_MODULE:
		if (!w_module_valid((const struct symw_module *)in, len))
			return false;
		ack = w_module_added(s, (const struct symw_module *)in, fd);
		fd = -1;
		break;
	case SYMW_DEBUGINFO:
		if (len != sizeof(struct symw_module))
			return false;
		w_debuginfo(s, (const struct symw_module *)in, fd);
		fd = -1;
		break;
	case SYMW_END:
		dwfl_report_end(s->dwfl, close_debug_fd, NULL);
		s->reporting = false;
		break;
	case SYMW_RESOLVE:
		if (r->count < 1 || r->count > SYMW_MAX_ADDRS ||
		    len != sizeof(*r) + r->count * sizeof(uint64_t))
			return false;
		olen = w_resolve(s, (const uint64_t *)(r + 1), r->count, out);
		break;
	default:
		return false;
	}
	if (fd >= 0)
		close(fd);
	if (!olen) {
		memcpy(out, &ack, sizeof(ack));
		olen = sizeof(ack);
	}
	return send_msg(CHILD_FD, out, olen, -1) == (ssize_t)olen;
}

/* Nobody, no capabilities, no way to gain any, and only the system calls
 * parsing needs: no open (EACCES), no socket, no exec (EPERM). */
static int w_sandbox(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct caps[2] = {};
	static const int allowed[] = {
		SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(recvmsg), SCMP_SYS(sendmsg),
		SCMP_SYS(close), SCMP_SYS(dup), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
		SCMP_SYS(lseek), SCMP_SYS(pread64), SCMP_SYS(mmap), SCMP_SYS(munmap),
		SCMP_SYS(mremap), SCMP_SYS(mprotect), SCMP_SYS(brk), SCMP_SYS(madvise),
		SCMP_SYS(futex), SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getrandom),
		SCMP_SYS(clock_gettime), SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigprocmask),
		SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(fcntl), SCMP_SYS(writev),
		SCMP_SYS(rt_sigaction),
		/* AddressSanitizer asks for the alternate signal stack when a
		 * thread unwinds (a sanitized build's worker aborted without). */
		SCMP_SYS(sigaltstack),
	};
	scmp_filter_ctx ctx;
	int err;

	/* Fails without CAP_SETUID (file capabilities): then root's uid
	 * with no capabilities. */
	if (setgroups(0, NULL) == 0 && setresgid(NOBODY, NOBODY, NOBODY) == 0)
		(void)!setresuid(NOBODY, NOBODY, NOBODY);
	if (syscall(SYS_capset, &hdr, caps) || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0))
		return -errno;
	ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (!ctx)
		return -ENOMEM;
	err = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 0);
	err = err ?: seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open), 0);
	for (size_t i = 0; !err && i < sizeof(allowed) / sizeof(allowed[0]); i++)
		err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	/* abort() on a corrupted heap: a signal to itself only. */
	err = err ?: seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
				      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	err = err ?: seccomp_load(ctx);
	seccomp_release(ctx);
	return err;
}

static void w_main(void)
{
	static char in[SYMW_MSG_MAX], out[SYMW_MSG_MAX];
	struct symw_ack ready = { .ok = 1 };
	ssize_t len;
	int fd, err;

	/* Gone with the tracer, whatever killed it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	prctl(PR_SET_NAME, "memscope-symw", 0, 0, 0);
	W.crash_on = getenv(CRASH_ENV);
	elf_version(EV_CURRENT);
	dwlookup_prepare();
	err = w_sandbox();
	if (err) {
		ready = (struct symw_ack){ .ok = 0, .pad = (__u32)-err };
		send_msg(CHILD_FD, &ready, sizeof(ready), -1);
		_exit(1);
	}
	send_msg(CHILD_FD, &ready, sizeof(ready), -1);
	while ((len = recv_msg(CHILD_FD, in, sizeof(in), &fd)) > 0)
		if (!w_serve_one(in, (size_t)len, fd, out))
			_exit(2);
	_exit(0);
}

__attribute__((constructor)) static void symworker_child_entry(void)
{
	if (getenv(CHILD_ENV))
		w_main();
}

/* ==== the tracer's side ==== */

/* The worker is gone: say how, once, and carry on without it. */
static void worker_lost(struct symworker *w, const char *why)
{
	int st = 0;

	if (w->dead)
		return;
	w->dead = true;
	close(w->sock);
	w->sock = -1;
	if (why) {
		kill(w->pid, SIGKILL);
		waitpid(w->pid, &st, 0);
		warn_msg("symbolizer worker sent %s (killed); frames from here on are unsymbolized "
			 "(module+offset)", why);
		return;
	}
	if (waitpid(w->pid, &st, 0) == w->pid && WIFSIGNALED(st))
		warn_msg("symbolizer worker crashed (signal %d); frames from here on are unsymbolized "
			 "(module+offset)", WTERMSIG(st));
	else
		warn_msg("symbolizer worker exited (status %d); frames from here on are unsymbolized "
			 "(module+offset)", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* Send a request, wait for its answer (into w->buf); its length, or
 * -EPIPE when the worker is gone. */
static ssize_t call(struct symworker *w, const void *req, size_t len, int fd)
{
	ssize_t r;
	int got_fd;

	if (w->dead)
		return -EPIPE;
	if (send_msg(w->sock, req, len, fd) != (ssize_t)len) {
		worker_lost(w, NULL);
		return -EPIPE;
	}
	r = recv_msg(w->sock, w->buf, SYMW_MSG_MAX, &got_fd);
	if (got_fd >= 0)
		close(got_fd);
	if (r <= 0) {
		worker_lost(w, r < 0 && errno == EMSGSIZE ? "an oversized answer" : NULL);
		return -EPIPE;
	}
	return r;
}

static int simple(struct symworker *w, uint32_t type, uint64_t session)
{
	struct symw_req req = { .type = type, .session = session };
	ssize_t r = call(w, &req, sizeof(req), -1);

	if (r < 0)
		return (int)r;
	if (r != sizeof(struct symw_ack)) {
		worker_lost(w, "a malformed answer");
		return -EPIPE;
	}
	return 0;
}

/* The worker's environment: what makes it one, and the test hook. */
static char **worker_env(void)
{
	static char child[] = CHILD_ENV "=1";
	static char *env[3];
	const char *crash = getenv(CRASH_ENV);
	static char *crash_var;

	env[0] = child;
	if (crash && !crash_var && asprintf(&crash_var, "%s=%s", CRASH_ENV, crash) < 0)
		crash_var = NULL;
	env[1] = crash_var;
	return env;
}

static pid_t spawn_worker(int child_sock)
{
	static char *const argv[] = { "memscope-symw", NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	pid_t pid = -1;
	int err;

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	/* Nothing of the tracer's output: its stdin and stdout are /dev/null,
	 * stderr stays for a dying C library's last words. */
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, child_sock, CHILD_FD);
	posix_spawn_file_actions_addclosefrom_np(&fa, CHILD_FD + 1);
	/* Its own process group: a ^C to the tracer is not a crash of it. */
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
	err = posix_spawn(&pid, "/proc/self/exe", &fa, &attr, argv, worker_env());
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return err ? -1 : pid;
}

/* The worker's first message says whether its sandbox is in place. */
static int await_ready(struct symworker *w)
{
	struct symw_ack ready;
	ssize_t r;
	int fd, st;

	r = recv_msg(w->sock, &ready, sizeof(ready), &fd);
	if (fd >= 0)
		close(fd);
	if (r == sizeof(ready) && ready.ok)
		return 0;
	waitpid(w->pid, &st, 0);
	return r == sizeof(ready) ? -(int)ready.pad : -ECHILD;
}

static struct symworker *start(void)
{
	struct symworker *w = calloc(1, sizeof(*w));
	int sv[2] = { -1, -1 }, err = -ENOMEM;

	if (!w || !(w->buf = malloc(SYMW_MSG_MAX)))
		goto fail;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		err = -errno;
		goto fail;
	}
	/* dup2 onto fd 3 must not be a no-op that keeps close-on-exec. */
	if (sv[1] == CHILD_FD) {
		int moved = fcntl(sv[1], F_DUPFD_CLOEXEC, CHILD_FD + 1);

		close(sv[1]);
		sv[1] = moved;
	}
	w->sock = sv[0];
	w->pid = sv[1] >= 0 ? spawn_worker(sv[1]) : -1;
	close(sv[1]);
	if (w->pid < 0) {
		err = -errno;
		goto fail;
	}
	err = await_ready(w);
	if (err)
		goto fail;
	w->next_session = 1;
	return w;
fail:
	warn_msg("symbolizer worker unavailable (%s): binaries of traced processes are "
		 "parsed in the tracer itself", strerror(-err));
	if (w && w->sock >= 0)
		close(w->sock);
	if (w)
		free(w->buf);
	free(w);
	return NULL;
}

struct symworker *symworker__get(void)
{
	static struct symworker *w;
	static bool tried;
	const char *env = getenv("MEMSCOPE_SYMWORKER");

	if (!tried) {
		tried = true;
		if (!env || strcmp(env, "0"))
			w = start();
	}
	return w;
}

bool symworker__alive(const struct symworker *w)
{
	return w && !w->dead;
}

uint64_t symworker__session(struct symworker *w)
{
	return w->next_session++;
}

int symworker__begin(struct symworker *w, uint64_t session)
{
	return simple(w, SYMW_BEGIN, session);
}

int symworker__end(struct symworker *w, uint64_t session)
{
	return simple(w, SYMW_END, session);
}

void symworker__close(struct symworker *w, uint64_t session)
{
	if (w && !w->dead)
		simple(w, SYMW_CLOSE, session);
}

/* Debian's -dbgsym packages: /usr/lib/debug/.build-id/NN/NNNN....debug,
 * a directory of the host's that only root writes. The path is made
 * from the ID's bytes, hex, whatever the worker said. */
static void send_debuginfo(struct symworker *w, uint64_t session, const struct symw_ack *ack)
{
	struct symw_module m = { .hdr = { .type = SYMW_DEBUGINFO, .session = session },
				 .low = ack->low };
	char path[64 + 2 * SYMW_BUILD_ID_MAX];
	int n, fd;

	if (ack->build_id_len < 2 || ack->build_id_len > SYMW_BUILD_ID_MAX)
		return;
	n = snprintf(path, sizeof(path), "/usr/lib/debug/.build-id/%02x/", ack->build_id[0]);
	for (uint32_t i = 1; i < ack->build_id_len; i++)
		n += snprintf(path + n, sizeof(path) - (size_t)n, "%02x", ack->build_id[i]);
	snprintf(path + n, sizeof(path) - (size_t)n, ".debug");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	call(w, &m, sizeof(m), fd);
	close(fd);
}

bool symworker__module(struct symworker *w, uint64_t session, unsigned int kind, const char *name,
		       int fd, uint64_t low, uint64_t high, uint64_t pgoff, uint64_t *rlow,
		       uint64_t *rhigh)
{
	struct symw_module m = { .hdr = { .type = SYMW_MODULE, .session = session }, .kind = kind,
				 .low = low, .high = high, .pgoff = pgoff };
	const struct symw_ack *ack = (const struct symw_ack *)w->buf;
	ssize_t r;

	m.name_len = (__u32)strnlen(name, SYMW_NAME_MAX - 1);
	memcpy(m.name, name, m.name_len);
	r = call(w, &m, sizeof(m), fd);
	if (r < 0)
		return false;
	if (r != sizeof(*ack) || ack->low > ack->high) {
		worker_lost(w, "a malformed answer");
		return false;
	}
	*rlow = ack->low;
	*rhigh = ack->high;
	if (!ack->ok)
		return false;
	if (fd >= 0)
		send_debuginfo(w, session, ack);
	return true;
}

/* Every count, index, offset and length of an answer to count addresses
 * lies within it. */
static bool answer_valid(const char *buf, size_t len, uint32_t count)
{
	const struct symw_resolved *h = (const struct symw_resolved *)buf;
	const struct symw_frame *f = (const struct symw_frame *)(h + 1);
	uint32_t per = 0;

	if (len < sizeof(*h) || h->addrs < 1 || h->addrs > count ||
	    h->nframes > h->addrs * SYMW_MAX_FRAMES ||
	    len != sizeof(*h) + (size_t)h->nframes * sizeof(*f) + h->str_len)
		return false;
	for (uint32_t i = 0; i < h->nframes; i++) {
		if (f[i].addr_index >= h->addrs || (i && f[i].addr_index < f[i - 1].addr_index))
			return false;
		per = i && f[i].addr_index == f[i - 1].addr_index ? per + 1 : 1;
		if (per > SYMW_MAX_FRAMES || f[i].symbol_len >= SYMW_STR_MAX ||
		    f[i].file_len >= SYMW_STR_MAX ||
		    (uint64_t)f[i].symbol_off + f[i].symbol_len > h->str_len ||
		    (uint64_t)f[i].file_off + f[i].file_len > h->str_len)
			return false;
	}
	return true;
}

static char *str_of(const char *strs, uint32_t off, uint32_t len)
{
	char *s;

	if (!len)
		return NULL;
	if (!(s = strndup(strs + off, len)))
		abort();
	return s;
}

static void frame_from_wire(struct frame *fr, const struct symw_frame *f, const char *strs,
			    uint64_t addr)
{
	*fr = (struct frame){ .addr = addr, .offset = f->offset, .line = f->line,
			      .inlined = f->flags & SYMW_FRAME_INLINED,
			      .symbol = str_of(strs, f->symbol_off, f->symbol_len),
			      .file = str_of(strs, f->file_off, f->file_len) };
}

/* Hand each answered address's frames to fn, with its index in the
 * caller's array (base: the first one asked in this message). */
static void deliver(const char *buf, const uint64_t *addrs, int base, symworker_frames_fn fn,
		    void *ctx)
{
	const struct symw_resolved *h = (const struct symw_resolved *)buf;
	const struct symw_frame *f = (const struct symw_frame *)(h + 1);
	const char *strs = (const char *)(f + h->nframes);
	struct frame fr[SYMW_MAX_FRAMES];
	uint32_t k = 0;

	for (uint32_t i = 0; i < h->addrs; i++) {
		int n = 0;

		for (; k < h->nframes && f[k].addr_index == i; k++)
			frame_from_wire(&fr[n++], &f[k], strs, addrs[base + (int)i]);
		fn(ctx, base + (int)i, fr, n);
	}
}

int symworker__resolve(struct symworker *w, uint64_t session, const uint64_t *addrs, int n,
		       symworker_frames_fn fn, void *ctx)
{
	struct {
		struct symw_req hdr;
		uint64_t addrs[SYMW_MAX_ADDRS];
	} req = { .hdr = { .type = SYMW_RESOLVE, .session = session } };
	int done = 0;

	while (done < n) {
		uint32_t count = n - done < SYMW_MAX_ADDRS ? (uint32_t)(n - done) : SYMW_MAX_ADDRS;
		ssize_t r;

		req.hdr.count = count;
		memcpy(req.addrs, addrs + done, count * sizeof(uint64_t));
		r = call(w, &req, sizeof(req.hdr) + count * sizeof(uint64_t), -1);
		if (r < 0)
			return (int)r;
		if (!answer_valid(w->buf, (size_t)r, count)) {
			worker_lost(w, "a malformed answer");
			return -EPIPE;
		}
		deliver(w->buf, addrs, done, fn, ctx);
		done += (int)((const struct symw_resolved *)w->buf)->addrs;
	}
	return 0;
}
