/* Run-time feature detection: what this kernel lets memscope use. Probed
 * once by features_probe(); every tool picks its hooks from the result. */
#ifndef MEMSCOPE_KFEATURES_H
#define MEMSCOPE_KFEATURES_H

#include <stdbool.h>
#include <stdio.h>

struct features {
	bool btf;         /* /sys/kernel/btf/vmlinux: CO-RE and tp_btf need it */
	bool tracefs;     /* tracefs mounted (memscope mounts it if it can) */
	bool ringbuf;     /* BPF_MAP_TYPE_RINGBUF (5.8) */
	bool tp_btf;      /* BTF-typed raw tracepoints (5.5) attach */
	bool raw_tp;      /* raw tracepoints (4.17) attach */
	bool tracepoint;  /* classic perf tracepoints attach */
	bool uprobe;      /* uprobe PMU present */
	bool kprobe;      /* kprobe PMU present and a kprobe attaches */
	bool fentry;      /* fentry attaches (denied by some lockdown setups) */
	bool sk_storage;  /* BPF_MAP_TYPE_SK_STORAGE (5.2) */
	bool cgroup_sock; /* cgroup/sock_create programs load */
	bool find_vma;    /* bpf_find_vma helper (5.17) */
	bool bpf_loop;    /* bpf_loop helper (5.17): the interpreter frame walks */
	bool task_storage; /* BPF_MAP_TYPE_TASK_STORAGE (5.11): memleak-trace's per-thread state */
	bool callbacks;   /* helpers that take a callback, bpf_for_each_map_elem (5.13): sockleak's fd walks */
	bool fault_tp;    /* exceptions:page_fault_user tracepoint (x86) */
	char tracefs_path[64];
};

/* The hook kinds a tool can ask for, best first in each list it passes. */
enum hook_kind { HOOK_NONE, HOOK_TP_BTF, HOOK_RAW_TP, HOOK_TRACEPOINT, HOOK_KPROBE, HOOK_FENTRY };

int features_probe(struct features *f);
const struct features *features_get(void); /* probes on first call */
void features_print(FILE *out, const struct features *f);
const char *hook_kind_name(enum hook_kind k);
bool hook_kind_available(const struct features *f, enum hook_kind k);

/* Mount tracefs at /sys/kernel/tracing if it is not mounted anywhere.
 * Returns the path in use, or NULL. */
const char *tracefs_ensure(void);
/* Does tracepoint category:name exist (tracefs events directory)? */
bool tracepoint_exists(const char *category, const char *name);
/* Does the running kernel's BTF know type `name` of the given kind
 * (BTF_KIND_*)? For example btf_trace_mark_victim for tp_btf. */
bool kernel_btf_has(const char *name, int kind);
/* Is argument `arg` (0 = the first after the hidden data pointer) of
 * tracepoint tp_name a pointer in the kernel's BTF (btf_trace_<tp_name>)?
 * A tracepoint's arguments change across kernels: oom:mark_victim passes
 * the task from 6.9 (and Debian's 6.1), only its pid before. */
bool kernel_tp_arg_is_pointer(const char *tp_name, int arg);
/* The value of enumerator `name` of the kernel's `enum type` (BTF). */
bool kernel_enum_value(const char *type, const char *name, long long *val);
/* The kernel's tracepoint format file has field `field`? */
bool tracepoint_has_field(const char *category, const char *name, const char *field);

/* The transparent huge page mode, /sys/kernel/mm/transparent_hugepage/
 * enabled: "always", "madvise", "never", or NULL if unknown (no THP). */
const char *thp_mode_name(void);

/* First usable kind among `prefs` (terminated by HOOK_NONE). For
 * HOOK_TP_BTF it also checks the BTF type btf_trace_<tp_name> exists, for
 * HOOK_TRACEPOINT/RAW_TP that the tracepoint exists. */
enum hook_kind hook_choose(const struct features *f, const char *category,
			   const char *tp_name, const enum hook_kind *prefs);

#endif
