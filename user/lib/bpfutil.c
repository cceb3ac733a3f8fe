// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include "array.h"
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

/* A kernel without a feature the tool's own build of its programs uses
 * would reject them at load with a bare EINVAL: the compat build
 * (bpf/compat.bpf.h) is loaded there instead, and the note names what
 * is missing. */
bool bpf_use_compat(const char *tool, unsigned needs, FILE *notes)
{
	const struct features *f = features_get();
	const char *what = NULL;
	struct utsname u;

	if ((needs & NEED_TASK_STORAGE) && !f->task_storage)
		what = "task-local storage (5.11)";
	else if ((needs & NEED_CALLBACKS) && !f->callbacks)
		what = "BPF helper callbacks (bpf_for_each_map_elem, 5.13)";
	if (!what)
		return false;
	if (notes) {
		if (uname(&u))
			snprintf(u.release, sizeof(u.release), "?");
		fprintf(notes, "note: this kernel (%s) has no %s: %s loads its programs' build for older kernels\n",
			u.release, what, tool);
	}
	return true;
}

int bpf_preflight(void)
{
	const struct features *f;

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
	int paranoid;

	if (err < 0)
		err = -err;
	switch (err) {
	case EPERM:
	case EACCES:
		if (privs_perf_paranoid_blocks(&paranoid)) {
			die_msg("%s: %s (kernel.perf_event_paranoid is %d: above 2, this kernel opens perf events, "
				"how tracepoints and uprobes attach, only with CAP_SYS_ADMIN; set it to 2 with "
				"'sysctl kernel.perf_event_paranoid=2' or run with CAP_SYS_ADMIN)", what, strerror(err),
				paranoid);
			break;
		}
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

#define MAP_BATCH 4096

/* Batch lookups; -1 when the kernel has none (nothing visited then). */
static ssize_t map_each_batch(int fd, size_t ksz, size_t vsz, bpf_map_visit_fn fn, void *ctx)
{
	size_t cap = MAP_BATCH, n = 0;
	char *k = malloc(cap * ksz), *v = malloc(cap * vsz);
	__u64 in = 0, out = 0;
	bool first = true;

	if (!k || !v)
		abort();
	for (;;) {
		__u32 cnt = cap;
		int err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, k, v, &cnt, NULL);

		if (err && errno == ENOSPC && cnt == 0) {
			cap *= 2; /* one bucket holds more than the buffer */
			if (!(k = realloc(k, cap * ksz)) || !(v = realloc(v, cap * vsz)))
				abort();
			continue;
		}
		if (err && errno != ENOENT && errno != ENOSPC) {
			if (first) {
				free(k);
				free(v);
				return -1;
			}
			break;
		}
		for (__u32 i = 0; i < cnt; i++)
			fn(k + i * ksz, v + i * vsz, ctx);
		n += cnt;
		if (err && errno == ENOENT)
			break;
		in = out;
		first = false;
	}
	free(k);
	free(v);
	return n;
}

size_t bpf_map_each(int fd, size_t ksz, size_t vsz, bpf_map_visit_fn fn, void *ctx)
{
	ssize_t got = map_each_batch(fd, ksz, vsz, fn, ctx);
	char *cur, *prev, *val;
	bool have_prev = false;
	size_t n = 0;

	if (got >= 0)
		return got;
	if (!(cur = malloc(ksz)) || !(prev = malloc(ksz)) || !(val = malloc(vsz)))
		abort();
	while (!bpf_map_get_next_key(fd, have_prev ? prev : NULL, cur)) {
		if (!bpf_map_lookup_elem(fd, cur, val)) {
			fn(cur, val, ctx);
			n++;
		}
		memcpy(prev, cur, ksz);
		have_prev = true;
	}
	free(cur);
	free(prev);
	free(val);
	return n;
}

struct dump {
	size_t ksz, vsz, n, capk, capv;
	char *k, *v;
};

static void dump_one(const void *key, const void *val, void *ctx)
{
	struct dump *d = ctx;

	d->k = array_grow(d->k, d->n, &d->capk, d->ksz, 1024);
	d->v = array_grow(d->v, d->n, &d->capv, d->vsz, 1024);
	memcpy(d->k + d->n * d->ksz, key, d->ksz);
	memcpy(d->v + d->n * d->vsz, val, d->vsz);
	d->n++;
}

size_t bpf_map_dump(int fd, size_t ksz, size_t vsz, void **keys, void **vals)
{
	struct dump d = { .ksz = ksz, .vsz = vsz };

	bpf_map_each(fd, ksz, vsz, dump_one, &d);
	*keys = d.k;
	*vals = d.v;
	return d.n;
}

#define KERNEL_BTF "/sys/kernel/btf/vmlinux"

const struct bpf_object_open_opts *bpf_open_opts(void)
{
	static struct bpf_object_open_opts opts = { .sz = sizeof(opts) };

	/* Without the file (a kernel without BTF) libbpf's own search stands,
	 * and bpf_preflight has said what is missing. */
	opts.btf_custom_path = access(KERNEL_BTF, R_OK) == 0 ? KERNEL_BTF : NULL;
	return &opts;
}
