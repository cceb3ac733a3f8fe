/* Arrays that grow as they fill: the one place that doubles a buffer. */
#ifndef MEMSCOPE_ARRAY_H
#define MEMSCOPE_ARRAY_H

#include <stddef.h>

/* Room for element n of v, an array of *cap elements of sz bytes: when n
 * reaches *cap the capacity doubles (from `first` when 0), so appending is
 * amortised O(1). Returns the array, maybe moved. Out of memory aborts, as
 * everywhere in these tools: a half-built table would be a wrong report. */
void *array_grow(void *v, size_t n, size_t *cap, size_t sz, size_t first);
/* array_grow on an array variable, its element count and its size_t capacity. */
#define ARRAY_GROW(v, n, cap, first) ((v) = array_grow((v), (n), &(cap), sizeof(*(v)), (first)))

#endif
