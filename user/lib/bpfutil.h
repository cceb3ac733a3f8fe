/* libbpf plumbing shared by the tracers: logging, the start-up checks
 * (privileges, BTF), and loss counters. */
#ifndef MEMSCOPE_BPFUTIL_H
#define MEMSCOPE_BPFUTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <bpf/libbpf.h>

/* libbpf's own log only with -v. */
void bpf_log_setup(bool verbose);
/* Privileges, BTF, ring buffer: one clear line and -1 when missing. */
int bpf_preflight(void);
/* What a tool's own build of its programs needs beyond BTF and the ring
 * buffer; without one of them the tool loads its compat build instead
 * (bpf/compat.bpf.h, made for 5.10). */
enum bpf_need {
	NEED_TASK_STORAGE = 1 << 0, /* task-local storage maps (5.11) */
	NEED_CALLBACKS = 1 << 1,    /* helpers with callbacks (5.13) */
};
/* Options for a skeleton's open: CO-RE relocates against the kernel's own
 * BTF file. libbpf would otherwise look through the modules' BTF for a type
 * vmlinux lacks (the flavours kept for other kernels), and listing BTF
 * objects needs CAP_SYS_ADMIN: with only CAP_BPF and CAP_PERFMON (the
 * systemd unit's and the DaemonSet's set) every load failed. */
const struct bpf_object_open_opts *bpf_open_opts(void);
/* Should the compat build be loaded? True when the kernel lacks one of
 * `needs`; says so in one line on `notes` (once) when it is. */
bool bpf_use_compat(const char *tool, unsigned needs, FILE *notes);

/* Open skeleton NAME (struct NAME) from its own object or, when compat,
 * from the bytes of NAME_compat, the compat build of the same source: the
 * build checked that both skeletons have one layout
 * (scripts/skel-same-layout). NULL with errno set on failure. */
#define BPF_SKEL_OPEN(name, compat) ({                                                  \
	struct name *o_ = NULL;                                                         \
	int e_ = 0;                                                                     \
	if (!(compat)) {                                                                \
		o_ = name##__open_opts(bpf_open_opts());                                \
	} else if (!(o_ = calloc(1, sizeof(*o_)))) {                                    \
		errno = ENOMEM;                                                         \
	} else if ((e_ = name##__create_skeleton(o_)) == 0) {                           \
		o_->skeleton->data = (void *)name##_compat__elf_bytes(&o_->skeleton->data_sz); \
		e_ = bpf_object__open_skeleton(o_->skeleton, bpf_open_opts());         \
	}                                                                               \
	if (e_) {                                                                       \
		name##__destroy(o_);                                                    \
		o_ = NULL;                                                              \
		errno = e_ < 0 ? -e_ : e_;                                              \
	}                                                                               \
	o_;                                                                             \
})
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
