/* memleak-trace --pprof FILE: the report as a pprof profile (profile.proto,
 * gzipped), what go tool pprof, Pyroscope, Parca and Cloud Profiler read. */
#ifndef MEMSCOPE_MEMLEAK_PPROF_H
#define MEMSCOPE_MEMLEAK_PPROF_H

#include <stdint.h>
#include <sys/types.h>

#include "symbolize.h"

/* The values of one sample, in the order of the profile's sample types
 * (Go's heap profiles use the same): what the stack allocated during the
 * trace, and what it still holds. */
struct pprof_values {
	int64_t alloc_objects, alloc_space, inuse_objects, inuse_space;
};

struct pprof;
/* comment: one line stored in the profile, what the numbers mean (objects
 * are counts, as in Go's heap profiles: allocations, or pages with
 * --faults). */
struct pprof *pprof__new(const char *comment);
/* One stack of process pid: frames[0] innermost, as the symbolizer gave
 * them (inlined frames before the function they are in). sym names the
 * binaries (mappings, build ids); kind is a label ("anon", "malloc"...). */
void pprof__add(struct pprof *pp, pid_t pid, struct symbolizer *sym, const struct frame *frames,
		int nframes, const char *kind, const struct pprof_values *v);
/* Write the profile (gzipped) to path, replacing it whole; duration_s:
 * how long the trace ran. 0, or -1 with errno set. */
int pprof__write(struct pprof *pp, const char *path, double duration_s);
void pprof__free(struct pprof *pp);

#endif
