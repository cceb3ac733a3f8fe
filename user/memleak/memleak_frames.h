/* memleak-trace: a stack's frames, symbolized once, and its culprit. */
#ifndef MEMSCOPE_MEMLEAK_FRAMES_H
#define MEMSCOPE_MEMLEAK_FRAMES_H

#include "memleak_report.h"
#include "memleak_track.h"

/* Frames kept per stack: the deepest the report shows and groups by. */
#define LEAK_MAX_FRAMES 48

/* The stack's frames (s->frames, s->nframes, s->dwarf, s->loading), once:
 * a stack already resolved is left as it is. */
void stack_resolve(const struct report_opts *o, struct report_in *in, struct stack_ent *s);
/* Every address the stacks with bytes in acc will look up, handed to the
 * symbolizer at once: its worker answers many per message
 * (symbolizer__prefetch) instead of one per frame. */
void stacks_prefetch(const struct report_opts *o, struct report_in *in,
		     const struct stack_acc *acc);
/* The culprit as JSON names it: its symbol, "module+0xOFFSET", or the
 * library ld.so was loading. Raw; caller frees; NULL without a stack. */
char *stack_culprit_raw(const struct stack_ent *s);
/* The same for the text, terminal-escaped, "[no stack]" without one.
 * Caller frees. */
char *stack_culprit_name(const struct stack_ent *s);

#endif
