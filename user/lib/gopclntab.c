/* Go's pc-line table (see gopclntab.h). Layout, Go 1.18 onwards (the
 * linker's pcln.go writes it, the runtime's symtab.go reads it):
 *
 *   header: magic u32, two zero bytes, pc quantum u8, pointer size u8,
 *           then eight pointer-sized words: function count, file count,
 *           text start, and the offsets (from the header) of the
 *           function-name table, the CU table, the file-name table, the
 *           pc-value tables and the function table;
 *   function table: per function {entry offset from text start u32,
 *           offset of its record from this table u32}, then the end
 *           offset of the text;
 *   function record: entry u32, name offset u32, args, deferreturn,
 *           pcsp, pcfile, pcln u32 (the last three: offsets of
 *           pc-value tables), npcdata, CU offset u32 (file numbers of the
 *           function are indexes from there into the CU table, whose
 *           u32s are offsets into the file-name table); Go 1.20 added
 *           fields after these, so both magics read the same here;
 *   pc-value table: pairs of varints (value delta, zigzag; pc delta in
 *           quanta) from value -1 at the function's entry, ended by a
 *           zero value delta. */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gopclntab.h"

#define MAGIC_GO118 0xfffffff0u
#define MAGIC_GO120 0xfffffff1u

/* One region of the section: [start, end) from the header. */
struct region {
	size_t start, end;
};

struct gopcln {
	const uint8_t *data;
	size_t size;
	uint32_t quantum;
	uint64_t nfunc, text_start;
	struct region names, cutab, files, pctab, functab;
};

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd_word(const uint8_t *p, unsigned ptr)
{
	return ptr == 4 ? rd32(p) : rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* The u32 at off inside r, or false when it does not fit. */
static bool region_u32(const struct gopcln *t, const struct region *r, uint64_t off, uint32_t *v)
{
	if (off > r->end - r->start || r->end - r->start - off < 4)
		return false;
	*v = rd32(t->data + r->start + off);
	return true;
}

/* A NUL-terminated string at off inside r, copied; NULL when it runs
 * past the region. */
static char *region_str(const struct gopcln *t, const struct region *r, uint64_t off)
{
	const char *p;
	size_t room, len;

	if (off >= r->end - r->start)
		return NULL;
	p = (const char *)t->data + r->start + off;
	room = r->end - r->start - off;
	len = strnlen(p, room);
	return len < room && len ? strndup(p, len) : NULL;
}

/* Regions follow the header in this order, each within the section. */
static bool set_regions(struct gopcln *t, const uint64_t off[5])
{
	struct region *r[5] = { &t->names, &t->cutab, &t->files, &t->pctab, &t->functab };

	for (int i = 0; i < 5; i++) {
		uint64_t end = i < 4 ? off[i + 1] : t->size;

		if (off[i] > end || end > t->size)
			return false;
		r[i]->start = off[i];
		r[i]->end = end;
	}
	/* nfunc entries of 8 bytes and the end offset. */
	return t->nfunc < (t->functab.end - t->functab.start) / 8;
}

struct gopcln *gopcln__parse(const uint8_t *data, size_t size, uint64_t text_addr,
			     const char **why)
{
	struct gopcln *t;
	uint64_t off[5];
	unsigned ptr;
	uint32_t magic;

	*why = "not a Go pc-line table";
	if (!data || size < 8)
		return NULL;
	magic = rd32(data);
	ptr = data[7];
	if (magic != MAGIC_GO118 && magic != MAGIC_GO120) {
		if (magic == 0xfffffffau || magic == 0xfffffffbu)
			*why = "Go before 1.18 (its pc-line table is not read: build with Go 1.18+)";
		return NULL;
	}
	if (data[4] || data[5] || (data[6] != 1 && data[6] != 2 && data[6] != 4) ||
	    (ptr != 4 && ptr != 8) || size < 8 + 8 * (size_t)ptr)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->data = data;
	t->size = size;
	t->quantum = data[6];
	t->nfunc = rd_word(data + 8, ptr);
	t->text_start = rd_word(data + 8 + 2 * ptr, ptr);
	if (!t->text_start)
		t->text_start = text_addr;
	for (int i = 0; i < 5; i++)
		off[i] = rd_word(data + 8 + (size_t)(3 + i) * ptr, ptr);
	if (!set_regions(t, off)) {
		*why = "a Go pc-line table whose offsets lie outside it";
		free(t);
		return NULL;
	}
	*why = NULL;
	return t;
}

void gopcln__free(struct gopcln *t)
{
	free(t);
}

/* The function whose [entry, next entry) holds text offset pc: its
 * index, or -1. The table is sorted by entry, as the runtime's
 * findfunc relies on. */
static int64_t find_func(const struct gopcln *t, uint32_t pc)
{
	uint64_t lo = 0, hi = t->nfunc;
	uint32_t entry, end;

	if (!t->nfunc || !region_u32(t, &t->functab, 0, &entry) ||
	    !region_u32(t, &t->functab, t->nfunc * 8, &end) || pc < entry || pc >= end)
		return -1;
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (!region_u32(t, &t->functab, mid * 8, &entry))
			return -1;
		if (entry <= pc)
			lo = mid;
		else
			hi = mid;
	}
	return (int64_t)lo;
}

/* An unsigned LEB128 varint inside r from *pos (at most 32 bits). */
static bool read_uvarint(const struct gopcln *t, const struct region *r, size_t *pos, uint32_t *v)
{
	uint32_t x = 0;

	for (unsigned shift = 0; shift < 35; shift += 7) {
		uint8_t b;

		if (*pos >= r->end - r->start)
			return false;
		b = t->data[r->start + (*pos)++];
		x |= (uint32_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = x;
			return true;
		}
	}
	return false;
}

/* The value of pc-value table off for text offset pc, in the function
 * entered at entry; false when the table does not cover pc. */
static bool pcvalue(const struct gopcln *t, uint32_t off, uint32_t entry, uint32_t pc, int32_t *out)
{
	size_t pos = off;
	uint64_t at = entry;
	int64_t val = -1;
	bool first = true;

	if (!off)
		return false;
	for (;;) {
		uint32_t uv, dpc;

		if (!read_uvarint(t, &t->pctab, &pos, &uv) || (uv == 0 && !first))
			return false;
		first = false;
		/* zigzag: low bit is the sign */
		val += (uv & 1) ? -(int64_t)(uv >> 1) - 1 : (int64_t)(uv >> 1);
		if (val < INT32_MIN || val > INT32_MAX || !read_uvarint(t, &t->pctab, &pos, &dpc))
			return false;
		at += (uint64_t)dpc * t->quantum;
		if (pc < at) {
			*out = (int32_t)val;
			return true;
		}
		if (at > UINT32_MAX)
			return false;
	}
}

/* The function's file from its pcfile value and CU. */
static char *file_of(const struct gopcln *t, uint32_t cu, int32_t fileno)
{
	uint32_t foff;

	if (fileno < 0 || !region_u32(t, &t->cutab, ((uint64_t)cu + (uint32_t)fileno) * 4, &foff) ||
	    foff == UINT32_MAX)
		return NULL;
	return region_str(t, &t->files, foff);
}

int gopcln__lookup(const struct gopcln *t, uint64_t pc, struct gopcln_pos *out)
{
	uint32_t entry, rec, name, pcfile, pcln, cu, target;
	struct region rr;
	int32_t fileno, line;
	int64_t i;

	memset(out, 0, sizeof(*out));
	if (!t || pc < t->text_start || pc - t->text_start > UINT32_MAX)
		return -1;
	target = (uint32_t)(pc - t->text_start);
	i = find_func(t, target);
	if (i < 0 || !region_u32(t, &t->functab, (uint64_t)i * 8 + 4, &rec))
		return -1;
	/* The record: within the function table's region. */
	rr.start = t->functab.start;
	rr.end = t->functab.end;
	if (!region_u32(t, &rr, rec, &entry) || !region_u32(t, &rr, (uint64_t)rec + 4, &name) ||
	    !region_u32(t, &rr, (uint64_t)rec + 20, &pcfile) ||
	    !region_u32(t, &rr, (uint64_t)rec + 24, &pcln) ||
	    !region_u32(t, &rr, (uint64_t)rec + 32, &cu) || entry > target)
		return -1;
	out->func = region_str(t, &t->names, name);
	out->offset = target - entry;
	if (pcvalue(t, pcfile, entry, target, &fileno))
		out->file = file_of(t, cu, fileno);
	if (pcvalue(t, pcln, entry, target, &line) && line > 0)
		out->line = line;
	return 0;
}

void gopcln_pos_clear(struct gopcln_pos *p)
{
	free(p->func);
	free(p->file);
	memset(p, 0, sizeof(*p));
}
