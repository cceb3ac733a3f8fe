// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/btf.h>
#include "bpfutil.h"
#include "cgmetrics.h"
#include "cgroup.h"
#include "kfeatures.h"
#include "proc_net.h"
#include "procfs.h"
#include "sockc.h"
#include "sockleak_fdtab.h" /* before the skeleton: its structs */
#include "sockleak.skel.h"

/* One (cgroup, comm): counters live as long as the exporter. */
struct sock_row {
	char *cgroup;
	char comm[TASK_COMM_LEN + 1];
	struct cgm_container ctr;
	uint64_t created, closed;        /* since the exporter started */
	uint64_t open, close_wait, old, fds, procs;
	double nofile_ratio;             /* the highest of its processes */
};

struct sockc {
	struct sockc_opts o;
	struct sockleak *skel;
	struct fdtab *tab;
	bool v1;
	struct sock_row *rows;
	size_t n, cap;
	uint64_t rows_dropped;           /* processes in no row: the cap */
	uint64_t drops[DROP_KINDS + 2];
};

static const char *const loss_names[DROP_KINDS + 2] = { "ringbuf_full", "map_full", "stack_failed", "missed",
							"table_full", "corrected_from_proc" };

static struct sock_row *row_for(struct sockc *c, const char *cg, const char *comm)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->rows[i].cgroup, cg) && !strcmp(c->rows[i].comm, comm))
			return &c->rows[i];
	if (c->n >= c->o.max_rows)
		return NULL;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		if (!(c->rows = realloc(c->rows, c->cap * sizeof(*c->rows))))
			abort();
	}
	struct sock_row *r = &c->rows[c->n++];
	memset(r, 0, sizeof(*r));
	if (!(r->cgroup = strdup(cg)))
		abort();
	snprintf(r->comm, sizeof(r->comm), "%s", comm);
	cgm_container_of(cg, &r->ctr);
	return r;
}

/* sockleak's program choice without --all-fds and --kernel-sockets. */
static void pick_programs(struct sockc *c)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, c->skel->obj) {
		const char *sec = bpf_program__section_name(p);
		char cat[64], tp[64];

		if (!strncmp(bpf_program__name(p), "all_", 4))
			bpf_program__set_autoload(p, false);
		if (sscanf(sec, "tracepoint/%63[^/]/%63s", cat, tp) == 2 && !tracepoint_exists(cat, tp))
			bpf_program__set_autoload(p, false);
	}
	bpf_program__set_autoload(c->skel->progs.sk_create, false);
	bpf_program__set_autoload(c->skel->progs.sk_release, false);
	bpf_program__set_autoload(c->skel->progs.sk_state_btf, false);
	if (features_get()->tp_btf)
		bpf_program__set_autoload(c->skel->progs.fork_raw, false);
	else
		bpf_program__set_autoload(c->skel->progs.fork_btf, false);
}

struct sockc *sockc_new(const struct sockc_opts *o)
{
	struct sockc *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		abort();
	c->o = *o;
	c->v1 = !cgroup_layout()->memory_on_v2;
	tracefs_ensure();
	if (!(c->skel = sockleak__open())) {
		bpf_explain("opening sockleak's BPF object", -errno);
		goto fail;
	}
	c->skel->rodata->self_tgid = getpid();
	c->skel->rodata->want_stacks = false;
	c->skel->rodata->stack_snapshots = false;
	c->skel->rodata->late_ns = o->older_than_s * 1e9 > SL_LATE_MIN_NS ? (uint64_t)(o->older_than_s * 1e9)
									  : SL_LATE_MIN_NS;
	c->skel->rodata->have_rdonly_cast = kernel_btf_has("bpf_rdonly_cast", BTF_KIND_FUNC);
	pick_programs(c);
	if ((err = sockleak__load(c->skel))) {
		bpf_explain("loading sockleak's BPF programs", err);
		goto fail;
	}
	struct fdtab_opts fo = {
		.fds_map = bpf_map__fd(c->skel->maps.fds),
		.procs_map = bpf_map__fd(c->skel->maps.procs),
		.at_exit_map = bpf_map__fd(c->skel->maps.at_exit),
		.late_map = bpf_map__fd(c->skel->maps.late),
		.short_cw_map = bpf_map__fd(c->skel->maps.short_cw),
		.older_than_s = o->older_than_s,
	};
	c->tab = fdtab__new(&fo);
	/* Attach, then seed from /proc (sockleak's order: nothing missed or
	 * counted twice). */
	if ((err = sockleak__attach(c->skel))) {
		bpf_explain("attaching sockleak's BPF programs", err);
		goto fail;
	}
	fdtab__baseline(c->tab);
	fdtab__refresh(c->tab);
	c->tab->start_ns = c->tab->now_ns;
	return c;
fail:
	sockc_free(c);
	return NULL;
}

static uint64_t close_wait_of(const struct fdtab *t, const struct tcp_table *tcp, const struct sl_proc *p)
{
	size_t n;
	const struct fd_entry *e = fdtab__entries(t, p->tgid, &n);
	uint64_t cw = 0;

	for (size_t i = 0; i < n; i++) {
		const struct tcp_row *r = e[i].v.kind == FDK_SOCKET ? tcp_table_find(tcp, e[i].v.ino) : NULL;
		cw += r && r->state == TCP_ST_CLOSE_WAIT;
	}
	return cw;
}

void sockc_refresh(struct sockc *c)
{
	struct fdtab *t = c->tab;
	struct tcp_table tcp = { 0 };

	fdtab__refresh(t);
	tcp_table_load(&tcp);
	for (size_t i = 0; i < c->n; i++) {
		struct sock_row *r = &c->rows[i];
		r->open = r->close_wait = r->old = r->fds = r->procs = 0;
		r->nofile_ratio = 0;
	}
	for (size_t i = 0; i < t->nprocs; i++) {
		struct sl_proc *p = &t->procs[i];
		const char *cg = c->v1 ? p->cg_v1 : p->cg_v2;
		struct sock_row *r = row_for(c, cg && cg[0] ? cg : "", p->comm);

		if (!r) {
			c->rows_dropped += !p->exited;
			continue;
		}
		r->created += sl_created(t, p) - sl_created_prev(t, p);
		r->closed += (sl_closed(t, p) - sl_closed_prev(t, p)) + (sl_closed_pre(p) - sl_closed_pre_prev(p));
		if (p->exited)
			continue;
		r->procs++;
		r->open += p->alive;
		r->old += p->alive_old;
		r->close_wait += close_wait_of(t, &tcp, p);
		int nfds = proc_fd_count(p->tgid);
		uint64_t nofile = proc_nofile_limit(p->tgid);
		if (nfds > 0) {
			r->fds += nfds;
			if (nofile && nofile != UINT64_MAX && (double)nfds / nofile > r->nofile_ratio)
				r->nofile_ratio = (double)nfds / nofile;
		}
	}
	tcp_table_free(&tcp);
}

static void row_labels(const struct sock_row *r, struct expo_label l[4])
{
	l[0] = (struct expo_label){ "cgroup", r->cgroup };
	l[1] = (struct expo_label){ "container_id", r->ctr.container_id };
	l[2] = (struct expo_label){ "pod_uid", r->ctr.pod_uid };
	l[3] = (struct expo_label){ "comm", r->comm };
}

enum sock_value { SV_OPEN, SV_CREATED, SV_CLOSED, SV_CW, SV_OLD, SV_FDS, SV_RATIO };

static double sock_value(const struct sock_row *r, enum sock_value v)
{
	switch (v) {
	case SV_OPEN: return r->open;
	case SV_CREATED: return r->created;
	case SV_CLOSED: return r->closed;
	case SV_CW: return r->close_wait;
	case SV_OLD: return r->old;
	case SV_FDS: return r->fds;
	case SV_RATIO: return r->nofile_ratio;
	}
	return 0;
}

void sockc_write(const struct sockc *c, struct expo *e)
{
	static const struct {
		enum sock_value v;
		const char *name;
		enum expo_type type;
		const char *help;
	} fams[] = {
		{ SV_OPEN, "memscope_sockets_open", EXPO_GAUGE,
		  "Socket fds open in the processes of this cgroup with this command name (sockleak's count)." },
		{ SV_CREATED, "memscope_sockets_created_total", EXPO_COUNTER,
		  "Sockets created (socket, accept, dup, inherited at fork) since the exporter started." },
		{ SV_CLOSED, "memscope_sockets_closed_total", EXPO_COUNTER,
		  "Socket fds closed (close, close_range, exec, exit) since the exporter started." },
		{ SV_CW, "memscope_sockets_close_wait", EXPO_GAUGE,
		  "Open sockets in CLOSE_WAIT (the peer closed, the program did not), as ss shows them in the "
		  "exporter's network namespace." },
		{ SV_OLD, "memscope_sockets_older_than_threshold", EXPO_GAUGE,
		  "Open sockets older than the exporter's socket-age threshold "
		  "(memscope_exporter_socket_age_threshold_seconds): leak suspects." },
		{ SV_FDS, "memscope_fds_open", EXPO_GAUGE, "File descriptors of every kind open in these processes." },
		{ SV_RATIO, "memscope_fds_nofile_ratio", EXPO_GAUGE,
		  "The highest open fds / soft RLIMIT_NOFILE among these processes (1 = the next open fails)." },
	};
	struct expo_label l[4];

	for (size_t f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
		expo_family(e, fams[f].name, fams[f].type, fams[f].help);
		for (size_t i = 0; i < c->n; i++) {
			const struct sock_row *r = &c->rows[i];
			/* A gauge of a row whose processes are gone: nothing to say. */
			if (fams[f].type == EXPO_GAUGE && !r->procs)
				continue;
			row_labels(r, l);
			expo_double(e, l, 4, sock_value(r, fams[f].v));
		}
	}
	expo_gauge1(e, "memscope_exporter_socket_age_threshold_seconds",
		    "Sockets open longer than this count in memscope_sockets_older_than_threshold.", c->o.older_than_s);
	expo_family(e, "memscope_exporter_socket_processes_unlabelled", EXPO_GAUGE,
		    "Processes with sockets counted in no series: their (cgroup, comm) would have passed max-series.");
	expo_u64(e, NULL, 0, c->rows_dropped);
}

void sockc_losses(const struct sockc *c, const char *const **names, const uint64_t **vals, size_t *n)
{
	struct sockc *m = (struct sockc *)c;
	memcpy(m->drops, (const void *)c->skel->bss->drops, DROP_KINDS * sizeof(uint64_t));
	m->drops[DROP_KINDS] = c->tab->map_full;
	m->drops[DROP_KINDS + 1] = c->tab->reconciled;
	*names = loss_names;
	*vals = m->drops;
	*n = DROP_KINDS + 2;
}

void sockc_free(struct sockc *c)
{
	if (!c)
		return;
	fdtab__free(c->tab);
	sockleak__destroy(c->skel);
	for (size_t i = 0; i < c->n; i++)
		free(c->rows[i].cgroup);
	free(c->rows);
	free(c);
}
