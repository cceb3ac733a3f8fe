// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "loop.h"
#include "output.h"
#include "procfs.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	/* The first signal asks for a clean stop and a final report; a second
	 * one means the user wants out now. */
	if (interrupted)
		_exit(1);
	interrupted = 1;
}

void loop_signals_install(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

bool loop_interrupted(void)
{
	return interrupted;
}

const char *loop_stop_name(enum loop_stop s)
{
	static const char *names[] = { "interrupted", "duration elapsed", "target exited", "error",
				       "stopped", "output closed" };

	return s <= LOOP_OUTPUT_LOST ? names[s] : "?";
}

static int wait_step(const struct loop_opts *o, int ms)
{
	int err;

	if (!o->rb) {
		usleep(ms * 1000);
		return 0;
	}
	err = ring_buffer__poll(o->rb, ms);
	return err == -EINTR ? 0 : err < 0 ? err : 0;
}

/* Every tool ends the same way when its -c cgroup goes: this line, then
 * its final report, then exit 0. */
static bool cgroup_removed(const struct loop_opts *o)
{
	char *e;

	if (access(o->watch_cgroup_dir, F_OK) == 0 || errno != ENOENT)
		return false;
	e = term_escape(o->watch_cgroup_name ? o->watch_cgroup_name : o->watch_cgroup_dir);
	fprintf(stderr, "%s: cgroup %s was removed: final report\n", out_tool_name(), e);
	free(e);
	return true;
}

static enum loop_stop run_until_stop(const struct loop_opts *o)
{
	uint64_t start = mono_ns(), next_report, now;
	uint64_t interval_ns = o->interval_s * 1e9, duration_ns = o->duration_s * 1e9;
	int poll_ms = o->poll_ms > 0 ? o->poll_ms : 100;
	uint64_t last_pid_check = start;

	next_report = interval_ns ? start + interval_ns : UINT64_MAX;
	while (!interrupted) {
		if (wait_step(o, poll_ms) < 0)
			return LOOP_ERROR;
		/* Nobody reads us any more: stop and detach rather than trace
		 * for nothing and hold the pipeline open. */
		if (out_lost())
			return LOOP_OUTPUT_LOST;
		if (o->on_poll && o->on_poll(o->ctx))
			return LOOP_CALLBACK;
		now = mono_ns();
		if (duration_ns && now - start >= duration_ns)
			return LOOP_DURATION;
		if (now >= next_report) {
			if (o->on_interval && o->on_interval(o->ctx))
				return LOOP_CALLBACK;
			next_report += interval_ns;
			if (next_report < now)
				next_report = now + interval_ns;
		}
		if ((o->watch_pid || o->watch_cgroup_dir) && now - last_pid_check >= 100000000ull) {
			last_pid_check = now;
			/* A zombie has exited: its parent may take its time to reap it. */
			if (o->watch_pid && !proc_alive(o->watch_pid))
				return LOOP_TARGET_EXIT;
			if (o->watch_cgroup_dir && cgroup_removed(o))
				return LOOP_TARGET_EXIT;
		}
	}
	return LOOP_SIGNAL;
}

/* What reached the ring buffer before the stop is the run's too: a process
 * that exited just before Ctrl-C (its exit record already written) must
 * not be missing from the final report. */
enum loop_stop loop_run(const struct loop_opts *o)
{
	enum loop_stop s = run_until_stop(o);

	if (o->rb && s != LOOP_ERROR && s != LOOP_OUTPUT_LOST)
		ring_buffer__consume(o->rb);
	return s;
}
