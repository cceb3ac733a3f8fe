/* The kernel's per-memcg page-state array (memcg->vmstats->state[], what
 * memory.stat and the kernel's OOM report print) read raw by a BPF
 * program, turned into memory.stat buckets. Which slot holds which counter
 * depends on the kernel: up to 6.10 the slot is the enum value itself
 * (node_stat_item, then memcg_stat_item); from 6.11 the array holds only
 * the items memcg accounts, in the order of the kernel's
 * memcg_node_stat_items[] then memcg_stat_items[]. The enum values come
 * from the running kernel's BTF; the array length tells the layouts apart. */
#ifndef MEMSCOPE_MEMCG_STATE_H
#define MEMSCOPE_MEMCG_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include "memstat.h"

/* The value of enumerator `name` of `enum type`; false when the kernel has
 * no such enumerator. Tests pass their own. */
typedef bool (*enum_value_fn)(const char *type, const char *name, long long *val, void *ctx);

struct memcg_state_map {
	bool ok;                 /* a layout this build knows */
	bool compact;            /* the 6.11+ layout */
	uint32_t len;            /* the kernel's array length */
	int slot[MS_NFIELDS];    /* -1: not available */
};

/* Build the map for an array of state_len longs. */
void memcg_state_map_build(struct memcg_state_map *m, uint32_t state_len, enum_value_fn fn, void *ctx);
/* The running kernel's enum values (vmlinux BTF). */
bool memcg_state_kernel_enum(const char *type, const char *name, long long *val, void *ctx);
/* Fill ms (bytes; refaults as counts) from n longs of the array; false
 * when the map is unusable. */
bool memcg_state_to_memstat(const struct memcg_state_map *m, const int64_t *state, uint32_t n,
			    long page_size, struct memstat *ms);

#endif
