// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <string.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "output.h"
#include "privs.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static bool has_cap(const struct __user_cap_data_struct *d, int cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

static int read_caps(struct __user_cap_data_struct data[2])
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };

	return syscall(SYS_capget, &hdr, data) ? -errno : 0;
}

bool privs_perf_paranoid_blocks(int *level)
{
	struct __user_cap_data_struct data[2] = {};
	FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "re");
	bool got;

	*level = 0;
	if (!f)
		return false;
	got = fscanf(f, "%d", level) == 1;
	fclose(f);
	return got && *level > 2 && !read_caps(data) && !has_cap(data, CAP_SYS_ADMIN);
}

int privs_check(void)
{
	struct __user_cap_data_struct data[2] = {};
	bool bpf, perfmon;
	int err = read_caps(data);

	if (err) {
		die_msg("cannot read this process's capabilities: %s", strerror(-err));
		return -EPERM;
	}
	if (has_cap(data, CAP_SYS_ADMIN))
		return 0;
	bpf = has_cap(data, CAP_BPF);
	perfmon = has_cap(data, CAP_PERFMON);
	if (bpf && perfmon)
		return 0;
	die_msg("missing %s%s%s (or CAP_SYS_ADMIN): run as root, or grant them with "
		"'setcap cap_bpf,cap_perfmon,cap_dac_read_search,cap_sys_ptrace+ep'",
		bpf ? "" : "CAP_BPF", !bpf && !perfmon ? " and " : "", perfmon ? "" : "CAP_PERFMON");
	return -EPERM;
}
