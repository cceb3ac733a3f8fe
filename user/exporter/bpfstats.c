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

static bool is_prog_fd(int dirfd, const char *name)
{
	char target[64];
	ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);

	if (n <= 0)
		return false;
	target[n] = 0;
	return !strcmp(target, "anon_inode:bpf-prog");
}

/* Our programs are the ones our fds hold: no walk of the host's
 * programs, no confusion with another tool's of the same name. Read once
 * per scrape, so that both families list the same programs. */
static size_t read_progs(struct bpf_prog_info **out)
{
	DIR *d = opendir("/proc/self/fd");
	struct bpf_prog_info *v = NULL;
	struct dirent *de;
	size_t n = 0, cap = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		int fd = atoi(de->d_name);
		__u32 len;

		if (de->d_name[0] == '.' || fd == dirfd(d) || !is_prog_fd(dirfd(d), de->d_name))
			continue;
		ARRAY_GROW(v, n, cap, 64);
		memset(&v[n], 0, sizeof(v[n]));
		len = sizeof(v[n]);
		if (!bpf_obj_get_info_by_fd(fd, &v[n], &len))
			n++;
	}
	closedir(d);
	*out = v;
	return n;
}

static void prog_labels(const struct bpf_prog_info *info, struct expo_label l[2], char id[16])
{
	snprintf(id, 16, "%u", info->id);
	l[0] = (struct expo_label){ "program", info->name };
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
		prog_labels(&v[i], l, id);
		expo_double(e, l, 2, v[i].run_time_ns / 1e9);
	}
	expo_family(e, "memscope_exporter_bpf_runs_total", EXPO_COUNTER,
		    "Times each of the exporter's BPF programs ran (0 while stats are off).");
	for (size_t i = 0; i < n; i++) {
		prog_labels(&v[i], l, id);
		expo_u64(e, l, 2, v[i].run_cnt);
	}
	free(v);
}
