// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <bpf/bpf.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "array.h"
#include "bpfstats.h"

bool bpfstats_enable(void)
{
	/* The fd is the request: kept open (never closed) for the process's
	 * life, the kernel counts until the exporter exits. */
	return bpf_enable_stats(BPF_STATS_RUN_TIME) >= 0;
}

/* Is the fd name in dirfd a BPF object of this kind ("anon_inode:bpf-prog",
 * "anon_inode:bpf-map")? */
static bool is_bpf_fd(int dirfd, const char *name, const char *kind)
{
	char target[64];
	ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);

	if (n <= 0)
		return false;
	target[n] = 0;
	return !strcmp(target, kind);
}

/* The fds of our BPF objects of one kind. Ours are the ones our fds hold:
 * no walk of the host's, no confusion with another tool's of the same
 * name. */
static size_t read_bpf_fds(const char *kind, int **out)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int *v = NULL;
	size_t n = 0, cap = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		int fd = atoi(de->d_name);

		if (de->d_name[0] == '.' || fd == dirfd(d) || !is_bpf_fd(dirfd(d), de->d_name, kind))
			continue;
		ARRAY_GROW(v, n, cap, 64);
		v[n++] = fd;
	}
	closedir(d);
	*out = v;
	return n;
}

/* Read once per scrape, so that both families list the same programs. */
static size_t read_progs(struct bpf_prog_info **out)
{
	struct bpf_prog_info *v = NULL;
	int *fds = NULL;
	size_t nfds = read_bpf_fds("anon_inode:bpf-prog", &fds), n = 0;

	v = calloc(nfds + 1, sizeof(*v));
	if (!v)
		abort();
	for (size_t i = 0; i < nfds; i++) {
		__u32 len = sizeof(v[n]);

		if (!bpf_obj_get_info_by_fd(fds[i], &v[n], &len))
			n++;
	}
	free(fds);
	*out = v;
	return n;
}

/* The labels of a BPF object: its kind's label (program, map) with its
 * name, and its id. */
static void obj_labels(const char *kind, const char *name, __u32 obj_id, struct expo_label l[2],
		       char id[16])
{
	snprintf(id, 16, "%u", obj_id);
	l[0] = (struct expo_label){ kind, name };
	l[1] = (struct expo_label){ "id", id };
}

void bpfstats_write(struct expo *e, bool enabled)
{
	struct bpf_prog_info *v = NULL;
	struct expo_label l[2];
	char id[16];
	size_t n = read_progs(&v);

	expo_gauge1(e, "memscope_exporter_bpf_stats_enabled",
		    "1 when the kernel counts the run time of the exporter's BPF programs (BPF_ENABLE_STATS, "
		    "Linux 5.8+, held for the exporter's life), 0 when it refused.", enabled);
	expo_family(e, "memscope_exporter_bpf_run_seconds_total", EXPO_COUNTER,
		    "Time the exporter's BPF programs ran, in the traced processes' context, as the kernel "
		    "accounts it (per program; 0 while stats are off).");
	for (size_t i = 0; i < n; i++) {
		obj_labels("program", v[i].name, v[i].id, l, id);
		expo_double(e, l, 2, v[i].run_time_ns / 1e9);
	}
	expo_family(e, "memscope_exporter_bpf_runs_total", EXPO_COUNTER,
		    "Times each of the exporter's BPF programs ran (0 while stats are off).");
	for (size_t i = 0; i < n; i++) {
		obj_labels("program", v[i].name, v[i].id, l, id);
		expo_u64(e, l, 2, v[i].run_cnt);
	}
	free(v);
}

/* Maps whose entries come and go, so that their fill means something
 * (an array's slots are all there from the start). */
static bool map_fills(__u32 type)
{
	switch (type) {
	case BPF_MAP_TYPE_HASH:
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_LRU_HASH:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
	case BPF_MAP_TYPE_STACK_TRACE:
		return true;
	default:
		return false;
	}
}

/* Entries in use: walked key by key (the kernel keeps no count that
 * every supported kernel exposes). A key deleted under the walk restarts
 * it from the first key: bounded by max_entries steps, so that a busy map
 * costs a scrape one pass at most. */
static __u64 map_count(int fd, const struct bpf_map_info *info)
{
	char *key = calloc(2, info->key_size), *next = key + info->key_size;
	__u64 n = 0;
	void *prev = NULL;

	if (!key)
		abort();
	while (n < info->max_entries && !bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, info->key_size);
		prev = key;
		n++;
	}
	free(key);
	return n;
}

struct map_fill {
	struct bpf_map_info info;
	__u64 used;
};

static size_t read_maps(struct map_fill **out)
{
	struct map_fill *v;
	int *fds = NULL;
	size_t nfds = read_bpf_fds("anon_inode:bpf-map", &fds), n = 0;

	v = calloc(nfds + 1, sizeof(*v));
	if (!v)
		abort();
	for (size_t i = 0; i < nfds; i++) {
		__u32 len = sizeof(v[n].info);

		if (bpf_obj_get_info_by_fd(fds[i], &v[n].info, &len) || !map_fills(v[n].info.type))
			continue;
		v[n].used = map_count(fds[i], &v[n].info);
		n++;
	}
	free(fds);
	*out = v;
	return n;
}

void bpfstats_write_maps(struct expo *e)
{
	struct map_fill *v = NULL;
	struct expo_label l[2];
	char id[16];
	size_t n = read_maps(&v);

	expo_family(e, "memscope_exporter_bpf_map_entries", EXPO_GAUGE,
		    "Entries in use in each of the exporter's BPF hash and stack maps. A full map refuses "
		    "new entries: counted in memscope_exporter_events_lost_total{reason=\"map_full\"}.");
	for (size_t i = 0; i < n; i++) {
		obj_labels("map", v[i].info.name, v[i].info.id, l, id);
		expo_u64(e, l, 2, v[i].used);
	}
	expo_family(e, "memscope_exporter_bpf_map_max_entries", EXPO_GAUGE,
		    "The size of each of the exporter's BPF hash and stack maps, in entries.");
	for (size_t i = 0; i < n; i++) {
		obj_labels("map", v[i].info.name, v[i].info.id, l, id);
		expo_u64(e, l, 2, v[i].info.max_entries);
	}
	free(v);
}
