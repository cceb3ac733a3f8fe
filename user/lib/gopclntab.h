/* Function names and file:line of Go code from the binary's own line
 * table (.gopclntab), the one the Go runtime prints its tracebacks from:
 * present in every Go binary, stripped ones (-ldflags=-s -w) included.
 * DWARF is no help for Go here: Go writes no .debug_aranges and
 * elfutils 0.188 (Debian 12) finds no compile unit for an address without
 * them, so even a binary with DWARF has no line from libdw.
 *
 * Formats: Go 1.18 and 1.19 (magic 0xfffffff0; checked against addr2line
 * with Go 1.19) and Go 1.20 onwards (magic 0xfffffff1: one more field per
 * function, from Go's runtime sources). Older tables (Go 1.2-1.17) are
 * refused with a reason. Inlined calls are not expanded: a pc inside
 * inlined code gets the inlined body's file:line under the function that
 * contains it.
 *
 * The table is untrusted input: every offset and length is checked
 * against the section before it is read. This file reads a table in
 * memory; golines.h finds it in a binary for the symbolizer. */
#ifndef MEMSCOPE_GOPCLNTAB_H
#define MEMSCOPE_GOPCLNTAB_H

#include <stddef.h>
#include <stdint.h>

struct gopcln;

/* A table in memory: the section's bytes (kept by the caller while the
 * table is used). text_addr: the address of .text, for tables that leave
 * their text start to a relocation (position-independent builds). NULL
 * if it is not a table this parser reads; then *why says why. */
struct gopcln *gopcln__parse(const uint8_t *data, size_t size, uint64_t text_addr,
			     const char **why);

struct gopcln_pos {
	char *func;             /* "main.leakChunk"; NULL if unknown */
	uint64_t offset;        /* pc - the function's entry */
	char *file;             /* NULL if unknown */
	int line;               /* 0 if unknown */
};

/* The function, file and line of pc (an address of the binary, as in its
 * ELF headers). 0 if pc lies in a function of the table (free the
 * strings with gopcln_pos_clear), -1 if not. */
int gopcln__lookup(const struct gopcln *t, uint64_t pc, struct gopcln_pos *out);
void gopcln_pos_clear(struct gopcln_pos *p);
void gopcln__free(struct gopcln *t);

#endif
