// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "bpfutil.h"
#include "kfeatures.h"
#include "output.h"
#include "privs.h"

static int log_verbose(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return vfprintf(stderr, fmt, ap);
}

static int log_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

void bpf_log_setup(bool verbose)
{
	libbpf_set_print(verbose ? log_verbose : log_quiet);
}

int bpf_preflight(const char *tool)
{
	const struct features *f;

	(void)tool;
	if (privs_check())
		return -1;
	f = features_get();
	if (!f->btf) {
		die_msg("kernel has no BTF at /sys/kernel/btf/vmlinux (needs CONFIG_DEBUG_INFO_BTF=y, Linux 5.4+); "
			"CO-RE programs cannot be relocated");
		return -1;
	}
	if (!f->ringbuf) {
		die_msg("kernel has no BPF ring buffer (needs Linux 5.8+)");
		return -1;
	}
	return 0;
}

void bpf_explain(const char *what, int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case EPERM:
	case EACCES:
		die_msg("%s: %s (needs CAP_BPF and CAP_PERFMON, or root; check kernel lockdown and "
			"kernel.unprivileged_bpf_disabled)", what, strerror(err));
		break;
	case ENOENT:
		die_msg("%s: %s (the hook does not exist on this kernel; run with -v for details)", what,
			strerror(err));
		break;
	case ENOTSUP:
	case EINVAL:
		die_msg("%s: %s (the kernel rejected the program; run with -v to see the verifier log)", what,
			strerror(err));
		break;
	default:
		die_msg("%s: %s", what, strerror(err));
	}
}
