/* Reading where memory is: cgroup v1 and v2 memory.stat and their usage,
 * limit, events and pressure files, /proc/meminfo, /proc/PID/smaps_rollup
 * and PSI, normalised into one set of buckets, plus the working set as the
 * kubelet and cAdvisor compute it. Pure parsing and arithmetic: usable by
 * any tool (memdiag reports it, oomwatch can snapshot a victim's cgroup). */
#ifndef MEMSCOPE_MEMSTAT_H
#define MEMSCOPE_MEMSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A limit that is not set: the kernel shows "max" (v2) or PAGE_COUNTER_MAX
 * pages (v1: 9223372036854771712 with 4 KiB pages). */
#define MEM_UNLIMITED UINT64_MAX

/* Normalised buckets: name, cgroup v1 memory.stat key (the hierarchical
 * "total_" twin is preferred when present), cgroup v2 key. NULL: that
 * version does not show it in memory.stat. Sizes are bytes; pgfault,
 * pgmajfault and the refault counters are event counts. v1 "rss" and v2
 * "anon" both exclude shmem, which v1 "cache" and v2 "file" include, so
 * anon/file mean the same thing on both. */
#define MEMSTAT_FIELDS(X)                                                   \
	X(anon,               "rss",                       "anon")              \
	X(file,               "cache",                     "file")              \
	X(active_anon,        "active_anon",               "active_anon")       \
	X(inactive_anon,      "inactive_anon",             "inactive_anon")     \
	X(active_file,        "active_file",               "active_file")       \
	X(inactive_file,      "inactive_file",             "inactive_file")     \
	X(unevictable,        "unevictable",               "unevictable")       \
	X(shmem,              "shmem",                     "shmem")             \
	X(file_mapped,        "mapped_file",               "file_mapped")       \
	X(file_dirty,         "dirty",                     "file_dirty")        \
	X(file_writeback,     "writeback",                 "file_writeback")    \
	X(anon_thp,           "rss_huge",                  "anon_thp")          \
	X(file_thp,           NULL,                        "file_thp")          \
	X(shmem_thp,          NULL,                        "shmem_thp")         \
	X(swap,               "swap",                      NULL)                \
	X(swapcached,         "swapcached",                "swapcached")        \
	X(kernel,             NULL,                        "kernel")            \
	X(kernel_stack,       NULL,                        "kernel_stack")      \
	X(pagetables,         NULL,                        "pagetables")        \
	X(percpu,             NULL,                        "percpu")            \
	X(sock,               NULL,                        "sock")              \
	X(vmalloc,            NULL,                        "vmalloc")           \
	X(slab_reclaimable,   NULL,                        "slab_reclaimable")  \
	X(slab_unreclaimable, NULL,                        "slab_unreclaimable") \
	X(hugetlb,            NULL,                        NULL)                \
	X(pgfault,            "pgfault",                   "pgfault")           \
	X(pgmajfault,         "pgmajfault",                "pgmajfault")        \
	X(refault_anon,       "workingset_refault_anon",   "workingset_refault_anon") \
	X(refault_file,       "workingset_refault_file",   "workingset_refault_file") \
	X(hier_limit,         "hierarchical_memory_limit", NULL)                \
	X(hier_memsw_limit,   "hierarchical_memsw_limit",  NULL)

enum memstat_field {
#define MS_ENUM(name, k1, k2) MS_##name,
	MEMSTAT_FIELDS(MS_ENUM)
#undef MS_ENUM
	MS_NFIELDS
};

enum memstat_source { MS_SRC_NONE, MS_SRC_V1, MS_SRC_V2, MS_SRC_MEMINFO };

struct memstat_kv {
	char *key;
	uint64_t val;   /* as written in the file (meminfo: kB) */
};

struct memstat {
	enum memstat_source src;
	uint64_t have;  /* bit (1 << MS_x) set when the source showed field x */
#define MS_MEMBER(name, k1, k2) uint64_t name;
	MEMSTAT_FIELDS(MS_MEMBER)
#undef MS_MEMBER
	struct memstat_kv *raw; /* every line of the file, in order */
	size_t nraw;
};

/* Parse a memory.stat buffer. memstat_parse guesses the version (v1 has
 * "rss"/"cache", v2 has "anon"/"file"). Returns 0, or -EINVAL when the
 * buffer holds no known key. Free with memstat_free. */
int memstat_parse(const char *buf, struct memstat *ms);
int memstat_parse_v1(const char *buf, struct memstat *ms);
int memstat_parse_v2(const char *buf, struct memstat *ms);
void memstat_free(struct memstat *ms);
bool memstat_has(const struct memstat *ms, enum memstat_field f);
uint64_t memstat_get(const struct memstat *ms, enum memstat_field f);
/* Set field f (and mark it present): for sources other than a file. */
void memstat_set(struct memstat *ms, enum memstat_field f, uint64_t v);
const char *memstat_field_name(enum memstat_field f);
/* A raw key as written (e.g. "total_rss", "workingset_nodereclaim"). */
bool memstat_raw(const struct memstat *ms, const char *key, uint64_t *val);

/* /proc/meminfo, in bytes (HugePages_* are page counts). */
struct meminfo {
	uint64_t mem_total, mem_free, mem_available, buffers, cached, swap_cached;
	uint64_t active_anon, inactive_anon, active_file, inactive_file, unevictable, mlocked;
	uint64_t swap_total, swap_free, dirty, writeback, anon_pages, mapped, shmem;
	uint64_t kreclaimable, slab, sreclaimable, sunreclaim, kernel_stack, page_tables;
	uint64_t percpu, vmalloc_used, anon_huge, shmem_huge, file_huge, hugetlb;
	uint64_t hugepages_total, hugepages_free, hugepage_size;
};
int meminfo_parse(const char *buf, struct meminfo *mi);
/* The host's memory as memory.stat buckets: anon = AnonPages, file =
 * Buffers + Cached (page cache with shmem, as a cgroup's "file"), kernel =
 * slab + stacks + page tables + percpu + vmalloc, swap = SwapTotal - SwapFree. */
void meminfo_to_memstat(const struct meminfo *mi, struct memstat *ms);

/* /proc/PID/smaps_rollup, bytes. */
struct smaps_rollup {
	uint64_t rss, pss, pss_anon, pss_file, pss_shmem;
	uint64_t shared_clean, shared_dirty, private_clean, private_dirty;
	uint64_t anonymous, anon_huge, swap, swap_pss, locked;
};
int smaps_rollup_parse(const char *buf, struct smaps_rollup *sr);

/* A PSI file (/proc/pressure/memory, a v2 cgroup's memory.pressure). */
struct psi_line { double avg10, avg60, avg300; uint64_t total_us; };
struct psi {
	bool have_some, have_full;
	struct psi_line some, full;
};
int psi_parse(const char *buf, struct psi *p);

/* The host's oom_kill counter (/proc/vmstat): kills since boot. 0, or
 * -ENOENT where the kernel has none (before 4.13). */
int host_oom_kill_count(uint64_t *val);
/* The host's memory PSI (/proc/pressure/memory). False where the kernel
 * has none (CONFIG_PSI off, psi=0). */
bool host_memory_psi(struct psi *p);

/* OOM history: v1 memory.oom_control (oom_kill, under_oom) or v2
 * memory.events (oom, oom_kill, max, high). */
struct mem_events {
	bool have;
	uint64_t oom, oom_kill, max, high, under_oom;
};
int mem_events_parse(const char *buf, struct mem_events *ev);

/* Everything memory about one cgroup directory (v1 memory hierarchy or a
 * cgroup2 directory). */
struct cgroup_mem {
	int version;            /* 1 or 2 */
	bool root;              /* the hierarchy's root (no usage file/limit) */
	struct memstat stat;
	uint64_t usage;         /* bytes, see usage_src */
	const char *usage_src;  /* "memory.usage_in_bytes", "memory.current", "rss+cache" */
	uint64_t limit;         /* effective: the lowest limit on the way up; MEM_UNLIMITED */
	const char *limit_src;  /* file that set it */
	uint64_t high;          /* v2 memory.high (lowest up the tree); MEM_UNLIMITED */
	uint64_t peak;          /* v1 max_usage_in_bytes, v2 memory.peak; 0 unknown */
	bool have_swap;
	uint64_t swap;          /* v2 memory.swap.current, v1 total_swap */
	bool have_kmem;
	uint64_t kmem;          /* v1 memory.kmem.usage_in_bytes */
	bool have_tcp;
	uint64_t tcp;           /* v1 memory.kmem.tcp.usage_in_bytes */
	uint64_t failcnt;       /* v1 memory.failcnt */
	struct mem_events events;
	bool have_psi;
	struct psi psi;         /* v2 memory.pressure */
	const char *bad_file;   /* a usage or limit file that held no number */
};
/* Read dir's memory files. -ENOENT when dir has no memory.stat (not a
 * memory cgroup), -EBADMSG when a usage or limit file holds no number
 * (bad_file names it), other -errno on read errors. Free with
 * cgroup_mem_free. */
int cgroup_mem_read(const char *dir, struct cgroup_mem *cm);
void cgroup_mem_free(struct cgroup_mem *cm);
/* dir/name as a malloc'd string; NULL when it cannot be read. */
char *memcg_file_read(const char *dir, const char *name);
/* dir/name as one number: usage and counter files. False when absent,
 * unreadable or not a number ("max" included: a usage is never unlimited). */
bool memcg_file_u64(const char *dir, const char *name, uint64_t *v);
/* dir/name as a limit: a number, or v2 "max" / v1 PAGE_COUNTER_MAX as
 * MEM_UNLIMITED. False when absent, unreadable or neither. */
bool memcg_file_limit(const char *dir, const char *name, uint64_t *v);
/* The text of a usage file: one decimal number, surrounding white space
 * allowed. 0 or -EINVAL (-ERANGE past 2^64). */
int mem_number_parse(const char *text, uint64_t *v);
/* The text of a limit file: as mem_number_parse, or "max"; MEM_UNLIMITED
 * for no limit. */
int mem_limit_parse(const char *text, uint64_t *v);

/* The working set as the kubelet and cAdvisor compute it, and the naive
 * formulas people use instead, side by side. */
struct working_set {
	uint64_t usage;
	uint64_t inactive_file;
	uint64_t working_set;      /* usage - inactive_file, at least 0 */
	uint64_t rss;              /* anon: v1 total_rss, v2 anon */
	uint64_t cache;            /* v1 total_cache, v2 file */
	uint64_t rss_plus_cache;   /* the "RSS + cache" reading */
	uint64_t lru_sum;          /* all four LRU lists + unevictable */
	uint64_t usage_minus_cache;/* usage - cache, at least 0 */
	uint64_t limit;            /* MEM_UNLIMITED when none */
	uint64_t headroom;         /* limit - working set (0 when over); MEM_UNLIMITED */
};
/* usage_known false: usage = anon + file (what the v1 kernel itself
 * reports for the root cgroup; the guide's sample has no usage file). */
void working_set_compute(const struct memstat *ms, uint64_t usage, bool usage_known,
			 uint64_t limit, struct working_set *ws);
/* Share of whole in percent (0 when whole is 0 or unlimited). */
double pct_of(uint64_t part, uint64_t whole);

#endif
