/* memleak-trace --malloc: uprobes on the target's allocator and the
 * kernel-side tables they fill. */
#ifndef MEMSCOPE_MEMLEAK_MALLOC_H
#define MEMSCOPE_MEMLEAK_MALLOC_H

#include <stdbool.h>
#include <sys/types.h>

#include "memleak_report.h"
#include "memleak_track.h"

struct bpf_program;
struct malloc_probes;

/* The skeleton's allocator programs and maps (the skeleton itself is
 * included by the tool's main only). */
struct malloc_bpf {
	struct bpf_program *malloc_enter, *calloc_enter, *realloc_enter, *reallocarray_enter,
		*posix_memalign_enter, *memalign_enter, *valloc_enter, *pvalloc_enter,
		*free_enter, *alloc_return;
	int allocs_fd, aggs_fd;
};

/* Attach to the allocator the process really uses: each library or
 * executable it maps that defines malloc and free other than libc (which
 * it interposes), else libc; plus libstdc++'s operator new. For a command
 * not exec'd yet (cmd: its argv[0]), its executable, LD_PRELOAD and
 * direct DT_NEEDED libraries. NULL with the error printed; probes on
 * nothing when no allocator is found (malloc_probes__names: NULL). */
struct malloc_probes *malloc_probes__attach(const struct malloc_bpf *skel, pid_t pid, const char *cmd,
					    bool verbose);
/* The probed allocators' file names ("libjemalloc.so.2, ..."), or NULL. */
const char *malloc_probes__names(const struct malloc_probes *mp);
void malloc_probes__free(struct malloc_probes *mp);
struct bpf_link;
/* Destroy links concurrently (each waits for a grace period); NULLs skipped. */
void links_destroy(struct bpf_link **links, int n);
/* Copy the kernel's per-stack totals into the tracker (growth); with
 * --sample they are the kernel's estimates (alloc_info.weight). */
void malloc_sync(const struct malloc_bpf *skel, struct tracker *t);
/* Outstanding blocks per stack (older than min_age_ns) into acc[0..n),
 * each counted for the calls it stands for. */
void malloc_collect(const struct malloc_bpf *skel, struct tracker *t, struct stack_acc *acc, uint32_t n,
		    uint64_t now_ns, uint64_t min_age_ns);

#endif
