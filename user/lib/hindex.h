/* A hash index over entries kept in the caller's own array: open
 * addressing with linear probing, each slot the entry's number + 1 (0:
 * empty), at most half full. Entries are never removed. The stack tables
 * (memleak-trace's, the DWARF stacks', sockleak's call sites) look their
 * entries up through it. */
#ifndef MEMSCOPE_HINDEX_H
#define MEMSCOPE_HINDEX_H

#include <stdbool.h>
#include <stdint.h>

struct hindex {
	uint32_t *slot;
	uint32_t size;          /* a power of 2, 0 before the first reserve */
};

/* Is entry e the one key names? */
typedef bool (*hindex_eq_fn)(uint32_t e, const void *key, const void *ctx);
/* Entry e's hash, to place it again when the index grows. */
typedef uint64_t (*hindex_hash_fn)(uint32_t e, const void *ctx);

/* Room for one more entry beside the n there are: doubles (from 256)
 * when the index would pass half full, placing entries 0..n-1 again. */
void hindex_reserve(struct hindex *ix, uint32_t n, hindex_hash_fn hash_of, const void *ctx);
/* The slot of the entry with this hash that eq accepts: it holds the
 * entry's number + 1, or 0 where a new entry goes (after a reserve). */
uint32_t *hindex_slot(const struct hindex *ix, uint64_t hash, hindex_eq_fn eq, const void *key,
		      const void *ctx);
void hindex_free(struct hindex *ix);
/* A well-mixed 64-bit hash of x (a multiply and xor-shifts). */
uint64_t hash_mix(uint64_t x);

#endif
