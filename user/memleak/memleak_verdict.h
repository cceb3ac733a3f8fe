/* memleak-trace's verdict, the first line of a report, and the words the
 * views share; functions of a snapshot (memleak_collect.h). */
#ifndef MEMSCOPE_MEMLEAK_VERDICT_H
#define MEMSCOPE_MEMLEAK_VERDICT_H

#include <stdbool.h>
#include <stdint.h>

#include "ending.h"
#include "memleak_collect.h"

/* Said when the process exited while traced. */
extern const char leak_exit_hint[];

/* What a row counts: allocations (mappings, malloc blocks), or with
 * --faults pages first touched. */
const char *leak_unit_noun(const struct report_opts *o, uint64_t n);
/* --malloc --sample N: malloc figures are the sample times N. */
bool leak_estimated(const struct report_opts *o, uint32_t kind);
/* "~" before an estimate, "" otherwise. */
const char *leak_est(const struct report_opts *o, uint32_t kind);
/* The heap as one mapping (brk has no stack worth naming); with --faults
 * its pages have the stacks that touched them. */
bool leak_heap_row(const struct report_opts *o, const struct leak_row *r);
/* The growth of what a row really holds (bytes/s). */
double leak_held_growth(const struct leak_row *r);
/* The row growing fastest that the verdict may name; NULL if none. */
const struct leak_row *leak_growing_row(const struct report_opts *o, const struct leak_row *rows,
					int n);
/* " [OOM kill]", " [exit 3]": how the process ended, when known; "". */
const char *leak_ending_tag(const struct proc_ending *e, char buf[ENDING_TEXT_LEN + 8]);
/* The first line of the report of snap, whose rows, peaks and totals are
 * collected; *named: the row whose culprit it names, or NULL. Caller
 * frees. */
char *leak_verdict(const struct report_opts *o, const struct leak_snapshot *snap,
		   const struct leak_row **named);

#endif
