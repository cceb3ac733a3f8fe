/* memdiag's figures for people, shared by its views: sizes, rates and
 * durations from a few rotating buffers, so that one printf can hold
 * several; and a limit for JSON (null when unlimited). */
#ifndef MEMSCOPE_MEMDIAG_FMT_H
#define MEMSCOPE_MEMDIAG_FMT_H

#include <stdint.h>

struct jw;

/* "1.2 MiB" */
const char *md_size(uint64_t bytes);
/* A signed size: "+1.2 MiB", "-300 KiB". */
const char *md_size_delta(double bytes);
/* A trend per minute, shown per second: "+1.2 MiB/s". */
const char *md_rate(double per_min);
/* "3.2 s", "4 min" */
const char *md_duration(double s);
/* The kernel keeps no usage counter for the root cgroup: memdiag adds
 * its rss and cache, while a child's counter also charges kernel memory
 * (slab, stacks, page tables, sockets), so a child can show more. */
#define ROOT_USAGE_WHY " (the root has no usage counter: no kernel memory, which its children's usage counts)"
void md_jw_limit(struct jw *w, const char *key, uint64_t v);

#endif
