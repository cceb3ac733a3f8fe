// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Each probe loads a two-instruction program and, where attaching is what
 * can fail (fentry under some lockdown setups, kprobes on kernels built
 * without them), attaches it too: a program type that loads but cannot
 * attach is of no use to a tracer. */
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "interpreters.h"
#include "kfeatures.h"
#include "jvm.h"
#include "symbolize.h"
#include "procfs.h"

#define BTF_PATH "/sys/kernel/btf/vmlinux"

static const struct bpf_insn ret0[] = {
	{ .code = 0xb7, .dst_reg = 0, .imm = 0 }, /* r0 = 0 */
	{ .code = 0x95 },                          /* exit */
};

static char tracefs_dir[64];

const char *tracefs_ensure(void)
{
	static const char *candidates[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char path[128];

	if (tracefs_dir[0])
		return tracefs_dir;
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/events", candidates[i]);
		if (access(path, F_OK) == 0) {
			snprintf(tracefs_dir, sizeof(tracefs_dir), "%s", candidates[i]);
			return tracefs_dir;
		}
	}
	if (mount("tracefs", candidates[0], "tracefs", 0, NULL) == 0) {
		snprintf(tracefs_dir, sizeof(tracefs_dir), "%s", candidates[0]);
		return tracefs_dir;
	}
	return NULL;
}

static int tracepoint_id(const char *category, const char *name)
{
	const char *dir = tracefs_ensure();
	char path[256], buf[32] = "";
	FILE *f;

	if (!dir)
		return -ENOENT;
	snprintf(path, sizeof(path), "%s/events/%s/%s/id", dir, category, name);
	f = fopen(path, "r");
	if (!f)
		return -ENOENT;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return buf[0] ? atoi(buf) : -ENOENT;
}

bool tracepoint_exists(const char *category, const char *name)
{
	return tracepoint_id(category, name) >= 0;
}

bool tracepoint_has_field(const char *category, const char *name, const char *field)
{
	const char *dir = tracefs_ensure();
	char path[256], line[512];
	size_t flen = strlen(field);
	bool found = false;
	FILE *f;

	if (!dir)
		return false;
	snprintf(path, sizeof(path), "%s/events/%s/%s/format", dir, category, name);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		/* "\tfield:int pid;\toffset:..." : the name ends at ';' or '['. */
		char *semi = strchr(line, ';');
		if (!strstr(line, "field:") || !semi)
			continue;
		char *end = memchr(line, '[', semi - line) ?: semi;
		found = end - line > (long)flen && !strncmp(end - flen, field, flen) &&
			(end[-(long)flen - 1] == ' ' || end[-(long)flen - 1] == '*');
	}
	fclose(f);
	return found;
}

static struct btf *vmlinux_btf(void)
{
	static struct btf *btf;
	static bool tried;

	if (!tried) {
		tried = true;
		btf = btf__load_vmlinux_btf();
		if (!btf)
			btf = NULL;
	}
	return btf;
}

bool kernel_btf_has(const char *name, int kind)
{
	struct btf *btf = vmlinux_btf();

	return btf && btf__find_by_name_kind(btf, name, kind) > 0;
}

bool kernel_tp_arg_is_pointer(const char *tp_name, int arg)
{
	struct btf *btf = vmlinux_btf();
	const struct btf_type *t;
	char name[128];
	int id;

	snprintf(name, sizeof(name), "btf_trace_%s", tp_name);
	if (!btf || (id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF)) <= 0)
		return false;
	/* typedef void (*btf_trace_x)(void *__data, args...) */
	t = btf__type_by_id(btf, btf__resolve_type(btf, id));
	if (!t || !btf_is_ptr(t))
		return false;
	t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_func_proto(t) || btf_vlen(t) <= arg + 1)
		return false;
	t = btf__type_by_id(btf, btf__resolve_type(btf, btf_params(t)[arg + 1].type));
	return t && btf_is_ptr(t);
}

bool kernel_enum_value(const char *type, const char *name, long long *val)
{
	struct btf *btf = vmlinux_btf();
	const struct btf_type *t;
	int id;

	if (!btf || (id = btf__find_by_name_kind(btf, type, BTF_KIND_ENUM)) <= 0)
		return false;
	t = btf__type_by_id(btf, id);
	for (int i = 0; i < btf_vlen(t); i++) {
		const struct btf_enum *e = btf_enum(t) + i;

		if (!strcmp(btf__name_by_offset(btf, e->name_off), name)) {
			*val = e->val;
			return true;
		}
	}
	return false;
}

static int load_prog(enum bpf_prog_type type, enum bpf_attach_type attach, __u32 btf_id)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = attach, .attach_btf_id = btf_id);

	return bpf_prog_load(type, NULL, "GPL", ret0, 2, &opts);
}

static bool probe_raw_tp(void)
{
	int prog = load_prog(BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0), link;

	if (prog < 0)
		return false;
	link = bpf_raw_tracepoint_open("sched_process_exit", prog);
	close(prog);
	if (link < 0)
		return false;
	close(link);
	return true;
}

/* tp_btf and fentry share the program type; they differ in the BTF id
 * they attach to and, for fentry, in the trampoline that lockdown may deny. */
static bool probe_tracing(enum bpf_attach_type attach, const char *target, int kind)
{
	struct btf *btf = vmlinux_btf();
	int id, prog, link;

	if (!btf || (id = btf__find_by_name_kind(btf, target, kind)) <= 0)
		return false;
	prog = load_prog(BPF_PROG_TYPE_TRACING, attach, id);
	if (prog < 0)
		return false;
	link = bpf_raw_tracepoint_open(NULL, prog);
	close(prog);
	if (link < 0)
		return false;
	close(link);
	return true;
}

static int perf_open(struct perf_event_attr *attr)
{
	return syscall(__NR_perf_event_open, attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
}

static bool probe_tracepoint(void)
{
	struct perf_event_attr attr = { .type = PERF_TYPE_TRACEPOINT, .size = sizeof(attr),
					.sample_period = 1, .wakeup_events = 1 };
	int id = tracepoint_id("sched", "sched_process_exit"), prog, pfd;
	bool ok;

	if (id < 0)
		return false;
	attr.config = id;
	prog = load_prog(BPF_PROG_TYPE_TRACEPOINT, 0, 0);
	if (prog < 0)
		return false;
	pfd = perf_open(&attr);
	ok = pfd >= 0 && ioctl(pfd, PERF_EVENT_IOC_SET_BPF, prog) == 0;
	if (pfd >= 0)
		close(pfd);
	close(prog);
	return ok;
}

static int pmu_type(const char *pmu)
{
	char path[128], buf[16] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/event_source/devices/%s/type", pmu);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return buf[0] ? atoi(buf) : -1;
}

static bool probe_kprobe(void)
{
	struct perf_event_attr attr = { .size = sizeof(attr) };
	int type = pmu_type("kprobe"), pfd;

	if (type < 0)
		return false;
	attr.type = type;
	attr.config1 = (__u64)(unsigned long)"vfs_read";
	pfd = perf_open(&attr);
	if (pfd < 0)
		return false;
	close(pfd);
	return true;
}

static bool probe_cgroup_sock(void)
{
	int prog = load_prog(BPF_PROG_TYPE_CGROUP_SOCK, BPF_CGROUP_INET_SOCK_CREATE, 0);

	if (prog < 0)
		return false;
	close(prog);
	return true;
}

int features_probe(struct features *f)
{
	const char *tfs;

	memset(f, 0, sizeof(*f));
	f->btf = access(BTF_PATH, R_OK) == 0;
	tfs = tracefs_ensure();
	f->tracefs = tfs != NULL;
	if (tfs)
		snprintf(f->tracefs_path, sizeof(f->tracefs_path), "%s", tfs);
	f->ringbuf = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) > 0;
	f->sk_storage = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_SK_STORAGE, NULL) > 0;
	f->find_vma = libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_find_vma, NULL) > 0;
	f->bpf_loop = libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_loop, NULL) > 0;
	f->task_storage = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, NULL) > 0;
	f->callbacks = libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_for_each_map_elem, NULL) > 0;
	f->raw_tp = probe_raw_tp();
	f->tp_btf = f->btf && probe_tracing(BPF_TRACE_RAW_TP, "btf_trace_sched_process_exit", BTF_KIND_TYPEDEF);
	f->tracepoint = probe_tracepoint();
	f->uprobe = pmu_type("uprobe") >= 0;
	f->cgroup_sock = probe_cgroup_sock();
	f->fault_tp = tracepoint_exists("exceptions", "page_fault_user");
	return 0;
}

/* Test hook: MEMSCOPE_TEST_NO_HOOKS=tp_btf,raw_tp,... makes the tools see
 * a kernel without those hook kinds, so that the fallback each tool would
 * pick there is exercised on the kernel at hand. */
static void features_mask(struct features *f)
{
	const char *v = getenv("MEMSCOPE_TEST_NO_HOOKS");
	char *copy, *tok, *save = NULL;

	if (!v || !(copy = strdup(v)))
		return;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		f->tp_btf &= strcmp(tok, "tp_btf") != 0;
		f->raw_tp &= strcmp(tok, "raw_tp") != 0;
		f->tracepoint &= strcmp(tok, "tracepoint") != 0;
		f->kprobe &= strcmp(tok, "kprobe") != 0;
		f->fentry &= strcmp(tok, "fentry") != 0;
		f->fault_tp &= strcmp(tok, "page_fault_user") != 0;
		f->find_vma &= strcmp(tok, "find_vma") != 0;
		f->bpf_loop &= strcmp(tok, "bpf_loop") != 0;
		f->task_storage &= strcmp(tok, "task_storage") != 0;
		f->callbacks &= strcmp(tok, "callbacks") != 0;
	}
	free(copy);
}

const struct features *features_get(void)
{
	static struct features f;
	static bool probed;

	if (!probed) {
		features_probe(&f);
		features_mask(&f);
		probed = true;
	}
	return &f;
}

static const char *yes_no(bool b)
{
	return b ? "yes" : "NO";
}

/* kprobes and fentry: no tool hooks them, and attaching one rewrites
 * kernel text (vfs_read's entry, through ftrace) on a live host, so they
 * are probed only when --features asks (under QEMU's TCG such a patch at
 * every tool start soft-locked a CPU running vfs_read). */
static void probe_patching_hooks(struct features *f)
{
	f->fentry = f->btf && probe_tracing(BPF_TRACE_FENTRY, "vfs_read", BTF_KIND_FUNC);
	f->kprobe = probe_kprobe();
}

void features_print(FILE *out, const struct features *given)
{
	struct features copy = *given, *f = &copy;

	probe_patching_hooks(f);
	features_mask(f);       /* MEMSCOPE_TEST_NO_HOOKS=kprobe,fentry too */
	fprintf(out, "kernel BTF (%s): %s\n", BTF_PATH, yes_no(f->btf));
	fprintf(out, "tracefs: %s\n", f->tracefs ? f->tracefs_path : "NO (not mounted and mount failed)");
	fprintf(out, "ring buffer: %s\n", yes_no(f->ringbuf));
	fprintf(out, "hooks: tp_btf %s, raw_tp %s, tracepoint %s, uprobe %s, kprobe %s, fentry %s\n",
		yes_no(f->tp_btf), yes_no(f->raw_tp), yes_no(f->tracepoint), yes_no(f->uprobe), yes_no(f->kprobe), yes_no(f->fentry));
	fprintf(out, "sockets: sk_storage %s, cgroup/sock_create %s\n", yes_no(f->sk_storage), yes_no(f->cgroup_sock));
	fprintf(out, "page faults: exceptions:page_fault_user %s, bpf_find_vma %s\n", yes_no(f->fault_tp),
		yes_no(f->find_vma));
	fprintf(out, "interpreter frames (" INTERP_VERSIONS "): bpf_loop %s\n", yes_no(f->bpf_loop));
	/* Named in user space from the runtime's own perf map: no kernel
	 * feature, listed so that one command says what is named. */
	fprintf(out, "JIT frames: Node.js (--perf-basic-prof; a version whose V8 frames are not read) and JVM (" JVM_VERIFIED " verified; any HotSpot "
		"writing a perf map) from /tmp/perf-PID.map: compiled Java methods by name, interpreted ones as "
		"\"" JVM_INTERPRETED "\", memleak-trace --jvm-perfmap: dumped by jcmd (OpenJDK 17+)\n");
	fprintf(out, "memleak-trace: task storage %s; sockleak: bpf_for_each_map_elem %s\n", yes_no(f->task_storage),
		yes_no(f->callbacks));
}

const char *hook_kind_name(enum hook_kind k)
{
	static const char *names[] = { "none", "tp_btf", "raw_tp", "tracepoint", "kprobe", "fentry" };

	return k <= HOOK_FENTRY ? names[k] : "?";
}

bool hook_kind_available(const struct features *f, enum hook_kind k)
{
	switch (k) {
	case HOOK_TP_BTF: return f->tp_btf;
	case HOOK_RAW_TP: return f->raw_tp;
	case HOOK_TRACEPOINT: return f->tracepoint;
	case HOOK_KPROBE: return f->kprobe;
	case HOOK_FENTRY: return f->fentry;
	default: return false;
	}
}

enum hook_kind hook_choose(const struct features *f, const char *category, const char *tp_name,
			   const enum hook_kind *prefs)
{
	char btf_name[128];

	for (; *prefs != HOOK_NONE; prefs++) {
		if (!hook_kind_available(f, *prefs))
			continue;
		switch (*prefs) {
		case HOOK_TP_BTF:
			snprintf(btf_name, sizeof(btf_name), "btf_trace_%s", tp_name);
			if (kernel_btf_has(btf_name, BTF_KIND_TYPEDEF))
				return HOOK_TP_BTF;
			break;
		case HOOK_RAW_TP:
		case HOOK_TRACEPOINT:
			if (tracepoint_exists(category, tp_name))
				return *prefs;
			break;
		default:
			return *prefs;
		}
	}
	return HOOK_NONE;
}

const char *thp_mode_name(void)
{
	static const char *const modes[] = { "always", "madvise", "never" };
	char *buf = NULL;
	const char *mode = NULL;

	if (read_file("/sys/kernel/mm/transparent_hugepage/enabled", &buf) < 0)
		return NULL;
	/* "always [madvise] never": the one in brackets is in force. */
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]) && !mode; i++) {
		char want[16];

		snprintf(want, sizeof(want), "[%s]", modes[i]);
		if (strstr(buf, want))
			mode = modes[i];
	}
	free(buf);
	return mode;
}
