/* Interpreter stacks (PHP, CPython) for the tracers: which processes run a
 * supported interpreter and where its state lives (put into the BPF
 * `interp_procs` map, bpf/interp.h), and the frames of the stacks the BPF
 * side stored in `interp_stacks`, as struct frame for the reports.
 *
 * Supported: PHP 7.4, 8.2 and 8.4 without ZTS (executor_globals in the
 * binary's dynamic symbols: php-fpm, php-cli, libphp for Apache; the
 * versions of Debian 11, 12 and 13, each checked on a live process), CPython 3.8-3.13
 * (_PyRuntime, in the executable or libpython; 3.13's layout is read from
 * the _Py_DebugOffsets it publishes, not a table; free-threaded builds are
 * refused). Other versions are refused with a note, once per binary.
 * Node.js 18, 20 and 22 (node's v8dbg_* symbols give V8's
 * layout; no pointer compression): functions, scripts and the line where
 * each function starts.
 * x86_64 layouts. */
#ifndef MEMSCOPE_INTERPRETERS_H
#define MEMSCOPE_INTERPRETERS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "interp.h"
#include "symbolize.h"

/* What the layouts cover, for notes and --features. */
#define INTERP_VERSIONS "PHP 7.4, 8.2, 8.4; CPython 3.8-3.13; " \
	"Node.js 18, 20, 22: function, script, start line"

#define INTERP_OFF_HELP \
	"Do not walk PHP, Python and JavaScript (V8) frame chains at each record (their functions, files and " \
	"lines are then not shown)"

struct interp_opts {
	int procs_map;          /* interp_procs; < 0: walks are off */
	int stacks_map;         /* interp_stacks */
	int lines_map;          /* py_lines: CPython's line tables */
	FILE *notes;            /* where refusals are told (NULL: silent) */
	uint32_t *armed;        /* the BPF side's interp_armed: set at the first flag */
};

struct interp;
/* Never NULL (aborts on out of memory). */
struct interp *interp__new(const struct interp_opts *o);
/* Flag pid for the walk if it runs a supported interpreter. Returns the
 * INTERP_* kind flagged, INTERP_NONE if it runs none (or an unsupported
 * version: noted once per binary). Cheap for a process seen before. */
int interp__attach(struct interp *ip, pid_t pid);
/* The frames of interpreter stack key, innermost first, into out (at most
 * max); a frame past the kept ones or an unreadable one is one marker
 * frame. A CPython frame's line is the one it runs, decoded from the line
 * table stored with the stack (its def line, line_is_def, when the table
 * does not say). Returns the number filled, 0 if the key is unknown. */
int interp__frames(struct interp *ip, uint64_t key, struct frame *out, int max);
/* The same for a stack already read (what BPF copied from the process:
 * any bytes). lines gives a CPython code object's line table (false if
 * none is kept); NULL: frames get their def lines. */
typedef bool (*interp_lines_fn)(const struct py_lines_key *k, struct py_lines *out, void *ctx);
int interp_stack_decode(const struct interp_stack *st, interp_lines_fn lines, void *ctx,
			struct frame *out, int max);
/* interp__attach for every process of a list (a cgroup's, the host's at
 * start). */
void interp__attach_all(struct interp *ip, const pid_t *pids, int n);
/* pid exited: a new process may take its number. */
void interp__forget(struct interp *ip, pid_t pid);
/* Bits set in the addr of every interpreter frame (a stand-in: see
 * interpreters.c); JSON shows null. */
#define INTERP_PSEUDO_ADDR 0xff00000000000000ULL
/* Processes flagged so far. */
unsigned interp__flagged(const struct interp *ip);
void interp__free(struct interp *ip);
/* Whether the kernel can run the walks (they loop with bpf_loop, 5.17+);
 * says once in notes when it cannot. The programs then load with the walk
 * off: the verifier never reaches the helper it does not know. */
bool interp_walk_supported(FILE *notes);

/* What a binary is, from its file: the interpreter kind and version
 * (major << 8 | minor) and the file offset-free address of its root symbol
 * (st_value). Returns INTERP_NONE if it is none; *why says what was found
 * when it is one that cannot be walked. */
struct interp_bin {
	int kind;
	unsigned version;
	uint64_t root_sym;      /* st_value of executor_globals / _PyRuntime */
	uint64_t first_vaddr;   /* page of the first PT_LOAD: load bias base */
	uint64_t code_type_sym; /* CPython 3.13+: st_value of PyCode_Type */
	bool has_layout;        /* false: version not supported */
	struct interp_layout layout;
};
int interp_probe_file(const char *path, struct interp_bin *b, char *why, size_t whylen);

/* Index of the innermost interpreter frame of the application's code (a
 * file, not a builtin, not CPython's standard library) in fr[0..n), else
 * of the innermost one with a file, else of the innermost; -1 when there
 * is none: the culprit of a stack that has them. */
int interp_culprit(const struct frame *fr, int n);

#endif
