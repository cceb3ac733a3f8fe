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
#define INTERP_NODE   3

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
	 * threads.head -> PyThreadState {next, thread id} -> the current
	 * frame: 3.8-3.10 and 3.13 straight from the thread state (ts_frame:
	 * PyThreadState.frame, .current_frame), 3.11-3.12 through
	 * ts_cframe -> _PyCFrame.current_frame. A frame (PyFrameObject to
	 * 3.10, _PyInterpreterFrame after) {code, previous, where it is:
	 * int f_lasti to 3.10 (fr_lasti), else a pointer into the code's
	 * instructions (fr_instr: prev_instr, 3.13's instr_ptr); 3.12+ an
	 * owner byte} -> PyCodeObject {co_name, co_filename, co_firstlineno,
	 * the line table (co_lnotab to 3.9, else co_linetable, a bytes
	 * object) and from 3.11 the instructions inline (co_code_adaptive)}. */
	__u16 rt_interp_head, is_threads_head;
	__u16 ts_next, ts_tid, ts_frame, ts_cframe, cf_current;
	__u16 fr_code, fr_prev, fr_lasti, fr_instr, fr_owner;
	__u16 fr_size;       /* bytes of a frame read: past its last field used */
	__u16 co_name, co_filename, co_firstlineno, co_lines, co_code;
	/* Bytes objects: ob_size, ob_sval. */
	__u16 bytes_len, bytes_data;
	/* Compact ASCII str objects: length, state (bit 6: ascii), data. */
	__u16 ustr_len, ustr_state, ustr_data;
	__u16 py_flags;      /* PYL_* */
	/* V8 (Node.js), from the v8dbg_* constants node exports: a JS
	 * frame's JSFunction at fp + v8_fp_function (negative); tagged
	 * pointers (HeapObject: low bits 01, untagged by - 1) to
	 * HeapObject.map -> Map.instance_type; JSFunction.shared ->
	 * SharedFunctionInfo {name_or_scope_info, script_or_debug_info} ->
	 * Script.name; String {length (int32), chars of a sequential
	 * one-byte string; a thin string's actual one}; ScopeInfo's context local count and its first
	 * variable slot. Instance types checked:
	 * SHARED_FUNCTION_INFO_TYPE, SCRIPT_TYPE, SCOPE_INFO_TYPE; types
	 * below v8_first_nonstring are strings. A JSFunction is known by its
 * shared slot holding a SharedFunctionInfo: its own type is one of a
 * range (class constructors, ...) that moves between versions. */
	__s16 v8_fp_function;
	__u16 v8_map, v8_map_type, v8_fn_shared, v8_sfi_name, v8_sfi_script;
	__u16 v8_script_name, v8_str_len, v8_str_chars, v8_si_nlocals, v8_si_vars;
	__u16 v8_type_sfi, v8_type_script, v8_type_scope_info;
	__u16 v8_first_nonstring;
	__u16 v8_thin_actual;   /* ThinString.actual: the string it stands for */
	__u16 v8_cons_first, v8_cons_second;  /* ConsString: its two halves */
};

/* interp_layout.py_flags. */
/* ts_tid is PyThreadState.thread_id, pthread_self(): on x86_64 glibc the
 * thread's fs base (3.8-3.10 keep no native id). */
#define PYL_TID_PTHREAD 1
/* A frame's owner byte says FRAME_OWNED_BY_CSTACK (3): a shim frame
 * of 3.12+, not Python code. */
#define PYL_OWNER_CSTACK 3

/* Per traced process (key: tgid). Workers forked from a process inherit
 * its entry in the kernel (same image, same addresses). */
struct interp_proc {
	__u32 kind;      /* INTERP_* */
	__u32 version;   /* major << 8 | minor, for the report */
	__u64 root;      /* address of executor_globals / _PyRuntime */
	/* CPython 3.13+: &PyCode_Type; a frame whose f_executable is of
	 * another type (None for some internal frames) is skipped. */
	__u64 code_type;
	struct interp_layout l;
};

/* Frame flags. */
#define IFR_INTERNAL 1   /* a PHP function written in C (no file, no line) */
#define IFR_LINE_START 2 /* line is the function's first line (PHP) */
/* Node.js: line is the function's start position in its script (a
 * character offset, V8's), turned into a line by user space; 0 unknown. */
#define IFR_JS_POS 4

struct interp_frame {
	char name[INTERP_NAME_LEN];
	char scope[INTERP_NAME_LEN];   /* PHP class, "" if none */
	char file[INTERP_FILE_LEN];
	__u32 line;                    /* CPython: co_firstlineno */
	__u32 flags;                   /* IFR_* */
	/* CPython: the code object (its line table is in py_lines under
	 * it) and the frame's last instruction, as the version counts it
	 * (3.8-3.9 bytes, 3.10 code units, 3.11+ code units from
	 * co_code_adaptive); user space turns them into the current line. */
	__u64 code;
	__s32 instr;
	__u32 pad;
};

/* A CPython code object's line table, copied when a stack through it is
 * first stored (key: tgid, code object address): the object may be freed,
 * or the process gone, when the report decodes it. A longer table keeps
 * its start: lines of instructions past it are not known. */
#define INTERP_LINES_LEN 512
struct py_lines_key {
	__u32 tgid;
	__u32 pad;
	__u64 code;
};

struct py_lines {
	__u32 firstlineno;
	__u32 len;         /* the table's length */
	__u32 kept;        /* bytes copied into b */
	__u32 pad;
	__u8 b[INTERP_LINES_LEN];
};

/* One interpreter stack (key: the hash the records carry). */
struct interp_stack {
	__u32 kind;
	__u32 version;     /* interp_proc.version */
	__u32 tgid;        /* who stored it: CPython line tables are its */
	__u32 nframes;
	__u32 more;        /* frames past INTERP_MAX_FRAMES, not kept */
	__u32 unreadable;  /* frames whose memory could not be read */
	struct interp_frame f[INTERP_MAX_FRAMES];
};

#endif
