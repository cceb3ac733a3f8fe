/* sockleak: which process leaks sockets (or any fd with --all-fds), from
 * which call stack, how many, since when, and which of them sit in
 * CLOSE_WAIT. This file is the lifecycle only; the work is in sockleak_*.c. */
#define _GNU_SOURCE
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpfutil.h"
#include "cgroup.h"
#include "cli.h"
#include "kfeatures.h"
#include "loop.h"
#include "output.h"
#include "procfs.h"
#include "sockleak.h"
#include "sockleak.skel.h"
#include "sockleak_fdtab.h"
#include "sockleak_report.h"
#include "sockleak_sites.h"

#define DEFAULT_TOP 20
#define DEFAULT_OLDER_S 5.0
#define DEFAULT_FRAMES 24

enum { OPT_OLDER = 1000, OPT_ALL_FDS, OPT_BY_CGROUP, OPT_NO_STACKS, OPT_MAX_FDS, OPT_KERNEL_SOCKETS,
       OPT_STACK_MODE, OPT_FRAMES };

struct env {
	struct common_opts common;
	struct sl_report_opts rep;
	bool no_stacks;
	uint64_t max_fds;
	enum stack_mode stack_mode;
	int frames;
};

struct app {
	struct env env;
	struct cgroup_target cg;
	struct sockleak *skel;
	struct fdtab *tab;
	struct sl_sites *sites;
	struct ring_buffer *rb;
	struct bpf_link *sk_links[2];  /* --kernel-sockets: create, release */
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
	case OPT_FRAMES: e->frames = argp_u64(st, "--frames", arg, 1, 127); break;
	case ARGP_KEY_ARG: argp_error(st, "unexpected argument '%s'", arg); break;
	default: return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* The --all-fds programs, and hooks this kernel lacks, stay unloaded. */
static void pick_programs(struct app *a)
{
	const struct features *f = features_get();
	struct bpf_program *p;

	bpf_object__for_each_program(p, a->skel->obj) {
		const char *sec = bpf_program__section_name(p);
		const char *name = bpf_program__name(p);
		char cat[64], tp[64];

		if (!strncmp(name, "all_", 4) && !a->env.rep.all_fds)
			bpf_program__set_autoload(p, false);
		if (sscanf(sec, "tracepoint/%63[^/]/%63s", cat, tp) == 2 && !tracepoint_exists(cat, tp))
			bpf_program__set_autoload(p, false);
	}
	bpf_program__set_autoload(a->skel->progs.sk_create, a->env.rep.kernel_sockets);
	bpf_program__set_autoload(a->skel->progs.sk_release, a->env.rep.kernel_sockets);
	bpf_program__set_autoload(a->skel->progs.sk_state_btf, a->env.rep.kernel_sockets);
	/* fork: tp_btf where it works, else the raw tracepoint. */
	if (f->tp_btf)
		bpf_program__set_autoload(a->skel->progs.fork_raw, false);
	else
		bpf_program__set_autoload(a->skel->progs.fork_btf, false);
}

/* --kernel-sockets needs cgroup socket programs, socket-local storage, a
 * BTF tracepoint (to see orphans freed) and a cgroup2 mount to attach at. */
static void check_kernel_sockets(struct app *a)
{
	const struct features *f = features_get();
	const char *missing = NULL;

	if (!a->env.rep.kernel_sockets)
		return;
	if (!cgroup_layout()->v2_mount[0])
		missing = "a cgroup2 mount";
	else if (!f->cgroup_sock)
		missing = "cgroup/sock_create programs";
	else if (!f->sk_storage)
		missing = "socket-local storage (BPF_MAP_TYPE_SK_STORAGE)";
	else if (!f->tp_btf)
		missing = "BTF tracepoints (tp_btf)";
	if (!missing)
		return;
	warn_msg("--kernel-sockets needs %s, which this host lacks: showing the fd view only", missing);
	a->env.rep.kernel_sockets = false;
}

/* -c: the kernel keeps only the cgroup's processes (and its descendants'):
 * by v1 memory cgroup, or by cgroup2 ancestry at the cgroup's depth. */
static void set_cgroup_filter(struct app *a)
{
	uint32_t level = 0;

	if (!a->env.common.cgroup)
		return;
	if (a->cg.v1) {
		a->skel->rodata->targ_memcg_id = a->cg.id;
		return;
	}
	if (!strcmp(a->cg.rel, "/"))
		return;
	for (const char *c = a->cg.rel; *c; c++)
		level += c[0] == '/' && c[1] && c[1] != '/';
	a->skel->rodata->targ_cg2_id = a->cg.v2_id ? a->cg.v2_id : a->cg.id;
	a->skel->rodata->targ_cg2_level = level;
}

/* The cgroup socket programs see every cgroup's sockets from the root. */
static int attach_kernel_sockets(struct app *a)
{
	const char *root = cgroup_layout()->v2_mount;
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	a->sk_links[0] = bpf_program__attach_cgroup(a->skel->progs.sk_create, fd);
	if (!a->sk_links[0])
		err = -errno;
	if (!err) {
		a->sk_links[1] = bpf_program__attach_cgroup(a->skel->progs.sk_release, fd);
		if (!a->sk_links[1])
			err = -errno;
	}
	close(fd);
	return err;
}

static int open_and_load(struct app *a)
{
	int err;

	if (!tracefs_ensure())
		warn_msg("tracefs is not mounted and cannot be mounted");
	a->skel = sockleak__open();
	if (!a->skel) {
		bpf_explain("cannot open the BPF object", -errno);
		return -1;
	}
	a->skel->rodata->targ_tgid = a->env.common.pid;
	a->skel->rodata->self_tgid = getpid();
	a->skel->rodata->want_stacks = !a->env.no_stacks;
	a->skel->rodata->stack_snapshots = !a->env.no_stacks && a->env.stack_mode != STACK_FP;
	a->skel->rodata->late_ns = a->env.rep.older_than_s * 1e9 > SL_LATE_MIN_NS
					   ? (uint64_t)(a->env.rep.older_than_s * 1e9) : SL_LATE_MIN_NS;
	a->skel->rodata->all_fds = a->env.rep.all_fds;
	a->skel->rodata->have_rdonly_cast = kernel_btf_has("bpf_rdonly_cast", BTF_KIND_FUNC);
	set_cgroup_filter(a);
	check_kernel_sockets(a);
	if (a->env.max_fds)
		bpf_map__set_max_entries(a->skel->maps.fds, a->env.max_fds);
	pick_programs(a);
	err = sockleak__load(a->skel);
	if (err) {
		bpf_explain("cannot load the BPF programs", err);
		return -1;
	}
	return 0;
}

static int on_interval(void *ctx)
{
	struct app *a = ctx;

	sl_report_interval(a->tab, &a->env.rep);
	return 0;
}

static void on_proc_exit(void *ctx, uint32_t tgid)
{
	sl_sites__forget_proc(ctx, tgid);
}

/* Call sites are symbolized as they come, while their process lives. */
static int open_sites(struct app *a)
{
	struct sl_sites_opts so = { .stacks_map = bpf_map__fd(a->skel->maps.stacks),
				    .mode = a->env.stack_mode, .max_frames = a->env.frames };

	a->sites = sl_sites__new(&so);
	a->rb = ring_buffer__new(bpf_map__fd(a->skel->maps.events), sl_sites__on_event, a->sites, NULL);
	if (!a->rb) {
		bpf_explain("cannot open the ring buffer", -errno);
		return -1;
	}
	return 0;
}

/* The header says what is traced: one pid, one cgroup (with its
 * descendants: -c keeps them in the kernel), or every process. */
static void announce(const struct app *a)
{
	const char *what = a->env.rep.all_fds ? "fds" : "sockets";

	if (a->env.common.pid) {
		out_ready("%s of pid %d... Ctrl-C to stop.", what, a->env.common.pid);
	} else if (a->env.common.cgroup) {
		char *e = term_escape(a->cg.rel);

		out_ready("%s of the processes in cgroup %s%s... Ctrl-C to stop.", what, e,
			  a->cg.v1 ? " (v1 memory)" : "");
		free(e);
	} else {
		out_ready("%s of every process... Ctrl-C to stop.", what);
	}
}

static int run(struct app *a)
{
	struct fdtab_opts fo;
	struct loop_opts lo = { .interval_s = a->env.common.interval_s,
				.duration_s = a->env.common.duration_s,
				.watch_pid = a->env.common.pid, .poll_ms = 200,
				.watch_cgroup_dir = a->env.common.cgroup ? a->cg.dir : NULL,
				.watch_cgroup_name = a->cg.rel,
				.on_interval = on_interval, .ctx = a };
	int err;

	if (open_and_load(a) || open_sites(a))
		return 1;
	lo.rb = a->rb;
	fo = (struct fdtab_opts){ .fds_map = bpf_map__fd(a->skel->maps.fds),
				  .procs_map = bpf_map__fd(a->skel->maps.procs),
				  .at_exit_map = bpf_map__fd(a->skel->maps.at_exit),
				  .late_map = bpf_map__fd(a->skel->maps.late),
				  .short_cw_map = bpf_map__fd(a->skel->maps.short_cw),
				  .on_exit = on_proc_exit, .exit_ctx = a->sites,
				  .pid = a->env.common.pid, .all_fds = a->env.rep.all_fds,
				  .cg_rel = a->env.common.cgroup ? a->cg.rel : NULL, .cg_v1 = a->cg.v1,
				  .kernel_sockets = a->env.rep.kernel_sockets,
				  .older_than_s = a->env.rep.older_than_s };
	a->tab = fdtab__new(&fo);
	/* Attach, then scan /proc, then reconcile: every socket made after the
	 * attach is the kernel's (the scan only adds fds the kernel has no
	 * entry for), so none is missed or counted twice. Scanning first let
	 * a socket closed and its fd reused in between count one close too
	 * many on heavy churn. */
	err = sockleak__attach(a->skel);
	if (!err && a->env.rep.kernel_sockets)
		err = attach_kernel_sockets(a);
	if (err) {
		bpf_explain("cannot attach the BPF programs", err);
		return 1;
	}
	if (fdtab__baseline(a->tab) == -ESRCH) {
		die_msg("process %d exited before tracing started", a->env.common.pid);
		return 1;
	}
	fdtab__refresh(a->tab);
	a->tab->start_ns = a->tab->now_ns;
	a->env.rep.sites = a->sites;
	a->env.rep.cw_map = bpf_map__fd(a->skel->maps.closewait);
	a->env.rep.drops = (const uint64_t *)a->skel->bss->drops;
	announce(a);
	if (loop_run(&lo) == LOOP_ERROR)
		warn_msg("the run loop failed: %s", strerror(errno));
	ring_buffer__consume(a->rb); /* the last sites, before their processes go */
	sl_report_final(a->tab, &a->env.rep);
	return 0;
}

static int check_target(struct app *a)
{
	if (a->env.common.pid && !proc_exists(a->env.common.pid)) {
		die_msg("no process with pid %d", a->env.common.pid);
		return -1;
	}
	if (a->env.common.cgroup) {
		if (cgroup_resolve(a->env.common.cgroup, &a->cg)) {
			die_msg("no cgroup '%s' (give a path under a cgroup mount, relative to it, "
				"or a container id)", a->env.common.cgroup);
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct argp_child children[] = { { &common_argp, 0, NULL, 0 }, {} };
	static struct argp argp = { options, parse_opt, "[-p PID | -c CGROUP]", doc, children, NULL, NULL };
	static struct app a;
	int status = 1;

	a.env.rep = (struct sl_report_opts){ .top = DEFAULT_TOP, .older_than_s = DEFAULT_OLDER_S };
	a.env.frames = DEFAULT_FRAMES;
	cli_select(CLI_PID | CLI_CGROUP | CLI_INTERVAL | CLI_DURATION);
	if (argp_parse(&argp, argc, argv, 0, NULL, &a.env))
		return 1;
	a.env.rep.json = a.env.common.json;
	out_set_json(a.env.common.json, "sockleak");
	bpf_log_setup(a.env.common.verbose);
	if (check_target(&a) == 0 && bpf_preflight("sockleak") == 0) {
		loop_signals_install();
		status = run(&a);
	}
	fdtab__free(a.tab);
	ring_buffer__free(a.rb);
	sl_sites__free(a.sites);
	for (int i = 0; i < 2; i++)
		bpf_link__destroy(a.sk_links[i]);
	sockleak__destroy(a.skel);
	cgroup_target_free(&a.cg);
	return status;
}
