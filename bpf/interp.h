/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Interpreter stacks (PHP's Zend executor, CPython): what crosses the
 * kernel/user boundary. User space finds the interpreter's root (PHP's
 * executor_globals, CPython's _PyRuntime) and the layout of its structures
 * for the running version (user/lib/interpreters.c) and puts them, per process,
 * in `interp_procs`; at each record the BPF side (bpf/interp.bpf.h) walks
 * the frame chain from there and names the stack by a hash of its frames,
 * copying the names into `interp_stacks` the first time a stack is seen
 * (a function's strings die with a PHP request when opcache is off, and a
 * recycled worker with its memory: they cannot wait for the report). */
#ifndef MEMSCOPE_INTERP_H
#define MEMSCOPE_INTERP_H

#include "common.h"

/* Interpreter kinds (interp_proc.kind, interp_stack.kind). */
#define INTERP_NONE   0
#define INTERP_PHP    1
#define INTERP_PYTHON 2

/* Frames kept per stack, innermost first; deeper ones are counted in
 * interp_stack.more. Names longer than their field keep their start,
 * file paths their end (the file name is what a reader needs). */
#define INTERP_MAX_FRAMES 8
#define INTERP_NAME_LEN   64
#define INTERP_FILE_LEN   96
/* Threads of a CPython interpreter searched for the current one. */
#define INTERP_MAX_THREADS 32

/* Byte offsets of the fields walked, for one interpreter version. The
 * names say which structure each belongs to; unused ones are 0. */
struct interp_layout {
	/* PHP (Zend): executor_globals -> current_execute_data, then
	 * zend_execute_data {opline, func, prev_execute_data} ->
	 * zend_function {type, function_name, scope; op_array filename,
	 * line_start} -> zend_class_entry.name; zend_op.lineno. */
	__u16 eg_current_ex;
	__u16 ex_opline, ex_func, ex_prev;
	__u16 fn_type, fn_name, fn_scope, op_filename, op_line_start;
	__u16 ce_name, opline_lineno;
	/* zend_string: len, val (NUL-terminated). */
	__u16 zstr_len, zstr_val;
	/* CPython: _PyRuntime.interpreters.head -> PyInterpreterState.
	 * threads.head -> PyThreadState {next, native_thread_id, cframe} ->
	 * _PyCFrame.current_frame -> _PyInterpreterFrame {f_code, previous}
	 * -> PyCodeObject {co_name, co_filename, co_firstlineno}. */
	__u16 rt_interp_head, is_threads_head;
	__u16 ts_next, ts_tid, ts_cframe, cf_current;
	__u16 fr_code, fr_prev;
	__u16 co_name, co_filename, co_firstlineno;
	/* Compact ASCII str objects: length, state (bit 6: ascii), data. */
	__u16 ustr_len, ustr_state, ustr_data;
};

/* Per traced process (key: tgid). Workers forked from a process inherit
 * its entry in the kernel (same image, same addresses). */
struct interp_proc {
	__u32 kind;      /* INTERP_* */
	__u32 version;   /* major << 8 | minor, for the report */
	__u64 root;      /* address of executor_globals / _PyRuntime */
	struct interp_layout l;
};

/* Frame flags. */
#define IFR_INTERNAL 1   /* a PHP function written in C (no file, no line) */
#define IFR_LINE_START 2 /* line is the function's first line (CPython) */

struct interp_frame {
	char name[INTERP_NAME_LEN];
	char scope[INTERP_NAME_LEN];   /* PHP class, "" if none */
	char file[INTERP_FILE_LEN];
	__u32 line;
	__u32 flags;                   /* IFR_* */
};

/* One interpreter stack (key: the hash the records carry). */
struct interp_stack {
	__u32 kind;
	__u32 nframes;
	__u32 more;        /* frames past INTERP_MAX_FRAMES, not kept */
	__u32 unreadable;  /* frames whose memory could not be read */
	struct interp_frame f[INTERP_MAX_FRAMES];
};

#endif
