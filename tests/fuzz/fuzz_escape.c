/* Strings from the traced system (comm, cmdline, paths) escaped for a
 * terminal and for JSON: no control byte, no format control and no
 * invalid UTF-8 may come out of term_escape; JSON output must parse as
 * one string (checked by its quotes and escapes). */
#include <stdio.h>
#include "fuzz.h"
#include "output.h"

static void check_json(const char *j, size_t n)
{
	if (n < 2 || j[0] != '"' || j[n - 1] != '"')
		abort();
	for (size_t i = 1; i < n - 1; i++) {
		unsigned char c = j[i];

		if (c < 0x20 || (c == '"'))
			abort();
		if (c == '\\') {
			i++;
			if (i >= n - 1 || !strchr("\"\\/bfnrtu", j[i]))
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *t = term_escape_n((const char *)data, size), *j = NULL, *s = fuzz_str(data, size);
	size_t jn = 0;
	FILE *f;

	for (const unsigned char *p = (const unsigned char *)t; *p; p++)
		if (*p < 0x20 || *p == 0x7f || (p[0] == 0xe2 && p[1] == 0x80 && p[2] == 0xae))
			abort();
	free(t);
	f = open_memstream(&j, &jn);
	if (!f)
		abort();
	json_escape(f, s);
	fclose(f);
	check_json(j, jn);
	free(j);
	free(s);
	return 0;
}
