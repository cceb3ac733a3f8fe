// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* sockleak's collector: BPF set-up, the /proc baseline and the snapshot
 * each report reads (sockleak_collect.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "array.h"
#include "bpfutil.h"
#include "cgroup.h"
#include "interpreters.h"
#include "modtab.h"
#include "kfeatures.h"
#include "output.h"
#include "procfs.h"
#include "sockleak.h"
#include "sockleak.skel.h"
#include "sockleak.compat.skel.h"
#include "sockleak_collect.h"
#include "sockleak_leaks.h"
#include "sockleak_fdtab.h"
#include "sockleak_sites.h"

struct sl_collector {
	struct sl_collector_opts o;
	struct cgroup_target cg;
	struct sockleak *skel;
	struct fdtab *tab;
	struct sl_sites *sites;
	struct interp *interp;
	struct ring_buffer *rb;
	struct bpf_link *sk_links[2];  /* --kernel-sockets: create, release */
	struct sl_snapshot snap;
	size_t cap_figures;
};

static bool wants(const struct sl_collector *a, enum sl_need n)
{
	return a->o.needs & n;
}

static int cmp_cw(const void *a, const void *b)
{
	uint64_t x = ((const struct sl_cw *)a)->key, y = ((const struct sl_cw *)b)->key;

	return x < y ? -1 : x > y;
}

struct cw_load {
	struct sl_snapshot *c;
	size_t cap_sk, cap_ino;
};

static void add_closewait(const void *key, const void *val, void *ctx)
{
	struct cw_load *l = ctx;
	struct sl_snapshot *c = l->c;
	const struct cw_info *v = val;

	ARRAY_GROW(c->by_sk, c->ncw, l->cap_sk, 256);
	ARRAY_GROW(c->by_ino, c->ncw, l->cap_ino, 256);
	c->by_sk[c->ncw] = (struct sl_cw){ *(const __u64 *)key, v->ts_ns };
	c->by_ino[c->ncw] = (struct sl_cw){ v->ino, v->ts_ns };
	c->ncw++;
}

static void load_closewait(struct sl_snapshot *c, int cw_map)
{
	struct cw_load l = { .c = c };

	bpf_map_each(cw_map, sizeof(__u64), sizeof(struct cw_info), add_closewait, &l);
	if (!c->ncw) /* the arrays may be NULL, which qsort must not get */
		return;
	qsort(c->by_sk, c->ncw, sizeof(*c->by_sk), cmp_cw);
	qsort(c->by_ino, c->ncw, sizeof(*c->by_ino), cmp_cw);
}

/* When the socket entered CLOSE_WAIT (0: before we started). */
uint64_t sl_cw_since(const struct sl_snapshot *c, const struct fd_info *v)
{
	struct sl_cw key = { .key = v->sk }, *e = NULL;

	if (!c->ncw) /* the arrays may be NULL, which bsearch must not get */
		return 0;
	if (v->sk)
		e = bsearch(&key, c->by_sk, c->ncw, sizeof(key), cmp_cw);
	if (!e && v->ino) {
		key.key = v->ino;
		e = bsearch(&key, c->by_ino, c->ncw, sizeof(key), cmp_cw);
	}
	return e ? e->ts : 0;
}

static int check_target(struct sl_collector *a)
{
	if (a->o.pid && proc_target_check(a->o.pid))
		return -1;
	if (a->o.cgroup) {
		if (cgroup_resolve(a->o.cgroup, &a->cg)) {
			die_msg("no cgroup '%s' (give a path under a cgroup mount, relative to it, "
				"or a container id)", a->o.cgroup);
			return -1;
		}
	}
	return 0;
}

/* The --all-fds programs, and hooks this kernel lacks, stay unloaded. */
static void pick_programs(struct sl_collector *a)
{
	const struct features *f = features_get();
	struct bpf_program *p;

	bpf_object__for_each_program(p, a->skel->obj) {
		const char *sec = bpf_program__section_name(p);
		const char *name = bpf_program__name(p);
		char cat[64], tp[64];

		if (!strncmp(name, "all_", 4) && !a->o.all_fds)
			bpf_program__set_autoload(p, false);
		if (sscanf(sec, "tracepoint/%63[^/]/%63s", cat, tp) == 2 && !tracepoint_exists(cat, tp))
			bpf_program__set_autoload(p, false);
	}
	bpf_program__set_autoload(a->skel->progs.sk_create, a->o.kernel_sockets);
	bpf_program__set_autoload(a->skel->progs.sk_release, a->o.kernel_sockets);
	bpf_program__set_autoload(a->skel->progs.sk_state_btf, a->o.kernel_sockets);
	/* fork: tp_btf where it works, else the raw tracepoint. */
	if (f->tp_btf)
		bpf_program__set_autoload(a->skel->progs.fork_raw, false);
	else
		bpf_program__set_autoload(a->skel->progs.fork_btf, false);
}

/* --kernel-sockets needs cgroup socket programs, socket-local storage, a
 * BTF tracepoint (to see orphans freed) and a cgroup2 mount to attach at. */
static void check_kernel_sockets(struct sl_collector *a)
{
	const struct features *f = features_get();
	const char *missing = NULL;

	if (!a->o.kernel_sockets)
		return;
	if (!cgroup_layout()->v2_mount[0])
		missing = "a cgroup2 mount";
	else if (!f->cgroup_sock)
		missing = "cgroup/sock_create programs";
	else if (!f->sk_storage)
		missing = "socket-local storage (BPF_MAP_TYPE_SK_STORAGE)";
	else if (!f->tp_btf)
		missing = "BTF tracepoints (tp_btf)";
	/* bpf_sk_storage_get from tracing programs came in 5.11 with task
	 * storage, which is what is probed (5.10: "unknown func"). */
	else if (!f->task_storage)
		missing = "socket-local storage in BTF tracepoints (Linux 5.11+)";
	if (!missing)
		return;
	warn_msg("--kernel-sockets needs %s, which this host lacks: showing the fd view only", missing);
	a->o.kernel_sockets = false;
}

/* -c: the kernel keeps only the cgroup's processes (and its descendants'):
 * by v1 memory cgroup, or by cgroup2 ancestry at the cgroup's depth. */
static void set_cgroup_filter(struct sl_collector *a)
{
	uint32_t level = 0;

	if (!a->o.cgroup)
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
static int attach_kernel_sockets(struct sl_collector *a)
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

static int open_and_load(struct sl_collector *a)
{
	bool compat = bpf_use_compat("sockleak", NEED_CALLBACKS, stderr);
	int err;

	if (!tracefs_ensure())
		warn_msg("tracefs is not mounted and cannot be mounted");
	if (compat)
		fprintf(stderr, "note: without helper callbacks the fd tables are not walked in the kernel: "
			"fds inherited at a fork or closed by exec or close_range are found at the next /proc "
			"reconcile, and a socket's state at its process's exit is not kept\n");
	a->skel = BPF_SKEL_OPEN(sockleak, compat);
	if (!a->skel) {
		bpf_explain("cannot open the BPF object", -errno);
		return -1;
	}
	a->skel->rodata->targ_tgid = a->o.pid;
	a->skel->rodata->self_tgid = getpid();
	a->skel->rodata->want_stacks = wants(a, SL_NEED_STACKS);
	a->skel->rodata->interp_walk = wants(a, SL_NEED_STACKS) && !a->o.no_interp && interp_walk_supported(stderr);
	a->skel->rodata->cs_snapshots = wants(a, SL_NEED_STACKS) && a->o.stack_mode != STACK_FP;
	/* A server's forks share its call sites (open_sites names them so). */
	a->skel->rodata->cs_share_forks = true;
	a->skel->rodata->module_records = wants(a, SL_NEED_STACKS) && modrec_supported(stderr);
	a->skel->rodata->late_ns = a->o.older_than_s * 1e9 > SL_LATE_MIN_NS
					   ? (uint64_t)(a->o.older_than_s * 1e9) : SL_LATE_MIN_NS;
	a->skel->rodata->late_closes = wants(a, SL_NEED_LEAKS);
	a->skel->rodata->all_fds = a->o.all_fds;
	a->skel->rodata->have_bpf_loop = features_get()->bpf_loop;
	set_cgroup_filter(a);
	check_kernel_sockets(a);
	if (a->o.max_fds)
		bpf_map__set_max_entries(a->skel->maps.fds, a->o.max_fds);
	pick_programs(a);
	err = sockleak__load(a->skel);
	if (err) {
		bpf_explain("cannot load the BPF programs", err);
		return -1;
	}
	return 0;
}

static void on_proc_exit(void *ctx, uint32_t tgid)
{
	struct sl_collector *a = ctx;

	sl_sites__forget_proc(a->sites, tgid);
	interp__forget(a->interp, (pid_t)tgid);
}

/* A process's first call site: if it runs PHP or Python, its next
 * sockets get their interpreter frames (forked workers have them from
 * their first: they inherit the flag in the kernel). */
static int on_site(void *ctx, void *data, size_t size)
{
	struct sl_collector *a = ctx;
	const struct cs_snap_event *e = data;

	if (size >= CS_SNAP_HEAD && e->type == SL_EV_SITE && e->kind == CS_SNAP_NEW)
		interp__attach(a->interp, (pid_t)e->tgid);
	return sl_sites__on_event(a->sites, data, size);
}

/* Processes running an interpreter when the trace starts: the target,
 * the cgroup's, or every one. */
static void attach_interpreters(struct sl_collector *a)
{
	pid_t *pids = NULL;
	int n;

	if (a->o.pid) {
		interp__attach(a->interp, a->o.pid);
		return;
	}
	n = a->o.cgroup ? cgroup_pids(a->cg.dir, &pids) : proc_pids(&pids);
	interp__attach_all(a->interp, pids, n);
	free(pids);
}

/* Call sites are symbolized as they come, while their process lives. */
static int open_sites(struct sl_collector *a)
{
	struct sl_sites_opts so = { .stacks_map = bpf_map__fd(a->skel->maps.stacks),
				    .mode = a->o.stack_mode, .max_frames = a->o.frames,
				    .cs = { .sites_map = bpf_map__fd(a->skel->maps.cs_sites),
					    .generation = &a->skel->bss->cs_generation,
					    .max_ips = 127, .shared_spaces = true },
				    .verify_lost = (const uint64_t *)&a->skel->bss->cs_verify_lost,
				    .jvm_perfmap = a->o.jvm_perfmap };

	a->interp = interp__new(&(struct interp_opts){
		.procs_map = a->o.no_interp || !wants(a, SL_NEED_STACKS)
				     ? -1 : bpf_map__fd(a->skel->maps.interp_procs),
		.stacks_map = bpf_map__fd(a->skel->maps.interp_stacks),
		.lines_map = bpf_map__fd(a->skel->maps.py_lines), .notes = stderr,
		.armed = &a->skel->bss->interp_armed });
	so.interp = a->interp;
	a->sites = sl_sites__new(&so);
	a->rb = ring_buffer__new(bpf_map__fd(a->skel->maps.events), on_site, a, NULL);
	if (!a->rb) {
		bpf_explain("cannot open the ring buffer", -errno);
		return -1;
	}
	return 0;
}

/* What one refresh read; the figures array is kept for the next. */
static void snapshot_clear(struct sl_snapshot *s)
{
	struct sl_proc_figures *procs = s->procs;

	for (size_t i = 0; i < s->nleaks; i++)
		sl_leaks_free(&s->leaks[i]);
	free(s->leaks);
	tcp_table_free(&s->tcp);
	free(s->by_sk);
	free(s->by_ino);
	memset(s, 0, sizeof(*s));
	s->procs = procs;
}

/* CLOSE_WAIT, counted here for every view: the live process's sockets in
 * that state in the host's TCP table; an exited one's held until its end
 * (at its exit, or closed late). */
static uint64_t close_wait_of(const struct fdtab *t, const struct tcp_table *tcp, const struct sl_proc *p)
{
	const struct fd_entry *e;
	uint64_t cw = 0;
	size_t n;

	if (p->exited)
		return p->cw_at_exit + p->late;
	e = fdtab__entries(t, p->tgid, &n);
	for (size_t i = 0; i < n; i++) {
		const struct tcp_row *r = e[i].v.kind == FDK_SOCKET ? tcp_table_find(tcp, e[i].v.ino) : NULL;

		cw += r && r->state == TCP_ST_CLOSE_WAIT;
	}
	return cw;
}

static void read_fd_limits(struct sl_proc_figures *f)
{
	int nfds = proc_fd_count(f->tgid);

	f->fds = nfds >= 0 ? nfds : -1;
	f->nofile = proc_nofile_limit(f->tgid);
}

static void fill_figures(struct sl_collector *c, struct sl_snapshot *s)
{
	struct fdtab *t = c->tab;

	ARRAY_GROW(s->procs, t->nprocs, c->cap_figures, 64); /* room for every process */
	s->nprocs = t->nprocs;
	for (size_t i = 0; i < t->nprocs; i++) {
		struct sl_proc *p = &t->procs[i];
		struct sl_proc_figures *f = &s->procs[i];

		p->close_wait = close_wait_of(t, &s->tcp, p);
		*f = (struct sl_proc_figures){
			.tgid = p->tgid, .comm = p->comm, .cg_v1 = p->cg_v1, .cg_v2 = p->cg_v2,
			.exited = p->exited,
			.created = sl_created(t, p) - sl_created_prev(t, p),
			.closed = (sl_closed(t, p) - sl_closed_prev(t, p)) + (sl_closed_pre(p) - sl_closed_pre_prev(p)),
			.alive = p->alive, .old = p->alive_old, .close_wait = p->close_wait, .fds = -1 };
		if (wants(c, SL_NEED_FD_LIMITS) && !p->exited)
			read_fd_limits(f);
	}
}

/* Attach, then scan /proc, then reconcile: every socket made after the
 * attach is the kernel's (the scan only adds fds the kernel has no entry
 * for), so none is missed or counted twice. Scanning first let a socket
 * closed and its fd reused in between count one close too many on heavy
 * churn. */
static int attach_and_baseline(struct sl_collector *a)
{
	struct fdtab_opts fo = { .fds_map = bpf_map__fd(a->skel->maps.fds),
				 .procs_map = bpf_map__fd(a->skel->maps.procs),
				 .at_exit_map = bpf_map__fd(a->skel->maps.at_exit),
				 .late_map = bpf_map__fd(a->skel->maps.late),
				 .short_cw_map = bpf_map__fd(a->skel->maps.short_cw),
				 .on_exit = on_proc_exit, .exit_ctx = a,
				 .pid = a->o.pid, .all_fds = a->o.all_fds,
				 .cg_rel = a->o.cgroup ? a->cg.rel : NULL, .cg_v1 = a->cg.v1,
				 .kernel_sockets = a->o.kernel_sockets,
				 .older_than_s = a->o.older_than_s };
	int err;

	a->tab = fdtab__new(&fo);
	err = sockleak__attach(a->skel);
	if (!err && a->o.kernel_sockets)
		err = attach_kernel_sockets(a);
	if (err) {
		bpf_explain("cannot attach the BPF programs", err);
		return -1;
	}
	if (fdtab__baseline(a->tab) == -ESRCH) {
		die_msg("process %d exited before tracing started", a->o.pid);
		return -1;
	}
	attach_interpreters(a);
	fdtab__refresh(a->tab);
	a->tab->start_ns = a->tab->now_ns;
	return 0;
}

struct sl_collector *sl_collector_open(const struct sl_collector_opts *o)
{
	struct sl_collector *a = calloc(1, sizeof(*a));

	if (!a)
		abort();
	a->o = *o;
	if (check_target(a) || bpf_preflight() < 0 || open_and_load(a) || open_sites(a) || attach_and_baseline(a)) {
		sl_collector_close(a);
		return NULL;
	}
	a->snap.t = a->tab;
	return a;
}

const struct sl_collector_opts *sl_collector_options(const struct sl_collector *c)
{
	return &c->o;
}

const struct cgroup_target *sl_collector_cgroup(const struct sl_collector *c)
{
	return c->o.cgroup ? &c->cg : NULL;
}

struct ring_buffer *sl_collector_ringbuf(struct sl_collector *c)
{
	return c->rb;
}

int sl_collector_poll(struct sl_collector *c, int timeout_ms)
{
	int n = timeout_ms ? ring_buffer__poll(c->rb, timeout_ms) : ring_buffer__consume(c->rb);

	return n < 0 ? n : 0;
}

/* Every process's leaks, derived once for every view (after the TCP
 * table and the CLOSE_WAIT times they read). */
static void fill_leaks(struct sl_collector *c, struct sl_snapshot *s)
{
	const struct sl_leaks_in in = {
		.t = s->t, .tcp = &s->tcp, .s = s, .sites = c->sites,
		.older_than_s = c->o.older_than_s, .want_sites = wants(c, SL_NEED_LEAK_SITES),
	};

	s->leaks = calloc(s->t->nprocs + 1, sizeof(*s->leaks));
	if (!s->leaks)
		abort();
	for (size_t i = 0; i < s->t->nprocs; i++)
		sl_leaks_fill(&in, &s->t->procs[i], &s->leaks[i]);
	s->nleaks = s->t->nprocs;
}

const struct sl_snapshot *sl_collector_refresh(struct sl_collector *c)
{
	struct sl_snapshot *s = &c->snap;
	struct fdtab *t = c->tab;

	snapshot_clear(s);
	s->t = t;
	fdtab__refresh(t);
	s->elapsed = (t->now_ns - t->start_ns) / 1e9;
	s->reconciled = t->reconciled;
	s->map_full = t->map_full;
	if (tcp_table_load(&s->tcp))
		memset(&s->tcp, 0, sizeof(s->tcp));
	fill_figures(c, s);
	if (wants(c, SL_NEED_SOCKSTAT))
		sockstat_read(&s->ss);
	if (wants(c, SL_NEED_CW_TIMES))
		load_closewait(s, bpf_map__fd(c->skel->maps.closewait));
	if (wants(c, SL_NEED_LEAKS))
		fill_leaks(c, s);
	if (c->sites)
		s->frames_unverified = sl_sites__frames_unverified(c->sites);
	s->filled = c->o.needs & ~(c->sites ? 0u : (unsigned)SL_NEED_LEAK_SITES);
	return s;
}

void sl_collector_want(struct sl_collector *c, unsigned needs)
{
	c->o.needs = (needs & ~(unsigned)SL_NEED_STACKS) | (c->o.needs & SL_NEED_STACKS);
}

const struct sl_leaks *sl_leaks_of(const struct sl_snapshot *s, const struct sl_proc *p)
{
	return &s->leaks[p - s->t->procs];
}

struct sl_sites *sl_collector_sites(struct sl_collector *c)
{
	return c->sites;
}

const uint64_t *sl_collector_drops(const struct sl_collector *c)
{
	return (const uint64_t *)c->skel->bss->drops;
}

void sl_collector_close(struct sl_collector *c)
{
	if (!c)
		return;
	snapshot_clear(&c->snap);
	free(c->snap.procs);
	fdtab__free(c->tab);
	ring_buffer__free(c->rb);
	sl_sites__free(c->sites);
	interp__free(c->interp);
	for (int i = 0; i < 2; i++)
		bpf_link__destroy(c->sk_links[i]);
	sockleak__destroy(c->skel);
	cgroup_target_free(&c->cg);
	free(c);
}
