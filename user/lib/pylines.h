/* CPython's line tables: the line an instruction of a code object runs,
 * decoded from the table the BPF side copied (bpf/interp.h, py_lines), in
 * each version's own format (CPython's Objects/lnotab_notes.txt,
 * Objects/codeobject.c):
 *   3.8-3.9   co_lnotab: (byte delta, signed line delta) pairs, the
 *             instruction a byte offset (f_lasti);
 *   3.10      co_linetable: (byte delta, signed line delta) pairs, a line
 *             delta of -128 for "no line", f_lasti in 2-byte code units;
 *   3.11+     the location table: varint entries of 1-8 code units each.
 * Pure functions: no process is read. */
#ifndef MEMSCOPE_PYLINES_H
#define MEMSCOPE_PYLINES_H

#include <stddef.h>
#include <stdint.h>

/* The line of instruction instr (as the version's frames count it: see
 * interp_frame.instr) of a code object whose first line is first and
 * whose table is tab[0..kept) of its len bytes. Returns the line, 0 when
 * the table does not say (cut before the instruction, no line there, an
 * unknown version). */
int py_addr2line(unsigned version, const uint8_t *tab, size_t kept, size_t len, int first,
		 int32_t instr);

#endif
