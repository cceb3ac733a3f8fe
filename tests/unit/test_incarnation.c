/* Growth per incarnation: restarts found from the oom_kill counter and
 * from replaced processes after a sharp drop, growth only from the
 * samples since, and nothing said before the minimum span. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "cgroup.h"
#include "incarnation.h"
#include "procfs.h"

#define MiB (1024.0 * 1024.0)

static bool push(struct incarn *in, double t, double ws, uint64_t oom, bool replaced)
{
	struct incarn_sample s = { .t = t, .ws = ws, .have_oom = true, .oom_kill = oom, .procs_replaced = replaced };
	return incarn_push(in, &s);
}

/* The held-out crash loop: 4 MiB/s under 96 MiB, killed at the limit and
 * restarted at 8 MiB; samples every 5 s over a 300 s window. */
static void test_oom_kill_starts_a_new_incarnation(void **st)
{
	(void)st;
	struct incarn in;
	double t = 0, ws = 8 * MiB;
	uint64_t kills = 0;

	incarn_init(&in, 300);
	for (; ws < 96 * MiB; t += 5, ws += 20 * MiB)
		assert_false(push(&in, t, ws, kills, false));
	struct incarn_growth g = incarn_growth(&in);
	assert_true(g.known);
	assert_true(fabs(g.per_s - 4 * MiB) < 0.01 * MiB);

	/* The kill: the counter rises, the new process starts small. */
	assert_true(push(&in, t, 10 * MiB, ++kills, false));
	assert_int_equal(in.cause, INCARN_OOM_KILL);
	assert_int_equal(in.oom_at_start, 1);
	assert_true(in.have_prev);
	assert_true(fabs(in.prev.per_s - 4 * MiB) < 0.01 * MiB);
	assert_false(incarn_growth(&in).known);          /* one sample: nothing said */
	assert_false(push(&in, t + 5, 30 * MiB, kills, false));
	assert_false(incarn_growth(&in).known);          /* two */
	assert_false(push(&in, t + 10, 50 * MiB, kills, false));
	g = incarn_growth(&in);
	assert_true(g.known);
	assert_int_equal(g.samples, 3);
	assert_true(fabs(g.per_s - 4 * MiB) < 0.01 * MiB);
	double eta = incarn_eta(&g, 50 * MiB, 96 * MiB);
	assert_true(fabs(eta - 11.5) < 0.1);
	/* A window over both incarnations would have said much less. */
	assert_true(in.restarts == 1);
}

/* The kill's pages are given back over a moment: a sample still high
 * when the counter rose is not the new incarnation's first point. */
static void test_settling_after_the_kill(void **st)
{
	(void)st;
	struct incarn in;

	incarn_init(&in, 300);
	push(&in, 0, 80 * MiB, 0, false);
	push(&in, 1, 90 * MiB, 0, false);
	assert_true(push(&in, 2, 70 * MiB, 1, false));   /* counted, not yet freed */
	/* Freed, and the supervisor has started the next one: the same restart. */
	assert_false(incarn_wants_procs(&in, 5 * MiB));
	assert_false(push(&in, 3, 5 * MiB, 1, true));
	assert_int_equal(in.restarts, 1);
	push(&in, 4, 9 * MiB, 1, false);
	push(&in, 5, 13 * MiB, 1, false);
	struct incarn_growth g = incarn_growth(&in);
	assert_true(g.known);
	assert_int_equal(g.samples, 3);
	assert_true(fabs(g.per_s - 4 * MiB) < 0.01 * MiB);

	/* At the exporter's 5 s interval the first sample after the kill's
	 * is the low one, past INCARN_SETTLE_S: still the kill's fall. */
	incarn_init(&in, 300);
	push(&in, 0, 80 * MiB, 1, false);
	assert_true(push(&in, 5, 90 * MiB, 2, false));
	push(&in, 10, 8 * MiB, 2, true);
	push(&in, 15, 28 * MiB, 2, false);
	push(&in, 20, 48 * MiB, 2, false);
	g = incarn_growth(&in);
	assert_int_equal(in.restarts, 1);
	assert_int_equal(g.samples, 3);
	assert_true(fabs(g.per_s - 4 * MiB) < 0.01 * MiB);
}

/* No OOM kill (a v1 host without oom_control, a crash, a deploy): the
 * processes were replaced and the working set fell sharply. */
static void test_replaced_processes(void **st)
{
	(void)st;
	struct incarn in;

	incarn_init(&in, 0);
	push(&in, 0, 60 * MiB, 0, false);
	push(&in, 1, 64 * MiB, 0, false);
	/* A dip with the same processes: not a restart, and the dip ends. */
	assert_true(incarn_wants_procs(&in, 20 * MiB));
	assert_false(push(&in, 2, 20 * MiB, 0, false));
	assert_true(in.drop_pending);
	assert_false(push(&in, 3, 70 * MiB, 0, false));
	assert_false(in.drop_pending);
	/* The service exits: the cgroup is empty a moment, then a new one. */
	assert_false(push(&in, 4, 1 * MiB, 0, false));
	assert_true(incarn_wants_procs(&in, 2 * MiB));
	assert_true(incarn_pre_drop_t(&in) == 3);
	assert_true(push(&in, 5, 2 * MiB, 0, true));
	assert_int_equal(in.cause, INCARN_REPLACED);
	assert_false(incarn_wants_procs(&in, 3 * MiB));
	/* New processes without a drop (a rolling reload): not a restart. */
	assert_false(push(&in, 6, 3 * MiB, 0, true));
}

static void test_minimum_span(void **st)
{
	(void)st;
	struct incarn in;

	incarn_init(&in, 300);
	push(&in, 0, 1 * MiB, 0, false);
	push(&in, 0.5, 2 * MiB, 0, false);
	push(&in, 1.0, 3 * MiB, 0, false);
	assert_false(incarn_growth(&in).known);          /* three samples, one second */
	assert_true(isnan(incarn_eta(&(struct incarn_growth){ 0 }, 1, 2)));
	push(&in, 2.0, 5 * MiB, 0, false);
	assert_true(incarn_growth(&in).known);
	struct incarn_growth flat = { .known = true, .per_s = 0 };
	assert_true(isinf(incarn_eta(&flat, 1, 2)));
	assert_true(incarn_eta(&flat, 3, 2) == 0);
}

/* The window still cuts old samples inside one long incarnation. */
static void test_window(void **st)
{
	(void)st;
	struct incarn in;

	incarn_init(&in, 10);
	for (int i = 0; i <= 20; i++)
		push(&in, i, i < 10 ? 50 * MiB : 50 * MiB + (i - 10) * MiB, 0, false);
	struct incarn_growth g = incarn_growth(&in);
	assert_int_equal(g.samples, 11);
	assert_true(fabs(g.per_s - 1 * MiB) < 0.01 * MiB);
}

static void test_slope(void **st)
{
	(void)st;
	double t[] = { 0, 1, 2, 3 }, v[] = { 10, 20, 30, 40 }, flat[] = { 5, 5, 5, 5 };
	assert_true(fabs(incarn_slope(t, v, 4) - 10) < 1e-9);
	assert_true(fabs(incarn_slope(t, flat, 4)) < 1e-9);
	assert_true(incarn_slope(t, v, 1) == 0);
}

/* A child forked after `since` in this process's own memory cgroup is a
 * start; nothing started after a time still to come. */
static void test_procs_started(void **st)
{
	(void)st;
	char *v2 = NULL, *v1 = NULL, *dir;
	const struct cgroup_layout *l = cgroup_layout();

	assert_false(incarn_procs_started("/nonexistent-memscope-cgroup", 0));
	if (cgroup_of_pid(getpid(), &v2, &v1) || !(dir = cgroup_memory_dir(!l->memory_on_v2 && v1 ? v1 : v2 ? v2 : "/"))) {
		free(v2);
		free(v1);
		skip();
	}
	double since = mono_ns() / 1e9;
	usleep(30000);    /* start times count in clock ticks (10 ms) */
	pid_t kid = fork();
	if (!kid) {
		pause();
		_exit(0);
	}
	assert_true(incarn_procs_started(dir, since));
	assert_false(incarn_procs_started(dir, since + 3600));
	kill(kid, SIGKILL);
	waitpid(kid, NULL, 0);
	free(dir);
	free(v2);
	free(v1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oom_kill_starts_a_new_incarnation),
		cmocka_unit_test(test_settling_after_the_kill),
		cmocka_unit_test(test_replaced_processes),
		cmocka_unit_test(test_minimum_span),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_slope),
		cmocka_unit_test(test_procs_started),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
