/* How a process ended, as the kernel told it at the exit (struct
 * proc_ending, bpf/common.h): one decode for every tool that reports an
 * exit, in text ("OOM kill", "signal 9 (SIGKILL)", "exit 3") and JSON. */
#ifndef MEMSCOPE_ENDING_H
#define MEMSCOPE_ENDING_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"

enum ending_kind {
	ENDING_UNKNOWN,  /* the exit was not seen (a record lost, or before the trace) */
	ENDING_OOM_KILL, /* killed by the OOM killer (SIGKILL) */
	ENDING_SIGNAL,   /* killed by another fatal signal, or a SIGKILL not the OOM killer's */
	ENDING_EXIT,     /* exit status, from exit(), exit_group() or main's return */
};

struct ending_view {
	enum ending_kind kind;
	int signal;      /* OOM kill, signal: the fatal signal; else 0 */
	int status;      /* exit: the status (0-255); else 0 */
	bool core;       /* signal: it dumped core */
};

/* e may be NULL (unknown). */
struct ending_view ending_decode(const struct proc_ending *e);
/* A wait(2) status (the same encoding the kernel keeps), as a seen ending. */
struct proc_ending ending_from_wait(int status);
/* For people: "OOM kill", "signal 11 (SIGSEGV, core dumped)", "exit 3",
 * "unknown". Returns buf. */
#define ENDING_TEXT_LEN 48
const char *ending_text(char buf[ENDING_TEXT_LEN], const struct proc_ending *e);

struct jw;
/* key: {"kind": "oom_kill"|"signal"|"exit", "signal": N|null,
 * "signal_name": "SIGKILL"|null, "status": N|null}; null when unknown. */
void ending_json(struct jw *w, const char *key, const struct proc_ending *e);

#endif
