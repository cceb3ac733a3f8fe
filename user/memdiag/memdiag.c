// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* memdiag: where the memory of the host, a cgroup or a process is, how
 * close it is to the limit by the measure the kubelet uses (the working
 * set), and what that means. Pure user space: it reads /proc and the
 * cgroup files, no BPF. This file is the command line; the collector is
 * memdiag_gather.c, the views memdiag_text.c,
 * memdiag_json.c and memdiag_cgroups.c. */
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "cli.h"
#include "loop.h"
#include "memdiag_gather.h"
#include "memdiag_report.h"
#include "output.h"
#include "procfs.h"

#define DEFAULT_MAPS     8
#define DEFAULT_TOP      20

struct env {
	struct common_opts common;
	bool all_cgroups;
	uint64_t count;          /* -n: samples, 0 = until -d or Ctrl-C */
	uint64_t nmaps;
	uint64_t top;
	enum md_sort sort;
	const char *snapshot;    /* --snapshot DIR: memory.* files copied elsewhere */
};

struct app {
	struct env env;
	struct cgroup_target cgt;
	struct md_opts o;
	struct md_collector c;
	int failed;
};

static void say_bad_file(const char *dir, const char *name)
{
	char *e = term_escape(dir);

	die_msg("%s/%s does not hold a number", e, name);
	free(e);
}

static int sample_and_print(void *ctx)
{
	struct app *a = ctx;
	struct md_collector *c = &a->c;
	int err = md_sample(c);

	if (err) {
		if (c->cur.kind == MD_PROCESS && (err == -ESRCH || err == -ENOENT))
			die_msg("process %d is gone", (int)c->cur.pid);
		else if (err == -EBADMSG && c->cur.cm.bad_file)
			say_bad_file(c->cur.cg_dir, c->cur.cm.bad_file);
		else
			die_msg("cannot read memory accounting: %s", strerror(-err));
		a->failed = 1;
		return 1;
	}
	if (a->env.common.json)
		md_print_json(c);
	else {
		if (c->samples > 1)
			printf("\n");
		md_print_text(c);
	}
	return a->env.count && c->samples >= a->env.count;
}

static int all_cgroups(const struct env *e)
{
	struct md_cg_list l;
	int err = md_cgroups_collect(&l, e->sort);

	if (err == -ENOENT) {
		die_msg("no memory cgroup hierarchy is mounted (neither v1 memory nor cgroup2 with memory)");
		return 1;
	}
	if (err) {
		die_msg("cannot read /proc/meminfo");
		return 1;
	}
	md_print_cgroups(&l, e->sort, e->top, e->common.json);
	md_cg_list_free(&l);
	return 0;
}

/* ---- command line ---- */

enum { OPT_ALL = 0x2000, OPT_SORT, OPT_TOP, OPT_MAPS, OPT_SNAPSHOT };

static const char doc[] =
	"memdiag: where the memory of the host, a cgroup or a process is, its working set "
	"(as the kubelet computes it) against RSS, usage and the limit, and what it means.\v"
	"EXAMPLES\n"
	"  memdiag                          # the host: /proc/meminfo, PSI, OOM kills\n"
	"  memdiag -c /kubepods/pod1234     # a cgroup (v1 or v2 path, container/pod id)\n"
	"  memdiag -p 4242                  # a process (RSS, PSS, mappings, fds), its cgroup\n"
	"  memdiag -c web -i 10 -n 30       # 30 samples 10 s apart: growth of each bucket\n"
	"  memdiag --all-cgroups --sort limit   # every memory cgroup, nearest its limit first\n"
	"  memdiag --snapshot ./copied-cgroup   # memory.* files copied from another machine\n"
	"\n"
	"One sample shows levels, not growth: its verdict is UNKNOWN unless something\n"
	"is wrong already; -i says OK once the samples show no steady growth.\n"
	"Exit status: 0 when the report was made, 1 on bad input or unreadable files.\n";

static const struct argp_option options[] = {
	{ "all-cgroups", OPT_ALL, NULL, 0, "Rank every memory cgroup", 0 },
	{ "sort", OPT_SORT, "KEY", 0, "--all-cgroups order: ws (working set, default) or limit (share of limit)", 0 },
	{ "top", OPT_TOP, "N", 0, "--all-cgroups: show the first N (default 20, 0 = all)", 0 },
	{ "count", 'n', "N", 0, "With -i: stop after N samples", 0 },
	{ "maps", OPT_MAPS, "N", 0, "With -p: show the N largest mappings (default 8, 0 = none)", 0 },
	{ "snapshot", OPT_SNAPSHOT, "DIR", 0, "Read memory.* files from DIR instead of a live cgroup", 0 },
	{},
};

static error_t parse_opt(int key, char *arg, struct argp_state *st)
{
	struct env *e = st->input;

	switch (key) {
	case ARGP_KEY_INIT:
		st->child_inputs[0] = &e->common;
		break;
	case OPT_ALL: e->all_cgroups = true; break;
	case OPT_SORT:
		if (!strcmp(arg, "ws") || !strcmp(arg, "working-set"))
			e->sort = MD_SORT_WS;
		else if (!strcmp(arg, "limit"))
			e->sort = MD_SORT_LIMIT;
		else
			argp_error(st, "invalid sort key '%s': ws or limit", arg);
		break;
	case OPT_TOP: e->top = argp_u64(st, "--top", arg, 0, 1000000); break;
	case 'n': e->count = argp_u64(st, "count", arg, 1, 10000000); break;
	case OPT_MAPS: e->nmaps = argp_u64(st, "--maps", arg, 0, MD_MAX_MAPS); break;
	case OPT_SNAPSHOT: e->snapshot = arg; break;
	case ARGP_KEY_ARG:
		argp_error(st, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		if (e->all_cgroups && (e->common.pid || e->common.cgroup || e->snapshot))
			argp_error(st, "--all-cgroups takes no -p, -c or --snapshot");
		if (e->common.pid && e->common.cgroup)
			argp_error(st, "give -p or -c, not both");
		if (e->snapshot && e->common.pid)
			argp_error(st, "--snapshot replaces -c, not -p");
		if (e->count && !e->common.interval_s)
			argp_error(st, "-n needs -i");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static int resolve_target(struct app *a)
{
	struct env *e = &a->env;
	struct md_opts *r = &a->o;

	r->kind = MD_HOST;
	r->snapshot = e->snapshot;
	r->nmaps = e->nmaps;
	if (e->common.pid) {
		r->kind = MD_PROCESS;
		r->pid = e->common.pid;
		if (proc_target_check(r->pid))
			return -1;
		static char targ[32];
		snprintf(targ, sizeof(targ), "-p %d", (int)r->pid);
		r->target_arg = targ;
	} else if (e->snapshot) {
		r->kind = MD_CGROUP;
		r->target_arg = "";
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/memory.stat", e->snapshot);
		if (access(path, R_OK)) {
			char *esc = term_escape(e->snapshot);
			die_msg("snapshot '%s' has no readable memory.stat", esc);
			free(esc);
			return -1;
		}
	} else if (e->common.cgroup) {
		r->kind = MD_CGROUP;
		char *esc = term_escape(e->common.cgroup);
		if (cgroup_resolve(e->common.cgroup, &a->cgt)) {
			die_msg("cgroup '%s' not found (a path under the memory hierarchy, or a container/pod id)", esc);
			free(esc);
			return -1;
		}
		char mstat[PATH_MAX];
		snprintf(mstat, sizeof(mstat), "%s/memory.stat", a->cgt.dir);
		if (access(mstat, R_OK)) {
			die_msg("cgroup '%s' has no memory accounting (no memory.stat in it)", esc);
			free(esc);
			return -1;
		}
		free(esc);
		static char targ[PATH_MAX + 8];
		snprintf(targ, sizeof(targ), "-c %s", a->cgt.rel);
		r->target_arg = targ;
		r->cg_dir = a->cgt.dir;
		r->cg_rel = a->cgt.rel;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct argp_child children[] = { { &common_argp, 0, NULL, 0 }, {} };
	static struct argp argp = { options, parse_opt, "[-p PID | -c CGROUP | --all-cgroups]", doc,
				    children, NULL, NULL };
	static struct app a;
	int status = 0;

	a.env.nmaps = DEFAULT_MAPS;
	a.env.top = DEFAULT_TOP;
	cli_select(CLI_PID | CLI_CGROUP | CLI_INTERVAL | CLI_DURATION);
	cli_option_doc('p', "Report on this process (RSS, PSS, mappings, fds) and its memory cgroup");
	cli_option_doc('i', "Sample every SECONDS and report the growth of each bucket (default: one sample)");
	if (argp_parse(&argp, argc, argv, CLI_ARGP_FLAGS, NULL, &a.env))
		return 1;
	out_set_json(a.env.common.json, "memdiag");

	if (a.env.all_cgroups)
		return all_cgroups(&a.env);
	if (resolve_target(&a))
		return 1;

	md_collector_init(&a.c, &a.o);
	bool once = a.env.common.interval_s <= 0;
	if (sample_and_print(&a) || once || a.failed) {
		status = a.failed;
	} else {
		struct loop_opts lo = {
			.interval_s = a.env.common.interval_s,
			.duration_s = a.env.common.duration_s,
			.watch_pid = a.o.kind == MD_PROCESS ? a.o.pid : 0,
			.on_interval = sample_and_print,
			.ctx = &a,
		};
		loop_signals_install();
		enum loop_stop why = loop_run(&lo);
		if (why == LOOP_TARGET_EXIT && !a.env.common.json)
			printf("\nprocess %d exited: stopping\n", (int)a.o.pid);
		status = a.failed;
	}
	md_collector_free(&a.c);
	cgroup_target_free(&a.cgt);
	return status;
}
