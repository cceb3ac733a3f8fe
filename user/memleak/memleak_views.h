/* memleak-trace's views of a snapshot (memleak_collect.h): what each
 * prints is a function of the options and the snapshot alone. */
#ifndef MEMSCOPE_MEMLEAK_VIEWS_H
#define MEMSCOPE_MEMLEAK_VIEWS_H

#include <stdio.h>

#include "memleak_collect.h"
#include "memleak_pprof.h"

/* The text report (verdict, top stacks, summary); needs ROWS, VERDICT
 * and PROCESS. */
void leak_print_table(FILE *out, const struct report_opts *o, const struct leak_snapshot *snap);
/* The same as one JSON line. */
void leak_print_json(FILE *out, const struct report_opts *o, const struct leak_snapshot *snap);
/* --folded: the top stacks, root first, weighted by bytes; needs ROWS. */
void leak_print_folded(FILE *out, const struct report_opts *o, const struct leak_snapshot *snap);
/* --pprof: the snapshot's samples added to pp; needs PPROF. */
void leak_pprof_add(struct pprof *pp, const struct leak_snapshot *snap);

#endif
