// Unit tests of sockleak's fd table (sockleak_fdtab.c) over real BPF hash
// maps shaped as sockleak.bpf.c's, with no program attached: what the
// kernel side would have written is written here, and the table is
// checked against this process's own /proc/self/fd. Needs root (maps).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <dirent.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include "proc_net.h"
#include "procfs.h"
#include "sockleak_fdtab.h"

struct maps {
	struct fdtab_opts o;
	uint32_t exited[4];
	int nexited;
};

static int hash_map(size_t key, size_t val, uint32_t max)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_HASH, NULL, key, val, max, NULL);

	assert_true(fd >= 0);
	return fd;
}

static void note_exit(void *ctx, uint32_t tgid)
{
	struct maps *m = ctx;

	if (m->nexited < 4)
		m->exited[m->nexited++] = tgid;
}

static int setup(void **state)
{
	struct maps *m = calloc(1, sizeof(*m));

	if (!m)
		return -1;
	m->o = (struct fdtab_opts){
		.fds_map = hash_map(sizeof(struct fd_key), sizeof(struct fd_info), 1024),
		.procs_map = hash_map(sizeof(__u32), sizeof(struct proc_stats), 64),
		.at_exit_map = hash_map(sizeof(struct fd_key), sizeof(struct fd_exit), 64),
		.late_map = hash_map(sizeof(struct late_key), sizeof(struct late_close), 64),
		.short_cw_map = hash_map(sizeof(struct late_key), sizeof(struct late_close), 64),
		.on_exit = note_exit,
		.exit_ctx = m,
		.pid = getpid(),
		.older_than_s = 3600,
	};
	m->o.exit_ctx = m;
	*state = m;
	return 0;
}

static int teardown(void **state)
{
	struct maps *m = *state;

	close(m->o.fds_map);
	close(m->o.procs_map);
	close(m->o.at_exit_map);
	close(m->o.late_map);
	close(m->o.short_cw_map);
	free(m);
	return 0;
}

/* Sockets this process has open, as /proc says (the oracle). */
static uint64_t own_sockets(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	uint64_t n = 0;
	struct stat st;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && atoi(de->d_name) != dirfd(d) &&
		    !fstat(atoi(de->d_name), &st) && S_ISSOCK(st.st_mode))
			n++;
	closedir(d);
	return n;
}

static struct fd_info entry_of(int map, uint32_t tgid, int fd, bool *found)
{
	struct fd_key k = { tgid, (uint32_t)fd };
	struct fd_info v = {};

	*found = !bpf_map_lookup_elem(map, &k, &v);
	return v;
}

static void test_baseline_is_the_sockets_in_proc(void **state)
{
	struct maps *m = *state;
	int sp[2], tcp = socket(AF_INET, SOCK_STREAM, 0), pfd[2];
	struct stat st;
	struct fdtab *t;
	struct sl_proc *p;
	bool found;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	assert_int_equal(pipe(pfd), 0);
	t = fdtab__new(&m->o);
	assert_int_equal(fdtab__baseline(t), 0);
	p = fdtab__proc(t, getpid());
	assert_non_null(p);
	assert_int_equal(p->baseline, own_sockets());
	assert_int_equal(p->alive_start, p->baseline);
	/* Seeded for the kernel with its inode; the pipe is not a socket. */
	struct fd_info v = entry_of(m->o.fds_map, getpid(), tcp, &found);
	assert_true(found);
	assert_int_equal(fstat(tcp, &st), 0);
	assert_int_equal(v.ino, st.st_ino);
	assert_int_equal(v.how, HOW_BASELINE);
	assert_int_equal(v.kind, FDK_SOCKET);
	entry_of(m->o.fds_map, getpid(), pfd[0], &found);
	assert_false(found);
	assert_int_equal(fdtab__refresh(t), 0);
	p = fdtab__proc(t, getpid());
	assert_int_equal(p->alive, own_sockets());
	assert_int_equal(p->gone + p->found + p->pre_closed, 0);
	fdtab__free(t);
	close(sp[0]), close(sp[1]), close(tcp), close(pfd[0]), close(pfd[1]);
}

/* Closes and opens the kernel never saw (a path not hooked) are found
 * in /proc, counted as such, and never shown as leaks. */
static void test_unseen_closes_and_opens_are_reconciled(void **state)
{
	struct maps *m = *state;
	int a = socket(AF_INET, SOCK_STREAM, 0), b = socket(AF_INET, SOCK_DGRAM, 0), c;
	struct fdtab *t = fdtab__new(&m->o);
	struct sl_proc *p;
	uint64_t start;
	bool found;

	assert_int_equal(fdtab__baseline(t), 0);
	start = fdtab__proc(t, getpid())->baseline;
	close(a);                                  /* a baseline socket goes */
	c = socket(AF_INET6, SOCK_STREAM, 0);      /* takes a's number, another inode */
	assert_int_equal(c, a);
	/* What the kernel side writes for a socket it saw made (b's fd, with a
	 * creation time), and for one at a number this process does not hold. */
	struct fd_key kb = { (uint32_t)getpid(), (uint32_t)b }, kx = { (uint32_t)getpid(), 900 };
	struct fd_info vb = entry_of(m->o.fds_map, getpid(), b, &found), vx = { .ts_ns = mono_ns() - 1,
		.stack_id = -1, .kind = FDK_SOCKET, .how = HOW_CREATE, .ino = 12345 };
	assert_true(found);
	vb.ts_ns = mono_ns() - 1;
	vb.how = HOW_CREATE;
	assert_int_equal(bpf_map_update_elem(m->o.fds_map, &kb, &vb, BPF_EXIST), 0);
	assert_int_equal(bpf_map_update_elem(m->o.fds_map, &kx, &vx, BPF_NOEXIST), 0);
	assert_int_equal(fdtab__refresh(t), 0);
	p = fdtab__proc(t, getpid());
	assert_int_equal(p->pre_closed, 1);        /* a */
	assert_int_equal(p->found, 1);             /* c, at a's number */
	assert_int_equal(p->gone, 1);              /* fd 900 */
	assert_int_equal(t->reconciled, 3);
	assert_int_equal(p->alive, start);         /* b kept, a replaced by c */
	assert_int_equal(p->alive, own_sockets());
	entry_of(m->o.fds_map, getpid(), 900, &found);
	assert_false(found);
	struct fd_info vc = entry_of(m->o.fds_map, getpid(), c, &found);
	assert_true(found);
	assert_int_equal(vc.how, HOW_FOUND);
	fdtab__free(t);
	close(b), close(c);
}

/* A pid that existed and is gone now. */
static uint32_t dead_pid(void)
{
	pid_t pid = fork();

	if (!pid)
		_exit(0);
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	return (uint32_t)pid;
}

static void put_entry(int map, uint32_t tgid, uint32_t fd, uint64_t ts)
{
	struct fd_key k = { tgid, fd };
	struct fd_info v = { .ts_ns = ts, .stack_id = -1, .kind = FDK_SOCKET, .how = HOW_CREATE,
			     .ino = 1000 + fd };

	assert_int_equal(bpf_map_update_elem(map, &k, &v, BPF_NOEXIST), 0);
}

/* An exit the kernel saw: what the process held is retired from the map,
 * counted as closed by the exit, and the CLOSE_WAIT socket kept as
 * evidence (the young one is not); its procs entry goes with it. */
static void test_exit_keeps_close_wait_evidence(void **state)
{
	struct maps *m = *state;
	uint32_t pid = dead_pid();
	uint64_t now = mono_ns();
	struct proc_stats ps = { .exit_ns = now, .net = 2, .net_peak = 3 };
	struct fd_key k5 = { pid, 5 };
	struct fd_exit x5 = { .state = TCP_ST_CLOSE_WAIT, .family = AF_INET, .proto = 6 };
	struct fdtab *t;
	struct sl_proc *p;
	bool found;

	m->o.pid = 0;   /* every process: the dead one is ours to follow */
	t = fdtab__new(&m->o);
	ps.created[FDK_SOCKET] = 3;
	ps.closed[FDK_SOCKET] = 1;
	assert_int_equal(bpf_map_update_elem(m->o.procs_map, &pid, &ps, BPF_NOEXIST), 0);
	put_entry(m->o.fds_map, pid, 5, now - 10);
	put_entry(m->o.fds_map, pid, 6, now - 5);
	assert_int_equal(bpf_map_update_elem(m->o.at_exit_map, &k5, &x5, BPF_NOEXIST), 0);
	assert_int_equal(fdtab__refresh(t), 0);
	p = fdtab__proc(t, pid);
	assert_non_null(p);
	assert_true(p->exited);
	assert_int_equal(p->held_at_exit, 2);
	assert_int_equal(p->cw_at_exit, 1);
	assert_int_equal(p->closed_exit, 2);
	assert_int_equal(p->nheld, 1);
	assert_int_equal(p->held[0].e.k.fd, 5);
	assert_true(p->held[0].have_x);
	assert_int_equal(p->peak, 3);              /* the kernel's net peak */
	assert_int_equal(p->alive, 0);
	assert_int_equal(sl_created(t, p), 3);
	assert_int_equal(m->nexited, 1);
	assert_int_equal(m->exited[0], pid);
	entry_of(m->o.fds_map, pid, 5, &found);
	assert_false(found);
	assert_int_not_equal(bpf_map_lookup_elem(m->o.procs_map, &pid, &ps), 0);
	assert_int_not_equal(bpf_map_lookup_elem(m->o.at_exit_map, &k5, &x5), 0);
	fdtab__free(t);
}

/* An exit the kernel did not see (no exit time): /proc has no such
 * process, so it is retired all the same. */
static void test_vanished_process_is_retired(void **state)
{
	struct maps *m = *state;
	uint32_t pid = dead_pid();
	struct proc_stats ps = { .net = 1, .net_peak = 1 };
	struct fdtab *t;
	struct sl_proc *p;

	m->o.pid = 0;
	t = fdtab__new(&m->o);
	ps.created[FDK_SOCKET] = 1;
	assert_int_equal(bpf_map_update_elem(m->o.procs_map, &pid, &ps, BPF_NOEXIST), 0);
	put_entry(m->o.fds_map, pid, 3, mono_ns() - 1);
	assert_int_equal(fdtab__refresh(t), 0);
	p = fdtab__proc(t, pid);
	assert_non_null(p);
	assert_true(p->exited);
	assert_int_equal(p->held_at_exit, 1);
	assert_int_equal(p->closed_exit, 1);
	assert_int_equal(p->nheld, 0);             /* young, not in CLOSE_WAIT */
	assert_int_equal(m->nexited, 1);
	fdtab__free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_baseline_is_the_sockets_in_proc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unseen_closes_and_opens_are_reconciled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exit_keeps_close_wait_evidence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vanished_process_is_retired, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
