/* memleak-trace: which stacks the report ranks, and its rows. */
#ifndef MEMSCOPE_MEMLEAK_ROWS_H
#define MEMSCOPE_MEMLEAK_ROWS_H

#include <stdbool.h>
#include <stdint.h>

#include "memleak_report.h"
#include "memleak_track.h"

#define NO_ROW UINT32_MAX

/* A row while the collector builds it: the stacks that read the same. */
struct row {
	uint32_t owner;         /* the member shown: the one holding most */
	uint32_t rank;          /* scratch: the row's number before sorting */
	struct stack_acc acc;
	double growth;
};

/* What the figures really hold: the resident bytes where known. */
uint64_t acc_held(const struct stack_acc *a);
/* Whether the report ranks the stack (may symbolize it). */
bool stack_ranked(const struct report_opts *o, struct report_in *in, struct stack_ent *s);
/* One row per stack as the user sees it, of the stacks with acc[i].bytes
 * that the report ranks: each is symbolized and stacks with the same
 * frames are summed. row_of[i]: stack i's row, NO_ROW if none. The rows
 * (caller frees) are in ranking order, *nrows of them. */
struct row *group_rows(const struct report_opts *o, struct report_in *in,
		       const struct stack_acc *acc, uint32_t *row_of, int *nrows);

#endif
