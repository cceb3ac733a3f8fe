/* Shared by the libFuzzer targets: the input as a NUL-terminated, writable
 * copy (the parsers take C strings and some tokenise in place). Each target
 * defines LLVMFuzzerTestOneInput; `make fuzz` builds and runs them. */
#ifndef MEMSCOPE_FUZZ_H
#define MEMSCOPE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static inline char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
