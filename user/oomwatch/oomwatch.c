// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* oomwatch: the whole context of every OOM kill, per cgroup. */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "array.h"
#include "bpfutil.h"
#include "cgroup.h"
#include "cli.h"
#include "kfeatures.h"
#include "loop.h"
#include "memcg_state.h"
#include "oom_kmsg.h"
#include "oom_leadup.h"
#include "oom_report.h"
#include "output.h"
#include "procfs.h"
#include "oomwatch.skel.h"

/* How long a kill waits for its "Killed process" line in /dev/kmsg: the
 * kernel prints it right after mark_victim, so this is only slack. */
#define DEFAULT_KMSG_WAIT_S 1.0
/* Victims' cmdlines copied before their kill's event was read, kept for it
 * (a storm's worth; the kernel's SIGKILL comes before mark_victim). */
#define EARLY_CMDLINES 64

struct env {
	struct common_opts common;
	const char *output_dir;
	double leadup_interval, leadup_window, kmsg_wait;
	const char *hook;      /* hidden: force "tp_btf" or "tracepoint" */
	const char *hold;      /* hidden (tests): wait for this file between baselines and attach */
};

struct state {
	struct env *env;
	struct oomwatch *skel;
	struct kmsg *kmsg;
	struct leadup *lu;
	struct cgroup_target target;
	bool have_target;
	const char *mount;     /* memory hierarchy mount */
	int version;           /* 1 or 2 */
	long page_size;
	int out_dirfd;
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

static const char doc[] =
	"Report the whole context of every OOM kill: victim, trigger, the cgroup that hit its "
	"limit, its memory.stat and the lead-up, and the kernel's own report.\n"
	"\n"
	"USAGE: oomwatch [-c CGROUP] [-d SECONDS] [--json] [--output-dir DIR]\n"
	"\n"
	"EXAMPLES:\n"
	"  oomwatch                          # every OOM kill on the host, until Ctrl-C\n"
	"  oomwatch -c /system.slice/x.service   # only kills inside that cgroup subtree\n"
	"  oomwatch --json --output-dir /var/lib/oomwatch   # one JSON file per kill\n"
	"  oomwatch -d 60                    # one minute, then a per-cgroup summary\n";

enum { OPT_OUTDIR = 0x2000, OPT_LEADUP_INT, OPT_LEADUP_WIN, OPT_KMSG_WAIT, OPT_HOOK, OPT_HOLD };

static const struct argp_option options[] = {
	{ "output-dir", OPT_OUTDIR, "DIR", 0, "Also keep one JSON file per kill in DIR", 0 },
	{ "sample-interval", OPT_LEADUP_INT, "SECONDS", 0,
	  "Sample cgroups with a limit every SECONDS for the lead-up (default 1)", 0 },
	{ "leadup-window", OPT_LEADUP_WIN, "SECONDS", 0,
	  "Keep this much lead-up history per cgroup (default 300)", 0 },
	{ "kmsg-wait", OPT_KMSG_WAIT, "SECONDS", 0,
	  "Wait this long for the kernel's report of a kill (default 1)", 0 },
	{ "hook", OPT_HOOK, "KIND", OPTION_HIDDEN, "Force tp_btf or tracepoint", 0 },
	{ "baseline-hold", OPT_HOLD, "FILE", OPTION_HIDDEN,
	  "Between the baselines and attaching, wait until FILE exists", 0 },
	{},
};

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

static void write_kill_file(struct state *s, const struct oom_kill *k)
{
	char name[128];
	FILE *f;
	int fd = -1;

	for (int n = 0; n < 100 && fd < 0; n++) {
		snprintf(name, sizeof(name), n ? "oom-%.0f-%u-%d.json" : "oom-%.0f-%u.json", k->time,
			 k->ev.victim_pid, n);
		fd = openat(s->out_dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
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

/* ---- kills ------------------------------------------------------------ */

static uint64_t vmstat_oom_kill(void)
{
	char *buf = NULL;
	uint64_t v = 0;

	if (proc_read(0, "vmstat", &buf) >= 0)
		kv_u64(buf, "oom_kill", &v);
	free(buf);
	return v;
}

static bool in_target(const struct state *s, const struct oom_event *e)
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
static void classify(struct state *s, struct oom_kill *k)
{
	const struct oom_event *e = &k->ev;
	struct leadup_cg *cg = e->depth && !(e->flags & OOM_F_CHAIN_OF_TRIG) ?
		leadup__lookup(s->lu, e->chain[0].id, k->paths[0]) : NULL;

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
		if (cg)
			cg->seen_kills++;
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
		if (cg)
			cg->counted_twice++;
	}
}

/* Kernel oom_kill counts that no victim we saw explains. */
static uint64_t missed_kills(uint64_t kernel, uint64_t seen, uint64_t counted_twice)
{
	return kernel > seen + counted_twice ? kernel - seen - counted_twice : 0;
}

/* Host kills neither seen in the target nor ignored outside it. */
static uint64_t host_missed(const struct state *s, uint64_t host)
{
	return missed_kills(host, s->seen_real + s->filtered_real, s->counted_twice);
}

static void pending_push(struct state *s, struct oom_kill *k)
{
	ARRAY_GROW(s->pending, s->npending, s->cap_pending, 16);
	s->pending[s->npending++] = k;
}

static int handle_event(void *ctx, void *data, size_t len)
{
	struct state *s = ctx;
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
	oom_kill_collect(k, s->mount, s->version, s->lu);
	for (size_t i = 0; i < EARLY_CMDLINES && i < s->nearly; i++)
		if (oom_kill_set_cmdline(k, &s->early[i])) {
			memset(&s->early[i], 0, sizeof(s->early[i]));
			break;
		}
	pending_push(s, k);
	return 0;
}

static void finish_kill(struct state *s, struct oom_kill *k)
{
	struct leadup_cg *cg = k->ev.depth ?
		leadup__find(s->lu, k->ev.chain[k->limit_level >= 0 ? k->limit_level : 0].id) : NULL;
	struct kernel_report kr;

	if (kmsg_match(s->kmsg, k->ev.victim_pid, &kr))
		oom_kill_set_kernel_report(k, &kr);
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
	if (s->env->common.json)
		oom_kill_json(stdout, k);
	else {
		oom_kill_print(stdout, k);
		fputc('\n', stdout);
	}
	if (s->out_dirfd >= 0)
		write_kill_file(s, k);
}

/* Emit, in order, the kills whose kernel report arrived or waited long
 * enough (all of them when flushing at exit). */
static void drain_pending(struct state *s, bool flush)
{
	uint64_t now = mono_ns(), wait_ns = s->env->kmsg_wait * 1e9;
	size_t done = 0;

	kmsg_poll(s->kmsg);
	while (done < s->npending) {
		struct oom_kill *k = s->pending[done];
		struct kernel_report probe;
		bool seen = kmsg_match(s->kmsg, k->ev.victim_pid, &probe);

		kernel_report_free(&probe);
		if (((!seen && s->kmsg) || oom_kill_awaits_cmdline(k)) && !flush && now - k->ev.ts_ns < wait_ns)
			break;
		finish_kill(s, k);
		oom_kill_free(k);
		done++;
	}
	if (done) /* pending may be NULL, which memmove must not get */
		memmove(s->pending, s->pending + done, (s->npending - done) * sizeof(*s->pending));
	s->npending -= done;
}

static int on_poll(void *ctx)
{
	drain_pending(ctx, false);
	return 0;
}

static int on_interval(void *ctx)
{
	struct state *s = ctx;

	leadup__scan(s->lu);
	return 0;
}

/* ---- summary ------------------------------------------------------------ */

static void summary_plain(struct state *s, double secs)
{
	char d[HUMAN_LEN];
	uint64_t host = vmstat_oom_kill() - s->vm_base;
	struct leadup_cg *cg;
	bool any = false;

	printf("oomwatch: %" PRIu64 " OOM kill%s in %s (%" PRIu64 " exiting-task shortcut%s, %"
	       PRIu64 " group member%s)\n", s->seen_real, s->seen_real == 1 ? "" : "s",
	       fmt_duration(d, secs), s->nshort, s->nshort == 1 ? "" : "s", s->ngroup,
	       s->ngroup == 1 ? "" : "s");
	for (size_t i = 0; (cg = leadup__at(s->lu, i)); i++) {
		uint64_t delta = cg->oom_kill_last - cg->oom_kill_base;

		if (!delta && !cg->seen_kills)
			continue;
		if (!any)
			printf("  %-48s %6s %16s %7s\n", "CGROUP", "KILLS", "KERNEL oom_kill", "MISSED");
		any = true;
		printf("  ");
		print_term(stdout, cg->rel, 48);
		printf(" %6" PRIu64 " %16" PRIu64 " %7" PRIu64 "%s\n", cg->seen_kills, delta,
		       missed_kills(delta, cg->seen_kills, cg->counted_twice),
		       cg->present ? "" : "  (cgroup gone: last count read)");
	}
	printf("  host /proc/vmstat oom_kill: +%" PRIu64 " since start, %" PRIu64 " seen", host,
	       s->seen_real);
	if (s->have_target)
		printf(" (only %s watched; %" PRIu64 " kills elsewhere ignored)", s->target.rel,
		       s->filtered_real);
	if (host_missed(s, host))
		printf(": %" PRIu64 " MISSED", host_missed(s, host));
	else
		printf(": none missed");
	printf("\n  ");
	print_drops(stdout, (const uint64_t *)s->skel->bss->drops, DROP_KINDS);
	if (kmsg_lost(s->kmsg))
		printf("; %" PRIu64 " kernel log records overwritten before read", kmsg_lost(s->kmsg));
	printf("\n");
}

static void summary_json(struct state *s, double secs)
{
	uint64_t host = vmstat_oom_kill() - s->vm_base;
	struct leadup_cg *cg;
	struct jw w;

	jw_init(&w, stdout);
	jw_obj_begin(&w, NULL);
	jw_str(&w, "event", "summary");
	jw_double(&w, "duration_s", secs);
	jw_u64(&w, "kills", s->seen_real);
	jw_u64(&w, "exiting_shortcuts", s->nshort);
	jw_u64(&w, "group_members", s->ngroup);
	jw_u64(&w, "host_oom_kill_since_start", host);
	jw_u64(&w, "host_missed", host_missed(s, host));
	jw_u64(&w, "host_ignored", s->filtered_real);
	jw_u64(&w, "filtered", s->filtered);
	jw_arr_begin(&w, "cgroups");
	for (size_t i = 0; (cg = leadup__at(s->lu, i)); i++) {
		uint64_t delta = cg->oom_kill_last - cg->oom_kill_base;

		if (!delta && !cg->seen_kills)
			continue;
		jw_obj_begin(&w, NULL);
		jw_str(&w, "path", cg->rel);
		jw_u64(&w, "kills", cg->seen_kills);
		jw_u64(&w, "kernel_oom_kill", delta);
		jw_u64(&w, "missed", missed_kills(delta, cg->seen_kills, cg->counted_twice));
		jw_bool(&w, "present", cg->present);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_drops(&w, "drops", (const uint64_t *)s->skel->bss->drops, DROP_KINDS);
	jw_u64(&w, "kmsg_lost", kmsg_lost(s->kmsg));
	jw_obj_end(&w);
}

/* ---- set-up --------------------------------------------------------------- */

static int choose_hook(struct state *s)
{
	static const enum hook_kind prefs[] = { HOOK_TP_BTF, HOOK_TRACEPOINT, HOOK_NONE };
	static const enum hook_kind only_btf[] = { HOOK_TP_BTF, HOOK_NONE };
	static const enum hook_kind only_tp[] = { HOOK_TRACEPOINT, HOOK_NONE };
	const char *h = s->env->hook;
	enum hook_kind k = hook_choose(features_get(), "oom", "mark_victim",
				       !h ? prefs : !strcmp(h, "tp_btf") ? only_btf : only_tp);

	if (k == HOOK_NONE) {
		die_msg("cannot hook oom:mark_victim: neither tp_btf (needs BTF, 5.5+) nor the "
			"classic tracepoint (tracefs events/oom/mark_victim) is available");
		return -1;
	}
	bpf_program__set_autoload(s->skel->progs.mark_victim_btf, k == HOOK_TP_BTF);
	bpf_program__set_autoload(s->skel->progs.mark_victim_tp, k == HOOK_TRACEPOINT);
	/* Without it a victim other than the task at its limit has its
	 * cmdline read from /proc, if it is still there. */
	if (!tracepoint_exists("signal", "signal_deliver"))
		bpf_program__set_autoload(s->skel->progs.victim_signal, false);
	if (!tracepoint_exists("signal", "signal_generate"))
		bpf_program__set_autoload(s->skel->progs.victim_signalled, false);
	if (!tracepoint_exists("sched", "sched_process_exit"))
		bpf_program__set_autoload(s->skel->progs.victim_exit, false);
	if (s->env->common.verbose)
		fprintf(stderr, "oomwatch: hooking oom:mark_victim with %s\n", hook_kind_name(k));
	return 0;
}

static int setup_cgroups(struct state *s)
{
	const struct cgroup_layout *l = cgroup_layout();

	s->version = l->memory_on_v2 ? 2 : 1;
	s->mount = l->memory_on_v2 ? l->v2_mount : l->v1_memory;
	if (!s->mount[0]) {
		die_msg("no memory cgroup hierarchy mounted (v1 memory controller or cgroup2)");
		return -1;
	}
	if (s->env->common.cgroup) {
		if (cgroup_resolve(s->env->common.cgroup, &s->target) < 0) {
			die_msg("cgroup %s: not found in the memory hierarchy (%s)",
				s->env->common.cgroup, s->mount);
			return -1;
		}
		s->have_target = true;
	}
	s->lu = leadup__new(&(struct leadup_opts){
		.mount = s->mount, .version = s->version,
		.subtree = s->have_target ? s->target.dir : NULL,
		.interval_s = s->env->leadup_interval, .window_s = s->env->leadup_window });
	return 0;
}

/* Every oom_kill counter (each cgroup's, the host's) read at one moment,
 * right before attaching: a kill before it is in no baseline delta, a kill
 * between it and attaching is missed in the cgroup's row and the host's
 * line alike, never in one only. */
static void take_baselines(struct state *s)
{
	leadup__scan(s->lu);
	s->vm_base = vmstat_oom_kill();
	if (s->env->hold) {
		fprintf(stderr, "oomwatch: baselines taken, waiting for %s\n", s->env->hold);
		while (access(s->env->hold, F_OK) != 0)
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

static int load_and_attach(struct state *s)
{
	int err;

	s->skel = oomwatch__open();
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

static int run(struct state *s)
{
	struct ring_buffer *rb;
	enum loop_stop why;

	rb = ring_buffer__new(bpf_map__fd(s->skel->maps.events), handle_event, s, NULL);
	if (!rb) {
		bpf_explain("creating the ring buffer", errno);
		return -1;
	}
	s->start_ns = mono_ns();
	out_ready("OOM kills (oom:mark_victim)%s%s... Ctrl-C to end.",
		  s->have_target ? " in " : "", s->have_target ? s->target.rel : "");
	why = loop_run(&(struct loop_opts){
		.rb = rb, .interval_s = s->lu ? s->env->leadup_interval : 0,
		.duration_s = s->env->common.duration_s, .poll_ms = 100,
		.watch_cgroup_dir = s->have_target ? s->target.dir : NULL,
		.watch_cgroup_name = s->have_target ? s->target.rel : NULL,
		.on_poll = on_poll, .on_interval = on_interval, .ctx = s });
	/* Whatever is still in flight: the ring buffer, then kmsg's slack. */
	ring_buffer__consume(rb);
	for (int i = 0; i < 10 && s->npending; i++) {
		drain_pending(s, false);
		usleep(100000);
	}
	drain_pending(s, true);
	ring_buffer__free(rb);
	leadup__scan(s->lu);
	if (s->env->common.json)
		summary_json(s, (mono_ns() - s->start_ns) / 1e9);
	else
		summary_plain(s, (mono_ns() - s->start_ns) / 1e9);
	return why == LOOP_ERROR ? -1 : 0;
}

int main(int argc, char **argv)
{
	static struct argp_child children[] = { { &common_argp, 0, "Common options:", 0 }, {} };
	static const struct argp argp = { options, parse_opt, NULL, doc, children, NULL, NULL };
	struct env env = { .leadup_interval = LEADUP_DEFAULT_INTERVAL_S,
			   .leadup_window = LEADUP_DEFAULT_WINDOW_S,
			   .kmsg_wait = DEFAULT_KMSG_WAIT_S };
	struct state s = { .env = &env, .out_dirfd = -1 };
	int ret = 1;

	cli_select(CLI_CGROUP | CLI_DURATION);
	if (argp_parse(&argp, argc, argv, 0, NULL, &env))
		return 1;
	out_set_json(env.common.json, "oomwatch");
	bpf_log_setup(env.common.verbose);
	s.page_size = sysconf(_SC_PAGESIZE);
	if (bpf_preflight("oomwatch") < 0)
		return 1;
	if (env.output_dir && (s.out_dirfd = open_output_dir(env.output_dir)) < 0)
		return 1;
	/* The kernel log from before the baselines on: every kill counted
	 * after them can find its report. */
	s.kmsg = kmsg_open();
	if (!s.kmsg)
		warn_msg("cannot read /dev/kmsg (%s): reports will lack the kernel's own lines",
			 strerror(errno));
	if (setup_cgroups(&s) < 0 || load_and_attach(&s) < 0)
		goto out;
	loop_signals_install();
	ret = run(&s) < 0;
out:
	oomwatch__destroy(s.skel);
	kmsg_free(s.kmsg);
	leadup__free(s.lu);
	if (s.have_target)
		cgroup_target_free(&s.target);
	if (s.out_dirfd >= 0)
		close(s.out_dirfd);
	free(s.pending);
	return ret;
}
