/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bench-wl: the benchmark workloads, one binary with one mode per loop.
 *
 * Protocol shared by the timed loops (mmap, malloc, socket, accept-client):
 *   1. print "ready PID" on stdout and block reading stdin, so the harness
 *      can attach a tracer to this pid and wait until it is live;
 *   2. on a line from stdin, run the loop for -t seconds on -w threads
 *      (optionally paced to -r calls/s in total);
 *   3. print "result ops=N calls=N secs=S" and block until stdin closes,
 *      so the tracer still sees a live target while the harness samples
 *      its CPU time and peak RSS.
 * EOF on stdin at any point ends the process.
 *
 * Other modes: accept-server (the traced side of the accept benchmark),
 * hold N (N outstanding mallocs for the report-time benchmark), hog (grow
 * until the OOM killer ends it), idle (a pid to trace that does nothing).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Mappings (or blocks) one in ten iterations keeps, per process: bounded
 * so that the loop's memory and VMA count stay flat however long it runs
 * (vm.max_map_count is 65530); the oldest kept one is released first. */
#define KEEP_MAX   16384
#define KEEP_EVERY 10
#define PAGE       4096
/* How often a paced loop checks the clock (iterations). */
#define PACE_BATCH 64

struct opts {
	const char *mode;
	double secs;
	int threads;
	double rate;       /* calls/s over all threads; 0: as fast as possible */
	int port;
	long count;
};

struct worker {
	pthread_t tid;
	int idx;
	uint64_t ops, calls;
	void **keep;       /* ring of kept mappings/blocks */
	size_t keep_len, keep_pos;
};

static struct opts o = { .secs = 2, .threads = 1 };
static atomic_int stop;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU seconds (user + system) this process has used: on a busy machine
 * ops per CPU second shows the tracing cost without the time other
 * processes take. */
static double cpu_time(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static void die(const char *what)
{
	fprintf(stderr, "bench-wl: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Block until a line (returns 1) or EOF (returns 0) on stdin. */
static int wait_line(void)
{
	char c;
	ssize_t n;

	for (;;) {
		n = read(0, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		if (c == '\n')
			return 1;
	}
}

static void wait_eof(void)
{
	while (wait_line())
		;
}

/* Keep p in the ring; returns the evicted entry (NULL while filling). */
static void *keep_push(struct worker *w, void *p)
{
	void *old = w->keep[w->keep_pos];

	w->keep[w->keep_pos] = p;
	w->keep_pos = (w->keep_pos + 1) % w->keep_len;
	return old;
}

static void op_mmap(struct worker *w)
{
	void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	w->calls++;
	if (w->ops % KEEP_EVERY == 0)
		p = keep_push(w, p);
	if (p) {
		munmap(p, PAGE);
		w->calls++;
	}
}

static void op_malloc(struct worker *w)
{
	/* A few size classes, as a real program has. */
	char *p = malloc(32 + (w->ops % 8) * 16);

	if (!p)
		die("malloc");
	*(volatile char *)p = 1; /* keeps the compiler from pairing malloc/free away */
	w->calls++;
	if (w->ops % KEEP_EVERY == 0)
		p = keep_push(w, p);
	if (p) {
		free(p);
		w->calls++;
	}
}

static void op_socket(struct worker *w)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket");
	close(fd);
	w->calls += 2;
}

/* A short-lived child that opens a socket and exits holding it (the exit
 * releases it): the process churn of shell scripts, CGI and cron, where a
 * tracer pays at every fork and exit. */
static void op_spawn(struct worker *w)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		socket(AF_INET, SOCK_STREAM, 0);
		_exit(0);
	}
	if (waitpid(pid, NULL, 0) < 0)
		die("waitpid");
	w->calls += 3; /* fork, socket, exit */
}

/* One short connection: connect, wait for the server to accept and close
 * (EOF), close. Waiting keeps the client from outrunning the accept queue. */
static void op_connect(struct worker *w)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(o.port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char buf[16];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket");
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("connect");
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	w->calls += 3; /* this side's socket, connect, close */
}

static void (*loop_op)(struct worker *);

/* Sleep until this worker is back on its share of the rate. */
static void pace(struct worker *w, double t0, double rate)
{
	double due = t0 + w->calls / rate, t = now();

	if (due > t) {
		struct timespec ts = { (time_t)(due - t), (long)((due - t - (time_t)(due - t)) * 1e9) };
		nanosleep(&ts, NULL);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	double rate = o.rate > 0 ? o.rate / o.threads : 0, t0 = now();

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		loop_op(w);
		w->ops++;
		if (rate > 0 && w->ops % PACE_BATCH == 0)
			pace(w, t0, rate);
	}
	return NULL;
}

static int run_loop(void)
{
	struct worker *ws = calloc(o.threads, sizeof(*ws));
	uint64_t ops = 0, calls = 0;
	struct timespec ts;
	double t0, t1, c0;
	int i;

	if (!ws)
		die("calloc");
	for (i = 0; i < o.threads; i++) {
		ws[i].idx = i;
		ws[i].keep_len = KEEP_MAX / o.threads;
		ws[i].keep = calloc(ws[i].keep_len, sizeof(void *));
		if (!ws[i].keep)
			die("calloc");
	}
	printf("ready %d\n", getpid());
	fflush(stdout);
	if (!wait_line())
		return 0;
	t0 = now();
	c0 = cpu_time();
	for (i = 0; i < o.threads; i++)
		if (pthread_create(&ws[i].tid, NULL, worker_main, &ws[i]))
			die("pthread_create");
	ts.tv_sec = (time_t)o.secs;
	ts.tv_nsec = (long)((o.secs - ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	atomic_store(&stop, 1);
	for (i = 0; i < o.threads; i++) {
		pthread_join(ws[i].tid, NULL);
		ops += ws[i].ops;
		calls += ws[i].calls;
	}
	t1 = now();
	printf("result ops=%llu calls=%llu secs=%.6f cpu=%.6f\n", (unsigned long long)ops,
	       (unsigned long long)calls, t1 - t0, cpu_time() - c0);
	fflush(stdout);
	wait_eof();
	return 0;
}

static void *exit_on_eof(void *arg)
{
	(void)arg;
	wait_eof();
	exit(0);
}

/* Accepts and closes at once, forever; stdin EOF ends it. */
static __attribute__((noreturn)) int run_server(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	pthread_t t;
	int one = 1, fd, c;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 4096) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		die("listen");
	if (pthread_create(&t, NULL, exit_on_eof, NULL))
		die("pthread_create");
	printf("ready %d port=%d\n", getpid(), ntohs(a.sin_port));
	fflush(stdout);
	for (;;) {
		c = accept(fd, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE)
				continue;
			die("accept");
		}
		close(c);
	}
}

/* The report-time benchmark: N outstanding blocks from four call sites. */
static __attribute__((noinline)) void *hold_a(size_t n) { return malloc(n); }
static __attribute__((noinline)) void *hold_b(size_t n) { return malloc(n); }
static __attribute__((noinline)) void *hold_c(size_t n) { return calloc(1, n); }
static __attribute__((noinline)) void *hold_d(size_t n) { return malloc(n); }

static int run_hold(void)
{
	void *(*site[4])(size_t) = { hold_a, hold_b, hold_c, hold_d };
	double t0;
	long i;

	printf("ready %d\n", getpid());
	fflush(stdout);
	if (!wait_line())
		return 0;
	t0 = now();
	for (i = 0; i < o.count; i++) {
		char *p = site[i % 4](32);

		if (!p)
			die("malloc");
		*(volatile char *)p = 1; /* never freed: that is the point */
	}
	printf("held %ld secs=%.6f\n", o.count, now() - t0);
	fflush(stdout);
	wait_eof();
	return 0;
}

/* Touch memory 1 MiB at a time until the OOM killer stops us. */
static __attribute__((noreturn)) int run_hog(void)
{
	for (;;) {
		char *p = malloc(1 << 20);

		if (!p)
			die("malloc");
		memset(p, 0x5a, 1 << 20);
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench-wl MODE [-t SECONDS] [-w THREADS] [-r CALLS_PER_S] [-p PORT] [-n COUNT]\n"
		"modes: mmap malloc socket spawn accept-client accept-server hold hog idle\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int c;

	if (argc < 2)
		usage();
	o.mode = argv[1];
	optind = 2;
	while ((c = getopt(argc, argv, "t:w:r:p:n:")) != -1) {
		switch (c) {
		case 't': o.secs = atof(optarg); break;
		case 'w': o.threads = atoi(optarg); break;
		case 'r': o.rate = atof(optarg); break;
		case 'p': o.port = atoi(optarg); break;
		case 'n': o.count = atol(optarg); break;
		default: usage();
		}
	}
	if (o.secs <= 0 || o.threads < 1 || o.threads > 64 || o.rate < 0)
		usage();
	if (!strcmp(o.mode, "mmap"))
		loop_op = op_mmap;
	else if (!strcmp(o.mode, "malloc"))
		loop_op = op_malloc;
	else if (!strcmp(o.mode, "socket"))
		loop_op = op_socket;
	else if (!strcmp(o.mode, "spawn"))
		loop_op = op_spawn;
	else if (!strcmp(o.mode, "accept-client"))
		loop_op = op_connect;
	else if (!strcmp(o.mode, "accept-server"))
		return run_server();
	else if (!strcmp(o.mode, "hold"))
		return run_hold();
	else if (!strcmp(o.mode, "hog"))
		return run_hog();
	else if (!strcmp(o.mode, "idle")) {
		printf("ready %d\n", getpid());
		fflush(stdout);
		wait_eof();
		return 0;
	} else
		usage();
	if (loop_op == op_connect && o.port <= 0)
		usage();
	return run_loop();
}
