/* sockleak: which process leaks sockets (or any fd with --all-fds), from
 * which call stack, how many, since when, and which of them sit in
 * CLOSE_WAIT. This file is the command line; the collector is sockleak_collect.c,
 * the printers sockleak_report.c. */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfutil.h"
#include "cgroup.h"
#include "cli.h"
#include "loop.h"
#include "interpreters.h"
#include "output.h"
#include "privs.h"
#include "symworker.h"
#include "sockleak_collect.h"
#include "sockleak_report.h"

#define DEFAULT_TOP 20
#define DEFAULT_OLDER_S 5.0
#define DEFAULT_FRAMES 24

enum { OPT_OLDER = 1000, OPT_ALL_FDS, OPT_BY_CGROUP, OPT_NO_STACKS, OPT_MAX_FDS, OPT_KERNEL_SOCKETS,
       OPT_STACK_MODE, OPT_FRAMES, OPT_NO_INTERP, OPT_JVM_PERFMAP };

struct env {
	struct common_opts common;
	struct sl_report_opts rep;
	bool no_stacks;
	uint64_t max_fds;
	enum stack_mode stack_mode;
	int frames;
	bool no_interp;
	bool jvm_perfmap;
};

struct app {
	struct env env;
	struct sl_collector *c;
};

static const char doc[] =
	"Count sockets created and closed per process, find the ones that stay open (by creating "
	"call stack) and the ones in CLOSE_WAIT.\v"
	"Examples:\n"
	"  sockleak                        # every process, final report on Ctrl-C\n"
	"  sockleak -i 2 -d 60             # a table every 2 s for a minute\n"
	"  sockleak -p 1234 --older-than 30   # pid 1234; sockets open > 30 s are suspects\n"
	"  sockleak -c /system.slice/web.service --by-cgroup\n"
	"  sockleak --all-fds -p 1234      # every fd kind, against RLIMIT_NOFILE\n"
	"  sockleak --kernel-sockets       # also sockets the kernel still holds (orphans)\n"
	"  sockleak --json -d 10 | jq .    # one JSON object per process and a summary\n";

static const struct argp_option options[] = {
	{ "older-than", OPT_OLDER, "SECONDS", 0, "Sockets open longer are leak suspects (default 5)", 0 },
	{ "all-fds", OPT_ALL_FDS, NULL, 0, "Account every fd kind, not only sockets", 0 },
	{ "by-cgroup", OPT_BY_CGROUP, NULL, 0, "Roll the rows up per cgroup", 0 },
	{ "top", 'n', "N", 0, "Rows shown (default 20)", 0 },
	{ "no-stacks", OPT_NO_STACKS, NULL, 0, "Do not capture creating call stacks (cheaper)", 0 },
	{ "stack-mode", OPT_STACK_MODE, "MODE", 0, STACK_MODE_HELP, 0 },
	{ "frames", OPT_FRAMES, "N", 0, "Frames kept per creating stack (default 24)", 0 },
	{ "no-interp", OPT_NO_INTERP, NULL, 0, INTERP_OFF_HELP, 0 },
	{ "jvm-perfmap", OPT_JVM_PERFMAP, NULL, 0, JVM_PERFMAP_HELP " (sockleak: when a new call site has compiled Java frames it cannot name)", 0 },
	{ "max-fds", OPT_MAX_FDS, "N", 0, "Live fds tracked system-wide (default 131072)", 0 },
	{ "kernel-sockets", OPT_KERNEL_SOCKETS, NULL, 0,
	  "Follow inet sockets in the kernel too (cgroup/sock_create, sock_release): freed or "
	  "still allocated whoever closed them (opt-in: ~2 us more per socket)", 0 },
	{},
};

static error_t parse_opt(int key, char *arg, struct argp_state *st)
{
	struct env *e = st->input;

	switch (key) {
	case ARGP_KEY_INIT: st->child_inputs[0] = &e->common; break;
	case OPT_OLDER: e->rep.older_than_s = argp_seconds(st, "--older-than", arg, 0, 1e7); break;
	case OPT_ALL_FDS: e->rep.all_fds = true; break;
	case OPT_BY_CGROUP: e->rep.by_cgroup = true; break;
	case 'n': e->rep.top = argp_u64(st, "--top", arg, 1, 100000); break;
	case OPT_NO_STACKS: e->no_stacks = true; break;
	case OPT_MAX_FDS: e->max_fds = argp_u64(st, "--max-fds", arg, 1024, 1 << 26); break;
	case OPT_KERNEL_SOCKETS: e->rep.kernel_sockets = true; break;
	case OPT_STACK_MODE:
		if (stack_mode_parse(arg, &e->stack_mode))
			argp_error(st, "invalid --stack-mode '%s' (fp, dwarf or auto)", arg);
		break;
	case OPT_NO_INTERP: e->no_interp = true; break;
	case OPT_JVM_PERFMAP: e->jvm_perfmap = true; break;
	case OPT_FRAMES: e->frames = argp_u64(st, "--frames", arg, 1, 127); break;
	case ARGP_KEY_ARG: argp_error(st, "unexpected argument '%s'", arg); break;
	default: return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static int on_interval(void *ctx)
{
	struct app *a = ctx;

	sl_report_interval(sl_collector_refresh(a->c), &a->env.rep);
	return 0;
}

/* The header says what is traced: one pid, one cgroup (with its
 * descendants: -c keeps them in the kernel), or every process. */
static void announce(const struct app *a)
{
	const char *what = a->env.rep.all_fds ? "fds" : "sockets";
	const struct cgroup_target *cg = sl_collector_cgroup(a->c);

	if (a->env.common.pid) {
		out_ready("%s of pid %d... Ctrl-C to stop.", what, a->env.common.pid);
	} else if (a->env.common.cgroup) {
		char *e = term_escape(cg->rel);

		out_ready("%s of the processes in cgroup %s%s... Ctrl-C to stop.", what, e,
			  cg->v1 ? " (v1 memory)" : "");
		free(e);
	} else {
		out_ready("%s of every process... Ctrl-C to stop.", what);
	}
}

/* What the collector still needs once attached: other users' /proc/PID
 * fds, maps and binaries, the files they map (map_files), and with
 * --jvm-perfmap the JVM's user for jcmd. */
static uint64_t caps_to_keep(const struct app *a)
{
	uint64_t keep = PRIV(CAP_SYS_PTRACE) | PRIV(CAP_DAC_READ_SEARCH) |
			privs_or_admin(CAP_CHECKPOINT_RESTORE);

	if (a->env.jvm_perfmap)
		keep |= PRIV(CAP_SETUID) | PRIV(CAP_SETGID);
	return keep;
}

static int run(struct app *a)
{
	const struct cgroup_target *cg;
	struct loop_opts lo;

	a->c = sl_collector_open(&(struct sl_collector_opts){
		.pid = a->env.common.pid, .cgroup = a->env.common.cgroup,
		.all_fds = a->env.rep.all_fds, .kernel_sockets = a->env.rep.kernel_sockets,
		.needs = SL_NEED_REPORT & ~(a->env.no_stacks ? SL_NEED_STACKS : 0u), .no_interp = a->env.no_interp,
		.jvm_perfmap = a->env.jvm_perfmap, .stack_mode = a->env.stack_mode,
		.frames = a->env.frames, .max_fds = a->env.max_fds,
		.older_than_s = a->env.rep.older_than_s });
	if (!a->c)
		return 1;
	/* Attached: the symbolizer worker starts while it may still become
	 * nobody, then what is no longer needed goes (docs/sandbox.md). */
	symworker__get();
	privs_settle(caps_to_keep(a), a->env.common.verbose);
	cg = sl_collector_cgroup(a->c);
	a->env.rep.kernel_sockets = sl_collector_options(a->c)->kernel_sockets;
	a->env.rep.sites = sl_collector_sites(a->c);
	a->env.rep.drops = sl_collector_drops(a->c);
	lo = (struct loop_opts){ .rb = sl_collector_ringbuf(a->c),
				 .interval_s = a->env.common.interval_s,
				 .duration_s = a->env.common.duration_s,
				 .watch_pid = a->env.common.pid, .poll_ms = 200,
				 .watch_cgroup_dir = cg ? cg->dir : NULL,
				 .watch_cgroup_name = cg ? cg->rel : NULL,
				 .on_interval = on_interval, .ctx = a };
	announce(a);
	if (loop_run(&lo) == LOOP_ERROR)
		warn_msg("the run loop failed: %s", strerror(errno));
	sl_collector_poll(a->c, 0); /* the last sites, before their processes go */
	/* Only the final report shows the leaks by call site. */
	sl_collector_want(a->c, sl_collector_options(a->c)->needs | SL_NEED_LEAK_SITES);
	sl_report_final(sl_collector_refresh(a->c), &a->env.rep);
	return 0;
}

int main(int argc, char **argv)
{
	static struct argp_child children[] = { { &common_argp, 0, NULL, 0 }, {} };
	static struct argp argp = { options, parse_opt, "[-p PID | -c CGROUP]", doc, children, NULL, NULL };
	static struct app a;
	int status;

	a.env.rep = (struct sl_report_opts){ .top = DEFAULT_TOP, .older_than_s = DEFAULT_OLDER_S };
	a.env.frames = DEFAULT_FRAMES;
	cli_select(CLI_PID | CLI_CGROUP | CLI_INTERVAL | CLI_DURATION);
	if (argp_parse(&argp, argc, argv, CLI_ARGP_FLAGS, NULL, &a.env))
		return 1;
	a.env.rep.json = a.env.common.json;
	out_set_json(a.env.common.json, "sockleak");
	bpf_log_setup(a.env.common.verbose);
	loop_signals_install();
	status = run(&a);
	sl_collector_close(a.c);
	return status;
}
