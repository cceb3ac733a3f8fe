// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdlib.h>
#include <string.h>
#include "hindex.h"

uint64_t hash_mix(uint64_t x)
{
	x *= 0x9e3779b97f4a7c15ULL;
	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ULL;
	return x ^ (x >> 32);
}

static uint32_t *free_slot(const struct hindex *ix, uint64_t hash)
{
	uint32_t m = ix->size - 1, h = hash & m;

	while (ix->slot[h])
		h = (h + 1) & m;
	return &ix->slot[h];
}

void hindex_reserve(struct hindex *ix, uint32_t n, hindex_hash_fn hash_of, const void *ctx)
{
	struct hindex big;

	if ((n + 1) * 2 <= ix->size)
		return;
	big.size = ix->size ? ix->size * 2 : 256;
	big.slot = calloc(big.size, sizeof(*big.slot));
	if (!big.slot)
		abort();
	for (uint32_t e = 0; e < n; e++)
		*free_slot(&big, hash_of(e, ctx)) = e + 1;
	free(ix->slot);
	*ix = big;
}

uint32_t *hindex_slot(const struct hindex *ix, uint64_t hash, hindex_eq_fn eq, const void *key,
		      const void *ctx)
{
	uint32_t m = ix->size - 1, h = hash & m;

	while (ix->slot[h] && !eq(ix->slot[h] - 1, key, ctx))
		h = (h + 1) & m;
	return &ix->slot[h];
}

void hindex_free(struct hindex *ix)
{
	free(ix->slot);
	memset(ix, 0, sizeof(*ix));
}
