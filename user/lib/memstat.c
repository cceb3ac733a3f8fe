/* Parsers for the kernel's memory accounting files and the working-set
 * arithmetic. See memstat.h for what each bucket means. */
#define _GNU_SOURCE
#include "array.h"
#include "memstat.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"

/* Anything at or above this is "no limit": v1 shows PAGE_COUNTER_MAX in
 * bytes, which depends on the page size, so compare with a margin. */
#define LIMIT_NONE_FLOOR (1ULL << 60)

static const char *const v1_keys[MS_NFIELDS] = {
#define MS_K1(name, k1, k2) k1,
	MEMSTAT_FIELDS(MS_K1)
#undef MS_K1
};
static const char *const v2_keys[MS_NFIELDS] = {
#define MS_K2(name, k1, k2) k2,
	MEMSTAT_FIELDS(MS_K2)
#undef MS_K2
};
static const char *const field_names[MS_NFIELDS] = {
#define MS_NAME(name, k1, k2) #name,
	MEMSTAT_FIELDS(MS_NAME)
#undef MS_NAME
};

const char *memstat_field_name(enum memstat_field f)
{
	return f < MS_NFIELDS ? field_names[f] : "?";
}

/* The struct's members in enum order, so fields can be set by index. */
static uint64_t *field_ptr(struct memstat *ms, enum memstat_field f)
{
	switch (f) {
#define MS_CASE(name, k1, k2) case MS_##name: return &ms->name;
	MEMSTAT_FIELDS(MS_CASE)
#undef MS_CASE
	default: return NULL;
	}
}

static void set_field(struct memstat *ms, enum memstat_field f, uint64_t v)
{
	*field_ptr(ms, f) = v;
	ms->have |= 1ULL << f;
}

void memstat_set(struct memstat *ms, enum memstat_field f, uint64_t v)
{
	if (f < MS_NFIELDS)
		set_field(ms, f, v);
}

bool memstat_has(const struct memstat *ms, enum memstat_field f)
{
	return f < MS_NFIELDS && (ms->have & (1ULL << f));
}

uint64_t memstat_get(const struct memstat *ms, enum memstat_field f)
{
	return memstat_has(ms, f) ? *field_ptr((struct memstat *)ms, f) : 0;
}

bool memstat_raw(const struct memstat *ms, const char *key, uint64_t *val)
{
	for (size_t i = 0; i < ms->nraw; i++) {
		if (strcmp(ms->raw[i].key, key) == 0) {
			if (val)
				*val = ms->raw[i].val;
			return true;
		}
	}
	return false;
}

void memstat_free(struct memstat *ms)
{
	if (!ms)
		return;
	for (size_t i = 0; i < ms->nraw; i++)
		free(ms->raw[i].key);
	free(ms->raw);
	ms->raw = NULL;
	ms->nraw = 0;
}

/* Lines "key value" (memory.stat) or "Key:   value kB" (meminfo, the
 * colon is dropped). Lines that do not end in a number are skipped. */
static int parse_raw(const char *buf, struct memstat *ms)
{
	size_t cap = 0;
	const char *p = buf;

	while (*p) {
		const char *eol = strchrnul(p, '\n');
		const char *k = p, *ke = p;
		while (ke < eol && !isspace((unsigned char)*ke) && *ke != ':')
			ke++;
		const char *v = ke;
		while (v < eol && (*v == ':' || isspace((unsigned char)*v)))
			v++;
		if (ke > k && v < eol && isdigit((unsigned char)*v)) {
			char *end;
			errno = 0;
			unsigned long long n = strtoull(v, &end, 10);
			if (errno == 0) {
				ARRAY_GROW(ms->raw, ms->nraw, cap, 64);
				ms->raw[ms->nraw].key = strndup(k, ke - k);
				if (!ms->raw[ms->nraw].key)
					abort();
				ms->raw[ms->nraw++].val = n;
			}
		}
		p = *eol ? eol + 1 : eol;
	}
	return 0;
}

static int fill_from_keys(struct memstat *ms, const char *const keys[], bool prefer_total)
{
	char tkey[96];
	int found = 0;

	for (int f = 0; f < MS_NFIELDS; f++) {
		uint64_t v;
		if (!keys[f])
			continue;
		/* v1: total_X covers the whole subtree, like usage_in_bytes. */
		snprintf(tkey, sizeof(tkey), "total_%s", keys[f]);
		if ((prefer_total && memstat_raw(ms, tkey, &v)) || memstat_raw(ms, keys[f], &v)) {
			set_field(ms, f, v);
			found++;
		}
	}
	return found;
}

static int parse_version(const char *buf, struct memstat *ms, enum memstat_source src)
{
	memset(ms, 0, sizeof(*ms));
	parse_raw(buf, ms);
	ms->src = src;
	int found = src == MS_SRC_V1 ? fill_from_keys(ms, v1_keys, true)
				     : fill_from_keys(ms, v2_keys, false);
	if (!found) {
		memstat_free(ms);
		ms->src = MS_SRC_NONE;
		return -EINVAL;
	}
	return 0;
}

int memstat_parse_v1(const char *buf, struct memstat *ms)
{
	return parse_version(buf, ms, MS_SRC_V1);
}

int memstat_parse_v2(const char *buf, struct memstat *ms)
{
	return parse_version(buf, ms, MS_SRC_V2);
}

/* v1 starts with "cache"/"rss"; v2 with "anon"/"file". */
static bool has_line_key(const char *buf, const char *key)
{
	size_t n = strlen(key);
	for (const char *p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, n) == 0 && p[n] == ' ')
			return true;
	return false;
}

int memstat_parse(const char *buf, struct memstat *ms)
{
	if (has_line_key(buf, "rss") || has_line_key(buf, "cache") || has_line_key(buf, "total_rss"))
		return memstat_parse_v1(buf, ms);
	return memstat_parse_v2(buf, ms);
}

/* ---- /proc/meminfo ---- */

int meminfo_parse(const char *buf, struct meminfo *mi)
{
	static const struct { const char *key; size_t off; bool kb; } map[] = {
#define MI(k, m) { k, offsetof(struct meminfo, m), true }
		MI("MemTotal", mem_total), MI("MemFree", mem_free),
		MI("MemAvailable", mem_available), MI("Buffers", buffers),
		MI("Cached", cached), MI("SwapCached", swap_cached),
		MI("Active(anon)", active_anon), MI("Inactive(anon)", inactive_anon),
		MI("Active(file)", active_file), MI("Inactive(file)", inactive_file),
		MI("Unevictable", unevictable), MI("Mlocked", mlocked),
		MI("SwapTotal", swap_total), MI("SwapFree", swap_free),
		MI("Dirty", dirty), MI("Writeback", writeback),
		MI("AnonPages", anon_pages), MI("Mapped", mapped), MI("Shmem", shmem),
		MI("KReclaimable", kreclaimable), MI("Slab", slab),
		MI("SReclaimable", sreclaimable), MI("SUnreclaim", sunreclaim),
		MI("KernelStack", kernel_stack), MI("PageTables", page_tables),
		MI("Percpu", percpu), MI("VmallocUsed", vmalloc_used),
		MI("AnonHugePages", anon_huge), MI("ShmemHugePages", shmem_huge),
		MI("FileHugePages", file_huge), MI("Hugetlb", hugetlb),
		MI("Hugepagesize", hugepage_size),
#undef MI
		{ "HugePages_Total", offsetof(struct meminfo, hugepages_total), false },
		{ "HugePages_Free", offsetof(struct meminfo, hugepages_free), false },
	};
	struct memstat raw = { 0 };

	memset(mi, 0, sizeof(*mi));
	parse_raw(buf, &raw);
	int found = 0;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		uint64_t v;
		if (!memstat_raw(&raw, map[i].key, &v))
			continue;
		*(uint64_t *)((char *)mi + map[i].off) = map[i].kb ? v * 1024 : v;
		found++;
	}
	memstat_free(&raw);
	return found && mi->mem_total ? 0 : -EINVAL;
}

void meminfo_to_memstat(const struct meminfo *mi, struct memstat *ms)
{
	memset(ms, 0, sizeof(*ms));
	ms->src = MS_SRC_MEMINFO;
	set_field(ms, MS_anon, mi->anon_pages);
	set_field(ms, MS_file, mi->buffers + mi->cached);
	set_field(ms, MS_active_anon, mi->active_anon);
	set_field(ms, MS_inactive_anon, mi->inactive_anon);
	set_field(ms, MS_active_file, mi->active_file);
	set_field(ms, MS_inactive_file, mi->inactive_file);
	set_field(ms, MS_unevictable, mi->unevictable);
	set_field(ms, MS_shmem, mi->shmem);
	set_field(ms, MS_file_mapped, mi->mapped);
	set_field(ms, MS_file_dirty, mi->dirty);
	set_field(ms, MS_file_writeback, mi->writeback);
	set_field(ms, MS_anon_thp, mi->anon_huge);
	set_field(ms, MS_file_thp, mi->file_huge);
	set_field(ms, MS_shmem_thp, mi->shmem_huge);
	set_field(ms, MS_swap, mi->swap_total > mi->swap_free ? mi->swap_total - mi->swap_free : 0);
	set_field(ms, MS_swapcached, mi->swap_cached);
	set_field(ms, MS_kernel, mi->slab + mi->kernel_stack + mi->page_tables +
				 mi->percpu + mi->vmalloc_used);
	set_field(ms, MS_kernel_stack, mi->kernel_stack);
	set_field(ms, MS_pagetables, mi->page_tables);
	set_field(ms, MS_percpu, mi->percpu);
	set_field(ms, MS_vmalloc, mi->vmalloc_used);
	set_field(ms, MS_slab_reclaimable, mi->sreclaimable);
	set_field(ms, MS_slab_unreclaimable, mi->sunreclaim);
	set_field(ms, MS_hugetlb, mi->hugetlb);
}

/* ---- smaps_rollup, PSI, events ---- */

int smaps_rollup_parse(const char *buf, struct smaps_rollup *sr)
{
	static const struct { const char *key; size_t off; } map[] = {
#define SR(k, m) { k, offsetof(struct smaps_rollup, m) }
		SR("Rss", rss), SR("Pss", pss), SR("Pss_Anon", pss_anon),
		SR("Pss_File", pss_file), SR("Pss_Shmem", pss_shmem),
		SR("Shared_Clean", shared_clean), SR("Shared_Dirty", shared_dirty),
		SR("Private_Clean", private_clean), SR("Private_Dirty", private_dirty),
		SR("Anonymous", anonymous), SR("AnonHugePages", anon_huge),
		SR("Swap", swap), SR("SwapPss", swap_pss), SR("Locked", locked),
#undef SR
	};
	struct memstat raw = { 0 };
	int found = 0;

	memset(sr, 0, sizeof(*sr));
	parse_raw(buf, &raw);
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		uint64_t v;
		if (memstat_raw(&raw, map[i].key, &v)) {
			*(uint64_t *)((char *)sr + map[i].off) = v * 1024;
			found++;
		}
	}
	memstat_free(&raw);
	return found ? 0 : -EINVAL;
}

static int psi_line_parse(const char *s, struct psi_line *l)
{
	unsigned long long total;
	if (sscanf(s, " avg10=%lf avg60=%lf avg300=%lf total=%llu",
		   &l->avg10, &l->avg60, &l->avg300, &total) != 4)
		return -EINVAL;
	l->total_us = total;
	return 0;
}

int psi_parse(const char *buf, struct psi *p)
{
	memset(p, 0, sizeof(*p));
	for (const char *s = buf; s && *s; s = strchr(s, '\n'), s = s ? s + 1 : NULL) {
		if (strncmp(s, "some", 4) == 0)
			p->have_some = psi_line_parse(s + 4, &p->some) == 0;
		else if (strncmp(s, "full", 4) == 0)
			p->have_full = psi_line_parse(s + 4, &p->full) == 0;
	}
	return p->have_some ? 0 : -EINVAL;
}

int mem_events_parse(const char *buf, struct mem_events *ev)
{
	struct memstat raw = { 0 };

	memset(ev, 0, sizeof(*ev));
	parse_raw(buf, &raw);
	ev->have = memstat_raw(&raw, "oom_kill", &ev->oom_kill);
	memstat_raw(&raw, "oom", &ev->oom);
	memstat_raw(&raw, "max", &ev->max);
	memstat_raw(&raw, "high", &ev->high);
	memstat_raw(&raw, "under_oom", &ev->under_oom);
	memstat_free(&raw);
	return ev->have ? 0 : -EINVAL;
}

/* ---- one cgroup directory ---- */

int mem_number_parse(const char *text, uint64_t *v)
{
	unsigned long long n;
	char *end;

	while (isspace((unsigned char)*text))
		text++;
	if (!isdigit((unsigned char)*text))
		return -EINVAL;
	errno = 0;
	n = strtoull(text, &end, 10);
	if (errno)
		return -ERANGE;
	while (isspace((unsigned char)*end))
		end++;
	if (*end)
		return -EINVAL;
	*v = n;
	return 0;
}

int mem_limit_parse(const char *text, uint64_t *v)
{
	const char *t = text;
	int err;

	while (isspace((unsigned char)*t))
		t++;
	if (!strncmp(t, "max", 3)) {
		for (t += 3; isspace((unsigned char)*t); t++)
			;
		if (*t)
			return -EINVAL;
		*v = MEM_UNLIMITED;
		return 0;
	}
	err = mem_number_parse(text, v);
	if (!err && *v >= LIMIT_NONE_FLOOR)
		*v = MEM_UNLIMITED;
	return err;
}

char *memcg_file_read(const char *dir, const char *name)
{
	char path[PATH_MAX];
	char *buf = NULL;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return NULL;
	if (read_file(path, &buf) < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static bool memcg_file_value(const char *dir, const char *name, bool limit, uint64_t *v)
{
	char *buf = memcg_file_read(dir, name);
	uint64_t n;
	bool ok;

	if (!buf)
		return false;
	ok = (limit ? mem_limit_parse(buf, &n) : mem_number_parse(buf, &n)) == 0;
	if (ok)
		*v = n;
	free(buf);
	return ok;
}

bool memcg_file_u64(const char *dir, const char *name, uint64_t *v)
{
	return memcg_file_value(dir, name, false, v);
}

bool memcg_file_limit(const char *dir, const char *name, uint64_t *v)
{
	return memcg_file_value(dir, name, true, v);
}

static bool cg_has(const char *dir, const char *name)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static char *parent_dir(const char *dir)
{
	char *p = strdup(dir);
	if (!p)
		abort();
	char *slash = strrchr(p, '/');
	if (!slash || slash == p) {
		free(p);
		return NULL;
	}
	*slash = '\0';
	return p;
}

/* v2 limits are not inherited into the child's file: the effective one is
 * the lowest memory.max (or memory.high) from dir up to the root. */
static uint64_t v2_lowest_up(const char *dir, const char *name, const char **src)
{
	uint64_t best = MEM_UNLIMITED, v;
	char *d = strdup(dir);
	bool first = true;

	if (!d)
		abort();
	while (d && memcg_file_limit(d, name, &v)) {
		if (v < best) {
			best = v;
			if (src)
				*src = first ? name : "an ancestor's limit";
		}
		char *up = parent_dir(d);
		free(d);
		d = up;
		first = false;
	}
	free(d);
	return best;
}

static void read_v1(const char *dir, struct cgroup_mem *cm)
{
	uint64_t v;
	char *pd = parent_dir(dir);
	/* The root's usage_in_bytes is not a page counter; the kernel sums
	 * cache + rss for it, so do the same (and the same when absent). */
	cm->root = !pd || !cg_has(pd, "memory.stat");
	free(pd);
	if (!cm->root && cg_has(dir, "memory.usage_in_bytes")) {
		if (!memcg_file_u64(dir, "memory.usage_in_bytes", &cm->usage))
			cm->bad_file = "memory.usage_in_bytes";
		cm->usage_src = "memory.usage_in_bytes";
	} else {
		cm->usage = cm->stat.anon + cm->stat.file;
		cm->usage_src = "rss+cache";
	}
	cm->limit = MEM_UNLIMITED;
	if (cg_has(dir, "memory.limit_in_bytes") && !memcg_file_limit(dir, "memory.limit_in_bytes", &v))
		cm->bad_file = "memory.limit_in_bytes";
	else if (cg_has(dir, "memory.limit_in_bytes") && v < cm->limit) {
		cm->limit = v;
		cm->limit_src = "memory.limit_in_bytes";
	}
	v = cm->stat.hier_limit;
	if (memstat_has(&cm->stat, MS_hier_limit) && v < LIMIT_NONE_FLOOR && v < cm->limit) {
		cm->limit = v;
		cm->limit_src = "hierarchical_memory_limit";
	}
	cm->high = MEM_UNLIMITED;
	memcg_file_u64(dir, "memory.max_usage_in_bytes", &cm->peak);
	memcg_file_u64(dir, "memory.failcnt", &cm->failcnt);
	cm->have_kmem = memcg_file_u64(dir, "memory.kmem.usage_in_bytes", &cm->kmem);
	cm->have_tcp = memcg_file_u64(dir, "memory.kmem.tcp.usage_in_bytes", &cm->tcp);
	cm->have_swap = memstat_has(&cm->stat, MS_swap);
	cm->swap = cm->stat.swap;
	char *buf = memcg_file_read(dir, "memory.oom_control");
	if (buf)
		mem_events_parse(buf, &cm->events);
	free(buf);
}

static void read_v2(const char *dir, struct cgroup_mem *cm)
{
	cm->root = !cg_has(dir, "memory.current");
	if (!cm->root) {
		if (!memcg_file_u64(dir, "memory.current", &cm->usage))
			cm->bad_file = "memory.current";
		cm->usage_src = "memory.current";
	} else {
		cm->usage = cm->stat.anon + cm->stat.file;
		cm->usage_src = "anon+file";
	}
	cm->limit = v2_lowest_up(dir, "memory.max", &cm->limit_src);
	cm->high = v2_lowest_up(dir, "memory.high", NULL);
	memcg_file_u64(dir, "memory.peak", &cm->peak);
	cm->have_swap = memcg_file_u64(dir, "memory.swap.current", &cm->swap);
	char *buf = memcg_file_read(dir, "memory.events");
	if (buf)
		mem_events_parse(buf, &cm->events);
	free(buf);
	buf = memcg_file_read(dir, "memory.pressure");
	if (buf)
		cm->have_psi = psi_parse(buf, &cm->psi) == 0;
	free(buf);
}

int cgroup_mem_read(const char *dir, struct cgroup_mem *cm)
{
	char path[PATH_MAX];
	char *buf = NULL;
	ssize_t n;

	memset(cm, 0, sizeof(*cm));
	if (snprintf(path, sizeof(path), "%s/memory.stat", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	n = read_file(path, &buf);
	if (n < 0) {
		free(buf);
		return n == -ENOENT || n == -ENOTDIR ? -ENOENT : (int)n;
	}
	bool v1 = cg_has(dir, "memory.limit_in_bytes") || cg_has(dir, "memory.usage_in_bytes");
	int err = v1 ? memstat_parse_v1(buf, &cm->stat) : memstat_parse(buf, &cm->stat);
	free(buf);
	if (err)
		return err;
	cm->version = cm->stat.src == MS_SRC_V1 ? 1 : 2;
	if (cm->version == 1)
		read_v1(dir, cm);
	else
		read_v2(dir, cm);
	return cm->bad_file ? -EBADMSG : 0;
}

void cgroup_mem_free(struct cgroup_mem *cm)
{
	if (cm)
		memstat_free(&cm->stat);
}

/* ---- working set ---- */

double pct_of(uint64_t part, uint64_t whole)
{
	if (!whole || whole == MEM_UNLIMITED)
		return 0.0;
	return 100.0 * (double)part / (double)whole;
}

static uint64_t sub0(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

void working_set_compute(const struct memstat *ms, uint64_t usage, bool usage_known,
			 uint64_t limit, struct working_set *ws)
{
	memset(ws, 0, sizeof(*ws));
	ws->rss = ms->anon;
	ws->cache = ms->file;
	ws->rss_plus_cache = ms->anon + ms->file;
	ws->usage = usage_known ? usage : ws->rss_plus_cache;
	ws->inactive_file = ms->inactive_file;
	/* kubelet/cAdvisor: workingSet = usage - total_inactive_file (v1) or
	 * memory.current - inactive_file (v2), never negative. */
	ws->working_set = sub0(ws->usage, ws->inactive_file);
	ws->lru_sum = ms->active_anon + ms->inactive_anon + ms->active_file +
		      ms->inactive_file + ms->unevictable;
	ws->usage_minus_cache = sub0(ws->usage, ms->file);
	ws->limit = limit;
	ws->headroom = limit == MEM_UNLIMITED ? MEM_UNLIMITED : sub0(limit, ws->working_set);
}

int host_oom_kill_count(uint64_t *val)
{
	char *buf = NULL;
	bool ok = proc_read(0, "vmstat", &buf) >= 0 && kv_u64(buf, "oom_kill", val);

	free(buf);
	return ok ? 0 : -ENOENT;
}

bool host_memory_psi(struct psi *p)
{
	char *buf = NULL;
	bool ok = read_file("/proc/pressure/memory", &buf) >= 0 && psi_parse(buf, p) == 0;

	free(buf);
	return ok;
}
