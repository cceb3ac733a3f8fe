// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bpfutil.h"
#include "cgmetrics.h"
#include "cgroup.h"
#include "kfeatures.h"
#include "oom_report.h"
#include "oomc.h"
#include "oomwatch.skel.h"
#include "output.h"
#include "procfs.h"

/* One (cgroup, victim comm, constraint). */
struct oom_row {
	char *cgroup;
	char comm[TASK_COMM_LEN + 1];
	const char *constraint;
	struct cgm_container ctr;
	uint64_t kills;
	double last;              /* Unix seconds of the last kill */
};

struct oomc {
	struct oomwatch *skel;
	struct ring_buffer *rb;
	bool v1;
	long page_size;
	struct oom_row *rows;
	size_t n, cap, max_rows;
	uint64_t rows_dropped;    /* kills whose row would pass the cap */
	uint64_t drops[DROP_KINDS];
};

static const char *const drop_names[DROP_KINDS] = { "ringbuf_full", "map_full", "stack_failed", "missed" };

static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct oom_row *row_for(struct oomc *c, const char *cg, const char *comm, const char *constraint)
{
	for (size_t i = 0; i < c->n; i++) {
		struct oom_row *r = &c->rows[i];
		if (!strcmp(r->cgroup, cg) && !strcmp(r->comm, comm) && r->constraint == constraint)
			return r;
	}
	if (c->n >= c->max_rows)
		return NULL;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		if (!(c->rows = realloc(c->rows, c->cap * sizeof(*c->rows))))
			abort();
	}
	struct oom_row *r = &c->rows[c->n++];
	memset(r, 0, sizeof(*r));
	if (!(r->cgroup = strdup(cg)))
		abort();
	snprintf(r->comm, sizeof(r->comm), "%s", comm);
	r->constraint = constraint;
	cgm_container_of(cg, &r->ctr);
	return r;
}

static int on_event(void *ctx, void *data, size_t len)
{
	struct oomc *c = ctx;
	const struct oom_event *e = data;
	struct oom_kill *k;
	char comm[TASK_COMM_LEN + 1];

	if (len < sizeof(*e) || e->type != OOM_EV_MARK_VICTIM)
		return 0;
	if (!(k = calloc(1, sizeof(*k))))
		abort();
	k->ev = *e;
	k->time = wall_now() - (mono_ns() - e->ts_ns) / 1e9;
	oom_kill_decode(k, c->page_size, c->v1);
	const char *cg = oom_kill_cgroup(k);
	if (!cg[0])
		cg = "/";
	snprintf(comm, sizeof(comm), "%.*s", TASK_COMM_LEN, e->victim_comm);
	struct oom_row *r = row_for(c, cg, comm, k->constraint);
	if (r) {
		r->kills++;
		r->last = k->time;
	} else {
		c->rows_dropped++;
	}
	/* The journal's line: who, where, why; oomwatch has the rest. */
	char *ecomm = term_escape(comm), *ecg = term_escape(cg), u[HUMAN_LEN], l[HUMAN_LEN];
	int lv = k->limit_level >= 0 ? k->limit_level : 0;
	fprintf(stderr, "memscope-exporter: OOM kill: %s(%u) in %s, constraint %s, usage %s of limit %s%s\n",
		ecomm, e->victim_tgid, ecg, k->constraint,
		fmt_bytes(u, e->chain[lv].usage_pages * c->page_size),
		e->chain[lv].max_pages >= (1ull << 50) ? "none" : fmt_bytes(l, e->chain[lv].max_pages * c->page_size),
		e->flags & OOM_F_PF_EXITING ? " (victim already exiting)" : "");
	free(ecomm);
	free(ecg);
	oom_kill_free(k); /* k too */
	return 0;
}

/* The victim's command line is oomwatch's job (its output directory):
 * the exporter leaves the signal and exit hooks out, so it costs nothing
 * between kills. */
static int pick_programs(struct oomc *c)
{
	static const enum hook_kind prefs[] = { HOOK_TP_BTF, HOOK_TRACEPOINT, HOOK_NONE };
	enum hook_kind k = hook_choose(features_get(), "oom", "mark_victim", prefs);

	if (k == HOOK_NONE) {
		die_msg("cannot hook oom:mark_victim: neither tp_btf (needs BTF, 5.5+) nor the "
			"classic tracepoint (tracefs events/oom/mark_victim) is available");
		return -1;
	}
	bpf_program__set_autoload(c->skel->progs.mark_victim_btf, k == HOOK_TP_BTF);
	bpf_program__set_autoload(c->skel->progs.mark_victim_tp, k == HOOK_TRACEPOINT);
	bpf_program__set_autoload(c->skel->progs.victim_signal, false);
	bpf_program__set_autoload(c->skel->progs.victim_signalled, false);
	bpf_program__set_autoload(c->skel->progs.victim_exit, false);
	return 0;
}

struct oomc *oomc_new(size_t max_series)
{
	struct oomc *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		abort();
	c->v1 = !cgroup_layout()->memory_on_v2;
	c->page_size = sysconf(_SC_PAGESIZE);
	c->max_rows = max_series;
	tracefs_ensure();
	if (!(c->skel = oomwatch__open())) {
		bpf_explain("opening oomwatch's BPF object", -errno);
		goto fail;
	}
	if (pick_programs(c))
		goto fail;
	if ((err = oomwatch__load(c->skel))) {
		bpf_explain("loading oomwatch's BPF programs", err);
		goto fail;
	}
	if ((err = oomwatch__attach(c->skel))) {
		bpf_explain("attaching to oom:mark_victim", err);
		goto fail;
	}
	if (!(c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.events), on_event, c, NULL))) {
		bpf_explain("creating the OOM ring buffer", -errno);
		goto fail;
	}
	return c;
fail:
	oomc_free(c);
	return NULL;
}

struct ring_buffer *oomc_ringbuf(struct oomc *c)
{
	return c->rb;
}

void oomc_losses(const struct oomc *c, const char *const **names, const uint64_t **vals, size_t *n)
{
	struct oomc *m = (struct oomc *)c;
	memcpy(m->drops, (const void *)c->skel->bss->drops, sizeof(m->drops));
	*names = drop_names;
	*vals = m->drops;
	*n = DROP_KINDS;
}

static void labels(const struct oom_row *r, struct expo_label l[5], bool victim)
{
	l[0] = (struct expo_label){ "cgroup", r->cgroup };
	l[1] = (struct expo_label){ "container_id", r->ctr.container_id };
	l[2] = (struct expo_label){ "pod_uid", r->ctr.pod_uid };
	l[3] = (struct expo_label){ "comm", victim ? r->comm : NULL };
	l[4] = (struct expo_label){ "constraint", victim ? r->constraint : NULL };
}

void oomc_write(struct oomc *c, struct expo *e)
{
	struct expo_label l[5];

	expo_family(e, "memscope_oom_kills_total", EXPO_COUNTER,
		    "OOM victims seen at oom:mark_victim since the exporter started, by the cgroup that hit its "
		    "limit (the victim's for a global OOM), the victim's command name and the constraint (memcg, "
		    "global, inferred from the cgroup counters). One line per kill in the exporter's journal; "
		    "cmdline, memory.stat at the kill and the lead-up: oomwatch --output-dir (oomwatch.service).");
	for (size_t i = 0; i < c->n; i++) {
		labels(&c->rows[i], l, true);
		expo_u64(e, l, 5, c->rows[i].kills);
	}
	expo_family(e, "memscope_oom_last_kill_timestamp_seconds", EXPO_GAUGE,
		    "When the last victim of this cgroup, command name and constraint was killed, Unix seconds.");
	for (size_t i = 0; i < c->n; i++) {
		labels(&c->rows[i], l, true);
		expo_double(e, l, 5, c->rows[i].last);
	}
	expo_family(e, "memscope_exporter_oom_kills_unlabelled_total", EXPO_COUNTER,
		    "OOM victims counted in no memscope_oom_kills_total series: their (cgroup, comm, constraint) "
		    "would have passed max-series.");
	expo_u64(e, NULL, 0, c->rows_dropped);
}

void oomc_free(struct oomc *c)
{
	if (!c)
		return;
	ring_buffer__free(c->rb);
	oomwatch__destroy(c->skel);
	for (size_t i = 0; i < c->n; i++)
		free(c->rows[i].cgroup);
	free(c->rows);
	free(c);
}
