/* Strings from the traced system (comm, cmdline, paths, symbol names)
 * escaped for a terminal, a table cell and JSON. No control byte, format
 * control or invalid UTF-8 may come out for a terminal; a table cell is
 * exactly its width; JSON must parse as one string. Both escapes must be
 * reversible: decoding them gives back the input byte for byte (\xNN in
 * a terminal, \udcNN for a byte that is not UTF-8 in JSON). */
#include <stdio.h>
#include "fuzz.h"
#include "output.h"

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static void put_utf8(char **o, uint32_t cp)
{
	unsigned char *p = (unsigned char *)*o;

	if (cp < 0x80) {
		*p++ = cp;
	} else if (cp < 0x800) {
		*p++ = 0xc0 | cp >> 6;
		*p++ = 0x80 | (cp & 0x3f);
	} else {
		*p++ = 0xe0 | cp >> 12;
		*p++ = 0x80 | ((cp >> 6) & 0x3f);
		*p++ = 0x80 | (cp & 0x3f);
	}
	*o = (char *)p;
}

/* The bytes a JSON string of ours stands for; aborts if it is not one. */
static char *json_unescape(const char *j, size_t n, size_t *len)
{
	char *out = malloc(n + 1), *o = out;

	if (!out || n < 2 || j[0] != '"' || j[n - 1] != '"')
		abort();
	for (size_t i = 1; i < n - 1; i++) {
		unsigned char c = j[i];
		unsigned cp;

		if (c < 0x20 || c == '"')
			abort();
		if (c != '\\') {
			*o++ = c;
			continue;
		}
		if (++i >= n - 1)
			abort();
		if (j[i] == '"' || j[i] == '\\' || j[i] == '/') {
			*o++ = j[i];
		} else if (j[i] == 'u' && i + 4 < n - 1 && is_hex(j[i + 1]) && is_hex(j[i + 2]) &&
			   is_hex(j[i + 3]) && is_hex(j[i + 4]) && sscanf(j + i + 1, "%4x", &cp) == 1) {
			if (cp >= 0xdc80 && cp <= 0xdcff)
				*o++ = (char)(cp - 0xdc00);     /* surrogateescape */
			else
				put_utf8(&o, cp);
			i += 4;
		} else {
			abort();
		}
	}
	*len = (size_t)(o - out);
	return out;
}

static void check_json(const char *s, size_t n, const char *j, size_t jn)
{
	size_t len;
	char *back = json_unescape(j, jn, &len);

	if (len != n || memcmp(back, s, n))
		abort();
	free(back);
}

/* A terminal string: printable, valid UTF-8 kept, the rest \xNN. */
static void check_term(const uint8_t *data, size_t size, const char *t)
{
	char *back = malloc(strlen(t) + 1), *o = back;
	unsigned b;

	if (!back)
		abort();
	for (const unsigned char *p = (const unsigned char *)t; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || (p[0] == 0xe2 && p[1] == 0x80 && p[2] == 0xae))
			abort();
		if (*p == '\\') {
			if (p[1] != 'x' || sscanf((const char *)p + 2, "%2x", &b) != 1)
				abort();
			*o++ = (char)b;
			p += 3;
		} else {
			*o++ = (char)*p;
		}
	}
	if ((size_t)(o - back) != size || memcmp(back, data, size))
		abort();
	free(back);
}

/* A table cell: exactly width columns, whatever the name's length. */
static void check_cell(const char *s, int width)
{
	char *cell = NULL;
	size_t n = 0;
	int cols = 0;
	FILE *f = open_memstream(&cell, &n);

	if (!f)
		abort();
	print_term(f, s, width);
	fclose(f);
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)cell[i] < 0x20 || cell[i] == 0x7f)
			abort();
		cols += ((unsigned char)cell[i] & 0xc0) != 0x80;
	}
	if (cols != width)
		abort();
	free(cell);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *t = term_escape_n((const char *)data, size), *j = NULL, *s = fuzz_str(data, size);
	size_t jn = 0;
	struct jw w;
	FILE *f;

	check_term(data, size, t);
	free(t);
	f = open_memstream(&j, &jn);
	if (!f)
		abort();
	json_escape(f, s);
	fclose(f);
	check_json(s, strlen(s), j, jn);
	free(j);
	/* The length-delimited writer: NUL bytes included. */
	f = open_memstream(&j, &jn);
	jw_init(&w, f);
	jw_arr_begin(&w, NULL);
	jw_str_n(&w, NULL, (const char *)data, size);
	fclose(f);
	if (jn < 1 || j[0] != '[')
		abort();
	check_json((const char *)data, size, j + 1, jn - 1);
	free(j);
	for (int width = 1; width <= 40; width += 13)
		check_cell(s, width);
	free(s);
	return 0;
}
