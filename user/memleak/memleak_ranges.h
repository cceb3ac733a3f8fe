/* memleak-trace: the exact interval map of a process's tracked mappings.
 * Ranges never overlap; removing [lo, hi) trims or splits what it covers,
 * so partial munmap, munmap across several mappings, MAP_FIXED
 * replacement and mremap moves all stay exact. */
#ifndef MEMSCOPE_MEMLEAK_RANGES_H
#define MEMSCOPE_MEMLEAK_RANGES_H

#include <stddef.h>
#include <stdint.h>

struct mrange {
	uint64_t start, end;    /* [start, end) */
	uint64_t ts;            /* when it was mapped (ns, monotonic) */
	uint32_t owner;         /* stack index */
};

struct ranges;
struct ranges *ranges__new(void);
void ranges__free(struct ranges *r);
/* Track [start, end); the caller has removed any overlap first. */
int ranges__insert(struct ranges *r, uint64_t start, uint64_t end, uint32_t owner, uint64_t ts);
/* Untrack [lo, hi). For every piece removed, cb gets it with the owner
 * and ts of the range it came from (cb may be NULL). Returns bytes removed. */
typedef void (*mrange_cb)(const struct mrange *piece, void *ctx);
uint64_t ranges__remove(struct ranges *r, uint64_t lo, uint64_t hi, mrange_cb cb, void *ctx);
/* Visit in address order; a non-zero return stops the walk. */
int ranges__foreach(const struct ranges *r, int (*cb)(const struct mrange *m, void *ctx), void *ctx);
/* The range holding addr, or NULL. */
const struct mrange *ranges__find(const struct ranges *r, uint64_t addr);
/* Extend the range of owner that ends at start to end ([start, end) is
 * free): 0, or -1 if no range of owner ends there. One range then stands
 * for a run of pages touched one after the other (--faults). */
int ranges__extend(struct ranges *r, uint64_t start, uint64_t end, uint32_t owner);
size_t ranges__count(const struct ranges *r);
uint64_t ranges__bytes(const struct ranges *r);
void ranges__clear(struct ranges *r);

#endif
