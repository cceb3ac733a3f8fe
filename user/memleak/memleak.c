/* memleak-trace: which call stacks hold memory a live process mapped or
 * allocated and never released, how much, since when, and how fast it
 * grows. This file is the lifecycle only; the work is in memleak_*.c. */
#define _GNU_SOURCE
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpfutil.h"
#include "cgroup.h"
#include "cli.h"
#include "ending.h"
#include "interpreters.h"
#include "modtab.h"
#include "kfeatures.h"
#include "loop.h"
#include "memleak.h"
#include "memleak.skel.h"
#include "memleak.compat.skel.h"
#include "memleak_cgroup.h"
#include "memleak_launch.h"
#include "memleak_malloc.h"
#include "memleak_pprof.h"
#include "memleak_procs.h"
#include "memleak_report.h"
#include "memleak_track.h"
#include "privs.h"
#include "symworker.h"
#include "output.h"
#include "procfs.h"
#include "symbolize.h"

#define DEFAULT_TOP 5
#define DEFAULT_FRAMES 12
/* The record ring, MiB. The kernel maps a ring buffer's data twice into
 * the consumer (so records wrap contiguously): it counts twice in this
 * tool's RSS. The consumer drains it at every poll and the BPF side wakes
 * it once 4 MiB of records are queued (SNAP_WAKE_BYTES), so 16
 * MiB leaves 12 for a burst; 500k mmap/munmap calls/s queue under 3 MiB
 * per 100 ms poll. */
#define DEFAULT_RINGBUF_MB 16
#define SNAP_WAKE_BYTES (4 << 20)
/* At least twice the snapshot wake threshold, or it could never fire. */
#define MIN_RINGBUF_MB 8

enum { OPT_OLDER = 1000, OPT_MALLOC, OPT_SAMPLE, OPT_MIN, OPT_MAX, OPT_FOLDED, OPT_ALL, OPT_FRAMES,
       OPT_STACK_MODE, OPT_RINGBUF, OPT_PPROF, OPT_FAULTS, OPT_NO_INTERP, OPT_JVM_PERFMAP };

struct env {
	struct common_opts common;
	struct report_opts rep;
	bool malloc;
	bool faults;
	uint64_t min_size, max_size;
	uint32_t ringbuf_mb;
	bool no_interp;
	bool jvm_perfmap;
	char **cmd;
};

struct app {
	struct env env;
	struct memleak *skel;
	struct ring_buffer *rb;
	struct bpf_link *links[8];
	struct malloc_probes *mp;
	struct malloc_bpf mb;
	struct procset ps;      /* -p / -- CMD: the one process, ps.v[0] */
	struct cgroup_target cg; /* -c */
	bool by_cgroup;
	struct launch child;
	bool launched, exited;
	uint64_t report_ns;     /* "now" of the report being printed */
	struct pprof *pp;       /* --pprof: the profile of the report being made */
};

static const char doc[] =
	"Find the call stacks that hold memory a process mapped (mmap, mremap, brk) or allocated "
	"(--malloc) and did not release.\v"
	"Examples:\n"
	"  memleak-trace -p 1234                  # mappings of pid 1234 until Ctrl-C\n"
	"  memleak-trace -p 1234 -i 10 -d 60      # a report every 10 s for a minute\n"
	"  memleak-trace -p 1234 --malloc --sample 10   # malloc too, one call in 10\n"
	"  memleak-trace -p 1234 --faults -d 60   # who makes it grow, at page faults\n"
	"  memleak-trace --json -- ./server --port 8080 # trace a command from its start\n"
	"  memleak-trace -p 1234 -d 30 --folded > leak.folded   # for flamegraph.pl\n"
	"  memleak-trace -c /sys/fs/cgroup/memory/app -d 60    # every process of a cgroup\n"
	"  memleak-trace -p 1234 -d 60 --pprof heap.pb.gz  # then: go tool pprof -top heap.pb.gz\n"
	"  memleak-trace -p 1234 --malloc --jvm-perfmap    # a JVM: Java methods named (runs jcmd)\n";

static const struct argp_option options[] = {
	{ "top", 'n', "N", 0, "Show the N stacks holding most (default 5)", 0 },
	{ "older-than", OPT_OLDER, "SECONDS", 0, "Only count memory held longer than SECONDS", 0 },
	{ "malloc", OPT_MALLOC, NULL, 0, "Also trace the allocator the process uses (libc, jemalloc, tcmalloc, ...; uprobes)", 0 },
	{ "faults", OPT_FAULTS, NULL, 0,
	  "Count resident growth instead: pages of anonymous memory and heap first touched "
	  "(page faults), minus those given back (munmap, madvise, mremap, brk); any allocator, "
	  "any language, almost no cost", 0 },
	{ "sample", OPT_SAMPLE, "N", 0, "--malloc: trace one allocation in N (large ones more often, estimates scaled)", 0 },
	{ "min-size", OPT_MIN, "SIZE", 0, "--malloc: ignore smaller allocations (K/M/G suffix)", 0 },
	{ "max-size", OPT_MAX, "SIZE", 0, "--malloc: ignore larger allocations", 0 },
	{ "folded", OPT_FOLDED, NULL, 0, "Print stacks in folded format weighted by bytes", 0 },
	{ "all", OPT_ALL, NULL, 0, "Rank file-backed and shared mappings too", 0 },
	{ "pprof", OPT_PPROF, "FILE", 0,
	  "Also write each report as a pprof profile (gzipped profile.proto: go tool pprof, "
	  "Pyroscope, Parca), replacing FILE", 0 },
	{ "frames", OPT_FRAMES, "N", 0, "Frames shown per stack in the table (default 12)", 0 },
	{ "stack-mode", OPT_STACK_MODE, "MODE", 0,
	  "How stacks are recovered: fp (frame pointers and the return address at the stack "
	  "pointer), dwarf (unwind a copy of the stack with the binaries' .eh_frame; through "
	  "code built without frame pointers) or auto (default: dwarf unless frame pointers "
	  "give more frames)", 0 },
	{ "no-interp", OPT_NO_INTERP, NULL, 0, INTERP_OFF_HELP, 0 },
	{ "jvm-perfmap", OPT_JVM_PERFMAP, NULL, 0, JVM_PERFMAP_HELP, 0 },
	{ "ringbuf-mb", OPT_RINGBUF, "MB", 0,
	  "Ring buffer for records, MiB: a power of 2, 8 to 1024 (default 16; the tool's RSS "
	  "grows by twice this)", 0 },
	{},
};

static uint64_t argp_size(struct argp_state *st, const char *what, const char *arg)
{
	uint64_t v;

	if (parse_size(arg, &v))
		argp_error(st, "invalid %s '%s'", what, arg);
	return v;
}

static enum stack_mode parse_stack_mode(struct argp_state *st, const char *arg)
{
	enum stack_mode m = STACK_AUTO;

	if (stack_mode_parse(arg, &m))
		argp_error(st, "invalid --stack-mode '%s' (fp, dwarf or auto)", arg);
	return m;
}

static error_t parse_opt(int key, char *arg, struct argp_state *st)
{
	struct env *e = st->input;

	switch (key) {
	case ARGP_KEY_INIT: st->child_inputs[0] = &e->common; break;
	case 'n': e->rep.top_n = argp_u64(st, "--top", arg, 1, 100000); break;
	case OPT_OLDER: e->rep.older_than_s = argp_seconds(st, "--older-than", arg, 0, 1e7); break;
	case OPT_MALLOC: e->malloc = true; break;
	case OPT_FAULTS: e->faults = true; break;
	case OPT_SAMPLE: e->rep.sample_every = argp_u64(st, "--sample", arg, 1, SAMPLE_MAX); break;
	case OPT_MIN: e->min_size = argp_size(st, "--min-size", arg); break;
	case OPT_MAX: e->max_size = argp_size(st, "--max-size", arg); break;
	case OPT_FOLDED: e->rep.folded = true; break;
	case OPT_ALL: e->rep.all_kinds = true; break;
	case OPT_PPROF: e->rep.pprof_path = arg; break;
	case OPT_FRAMES: e->rep.max_frames = argp_u64(st, "--frames", arg, 0, 1000); break;
	case OPT_STACK_MODE: e->rep.stack_mode = parse_stack_mode(st, arg); break;
	case OPT_NO_INTERP: e->no_interp = true; break;
	case OPT_JVM_PERFMAP: e->jvm_perfmap = true; break;
	case OPT_RINGBUF:
		e->ringbuf_mb = argp_u64(st, "--ringbuf-mb", arg, MIN_RINGBUF_MB, 1024);
		if (e->ringbuf_mb & (e->ringbuf_mb - 1))
			argp_error(st, "--ringbuf-mb must be a power of 2 (8, 16, 32, ...)");
		break;
	case ARGP_KEY_ARGS: e->cmd = st->argv + st->next; st->next = st->argc; break;
	case ARGP_KEY_END:
		if (!!e->common.pid + !!e->cmd + !!e->common.cgroup != 1)
			argp_error(st, "give one target: -p PID, -c CGROUP or -- COMMAND");
		if (e->common.cgroup && e->malloc)
			argp_error(st, "--malloc traces one process: use -p PID or -- COMMAND");
		if (e->faults && e->malloc)
			argp_error(st, "--faults and --malloc count different things: choose one");
		if (e->faults && e->rep.all_kinds)
			argp_error(st, "--faults counts anonymous memory and the heap only: --all does not apply");
		if (e->min_size > e->max_size)
			argp_error(st, "--min-size is larger than --max-size");
		if (!e->malloc && (e->rep.sample_every > 1 || e->min_size || e->max_size != UINT64_MAX))
			argp_error(st, "--sample, --min-size and --max-size need --malloc");
		break;
	default: return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static struct mproc *the_proc(struct app *a)
{
	return a->ps.v[0];
}

/* The process a record belongs to; NULL to ignore it. */
static struct mproc *record_proc(struct app *a, const struct mm_unmap_event *u, size_t size)
{
	struct mproc *p;

	if (!a->by_cgroup)
		return the_proc(a);
	/* -c: a process of the cgroup, known or new (not this tool). */
	if (size < MM_EV_HEAD || u->tgid == (uint32_t)getpid())
		return NULL;
	p = procset_find(&a->ps, u->tgid);
	/* The exit record of a process retired between a drain and a report. */
	if (!p && u->type == MM_EV_EXIT && size >= sizeof(struct mm_exit_event)) {
		struct mproc *ended = procset_find_unended(&a->ps, u->tgid);

		if (ended)
			procset_late_exit(&a->ps, ended, (const struct mm_exit_event *)u);
		return NULL;
	}
	/* The last records of a process already gone: its memory went too.
	 * The end of one never seen mapping anything: nothing to keep. */
	if (!p && (u->type == MM_EV_EXIT || !proc_alive((pid_t)u->tgid)))
		return NULL;
	return p ? p : procset_add(&a->ps, u->tgid, true);
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct app *a = ctx;
	const struct mm_unmap_event *u = data;
	struct mproc *p = record_proc(a, u, size);

	if (p)
		mproc_record(&a->ps, p, data, size);
	return 0;
}

static struct report_in report_in(struct app *a, struct mproc *p, bool final, bool exited)
{
	return (struct report_in){ .t = &p->t, .sym = p->sym, .final = final,
				   .target_exited = exited, .comm = p->comm, .ending = &p->ending,
				   .cgroup = a->by_cgroup ? a->cg.rel : NULL,
				   .stacks_fd = bpf_map__fd(a->skel->maps.stacks),
				   .sites = p->cs, .verify_lost = a->skel->bss->cs_verify_lost, .interp = a->ps.interp,
				   .drops = (const uint64_t *)a->skel->bss->drops,
				   .now_ns = p->exit_ns ? p->exit_ns : a->report_ns, .pprof = a->pp,
				   .faults_unclassified = a->skel->bss->faults_unclassified };
}

static void report_proc(struct app *a, struct mproc *p, bool final, bool exited)
{
	struct report_in in;
	struct stack_acc *macc = NULL;

	/* Code compiled since the last report gets its name. */
	if (!exited)
		symbolizer__jit_refresh(p->sym, a->env.jvm_perfmap);
	in = report_in(a, p, final, exited);

	if (a->env.malloc) {
		malloc_sync(&a->mb, &p->t);
		in.malloc_n = p->t.nstacks;
		macc = calloc(in.malloc_n + 1, sizeof(*macc));
		if (!macc)
			abort();
		malloc_collect(&a->mb, &p->t, macc, in.malloc_n, in.now_ns,
			       (uint64_t)(a->env.rep.older_than_s * 1e9));
		in.malloc_acc = macc;
	}
	report_print(&a->env.rep, &in);
	free(macc);
}

/* -c: the process growing fastest and where (c->pid 0: none grows). */
static void cgroup_fastest(struct app *a, struct leak_cgroup *c)
{
	for (size_t i = 0; i < a->ps.n; i++) {
		struct report_in in = report_in(a, a->ps.v[i], false, false);
		char *w;
		double r = report_growth(&a->env.rep, &in, &w);

		if (w && r > c->rate) {
			free(c->who);
			c->who = w;
			c->rate = r;
			c->pid = a->ps.v[i]->t.pid;
			c->comm = a->ps.v[i]->comm;
		} else {
			free(w);
		}
	}
}

/* -c: the cgroup's figures; its processes sorted, most held first.
 * growth: find the process growing fastest (the text's first line). */
static struct leak_cgroup cgroup_snapshot(struct app *a, bool growth)
{
	struct leak_cgroup c = { .path = a->cg.rel, .v1 = a->cg.v1, .removed = a->exited,
				 .seen = a->ps.n + a->ps.gone, .exited = a->ps.gone,
				 .oom_kills = a->ps.oom_kills, .exited_kept = a->ps.nended,
				 .exited_not_kept = a->ps.ended_dropped,
				 .max_kept = MAX_KEPT_EXITED };

	for (size_t i = 0; i < a->ps.n; i++) {
		uint64_t o = mproc_outstanding(a->ps.v[i], a->env.rep.all_kinds);

		c.bytes += o;
		c.holding += o > 0;
	}
	if (growth)
		cgroup_fastest(a, &c);
	return c;
}

/* -c: the cgroup's verdict, then each process holding memory, most
 * first, then each exited one kept with what it held at its end. */
static void report_cgroup(struct app *a, bool final)
{
	bool text = !a->env.rep.json && !a->env.rep.folded;
	struct leak_cgroup c;

	procset_retire_exited(&a->ps, a->env.rep.all_kinds);
	if (a->ps.n) /* v may be NULL, which qsort must not get */
		qsort_r(a->ps.v, a->ps.n, sizeof(*a->ps.v), mproc_by_held, &a->env.rep.all_kinds);
	a->ps.last = 0;
	c = cgroup_snapshot(a, text);
	if (text)
		leak_print_cgroup(stdout, &c);
	for (size_t i = 0; i < a->ps.n; i++) {
		if (!mproc_outstanding(a->ps.v[i], a->env.rep.all_kinds))
			continue;
		if (text)
			printf("\n");
		report_proc(a, a->ps.v[i], final, false);
	}
	for (size_t i = 0; i < a->ps.nended; i++) {
		if (text)
			printf("\n");
		report_proc(a, a->ps.ended[i], final, true);
	}
	if (a->env.rep.json)
		leak_print_cgroup_json(stdout, &c, final);
	fflush(stdout);
	free(c.who);
}

/* --pprof: what one profile says its numbers are. */
static struct pprof *pprof_begin(const struct app *a)
{
	if (a->env.faults)
		return pprof__new("memleak-trace --faults: pages first touched (alloc_*; objects are "
				  "pages) and not given back (inuse_*)");
	return pprof__new(a->env.malloc ?
			  "memleak-trace --malloc: bytes malloc'ed (kind malloc) or mapped outside "
			  "malloc (kind anon) (alloc_*) and not freed (inuse_*)" :
			  "memleak-trace: bytes mapped (alloc_*) and still mapped (inuse_*)");
}

/* The profile replaces FILE whole at every report; the oldest process's
 * trace gives its duration. */
static int pprof_end(struct app *a, struct pprof *pp, bool fatal)
{
	uint64_t t0 = a->report_ns;
	char *e;

	for (size_t i = 0; i < a->ps.n; i++)
		if (a->ps.v[i]->t.t0_ns && a->ps.v[i]->t.t0_ns < t0)
			t0 = a->ps.v[i]->t.t0_ns;
	if (!pprof__write(pp, a->env.rep.pprof_path, (double)(a->report_ns - t0) / 1e9))
		return 0;
	e = term_escape(a->env.rep.pprof_path);
	if (fatal)
		die_msg("cannot write the pprof profile %s: %s", e, strerror(errno));
	else
		warn_msg("cannot write the pprof profile %s: %s", e, strerror(errno));
	free(e);
	return -1;
}

/* -- CMD: its wait status says how it ended if the exit record was lost
 * (it cannot tell an OOM kill from another SIGKILL). */
static void command_ending(struct app *a)
{
	struct mproc *p = the_proc(a);

	if (a->launched && a->child.reaped && !(p->ending.flags & ENDING_SEEN))
		p->ending = ending_from_wait(a->child.status);
}

static void report(struct app *a, bool final)
{
	a->report_ns = mono_ns();
	if (a->env.rep.pprof_path)
		a->pp = pprof_begin(a);
	if (a->by_cgroup) {
		report_cgroup(a, final);
	} else {
		command_ending(a);
		report_proc(a, the_proc(a), final, a->exited);
	}
	if (a->pp)
		pprof_end(a, a->pp, false);
	pprof__free(a->pp);
	a->pp = NULL;
}

/* --pprof FILE: an empty profile now, so that a path that cannot be
 * written is an error before tracing, not after. */
static int pprof_check(struct app *a)
{
	struct pprof *pp;
	int err;

	if (!a->env.rep.pprof_path)
		return 0;
	pp = pprof_begin(a);
	a->report_ns = mono_ns();
	err = pprof_end(a, pp, true);
	pprof__free(pp);
	return err;
}

static int on_interval(void *ctx)
{
	report(ctx, false);
	return 0;
}

/* -c: the run loop watches the cgroup directory. */
static bool target_gone(struct app *a)
{
	if (a->by_cgroup)
		return false;
	return a->launched ? launch_exited(&a->child) : !proc_alive(the_proc(a)->t.pid);
}

/* Cheap per-poll work: notice the target's exit, keep the symbolizers'
 * view of the mappings current while the processes are there to read. */
static int on_poll(void *ctx)
{
	struct app *a = ctx;
	uint64_t now = mono_ns();

	/* Records are sent without wake-ups below the BPF side's threshold,
	 * so a poll timeout does not drain them: do it here. */
	ring_buffer__consume(a->rb);
	if (target_gone(a)) {
		a->exited = true;
		return 1;
	}
	procset_poll(&a->ps, now);
	if (a->env.malloc && now - the_proc(a)->t.t0_ns >= (uint64_t)(the_proc(a)->t.next_ckpt * 1e9))
		malloc_sync(&a->mb, &the_proc(a)->t);
	return 0;
}

/* The BPF side's MM_THP_* for a mode name (unknown: no THP). */
static __u32 thp_mode_value(const char *mode)
{
	if (!mode)
		return MM_THP_NEVER;
	return !strcmp(mode, "always") ? MM_THP_ALWAYS :
	       !strcmp(mode, "madvise") ? MM_THP_MADVISE : MM_THP_NEVER;
}

/* --faults needs the x86 page-fault tracepoint and bpf_find_vma (5.17),
 * which tells anonymous memory from file pages in the kernel. */
static int faults_preflight(void)
{
	const struct features *f = features_get();

	if (!f->fault_tp) {
		die_msg("--faults needs the exceptions:page_fault_user tracepoint, which this kernel "
			"does not have (x86 only, and tracefs mounted): use --malloc or the default "
			"mapping mode");
		return -1;
	}
	if (!f->find_vma) {
		die_msg("--faults needs the bpf_find_vma helper (Linux 5.17 or later): use --malloc "
			"or the default mapping mode");
		return -1;
	}
	return 0;
}

/* -c: the kernel keeps the records of the cgroup's processes (and of its
 * descendants): by cgroup2 ancestry, or by v1 memory cgroup. */
static void set_cgroup_filter(struct app *a)
{
	uint32_t level = 0;

	if (a->cg.v1) {
		a->skel->rodata->target_memcg_id = a->cg.id;
		return;
	}
	for (const char *c = a->cg.rel; *c; c++)
		level += c[0] == '/' && c[1] && c[1] != '/';
	a->skel->rodata->target_cg2_id = a->cg.v2_id;
	a->skel->rodata->target_cg2_level = level;
}

static int open_and_load(struct app *a, pid_t pid)
{
	struct bpf_program *p;
	int err;

	a->skel = BPF_SKEL_OPEN(memleak, bpf_use_compat("memleak-trace", NEED_TASK_STORAGE | NEED_CALLBACKS, stderr));
	if (!a->skel) {
		bpf_explain("cannot open the BPF object", -errno);
		return -1;
	}
	a->skel->rodata->target_tgid = pid;
	if (a->by_cgroup)
		set_cgroup_filter(a);
	a->skel->rodata->sample_every = a->env.rep.sample_every;
	a->skel->rodata->cs_snapshots = a->env.rep.stack_mode != STACK_FP;
	a->skel->rodata->cs_wake_bytes = SNAP_WAKE_BYTES;
	a->skel->rodata->faults_mode = a->env.faults;
	a->skel->rodata->thp_mode = thp_mode_value(a->env.rep.thp_mode);
	a->skel->rodata->min_size = a->env.min_size;
	a->skel->rodata->interp_walk = !a->env.no_interp && interp_walk_supported(stderr);
	a->skel->rodata->module_records = modrec_supported(stderr);
	a->skel->rodata->max_size = a->env.max_size;
	err = bpf_map__set_max_entries(a->skel->maps.events, a->env.ringbuf_mb << 20);
	if (err) {
		bpf_explain("cannot size the ring buffer", err);
		return -1;
	}
	/* Allocator probes load only with --malloc. */
	bpf_object__for_each_program(p, a->skel->obj)
		if (!a->env.malloc && !strncmp(bpf_program__section_name(p), "uprobe", 6))
			bpf_program__set_autoload(p, false);
	if (!a->env.malloc)
		bpf_program__set_autoload(a->skel->progs.alloc_return, false);
	bpf_program__set_autoload(a->skel->progs.on_page_fault, a->env.faults);
	bpf_program__set_autoload(a->skel->progs.exit_madvise, a->env.faults);
	err = memleak__load(a->skel);
	if (err) {
		bpf_explain("cannot load the BPF programs", err);
		return -1;
	}
	a->ps.cs_opts = (struct callsites_opts){ .sites_map = bpf_map__fd(a->skel->maps.cs_sites),
						 .generation = &a->skel->bss->cs_generation,
						 .max_ips = MAX_STACK_DEPTH, .own_sites = true };
	a->ps.interp = interp__new(&(struct interp_opts){
		.procs_map = a->env.no_interp ? -1 : bpf_map__fd(a->skel->maps.interp_procs),
		.stacks_map = bpf_map__fd(a->skel->maps.interp_stacks),
		.lines_map = bpf_map__fd(a->skel->maps.py_lines), .notes = stderr,
		.armed = &a->skel->bss->interp_armed });
	return 0;
}

/* Where the malloc probes went, in one line: an SRE must know whether the
 * process's real allocator is watched (0 B from the wrong one misleads). */
static void say_allocators(struct app *a, pid_t pid)
{
	const char *names = a->env.rep.allocators;
	char *e;

	if (!names) {
		warn_msg("--malloc: no allocator found in pid %d (no library or executable defining "
			 "malloc and free, e.g. a stripped static binary): tracing mappings only", pid);
		return;
	}
	e = term_escape(names);
	fprintf(stderr, "malloc probes on %s (pid %d)\n", e, pid);
	free(e);
}

static int attach(struct app *a, pid_t pid)
{
	struct bpf_program *tps[] = { a->skel->progs.exit_mmap, a->skel->progs.exit_munmap,
				      a->skel->progs.exit_mremap, a->skel->progs.exit_brk,
				      a->skel->progs.on_exec, a->skel->progs.on_proc_exit,
				      a->skel->progs.on_page_fault, a->skel->progs.exit_madvise };
	int ntps = a->env.faults ? 8 : 6;

	if (!tracefs_ensure())
		warn_msg("tracefs is not mounted and cannot be mounted");
	for (int i = 0; i < ntps; i++) {
		a->links[i] = bpf_program__attach(tps[i]);
		if (!a->links[i]) {
			bpf_explain("cannot attach to the syscall tracepoints", -errno);
			return -1;
		}
	}
	if (a->env.malloc) {
		a->mb = (struct malloc_bpf){
			a->skel->progs.malloc_enter, a->skel->progs.calloc_enter,
			a->skel->progs.realloc_enter, a->skel->progs.reallocarray_enter,
			a->skel->progs.posix_memalign_enter, a->skel->progs.memalign_enter,
			a->skel->progs.valloc_enter, a->skel->progs.pvalloc_enter,
			a->skel->progs.free_enter, a->skel->progs.alloc_return,
			bpf_map__fd(a->skel->maps.allocs), bpf_map__fd(a->skel->maps.stack_aggs),
		};
		a->mp = malloc_probes__attach(&a->mb, pid, a->launched ? a->env.cmd[0] : NULL,
					      a->env.common.verbose);
		if (!a->mp)
			return -1;
		a->env.rep.allocators = malloc_probes__names(a->mp);
		say_allocators(a, pid);
		/* Nothing to probe: the mappings mode's report, and its name in
		 * the banner and the JSON, not malloc rows that cannot exist. */
		a->env.rep.malloc_fallback = !a->env.rep.allocators;
		a->env.rep.malloc = !a->env.rep.malloc_fallback;
	}
	a->rb = ring_buffer__new(bpf_map__fd(a->skel->maps.events), on_event, a, NULL);
	if (!a->rb) {
		bpf_explain("cannot create the ring buffer", -errno);
		return -1;
	}
	return 0;
}

/* Test hook: widen the window between the pid check and the attach. */
static void test_delay(void)
{
	const char *d = getenv("MEMLEAK_TEST_ATTACH_DELAY_MS");

	if (d)
		usleep((useconds_t)atoi(d) * 1000);
}

static void announce(struct app *a)
{
	const char *what = a->env.faults ? "page faults (resident growth)" :
			   a->env.rep.malloc ? "mappings and malloc" : "mappings";
	struct mproc *p = a->by_cgroup ? NULL : the_proc(a);
	const char *name = a->launched ? a->env.cmd[0] : p && p->comm ? p->comm : "?";
	char *e = term_escape(p ? name : a->cg.rel);
	struct jw w;

	if (a->env.common.json) {
		jw_init(&w, stdout);
		jw_obj_begin(&w, NULL);
		jw_str(&w, "event", "ready");
		if (p)
			jw_i64(&w, "pid", p->t.pid);
		else
			jw_str(&w, "cgroup", a->cg.rel);
		if (!p)
			jw_u64(&w, "processes", a->ps.n);
		jw_bool(&w, "malloc", a->env.rep.malloc);
		jw_str(&w, "mode", report_mode(&a->env.rep));
		if (a->env.malloc)
			report_jw_allocators(&w, a->env.rep.allocators);
		jw_obj_end(&w);
	}
	if (p && interp__attach(a->ps.interp, p->t.pid) == INTERP_NODE)
		fprintf(stderr, "JavaScript: functions named from V8's frames, with their script "
			"and the line where each starts\n");
	if (p)
		fprintf(stderr, "Tracing %s of pid %d (%s)... Ctrl-C to stop.\n", what, p->t.pid, e);
	else
		fprintf(stderr, "Tracing %s of cgroup %s%s (%zu process%s now)... Ctrl-C to stop.\n",
			what, e, a->cg.v1 ? " (v1 memory)" : "", a->ps.n, a->ps.n == 1 ? "" : "es");
	fflush(stdout);
	free(e);
}

static void cleanup_now(struct app *a)
{
	ring_buffer__free(a->rb);
	malloc_probes__free(a->mp);
	links_destroy(a->links, sizeof(a->links) / sizeof(a->links[0]));
	memleak__destroy(a->skel);
	interp__free(a->ps.interp);
	procset_free(&a->ps);
	cgroup_target_free(&a->cg);
}

/* The detaching child: its output closed so that a reader of ours sees
 * EOF when we exit, and it waits for that exit first: whoever drops the
 * last reference to a probe pays for its release, and that must not be
 * us. The parent-death signal comes after the parent's files are closed. */
static void detacher_wait(pid_t parent)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	struct timespec limit = { .tv_sec = 10 };
	sigset_t set;

	for (int i = 0; fd >= 0 && i < 3; i++)
		dup2(fd, i);
	setsid();
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGUSR2) == 0 && getppid() == parent)
		sigtimedwait(&set, NULL, &limit);
}

/* Releasing a uprobe costs the kernel ~70-120 ms, serialized on a kernel
 * mutex (threads do not help much): --malloc's ~20 took 2-3 s after the
 * final report. A child holding copies of the descriptors releases them
 * once we are gone; our exit only drops references. The probes stay
 * (filtered to the target pid) until the child is done. */
static void cleanup(struct app *a)
{
	pid_t parent = getpid(), pid;

	if (!a->mp) {
		cleanup_now(a);
		return;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid > 0)
		return;
	if (pid == 0)
		detacher_wait(parent);
	cleanup_now(a);
	if (pid == 0)
		_exit(0);
}

/* -c: the cgroup's processes now; later ones appear with their first record. */
static int start_cgroup(struct app *a)
{
	pid_t *pids = NULL;
	int n;

	if (open_and_load(a, 0) || attach(a, 0))
		return -1;
	n = cgroup_pids(a->cg.dir, &pids);
	for (int i = 0; i < n; i++)
		if (pids[i] != getpid() && !procset_find(&a->ps, pids[i]) && proc_exists(pids[i]))
			procset_add(&a->ps, pids[i], true);
	free(pids);
	return 0;
}

static int start_pid(struct app *a)
{
	pid_t pid = a->env.common.pid;

	if (a->env.cmd) {
		int err = launch_start(&a->child, a->env.cmd);

		if (err) {
			char *e = term_escape(a->env.cmd[0]);

			die_msg("cannot run %s: %s", e, strerror(-err));
			free(e);
			return -1;
		}
		a->launched = true;
		pid = a->child.pid;
	} else if (proc_target_check(pid)) {
		return -1;
	}
	test_delay();
	if (open_and_load(a, pid) || attach(a, pid))
		return -1;
	if (!a->launched && !proc_exists(pid)) {
		die_msg("process %d exited before tracing started", pid);
		return -1;
	}
	/* A launched command is read at its exec. */
	procset_add(&a->ps, pid, !a->launched);
	return 0;
}

/* -- CMD that ended on its own: say how, and exit with its status, as
 * strace and time do, so a wrapper script keeps the command's verdict. */
static int command_status(struct app *a)
{
	char how[64], *e = term_escape(a->env.cmd[0]);

	fprintf(stderr, "memleak-trace: %s %s\n", e,
		launch_describe_exit(&a->child, how, sizeof(how)));
	free(e);
	return launch_exit_status(&a->child);
}

/* What this run still needs once attached (privs_settle); the reasons
 * are in docs/sandbox.md. */
static uint64_t caps_to_keep(const struct app *a)
{
	/* Other users' /proc/PID/{maps,mem,root}, their binaries, and the
	 * files they map through /proc/PID/map_files. */
	uint64_t keep = PRIV(CAP_SYS_PTRACE) | PRIV(CAP_DAC_READ_SEARCH) |
			privs_or_admin(CAP_CHECKPOINT_RESTORE);

	if (a->env.malloc) /* uprobes on the libraries of processes to come */
		keep |= privs_or_admin(CAP_BPF) | privs_or_admin(CAP_PERFMON);
	if (a->env.faults) /* pagemap gives page frame numbers only to it */
		keep |= PRIV(CAP_SYS_ADMIN);
	if (a->launched) /* the command may have changed its user */
		keep |= PRIV(CAP_KILL);
	if (a->env.jvm_perfmap) /* jcmd runs as the JVM's user */
		keep |= PRIV(CAP_SETUID) | PRIV(CAP_SETGID);
	if (a->env.rep.pprof_path) /* the profile is written where asked */
		keep |= PRIV(CAP_DAC_OVERRIDE);
	return keep;
}

static int run(struct app *a)
{
	struct loop_opts lo = { .interval_s = a->env.common.interval_s,
				.duration_s = a->env.common.duration_s,
				.on_interval = on_interval, .on_poll = on_poll, .ctx = a };
	enum loop_stop why;
	int err;

	if (a->by_cgroup ? start_cgroup(a) : start_pid(a))
		return 1;
	/* Attached: the worker starts while it may still become nobody, then
	 * the rest goes. */
	symworker__get();
	privs_settle(caps_to_keep(a), a->env.common.verbose);
	for (size_t i = 0; i < a->ps.n; i++)
		a->ps.v[i]->t.t0_ns = mono_ns();
	/* A command is announced once its exec worked: before, it is us. */
	if (a->launched && (err = launch_release(&a->child))) {
		char *e = term_escape(a->env.cmd[0]);

		die_msg("cannot run %s: %s", e, strerror(-err));
		free(e);
		launch_exited(&a->child);
		return 1;
	}
	announce(a);
	lo.rb = a->rb;
	if (a->by_cgroup) {
		lo.watch_cgroup_dir = a->cg.dir;
		lo.watch_cgroup_name = a->cg.rel;
	}
	why = loop_run(&lo);
	if (why == LOOP_ERROR)
		warn_msg("polling the ring buffer failed: %s", strerror(errno));
	if (why == LOOP_TARGET_EXIT)
		a->exited = true;
	ring_buffer__consume(a->rb);
	report(a, true);
	return a->launched && a->exited ? command_status(a) : 0;
}

int main(int argc, char **argv)
{
	static struct argp_child children[] = { { &common_argp, 0, NULL, 0 }, {} };
	static struct argp argp = { options, parse_opt, "-p PID | -c CGROUP | -- COMMAND [ARGS...]", doc,
				    children, NULL, NULL };
	static struct app a;
	int status;

	a.env.rep = (struct report_opts){ .top_n = DEFAULT_TOP, .max_frames = DEFAULT_FRAMES,
					  .sample_every = 1 };
	a.env.max_size = UINT64_MAX;
	a.env.ringbuf_mb = DEFAULT_RINGBUF_MB;
	cli_select(CLI_PID | CLI_CGROUP | CLI_INTERVAL | CLI_DURATION);
	if (argp_parse(&argp, argc, argv, ARGP_IN_ORDER | CLI_ARGP_FLAGS, NULL, &a.env))
		return 1;
	a.env.rep.json = a.env.common.json;
	a.env.rep.malloc = a.env.malloc;
	a.env.rep.faults = a.ps.pages = a.env.faults;
	a.env.rep.thp_mode = a.env.faults ? thp_mode_name() : NULL;
	a.ps.dwarf = a.env.rep.stack_mode != STACK_FP;
	a.ps.jvm_perfmap = a.env.jvm_perfmap;
	out_set_json(a.env.common.json, "memleak-trace");
	bpf_log_setup(a.env.common.verbose);
	if (bpf_preflight() || (a.env.faults && faults_preflight()))
		return 1;
	if (a.env.common.cgroup) {
		if (cgroup_resolve(a.env.common.cgroup, &a.cg)) {
			char *e = term_escape(a.env.common.cgroup);

			die_msg("no cgroup '%s' (give a directory under the cgroup mounts, a path "
				"relative to the memory hierarchy, or a container id)", e);
			free(e);
			return 1;
		}
		a.by_cgroup = true;
	}
	if (pprof_check(&a))
		return 1;
	loop_signals_install();
	status = run(&a);
	if (a.launched) {
		if (status && !a.exited)
			launch_abort(&a.child);
		else
			launch_stop(&a.child);
	}
	cleanup(&a);
	return status;
}
