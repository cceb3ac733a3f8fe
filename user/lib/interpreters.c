/* Interpreter stacks (interpreters.h): finding the interpreter of a process,
 * its version and the layout to walk it with, and reading back the
 * stacks the BPF side stored.
 *
 * Layouts are per minor version, x86_64, from the structures as the
 * compiler lays them out (php-src Zend/zend_globals.h, zend_compile.h,
 * zend_types.h; CPython Include/internal/pycore_frame.h, pycore_runtime.h, cpython/pystate.h, cpython/code.h).
 * PHP 7.4, 8.2 and 8.4 (Debian 11, 12 and 13's php) and CPython 3.8-3.13
 * (pyenv's builds, Debian's python3.11) were checked against live
 * processes (scripts/php-offsets finds PHP's in a process's memory;
 * tests/e2e/php_versions.bats and runtimes.bats walk them with the tools).
 * Versions not checked are refused with a note, not walked with a
 * neighbour's offsets. CPython 3.13 and later publish their layout
 * (_Py_DebugOffsets): it is read, not tabled. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "interpreters.h"
#include "kfeatures.h"
#include "procfs.h"
#include "pylines.h"

/* PHP 7.4, 8.2 and 8.4 share every offset but the op_array's filename
 * and line_start, which move as fields are added before them. */
#define PHP_LAYOUT(filename, line_start) {                                   \
	.eg_current_ex = 488, .ex_opline = 0, .ex_func = 24, .ex_prev = 48,  \
	.fn_type = 0, .fn_name = 8, .fn_scope = 16,                          \
	.op_filename = (filename), .op_line_start = (line_start),            \
	.ce_name = 8, .opline_lineno = 24, .zstr_len = 16, .zstr_val = 24 }

struct known_layout {
	int kind;
	unsigned version;       /* major << 8 | minor */
	bool verified;          /* checked against a live process */
	struct interp_layout l;
};

/* CPython's offsets common to every version up to 3.12: bytes objects
 * and compact ASCII str objects (3.12 dropped the wstr pointer). */
#define PY_BYTES .bytes_len = 16, .bytes_data = 32
#define PY_USTR(data) .ustr_len = 16, .ustr_state = 32, .ustr_data = (data)

/* CPython 3.8-3.10: the thread state's frame, a PyFrameObject, its
 * f_lasti an int (3.8-3.9 bytes, 3.10 code units). */
#define PY_FRAMEOBJ_LAYOUT(lasti) {                                          \
	.rt_interp_head = 32, .is_threads_head = 8,                          \
	.ts_next = 8, .ts_tid = 176, .ts_frame = 24,                         \
	.fr_code = 32, .fr_prev = 24, .fr_lasti = (lasti), .fr_size = (lasti) + 8, \
	.co_name = 112, .co_filename = 104, .co_firstlineno = 40, .co_lines = 120, \
	PY_BYTES, PY_USTR(48), .py_flags = PYL_TID_PTHREAD }

/* From the structures as the compiler lays them out: offsetof() over
 * each version's installed headers (pycore_runtime.h, pycore_interp.h,
 * cpython/pystate.h, frameobject.h, pycore_frame.h, cpython/code.h). */
static const struct known_layout layouts[] = {
	{ INTERP_PHP, 0x0704, true, PHP_LAYOUT(136, 144) },
	{ INTERP_PHP, 0x0802, true, PHP_LAYOUT(152, 160) },
	{ INTERP_PHP, 0x0804, true, PHP_LAYOUT(168, 176) },
	{ INTERP_PYTHON, 0x0308, true, PY_FRAMEOBJ_LAYOUT(104) },
	{ INTERP_PYTHON, 0x0309, true, PY_FRAMEOBJ_LAYOUT(104) },
	{ INTERP_PYTHON, 0x030a, true, PY_FRAMEOBJ_LAYOUT(96) },
	/* 3.11: the frame chain hangs off the thread state's cframe. */
	{ INTERP_PYTHON, 0x030b, true, {
		.rt_interp_head = 40, .is_threads_head = 16,
		.ts_next = 8, .ts_tid = 160, .ts_cframe = 56, .cf_current = 8,
		.fr_code = 32, .fr_prev = 48, .fr_instr = 56, .fr_size = 64,
		.co_name = 120, .co_filename = 112, .co_firstlineno = 72,
		.co_lines = 136, .co_code = 184, PY_BYTES, PY_USTR(48) } },
	/* 3.12: frames owned by the C stack (shims) are skipped. */
	{ INTERP_PYTHON, 0x030c, true, {
		.rt_interp_head = 40, .is_threads_head = 72,
		.ts_next = 8, .ts_tid = 144, .ts_cframe = 56, .cf_current = 0,
		.fr_code = 0, .fr_prev = 8, .fr_instr = 56, .fr_owner = 70, .fr_size = 72,
		.co_name = 120, .co_filename = 112, .co_firstlineno = 68,
		.co_lines = 136, .co_code = 192, PY_BYTES, PY_USTR(40) } },
};

static const struct interp_layout *find_layout(int kind, unsigned version)
{
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
		if (layouts[i].kind == kind && layouts[i].version == version)
			return &layouts[i].l;
	return NULL;
}

static const char *kind_name(int kind)
{
	return kind == INTERP_PHP ? "PHP" : kind == INTERP_PYTHON ? "CPython" :
	       kind == INTERP_NODE ? "Node.js" : "?";
}

/* ---- binaries ---- */

/* By file name: php-fpm8.2, php8.2, php, libphp8.2.so, libphp.so;
 * python3.11, libpython3.11.so.1.0; node, nodejs. */
static int candidate(const char *path)
{
	const char *b = strrchr(path, '/');

	b = b ? b + 1 : path;
	if (!strncmp(b, "lib", 3))
		b += 3;
	if (!strncmp(b, "php", 3))
		return INTERP_PHP;
	if (!strncmp(b, "python3.", 8))
		return INTERP_PYTHON;
	if (!strcmp(b, "node") || !strcmp(b, "nodejs"))
		return INTERP_NODE;
	return INTERP_NONE;
}

/* "3.11" in a python file name. */
static unsigned python_version(const char *path)
{
	const char *b = strrchr(path, '/');
	unsigned maj, min;

	b = strstr(b ? b : path, "python");
	if (b && sscanf(b, "python%u.%u", &maj, &min) == 2 && maj < 256 && min < 256)
		return maj << 8 | min;
	return 0;
}

/* Major << 8 | minor of the "MAJOR.MINOR" that follows tag in the file;
 * 0 if the tag is absent. */
static unsigned version_after(int fd, const char *tag)
{
	size_t tlen = strlen(tag);
	struct stat st;
	unsigned maj, min, v = 0;
	const char *hit;
	void *m;

	if (fstat(fd, &st) || st.st_size <= 0)
		return 0;
	m = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		return 0;
	hit = memmem(m, st.st_size, tag, tlen);
	if (hit && (size_t)(hit - (const char *)m) + tlen + 9 < (size_t)st.st_size &&
	    sscanf(hit + tlen, "%u.%u", &maj, &min) == 2 && maj < 256 && min < 256)
		v = maj << 8 | min;
	munmap(m, st.st_size);
	return v;
}

/* The version PHP puts in its X-Powered-By header, in the binary's
 * read-only data: "X-Powered-By: PHP/8.2.36". */
static unsigned php_version(int fd)
{
	return version_after(fd, "X-Powered-By: PHP/");
}

/* st_value of a defined symbol of .dynsym; 0 if absent. */
static uint64_t dynsym_value(Elf *e, const char *name)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM || !sh.sh_entsize)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym s;
			const char *n;

			if (!gelf_getsym(d, (int)i, &s) || s.st_shndx == SHN_UNDEF)
				continue;
			n = elf_strptr(e, sh.sh_link, s.st_name);
			if (n && !strcmp(n, name))
				return s.st_value;
		}
	}
	return 0;
}

static uint64_t first_load_page(Elf *e)
{
	size_t n = 0;

	if (elf_getphdrnum(e, &n))
		return 0;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD)
			return ph.p_vaddr & ~(uint64_t)4095;
	}
	return 0;
}

/* n bytes at virtual address va of the file's loaded image. */
static int read_vaddr(Elf *e, int fd, uint64_t va, void *buf, size_t n)
{
	size_t nph = 0;

	if (elf_getphdrnum(e, &nph))
		return -1;
	for (size_t i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD || va < ph.p_vaddr ||
		    va + n > ph.p_vaddr + ph.p_filesz)
			continue;
		return pread(fd, buf, n, (off_t)(ph.p_offset + va - ph.p_vaddr)) == (ssize_t)n ? 0 : -1;
	}
	return -1;
}

/* Major << 8 | minor of a PY_VERSION_HEX. */
static unsigned py_hex_version(uint64_t hex)
{
	return (unsigned)((hex >> 24) & 0xff) << 8 | (unsigned)((hex >> 16) & 0xff);
}

/* CPython 3.13's _Py_DebugOffsets (Include/internal/pycore_runtime.h),
 * the first field of _PyRuntime: the offsets of the interpreter's
 * structures, for out-of-process readers. Its own layout changes with
 * each minor version; this is 3.13's, up to the fields used. */
struct py313_debug_offsets {
	char cookie[8];
	uint64_t version, free_threaded;
	struct { uint64_t size, finalizing, interpreters_head; } runtime_state;
	struct {
		uint64_t size, id, next, threads_head, gc, imports_modules, sysdict, builtins,
			ceval_gil, gil_runtime_state, gil_enabled, gil_locked, gil_holder;
	} interpreter_state;
	struct {
		uint64_t size, prev, next, interp, current_frame, thread_id, native_thread_id,
			datastack_chunk, status;
	} thread_state;
	struct { uint64_t size, previous, executable, instr_ptr, localsplus, owner; } frame;
	struct {
		uint64_t size, filename, name, qualname, linetable, firstlineno, argcount,
			localsplusnames, localspluskinds, co_code_adaptive;
	} code;
	struct { uint64_t size, ob_type; } pyobject;
	struct { uint64_t size, tp_name, tp_repr, tp_flags; } type_object;
	struct { uint64_t size, ob_item, ob_size; } tuple, list;
	struct { uint64_t size, ma_keys, ma_values; } dict;
	struct { uint64_t size, ob_fval; } float_object;
	struct { uint64_t size, lv_tag, ob_digit; } long_object;
	struct { uint64_t size, ob_size, ob_sval; } bytes;
	struct { uint64_t size, state, length, asciiobject_size; } unicode;
};

#define PY_DEBUG_COOKIE "xdebugpy"

/* The walk's layout from 3.13's published offsets; -1 if one does not
 * fit the layout's 16 bits (a corrupt table). */
static int layout_from_debug(const struct py313_debug_offsets *d, struct interp_layout *l)
{
	const uint64_t v[] = {
		d->runtime_state.interpreters_head, d->interpreter_state.threads_head,
		d->thread_state.next, d->thread_state.native_thread_id,
		d->thread_state.current_frame, d->frame.executable, d->frame.previous,
		d->frame.instr_ptr, d->frame.owner, d->code.name, d->code.filename,
		d->code.firstlineno, d->code.linetable, d->code.co_code_adaptive,
		d->bytes.ob_size, d->bytes.ob_sval, d->unicode.length, d->unicode.state,
		d->unicode.asciiobject_size,
	};
	uint64_t top = 0;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (v[i] > 0xfff0)
			return -1;
	*l = (struct interp_layout){
		.rt_interp_head = v[0], .is_threads_head = v[1], .ts_next = v[2], .ts_tid = v[3],
		.ts_frame = v[4], .fr_code = v[5], .fr_prev = v[6], .fr_instr = v[7],
		.fr_owner = v[8], .co_name = v[9], .co_filename = v[10], .co_firstlineno = v[11],
		.co_lines = v[12], .co_code = v[13], .bytes_len = v[14], .bytes_data = v[15],
		.ustr_len = v[16], .ustr_state = v[17], .ustr_data = v[18],
	};
	for (int i = 5; i <= 8; i++)
		top = v[i] > top ? v[i] : top;
	l->fr_size = (uint16_t)((top + 8) & ~7ULL);
	/* The BPF side reads a thread state's first 256 bytes, a frame's
	 * first fr_size (at most 256). */
	return l->ts_tid < 256 && l->ts_next < 256 && l->ts_frame < 256 && l->fr_size <= 256 ? 0 : -1;
}

/* CPython 3.13+: the layout the interpreter publishes at the start of
 * _PyRuntime, read from the file's initialised data (the process's copy
 * starts as it). Fills b or says why not. */
static void python_published_layout(Elf *e, int fd, struct interp_bin *b, char *why, size_t whylen)
{
	struct py313_debug_offsets d;
	unsigned pub;

	if (read_vaddr(e, fd, b->root_sym, &d, sizeof(d)) ||
	    memcmp(d.cookie, PY_DEBUG_COOKIE, sizeof(d.cookie))) {
		snprintf(why, whylen, "CPython %u.%u publishes no layout at _PyRuntime (no \"%s\")",
			 b->version >> 8, b->version & 0xff, PY_DEBUG_COOKIE);
		return;
	}
	pub = py_hex_version(d.version);
	if (pub != b->version) {
		snprintf(why, whylen, "its file name says CPython %u.%u, its _PyRuntime %u.%u",
			 b->version >> 8, b->version & 0xff, pub >> 8, pub & 0xff);
		return;
	}
	if (pub != 0x030d) {
		snprintf(why, whylen, "CPython %u.%u publishes its layout in a form this build does "
			 "not read (3.13's)", pub >> 8, pub & 0xff);
		return;
	}
	if (d.free_threaded) {
		snprintf(why, whylen, "a free-threaded build (%u.%ut) is not supported",
			 pub >> 8, pub & 0xff);
		return;
	}
	b->code_type_sym = dynsym_value(e, "PyCode_Type");
	if (!b->code_type_sym || layout_from_debug(&d, &b->layout)) {
		snprintf(why, whylen, "CPython %u.%u's published layout is not usable",
			 pub >> 8, pub & 0xff);
		return;
	}
	b->has_layout = true;
}

/* CPython 3.11+ exports its version (Py_Version, PY_VERSION_HEX): a file
 * name that says otherwise is not trusted. False with *why when they
 * disagree; a binary without the symbol (3.8-3.10) has only its name. */
static bool python_name_agrees(Elf *e, int fd, struct interp_bin *b, char *why, size_t whylen)
{
	uint64_t at = e ? dynsym_value(e, "Py_Version") : 0;
	uint32_t hex = 0;

	if (!at || read_vaddr(e, fd, at, &hex, sizeof(hex)) || py_hex_version(hex) == b->version)
		return true;
	snprintf(why, whylen, "its file name says CPython %u.%u, its Py_Version %u.%u",
		 b->version >> 8, b->version & 0xff, py_hex_version(hex) >> 8,
		 py_hex_version(hex) & 0xff);
	return false;
}

/* The layout of a binary whose kind and version are known. */
static void find_bin_layout(Elf *e, int fd, struct interp_bin *b, char *why, size_t whylen)
{
	const struct interp_layout *l = find_layout(b->kind, b->version);

	if (b->kind == INTERP_PYTHON && !python_name_agrees(e, fd, b, why, whylen))
		return;
	if (l) {
		b->layout = *l;
		b->has_layout = true;
	} else if (b->kind == INTERP_PYTHON && b->version >= 0x030d && e) {
		python_published_layout(e, fd, b, why, whylen);
	} else {
		snprintf(why, whylen, "%s %u.%u has no known layout (supported: " INTERP_VERSIONS ")",
			 kind_name(b->kind), b->version >> 8, b->version & 0xff);
	}
}

/* ---- Node.js ---- */

/* The release node says it is, in its process.release URLs:
 * ".../download/release/v20.20.2/". */
static unsigned node_version(int fd)
{
	return version_after(fd, "/download/release/v");
}

/* One v8dbg_* constant: an int the binary exports as a data symbol (a
 * zero one lives in .bss, outside the file). False if it is absent. */
static bool v8dbg(Elf *e, int fd, const char *name, int32_t *out)
{
	uint64_t at = dynsym_value(e, name);

	if (!at)
		return false;
	if (read_vaddr(e, fd, at, out, sizeof(*out)))
		*out = 0;
	return true;
}

struct v8_const {
	const char *name;
	int32_t v;
};

/* The constants the walk needs, in the order node_layout uses them. */
enum {
	V8_TAGGED_SIZE, V8_SMI_SHIFT, V8_HEAP_TAG, V8_HEAP_TAG_MASK, V8_FP_FUNCTION, V8_MAP,
	V8_MAP_TYPE, V8_FN_SHARED, V8_SFI_NAME, V8_SFI_SCRIPT, V8_SCRIPT_NAME, V8_STR_LEN,
	V8_STR_CHARS, V8_SI_NLOCALS, V8_SI_VARS, V8_TYPE_SFI, V8_TYPE_SCRIPT,
	V8_TYPE_SCOPE_INFO, V8_FIRST_NONSTRING, V8_THIN_ACTUAL, V8_THIN_TAG, V8_CONS_FIRST, V8_CONS_SECOND, V8_CONS_TAG, V8_NCONST
};

static const char *const v8_names[V8_NCONST] = {
	"v8dbg_TaggedSize", "v8dbg_SmiShiftSize", "v8dbg_HeapObjectTag", "v8dbg_HeapObjectTagMask",
	"v8dbg_off_fp_function", "v8dbg_class_HeapObject__map__Map",
	"v8dbg_class_Map__instance_type__uint16_t",
	"v8dbg_class_JSFunction__shared__SharedFunctionInfo",
	"v8dbg_class_SharedFunctionInfo__name_or_scope_info__Object",
	"v8dbg_class_SharedFunctionInfo__script_or_debug_info__HeapObject",
	"v8dbg_class_Script__name__Object", "v8dbg_class_String__length__int32_t",
	"v8dbg_class_SeqOneByteString__chars__char", "v8dbg_scopeinfo_idx_ncontextlocals",
	"v8dbg_scopeinfo_idx_first_vars",
	"v8dbg_type_SharedFunctionInfo__SHARED_FUNCTION_INFO_TYPE",
	"v8dbg_type_Script__SCRIPT_TYPE", "v8dbg_type_ScopeInfo__SCOPE_INFO_TYPE",
	"v8dbg_FirstNonstringType", "v8dbg_class_ThinString__actual__String",
	"v8dbg_ThinStringTag", "v8dbg_class_ConsString__first__String",
	"v8dbg_class_ConsString__second__String", "v8dbg_ConsStringTag",
};

/* V8 12 (Node.js 22) names its tagged fields by their C++ type. */
static const char *const v8_names_12[V8_NCONST] = {
	[V8_SFI_NAME] = "v8dbg_class_SharedFunctionInfo__name_or_scope_info__Tagged_Object_",
	[V8_SFI_SCRIPT] = "v8dbg_class_SharedFunctionInfo__script__Tagged_HeapObject_",
};

#define NODE_MAJORS "18, 20, 22"

static bool node_major_supported(unsigned major)
{
	return major == 18 || major == 20 || major == 22;
}

/* A field offset or type that fits the layout's 16 bits. */
static bool v8_fits(int32_t v)
{
	return v >= 0 && v < 0xfff0;
}

/* The walk's layout from the v8dbg_* constants; why says what is
 * missing or not supported. ScopeInfo indexes count tagged slots after
 * the map. */
static void node_layout(Elf *e, int fd, struct interp_bin *b, char *why, size_t whylen)
{
	int32_t v[V8_NCONST];
	struct interp_layout *l = &b->layout;

	/* Only the majors whose frames were checked against a live process
	 * (tests/e2e/node.bats): another V8 may lay out what the constants
	 * do not describe (a ScopeInfo's slots) differently. */
	if (!node_major_supported(b->version >> 8)) {
		snprintf(why, whylen, "Node.js %u.%u is not supported (supported: " NODE_MAJORS ")",
			 b->version >> 8, b->version & 0xff);
		return;
	}
	for (int i = 0; i < V8_NCONST; i++) {
		if (!v8dbg(e, fd, v8_names[i], &v[i]) &&
		    !(v8_names_12[i] && v8dbg(e, fd, v8_names_12[i], &v[i]))) {
			snprintf(why, whylen, "no %s symbol (node exports V8's layout as v8dbg_* "
				 "symbols; a stripped binary has none)", v8_names[i]);
			return;
		}
	}
	if (v[V8_TAGGED_SIZE] != 8 || v[V8_SMI_SHIFT] != 31) {
		snprintf(why, whylen, "V8 with pointer compression (tagged size %d) is not supported",
			 v[V8_TAGGED_SIZE]);
		return;
	}
	if (v[V8_HEAP_TAG] != 1 || v[V8_HEAP_TAG_MASK] != 3 || v[V8_THIN_TAG] != 5 ||
	    v[V8_CONS_TAG] != 1 ||
	    v[V8_FP_FUNCTION] >= 0 ||
	    v[V8_FP_FUNCTION] < -256) {
		snprintf(why, whylen, "V8's tagging or frame layout is not the one walked");
		return;
	}
	for (int i = V8_MAP; i < V8_NCONST; i++) {
		if (!v8_fits(v[i])) {
			snprintf(why, whylen, "%s is out of range (%d)", v8_names[i], v[i]);
			return;
		}
	}
	*l = (struct interp_layout){
		.v8_fp_function = (int16_t)v[V8_FP_FUNCTION], .v8_map = v[V8_MAP],
		.v8_map_type = v[V8_MAP_TYPE], .v8_fn_shared = v[V8_FN_SHARED],
		.v8_sfi_name = v[V8_SFI_NAME], .v8_sfi_script = v[V8_SFI_SCRIPT],
		.v8_script_name = v[V8_SCRIPT_NAME], .v8_str_len = v[V8_STR_LEN],
		.v8_str_chars = v[V8_STR_CHARS],
		.v8_si_nlocals = (uint16_t)(8 + 8 * v[V8_SI_NLOCALS]),
		.v8_si_vars = (uint16_t)(8 + 8 * v[V8_SI_VARS]),
		.v8_type_sfi = v[V8_TYPE_SFI],
		.v8_type_script = v[V8_TYPE_SCRIPT], .v8_type_scope_info = v[V8_TYPE_SCOPE_INFO],
		.v8_first_nonstring = v[V8_FIRST_NONSTRING], .v8_thin_actual = v[V8_THIN_ACTUAL],
		.v8_cons_first = v[V8_CONS_FIRST], .v8_cons_second = v[V8_CONS_SECOND],
	};
	b->has_layout = true;
}

/* The binary open as fd, known by name (its path in the process's maps:
 * the kind and CPython's version are read from it). */
static int probe_fd(int fd, const char *name, struct interp_bin *b, char *why, size_t whylen)
{
	int kind = candidate(name);
	char scratch[160];
	const char *sym;
	Elf *e;

	memset(b, 0, sizeof(*b));
	if (!why || !whylen) {
		why = scratch;
		whylen = sizeof(scratch);
	}
	why[0] = 0;
	if (kind == INTERP_NONE || fd < 0)
		return INTERP_NONE;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (kind == INTERP_NODE) {
		b->kind = kind;
		b->version = node_version(fd);
		b->first_vaddr = e ? first_load_page(e) : 0;
		if (e)
			node_layout(e, fd, b, why, whylen);
		goto out;
	}
	sym = kind == INTERP_PHP ? "executor_globals" : "_PyRuntime";
	b->root_sym = e ? dynsym_value(e, sym) : 0;
	b->first_vaddr = e ? first_load_page(e) : 0;
	/* php-cgi or a module without the executor: no PHP runs here, or a
	 * ZTS build keeps the globals in thread-local storage. */
	if (!b->root_sym) {
		if (kind == INTERP_PHP && strstr(name, "php"))
			snprintf(why, whylen, "no executor_globals symbol (a ZTS build?)");
		kind = INTERP_NONE;
	} else {
		b->kind = kind;
		b->version = kind == INTERP_PHP ? php_version(fd) : python_version(name);
		find_bin_layout(e, fd, b, why, whylen);
	}
out:
	if (e)
		elf_end(e);
	return kind;
}

int interp_probe_file(const char *path, struct interp_bin *b, char *why, size_t whylen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	int kind = probe_fd(fd, path, b, why, whylen);

	if (fd >= 0)
		close(fd);
	return kind;
}

/* ---- processes ---- */

struct seen_bin {
	uint64_t dev_ino;
	struct interp_bin b;
};

struct interp {
	struct interp_opts o;
	struct seen_bin *bins;
	size_t nbins;
	unsigned flagged;
	/* Processes found to be no interpreter: open addressing, 0 empty,
	 * a forgotten one PID_GONE. */
	uint32_t *plain;
	uint32_t plain_size, plain_n;
};

#define PID_GONE UINT32_MAX

static uint32_t *plain_slot(const struct interp *ip, uint32_t pid, bool for_insert)
{
	uint32_t m = ip->plain_size - 1, h = (pid * 0x9e3779b1u) & m;

	for (; ip->plain[h]; h = (h + 1) & m)
		if (ip->plain[h] == pid || (for_insert && ip->plain[h] == PID_GONE))
			return &ip->plain[h];
	return &ip->plain[h];
}

static bool plain_has(const struct interp *ip, uint32_t pid)
{
	return ip->plain_size && *plain_slot(ip, pid, false) == pid;
}

static void plain_add(struct interp *ip, uint32_t pid)
{
	if ((ip->plain_n + 1) * 2 > ip->plain_size) {
		struct interp big = { .plain_size = ip->plain_size ? ip->plain_size * 2 : 256 };

		big.plain = calloc(big.plain_size, sizeof(*big.plain));
		if (!big.plain)
			abort();
		for (uint32_t i = 0; i < ip->plain_size; i++)
			if (ip->plain[i] && ip->plain[i] != PID_GONE)
				*plain_slot(&big, ip->plain[i], true) = ip->plain[i];
		free(ip->plain);
		ip->plain = big.plain;
		ip->plain_size = big.plain_size;
	}
	*plain_slot(ip, pid, true) = pid;
	ip->plain_n++;
}

void interp__forget(struct interp *ip, pid_t pid)
{
	uint32_t *sl;

	if (!ip || !plain_has(ip, (uint32_t)pid))
		return;
	sl = plain_slot(ip, (uint32_t)pid, false);
	*sl = PID_GONE;
}

struct interp *interp__new(const struct interp_opts *o)
{
	struct interp *ip = calloc(1, sizeof(*ip));

	if (!ip)
		abort();
	ip->o = *o;
	return ip;
}

void interp__free(struct interp *ip)
{
	if (!ip)
		return;
	free(ip->bins);
	free(ip->plain);
	free(ip);
}

unsigned interp__flagged(const struct interp *ip)
{
	return ip ? ip->flagged : 0;
}

/* A binary probed once (by device and inode), its refusal noted once;
 * name is its path in the process's maps, for the note. */
static const struct interp_bin *probe_cached(struct interp *ip, int fd, const char *name,
					     pid_t pid)
{
	struct seen_bin *sb;
	char why[160];
	struct stat st;

	if (fstat(fd, &st))
		return NULL;
	for (size_t i = 0; i < ip->nbins; i++)
		if (ip->bins[i].dev_ino == ((uint64_t)st.st_dev << 40 ^ st.st_ino))
			return &ip->bins[i].b;
	sb = realloc(ip->bins, (ip->nbins + 1) * sizeof(*sb));
	if (!sb)
		abort();
	ip->bins = sb;
	sb = &ip->bins[ip->nbins++];
	sb->dev_ino = (uint64_t)st.st_dev << 40 ^ st.st_ino;
	probe_fd(fd, name, &sb->b, why, sizeof(why));
	if (why[0] && ip->o.notes)
		fprintf(ip->o.notes, "note: pid %d runs %s: %s; its %s\n", pid,
			strrchr(name, '/') ? strrchr(name, '/') + 1 : name, why,
			sb->b.kind == INTERP_NODE ? "JavaScript functions are named only from "
			"/tmp/perf-PID.map (node --perf-basic-prof)" : "interpreter frames are not named");
	return &sb->b;
}

struct attach_ctx {
	struct interp *ip;
	pid_t pid;
	struct interp_proc p;
};

/* The first mapping of each interpreter binary (file offset 0) gives its
 * load address. */
static int attach_map(const struct map_entry *m, void *ctx)
{
	struct attach_ctx *c = ctx;
	const struct interp_bin *b;
	int fd;

	if (c->p.kind || m->offset || !m->path[0] || m->path[0] != '/' ||
	    candidate(m->path) == INTERP_NONE)
		return 0;
	/* The very file mapped: a path the process can swap is not read. */
	fd = proc_map_open(c->pid, m);
	if (fd < 0)
		return 0;
	b = probe_cached(c->ip, fd, m->path, c->pid);
	close(fd);
	if (!b || !b->kind || !b->has_layout)
		return 0;
	c->p.kind = b->kind;
	c->p.version = b->version;
	c->p.root = m->start - b->first_vaddr + b->root_sym;
	c->p.code_type = b->code_type_sym ? m->start - b->first_vaddr + b->code_type_sym : 0;
	c->p.l = b->layout;
	return 1;
}

int interp__attach(struct interp *ip, pid_t pid)
{
	struct attach_ctx c = { .ip = ip, .pid = pid };
	uint32_t key = (uint32_t)pid;
	struct interp_proc cur;

	if (!ip || ip->o.procs_map < 0 || pid <= 0 || plain_has(ip, key))
		return INTERP_NONE;
	/* Inherited at fork, or flagged before. */
	if (!bpf_map_lookup_elem(ip->o.procs_map, &key, &cur))
		return (int)cur.kind;
	if (proc_maps(pid, attach_map, &c) < 0)
		return INTERP_NONE;
	if (!c.p.kind) {
		plain_add(ip, key);
		return INTERP_NONE;
	}
	if (bpf_map_update_elem(ip->o.procs_map, &key, &c.p, BPF_ANY))
		return INTERP_NONE;
	if (ip->o.armed)
		__atomic_store_n(ip->o.armed, 1, __ATOMIC_RELEASE);
	ip->flagged++;
	return (int)c.p.kind;
}

void interp__attach_all(struct interp *ip, const pid_t *pids, int n)
{
	for (int i = 0; i < n; i++)
		if (pids[i] != getpid())
			interp__attach(ip, pids[i]);
}

/* ---- stacks ---- */

static char *symbol_of(int kind, const struct interp_frame *f)
{
	char *s = NULL;
	const char *name = f->name[0] ? f->name : kind == INTERP_PHP ? "{main}" :
			   kind == INTERP_NODE ? "(anonymous)" : "?";

	if (f->scope[0] ? asprintf(&s, "%.*s::%.*s", INTERP_NAME_LEN, f->scope, INTERP_NAME_LEN,
				   name) < 0
			: asprintf(&s, "%.*s", INTERP_NAME_LEN, name) < 0)
		abort();
	return s;
}

/* A path whose start was cut off (the BPF side keeps its end). */
static char *file_of(const struct interp_frame *f)
{
	size_t n = strnlen(f->file, INTERP_FILE_LEN);
	char *s;

	if (!n)
		return NULL;
	if (asprintf(&s, "%s%.*s", n == INTERP_FILE_LEN - 1 ? "..." : "", (int)n, f->file) < 0)
		abort();
	return s;
}

static void marker(struct frame *f, enum frame_kind k, const char *module, const char *fmt,
		   unsigned n)
{
	memset(f, 0, sizeof(*f));
	f->kind = k;
	f->module = strdup(module);
	if (asprintf(&f->symbol, fmt, n) < 0)
		abort();
}

/* Interpreter frames have no machine address; consumers keyed by address
 * (pprof's locations) get one of their own per function, file and line,
 * in the kernel's half of the address space, which no user code uses. */
static uint64_t pseudo_addr(const struct frame *f)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	const char *parts[2] = { f->symbol, f->file };

	for (int i = 0; i < 2; i++)
		for (const char *p = parts[i]; p && *p; p++)
			h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	h = (h ^ (uint64_t)f->line) * 0x100000001b3ULL;
	return INTERP_PSEUDO_ADDR | (h & ~INTERP_PSEUDO_ADDR);
}

/* The line a CPython frame runs, from the line table stored with its
 * stack; its def line (line_is_def) when the table does not say. */
static void python_line(const struct interp_stack *st, const struct interp_frame *f,
			interp_lines_fn lines, void *ctx, struct frame *out)
{
	struct py_lines_key k = { .tgid = st->tgid, .code = f->code };
	struct py_lines l;
	int line = 0;

	/* kept is never past b (the BPF side bounds it), checked all the same. */
	if (lines && lines(&k, &l, ctx) && l.firstlineno == f->line)
		line = py_addr2line(st->version, l.b, l.kept < sizeof(l.b) ? l.kept : sizeof(l.b),
				    l.len, (int)l.firstlineno, f->instr);
	out->line = line > 0 ? line : (int)f->line;
	out->line_is_def = line <= 0;
}

/* The line of character offset pos in a script file (V8 counts UTF-16
 * units: a 4-byte UTF-8 sequence is two); 0 if the file cannot be read
 * or is shorter. A script named by URL (ES modules) is its path. */
static int js_line(const char *script, uint32_t pos)
{
	const char *path = strncmp(script, "file://", 7) ? script : script + 7;
	uint32_t units = 0;
	int line = 1, ch;
	FILE *f;

	if (path[0] != '/' || !(f = fopen(path, "re")))
		return 0;
	while (units < pos && (ch = getc(f)) != EOF) {
		if ((ch & 0xc0) == 0x80)
			continue;  /* a continuation byte */
		units += (ch & 0xf8) == 0xf0 ? 2 : 1;
		line += ch == '\n';
	}
	fclose(f);
	return units >= pos ? line : 0;
}

/* A JavaScript frame's line: the function's start, from its position
 * when its script is a file that can be read (node's own modules,
 * "node:events", are not). */
static void node_line(const struct interp_frame *f, struct frame *out)
{
	char file[INTERP_FILE_LEN + 1];

	out->line = 0;
	out->line_is_def = true;
	if (!(f->flags & IFR_JS_POS) || f->file[0] == '?' ||
	    strnlen(f->file, INTERP_FILE_LEN) == INTERP_FILE_LEN - 1)
		return;
	snprintf(file, sizeof(file), "%.*s", INTERP_FILE_LEN, f->file);
	out->line = js_line(file, f->line);
}

static enum frame_kind frame_kind_of(uint32_t kind)
{
	return kind == INTERP_PHP ? FRAME_PHP : kind == INTERP_NODE ? FRAME_JS : FRAME_PYTHON;
}

static const char *module_of(uint32_t kind)
{
	return kind == INTERP_PHP ? "php" : kind == INTERP_NODE ? "node" : "python";
}

int interp_stack_decode(const struct interp_stack *st, interp_lines_fn lines, void *ctx,
			struct frame *out, int max)
{
	enum frame_kind k = frame_kind_of(st->kind);
	const char *module = module_of(st->kind);
	int n = 0;

	for (uint32_t i = 0; i < st->nframes && i < INTERP_MAX_FRAMES && n < max; i++, n++) {
		const struct interp_frame *f = &st->f[i];

		memset(&out[n], 0, sizeof(out[n]));
		out[n].kind = k;
		out[n].symbol = symbol_of(st->kind, f);
		out[n].module = strdup(module);
		out[n].file = file_of(f);
		out[n].line = (int)f->line;
		if (st->kind == INTERP_PYTHON)
			python_line(st, f, lines, ctx, &out[n]);
		else if (st->kind == INTERP_NODE)
			node_line(f, &out[n]);
		out[n].addr = pseudo_addr(&out[n]);
	}
	if (st->more && n < max)
		marker(&out[n++], k, module, "[%u more frames]", st->more);
	if (st->unreadable && n < max)
		marker(&out[n++], k, module, "[%u unreadable frames]", st->unreadable);
	return n;
}

static bool map_lines(const struct py_lines_key *k, struct py_lines *out, void *ctx)
{
	const struct interp *ip = ctx;

	return ip->o.lines_map >= 0 && !bpf_map_lookup_elem(ip->o.lines_map, k, out);
}

int interp__frames(struct interp *ip, uint64_t key, struct frame *out, int max)
{
	struct interp_stack st;

	if (!ip || !key || ip->o.stacks_map < 0 || max <= 0 ||
	    bpf_map_lookup_elem(ip->o.stacks_map, &key, &st))
		return 0;
	return interp_stack_decode(&st, map_lines, ip, out, max);
}

/* CPython's standard library (/usr/lib/python3.11/socket.py) and node's
 * own modules (node:events, node:internal/...): the code that called
 * them is the one to read. Installed packages are not. */
static bool runtime_library(const struct frame *f)
{
	const char *p = f->kind == FRAME_PYTHON && f->file ? strstr(f->file, "/python3.") : NULL;

	if (f->kind == FRAME_JS)
		return f->file && !strncmp(f->file, "node:", 5);
	return p && !strstr(p, "-packages/");
}

int interp_culprit(const struct frame *fr, int n)
{
	int first = -1, with_file = -1;

	for (int i = 0; i < n; i++) {
		if (!frame_is_interp(&fr[i]))
			continue;
		if (first < 0)
			first = i;
		if (!fr[i].file)
			continue;
		if (!runtime_library(&fr[i]))
			return i;
		if (with_file < 0)
			with_file = i;
	}
	return with_file >= 0 ? with_file : first;
}

bool interp_walk_supported(FILE *notes)
{
	static bool told;
	bool have = features_get()->bpf_loop;

	if (!have && notes && !told) {
		fprintf(notes, "note: PHP and Python frames need bpf_loop (Linux 5.17+), "
			"which this kernel lacks: native frames only\n");
		told = true;
	}
	return have;
}
