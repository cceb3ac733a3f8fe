/* memdiag's judgement: the memory fault guide's decision path (RSS high?
 * working set high? cache or anon? OOM kills?) made precise, and the trend
 * of each bucket over repeated samples. Each finding carries the numbers
 * it rests on. */
#ifndef MEMSCOPE_MEMDIAG_DIAG_H
#define MEMSCOPE_MEMDIAG_DIAG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "memstat.h"

/* Buckets followed over time with -i. All are bytes but the last, fds:
 * the open file descriptors of the process or the cgroup, a count that
 * rides on the same slope (the byte views leave it out: TB_BYTES_N). */
#define TREND_BUCKETS(X) \
	X(usage) X(working_set) X(anon) X(active_anon) X(inactive_anon) \
	X(file) X(active_file) X(inactive_file) X(shmem) X(kernel) X(sock) X(swap) X(fds)
enum trend_bucket {
#define TB_ENUM(n) TB_##n,
	TREND_BUCKETS(TB_ENUM)
#undef TB_ENUM
	TB_N
};
#define TB_BYTES_N TB_fds
const char *trend_bucket_name(enum trend_bucket b);

/* Least-squares slope per bucket, kept as running sums so any number of
 * samples costs the same. */
struct trend {
	int n;
	double t0;
	double st, stt;
	double sy[TB_N], sty[TB_N];
	double first[TB_N], last[TB_N];
	int ups[TB_N];          /* steps in which the bucket grew */
	int downs[TB_N];        /* steps in which it shrank */
};
void trend_init(struct trend *tr);
void trend_add(struct trend *tr, double t, const double vals[TB_N]);
/* Bytes per minute; 0 with fewer than two samples. */
double trend_per_min(const struct trend *tr, enum trend_bucket b);
double trend_span_s(const struct trend *tr);
/* Fill vals[] for trend_add from a report's numbers (vals[TB_fds] = 0:
 * the caller sets the fd count when it has one). */
void trend_values(const struct memstat *ms, const struct working_set *ws,
		  uint64_t swap, uint64_t sock, double vals[TB_N]);

enum severity { SEV_INFO, SEV_WARN, SEV_CRIT };
const char *severity_name(enum severity s);

enum ev_kind { EV_BYTES, EV_COUNT, EV_PCT, EV_RATE /* bytes per minute */, EV_REAL /* a fraction: a rate per second */ };
struct evidence {
	const char *name;       /* JSON key: "inactive_anon_bytes" ... */
	enum ev_kind kind;
	double val;
};

#define FINDING_MAX_EV 6
struct finding {
	enum severity sev;
	const char *code;       /* stable id: "oom_kills", "near_limit", ... */
	char title[96];         /* a few words, for the verdict line */
	char msg[384];
	char suggest[200];
	int nev;
	struct evidence ev[FINDING_MAX_EV];
};

#define DIAG_MAX_FINDINGS 16
struct diag {
	int n;
	struct finding f[DIAG_MAX_FINDINGS];   /* most severe first */
	char verdict[320];
};

/* How this kernel sorts anonymous pages into active and inactive. */
enum lru_kind {
	LRU_UNKNOWN,    /* files from another machine (--snapshot) */
	LRU_CLASSIC,    /* before 5.9: new anon pages start active */
	LRU_CLASSIC_59, /* 5.9+: new anon pages start inactive */
	LRU_MGLRU,      /* multi-gen LRU on: inactive = the older generations */
};

struct diag_input {
	bool host;                  /* the whole machine, not a cgroup */
	const struct memstat *ms;
	const struct working_set *ws;
	uint64_t ram;               /* MemTotal: the ceiling when there is no limit */
	bool have_oom;
	uint64_t oom_kills;
	bool kill_log_read;         /* the kernel log was searched for the last kill */
	bool have_last_kill;        /* ... and still holds it */
	double last_kill_age_s;
	const char *last_kill_comm;
	int last_kill_pid;
	enum lru_kind lru;
	bool swap_usable;           /* swap exists: anon can be aged and swapped out */
	bool anon_scanned;          /* reclaim has scanned the cgroup (v2 pgscan > 0) */
	bool have_psi;
	struct psi psi;
	bool have_swap;
	uint64_t swap;
	bool have_sock;
	uint64_t sock;
	const char *sock_src;       /* "sock (memory.stat)", "/proc/net/sockstat" */
	pid_t pid;                  /* target process, 0 none */
	int64_t fd_count;           /* of pid, or summed over the cgroup; -1 unknown */
	uint64_t fd_limit;          /* RLIMIT_NOFILE of pid, 0 unknown */
	pid_t top_anon_pid;         /* biggest anon user in the cgroup, 0 none */
	pid_t grow_pid;             /* the one whose anon grew most while sampling */
	const char *target;         /* "-c /path" or "" for suggestions */
	const struct trend *trend;  /* NULL or fewer than 3 samples: levels only */
	int samples;                /* taken so far: 1 = a single look, growth unknown */
};
void diagnose(const struct diag_input *in, struct diag *d);

/* Thresholds, named so the docs and the tests can cite them. */
#define DIAG_NEAR_LIMIT_PCT      90.0  /* working set / limit: OOM close */
#define DIAG_HIGH_LIMIT_PCT      80.0
#define DIAG_ANON_HIGH_PCT       60.0  /* anon / limit */
#define DIAG_INACTIVE_ANON_PCT   25.0  /* inactive_anon / limit */
#define DIAG_CACHE_SHARE_PCT     25.0  /* inactive_file / usage: reclaimable */
#define DIAG_SOCK_BYTES          (64ULL << 20)
#define DIAG_FD_COUNT            10000
#define DIAG_FD_LIMIT_PCT        80.0
#define DIAG_FD_GROWTH_MIN       30.0  /* fds/min: a steady slope, not a burst */
#define DIAG_FD_ETA_CRIT_S       3600.0 /* RLIMIT_NOFILE reached within the hour */
#define DIAG_PSI_SOME_AVG10      10.0
#define DIAG_PSI_FULL_AVG10       5.0
#define DIAG_HOST_EVICTION_BYTES (100ULL << 20) /* kubelet memory.available<100Mi */
#define DIAG_LEAK_MIN_RATE       (1ULL << 20)   /* bytes/min of anon growth */
#define DIAG_OOM_RECENT_S        3600.0 /* a kill older than this is history */

#endif
