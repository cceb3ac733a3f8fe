/* Output for people and for machines: human units, terminal-safe strings,
 * and a small streaming JSON writer (one object per line). */
#ifndef MEMSCOPE_OUTPUT_H
#define MEMSCOPE_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Room for any fmt_bytes/fmt_duration result. */
#define HUMAN_LEN 32

/* "0 B", "512 B", "4.0 KiB", "1.50 GiB". */
const char *fmt_bytes(char buf[HUMAN_LEN], uint64_t bytes);
/* Signed variant for deltas: "+1.2 MiB", "-4.0 KiB". */
const char *fmt_bytes_delta(char buf[HUMAN_LEN], int64_t bytes);
/* A double (a rate, a difference of sizes) as int64_t, saturating: the
 * plain cast is undefined past +-2^63, which outside text can reach. */
int64_t i64_saturate(double v);
/* "850 ms", "12.3 s", "4.5 min", "2.0 h", "3.1 d". */
const char *fmt_duration(char buf[HUMAN_LEN], double seconds);

/* A copy of s that is safe to print on a terminal: control bytes, DEL,
 * backslash, invalid UTF-8 and the bytes of invisible format controls
 * (bidi overrides such as U+202E, zero-width characters) become \xNN
 * escapes, so a comm or a path cannot move the cursor, change colours or
 * reorder a line. Caller frees. Never NULL
 * (aborts on out of memory, like the rest of memscope's allocations). */
char *term_escape(const char *s);
/* The same, for a buffer that is not NUL-terminated. */
char *term_escape_n(const char *s, size_t len);

/* Print s escaped, padded or cut to width columns (width 0: as is). */
void print_term(FILE *f, const char *s, int width);

/* JSON string escaping per RFC 8259. A byte that is not UTF-8 becomes
 * \udcNN (PEP 383's surrogateescape: unambiguous, reversible); format
 * controls are \uXXXX escapes. The output is always valid JSON. */
void json_escape(FILE *f, const char *s);

/* Streaming JSON writer. Keys are ignored inside arrays (pass NULL). The
 * outermost object ends with a newline and a flush: one object per line. */
#define JW_MAX_DEPTH 32
struct jw {
	FILE *f;
	int depth;
	bool need_comma[JW_MAX_DEPTH];
	bool in_array[JW_MAX_DEPTH];
};
void jw_init(struct jw *w, FILE *f);
void jw_obj_begin(struct jw *w, const char *key);
void jw_obj_end(struct jw *w);
void jw_arr_begin(struct jw *w, const char *key);
void jw_arr_end(struct jw *w);
void jw_str(struct jw *w, const char *key, const char *val); /* NULL -> null */
void jw_str_n(struct jw *w, const char *key, const char *val, size_t len);
void jw_u64(struct jw *w, const char *key, uint64_t val);
void jw_i64(struct jw *w, const char *key, int64_t val);
/* Exact (shortest text that reads back the same double); NaN/inf -> null. */
void jw_double(struct jw *w, const char *key, double val);
void jw_bool(struct jw *w, const char *key, bool val);
void jw_null(struct jw *w, const char *key);

/* Errors: one line on stderr, or a JSON object {"error": ...} on stdout
 * when json is set, so a pipeline reading JSON sees the failure too.
 * The first call also arranges for the exit to account for stdout: a
 * reader that went away (`tool | head -1`) ends the process by SIGPIPE
 * once it has cleaned up (quietly, status 141 in a shell, as coreutils
 * do); any other write error is one line and exit status 1. */
void out_set_json(bool json, const char *tool);
/* stdout is lost: its reader went away (a pipe's reader exited, the
 * terminal hung up) or a write to it failed. Cheap enough to ask at
 * every poll: the run loop stops when it is. */
bool out_lost(void);
/* --output FILE: the report and JSON go to FILE (created or truncated,
 * never through a symlink) instead of stdout, so that they never share it
 * with a traced command's own output. 0 or -errno. */
int out_to_file(const char *path);
/* The stdout the tool was started with, kept for a command it runs (the
 * command's output goes where it would have gone untraced); -1 when the
 * tool's stdout was not redirected. */
int out_original_stdout(void);
/* The tool's name as out_set_json was given it, for messages. */
const char *out_tool_name(void);
void die_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warn_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Say the tracer is live: "Tracing ..." on stderr, and in JSON mode a
 * {"event":"ready",...} line on stdout. Tests and scripts wait for it. */
void out_ready(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print a numbered list of non-zero loss counters, "none" when all zero. */
void print_drops(FILE *f, const uint64_t *drops, int n);
void jw_drops(struct jw *w, const char *key, const uint64_t *drops, int n);

#endif
