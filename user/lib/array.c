// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdlib.h>
#include "array.h"

void *array_grow(void *v, size_t n, size_t *cap, size_t sz, size_t first)
{
	if (n < *cap)
		return v;
	*cap = *cap ? *cap * 2 : first;
	if (*cap <= n)
		*cap = n + 1;
	v = realloc(v, *cap * sz);
	if (!v)
		abort();
	return v;
}
