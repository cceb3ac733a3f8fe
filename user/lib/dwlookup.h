/* The lookups that parse a binary's ELF and DWARF (libelf, libdw, the Go
 * line table): one home, run by the symbolizer worker (symworker.h) or,
 * when no worker can be started, in the tracer itself. Everything here
 * reads files a traced process chose: see docs/sandbox.md. */
#ifndef MEMSCOPE_DWLOOKUP_H
#define MEMSCOPE_DWLOOKUP_H

#include <stdbool.h>
#include <stdint.h>

struct Dwfl;
struct golines;
struct frame;

/* Resolve addr in the module of dwfl holding it: inlined frames first,
 * the containing function last (symbol demangled, offset from the symbol
 * or the ELF address, file:line); module names are the caller's to fill.
 * Returns the number of frames filled, 0 when no opened ELF holds addr. */
int dwlookup_addr(struct Dwfl *dwfl, struct golines **go, uint64_t addr, struct frame *out,
		  int max);
/* The load bias of the ELF file in fd whose page at file offset pgoff is
 * mapped at start: the PT_LOAD segment holding pgoff lies there. */
bool dwlookup_elf_bias(int fd, uint64_t start, uint64_t pgoff, uint64_t *bias);
/* Load what the lookups load lazily from the filesystem (the C++
 * demangler): before a sandbox forbids opening files. */
void dwlookup_prepare(void);

#endif
