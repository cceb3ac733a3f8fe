/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Interpreter stacks walked from user memory at a record (see interp.h):
 * PHP's Zend executor and CPython's frame chain. A tool includes this after
 * common.bpf.h and calls interp_stack(tgid) where it records a stack; the
 * result is 0 (no interpreter frames) or the key of the stack in
 * `interp_stacks`. Processes that are no interpreter, or that user space
 * has not flagged, cost one hash lookup (none until user space flags its
 * first process); --no-interp turns even that off. */
#ifndef MEMSCOPE_INTERP_BPF_H
#define MEMSCOPE_INTERP_BPF_H

#include "interp.h"
#include "compat.bpf.h"

const volatile bool interp_walk = false;

/* Walks that found frames, and frames whose memory could not be read
 * (the chain is cut there): user space shows both. */
__u64 interp_walks = 0;
__u64 interp_unreadable = 0;
/* Set by user space when it flags its first process: until then no
 * process is an interpreter, and a record skips even the lookup (the
 * common case of a tracer on a C or Go service). */
__u32 interp_armed = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct interp_proc);
} interp_procs SEC(".maps");

/* 2 KiB each, filled once per distinct stack: allocated as used. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct interp_stack);
} interp_stacks SEC(".maps");

/* CPython line tables (interp.h): 528 bytes each, one per code object
 * of a stored stack, allocated as used. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 8192);
	__type(key, struct py_lines_key);
	__type(value, struct py_lines);
} py_lines SEC(".maps");

/* Words read at once from a frame or thread state; offsets of the layout
 * index into them (bounded by the mask). */
#define INTERP_WIN 32

struct interp_scratch {
	struct interp_stack st;
	__u64 obj[INTERP_MAX_FRAMES];  /* zend_function / PyCodeObject */
	__u64 pc[INTERP_MAX_FRAMES];   /* PHP: the frame's opline; CPython: instr */
	__u64 w[INTERP_WIN];
	__u64 w2[INTERP_WIN];
	struct py_lines lines;
	char str[1024];                /* V8: a string's parts joined (v8_str) */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct interp_scratch);
} interp_scratch SEC(".maps");

/* Frames followed past INTERP_MAX_FRAMES only to count them. */
#define INTERP_MAX_WALK 32

static __always_inline __u64 interp_mix(__u64 h, __u64 v)
{
	h = (h ^ v) * 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

static __always_inline __u64 win_word(const __u64 *w, __u16 off)
{
	return w[(off >> 3) & (INTERP_WIN - 1)];
}

static __always_inline __u64 read_u64(__u64 addr)
{
	__u64 v = 0;

	bpf_probe_read_user(&v, sizeof(v), (void *)addr);
	return v;
}

/* The walks run in bpf_loop (5.17) callbacks: the verifier checks a
 * callback once, where an unrolled loop of reads multiplies its states
 * past its limit. */
struct walk_ctx {
	const struct interp_proc *p;
	struct interp_scratch *s;
	__u64 at;       /* next frame (PHP execute_data, CPython frame) / thread */
	__u64 hash;
	__u64 tid;      /* CPython: the thread id searched for */
	__u32 n;
	__u32 tgid;
};

/* ---- PHP ---- */

/* One zend_execute_data: its function and opline, then the caller's. */
static long php_step(__u64 i, struct walk_ctx *c)
{
	const struct interp_proc *p = c->p;
	struct interp_scratch *s = c->s;
	__u64 func, pc;

	if (!c->at)
		return 1;
	if (bpf_probe_read_user(s->w, 64, (void *)c->at)) {
		s->st.unreadable++;
		return 1;
	}
	func = win_word(s->w, p->l.ex_func);
	pc = win_word(s->w, p->l.ex_opline);
	c->at = win_word(s->w, p->l.ex_prev);
	if (!func)
		return 0;  /* a dummy frame (an internal call's arguments) */
	if (c->n >= INTERP_MAX_FRAMES) {
		s->st.more++;
		return 0;
	}
	s->obj[c->n & (INTERP_MAX_FRAMES - 1)] = func;
	s->pc[c->n & (INTERP_MAX_FRAMES - 1)] = pc;
	c->hash = interp_mix(interp_mix(c->hash, func), pc);
	c->n++;
	return 0;
}

/* A zend_string into dst: its start, or its end with from_end. */
static __always_inline void php_str(const struct interp_proc *p, __u64 zs, char *dst, __u32 size,
				    bool from_end)
{
	__u64 len, skip = 0;

	if (!zs)
		return;
	if (from_end) {
		len = read_u64(zs + p->l.zstr_len);
		if (len >= size)
			skip = len - (size - 1);
	}
	bpf_probe_read_user_str(dst, size, (void *)(zs + p->l.zstr_val + skip));
}

static __always_inline void php_frame(const struct interp_proc *p, struct interp_scratch *s,
				      __u64 func, __u64 pc, struct interp_frame *f)
{
	__u64 scope, start = 0;
	__u8 type;

	if (bpf_probe_read_user(s->w2, 32, (void *)func)) {
		s->st.unreadable++;
		return;
	}
	type = (__u8)(win_word(s->w2, p->l.fn_type) >> ((p->l.fn_type & 7) * 8));
	php_str(p, win_word(s->w2, p->l.fn_name), f->name, sizeof(f->name), false);
	scope = win_word(s->w2, p->l.fn_scope);
	if (scope)
		php_str(p, read_u64(scope + p->l.ce_name), f->scope, sizeof(f->scope), false);
	/* ZEND_USER_FUNCTION (2) has a file; internal ones (1) do not. */
	if (type != 2) {
		f->flags = IFR_INTERNAL;
		return;
	}
	php_str(p, read_u64(func + p->l.op_filename), f->file, sizeof(f->file), true);
	if (pc)
		bpf_probe_read_user(&f->line, sizeof(f->line), (void *)(pc + p->l.opline_lineno));
	if (!f->line) {
		bpf_probe_read_user(&start, 4, (void *)(func + p->l.op_line_start));
		f->line = (__u32)start;
		f->flags = IFR_LINE_START;
	}
}

/* ---- CPython ---- */

/* The current thread's PyThreadState: the interpreter's thread list
 * searched for its native thread id (the GIL holder's pointer is no use:
 * a socket is made with the GIL released). On a match c->at is the
 * thread's current frame. */
static long py_thread_step(__u64 i, struct walk_ctx *c)
{
	const struct interp_proc *p = c->p;
	struct interp_scratch *s = c->s;
	__u64 id, cf;

	if (!c->at || bpf_probe_read_user(s->w, sizeof(s->w), (void *)c->at)) {
		c->at = 0;
		return 1;
	}
	id = win_word(s->w, p->l.ts_tid);
	if (!(p->l.py_flags & PYL_TID_PTHREAD))
		id = (__u32)id;
	if (id != c->tid) {
		c->at = win_word(s->w, p->l.ts_next);
		return 0;
	}
	if (p->l.ts_cframe) {
		cf = win_word(s->w, p->l.ts_cframe);
		c->at = cf ? read_u64(cf + p->l.cf_current) : 0;
	} else {
		c->at = win_word(s->w, p->l.ts_frame);
	}
	c->tid = 0;
	return 1;
}

/* A byte of a window (the owner of a 3.12+ frame). */
static __always_inline __u8 win_byte(const __u64 *w, __u16 off)
{
	return (__u8)(win_word(w, off) >> ((off & 7) * 8));
}

/* Where frame w is in its code, counted as the version counts it. */
static __always_inline __s32 py_instr(const struct interp_proc *p, const __u64 *w, __u64 code)
{
	__u64 at;

	if (!p->l.fr_instr)
		return (__s32)win_word(w, p->l.fr_lasti);
	at = win_word(w, p->l.fr_instr);
	return (__s32)((__s64)(at - (code + p->l.co_code)) >> 1);  /* 2-byte units */
}

/* Whether a frame runs Python code: 3.12+'s shim frames on the C stack
 * and 3.13's frames whose f_executable is no code object do not. */
static __always_inline bool py_frame_is_code(const struct interp_proc *p, const __u64 *w,
					     __u64 code)
{
	if (p->l.fr_owner && win_byte(w, p->l.fr_owner) == PYL_OWNER_CSTACK)
		return false;
	/* ob_type is at 8 in every build that is not free-threaded. */
	return !p->code_type || read_u64(code + 8) == p->code_type;
}

static long py_step(__u64 i, struct walk_ctx *c)
{
	const struct interp_proc *p = c->p;
	struct interp_scratch *s = c->s;
	__u32 size = p->l.fr_size;
	__u64 code;
	__s32 instr;

	if (!c->at)
		return 1;
	if (size > sizeof(s->w2))
		size = sizeof(s->w2);
	if (!size || bpf_probe_read_user(s->w2, size, (void *)c->at)) {
		s->st.unreadable++;
		return 1;
	}
	code = win_word(s->w2, p->l.fr_code);
	c->at = win_word(s->w2, p->l.fr_prev);
	if (!code || !py_frame_is_code(p, s->w2, code))
		return 0;
	if (c->n >= INTERP_MAX_FRAMES) {
		s->st.more++;
		return 0;
	}
	instr = py_instr(p, s->w2, code);
	s->obj[c->n & (INTERP_MAX_FRAMES - 1)] = code;
	s->pc[c->n & (INTERP_MAX_FRAMES - 1)] = (__u32)instr;
	/* Two lines of one function are two stacks. */
	c->hash = interp_mix(interp_mix(c->hash, code), (__u32)instr);
	c->n++;
	return 0;
}

/* The thread's id as its PyThreadState keeps it. */
static __always_inline __u64 py_thread_id(const struct interp_proc *p)
{
	struct task_struct *t;

	if (!(p->l.py_flags & PYL_TID_PTHREAD))
		return (__u32)bpf_get_current_pid_tgid();
	t = (struct task_struct *)bpf_get_current_task();
	return BPF_CORE_READ(t, thread.fsbase);
}

static __always_inline void py_walk(struct walk_ctx *c)
{
	const struct interp_proc *p = c->p;
	__u64 is = read_u64(p->root + p->l.rt_interp_head);

	c->at = is ? read_u64(is + p->l.is_threads_head) : 0;
	c->tid = py_thread_id(p);
	if (!c->tid)
		return;
	bpf_loop(INTERP_MAX_THREADS, py_thread_step, c, 0);
	if (c->tid)  /* not found */
		return;
	bpf_loop(INTERP_MAX_WALK, py_step, c, 0);
}

/* A compact ASCII str into dst (its end with from_end); "?" otherwise. */
static __always_inline void py_str(const struct interp_proc *p, __u64 o, char *dst, __u32 size,
				   bool from_end)
{
	__u64 len = 0, skip = 0;
	__u32 state = 0;

	if (!o)
		return;
	bpf_probe_read_user(&state, sizeof(state), (void *)(o + p->l.ustr_state));
	if ((state & 0x60) != 0x60) { /* compact and ascii */
		dst[0] = '?';
		dst[1] = 0;
		return;
	}
	if (from_end) {
		len = read_u64(o + p->l.ustr_len);
		if (len >= size)
			skip = len - (size - 1);
	}
	bpf_probe_read_user_str(dst, size, (void *)(o + p->l.ustr_data + skip));
}

/* The line table of a code object into py_lines, unless the one there
 * is already its (same first line, same length: a freed code object's
 * address taken by another is rewritten). */
static __always_inline void py_lines_copy(struct walk_ctx *c, __u64 code, __u32 first)
{
	const struct interp_proc *p = c->p;
	struct py_lines_key k = { .tgid = c->tgid, .code = code };
	struct py_lines *old, *l = &c->s->lines;
	__u64 tab = read_u64(code + p->l.co_lines), len;
	__u32 n;

	if (!tab)
		return;
	len = read_u64(tab + p->l.bytes_len);
	old = bpf_map_lookup_elem(&py_lines, &k);
	if (old && old->firstlineno == first && old->len == (__u32)len)
		return;
	l->firstlineno = first;
	l->len = (__u32)len;
	n = len < INTERP_LINES_LEN ? (__u32)len : INTERP_LINES_LEN;
	if (n && bpf_probe_read_user(l->b, n, (void *)(tab + p->l.bytes_data)))
		n = 0;
	l->kept = n;
	if (bpf_map_update_elem(&py_lines, &k, l, BPF_ANY))
		count_drop(DROP_MAP_FULL);
}

static __always_inline void py_frame(struct walk_ctx *c, __u32 i, struct interp_frame *f)
{
	const struct interp_proc *p = c->p;
	__u64 code = c->s->obj[i & (INTERP_MAX_FRAMES - 1)];

	py_str(p, read_u64(code + p->l.co_name), f->name, sizeof(f->name), false);
	py_str(p, read_u64(code + p->l.co_filename), f->file, sizeof(f->file), true);
	bpf_probe_read_user(&f->line, sizeof(f->line), (void *)(code + p->l.co_firstlineno));
	f->code = code;
	f->instr = (__s32)c->s->pc[i & (INTERP_MAX_FRAMES - 1)];
	py_lines_copy(c, code, f->line);
}

/* ---- Node.js (V8) ---- */

/* Frames of the frame-pointer chain looked at for JS functions: native
 * ones (the allocator, node's and V8's C++) come first. */
#define NODE_MAX_WALK 64
/* ScopeInfo slots searched for the function's name and position, past
 * its context locals; more locals than NODE_MAX_LOCALS: not searched. */
#define NODE_SI_WORDS 6
#define NODE_MAX_LOCALS 16

static __always_inline bool v8_heap_object(__u64 v)
{
	return (v & 3) == 1;
}

/* A Smi's value (no pointer compression: the upper half). */
static __always_inline __s32 v8_smi(__u64 v)
{
	return (__s32)(v >> 32);
}

/* The instance type of a heap object; 0 if v is none or unreadable. */
static __always_inline __u16 v8_type(const struct interp_proc *p, __u64 v)
{
	__u64 map;
	__u16 t = 0;

	if (!v8_heap_object(v))
		return 0;
	map = read_u64(v - 1 + p->l.v8_map);
	if (!v8_heap_object(map))
		return 0;
	bpf_probe_read_user(&t, sizeof(t), (void *)(map - 1 + p->l.v8_map_type));
	return t;
}

/* One frame of the chain: a JS frame keeps its JSFunction at a fixed
 * slot; its SharedFunctionInfo names the function. Native frames hold
 * anything there, hence the check of what the slot leads to. */
static long node_step(__u64 i, struct walk_ctx *c)
{
	const struct interp_proc *p = c->p;
	struct interp_scratch *s = c->s;
	__u64 fp = c->at, fn, sfi, next;

	if (!fp)
		return 1;
	next = read_u64(fp);
	fn = read_u64(fp + p->l.v8_fp_function);
	c->at = next > fp ? next : 0;  /* callers are higher up the stack */
	if (!v8_type(p, fn))
		return 0;
	sfi = read_u64(fn - 1 + p->l.v8_fn_shared);
	if (v8_type(p, sfi) != p->l.v8_type_sfi)
		return 0;
	if (c->n >= INTERP_MAX_FRAMES) {
		s->st.more++;
		return 0;
	}
	s->obj[c->n & (INTERP_MAX_FRAMES - 1)] = sfi;
	c->hash = interp_mix(c->hash, sfi);
	c->n++;
	return 0;
}

/* A string whose parts are joined in interp_scratch.str: a part is at
 * most V8_PART_MAX bytes (a longer one is not read). */
#define V8_PART_MAX 255

/* A one-byte string's type, a thin string followed to the string it
 * stands for: 0 if it is none or two-byte. String representation bits
 * 0-2 (0 sequential, 1 cons, 5 thin), encoding bit 3 (8: one-byte):
 * v8dbg_StringRepresentationMask, OneByteStringTag, ThinStringTag. */
static __always_inline __u16 v8_one_byte(const struct interp_proc *p, __u64 *str)
{
	__u16 t = v8_type(p, *str);

	if ((t & 7) == 5) {
		*str = read_u64(*str - 1 + p->l.v8_thin_actual);
		t = v8_type(p, *str);
	}
	return t && t < p->l.v8_first_nonstring && (t & 8) ? t : 0;
}

/* A sequential one-byte string appended to s->str at `at`; the new end,
 * or -1 if it is not one or does not fit. */
static __always_inline __s32 v8_seq_append(const struct interp_proc *p, struct interp_scratch *s,
					   __u64 str, __s32 at)
{
	__s32 len = 0;

	if (at < 0 || (v8_one_byte(p, &str) & 7) != 0)
		return -1;
	bpf_probe_read_user(&len, sizeof(len), (void *)(str - 1 + p->l.v8_str_len));
	if (len < 0 || len > V8_PART_MAX)
		return -1;
	if (bpf_probe_read_user(s->str + (at & V8_PART_MAX), len & V8_PART_MAX,
				(void *)(str - 1 + p->l.v8_str_chars)))
		return -1;
	return at + len;
}

/* A one-byte string into dst (its end with from_end): a sequential one,
 * or a cons of two (how node joins a script's directory and name); "?"
 * for other kinds (two-byte, deeper cons, external), not read. */
static __always_inline void v8_str(const struct interp_proc *p, struct interp_scratch *s,
				   __u64 str, char *dst, __u32 size, bool from_end)
{
	__u16 t = v8_one_byte(p, &str);
	__s32 n = -1;
	__u32 skip = 0;
	__u64 m;

	if ((t & 7) == 0)
		n = v8_seq_append(p, s, str, 0);
	else if ((t & 7) == 1)
		n = v8_seq_append(p, s, read_u64(str - 1 + p->l.v8_cons_second),
				  v8_seq_append(p, s, read_u64(str - 1 + p->l.v8_cons_first), 0));
	if (n < 0) {
		dst[0] = '?';
		dst[1] = 0;
		return;
	}
	if (from_end && (__u32)n >= size)
		skip = (__u32)n - (size - 1);
	n -= skip;
	if (n > (__s32)size - 1)
		n = size - 1;
	m = (__u64)n;
	/* The compiler drops a mask it proves useless, and the verifier
	 * then lacks the bound (both destinations are under 128 bytes). */
	asm volatile("" : "+r"(m));
	m &= 127;
	if (bpf_probe_read_kernel(dst, m, s->str + (skip & 511)))
		m = 0;
	dst[m & 127] = 0;
}

/* A compiled function's name and start position are in its ScopeInfo,
 * past the context locals (names and infos): the function variable's
 * name is the first string there, the position the first pair of Smis
 * (start, end). */
static __always_inline void v8_scope_info(const struct interp_proc *p, struct interp_scratch *s,
					  __u64 si, struct interp_frame *f)
{
	__s32 nlocals = v8_smi(read_u64(si - 1 + p->l.v8_si_nlocals));
	__u64 at;

	if (nlocals < 0 || nlocals > NODE_MAX_LOCALS)
		return;
	at = si - 1 + p->l.v8_si_vars + (__u64)nlocals * 16;
	if (bpf_probe_read_user(s->w2, NODE_SI_WORDS * 8, (void *)at))
		return;
	for (int k = 0; k < NODE_SI_WORDS; k++) {
		__u64 v = s->w2[k];

		__u16 t = v8_type(p, v);

		if (!f->name[0] && t && t < p->l.v8_first_nonstring) {
			v8_str(p, s, v, f->name, sizeof(f->name), false);
			continue;
		}
		if (k + 1 < NODE_SI_WORDS && !v8_heap_object(v) && !v8_heap_object(s->w2[k + 1]) &&
		    v8_smi(v) >= 0 && v8_smi(s->w2[k + 1]) > v8_smi(v)) {
			f->line = (__u32)v8_smi(v);
			f->flags = IFR_JS_POS;
			return;
		}
	}
}

static __always_inline void node_frame(const struct interp_proc *p, struct interp_scratch *s,
				       __u64 sfi, struct interp_frame *f)
{
	__u64 nos = read_u64(sfi - 1 + p->l.v8_sfi_name);
	__u64 script = read_u64(sfi - 1 + p->l.v8_sfi_script);
	__u16 t = v8_type(p, nos);

	if (t && t < p->l.v8_first_nonstring)
		v8_str(p, s, nos, f->name, sizeof(f->name), false);
	else if (t == p->l.v8_type_scope_info)
		v8_scope_info(p, s, nos, f);
	if (v8_type(p, script) == p->l.v8_type_script)
		v8_str(p, s, read_u64(script - 1 + p->l.v8_script_name), f->file, sizeof(f->file),
		       true);
	f->code = sfi;
}

/* ---- the record hook ---- */

/* The names of frame i of a stack seen for the first time. */
static long store_step(__u64 i, struct walk_ctx *c)
{
	struct interp_scratch *s = c->s;
	struct interp_frame *f;

	if (i >= c->n || i >= INTERP_MAX_FRAMES)
		return 1;
	f = &s->st.f[i & (INTERP_MAX_FRAMES - 1)];
	__builtin_memset(f, 0, sizeof(*f));
	if (c->p->kind == INTERP_PHP)
		php_frame(c->p, s, s->obj[i & (INTERP_MAX_FRAMES - 1)],
			  s->pc[i & (INTERP_MAX_FRAMES - 1)], f);
	else if (c->p->kind == INTERP_NODE)
		node_frame(c->p, s, s->obj[i & (INTERP_MAX_FRAMES - 1)], f);
	else
		py_frame(c, (__u32)i, f);
	return 0;
}

static __always_inline void interp_store(struct walk_ctx *c)
{
	long err;

	c->s->st.kind = c->p->kind;
	c->s->st.version = c->p->version;
	c->s->st.tgid = c->tgid;
	c->s->st.nframes = c->n;
	bpf_loop(INTERP_MAX_FRAMES, store_step, c, 0);
	err = bpf_map_update_elem(&interp_stacks, &c->hash, &c->s->st, BPF_NOEXIST);
	/* -EEXIST: another CPU stored it first. */
	if (err && err != -17)
		count_drop(DROP_MAP_FULL);
}

/* The current interpreter stack of tgid's thread: its key, 0 if none. */
static __noinline __u64 interp_stack(__u32 tgid)
{
	/* Its stack stays under 64 bytes: 6.1's verifier counts it with every
	 * bpf_loop callback under it (store_step) and the calling program,
	 * 512 bytes in all, and rounds each frame up to 32. Hence no key
	 * of its own for the scratch map (c.n is 0 here) and no temporary
	 * for the node walk's first frame pointer. */
	struct walk_ctx c = {};

#ifdef MEMSCOPE_COMPAT
	return 0; /* compat.bpf.h: the walks need bpf_loop (5.17) */
#endif
	if (!interp_walk || !interp_armed)
		return 0;
	c.p = bpf_map_lookup_elem(&interp_procs, &tgid);
	if (!c.p)
		return 0;
	c.s = bpf_map_lookup_elem(&interp_scratch, &c.n);
	if (!c.s)
		return 0;
	c.s->st.more = c.s->st.unreadable = 0;
	c.tgid = tgid;
	c.hash = c.p->kind;
	if (c.p->kind == INTERP_PHP) {
		c.at = read_u64(c.p->root + c.p->l.eg_current_ex);
		bpf_loop(INTERP_MAX_WALK, php_step, &c, 0);
	} else if (c.p->kind == INTERP_PYTHON) {
		py_walk(&c);
	} else if (c.p->kind == INTERP_NODE) {
		struct pt_regs *regs = current_user_regs();

		if (regs)
			bpf_core_read(&c.at, sizeof(c.at), &regs->bp);
		bpf_loop(NODE_MAX_WALK, node_step, &c, 0);
	}
	if (c.s->st.unreadable)
		__sync_fetch_and_add(&interp_unreadable, c.s->st.unreadable);
	if (!c.n)
		return 0;
	__sync_fetch_and_add(&interp_walks, 1);
	c.hash = interp_mix(c.hash, c.s->st.more) | 1;
	if (!bpf_map_lookup_elem(&interp_stacks, &c.hash))
		interp_store(&c);
	return c.hash;
}

/* A forked process runs the same image at the same addresses: it inherits
 * its parent's entry (php-fpm's workers, forked by the master, including
 * the ones that replace recycled workers). A thread needs nothing. */
SEC("raw_tp/sched_process_fork")
int BPF_PROG(interp_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid), ctgid = BPF_CORE_READ(child, tgid);
	struct interp_proc *p;

	if (!interp_walk || ptgid == ctgid)
		return 0;
	p = bpf_map_lookup_elem(&interp_procs, &ptgid);
	if (p && bpf_map_update_elem(&interp_procs, &ctgid, p, BPF_ANY))
		count_drop(DROP_MAP_FULL);
	return 0;
}

/* A new image (exec) or the process's end: the entry is stale. */
SEC("tracepoint/sched/sched_process_exec")
int interp_exec(void *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (interp_walk)
		bpf_map_delete_elem(&interp_procs, &tgid);
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int interp_exit(void *ctx)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (interp_walk && BPF_CORE_READ(t, signal, live.counter) == 0)
		bpf_map_delete_elem(&interp_procs, &tgid);
	return 0;
}

#endif
