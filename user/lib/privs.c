// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <string.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <unistd.h>
#include "output.h"
#include "privs.h"



static int read_caps(struct __user_cap_data_struct data[2])
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };

	return syscall(SYS_capget, &hdr, data) ? -errno : 0;
}

/* A set of the two capget words as one mask. */
#define CAP_SET(d, set) ((uint64_t)(d)[1].set << 32 | (d)[0].set)

static bool has_cap(const struct __user_cap_data_struct *d, int cap)
{
	return CAP_SET(d, effective) & PRIV(cap);
}

static int write_caps(uint64_t effective, uint64_t permitted, uint64_t inheritable)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)effective, (uint32_t)permitted, (uint32_t)inheritable },
		{ (uint32_t)(effective >> 32), (uint32_t)(permitted >> 32), (uint32_t)(inheritable >> 32) },
	};

	return syscall(SYS_capset, &hdr, d) ? -errno : 0;
}

/* The highest capability this kernel knows. */
static int cap_last(void)
{
	static int last = -1;
	FILE *f;

	if (last >= 0)
		return last;
	last = CAP_CHECKPOINT_RESTORE;
	if ((f = fopen("/proc/sys/kernel/cap_last_cap", "re"))) {
		if (fscanf(f, "%d", &last) != 1 || last < 0 || last > 63)
			last = CAP_CHECKPOINT_RESTORE;
		fclose(f);
	}
	return last;
}

uint64_t privs_or_admin(int cap)
{
	return PRIV(cap <= cap_last() ? cap : CAP_SYS_ADMIN);
}

/* Does this kernel check CAP_BPF at every bpf() call (before 5.19, with
 * kernel.unprivileged_bpf_disabled set), so that reading a map of our own
 * needs it? Asked of the kernel, not guessed from its version: with both
 * capabilities that count lowered, a lookup in no map fails EPERM where
 * the call is gated and EBADF where it is not. */
static bool bpf_calls_gated(struct __user_cap_data_struct *d)
{
	uint64_t eff = CAP_SET(d, effective), prm = CAP_SET(d, permitted), inh = CAP_SET(d, inheritable);
	union bpf_attr attr = { .map_fd = (uint32_t)-1 };
	bool gated;

	if (write_caps(eff & ~(PRIV(CAP_BPF) | PRIV(CAP_SYS_ADMIN)), prm, inh))
		return true;
	gated = syscall(SYS_bpf, BPF_MAP_LOOKUP_ELEM, &attr, sizeof(attr)) < 0 && errno == EPERM;
	write_caps(eff, prm, inh);
	return gated;
}

static const char *const cap_names[64] = {
	[CAP_DAC_OVERRIDE] = "cap_dac_override", [CAP_DAC_READ_SEARCH] = "cap_dac_read_search",
	[CAP_KILL] = "cap_kill", [CAP_SETGID] = "cap_setgid", [CAP_SETUID] = "cap_setuid",
	[CAP_NET_BIND_SERVICE] = "cap_net_bind_service", [CAP_SYS_PTRACE] = "cap_sys_ptrace",
	[CAP_SYS_ADMIN] = "cap_sys_admin", [CAP_PERFMON] = "cap_perfmon", [CAP_BPF] = "cap_bpf",
	[CAP_CHECKPOINT_RESTORE] = "cap_checkpoint_restore",
};

static void say_kept(uint64_t kept, bool gated)
{
	fprintf(stderr, "note: capabilities kept after attach:");
	for (int c = 0; c < 64; c++)
		if (kept & PRIV(c)) {
			if (cap_names[c])
				fprintf(stderr, " %s", cap_names[c]);
			else
				fprintf(stderr, " %d", c);
		}
	fprintf(stderr, "%s%s\n", kept ? "" : " none",
		gated ? " (cap_bpf: this kernel checks it at every bpf() call)" : "");
}

int privs_settle(uint64_t keep, bool verbose)
{
	struct __user_cap_data_struct d[2] = {};
	bool gated;
	int err;

	if ((err = read_caps(d))) {
		warn_msg("cannot read this process's capabilities: %s", strerror(-err));
		return err;
	}
	gated = bpf_calls_gated(d);
	if (gated)
		keep |= privs_or_admin(CAP_BPF);
	keep &= CAP_SET(d, permitted);
	/* The bounding set first: dropping from it takes CAP_SETPCAP. Without
	 * it (a unit's own bounding set) whoever started us has chosen it. */
	if (has_cap(d, CAP_SETPCAP))
		for (int c = 0; c <= cap_last(); c++)
			if (!(keep & PRIV(c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) && errno != EINVAL) {
				err = -errno;
				warn_msg("cannot drop capability %d from the bounding set: %s", c, strerror(errno));
				return err;
			}
	/* No ambient set before 4.3: nothing to clear there. */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if ((err = write_caps(keep, keep, 0))) {
		warn_msg("cannot give up capabilities: %s", strerror(-err));
		return err;
	}
	/* Where the bounding set was not ours to cut, a program run later
	 * still gets no more than we kept: exec grants nothing new. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		warn_msg("cannot set no_new_privs: %s", strerror(errno));
	if (verbose)
		say_kept(keep, gated);
	return 0;
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
