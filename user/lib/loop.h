/* The run loop every tracer shares: poll a ring buffer, call a report
 * callback every interval, stop on SIGINT/SIGTERM, at the end of
 * --duration, or when the watched process exits. */
#ifndef MEMSCOPE_LOOP_H
#define MEMSCOPE_LOOP_H

#include <stdbool.h>
#include <sys/types.h>
#include <bpf/libbpf.h>

/* LOOP_OUTPUT_LOST: stdout's reader went away (see out_lost). */
enum loop_stop { LOOP_SIGNAL, LOOP_DURATION, LOOP_TARGET_EXIT, LOOP_ERROR, LOOP_CALLBACK,
		 LOOP_OUTPUT_LOST };

struct loop_opts {
	struct ring_buffer *rb;     /* may be NULL: map-aggregating tools */
	double interval_s;          /* 0: no periodic reports */
	double duration_s;          /* 0: run until stopped */
	pid_t watch_pid;            /* stop when it exits (0: none) */
	/* -c: stop when this cgroup directory is removed, saying so on stderr
	 * ("cgroup NAME was removed"); LOOP_TARGET_EXIT. NULL: none. */
	const char *watch_cgroup_dir, *watch_cgroup_name;
	int poll_ms;                /* ring buffer poll timeout; 0: 100 ms */
	/* Called each interval; non-zero return stops the loop. */
	int (*on_interval)(void *ctx);
	/* Called after every poll (cheap checks); non-zero stops the loop. */
	int (*on_poll)(void *ctx);
	void *ctx;
};

/* Installs SIGINT/SIGTERM handlers (a second signal exits at once). */
void loop_signals_install(void);
bool loop_interrupted(void);
enum loop_stop loop_run(const struct loop_opts *o);
const char *loop_stop_name(enum loop_stop s);

#endif
