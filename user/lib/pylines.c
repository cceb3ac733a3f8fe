/* CPython line tables (pylines.h). Each decoder walks the table from the
 * code object's first line, as CPython's PyCode_Addr2Line does, and stops
 * at the entry that covers the byte offset asked for; running out of the
 * kept bytes first is "not known" unless the table was copied whole. */
#include <limits.h>

#include "pylines.h"

/* Lines are summed in 64 bits: the first line and every delta are the
 * process's bytes, and their sum may leave int's range. A line outside
 * 1..INT_MAX is not one the table can mean: "not known". */
static int known_line(long long line)
{
	return line > 0 && line <= INT_MAX ? (int)line : 0;
}

/* 3.8-3.9: the line of the last entry starting at or before addr. */
static int lnotab_line(const uint8_t *t, size_t kept, size_t len, long long line, long addr)
{
	long at = 0;
	size_t i;

	for (i = 0; i + 1 < kept; i += 2) {
		at += t[i];
		if (at > addr)
			return known_line(line);
		line += (int8_t)t[i + 1];
	}
	/* Past the last entry: its line, if the table is whole. */
	return kept == len ? known_line(line) : 0;
}

/* 3.10: ranges [start, end) of addresses, each with a line or none. */
static int linetable310_line(const uint8_t *t, size_t kept, long long line, long addr)
{
	long end = 0;

	for (size_t i = 0; i + 1 < kept; i += 2) {
		int8_t delta = (int8_t)t[i + 1];

		end += t[i];
		if (delta != -128)
			line += delta;
		if (end > addr)
			return delta == -128 ? 0 : known_line(line);
	}
	return 0;
}

/* A 3.11+ varint: 6 bits a byte, bit 6 says another follows. */
static int read_varint(const uint8_t *t, size_t kept, size_t *i, uint32_t *v)
{
	unsigned shift = 0;
	uint8_t b;

	*v = 0;
	do {
		if (*i >= kept || shift > 24)
			return -1;
		b = t[(*i)++];
		*v |= (uint32_t)(b & 63) << shift;
		shift += 6;
	} while (b & 64);
	return 0;
}

static int read_svarint(const uint8_t *t, size_t kept, size_t *i, int *v)
{
	uint32_t u;

	if (read_varint(t, kept, i, &u))
		return -1;
	*v = u & 1 ? -(int)(u >> 1) : (int)(u >> 1);
	return 0;
}

/* The line delta of the 3.11+ entry whose first byte is at *i (moved
 * past the byte): codes 13 (no columns) and 14 (long form) carry it as a
 * signed varint, 10-12 are one-line forms (delta code-10), the others keep
 * the line (15: no location). */
static int entry_line_delta(const uint8_t *t, size_t kept, size_t *i, int code, int *delta)
{
	*delta = 0;
	if (code == 13 || code == 14)
		return read_svarint(t, kept, i, delta);
	if (code >= 10 && code <= 12)
		*delta = code - 10;
	return 0;
}

/* 3.11+: entries of (first byte & 7) + 1 code units, the first byte's
 * bit 7 set; the bytes of the rest of an entry have it clear. */
static int loctable_line(const uint8_t *t, size_t kept, long long line, long addr)
{
	long end = 0;
	size_t i = 0;

	while (i < kept) {
		uint8_t b = t[i++];
		int code = (b >> 3) & 15, delta;

		if (!(b & 128) || entry_line_delta(t, kept, &i, code, &delta))
			return 0;
		line += delta;
		end += ((b & 7) + 1) * 2;
		if (end > addr)
			return code == 15 ? 0 : known_line(line);
		while (i < kept && !(t[i] & 128))
			i++;
	}
	return 0;
}

int py_addr2line(unsigned version, const uint8_t *tab, size_t kept, size_t len, int first,
		 int32_t instr)
{
	if (kept > len)
		kept = len;
	if (instr < 0)  /* not started: CPython says the first line too */
		return first;
	if (version >= 0x0308 && version <= 0x0309)
		return lnotab_line(tab, kept, len, first, instr);
	if (version == 0x030a)
		return linetable310_line(tab, kept, first, (long)instr * 2);
	if (version >= 0x030b && version <= 0x030d)
		return loctable_line(tab, kept, first, (long)instr * 2);
	return 0;
}
