/* memdiag's views: a sample as the text report (verdict first) or one
 * JSON object, and the --all-cgroups table. They print what
 * memdiag_gather.h collected and read no system file themselves. */
#ifndef MEMSCOPE_MEMDIAG_REPORT_H
#define MEMSCOPE_MEMDIAG_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "memdiag_gather.h"

/* The last sample (c->cur) with the trend so far, for people. */
void md_print_text(const struct md_collector *c);
/* The same as one JSON line (the fields memdiag(8) documents). */
void md_print_json(const struct md_collector *c);
/* The cgroups table, top rows (0: all), text or JSON. */
void md_print_cgroups(const struct md_cg_list *l, enum md_sort sort, size_t top, bool json);

#endif
