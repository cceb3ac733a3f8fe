// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* memcg->vmstats->state[] slots to memory.stat buckets. */
#include <string.h>
#include "kfeatures.h"
#include "memcg_state.h"

enum unit { U_PAGES, U_BYTES, U_KB, U_COUNT };

struct item {
	enum memstat_field field;
	const char *enumerator;
	bool memcg_item;          /* enum memcg_stat_item, else node_stat_item */
	enum unit unit;
};

/* The buckets read at the kill, with the kernel's item for each. THP
 * counters are left out: their unit changed (huge pages, then pages). */
static const struct item items[] = {
	{ MS_anon, "NR_ANON_MAPPED", false, U_PAGES },
	{ MS_file, "NR_FILE_PAGES", false, U_PAGES },
	{ MS_active_anon, "NR_ACTIVE_ANON", false, U_PAGES },
	{ MS_inactive_anon, "NR_INACTIVE_ANON", false, U_PAGES },
	{ MS_active_file, "NR_ACTIVE_FILE", false, U_PAGES },
	{ MS_inactive_file, "NR_INACTIVE_FILE", false, U_PAGES },
	{ MS_unevictable, "NR_UNEVICTABLE", false, U_PAGES },
	{ MS_shmem, "NR_SHMEM", false, U_PAGES },
	{ MS_file_mapped, "NR_FILE_MAPPED", false, U_PAGES },
	{ MS_file_dirty, "NR_FILE_DIRTY", false, U_PAGES },
	{ MS_file_writeback, "NR_WRITEBACK", false, U_PAGES },
	{ MS_slab_reclaimable, "NR_SLAB_RECLAIMABLE_B", false, U_BYTES },
	{ MS_slab_unreclaimable, "NR_SLAB_UNRECLAIMABLE_B", false, U_BYTES },
	{ MS_kernel_stack, "NR_KERNEL_STACK_KB", false, U_KB },
	{ MS_pagetables, "NR_PAGETABLE", false, U_PAGES },
	{ MS_vmalloc, "NR_VMALLOC", false, U_PAGES },
	{ MS_refault_anon, "WORKINGSET_REFAULT_ANON", false, U_COUNT },
	{ MS_refault_file, "WORKINGSET_REFAULT_FILE", false, U_COUNT },
	{ MS_swap, "MEMCG_SWAP", true, U_PAGES },
	{ MS_sock, "MEMCG_SOCK", true, U_PAGES },
	{ MS_percpu, "MEMCG_PERCPU_B", true, U_BYTES },
	{ MS_vmalloc, "MEMCG_VMALLOC", true, U_PAGES },
	{ MS_kernel, "MEMCG_KMEM", true, U_PAGES },
};

/* The head of the kernel's memcg_node_stat_items[] (6.11 on), which is the
 * same in every version that has it: items a kernel lacks in its enum are
 * not in its array either (NR_VMALLOC moved here from MEMCG_VMALLOC after
 * 6.18). What follows NR_SECONDARY_PAGETABLE depends on the config and is
 * not used. */
static const char *const compact_head[] = {
	"NR_INACTIVE_ANON", "NR_ACTIVE_ANON", "NR_INACTIVE_FILE", "NR_ACTIVE_FILE",
	"NR_UNEVICTABLE", "NR_SLAB_RECLAIMABLE_B", "NR_SLAB_UNRECLAIMABLE_B",
	"WORKINGSET_REFAULT_ANON", "WORKINGSET_REFAULT_FILE", "WORKINGSET_ACTIVATE_ANON",
	"WORKINGSET_ACTIVATE_FILE", "WORKINGSET_RESTORE_ANON", "WORKINGSET_RESTORE_FILE",
	"WORKINGSET_NODERECLAIM", "NR_ANON_MAPPED", "NR_FILE_MAPPED", "NR_FILE_PAGES",
	"NR_FILE_DIRTY", "NR_WRITEBACK", "NR_SHMEM", "NR_SHMEM_THPS", "NR_FILE_THPS",
	"NR_ANON_THPS", "NR_VMALLOC", "NR_KERNEL_STACK_KB", "NR_PAGETABLE",
	"NR_SECONDARY_PAGETABLE",
};

static int compact_slot(const char *name, enum_value_fn fn, void *ctx)
{
	long long v;
	int pos = 0;

	for (size_t i = 0; i < sizeof(compact_head) / sizeof(compact_head[0]); i++) {
		bool exists = fn("node_stat_item", compact_head[i], &v, ctx);

		if (!strcmp(compact_head[i], name))
			return exists ? pos : -1;
		pos += exists;
	}
	return -1;
}

void memcg_state_map_build(struct memcg_state_map *m, uint32_t len, enum_value_fn fn, void *ctx)
{
	long long nr_stat, v;

	memset(m, 0, sizeof(*m));
	for (int i = 0; i < MS_NFIELDS; i++)
		m->slot[i] = -1;
	m->len = len;
	if (!len || !fn("memcg_stat_item", "MEMCG_NR_STAT", &nr_stat, ctx) || len > nr_stat)
		return;
	m->compact = len < nr_stat;
	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		const struct item *it = &items[i];
		int slot;

		if (m->slot[it->field] >= 0 ||
		    !fn(it->memcg_item ? "memcg_stat_item" : "node_stat_item", it->enumerator, &v, ctx))
			continue;
		if (!m->compact)
			slot = v;
		else if (it->memcg_item)
			/* memcg_stat_items[] is the whole enum, in order. */
			slot = (long long)len - (nr_stat - v);
		else
			slot = compact_slot(it->enumerator, fn, ctx);
		if (slot >= 0 && slot < (int)len)
			m->slot[it->field] = slot;
	}
	m->ok = m->slot[MS_anon] >= 0 && m->slot[MS_file] >= 0;
}

bool memcg_state_kernel_enum(const char *type, const char *name, long long *val, void *ctx)
{
	(void)ctx;
	return kernel_enum_value(type, name, val);
}

static uint64_t to_unit(int64_t v, enum unit u, long page_size)
{
	/* Per-CPU deltas not yet folded can leave a counter just below 0. */
	if (v < 0)
		return 0;
	switch (u) {
	case U_PAGES: return (uint64_t)v * page_size;
	case U_KB: return (uint64_t)v * 1024;
	default: return v;
	}
}

bool memcg_state_to_memstat(const struct memcg_state_map *m, const int64_t *state, uint32_t n,
			    long page_size, struct memstat *ms)
{
	memset(ms, 0, sizeof(*ms));
	if (!m->ok)
		return false;
	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		const struct item *it = &items[i];
		int slot = m->slot[it->field];

		/* MEMCG_VMALLOC or NR_VMALLOC: the first one the kernel has. */
		if (slot < 0 || (uint32_t)slot >= n || memstat_has(ms, it->field))
			continue;
		memstat_set(ms, it->field, to_unit(state[slot], it->unit, page_size));
	}
	ms->src = MS_SRC_V2;
	return true;
}
