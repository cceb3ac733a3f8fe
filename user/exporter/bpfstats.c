// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <bpf/bpf.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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
 * programs, no confusion with another tool's of the same name. */
static void each_prog(void (*fn)(const struct bpf_prog_info *, void *), void *ctx)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = atoi(de->d_name);

		if (de->d_name[0] == '.' || fd == dirfd(d) || !is_prog_fd(dirfd(d), de->d_name))
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len))
			fn(&info, ctx);
	}
	closedir(d);
}

struct pass {
	struct expo *e;
	bool time;      /* run time, else run count */
};

static void write_prog(const struct bpf_prog_info *info, void *ctx)
{
	struct pass *p = ctx;
	char id[16];
	struct expo_label l[] = { { "program", info->name }, { "id", id } };

	snprintf(id, sizeof(id), "%u", info->id);
	if (p->time)
		expo_double(p->e, l, 2, info->run_time_ns / 1e9);
	else
		expo_u64(p->e, l, 2, info->run_cnt);
}

void bpfstats_write(struct expo *e, bool enabled)
{
	struct pass p = { .e = e, .time = true };

	expo_gauge1(e, "memscope_exporter_bpf_stats_enabled",
		    "1 when the kernel counts the run time of the exporter's BPF programs (BPF_ENABLE_STATS, "
		    "Linux 5.8+, held for the exporter's life), 0 when it refused.", enabled);
	expo_family(e, "memscope_exporter_bpf_run_seconds_total", EXPO_COUNTER,
		    "Time the exporter's BPF programs ran, in the traced processes' context, as the kernel "
		    "accounts it (per program; 0 while stats are off).");
	each_prog(write_prog, &p);
	p.time = false;
	expo_family(e, "memscope_exporter_bpf_runs_total", EXPO_COUNTER,
		    "Times each of the exporter's BPF programs ran (0 while stats are off).");
	each_prog(write_prog, &p);
}
