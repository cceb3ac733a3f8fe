// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* OOM kills read back from the kernel's log: the collector (ring buffer,
 * journal, counters), the pure build of the snapshot, and its printers. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "array.h"
#include "cgroup.h"
#include "oom_history.h"
#include "oom_leadup.h"
#include "oom_report.h"
#include "output.h"
#include "procfs.h"

/* Most export text read from journalctl: a day of kernel lines is far
 * less; past it the rest is left unread and said. */
#define JOURNAL_MAX_BYTES (256u << 20)

/* ---- the build (pure) -------------------------------------------------- */

struct build {
	const struct oom_history_opts *o;
	const struct oom_history_input *in;
	struct oom_history *h;
	size_t cap_kills, cap_cgroups;
	struct kmsg *this_boot;     /* this boot's lines: journal's older part, then the ring */
	struct kmsg *other;         /* the journal's lines of an earlier boot */
	char other_boot[40];
	uint64_t ring_first_usec;
	bool journal_reaches_boot;
	int last_pid;               /* this boot's last victim and its time */
	double last_ts;
};

/* "/a/b" is path or below it ("/" or NULL: everything). */
static bool within(const char *p, const char *path)
{
	size_t l;

	if (!path || !path[0] || !strcmp(path, "/"))
		return true;
	if (!p)
		return false;
	l = strlen(path);
	return !strncmp(p, path, l) && (p[l] == '\0' || p[l] == '/');
}

static struct oom_history_cgroup *tally_cgroup(struct build *b, const char *path)
{
	struct oom_history *h = b->h;

	for (size_t i = 0; i < h->ncgroups; i++)
		if (!strcmp(h->cgroups[i].path, path))
			return &h->cgroups[i];
	ARRAY_GROW(h->cgroups, h->ncgroups, b->cap_cgroups, 8);
	h->cgroups[h->ncgroups] = (struct oom_history_cgroup){ .path = strdup(path) };
	if (!h->cgroups[h->ncgroups].path)
		abort();
	return &h->cgroups[h->ncgroups++];
}

/* One kill read from a log: counted against this boot's counters, kept
 * when it is in the window and the cgroup asked for. */
static void take_kill(struct build *b, struct kernel_report *kr, double time, const char *log,
		      bool this_boot, const char *boot_id)
{
	struct oom_history *h = b->h;
	const char *memcg = kr->task_memcg ? kr->task_memcg : kr->oom_memcg;
	struct oom_history_cgroup *cg = NULL;
	bool live = this_boot && !strcmp(log, "kmsg") && b->o->have_cutoff &&
		    kr->seq >= b->o->cutoff_seq;

	if (this_boot) {
		h->kills_this_boot++;
		if (memcg)
			(cg = tally_cgroup(b, memcg))->in_log++;
	}
	/* memory.oom.group: the group scan reaches the selected victim again
	 * and the kernel prints (and counts) its kill a second time. */
	if (this_boot && kr->victim_pid == b->last_pid && kr->ts - b->last_ts < 1.0) {
		h->printed_twice++;
		kernel_report_free(kr);
		return;
	}
	if (this_boot) {
		b->last_pid = kr->victim_pid;
		b->last_ts = kr->ts;
	}
	if (live) {
		h->left_to_live++;
	} else if (time >= h->window_start &&
		   (within(kr->oom_memcg, b->o->cgroup) || within(kr->task_memcg, b->o->cgroup))) {
		struct oom_past_kill *k;

		ARRAY_GROW(h->kills, h->nkills, b->cap_kills, 16);
		k = &h->kills[h->nkills++];
		*k = (struct oom_past_kill){ .time = time, .log = log, .this_boot = this_boot, .kr = *kr };
		snprintf(k->boot_id, sizeof(k->boot_id), "%s", boot_id);
		memset(kr, 0, sizeof(*kr));
		h->journal_kills += !strcmp(log, "journal");
		if (cg)
			cg->in_window++;
	}
	kernel_report_free(kr);
}

/* Boot ids compare without the dashes of /proc's form. */
static bool same_boot(const char *a, const char *b)
{
	for (;; a++, b++) {
		while (*a == '-')
			a++;
		while (*b == '-')
			b++;
		if (*a != *b)
			return false;
		if (!*a)
			return true;
	}
}

static void journal_rec(const struct journal_kernel_rec *r, void *ctx)
{
	struct build *b = ctx;
	struct kernel_report kr;

	if (same_boot(r->boot_id, b->in->boot_id)) {
		/* This boot: only what the ring no longer holds (journald
		 * stores the kmsg timestamp, so the two meet exactly). */
		if (b->in->nkmsg && r->mono_usec >= b->ring_first_usec)
			return;
		b->h->journal_records++;
		if (!strncmp(r->message, "Linux version ", 14))
			b->journal_reaches_boot = true;
		kmsg_feed_text(b->this_boot, r->mono_usec, r->message);
		if (kmsg_newest_kill(b->this_boot, &kr))
			take_kill(b, &kr, b->h->boot_time + r->mono_usec / 1e6, "journal", true, r->boot_id);
		return;
	}
	b->h->journal_records++;
	if (strcmp(r->boot_id, b->other_boot)) {
		kmsg_free(b->other);
		b->other = kmsg_new();
		snprintf(b->other_boot, sizeof(b->other_boot), "%s", r->boot_id);
	}
	kmsg_feed_text(b->other, r->mono_usec, r->message);
	/* An earlier boot's clock is gone: journald's receipt time, which
	 * follows the kernel's line within its read latency. */
	if (kmsg_newest_kill(b->other, &kr))
		take_kill(b, &kr, r->real_usec / 1e6, "journal", false, r->boot_id);
}

static void build_ring(struct build *b)
{
	struct oom_history *h = b->h;
	struct kmsg_record r;
	struct kernel_report kr;

	h->kmsg_records = b->in->nkmsg;
	if (b->in->nkmsg && kmsg_record_parse(b->in->kmsg[0], &r)) {
		h->ring_first_seq = r.seq;
		h->ring_wrapped = r.seq > 0;
		h->ring_start = h->boot_time + r.usec / 1e6;
		b->ring_first_usec = r.usec;
	}
	if (b->in->journal)
		journal_export_parse(b->in->journal, b->in->journal_len, journal_rec, b);
	for (size_t i = 0; i < b->in->nkmsg; i++) {
		kmsg_feed(b->this_boot, b->in->kmsg[i]);
		if (kmsg_newest_kill(b->this_boot, &kr))
			take_kill(b, &kr, h->boot_time + kr.ts, "kmsg", true, "");
	}
}

void oom_history_build(const struct oom_history_opts *o, const struct oom_history_input *in,
		       struct oom_history *h)
{
	struct build b = { .o = o, .in = in, .h = h, .this_boot = kmsg_new() };

	memset(h, 0, sizeof(*h));
	h->now = in->now_real;
	h->boot_time = in->now_real - in->now_mono;
	h->since_boot = o->since_boot;
	h->window_start = o->since_boot ? h->boot_time : h->now - o->window_s;
	h->kmsg_err = in->kmsg_err;
	h->journal_state = in->journal_state;
	build_ring(&b);
	h->log_from_boot = (!in->kmsg_err && in->nkmsg && !h->ring_wrapped) || b.journal_reaches_boot;
	kmsg_free(b.this_boot);
	kmsg_free(b.other);
}

void oom_history_free(struct oom_history *h)
{
	for (size_t i = 0; i < h->nkills; i++)
		kernel_report_free(&h->kills[i].kr);
	free(h->kills);
	for (size_t i = 0; i < h->ncgroups; i++)
		free(h->cgroups[i].path);
	free(h->cgroups);
	memset(h, 0, sizeof(*h));
}

/* ---- reading ------------------------------------------------------------ */

struct records {
	char **v;
	size_t n, cap;
};

static void keep_record(const char *rec, void *ctx)
{
	struct records *r = ctx;

	ARRAY_GROW(r->v, r->n, r->cap, 256);
	if (!(r->v[r->n++] = strdup(rec)))
		abort();
}

static bool dir_has_entries(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_nlink > 2;
}

/* journalctl's export of kernel lines since `since` (all boots). NULL with
 * *state saying why not. */
static char *run_journalctl(double since, size_t *len, const char **state)
{
	char arg_since[40], *buf = NULL;
	size_t cap = 0;
	int pipefd[2], st;
	pid_t pid;

	*len = 0;
	/* Neither a persistent nor a volatile journal: no journald here. */
	if (!dir_has_entries("/var/log/journal") && !dir_has_entries("/run/log/journal")) {
		*state = "absent";
		return NULL;
	}
	snprintf(arg_since, sizeof(arg_since), "--since=@%.0f", since > 0 ? since - 1 : 0);
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		*state = "failed: pipe";
		return NULL;
	}
	if ((pid = fork()) == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(pipefd[1], 1);
		dup2(null, 0);
		dup2(null, 2);
		execlp("journalctl", "journalctl", "_TRANSPORT=kernel", arg_since, "-o", "export",
		       "--output-fields=MESSAGE,_SOURCE_MONOTONIC_TIMESTAMP,_BOOT_ID", "--no-pager",
		       "-q", (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	if (pid < 0) {
		close(pipefd[0]);
		*state = "failed: fork";
		return NULL;
	}
	for (;;) {
		ssize_t r;

		if (cap - *len < 65536) {
			cap = cap ? cap * 2 : 1 << 20;
			if (!(buf = realloc(buf, cap)))
				abort();
		}
		r = read(pipefd[0], buf + *len, cap - *len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || (*len += r) >= JOURNAL_MAX_BYTES)
			break;
	}
	close(pipefd[0]);
	if (*len >= JOURNAL_MAX_BYTES)
		kill(pid, SIGTERM);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127) {
		*state = "absent (no journalctl)";
		free(buf);
		*len = 0;
		return NULL;
	}
	*state = *len >= JOURNAL_MAX_BYTES ? "read (cut at 256 MiB)" :
		 WIFEXITED(st) && !WEXITSTATUS(st) ? "read" : "failed: journalctl exited with an error";
	return buf;
}

static void read_cgroup_counters(struct oom_history *h)
{
	const struct cgroup_layout *l = cgroup_layout();
	const char *mount = l->memory_on_v2 ? l->v2_mount : l->v1_memory;
	char dir[PATH_MAX];

	for (size_t i = 0; i < h->ncgroups && mount[0]; i++) {
		struct oom_history_cgroup *cg = &h->cgroups[i];

		snprintf(dir, sizeof(dir), "%s%s", mount, strcmp(cg->path, "/") ? cg->path : "");
		cg->have_counter = memcg_oom_kill_local(dir, l->memory_on_v2 ? 2 : 1,
						       &cg->kernel_oom_kill) == 0;
	}
}

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int oom_history_collect(struct oom_history_opts *o, struct oom_history *h)
{
	struct records recs = { 0 };
	struct oom_history_input in = { .journal_state = "not read" };
	char *boot = NULL, *journal = NULL;
	double since;

	in.now_real = clock_s(CLOCK_REALTIME);
	in.now_mono = clock_s(CLOCK_MONOTONIC);
	in.kmsg_err = kmsg_read_all(keep_record, &recs);
	in.kmsg = recs.v;
	in.nkmsg = recs.n;
	if (o->live_cutoff)
		o->have_cutoff = o->live_cutoff(o->live_ctx, &o->cutoff_seq);
	if (read_file("/proc/sys/kernel/random/boot_id", &boot) > 0)
		boot[strcspn(boot, "\n")] = '\0';
	in.boot_id = boot ? boot : "";
	/* From the boot on for this boot's count, from the window for older boots. */
	since = in.now_real - in.now_mono;
	if (!o->since_boot && in.now_real - o->window_s < since)
		since = in.now_real - o->window_s;
	if (o->journal_export) {
		ssize_t n = read_file(o->journal_export, &journal);

		in.journal_state = n >= 0 ? "read" : "failed: cannot read the export file";
		in.journal_len = n > 0 ? (size_t)n : 0;
	} else if (!o->no_journal) {
		journal = run_journalctl(since, &in.journal_len, &in.journal_state);
	}
	in.journal = journal;
	oom_history_build(o, &in, h);
	h->have_host_counter = host_oom_kill_count(&h->host_oom_kill) == 0;
	read_cgroup_counters(h);
	for (size_t i = 0; i < recs.n; i++)
		free(recs.v[i]);
	free(recs.v);
	free(journal);
	free(boot);
	if (in.kmsg_err && !journal) {
		die_msg("cannot read the kernel log: /dev/kmsg: %s%s, and no journal (%s)",
			strerror(-in.kmsg_err), in.kmsg_err == -EPERM ? " (needs CAP_SYSLOG: run as root)" : "",
			in.journal_state);
		return -1;
	}
	return 0;
}

/* ---- text ---------------------------------------------------------------- */

static const char *kill_constraint(const struct oom_past_kill *k)
{
	return kmsg_constraint_name(k->kr.constraint);
}

static void print_past_kill(FILE *f, const struct oom_past_kill *k, bool verbose)
{
	const struct kernel_report *r = &k->kr;
	const char *memcg = r->oom_memcg ? r->oom_memcg : r->task_memcg;
	char t[64], a[HUMAN_LEN], b[HUMAN_LEN], c[HUMAN_LEN], d[HUMAN_LEN], e[HUMAN_LEN];

	fprintf(f, "OOM kill (kernel log): ");
	print_term(f, r->victim_comm ? r->victim_comm : "?", 0);
	fprintf(f, "(%d) in ", r->victim_pid);
	print_term(f, r->task_memcg ? r->task_memcg : "? (not in the log)", 0);
	if (r->have_memcg_line && kill_constraint(k) && !strcmp(kill_constraint(k), "memcg"))
		fprintf(f, " — cgroup limit %s hit, usage %s", fmt_bytes(a, r->memcg_limit_kb * 1024),
			fmt_bytes(b, r->memcg_usage_kb * 1024));
	else if (kill_constraint(k))
		fprintf(f, " — %s OOM", kill_constraint(k));
	fputc('\n', f);
	oom_fmt_time(t, sizeof(t), k->time);
	fprintf(f, OOM_LABEL "%s  (%s%s)\n", "when", t, k->log,
		k->this_boot ? "" : ", an earlier boot");
	fprintf(f, OOM_LABEL "pid %d", "victim", r->victim_pid);
	if (r->have_killed)
		fprintf(f, " uid %ld oom_score_adj %ld", r->uid, r->oom_score_adj);
	fputc('\n', f);
	if (r->have_killed)
		fprintf(f, OOM_LABEL "total-vm %s  anon %s  file %s  shmem %s  page tables %s\n",
			"memory", fmt_bytes(a, r->total_vm_kb * 1024), fmt_bytes(b, r->anon_rss_kb * 1024),
			fmt_bytes(c, r->file_rss_kb * 1024), fmt_bytes(d, r->shmem_rss_kb * 1024),
			fmt_bytes(e, r->pgtables_kb * 1024));
	fprintf(f, OOM_LABEL, "trigger");
	print_term(f, r->trigger_comm ? r->trigger_comm : "? (not in the log)", 0);
	if (r->trigger_pid)
		fprintf(f, "(%d)%s", r->trigger_pid, r->trigger_pid == r->victim_pid ? " (the victim itself)" : "");
	fputc('\n', f);
	fprintf(f, OOM_LABEL "%s", "constraint", kill_constraint(k) ? kill_constraint(k) : "? (not in the log)");
	if (memcg) {
		fprintf(f, "  oom_memcg ");
		print_term(f, r->oom_memcg ? r->oom_memcg : "?", 0);
		fprintf(f, "  task_memcg ");
		print_term(f, r->task_memcg ? r->task_memcg : "?", 0);
	}
	fputc('\n', f);
	kernel_report_print(f, r, verbose);
}

static void print_cgroup_table(FILE *f, const struct oom_history *h)
{
	bool any = false;

	for (size_t i = 0; i < h->ncgroups; i++) {
		const struct oom_history_cgroup *cg = &h->cgroups[i];

		if (!cg->in_window)
			continue;
		if (!any)
			fprintf(f, "  %-48s %9s %13s %16s\n", "CGROUP (victim's)", "IN WINDOW",
				"IN LOG (BOOT)", "KERNEL oom_kill");
		any = true;
		fprintf(f, "  ");
		print_term(f, cg->path, 48);
		fprintf(f, " %9" PRIu64 " %13" PRIu64, cg->in_window, cg->in_log);
		if (cg->have_counter)
			fprintf(f, " %16" PRIu64 "%s\n", cg->kernel_oom_kill,
				cg->kernel_oom_kill > cg->in_log ? "  log holds fewer" : "");
		else
			fprintf(f, " %16s\n", "(cgroup gone)");
	}
}

static void print_coverage(FILE *f, const struct oom_history *h)
{
	char t[64];

	if (h->kmsg_err) {
		fprintf(f, "  kernel ring buffer: not readable (%s)\n", strerror(-h->kmsg_err));
	} else {
		oom_fmt_time(t, sizeof(t), h->ring_start);
		fprintf(f, "  kernel ring buffer: %zu records from %s%s\n", h->kmsg_records, t,
			h->ring_wrapped ? " (it wrapped: older records are overwritten)" : " (the boot)");
		if (h->ring_wrapped && h->ring_start > h->window_start && !h->journal_records)
			fprintf(f, "  WARNING: the window starts before the oldest record left: "
				"kills before %s are not in it\n", t);
	}
	fprintf(f, "  journal: %s", h->journal_state);
	if (h->journal_records)
		fprintf(f, ", %" PRIu64 " kernel records not in the ring, %" PRIu64 " kill%s only there",
			h->journal_records, h->journal_kills, h->journal_kills == 1 ? "" : "s");
	fputc('\n', f);
	if (h->have_host_counter) {
		fprintf(f, "  host /proc/vmstat oom_kill: %" PRIu64 " since boot; %" PRIu64
			" in the log read%s", h->host_oom_kill, h->kills_this_boot,
			h->log_from_boot ? " (from the boot on)" : " (it does not reach back to the boot)");
		if (h->host_oom_kill > h->kills_this_boot)
			fprintf(f, ": %" PRIu64 " kill%s not in the log (%s)",
				h->host_oom_kill - h->kills_this_boot,
				h->host_oom_kill - h->kills_this_boot == 1 ? "" : "s",
				h->log_from_boot ? "lines lost" : "ring wrapped or lines lost");
		fputc('\n', f);
	}
	if (h->printed_twice)
		fprintf(f, "  %" PRIu64 " victim%s printed twice by the kernel (memory.oom.group), listed once\n",
			h->printed_twice, h->printed_twice == 1 ? "" : "s");
	if (h->left_to_live)
		fprintf(f, "  %" PRIu64 " kill%s after the live watch began: reported live\n",
			h->left_to_live, h->left_to_live == 1 ? "" : "s");
}

void oom_history_print(FILE *f, const struct oom_history *h, bool verbose)
{
	char t[64], d[HUMAN_LEN];

	oom_fmt_time(t, sizeof(t), h->window_start);
	fprintf(f, "Read from the kernel's log (no live context: no memory.stat at the kill, no "
		"lead-up, no cmdline): OOM kills since %s (%s)\n\n", t,
		h->since_boot ? "boot" : fmt_duration(d, h->now - h->window_start));
	for (size_t i = 0; i < h->nkills; i++) {
		print_past_kill(f, &h->kills[i], verbose);
		fputc('\n', f);
	}
	fprintf(f, "oomwatch: %zu OOM kill%s in the kernel log since %s\n", h->nkills,
		h->nkills == 1 ? "" : "s", t);
	print_cgroup_table(f, h);
	print_coverage(f, h);
	fflush(f);
}

/* ---- JSON ---------------------------------------------------------------- */

/* The victim's line: "Killed process ... total-vm:, anon-rss:, ..." (null
 * each when the line could not be parsed). */
static void json_killed_sizes(struct jw *w, const struct kernel_report *r)
{
	static const char *keys[] = { "uid", "oom_score_adj", "total_vm_bytes", "anon_rss_bytes",
				      "file_rss_bytes", "shmem_rss_bytes", "pgtables_bytes" };
	int64_t v[] = { r->uid, r->oom_score_adj, r->total_vm_kb * 1024, r->anon_rss_kb * 1024,
			r->file_rss_kb * 1024, r->shmem_rss_kb * 1024, r->pgtables_kb * 1024 };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (r->have_killed)
			jw_i64(w, keys[i], v[i]);
		else
			jw_null(w, keys[i]);
}

static void json_past_kill(FILE *f, const struct oom_past_kill *k)
{
	const struct kernel_report *r = &k->kr;
	struct jw w;

	jw_init(&w, f);
	jw_obj_begin(&w, NULL);
	json_kill_head(&w, "kernel_log", k->time);
	jw_str(&w, "log", k->log);
	jw_bool(&w, "this_boot", k->this_boot);
	jw_str(&w, "boot_id", k->boot_id[0] ? k->boot_id : NULL);
	jw_str(&w, "constraint", kill_constraint(k));
	jw_obj_begin(&w, "victim");
	jw_u64(&w, "pid", r->victim_pid);
	jw_str(&w, "comm", r->victim_comm);
	json_killed_sizes(&w, r);
	jw_obj_end(&w);
	jw_obj_begin(&w, "trigger");
	if (r->trigger_pid)
		jw_u64(&w, "pid", r->trigger_pid);
	else
		jw_null(&w, "pid");
	jw_str(&w, "comm", r->trigger_comm);
	jw_obj_end(&w);
	jw_obj_begin(&w, "memcg");
	jw_str(&w, "path", r->oom_memcg);
	jw_str(&w, "victim_path", r->task_memcg);
	if (r->have_memcg_line) {
		jw_u64(&w, "usage_bytes", r->memcg_usage_kb * 1024);
		jw_u64(&w, "limit_bytes", r->memcg_limit_kb * 1024);
		jw_u64(&w, "failcnt", r->memcg_failcnt);
	} else {
		jw_null(&w, "usage_bytes");
		jw_null(&w, "limit_bytes");
		jw_null(&w, "failcnt");
	}
	jw_obj_end(&w);
	json_kernel_report(&w, "kernel_report", r);
	jw_obj_end(&w);
}

static void json_history(FILE *f, const struct oom_history *h)
{
	char t[64];
	struct jw w;

	jw_init(&w, f);
	jw_obj_begin(&w, NULL);
	jw_str(&w, "event", "history");
	jw_str(&w, "source", "kernel_log");
	oom_fmt_time(t, sizeof(t), h->window_start);
	jw_str(&w, "window_start", t);
	jw_u64(&w, "window_start_unix_ms", (uint64_t)(h->window_start * 1000));
	jw_bool(&w, "since_boot", h->since_boot);
	jw_u64(&w, "kills", h->nkills);
	jw_u64(&w, "kills_this_boot_in_log", h->kills_this_boot);
	jw_bool(&w, "log_from_boot", h->log_from_boot);
	if (h->have_host_counter)
		jw_u64(&w, "host_oom_kill_since_boot", h->host_oom_kill);
	else
		jw_null(&w, "host_oom_kill_since_boot");
	jw_u64(&w, "not_in_log", h->have_host_counter && h->host_oom_kill > h->kills_this_boot ?
		   h->host_oom_kill - h->kills_this_boot : 0);
	jw_u64(&w, "left_to_live", h->left_to_live);
	jw_u64(&w, "printed_twice", h->printed_twice);
	jw_obj_begin(&w, "kmsg");
	jw_str(&w, "error", h->kmsg_err ? strerror(-h->kmsg_err) : NULL);
	jw_u64(&w, "records", h->kmsg_records);
	jw_bool(&w, "wrapped", h->ring_wrapped);
	jw_u64(&w, "first_seq", h->ring_first_seq);
	if (h->kmsg_records)
		jw_u64(&w, "start_unix_ms", (uint64_t)(h->ring_start * 1000));
	else
		jw_null(&w, "start_unix_ms");
	jw_obj_end(&w);
	jw_obj_begin(&w, "journal");
	jw_str(&w, "state", h->journal_state);
	jw_u64(&w, "records", h->journal_records);
	jw_u64(&w, "kills", h->journal_kills);
	jw_obj_end(&w);
	jw_arr_begin(&w, "cgroups");
	for (size_t i = 0; i < h->ncgroups; i++) {
		const struct oom_history_cgroup *cg = &h->cgroups[i];

		jw_obj_begin(&w, NULL);
		jw_str(&w, "path", cg->path);
		jw_u64(&w, "kills", cg->in_window);
		jw_u64(&w, "kills_this_boot_in_log", cg->in_log);
		if (cg->have_counter)
			jw_u64(&w, "kernel_oom_kill", cg->kernel_oom_kill);
		else
			jw_null(&w, "kernel_oom_kill");
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_obj_end(&w);
}

void oom_history_json(FILE *f, const struct oom_history *h)
{
	for (size_t i = 0; i < h->nkills; i++)
		json_past_kill(f, &h->kills[i]);
	json_history(f, h);
}
