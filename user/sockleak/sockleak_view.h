/* sockleak's views, private to its printers: the context a report is
 * printed in and what the text, JSON and evidence modules share. Every
 * function is pure over the snapshot (sockleak_collect.h): it reads the
 * collector's tables through const pointers and writes only stdout. */
#ifndef MEMSCOPE_SOCKLEAK_VIEW_H
#define MEMSCOPE_SOCKLEAK_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ending.h"
#include "proc_net.h"
#include "sockleak_fdtab.h"
#include "sockleak_leaks.h"
#include "sockleak_report.h"
#include "sockleak_sites.h"

#define MAX_FRAMES 24
#define LEAKED_SHOWN 20   /* text: leaked sockets listed per process */
#define LEAKED_JSON 100   /* json: leaked sockets listed per process */

/* A report's view: the collector's snapshot and how to show it. */
struct sl_view {
	const struct sl_report_opts *o;
	const struct sl_snapshot *s;
	const struct fdtab *t;
	double elapsed;
	bool final;
};

/* --by-cgroup: the rows summed per shown cgroup, in the order of their
 * first (fastest-growing) process. */
struct cg_row {
	const struct sl_proc *first;
	uint64_t procs, pre, closed_pre, created, closed, alive, old, close_wait, k_alive, k_no_fd;
	double growth;
};

/* --kernel-sockets totals over the rows shown. */
struct ksum {
	uint64_t born, released, released_other, freed, alive, no_fd;
};

/* sockleak_verdict.c: the words about what each process leaked (the
 * collector's sl_leaks) and the final verdict. */
/* Seconds since ts at the snapshot, -1 for 0 (before the trace). */
double slv_age_s(const struct sl_view *c, uint64_t ts);
/* " by OOM kill", " by exit 3"; "" when the exit was not seen. */
const char *slv_ended_by(const struct sl_proc *p, char buf[ENDING_TEXT_LEN + 4]);
/* The TCP state's name, else the fd kind's. */
const char *slv_ev_state(const struct ev *v);
/* When the process exited, seconds into the trace. */
double slv_exit_at_s(const struct sl_view *c, const struct sl_proc *p);
/* The note on workers that exited with leaked sockets (pools replace
 * them); malloc'd, NULL: nothing to say. */
char *slv_exit_note(const struct sl_view *c, const struct sl_proc **rows, size_t n);
/* The collector's leaks of a row. */
const struct sl_leaks *slv_leaks(const struct sl_view *c, const struct sl_proc *p);
/* ", and 12 more in CLOSE_WAIT": sockets the process closed itself, late. */
const char *slv_late_text(const struct sl_proc *p);
/* The final report's verdict line (malloc'd, NULL: none). */
char *slv_verdict(const struct sl_view *c, const struct sl_proc **rows, size_t n, size_t shown);
/* "sockets", or "fds" with --all-fds. */
const char *slv_what(const struct sl_view *c);

/* sockleak_report.c: rows and the text table. */
/* --by-cgroup: the rows summed per cgroup (*out freed by the caller). */
size_t slv_cgroup_rollup(const struct sl_view *c, const struct sl_proc **rows, size_t n, struct cg_row **out);
/* --kernel-sockets totals over rows. */
void slv_kernel_sum(const struct sl_proc **rows, size_t n, struct ksum *k);
/* Open fds made under call sites that stand for more than one stack. */
uint64_t slv_merged_fds(const struct sl_view *c);
/* Live count growth per second over the whole run. */
double slv_run_growth(const struct sl_view *c, const struct sl_proc *p);

/* sockleak_json.c: the JSON twins. */
/* --by-cgroup rows in JSON, one object each. */
void slv_json_cgroups(const struct sl_view *c, const struct sl_proc **rows, size_t n);
/* One process's row in JSON (with its stack groups in the final report). */
void slv_json_row(const struct sl_view *c, const struct sl_proc *p);
/* The summary object that ends each JSON report. */
void slv_json_summary(struct sl_view *c, const char *verd, const char *note, size_t nrows,
		      const struct sl_proc **rows);

#endif
