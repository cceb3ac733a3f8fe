/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * floor: loads the empty programs of bpf/floor.bpf.c on one group of the
 * hooks the memscope tracers use, prints "Tracing ..." on stderr like the
 * tools do, and holds them until SIGINT/SIGTERM. The benchmark runs a
 * workload under it to measure the cost of the hooks alone.
 *
 *   floor --mmap               memleak-trace's tracepoints (mmap/munmap/mremap/brk exits, exec)
 *   floor --sock               sockleak's tracepoints (socket/accept/close/dup/fcntl..., fork/exit, TCP state)
 *   floor --uprobe LIB -p PID  malloc/calloc/realloc entry+return, free entry
 *                              on library LIB, for process PID only
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "floor.skel.h"

/* The tracepoint programs of each group (floor_<tracepoint>), the hooks
 * each tool attaches by default: keep in step with bpf/memleak.bpf.c and
 * bpf/sockleak.bpf.c. */
static const char *const mmap_tps[] = {
	"sys_exit_mmap", "sys_exit_munmap", "sys_exit_mremap", "sys_exit_brk",
	"sched_process_exec", NULL,
};
static const char *const sock_tps[] = {
	"sys_exit_socket", "sys_exit_accept", "sys_exit_accept4", "sys_enter_socketpair",
	"sys_exit_socketpair", "sys_enter_close", "sys_enter_close_range",
	"sys_exit_close_range", "sys_enter_dup", "sys_exit_dup", "sys_enter_dup2",
	"sys_exit_dup2", "sys_enter_dup3", "sys_exit_dup3", "sys_enter_fcntl",
	"sys_exit_fcntl", "sched_process_fork", "sched_process_exit",
	"sched_process_exec", "inet_sock_set_state", NULL,
};

/* Allocator probes: program name, function, return probe? */
static const struct uprobe_spec {
	const char *prog, *func;
	bool ret;
} uprobes[] = {
	{ "floor_malloc", "malloc", false },   { "floor_malloc_ret", "malloc", true },
	{ "floor_calloc", "calloc", false },   { "floor_calloc_ret", "calloc", true },
	{ "floor_realloc", "realloc", false }, { "floor_realloc_ret", "realloc", true },
	{ "floor_free", "free", false },
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static struct bpf_program *prog_by_name(struct floor *skel, const char *name)
{
	struct bpf_program *p = bpf_object__find_program_by_name(skel->obj, name);

	if (!p) {
		fprintf(stderr, "floor: no program %s in floor.bpf.o\n", name);
		exit(1);
	}
	return p;
}

/* Turn on the programs of a group; returns how many were off before. */
static int enable_tps(struct floor *skel, const char *const *tps)
{
	char name[64];
	int n = 0;

	for (; *tps; tps++) {
		struct bpf_program *p;

		snprintf(name, sizeof(name), "floor_%s", *tps);
		p = prog_by_name(skel, name);
		n += !bpf_program__autoload(p);
		bpf_program__set_autoload(p, true);
	}
	return n;
}

static int attach_uprobes(struct floor *skel, const char *lib, pid_t pid)
{
	size_t i;

	for (i = 0; i < sizeof(uprobes) / sizeof(uprobes[0]); i++) {
		LIBBPF_OPTS(bpf_uprobe_opts, uo, .func_name = uprobes[i].func,
			    .retprobe = uprobes[i].ret);
		struct bpf_link *l;

		l = bpf_program__attach_uprobe_opts(prog_by_name(skel, uprobes[i].prog),
						    pid ? pid : -1, lib, 0, &uo);
		if (!l) {
			fprintf(stderr, "floor: uprobe %s:%s: %s\n", lib, uprobes[i].func,
				strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: floor [--mmap] [--sock] [--uprobe LIB] [-p PID]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mmap", no_argument, NULL, 'm' },
		{ "sock", no_argument, NULL, 's' },
		{ "uprobe", required_argument, NULL, 'u' },
		{ "pid", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	bool want_mmap = false, want_sock = false;
	const char *lib = NULL;
	struct floor *skel;
	struct bpf_program *prog;
	pid_t pid = 0;
	int c, ntp = 0, err;

	while ((c = getopt_long(argc, argv, "p:", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': want_mmap = true; break;
		case 's': want_sock = true; break;
		case 'u': lib = optarg; break;
		case 'p': pid = atoi(optarg); break;
		default: usage();
		}
	}
	if (optind != argc || (!want_mmap && !want_sock && !lib))
		usage();
	libbpf_set_print(libbpf_quiet);

	skel = floor__open();
	if (!skel) {
		fprintf(stderr, "floor: open: %s\n", strerror(errno));
		return 1;
	}
	/* Everything off, then the requested groups on. */
	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, false);
	if (want_mmap)
		ntp += enable_tps(skel, mmap_tps);
	if (want_sock)
		ntp += enable_tps(skel, sock_tps);
	if (lib)
		for (size_t i = 0; i < sizeof(uprobes) / sizeof(uprobes[0]); i++)
			bpf_program__set_autoload(prog_by_name(skel, uprobes[i].prog), true);

	err = floor__load(skel);
	if (err) {
		fprintf(stderr, "floor: load: %s (run as root)\n", strerror(-err));
		goto out;
	}
	/* Tracepoints attach from their SEC(); uprobes need a library and a pid. */
	bpf_object__for_each_program(prog, skel->obj) {
		if (!bpf_program__autoload(prog) || !strncmp(bpf_program__section_name(prog), "uprobe", 6) ||
		    !strncmp(bpf_program__section_name(prog), "uretprobe", 9))
			continue;
		if (!bpf_program__attach(prog)) {
			err = -errno;
			fprintf(stderr, "floor: attach %s: %s\n", bpf_program__name(prog), strerror(errno));
			goto out;
		}
	}
	if (lib && attach_uprobes(skel, lib, pid)) {
		err = -1;
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "Tracing floor: %d empty tracepoint programs%s%s\n", ntp,
		lib ? ", empty uprobes on " : "", lib ? lib : "");
	while (!stopping)
		sleep(1); /* a signal cuts it short */
out:
	/* The links are not kept: they close with the process. */
	floor__destroy(skel);
	return err ? 1 : 0;
}
