/* The culprit of a stack: see culprit.h for the rule. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "culprit.h"
#include "interpreters.h"
#include "jvm.h"

static bool has_prefix(const char *s, const char *pre)
{
	return s && !strncmp(s, pre, strlen(pre));
}

static bool any_prefix(const char *s, const char *const *pre)
{
	for (int i = 0; s && pre[i]; i++)
		if (has_prefix(s, pre[i]))
			return true;
	return false;
}

/* sym is name, or name followed by a clone suffix or a parameter list
 * ("sysmalloc_mmap.constprop.0", "operator new(unsigned long)"). */
static bool named(const char *sym, const char *const *names)
{
	for (int i = 0; sym && names[i]; i++) {
		size_t l = strlen(names[i]);

		if (!strncmp(sym, names[i], l) && (!sym[l] || sym[l] == '(' || sym[l] == '.'))
			return true;
	}
	return false;
}

/* Applications' and runtimes' own allocation wrappers, by symbol prefix:
 * the code that calls them is the culprit. redis (zmalloc.c), PHP's Zend
 * MM, CPython's PyMem/PyObject allocators, GLib, OpenSSL, GNU xmalloc,
 * nginx, APR, SQLite, libuv. */
static bool wrapper_symbol(const char *sym)
{
	static const char *const pre[] = {
		"zmalloc", "zcalloc", "zrealloc", "ztrymalloc", "ztrycalloc", "ztryrealloc",
		"zstrdup", "zstrndup",
		"_emalloc", "_safe_emalloc", "_safe_malloc", "_ecalloc", "_erealloc", "_safe_erealloc",
		"_estrdup", "_estrndup", "__zend_malloc", "__zend_calloc", "__zend_realloc",
		"_femalloc", "_safe_femalloc", "_ferealloc", "_safe_ferealloc", "_safe_realloc",
		"zend_mm_",
		"PyMem_", "_PyMem_", "PyObject_Malloc", "PyObject_Calloc", "PyObject_Realloc",
		"_PyObject_Malloc", "_PyObject_Calloc", "_PyObject_Realloc", "pymalloc_",
		"g_malloc", "g_try_malloc", "g_realloc", "g_try_realloc", "g_slice_alloc",
		"CRYPTO_malloc", "CRYPTO_zalloc", "CRYPTO_realloc", "CRYPTO_clear_realloc",
		"xmalloc", "xcalloc", "xrealloc", "xzalloc",
		"ngx_alloc", "ngx_calloc", "ngx_palloc", "ngx_pnalloc", "ngx_pcalloc",
		"apr_palloc", "apr_pcalloc", "sqlite3Malloc", "sqlite3_malloc", "sqlite3DbMalloc",
		"uv__malloc", "uv__calloc", "uv__realloc", NULL
	};

	return any_prefix(sym, pre);
}

/* The Go runtime's allocator, down to its mmap: what Go's own heap
 * profiles leave out (runtime.mallocgc and below), as seen in Go 1.19's
 * stacks of a heap that grows (mallocgc <- (*mcache).nextFree <-
 * (*mcentral).cacheSpan <- (*mheap).alloc <- (*mheap).grow <- sysMap <-
 * mmap <- sysMmap) and of its start (sysReserve, persistentalloc). */
static bool go_allocator(const char *sym)
{
	static const char *const pre[] = {
		"runtime.mallocgc", "runtime.(*mheap).", "runtime.(*mcache).", "runtime.(*mcentral).",
		"runtime.(*fixalloc).", "runtime.sysAlloc", "runtime.sysMap", "runtime.sysReserve",
		"runtime.sysMmap", "runtime.sysUsed", "runtime.sysHugePage", "runtime.persistentalloc",
		"runtime.newobject", "runtime.newarray", "runtime.makeslice", "runtime.growslice",
		"runtime.rawstring", "runtime.rawbyteslice", "runtime.rawruneslice",
		"runtime.largeAlloc", "runtime.mmap", "runtime.systemstack", NULL
	};

	return any_prefix(sym, pre);
}

/* Go code that is not the program's: the runtime, the standard library's
 * internals and the syscall wrappers (syscall.Mmap <- (*mmapper).Mmap <-
 * syscall.mmap <- Syscall6), and the C half of the runtime in a cgo
 * binary (its mmap goes through libc: mmap <- x_cgo_mmap <- runtime.mmap). */
static bool go_runtime(const char *sym)
{
	static const char *const pre[] = { "runtime.", "runtime/", "internal/", "syscall.",
					   "golang.org/x/sys/unix.", "x_cgo_", "_cgo_", "crosscall2",
					   "threadentry", NULL };

	return any_prefix(sym, pre);
}

/* Go's standard library ("net.(*netFD).connect", "net/http.(*Transport)
 * .dialConn", "bytes.growSlice"): its top-level packages, a path with no
 * dot in its first element. The program's code lies further out (a socket
 * leaked through net.Dial is the caller's); a C symbol has no such
 * "package." prefix (its clones are "name.part.0", "name.constprop.0"). */
static bool go_std(const char *sym)
{
	static const char *const pkgs[] = {
		"archive", "bufio", "bytes", "compress", "container", "context", "crypto",
		"database", "debug", "embed", "encoding", "errors", "expvar", "flag", "fmt", "hash",
		"html", "image", "io", "log", "math", "mime", "net", "os", "path", "plugin",
		"reflect", "regexp", "sort", "strconv", "strings", "sync", "text", "time",
		"unicode", "vendor", NULL
	};
	/* GCC's and LLVM's suffixes of a C function's copies */
	static const char *const clones[] = { "part.", "constprop.", "isra.", "cold", "lto_priv.",
					      "localalias", "llvm.", NULL };
	size_t l;

	for (int i = 0; sym && pkgs[i]; i++) {
		l = strlen(pkgs[i]);
		if (strncmp(sym, pkgs[i], l) || (sym[l] != '.' && sym[l] != '/'))
			continue;
		/* the package path, then ".Func" or ".(*Type).Method" */
		l += strcspn(sym + l, ".");
		l += sym[l] == '.';
		if (any_prefix(sym + l, clones))
			return false;
		return (sym[l] >= 'A' && sym[l] <= 'Z') || (sym[l] >= 'a' && sym[l] <= 'z') ||
		       sym[l] == '(' || sym[l] == '_';
	}
	return false;
}

/* The allocator and the system calls that map memory or make sockets:
 * what every stack of these tools starts in. */
static bool allocator_symbol(const char *sym)
{
	static const char *const syms[] = {
		"mmap", "mmap64", "__mmap", "__mmap64", "munmap", "mremap", "__mremap", "syscall",
		"brk", "__brk", "sbrk", "__sbrk", "malloc", "calloc", "realloc", "reallocarray",
		"valloc", "pvalloc", "memalign", "aligned_alloc", "posix_memalign", "sysmalloc",
		"__malloc", "__calloc", "__realloc", "__memalign", "__posix_memalign",
		"__minimal_malloc", "__minimal_calloc", "__minimal_realloc", "operator new", NULL
	};

	return named(sym, syms) || wrapper_symbol(sym) || go_allocator(sym) ||
	       has_prefix(sym, "__libc_") || has_prefix(sym, "_int_");
}

bool loader_frame(const struct frame *f)
{
	static const char *const mods[] = { "ld-linux", "ld64.so", "ld-musl", NULL };

	return any_prefix(f->module, mods);
}

/* Libraries that are the platform, not the program: their frames are
 * never the culprit while the program's own frames lie further out. */
static bool platform_module(const char *module)
{
	static const char *const mods[] = { "libc.so", "libc-", "libstdc++", "libpthread",
					    "libjemalloc", "libtcmalloc", "libmimalloc", NULL };

	return any_prefix(module, mods);
}

/* Frames inside the allocator, its wrappers, syscall wrappers, the C
 * library, the dynamic loader or the Go runtime: not the culprit. */
static bool runtime_frame(const struct frame *f)
{
	return platform_module(f->module) || loader_frame(f) || allocator_symbol(f->symbol) ||
	       go_runtime(f->symbol) || go_std(f->symbol);
}

/* The program's entry, and what calls main: frames from here outwards
 * are no program's own code (a stripped program's _start is unnamed, but
 * lies past __libc_start_main). */
static bool entry_frame(const struct frame *f)
{
	static const char *const syms[] = { "_start", "__libc_start_main", "__libc_start_call_main",
					    "_dl_start_user", "runtime.rt0_go", "runtime.goexit",
					    "runtime.main", "runtime.mstart", NULL };

	return named(f->symbol, syms);
}

static int entry_index(const struct frame *fr, int n)
{
	for (int i = 0; i < n; i++)
		if (entry_frame(&fr[i]))
			return i;
	return n;
}

static bool same_module(const struct frame *a, const struct frame *b)
{
	return a->module && b->module && !strcmp(a->module, b->module);
}

/* Unnamed frames at fr[i] inside a named wrapper of their own module
 * (Debian's php8.2 has no symbols for Zend MM's chunk allocator: mmap <-
 * four unnamed frames <- _safe_femalloc <- the caller): the wrapper's
 * index, or -1 when they are not (a stripped program's own functions). */
static int wrapper_past(const struct frame *fr, int i, int end)
{
	int j = i;

	while (j < end && !fr[j].symbol && same_module(&fr[j], &fr[i]))
		j++;
	if (j < end && same_module(&fr[j], &fr[i]) && wrapper_symbol(fr[j].symbol))
		return j;
	return -1;
}

/* Unnamed frames entered from the allocator library, followed in their module
 * by a named one that is not the allocator's: a stripped program's own
 * allocation layer (Debian's python3.11: _PyMem_RawMalloc and
 * PyObject_Malloc's helpers are local symbols, stripped, between malloc
 * and the exported PyByteArray_Resize). The first frame with a name, the
 * program's exported entry point into that layer, is what a reader can
 * act on; an unnamed frame followed by the C library, or by main (a
 * stripped program), stays the culprit. */
static int named_caller(const struct frame *fr, int from, int end)
{
	const struct frame *first = from < end ? &fr[from] : NULL;
	const struct frame *alloc = from > 0 ? &fr[from - 1] : NULL;

	/* Past a named wrapper of the program itself (Zend MM's _emalloc),
	 * the unnamed frame is the wrapper's caller: it stays the culprit. */
	if (!first || first->symbol || !first->module || !alloc || same_module(alloc, first))
		return -1;
	for (int i = from + 1; i < end; i++) {
		const struct frame *f = &fr[i];

		if (!same_module(f, first))
			return -1;
		if (f->symbol)
			return runtime_frame(f) || !strcmp(f->symbol, "main") ? -1 : i;
	}
	return -1;
}

/* The last frame, from the innermost, that belongs to the allocator side
 * of the stack (-1: none). */
static int allocator_end(const struct frame *fr, int end)
{
	int last = -1;

	for (int i = 0; i < end; i++) {
		int w;

		if (runtime_frame(&fr[i])) {
			last = i;
		} else if (fr[i].symbol) {
			break;
		} else if ((w = wrapper_past(fr, i, end)) >= 0) {
			last = w;
			i = w;
		} else {
			break;
		}
	}
	return last;
}

/* A stack of the runtime's alone: the dynamic loader's if it passes
 * through ld.so (libc's initialisers run by it at start included), else
 * the first frame past the allocator and system-call wrappers, which says
 * what the runtime was doing. */
static int runtime_only(const struct frame *fr, int n)
{
	for (int i = 0; i < n; i++)
		if (loader_frame(&fr[i]))
			return i;
	for (int i = 0; i < n; i++)
		if (!allocator_symbol(fr[i].symbol) && !entry_frame(&fr[i]))
			return i;
	return 0;
}

/* The JVM itself: libjvm.so and the JDK's own native libraries (zlib under
 * java.util.zip), whose allocations a Java method further out asked for. */
static bool jvm_module(const char *module)
{
	static const char *const mods[] = { "libjvm.so", "libjava.so", "libnio.so", "libnet.so",
					    "libzip.so", "libjimage.so", "libverify.so", "libjli.so",
					    "libmanagement.so", "libz.so", NULL };

	return any_prefix(module, mods);
}

/* JIT code of the JVM that is not the program's: the JDK's compiled
 * methods and HotSpot's stubs and adapters ("StubRoutines (1)", "I2C/C2I
 * adapters": any name that is not a Java method's). The interpreter and
 * the lost-callers marker are the reader's best answer. */
static bool jvm_runtime_jit(const struct frame *f)
{
	if (f->kind != FRAME_JIT || !f->symbol)
		return false;
	if (!strcmp(f->symbol, JVM_INTERPRETED) || !strcmp(f->symbol, JVM_CALLERS_LOST))
		return false;
	return jvm_jdk_method(f->symbol) || !jvm_method_name(f->symbol);
}

static bool jvm_interpreted(const struct frame *f)
{
	return f->kind == FRAME_JIT && f->symbol && !strcmp(f->symbol, JVM_INTERPRETED);
}

/* A JVM's stack (it passes through libjvm.so): the innermost frame past
 * the allocator, the JVM and the JDK, a Java method of the program (or a
 * JNI library's function); "java (interpreted)" only when no such frame
 * is further out: an interpreted frame may be the JDK's own (a method
 * deoptimized while it runs), and a named caller says more. -1 if not a
 * JVM's stack, or the JVM's alone. */
static int jvm_culprit(const struct frame *fr, int n)
{
	int i, interpreted = -1;

	for (i = 0; i < n && !(fr[i].module && !strcmp(fr[i].module, "libjvm.so")); i++)
		;
	if (i == n)
		return -1;
	for (i = 0; i < n && !entry_frame(&fr[i]); i++) {
		if (runtime_frame(&fr[i]) || jvm_module(fr[i].module) || jvm_runtime_jit(&fr[i]))
			continue;
		if (!jvm_interpreted(&fr[i]))
			return i;
		if (interpreted < 0)
			interpreted = i;
	}
	return interpreted;
}

int culprit_index(const struct frame *fr, int n)
{
	int end = entry_index(fr, n), last, c;

	if (n <= 0)
		return -1;
	/* Interpreted code: its innermost function with a file is the
	 * reader's, whatever the interpreter did below it. */
	c = interp_culprit(fr, n);
	if (c >= 0)
		return c;
	c = jvm_culprit(fr, n);
	if (c >= 0)
		return c;
	last = allocator_end(fr, end);
	if (last >= 0 && (c = named_caller(fr, last + 1, end)) >= 0)
		return c;
	for (int i = last + 1; i < end; i++)
		if (!runtime_frame(&fr[i]))
			return i;
	return runtime_only(fr, n);
}

char *culprit_label(const struct frame *fr, int n, bool with_line)
{
	int i = culprit_index(fr, n);
	const struct frame *f = i >= 0 ? &fr[i] : NULL;
	char *txt = NULL;

	if (!f)
		return NULL;
	if (loader_frame(f))
		return strdup("the dynamic loader (ld.so)");
	if (f->symbol && with_line && f->file && f->line) {
		const char *b = strrchr(f->file, '/');

		if (asprintf(&txt, "%s (%s:%d)", f->symbol, b ? b + 1 : f->file, f->line) < 0)
			abort();
		return txt;
	}
	if (f->symbol && !with_line)
		return strdup(f->symbol);
	txt = frame_format(f);
	if (!txt)
		abort();
	return txt;
}
