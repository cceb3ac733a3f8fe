/* Go functions and lines for the symbolizer, from each Go binary's
 * .gopclntab (gopclntab.h): fills what libdwfl left unknown in a frame
 * (a stripped Go binary's names; any Go binary's file:line). */
#ifndef MEMSCOPE_GOLINES_H
#define MEMSCOPE_GOLINES_H

#include <stdint.h>

#include "symbolize.h"

struct golines;
struct Dwfl_Module;
/* addr: an address of the process in mod. Fills f->symbol (and
 * f->offset) and f->file/f->line where they are NULL/0 and mod is a Go
 * binary. *g is created at the first call. */
void golines_fill(struct golines **g, struct Dwfl_Module *mod, uint64_t addr, struct frame *f);
/* Forget the binaries (their files may be closed): at a refresh. */
void golines__free(struct golines *g);

#endif
