/* libbpf plumbing shared by the tracers: logging, the start-up checks
 * (privileges, BTF), and loss counters. */
#ifndef MEMSCOPE_BPFUTIL_H
#define MEMSCOPE_BPFUTIL_H

#include <stdbool.h>
#include <bpf/libbpf.h>

/* libbpf's own log only with -v. */
void bpf_log_setup(bool verbose);
/* Privileges, BTF, ring buffer: one clear line and -1 when missing. */
/* What a tool's programs need beyond BTF and the ring buffer. */
enum bpf_need {
	NEED_TASK_STORAGE = 1 << 0, /* task-local storage maps (5.11) */
	NEED_CALLBACKS = 1 << 1,    /* helpers with callbacks (5.13) */
};
int bpf_preflight(const char *tool, unsigned needs);
/* Options for a skeleton's open: CO-RE relocates against the kernel's own
 * BTF file. libbpf would otherwise look through the modules' BTF for a type
 * vmlinux lacks (the flavours kept for other kernels), and listing BTF
 * objects needs CAP_SYS_ADMIN: with only CAP_BPF and CAP_PERFMON (the
 * systemd unit's and the DaemonSet's set) every load failed. */
const struct bpf_object_open_opts *bpf_open_opts(void);
/* Explain a load/attach failure: what failed, why and what to do. */
void bpf_explain(const char *what, int err);

/* Called once per entry of a map walk; key and val are only valid during the call. */
typedef void (*bpf_map_visit_fn)(const void *key, const void *val, void *ctx);
/* Every entry of a BPF hash map: in batches of thousands per syscall where
 * the kernel has batch lookups (a million entries in a few hundred ms),
 * else key by key. An entry deleted during the walk is skipped. Returns
 * the number visited. */
size_t bpf_map_each(int fd, size_t ksz, size_t vsz, bpf_map_visit_fn fn, void *ctx);
/* The same, copied into two malloc'd arrays (*keys, *vals; free both). */
size_t bpf_map_dump(int fd, size_t ksz, size_t vsz, void **keys, void **vals);

#endif
