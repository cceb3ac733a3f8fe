/* memdiag's rules. The order in which rules run is the order of priority
 * among findings of the same severity: an OOM kill outranks a limit that is
 * close, which outranks a slope, which outranks a level. */
#define _GNU_SOURCE
#include "memdiag_diag.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "output.h"

static const char *const bucket_names[TB_N] = {
#define TB_NAME(n) #n,
	TREND_BUCKETS(TB_NAME)
#undef TB_NAME
};

const char *trend_bucket_name(enum trend_bucket b)
{
	return b < TB_N ? bucket_names[b] : "?";
}

const char *severity_name(enum severity s)
{
	switch (s) {
	case SEV_CRIT: return "critical";
	case SEV_WARN: return "warning";
	default: return "info";
	}
}

/* ---- trend ---- */

void trend_init(struct trend *tr)
{
	memset(tr, 0, sizeof(*tr));
}

void trend_add(struct trend *tr, double t, const double vals[TB_N])
{
	if (tr->n == 0)
		tr->t0 = t;
	double x = t - tr->t0;
	for (int b = 0; b < TB_N; b++) {
		if (tr->n == 0)
			tr->first[b] = vals[b];
		else if (vals[b] > tr->last[b])
			tr->ups[b]++;
		else if (vals[b] < tr->last[b])
			tr->downs[b]++;
		tr->last[b] = vals[b];
		tr->sy[b] += vals[b];
		tr->sty[b] += x * vals[b];
	}
	tr->st += x;
	tr->stt += x * x;
	tr->n++;
}

double trend_span_s(const struct trend *tr)
{
	/* Samples are evenly spaced, so the last x is 2 * mean(x). */
	return tr->n > 1 ? 2.0 * tr->st / tr->n : 0.0;
}

double trend_per_min(const struct trend *tr, enum trend_bucket b)
{
	double n = tr->n, den = n * tr->stt - tr->st * tr->st;
	if (tr->n < 2 || den <= 0)
		return 0.0;
	return (n * tr->sty[b] - tr->st * tr->sy[b]) / den * 60.0;
}

void trend_values(const struct memstat *ms, const struct working_set *ws,
		  uint64_t swap, uint64_t sock, double v[TB_N])
{
	v[TB_usage] = ws->usage;
	v[TB_working_set] = ws->working_set;
	v[TB_anon] = ms->anon;
	v[TB_active_anon] = ms->active_anon;
	v[TB_inactive_anon] = ms->inactive_anon;
	v[TB_file] = ms->file;
	v[TB_active_file] = ms->active_file;
	v[TB_inactive_file] = ms->inactive_file;
	v[TB_shmem] = ms->shmem;
	v[TB_kernel] = ms->kernel;
	v[TB_sock] = sock;
	v[TB_swap] = swap;
	v[TB_fds] = 0;
}

/* A bucket "grows" when the fitted slope is at least min_rate per minute,
 * it rose in at least two steps (one jump is not a leak) and it almost
 * never shrank. Flat steps are allowed: sampling can be faster than the
 * leak's pace. */
static bool trend_grows(const struct trend *tr, enum trend_bucket b, double min_rate)
{
	if (!tr || tr->n < 3)
		return false;
	return trend_per_min(tr, b) >= min_rate && tr->ups[b] >= 2 && tr->downs[b] * 5 <= tr->n - 1;
}

/* ---- findings ---- */

static struct finding *add(struct diag *d, enum severity sev, const char *code)
{
	if (d->n >= DIAG_MAX_FINDINGS)
		return NULL;
	struct finding *f = &d->f[d->n++];
	memset(f, 0, sizeof(*f));
	f->sev = sev;
	f->code = code;
	return f;
}

static void ev(struct finding *f, const char *name, enum ev_kind kind, double val)
{
	if (f->nev < FINDING_MAX_EV)
		f->ev[f->nev++] = (struct evidence){ name, kind, val };
}

__attribute__((format(printf, 3, 4)))
static void fmt(char *dst, size_t len, const char *fmtstr, ...)
{
	va_list ap;
	va_start(ap, fmtstr);
	vsnprintf(dst, len, fmtstr, ap);
	va_end(ap);
}

/* Human sizes for messages: a few rotating buffers so several can appear
 * in one printf. */
static const char *H(uint64_t b)
{
	static char bufs[8][HUMAN_LEN];
	static int i;
	i = (i + 1) % 8;
	return fmt_bytes(bufs[i], b);
}

/* A rate for people: the trend keeps bytes per minute (the JSON's unit),
 * the text says per second like memleak-trace and sockleak. */
static const char *R(double per_min)
{
	static char bufs[4][HUMAN_LEN + 2];
	static int i;
	char tmp[HUMAN_LEN];
	i = (i + 1) % 4;
	snprintf(bufs[i], sizeof(bufs[i]), "%s/s", fmt_bytes_delta(tmp, i64_saturate(per_min / 60.0)));
	return bufs[i];
}

static const char *T(double seconds)
{
	static char bufs[2][HUMAN_LEN];
	static int i;
	i = (i + 1) % 2;
	return fmt_duration(bufs[i], seconds);
}

struct ctx {
	const struct diag_input *in;
	const struct memstat *ms;
	const struct working_set *ws;
	uint64_t ceiling;           /* limit, or RAM without one */
	const char *ceil_name;      /* "limit" or "RAM" */
	char pid_hint[32];          /* "-p 123" or "-p PID" */
};

static void rule_oom(const struct ctx *c, struct diag *d)
{
	const struct diag_input *in = c->in;
	bool recent = in->have_last_kill && in->last_kill_age_s < DIAG_OOM_RECENT_S;
	bool unknown = in->kill_log_read && !in->have_last_kill;
	char last[160] = "";

	if (!in->have_oom || !in->oom_kills)
		return;
	/* The lifetime counter alone says nothing about now: a cgroup whose
	 * last kill is hours old is history, not an emergency. */
	struct finding *f = add(d, in->have_last_kill && !recent ? SEV_WARN : SEV_CRIT, "oom_kills");
	if (!f)
		return;
	uint64_t k = in->oom_kills;
	if (in->have_last_kill) {
		fmt(f->title, sizeof(f->title), "%llu OOM kill%s, the last %s ago", (unsigned long long)k,
		    k == 1 ? "" : "s", T(in->last_kill_age_s));
		fmt(last, sizeof(last), "; the last one %s ago killed %s (pid %d)%s", T(in->last_kill_age_s),
		    in->last_kill_comm, in->last_kill_pid, recent ? "" : ", none since");
		ev(f, "last_kill_age_seconds", EV_COUNT, in->last_kill_age_s);
		ev(f, "last_kill_pid", EV_COUNT, in->last_kill_pid);
	} else {
		fmt(f->title, sizeof(f->title), "%llu OOM kill%s", (unsigned long long)k, k == 1 ? "" : "s");
		if (unknown)
			fmt(last, sizeof(last), "; when is unknown: the kernel log no longer holds the kill");
	}
	fmt(f->msg, sizeof(f->msg), "%llu process%s OOM-killed %s%s", (unsigned long long)k,
	    k == 1 ? " was" : "es were",
	    in->host ? "on this host since boot (/proc/vmstat oom_kill)"
		     : "in this cgroup (oom_kill counter)", last);
	fmt(f->suggest, sizeof(f->suggest), "oomwatch %s to record the next kill with its full context",
	    in->target ? in->target : "");
	ev(f, "oom_kills", EV_COUNT, k);
}

static void rule_limit(const struct ctx *c, struct diag *d)
{
	const struct working_set *ws = c->ws;
	double p = pct_of(ws->working_set, c->ceiling);
	const struct trend *tr = c->in->trend;
	double rate = tr && tr->n >= 3 ? trend_per_min(tr, TB_working_set) : 0;
	struct finding *f = NULL;

	if (c->in->host) {
		uint64_t avail = c->ceiling > ws->working_set ? c->ceiling - ws->working_set : 0;
		if (avail < DIAG_HOST_EVICTION_BYTES)
			f = add(d, SEV_CRIT, "eviction");
		else if (p >= DIAG_NEAR_LIMIT_PCT)
			f = add(d, SEV_WARN, "near_limit");
		if (!f)
			goto eta;
		fmt(f->title, sizeof(f->title), "working set %.0f%% of RAM", p);
		fmt(f->msg, sizeof(f->msg),
		    "working set %s is %.1f%% of RAM %s: memory.available %s, the kubelet evicts pods below %s",
		    H(ws->working_set), p, H(c->ceiling), H(avail), H(DIAG_HOST_EVICTION_BYTES));
		ev(f, "memory_available_bytes", EV_BYTES, avail);
	} else {
		if (ws->limit == MEM_UNLIMITED)
			goto eta;
		if (p >= DIAG_NEAR_LIMIT_PCT)
			f = add(d, SEV_CRIT, "near_limit");
		else if (p >= DIAG_HIGH_LIMIT_PCT)
			f = add(d, SEV_WARN, "near_limit");
		if (!f)
			goto eta;
		fmt(f->title, sizeof(f->title), "working set %.0f%% of limit", p);
		fmt(f->msg, sizeof(f->msg),
		    "working set %s is %.1f%% of the limit %s: %s left before the OOM killer acts "
		    "(a pod is also evicted when the node runs short)",
		    H(ws->working_set), p, H(ws->limit), H(ws->headroom));
		ev(f, "headroom_bytes", EV_BYTES, ws->headroom);
	}
	ev(f, "working_set_bytes", EV_BYTES, ws->working_set);
	ev(f, "limit_bytes", EV_BYTES, c->ceiling);
	ev(f, "working_set_pct", EV_PCT, p);
eta:
	/* A slope that reaches the ceiling within the hour matters more than
	 * the level. */
	if (rate > 0 && trend_grows(tr, TB_working_set, DIAG_LEAK_MIN_RATE)) {
		uint64_t room = c->ceiling > ws->working_set ? c->ceiling - ws->working_set : 0;
		if (c->in->host)
			room = room > DIAG_HOST_EVICTION_BYTES ? room - DIAG_HOST_EVICTION_BYTES : 0;
		double eta_s = room / rate * 60.0;
		if (eta_s > 3600 || (!c->in->host && ws->limit == MEM_UNLIMITED))
			return;
		f = add(d, SEV_CRIT, "limit_eta");
		if (!f)
			return;
		fmt(f->title, sizeof(f->title), "%s reached in ~%s", c->in->host ? "eviction" : "limit", T(eta_s));
		fmt(f->msg, sizeof(f->msg), "working set grows %s: at this rate the %s is reached in about %s",
		    R(rate), c->in->host ? "eviction threshold" : "limit", T(eta_s));
		ev(f, "working_set_rate_bytes_per_min", EV_RATE, rate);
		ev(f, "room_bytes", EV_BYTES, room);
		ev(f, "eta_seconds", EV_COUNT, eta_s);
	}
}

static void rule_anon(const struct ctx *c, struct diag *d)
{
	const struct memstat *ms = c->ms;
	const struct trend *tr = c->in->trend;
	double p = pct_of(ms->anon, c->ceiling);

	if (trend_grows(tr, TB_anon, DIAG_LEAK_MIN_RATE)) {
		double rate = trend_per_min(tr, TB_anon);
		struct finding *f = add(d, SEV_WARN, "anon_growth");
		if (!f)
			return;
		fmt(f->title, sizeof(f->title), "anon grows %s", R(rate));
		fmt(f->msg, sizeof(f->msg),
		    "anonymous memory grows %s (%s -> %s over %s, up in %d of %d steps): leak suspect; "
		    "anon memory is freed only by the process, never by reclaim of cache",
		    R(rate), H(tr->first[TB_anon]), H(tr->last[TB_anon]), T(trend_span_s(tr)),
		    tr->ups[TB_anon], tr->n - 1);
		if (c->in->grow_pid && !c->in->pid)
			fmt(f->suggest, sizeof(f->suggest), "memleak-trace -p %d (its anon grew most) to find the "
			    "call stacks that allocate without freeing", (int)c->in->grow_pid);
		else
			fmt(f->suggest, sizeof(f->suggest), "memleak-trace %s to find the call stacks that "
			    "allocate without freeing", c->pid_hint);
		ev(f, "anon_rate_bytes_per_min", EV_RATE, rate);
		ev(f, "anon_first_bytes", EV_BYTES, tr->first[TB_anon]);
		ev(f, "anon_bytes", EV_BYTES, ms->anon);
		ev(f, "span_seconds", EV_COUNT, trend_span_s(tr));
	} else if (p >= DIAG_ANON_HIGH_PCT) {
		struct finding *f = add(d, SEV_WARN, "anon_high");
		if (!f)
			return;
		fmt(f->title, sizeof(f->title), "anon %.0f%% of %s", p, c->ceil_name);
		fmt(f->msg, sizeof(f->msg),
		    "anonymous memory (RSS) %s is %.1f%% of %s %s: only the processes can give it back; "
		    "a level is not a leak, a steady slope is (sample with -i)",
		    H(ms->anon), p, c->ceil_name, H(c->ceiling));
		fmt(f->suggest, sizeof(f->suggest), "memdiag %s -i 10 -n 30 for the slope; memleak-trace %s if it grows",
		    c->in->target ? c->in->target : "", c->pid_hint);
		ev(f, "anon_bytes", EV_BYTES, ms->anon);
		ev(f, "limit_bytes", EV_BYTES, c->ceiling);
		ev(f, "anon_pct", EV_PCT, p);
	}
}

/* What inactive_anon means depends on how the kernel ages anonymous pages.
 * Since 5.9 (commit b518154e59aa, "mm/vmscan: protect the workingset on
 * anonymous LRU") a new anonymous page starts on the inactive list and
 * moves to the active one only when reclaim finds it referenced; without
 * swap reclaim never scans anon at all. So the memory fault guide's
 * reading, "inactive_anon = anonymous memory not touched lately", holds
 * only once reclaim has aged the pages (swap and scanning), or with MGLRU,
 * whose inactive lists are the older generations. */
static const char *inactive_anon_meaning(const struct diag_input *in)
{
	if (in->lru == LRU_MGLRU)
		return "with the multi-gen LRU this is the anon in the older generations: not accessed "
		       "since the kernel last aged this cgroup";
	if (in->lru == LRU_CLASSIC)
		return "anonymous memory not referenced since reclaim last looked at it";
	if (!in->swap_usable)
		return "not a sign of idle memory: new anonymous pages start on the inactive list (5.9+) and, "
		       "with no swap, reclaim never ages anonymous pages, so they stay there however often "
		       "they are used";
	if (!in->anon_scanned)
		return "not a sign of idle memory: new anonymous pages start on the inactive list (5.9+) and "
		       "nothing shows reclaim scanning this cgroup, which is what moves the used ones to the active list";
	return "pages reclaim left on the inactive list: not referenced since it last scanned them, "
	       "the first anon to go to swap";
}

static void rule_inactive_anon(const struct ctx *c, struct diag *d)
{
	const struct memstat *ms = c->ms;
	const struct trend *tr = c->in->trend;
	double p = pct_of(ms->inactive_anon, c->ceiling);
	bool grows = trend_grows(tr, TB_inactive_anon, DIAG_LEAK_MIN_RATE);
	char why_shmem[160] = "", growth[96] = "", refaults[128] = "";

	if (!memstat_has(ms, MS_inactive_anon) || (p < DIAG_INACTIVE_ANON_PCT && !grows) ||
	    ms->inactive_anon < (64ULL << 20))
		return;
	/* A level: facts about the LRU, not a fault. Growth is anon_growth's. */
	struct finding *f = add(d, SEV_INFO, "inactive_anon");
	if (!f)
		return;
	/* rss/anon excludes shmem, but shmem pages live on the anon LRU. */
	if (ms->inactive_anon > ms->anon && ms->shmem)
		fmt(why_shmem, sizeof(why_shmem),
		    "; it exceeds rss %s because shmem/tmpfs %s sits on the anon LRU but is counted in cache, not rss",
		    H(ms->anon), H(ms->shmem));
	if (grows)
		fmt(growth, sizeof(growth), " and grows %s", R(trend_per_min(tr, TB_inactive_anon)));
	/* Refaults are what shows anon was pushed out while still needed. */
	if (memstat_has(ms, MS_refault_anon) && ms->refault_anon)
		fmt(refaults, sizeof(refaults), "; %llu anonymous pages came back from swap after eviction "
		    "(workingset_refault_anon): the cgroup is short of memory for them",
		    (unsigned long long)ms->refault_anon);
	fmt(f->title, sizeof(f->title), "inactive_anon %s", H(ms->inactive_anon));
	fmt(f->msg, sizeof(f->msg), "inactive_anon %s (%.1f%% of %s)%s: %s%s%s; drop_caches never frees anon",
	    H(ms->inactive_anon), p, c->ceil_name, growth, inactive_anon_meaning(c->in), refaults, why_shmem);
	if (grows)
		fmt(f->suggest, sizeof(f->suggest), "memleak-trace %s to find the call stacks behind the growth",
		    c->pid_hint);
	else
		fmt(f->suggest, sizeof(f->suggest), "memdiag %s -i 10 -n 30: a leak shows as anon growth, not as a level",
		    c->in->target && c->in->target[0] ? c->in->target : "-c CGROUP");
	ev(f, "inactive_anon_bytes", EV_BYTES, ms->inactive_anon);
	ev(f, "anon_bytes", EV_BYTES, ms->anon);
	ev(f, "shmem_bytes", EV_BYTES, ms->shmem);
	ev(f, "inactive_anon_pct", EV_PCT, p);
	if (memstat_has(ms, MS_refault_anon))
		ev(f, "workingset_refault_anon", EV_COUNT, ms->refault_anon);
	if (grows)
		ev(f, "inactive_anon_rate_bytes_per_min", EV_RATE, trend_per_min(tr, TB_inactive_anon));
}

static void rule_pressure(const struct ctx *c, struct diag *d)
{
	const struct psi *psi = &c->in->psi;
	if (c->in->have_psi) {
		enum severity sev;
		if (psi->have_full && psi->full.avg10 >= DIAG_PSI_FULL_AVG10)
			sev = SEV_CRIT;
		else if (psi->some.avg10 >= DIAG_PSI_SOME_AVG10)
			sev = SEV_WARN;
		else
			goto swap;
		struct finding *f = add(d, sev, "pressure");
		if (!f)
			return;
		fmt(f->title, sizeof(f->title), "memory pressure %.0f%%", psi->some.avg10);
		fmt(f->msg, sizeof(f->msg),
		    "tasks stalled on memory: PSI some avg10 %.1f%%, full avg10 %.1f%% (reclaim or swap-in is "
		    "slowing the workload)", psi->some.avg10, psi->full.avg10);
		ev(f, "psi_some_avg10_pct", EV_PCT, psi->some.avg10);
		ev(f, "psi_full_avg10_pct", EV_PCT, psi->full.avg10);
	}
swap:
	if (c->in->have_swap && c->in->swap) {
		double p = pct_of(c->in->swap, c->ceiling);
		struct finding *f = add(d, p >= 10.0 ? SEV_WARN : SEV_INFO, "swap");
		if (!f)
			return;
		fmt(f->title, sizeof(f->title), "swap %s", H(c->in->swap));
		fmt(f->msg, sizeof(f->msg),
		    "%s of anonymous memory is swapped out (%.1f%% of %s): memory pressure pushed it out; "
		    "touching it again costs major faults", H(c->in->swap), p, c->ceil_name);
		ev(f, "swap_bytes", EV_BYTES, c->in->swap);
		ev(f, "swap_pct", EV_PCT, p);
	}
}

static void rule_sockets(const struct ctx *c, struct diag *d)
{
	if (c->in->have_sock && c->in->sock >= DIAG_SOCK_BYTES) {
		struct finding *f = add(d, SEV_WARN, "socket_memory");
		if (!f)
			return;
		fmt(f->title, sizeof(f->title), "socket buffers %s", H(c->in->sock));
		fmt(f->msg, sizeof(f->msg),
		    "socket buffers hold %s (%s): unread data or connections never closed (CLOSE_WAIT)",
		    H(c->in->sock), c->in->sock_src ? c->in->sock_src : "sock");
		fmt(f->suggest, sizeof(f->suggest), "sockleak %s to find sockets that are opened and never closed",
		    c->in->pid ? c->pid_hint : (c->in->target ? c->in->target : ""));
		ev(f, "sock_bytes", EV_BYTES, c->in->sock);
	}
	int64_t fds = c->in->fd_count;
	uint64_t lim = c->in->fd_limit;
	if (fds >= 0 && (fds >= DIAG_FD_COUNT || (lim && pct_of(fds, lim) >= DIAG_FD_LIMIT_PCT))) {
		struct finding *f = add(d, SEV_WARN, "fd_count");
		if (!f)
			return;
		fmt(f->title, sizeof(f->title), "%lld open fds", (long long)fds);
		if (lim)
			fmt(f->msg, sizeof(f->msg), "%lld open file descriptors, %.0f%% of the limit %llu: "
			    "an fd or socket leak", (long long)fds, pct_of(fds, lim), (unsigned long long)lim);
		else
			fmt(f->msg, sizeof(f->msg), "%lld open file descriptors: an fd or socket leak", (long long)fds);
		fmt(f->suggest, sizeof(f->suggest), "sockleak %s", c->in->pid ? c->pid_hint : c->in->target);
		ev(f, "fd_count", EV_COUNT, fds);
		ev(f, "fd_limit", EV_COUNT, lim);
	}
}

/* Open fds that climb step after step: a leak long before any level
 * threshold, and the time left until RLIMIT_NOFILE makes open(),
 * socket() and accept() fail with EMFILE. */
static void rule_fd_growth(const struct ctx *c, struct diag *d)
{
	const struct trend *tr = c->in->trend;
	uint64_t lim = c->in->fd_limit;
	int64_t fds = c->in->fd_count;
	char eta[128] = "";

	if (fds < 0 || !trend_grows(tr, TB_fds, DIAG_FD_GROWTH_MIN))
		return;
	double per_s = trend_per_min(tr, TB_fds) / 60.0;
	double eta_s = lim > (uint64_t)fds ? (lim - fds) / per_s : 0;
	struct finding *f = add(d, lim && eta_s < DIAG_FD_ETA_CRIT_S ? SEV_CRIT : SEV_WARN, "fd_growth");
	if (!f)
		return;
	if (lim)
		fmt(eta, sizeof(eta), ": at this rate the limit of %llu (RLIMIT_NOFILE) is reached in about %s, "
		    "then open, socket and accept fail with EMFILE", (unsigned long long)lim, T(eta_s));
	fmt(f->title, sizeof(f->title), "open fds grow %+.1f/s", per_s);
	fmt(f->msg, sizeof(f->msg), "open file descriptors grow %+.1f/s (%.0f -> %lld over %s, up in %d of %d "
	    "steps)%s: fds or sockets opened and never closed", per_s, tr->first[TB_fds], (long long)fds,
	    T(trend_span_s(tr)), tr->ups[TB_fds], tr->n - 1, eta);
	fmt(f->suggest, sizeof(f->suggest), "sockleak %s --all-fds to find the call stacks that open them",
	    c->in->pid ? c->pid_hint : c->in->target);
	ev(f, "fd_rate_per_s", EV_REAL, per_s);
	ev(f, "fd_first", EV_COUNT, tr->first[TB_fds]);
	ev(f, "fd_count", EV_COUNT, fds);
	ev(f, "fd_limit", EV_COUNT, lim);
	if (lim)
		ev(f, "eta_seconds", EV_COUNT, eta_s);
	ev(f, "span_seconds", EV_COUNT, trend_span_s(tr));
}

/* The cache rules say what is NOT a problem: usage near the limit made of
 * page cache is reclaimed before any OOM kill. */
static void rule_cache(const struct ctx *c, struct diag *d)
{
	const struct working_set *ws = c->ws;
	const struct memstat *ms = c->ms;
	double upct = pct_of(ws->usage, c->ceiling), wpct = pct_of(ws->working_set, c->ceiling);
	double inact_share = pct_of(ws->inactive_file, ws->usage);

	if (wpct >= DIAG_HIGH_LIMIT_PCT && pct_of(ms->active_file, ws->working_set) >= DIAG_CACHE_SHARE_PCT) {
		struct finding *f = add(d, SEV_INFO, "active_cache");
		if (f) {
			fmt(f->title, sizeof(f->title), "active file cache %s", H(ms->active_file));
			fmt(f->msg, sizeof(f->msg),
			    "active file cache %s counts in the working set (%.0f%% of it): files read or mapped "
			    "over and over (logs, jars, data files); reclaimable only under pressure, at the cost of IO",
			    H(ms->active_file), pct_of(ms->active_file, ws->working_set));
			fmt(f->suggest, sizeof(f->suggest), "cut file IO (log to stdout, smaller reads) or raise the limit");
			ev(f, "active_file_bytes", EV_BYTES, ms->active_file);
			ev(f, "working_set_bytes", EV_BYTES, ws->working_set);
		}
	}
	if (upct >= 50.0 && inact_share >= DIAG_CACHE_SHARE_PCT) {
		struct finding *f = add(d, SEV_INFO, "reclaimable_cache");
		if (!f)
			return;
		fmt(f->title, sizeof(f->title), "%s reclaimable cache", H(ws->inactive_file));
		fmt(f->msg, sizeof(f->msg),
		    "usage %s is %.1f%% of %s, but %s of it (%.0f%%) is inactive page cache that the kernel "
		    "reclaims before any OOM kill: not a leak; the working set is %s (%.1f%%)",
		    H(ws->usage), upct, c->ceil_name, H(ws->inactive_file), inact_share,
		    H(ws->working_set), wpct);
		ev(f, "usage_bytes", EV_BYTES, ws->usage);
		ev(f, "inactive_file_bytes", EV_BYTES, ws->inactive_file);
		ev(f, "working_set_bytes", EV_BYTES, ws->working_set);
		ev(f, "usage_pct", EV_PCT, upct);
		ev(f, "working_set_pct", EV_PCT, wpct);
	}
}

static void sort_findings(struct diag *d)
{
	/* Stable insertion sort: rule order breaks ties. */
	for (int i = 1; i < d->n; i++) {
		struct finding tmp = d->f[i];
		int j = i - 1;
		while (j >= 0 && d->f[j].sev < tmp.sev) {
			d->f[j + 1] = d->f[j];
			j--;
		}
		d->f[j + 1] = tmp;
	}
}

static void make_verdict(const struct ctx *c, struct diag *d)
{
	if (d->n == 0 || d->f[0].sev == SEV_INFO) {
		const char *tail = d->n ? d->f[0].title : "no OOM kills, no pressure";
		/* A level well below the limit says nothing of a slope: a leak at
		 * half the limit looks like a healthy process in one sample. OK
		 * only once samples over time showed no steady growth. */
		if (!c->in->trend) {
			int n = c->in->samples > 1 ? c->in->samples : 1;
			fmt(d->verdict, sizeof(d->verdict),
			    "UNKNOWN: no finding in %d sample%s, growth not measured (-i 10 -n 30 measures it); "
			    "working set %s is %.1f%% of %s %s; %s", n, n == 1 ? "" : "s", H(c->ws->working_set),
			    pct_of(c->ws->working_set, c->ceiling), c->ceil_name, H(c->ceiling), tail);
			return;
		}
		fmt(d->verdict, sizeof(d->verdict), "OK: working set %s is %.1f%% of %s %s, no steady growth over %s; %s",
		    H(c->ws->working_set), pct_of(c->ws->working_set, c->ceiling), c->ceil_name,
		    H(c->ceiling), T(trend_span_s(c->in->trend)), tail);
		return;
	}
	size_t len = 0;
	len += snprintf(d->verdict, sizeof(d->verdict), "%s: ", d->f[0].sev == SEV_CRIT ? "CRITICAL" : "WARNING");
	int shown = 0;
	for (int i = 0; i < d->n && shown < 3 && len < sizeof(d->verdict); i++, shown++)
		len += snprintf(d->verdict + len, sizeof(d->verdict) - len, "%s%s", shown ? "; " : "", d->f[i].title);
	if (d->n > shown && len < sizeof(d->verdict))
		snprintf(d->verdict + len, sizeof(d->verdict) - len, " (+%d more)", d->n - shown);
}

void diagnose(const struct diag_input *in, struct diag *d)
{
	struct ctx c = { .in = in, .ms = in->ms, .ws = in->ws };

	memset(d, 0, sizeof(*d));
	if (in->host || in->ws->limit == MEM_UNLIMITED) {
		c.ceiling = in->ram;
		c.ceil_name = "RAM";
	} else {
		c.ceiling = in->ws->limit;
		c.ceil_name = "the limit";
	}
	pid_t p = in->pid ? in->pid : in->top_anon_pid;
	if (p)
		snprintf(c.pid_hint, sizeof(c.pid_hint), "-p %d", (int)p);
	else
		snprintf(c.pid_hint, sizeof(c.pid_hint), "-p PID");

	rule_oom(&c, d);
	rule_limit(&c, d);
	rule_pressure(&c, d);
	rule_anon(&c, d);
	rule_inactive_anon(&c, d);
	rule_sockets(&c, d);
	rule_fd_growth(&c, d);
	rule_cache(&c, d);
	sort_findings(d);
	make_verdict(&c, d);
}
