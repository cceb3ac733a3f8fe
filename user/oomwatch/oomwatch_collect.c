// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* oomwatch's collector: the BPF side loaded and attached, kills completed
 * from /proc, the cgroup files, the lead-up and the kernel log, counted
 * against the kernel's oom_kill counters. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "array.h"
#include "bpfutil.h"
#include "cgroup.h"
#include "kfeatures.h"
#include "loop.h"
#include "memcg_state.h"
#include "oom_kmsg.h"
#include "oom_leadup.h"
#include "oom_kill.h"
#include "oomwatch_collect.h"
#include "output.h"
#include "procfs.h"
#include "oomwatch.skel.h"

/* Victims' cmdlines copied before their kill's event was read, kept for it
 * (a storm's worth; the kernel's SIGKILL comes before mark_victim). */
#define EARLY_CMDLINES 64

struct oom_collector {
	struct oom_collector_opts o;
	struct ring_buffer *rb;
	struct oomwatch *skel;
	struct kmsg *kmsg;
	struct leadup *lu;
	struct cgroup_target target;
	bool have_target;
	const char *mount;     /* memory hierarchy mount */
	int version;           /* 1 or 2 */
	long page_size;
	uint64_t vm_base;      /* /proc/vmstat oom_kill at start */
	uint64_t seen_real, seen_all, filtered, nshort, ngroup;
	uint64_t filtered_real;     /* of filtered, kills the kernel counted */
	uint64_t counted_twice; /* see classify() */
	struct oom_kill **pending;
	size_t npending, cap_pending;
	struct oom_kill *prev;  /* last real kill (for group membership), owned by nobody */
	uint32_t prev_trigger;
	uint64_t prev_ts;
	uint64_t start_ns;
	struct memcg_state_map state_map; /* slots of the kernel's memcg counters */
	struct oom_cmdline_event early[EARLY_CMDLINES]; /* cmdlines ahead of their kill */
	size_t nearly;
};

/* ---- kills ------------------------------------------------------------ */

static uint64_t vmstat_oom_kill(void)
{
	uint64_t v = 0;

	host_oom_kill_count(&v);
	return v;
}

static bool in_target(const struct oom_collector *s, const struct oom_event *e)
{
	if (!s->have_target)
		return true;
	for (uint32_t i = 0; i < e->depth && i < OOM_MAX_DEPTH; i++)
		if (e->chain[i].id == s->target.id)
			return true;
	return false;
}

/* Real kill, group member or the exiting-task shortcut. The kernel counts
 * OOM_KILL in the victim's memcg just before mark_victim for a real kill
 * only, so a counter that moved since the last victim we saw there says
 * which; without a memcg, a victim already in do_exit is the shortcut. */
static void classify(struct oom_collector *s, struct oom_kill *k)
{
	const struct oom_event *e = &k->ev;
	struct leadup_cg *cg = e->depth && !(e->flags & OOM_F_CHAIN_OF_TRIG) ?
		leadup__lookup(s->lu, e->chain[0].id, k->paths[0]) : NULL;
	/* Only the victim's pid (the classic tracepoint before 6.9): the
	 * chain is the trigger's, and the kill is counted at the cgroup that
	 * hit its limit, an ancestor of the victim's (its memory.events
	 * oom_kill counts the victims below it too). */
	struct leadup_cg *at = cg;

	if (!at && (e->flags & OOM_F_CHAIN_OF_TRIG) && k->limit_level >= 0 && k->limit_level < OOM_MAX_DEPTH)
		at = leadup__lookup(s->lu, e->chain[k->limit_level].id, k->paths[k->limit_level]);

	if (cg) {
		uint64_t last = cg->ev_oom_kill;

		k->real_kill = e->chain[0].oom_kill_local > last;
		if (e->chain[0].oom_kill_local > last)
			cg->ev_oom_kill = e->chain[0].oom_kill_local;
	} else {
		k->real_kill = !(e->flags & OOM_F_PF_EXITING);
	}
	if (!k->real_kill)
		k->kind = "exiting";
	else if (k->oom_group && s->seen_real && e->trigger_pid == s->prev_trigger &&
		 e->ts_ns - s->prev_ts < 1000000000ull)
		k->kind = "group member";
	else
		k->kind = "selected";
	if (k->real_kill) {
		s->prev_trigger = e->trigger_pid;
		s->prev_ts = e->ts_ns;
		s->seen_real++;
		if (at)
			at->seen_kills++;
	}
	s->nshort += !k->real_kill;
	s->ngroup += !strcmp(k->kind, "group member");
	/* memory.oom.group: the kernel's scan of the group reaches the victim
	 * it selected again and counts OOM_KILL for it a second time
	 * (__oom_kill_process counts before mark_oom_victim, which it then
	 * skips for a marked task), so oom_kill runs one ahead of the
	 * victims. Expected, not missed. */
	if (k->real_kill && k->oom_group && !strcmp(k->kind, "selected")) {
		s->counted_twice++;
		if (at)
			at->counted_twice++;
	}
}

/* Kernel oom_kill counts that no victim we saw explains. */
static uint64_t missed_kills(uint64_t kernel, uint64_t seen, uint64_t counted_twice)
{
	return kernel > seen + counted_twice ? kernel - seen - counted_twice : 0;
}

/* Host kills neither seen in the target nor ignored outside it. */
static uint64_t host_missed(const struct oom_collector *s, uint64_t host)
{
	return missed_kills(host, s->seen_real + s->filtered_real, s->counted_twice);
}

static void pending_push(struct oom_collector *s, struct oom_kill *k)
{
	ARRAY_GROW(s->pending, s->npending, s->cap_pending, 16);
	s->pending[s->npending++] = k;
}

static int handle_event(void *ctx, void *data, size_t len)
{
	struct oom_collector *s = ctx;
	const struct oom_event *e = data;
	struct oom_kill *k;

	if (len >= sizeof(struct oom_cmdline_event) && e->type == OOM_EV_CMDLINE) {
		for (size_t i = 0; i < s->npending; i++)
			if (oom_kill_set_cmdline(s->pending[i], data))
				return 0;
		/* Taken before its kill's event was read: keep for it. */
		s->early[s->nearly++ % EARLY_CMDLINES] = *(const struct oom_cmdline_event *)data;
		return 0;
	}
	if (len < sizeof(*e) || e->type != OOM_EV_MARK_VICTIM)
		return 0;
	if (!in_target(s, e)) {
		s->filtered++;
		/* Outside the target there is no baseline to classify by: the
		 * exiting-task shortcut is the one victim oom_kill skips. */
		s->filtered_real += !(e->flags & OOM_F_PF_EXITING);
		return 0;
	}
	if (!(k = calloc(1, sizeof(*k))))
		abort();
	k->ev = *e;
	k->seq = ++s->seen_all;
	k->time = wall_time() - (mono_ns() - e->ts_ns) / 1e9;
	oom_kill_decode(k, s->page_size, s->version == 1);
	if (e->state_len && e->state_len != s->state_map.len)
		memcg_state_map_build(&s->state_map, e->state_len, memcg_state_kernel_enum, NULL);
	oom_kill_decode_state(k, &s->state_map);
	classify(s, k);
	/* Right away: the victim is being reaped and its cgroup may go. */
	oom_kill_collect(k, s->mount, s->version, s->lu, s->o.needs);
	for (size_t i = 0; i < EARLY_CMDLINES && i < s->nearly; i++)
		if (oom_kill_set_cmdline(k, &s->early[i])) {
			memset(&s->early[i], 0, sizeof(s->early[i]));
			break;
		}
	pending_push(s, k);
	return 0;
}

static void finish_kill(struct oom_collector *s, struct oom_kill *k)
{
	struct leadup_cg *cg = k->ev.depth ?
		leadup__find(s->lu, k->ev.chain[k->limit_level >= 0 ? k->limit_level : 0].id) : NULL;
	struct kernel_report kr;

	if (kmsg_match(s->kmsg, k->ev.victim_pid, &kr)) {
		oom_kill_set_kernel_report(k, &kr);
		k->filled |= OOM_NEED_KMSG;
	}
	if (cg) {
		leadup__refresh_counter(s->lu, cg);
		k->oom_kill_since_start = cg->oom_kill_last - cg->oom_kill_base;
		k->seen_in_cgroup = cg->seen_kills;
	}
	k->host_oom_kill_delta = vmstat_oom_kill() - s->vm_base;
	k->host_seen = s->seen_real;
	k->host_ignored = s->filtered_real;
	k->host_missed = host_missed(s, k->host_oom_kill_delta);
	memcpy(k->drops, s->skel->bss->drops, sizeof(k->drops));
	k->kmsg_lost = kmsg_lost(s->kmsg);
	s->o.on_kill(k, s->o.ctx);
}

/* Emit, in order, the kills whose kernel report arrived or waited long
 * enough (all of them when flushing at exit). */
void oom_collector_drain(struct oom_collector *s, bool flush)
{
	uint64_t now = mono_ns(), wait_ns = s->o.kmsg_wait_s * 1e9;
	size_t done = 0;

	kmsg_poll(s->kmsg);
	while (done < s->npending) {
		struct oom_kill *k = s->pending[done];
		struct kernel_report probe;
		bool seen = kmsg_match(s->kmsg, k->ev.victim_pid, &probe);

		kernel_report_free(&probe);
		bool incomplete = (!seen && s->kmsg) ||
				  (oom_kill_awaits_cmdline(k) && (s->o.needs & OOM_NEED_CMDLINE_HOOKS));

		if (incomplete && !flush && now - k->ev.ts_ns < wait_ns)
			break;
		finish_kill(s, k);
		oom_kill_free(k);
		done++;
	}
	if (done) /* pending may be NULL, which memmove must not get */
		memmove(s->pending, s->pending + done, (s->npending - done) * sizeof(*s->pending));
	s->npending -= done;
}

/* ---- set-up --------------------------------------------------------------- */

static int choose_hook(struct oom_collector *s)
{
	static const enum hook_kind prefs[] = { HOOK_TP_BTF, HOOK_TRACEPOINT, HOOK_NONE };
	static const enum hook_kind only_btf[] = { HOOK_TP_BTF, HOOK_NONE };
	static const enum hook_kind only_tp[] = { HOOK_TRACEPOINT, HOOK_NONE };
	const char *h = s->o.hook;
	enum hook_kind k = hook_choose(features_get(), "oom", "mark_victim",
				       !h ? prefs : !strcmp(h, "tp_btf") ? only_btf : only_tp);

	if (k == HOOK_NONE) {
		die_msg("cannot hook oom:mark_victim: neither tp_btf (needs BTF, 5.5+) nor the "
			"classic tracepoint (tracefs events/oom/mark_victim) is available");
		return -1;
	}
	/* The BTF program reads the victim's task; where the tracepoint hands
	 * over only a pid it would read an int as a pointer and see no kill. */
	if (k == HOOK_TP_BTF && !kernel_tp_arg_is_pointer("mark_victim", 0)) {
		if (h) {
			die_msg("--hook tp_btf: this kernel's oom:mark_victim passes only the victim's pid, not its "
				"task (before Linux 6.9); use --hook tracepoint");
			return -1;
		}
		k = hook_choose(features_get(), "oom", "mark_victim", only_tp);
		if (k == HOOK_NONE) {
			die_msg("cannot hook oom:mark_victim: its tp_btf passes only a pid on this kernel and "
				"the classic tracepoint (tracefs events/oom/mark_victim) is not available");
			return -1;
		}
	}
	bpf_program__set_autoload(s->skel->progs.mark_victim_btf, k == HOOK_TP_BTF);
	bpf_program__set_autoload(s->skel->progs.mark_victim_tp, k == HOOK_TRACEPOINT);
	/* Without it a victim other than the task at its limit has its
	 * cmdline read from /proc, if it is still there. */
	if (!(s->o.needs & OOM_NEED_CMDLINE_HOOKS) || !tracepoint_exists("signal", "signal_deliver"))
		bpf_program__set_autoload(s->skel->progs.victim_signal, false);
	if (!(s->o.needs & OOM_NEED_CMDLINE_HOOKS) || !tracepoint_exists("signal", "signal_generate"))
		bpf_program__set_autoload(s->skel->progs.victim_signalled, false);
	if (!(s->o.needs & OOM_NEED_CMDLINE_HOOKS) || !tracepoint_exists("sched", "sched_process_exit"))
		bpf_program__set_autoload(s->skel->progs.victim_exit, false);
	if (s->o.verbose)
		fprintf(stderr, "oomwatch: hooking oom:mark_victim with %s\n", hook_kind_name(k));
	return 0;
}

static int setup_cgroups(struct oom_collector *s)
{
	const struct cgroup_layout *l = cgroup_layout();

	s->version = l->memory_on_v2 ? 2 : 1;
	s->mount = l->memory_on_v2 ? l->v2_mount : l->v1_memory;
	if (!s->mount[0]) {
		die_msg("no memory cgroup hierarchy mounted (v1 memory controller or cgroup2)");
		return -1;
	}
	if (s->o.cgroup) {
		if (cgroup_resolve(s->o.cgroup, &s->target) < 0) {
			die_msg("cgroup %s: not found in the memory hierarchy (%s)",
				s->o.cgroup, s->mount);
			return -1;
		}
		s->have_target = true;
	}
	s->lu = leadup__new(&(struct leadup_opts){
		.mount = s->mount, .version = s->version,
		.subtree = s->have_target ? s->target.dir : NULL,
		.interval_s = s->o.leadup_interval_s, .window_s = s->o.leadup_window_s });
	return 0;
}

/* Every oom_kill counter (each cgroup's, the host's) read at one moment,
 * right before attaching: a kill before it is in no baseline delta, a kill
 * between it and attaching is missed in the cgroup's row and the host's
 * line alike, never in one only. */
static void take_baselines(struct oom_collector *s)
{
	leadup__scan(s->lu);
	s->vm_base = vmstat_oom_kill();
	/* The kernel log from here on: every kill counted after the baseline
	 * finds its report, and a kill printed before this point is the
	 * history's (--since), never both (the counter moves before the
	 * "Killed process" line is printed). */
	s->kmsg = s->o.needs & OOM_NEED_KMSG ? kmsg_open() : NULL;
	if (!s->kmsg && (s->o.needs & OOM_NEED_KMSG))
		warn_msg("cannot read /dev/kmsg (%s): reports will lack the kernel's own lines",
			 strerror(errno));
	if (s->o.hold) {
		fprintf(stderr, "oomwatch: baselines taken, waiting for %s\n", s->o.hold);
		while (access(s->o.hold, F_OK) != 0)
			usleep(20000);
	}
}

/* nr_node_ids: the highest possible node + 1. */
static unsigned possible_nodes(void)
{
	char *buf = NULL, *p;
	unsigned max = 0;

	if (read_file("/sys/devices/system/node/possible", &buf) >= 0)
		for (p = buf; *p; p++)
			if (*p >= '0' && *p <= '9') {
				unsigned v = strtoul(p, &p, 10);

				max = v > max ? v : max;
				p--;
			}
	free(buf);
	return max + 1;
}

static int load_and_attach(struct oom_collector *s)
{
	int err;

	s->skel = oomwatch__open_opts(bpf_open_opts());
	if (!s->skel) {
		bpf_explain("opening the BPF object", errno);
		return -1;
	}
	if (choose_hook(s))
		return -1;
	s->skel->rodata->nr_nodes = possible_nodes();
	err = oomwatch__load(s->skel);
	if (err) {
		bpf_explain("loading the BPF programs", err);
		return -1;
	}
	take_baselines(s);
	err = oomwatch__attach(s->skel);
	if (err) {
		bpf_explain("attaching to oom:mark_victim", err);
		return -1;
	}
	return 0;
}

struct oom_collector *oom_collector_open(const struct oom_collector_opts *o)
{
	struct oom_collector *s = calloc(1, sizeof(*s));

	if (!s)
		abort();
	s->o = *o;
	if (!s->o.leadup_interval_s)
		s->o.leadup_interval_s = LEADUP_DEFAULT_INTERVAL_S;
	if (!s->o.leadup_window_s)
		s->o.leadup_window_s = LEADUP_DEFAULT_WINDOW_S;
	s->page_size = sysconf(_SC_PAGESIZE);
	if (setup_cgroups(s) < 0 || load_and_attach(s) < 0)
		goto fail;
	s->rb = ring_buffer__new(bpf_map__fd(s->skel->maps.events), handle_event, s, NULL);
	if (!s->rb) {
		bpf_explain("creating the ring buffer", errno);
		goto fail;
	}
	s->start_ns = mono_ns();
	return s;
fail:
	oom_collector_close(s);
	return NULL;
}

struct ring_buffer *oom_collector_ringbuf(struct oom_collector *s)
{
	return s->rb;
}

int oom_collector_poll(struct oom_collector *s, int timeout_ms)
{
	int n = ring_buffer__poll(s->rb, timeout_ms);

	oom_collector_drain(s, false);
	return n < 0 ? n : 0;
}

void oom_collector_refresh(struct oom_collector *s)
{
	leadup__scan(s->lu);
}

void oom_collector_finish(struct oom_collector *s)
{
	/* Whatever is still in flight: the ring buffer, then kmsg's slack. */
	ring_buffer__consume(s->rb);
	for (int i = 0; i < 10 && s->npending; i++) {
		oom_collector_drain(s, false);
		usleep(100000);
	}
	oom_collector_drain(s, true);
	leadup__scan(s->lu);
}

bool oom_collector_log_cutoff(struct oom_collector *s, uint64_t *seq)
{
	kmsg_poll(s->kmsg);
	return kmsg_first_seq(s->kmsg, seq);
}

const uint64_t *oom_collector_drops(const struct oom_collector *s)
{
	return (const uint64_t *)s->skel->bss->drops;
}

const char *oom_collector_target(const struct oom_collector *s, const char **dir)
{
	if (dir)
		*dir = s->have_target ? s->target.dir : NULL;
	return s->have_target ? s->target.rel : NULL;
}

void oom_collector_summary(struct oom_collector *s, struct oom_summary *sum)
{
	uint64_t host = vmstat_oom_kill() - s->vm_base;
	struct leadup_cg *cg;
	size_t cap = 0;

	memset(sum, 0, sizeof(*sum));
	sum->duration_s = (mono_ns() - s->start_ns) / 1e9;
	sum->kills = s->seen_real;
	sum->exiting_shortcuts = s->nshort;
	sum->group_members = s->ngroup;
	sum->host_oom_kill_since_start = host;
	sum->host_missed = host_missed(s, host);
	sum->host_ignored = s->filtered_real;
	sum->filtered = s->filtered;
	sum->target = oom_collector_target(s, NULL);
	for (size_t i = 0; (cg = leadup__at(s->lu, i)); i++) {
		uint64_t delta = cg->oom_kill_last - cg->oom_kill_base;

		if (!delta && !cg->seen_kills)
			continue;
		ARRAY_GROW(sum->cgroups, sum->ncgroups, cap, 8);
		sum->cgroups[sum->ncgroups++] = (struct oom_cgroup_summary){
			.path = cg->rel, .kills = cg->seen_kills, .kernel_oom_kill = delta,
			.missed = missed_kills(delta, cg->seen_kills, cg->counted_twice),
			.present = cg->present };
	}
	memcpy(sum->drops, s->skel->bss->drops, sizeof(sum->drops));
	sum->kmsg_lost = kmsg_lost(s->kmsg);
}

void oom_collector_close(struct oom_collector *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->npending; i++)
		oom_kill_free(s->pending[i]);
	ring_buffer__free(s->rb);
	oomwatch__destroy(s->skel);
	kmsg_free(s->kmsg);
	leadup__free(s->lu);
	if (s->have_target)
		cgroup_target_free(&s->target);
	free(s->pending);
	free(s);
}
