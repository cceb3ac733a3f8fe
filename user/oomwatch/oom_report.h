/* oomwatch's printers: one kill (struct oom_kill, oom_kill.h) and the
 * run's summary, in plain text and JSON. Pure functions of what the
 * collector completed: they read no file and change nothing. */
#ifndef MEMSCOPE_OOM_REPORT_H
#define MEMSCOPE_OOM_REPORT_H

#include <stdio.h>
#include "oom_kill.h"

void oom_kill_print(FILE *f, const struct oom_kill *k);
void oom_kill_json(FILE *f, const struct oom_kill *k);

/* The label column of the plain report. */
#define OOM_LABEL "  %-12s "
/* Local time with milliseconds. */
void oom_fmt_time(char *buf, size_t len, double t);
/* The kernel's own lines of a kill under the "kernel" label: the ones
 * that say what happened, or every line of the block. */
void kernel_report_print(FILE *f, const struct kernel_report *r, bool all_lines);
struct jw;
void json_kernel_report(struct jw *w, const char *key, const struct kernel_report *r);
/* The fields every kill's JSON object opens with, live or read from the
 * log: event, source ("live", "kernel_log"), time, time_unix_ms. */
void json_kill_head(struct jw *w, const char *source, double time);

void oom_summary_print(FILE *f, const struct oom_summary *sum);
void oom_summary_json(FILE *f, const struct oom_summary *sum);

#endif
