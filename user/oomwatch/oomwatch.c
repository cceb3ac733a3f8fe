// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* oomwatch: the whole context of every OOM kill, per cgroup. This file is
 * the command line and the output; the collector is oomwatch_collect.c. */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "bpfutil.h"
#include "cli.h"
#include "loop.h"
#include "oom_history.h"
#include "oom_leadup.h"
#include "oom_report.h"
#include "oomwatch_collect.h"
#include "output.h"
#include "privs.h"

/* --since accepts up to this much (the journal can hold years; the kernel's
 * ring buffer holds far less). */
#define SINCE_MAX_S (366.0 * 86400)

/* How long a kill waits for its "Killed process" line in /dev/kmsg: the
 * kernel prints it right after mark_victim, so this is only slack. */
#define DEFAULT_KMSG_WAIT_S 1.0

struct env {
	struct common_opts common;
	const char *output_dir;
	double leadup_interval, leadup_window, kmsg_wait;
	const char *hook;      /* hidden: force "tp_btf" or "tracepoint" */
	const char *hold;      /* hidden (tests): wait for this file between baselines and attach */
	bool since;            /* --since: the kills already in the kernel's log */
	struct oom_history_opts history;
};

struct app {
	struct env env;
	struct oom_collector *c;
	int out_dirfd;
};

static const char doc[] =
	"Report the whole context of every OOM kill: victim, trigger, the cgroup that hit its "
	"limit, its memory.stat and the lead-up, and the kernel's own report.\n"
	"\n"
	"USAGE: oomwatch [-c CGROUP] [-d SECONDS] [--since DURATION] [--json] [--output-dir DIR]\v"
	"EXAMPLES:\n"
	"  oomwatch                          # every OOM kill on the host, until Ctrl-C\n"
	"  oomwatch -c /system.slice/x.service   # only kills inside that cgroup subtree\n"
	"  oomwatch --json --output-dir /var/lib/oomwatch   # one JSON file per kill\n"
	"  oomwatch -d 60                    # one minute, then a per-cgroup summary\n"
	"  oomwatch --since 1h               # last hour's kills, from the kernel log\n"
	"  oomwatch --since boot -d 600      # kills since boot, then 10 min live\n";

enum { OPT_OUTDIR = 0x2000, OPT_LEADUP_INT, OPT_LEADUP_WIN, OPT_KMSG_WAIT, OPT_HOOK, OPT_HOLD,
       OPT_SINCE, OPT_JOURNAL_EXPORT, OPT_NO_JOURNAL };

static const struct argp_option options[] = {
	{ "since", OPT_SINCE, "DURATION", 0,
	  "First the kills of the last DURATION (10m, 2h, 1d, 1h30m; or boot) read from the kernel's "
	  "log and the journal, then exit; with -d, watch live after them", 0 },
	{ "output-dir", OPT_OUTDIR, "DIR", 0, "Also keep one JSON file per kill in DIR", 0 },
	{ "sample-interval", OPT_LEADUP_INT, "SECONDS", 0,
	  "Sample cgroups with a limit every SECONDS for the lead-up (default 1)", 0 },
	{ "leadup-window", OPT_LEADUP_WIN, "SECONDS", 0,
	  "Keep this much lead-up history per cgroup (default 300)", 0 },
	{ "kmsg-wait", OPT_KMSG_WAIT, "SECONDS", 0,
	  "Wait this long for the kernel's report of a kill (default 1)", 0 },
	{ "hook", OPT_HOOK, "KIND", OPTION_HIDDEN, "Force tp_btf or tracepoint", 0 },
	{ "journal-export", OPT_JOURNAL_EXPORT, "FILE", OPTION_HIDDEN,
	  "With --since: read this journalctl -o export file instead of the journal", 0 },
	{ "no-journal", OPT_NO_JOURNAL, NULL, OPTION_HIDDEN, "With --since: the kernel ring only", 0 },
	{ "baseline-hold", OPT_HOLD, "FILE", OPTION_HIDDEN,
	  "Between the baselines and attaching, wait until FILE exists", 0 },
	{},
};

/* One line and exit 1 on bad input (argp_error adds a second line). */
static void parse_since(struct env *env, const char *arg)
{
	int err;

	env->since = true;
	if (!strcmp(arg, "boot")) {
		env->history.since_boot = true;
		return;
	}
	err = parse_duration(arg, SINCE_MAX_S, &env->history.window_s);
	if (err) {
		fprintf(stderr, "oomwatch: --since '%s': %s\n", arg, err == -ERANGE ?
			"more than a year" : "not a duration (10m, 2h, 1d, 1h30m, 90s or boot)");
		exit(1);
	}
}

static error_t parse_opt(int key, char *arg, struct argp_state *st)
{
	struct env *env = st->input;

	switch (key) {
	case ARGP_KEY_INIT:
		st->child_inputs[0] = &env->common;
		break;
	case OPT_OUTDIR:
		env->output_dir = arg;
		break;
	case OPT_LEADUP_INT:
		env->leadup_interval = argp_seconds(st, "sample interval", arg, 0.1, 3600);
		break;
	case OPT_LEADUP_WIN:
		env->leadup_window = argp_seconds(st, "lead-up window", arg, 1, 86400);
		break;
	case OPT_KMSG_WAIT:
		env->kmsg_wait = argp_seconds(st, "kmsg wait", arg, 0, 60);
		break;
	case OPT_HOOK:
		if (strcmp(arg, "tp_btf") && strcmp(arg, "tracepoint"))
			argp_error(st, "--hook: tp_btf or tracepoint");
		env->hook = arg;
		break;
	case OPT_HOLD:
		env->hold = arg;
		break;
	case OPT_SINCE:
		parse_since(env, arg);
		break;
	case OPT_JOURNAL_EXPORT:
		env->history.journal_export = arg;
		break;
	case OPT_NO_JOURNAL:
		env->history.no_journal = true;
		break;
	case ARGP_KEY_ARG:
		argp_error(st, "unexpected argument '%s'", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* ---- output directory ------------------------------------------------ */

/* The directory must not let another user swap files under us: ours
 * (created 0700) or root's, and not writable by others unless sticky. */
static int open_output_dir_at(const char *path)
{
	struct stat st;
	int fd;

	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		die_msg("--output-dir %s: cannot create: %s", path, strerror(errno));
		return -1;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		die_msg("--output-dir %s: %s", path,
			errno == ELOOP || errno == ENOTDIR ? "not a directory (or a symlink)" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || (st.st_uid != geteuid() && st.st_uid != 0) ||
	    ((st.st_mode & (S_IWOTH | S_IWGRP)) && !(st.st_mode & S_ISVTX))) {
		die_msg("--output-dir %s: unsafe directory (owned by uid %u, mode %03o): it must be "
			"owned by root and not writable by others", path, st.st_uid, st.st_mode & 0777);
		close(fd);
		return -1;
	}
	return fd;
}

/* "link/" resolves the symlink whatever the flags (a trailing slash asks
 * for the directory it names): check and open the path without it. */
static char *without_trailing_slashes(const char *path)
{
	char *p = strdup(path);
	size_t n;

	if (!p)
		abort();
	for (n = strlen(p); n > 1 && p[n - 1] == '/'; n--)
		p[n - 1] = '\0';
	return p;
}

static int open_output_dir(const char *given)
{
	char *path = without_trailing_slashes(given);
	int fd = open_output_dir_at(path);

	free(path);
	return fd;
}

static void write_kill_file(int dirfd, const struct oom_kill *k)
{
	char name[128];
	FILE *f;
	int fd = -1;

	for (int n = 0; n < 100 && fd < 0; n++) {
		snprintf(name, sizeof(name), n ? "oom-%.0f-%u-%d.json" : "oom-%.0f-%u.json", k->time,
			 k->ev.victim_pid, n);
		fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		warn_msg("--output-dir: cannot write %s: %s", name, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	oom_kill_json(f, k);
	if (fclose(f) != 0)
		warn_msg("--output-dir: writing %s: %s", name, strerror(errno));
}

/* ---- output ----------------------------------------------------------- */

static void on_kill(const struct oom_kill *k, void *ctx)
{
	struct app *a = ctx;

	if (a->env.common.json)
		oom_kill_json(stdout, k);
	else {
		oom_kill_print(stdout, k);
		fputc('\n', stdout);
	}
	if (a->out_dirfd >= 0)
		write_kill_file(a->out_dirfd, k);
}

static int on_poll(void *ctx)
{
	oom_collector_drain(ctx, false);
	return 0;
}

static int on_interval(void *ctx)
{
	oom_collector_refresh(ctx);
	return 0;
}

static bool live_cutoff(void *ctx, uint64_t *seq)
{
	return oom_collector_log_cutoff(ctx, seq);
}

/* The kills already in the kernel's log, printed before any live one. */
static int print_history(struct app *a)
{
	struct env *env = &a->env;
	struct oom_history h;

	if (a->c) {
		env->history.live_cutoff = live_cutoff;
		env->history.live_ctx = a->c;
	}
	if (env->common.cgroup) {
		struct cgroup_target t;

		if (cgroup_resolve(env->common.cgroup, &t) < 0) {
			die_msg("cgroup %s: not found in the memory hierarchy", env->common.cgroup);
			return -1;
		}
		env->history.cgroup = strdup(t.rel);
		cgroup_target_free(&t);
	}
	if (oom_history_collect(&env->history, &h) < 0)
		return -1;
	if (env->common.json)
		oom_history_json(stdout, &h);
	else
		oom_history_print(stdout, &h, env->common.verbose);
	oom_history_free(&h);
	free((char *)env->history.cgroup);
	return 0;
}

static int run(struct app *a)
{
	const char *dir, *target = oom_collector_target(a->c, &dir);
	struct oom_summary sum;
	enum loop_stop why;

	out_ready("OOM kills (oom:mark_victim)%s%s... Ctrl-C to end.",
		  target ? " in " : "", target ? target : "");
	why = loop_run(&(struct loop_opts){
		.rb = oom_collector_ringbuf(a->c), .interval_s = a->env.leadup_interval,
		.duration_s = a->env.common.duration_s, .poll_ms = 100,
		.watch_cgroup_dir = dir, .watch_cgroup_name = target,
		.on_poll = on_poll, .on_interval = on_interval, .ctx = a->c });
	oom_collector_finish(a->c);
	oom_collector_summary(a->c, &sum);
	if (a->env.common.json)
		oom_summary_json(stdout, &sum);
	else
		oom_summary_print(stdout, &sum);
	oom_summary_free(&sum);
	return why == LOOP_ERROR ? -1 : 0;
}

int main(int argc, char **argv)
{
	static struct argp_child children[] = { { &common_argp, 0, "Common options:", 0 }, {} };
	static const struct argp argp = { options, parse_opt, NULL, doc, children, NULL, NULL };
	struct app a = { .env = { .leadup_interval = LEADUP_DEFAULT_INTERVAL_S,
				  .leadup_window = LEADUP_DEFAULT_WINDOW_S,
				  .kmsg_wait = DEFAULT_KMSG_WAIT_S },
			 .out_dirfd = -1 };
	struct env *env = &a.env;
	int ret = 1;

	cli_select(CLI_CGROUP | CLI_DURATION);
	if (argp_parse(&argp, argc, argv, CLI_ARGP_FLAGS, NULL, env))
		return 1;
	out_set_json(env->common.json, "oomwatch");
	/* --since alone reads the log and needs no BPF. */
	if (env->since && !env->common.duration_s)
		return print_history(&a) < 0;
	bpf_log_setup(env->common.verbose);
	if (bpf_preflight() < 0)
		return 1;
	if (env->output_dir && (a.out_dirfd = open_output_dir(env->output_dir)) < 0)
		return 1;
	a.c = oom_collector_open(&(struct oom_collector_opts){
		.cgroup = env->common.cgroup, .needs = OOM_NEED_ALL, .leadup_interval_s = env->leadup_interval,
		.leadup_window_s = env->leadup_window, .kmsg_wait_s = env->kmsg_wait,
		.hook = env->hook, .hold = env->hold, .verbose = env->common.verbose,
		.on_kill = on_kill, .ctx = &a });
	if (a.c && (!env->since || print_history(&a) == 0)) {
		/* Attached, the kernel log and journal read: other users'
		 * /proc/PID and, with --output-dir, a directory of anyone's
		 * are all that is left to reach (docs/sandbox.md). */
		privs_settle(PRIV(CAP_SYS_PTRACE) | PRIV(CAP_DAC_READ_SEARCH) |
				     (env->output_dir ? PRIV(CAP_DAC_OVERRIDE) : 0),
			     env->common.verbose);
		loop_signals_install();
		ret = run(&a) < 0;
	}
	oom_collector_close(a.c);
	if (a.out_dirfd >= 0)
		close(a.out_dirfd);
	return ret;
}
