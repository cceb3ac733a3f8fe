// Unit tests of the names a report gives: the culprit rule over stacks
// seen on real programs, and Go's pc-line table reader over a table built
// here byte by byte (the real one, of tests/workloads/leak_go, is checked
// against addr2line end to end).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "culprit.h"
#include "gopclntab.h"
#include "jvm.h"

/* A frame: symbol or NULL, module. */
#define F(sym, mod) { .symbol = (char *)(sym), .module = (char *)(mod) }

static void test_stripped_program(void **state)
{
	/* Debian's sqlite3: getpwuid's malloc, called from sqlite3's own
	 * unnamed code; past __libc_start_main lies the unnamed _start. */
	struct frame fr[] = {
		F("__libc_malloc", "libc.so.6"), F("getpwuid", "libc.so.6"), F(NULL, "sqlite3"),
		F(NULL, "sqlite3"), F("__libc_start_call_main", "libc.so.6"),
		F("__libc_start_main", "libc.so.6"), F(NULL, "sqlite3"),
	};
	(void)state;
	assert_int_equal(culprit_index(fr, 7), 2);
}

static void test_named_program(void **state)
{
	struct frame fr[] = {
		F("mmap64", "libc.so.6"), F("leak_mapping", "leak_mmap"), F("main", "leak_mmap"),
		F("__libc_start_call_main", "libc.so.6"), F("__libc_start_main", "libc.so.6"),
		F("_start", "leak_mmap"),
	};
	struct frame in_main[] = {
		F("malloc", "libc.so.6"), F("main", "prog"), F("__libc_start_call_main", "libc.so.6"),
		F("_start", "prog"),
	};
	(void)state;
	assert_int_equal(culprit_index(fr, 6), 1);
	/* main when nothing better. */
	assert_int_equal(culprit_index(in_main, 4), 1);
}

static void test_wrappers(void **state)
{
	/* Zend MM without symbols: mmap <- unnamed helpers <- _safe_femalloc. */
	struct frame zend[] = {
		F("mmap64", "libc.so.6"), F(NULL, "php8.2"), F(NULL, "php8.2"),
		F("_safe_femalloc", "php8.2"), F("zend_hash_init", "php8.2"),
	};
	/* python3.11: malloc <- stripped _PyMem_RawMalloc <- exported caller. */
	struct frame py[] = {
		F("malloc", "libc.so.6"), F(NULL, "python3.11"), F("PyByteArray_Resize", "python3.11"),
		F("main", "python3.11"),
	};
	/* A stripped program's unnamed frames are not a wrapper's helpers
	 * unless a named wrapper of their module follows. */
	struct frame cb[] = {
		F("malloc", "libc.so.6"), F(NULL, "prog"), F("qsort", "libc.so.6"), F(NULL, "prog"),
		F("__libc_start_main", "libc.so.6"),
	};
	(void)state;
	assert_int_equal(culprit_index(zend, 5), 4);
	assert_int_equal(culprit_index(py, 4), 2);
	assert_int_equal(culprit_index(cb, 5), 1);
}

static void test_loader(void **state)
{
	struct frame ld[] = {
		F("__mmap64", "ld-linux-x86-64.so.2"), F("__mmap", "ld-linux-x86-64.so.2"),
		F("_dl_map_segments", "ld-linux-x86-64.so.2"), F("_dl_start", "ld-linux-x86-64.so.2"),
	};
	/* dlopen: the program's caller. */
	struct frame dl[] = {
		F("__mmap64", "ld-linux-x86-64.so.2"), F("_dl_map_object", "ld-linux-x86-64.so.2"),
		F("dlopen", "libc.so.6"), F("load_plugin", "prog"), F("main", "prog"),
	};
	char *l = culprit_label(ld, 4, true);
	(void)state;
	assert_string_equal(l, "the dynamic loader (ld.so)");
	free(l);
	assert_int_equal(culprit_index(dl, 5), 3);
}

static void test_go(void **state)
{
	struct frame heap[] = {
		F("runtime.sysMmap.abi0", "g"), F("runtime.mmap", "g"), F("runtime.sysMapOS", "g"),
		F("runtime.(*mheap).grow", "g"), F("runtime.(*mcache).nextFree", "g"),
		F("runtime.mallocgc", "g"), F("runtime.makeslice", "g"), F("main.leakChunk", "g"),
		F("main.main", "g"), F("runtime.main", "g"), F("runtime.goexit.abi0", "g"),
	};
	struct frame sys[] = {
		F("runtime/internal/syscall.Syscall6", "g"), F("syscall.RawSyscall6", "g"),
		F("syscall.mmap", "g"), F("syscall.(*mmapper).Mmap", "g"), F("main.leakMapping", "g"),
		F("runtime.main", "g"),
	};
	/* The runtime's own start: what it was doing, past its allocator. */
	struct frame init[] = {
		F("runtime.sysMmap.abi0", "g"), F("runtime.mmap", "g"), F("runtime.sysReserve", "g"),
		F("runtime.(*pageAlloc).sysInit", "g"), F("runtime.mallocinit", "g"),
		F("runtime.rt0_go.abi0", "g"),
	};
	/* A socket leaked through net.Dial: the program's caller, past Go's
	 * standard library. */
	struct frame dial[] = {
		F("runtime/internal/syscall.Syscall6", "g"), F("syscall.socket", "g"),
		F("net.sysSocket", "g"), F("net.(*sysDialer).dialSingle", "g"),
		F("net/http.(*Transport).dialConn", "g"), F("main.leakConn", "g"),
		F("main.main", "g"),
	};
	/* A C function called like a Go package, and its compiler's copy. */
	struct frame c[] = {
		F("malloc", "libc.so.6"), F("io.part.0", "prog"), F("io", "prog"), F("main", "prog"),
	};
	/* A cgo binary: the runtime maps through libc. */
	struct frame cgo[] = {
		F("mmap64", "libc.so.6"), F("x_cgo_mmap", "g"), F("runtime.mmap", "g"),
		F("runtime.mallocgc", "g"), F("main.leakChunk", "g"),
	};
	(void)state;
	assert_int_equal(culprit_index(cgo, 5), 4);
	assert_int_equal(culprit_index(dial, 7), 5);
	assert_int_equal(culprit_index(c, 4), 1);
	assert_int_equal(culprit_index(heap, 11), 7);
	assert_int_equal(culprit_index(sys, 6), 4);
	assert_int_equal(culprit_index(init, 6), 3);
}

/* A JIT frame named from a perf map. */
#define J(sym) { .symbol = (char *)(sym), .module = (char *)"JIT", .kind = FRAME_JIT }

/* HotSpot stacks as OpenJDK 17 makes them (allocateDirect under C1): past
 * malloc, libjvm.so and the JDK's compiled methods, the program's method;
 * the interpreter and the lost-callers marker when that is all there is;
 * an unnamed JIT frame (no perf map) rather than any JDK name. */
static void test_jvm(void **state)
{
	struct frame direct[] = {
		F("__libc_malloc", "libc.so.6"), F("os::malloc(unsigned long, MEMFLAGS)", "libjvm.so"),
		F("Unsafe_AllocateMemory0", "libjvm.so"), J("long jdk.internal.misc.Unsafe.allocateMemory0(long)"),
		J("void java.nio.DirectByteBuffer.<init>(int)"), J("void LeakDirect.leakBuffers(int, int)"),
		J(JVM_INTERPRETED), J("StubRoutines (1)"), F("JavaCalls::call_helper", "libjvm.so"),
		F("JavaMain", "libjli.so"), F("start_thread", "libc.so.6"),
	};
	struct frame interpreted[] = {
		F("__mmap", "libc.so.6"), F("os::pd_commit_memory(char*, unsigned long, bool)", "libjvm.so"),
		F("InterpreterRuntime::build_method_counters", "libjvm.so"), J("I2C/C2I adapters"),
		J(JVM_INTERPRETED), J("StubRoutines (1)"),
	};
	/* allocateMemory interpreted while the JIT recompiles it. */
	struct frame deopt[] = {
		F("__libc_malloc", "libc.so.6"), F("Unsafe_AllocateMemory0", "libjvm.so"),
		J("long jdk.internal.misc.Unsafe.allocateMemory0(long)"), J(JVM_INTERPRETED),
		J("void java.nio.DirectByteBuffer.<init>(int)"), J("void LeakDirect.leakBuffers(int, int)"),
		J(JVM_INTERPRETED),
	};
	struct frame lost[] = {
		F("__libc_malloc", "libc.so.6"), F("Unsafe_AllocateMemory0", "libjvm.so"),
		J("long jdk.internal.misc.Unsafe.allocateMemory0(long)"), J(JVM_CALLERS_LOST),
	};
	struct frame unnamed[] = {
		F("__libc_malloc", "libc.so.6"), F("Unsafe_AllocateMemory0", "libjvm.so"), J(NULL), J(NULL),
	};
	struct frame gc[] = {
		F("__libc_malloc", "libc.so.6"), F("os::malloc(unsigned long, MEMFLAGS)", "libjvm.so"),
		F("G1CodeRootSet::add(nmethod*)", "libjvm.so"), F("VMThread::run()", "libjvm.so"),
		F("start_thread", "libc.so.6"),
	};
	(void)state;
	assert_int_equal(culprit_index(direct, 11), 5);
	assert_int_equal(culprit_index(interpreted, 6), 4);
	assert_int_equal(culprit_index(deopt, 7), 5);
	assert_int_equal(culprit_index(lost, 4), 3);
	assert_int_equal(culprit_index(unnamed, 4), 2);
	/* The JVM's own work: what it did, past the allocator. */
	assert_int_equal(culprit_index(gc, 5), 1);
	assert_true(jvm_method_name("void LeakDirect.leakBuffers(int, int)"));
	assert_true(jvm_method_name("java.lang.Object[] java.util.ArrayList.grow(int)"));
	assert_false(jvm_method_name("I2C/C2I adapters"));
	assert_false(jvm_method_name("LazyCompile:*leakyHandler /app/leak_buffers.js:10"));
	assert_true(jvm_jdk_method("void java.nio.DirectByteBuffer.<init>(int)"));
	assert_false(jvm_jdk_method("void javaapp.Main.run()"));
}

/* ---- Go's pc-line table ---- */

#define TEXT 0x401000ull

struct buf {
	uint8_t b[512];
	size_t n;
};

static size_t put(struct buf *b, const void *p, size_t len)
{
	size_t at = b->n;

	memcpy(b->b + b->n, p, len);
	b->n += len;
	return at;
}

static void put32(struct buf *b, size_t at, uint32_t v)
{
	memcpy(b->b + at, &v, 4);
}

static void put64(struct buf *b, size_t at, uint64_t v)
{
	memcpy(b->b + at, &v, 8);
}

/* Two functions: main.a at [0, 0x20) of text, a.go, line 10 then 12 from
 * 0x10; main.b at [0x20, 0x40), b.go line 5. */
static size_t build_table(struct buf *t, uint32_t magic)
{
	static const uint8_t pctab[] = {
		0,
		0x02, 0x20, 0,                  /* 1: a's file: index 0 */
		0x16, 0x10, 0x04, 0x10, 0,      /* 4: a's lines: 10, then 12 */
		0x04, 0x20, 0,                  /* 9: b's file: index 1 */
		0x0c, 0x20, 0,                  /* 12: b's line: 5 */
	};
	uint32_t cutab[2] = { 1, 11 };
	size_t names, cu, files, pc, ftab;
	uint32_t rec[10];

	memset(t, 0, sizeof(*t));
	t->n = 72;
	put32(t, 0, magic);
	t->b[6] = 1;
	t->b[7] = 8;
	put64(t, 8, 2);
	put64(t, 16, 2);
	put64(t, 24, TEXT);
	names = put(t, "\0main.a\0main.b", 15);
	cu = put(t, cutab, sizeof(cutab));
	files = put(t, "\0/src/a.go\0/src/b.go", 21);
	pc = put(t, pctab, sizeof(pctab));
	ftab = t->n;
	put64(t, 32, names);
	put64(t, 40, cu);
	put64(t, 48, files);
	put64(t, 56, pc);
	put64(t, 64, ftab);
	/* {entry, record} x 2, end; then the records (40 bytes each). */
	put(t, (uint32_t[]){ 0, 20, 0x20, 60, 0x40 }, 20);
	memcpy(rec, (uint32_t[]){ 0, 1, 0, 0, 0, 1, 4, 0, 0, 0 }, sizeof(rec));
	put(t, rec, sizeof(rec));
	memcpy(rec, (uint32_t[]){ 0x20, 8, 0, 0, 0, 9, 12, 0, 0, 0 }, sizeof(rec));
	put(t, rec, sizeof(rec));
	return t->n;
}

static void expect(const struct gopcln *g, uint64_t pc, const char *fn, const char *file, int line)
{
	struct gopcln_pos p;

	assert_int_equal(gopcln__lookup(g, pc, &p), 0);
	assert_string_equal(p.func, fn);
	assert_string_equal(p.file, file);
	assert_int_equal(p.line, line);
	gopcln_pos_clear(&p);
}

static void test_gopclntab(void **state)
{
	struct buf t;
	size_t n = build_table(&t, 0xfffffff0u);
	const char *why;
	struct gopcln *g = gopcln__parse(t.b, n, 0, &why);
	struct gopcln_pos p;
	(void)state;

	assert_non_null(g);
	expect(g, TEXT + 5, "main.a", "/src/a.go", 10);
	expect(g, TEXT + 0x15, "main.a", "/src/a.go", 12);
	expect(g, TEXT + 0x3f, "main.b", "/src/b.go", 5);
	assert_int_equal(gopcln__lookup(g, TEXT + 0x25, &p), 0);
	assert_int_equal(p.offset, 5);
	gopcln_pos_clear(&p);
	assert_int_equal(gopcln__lookup(g, TEXT + 0x40, &p), -1);
	assert_int_equal(gopcln__lookup(g, TEXT - 1, &p), -1);
	gopcln__free(g);
	/* Go 1.20's magic reads the same fields. */
	build_table(&t, 0xfffffff1u);
	g = gopcln__parse(t.b, n, 0, &why);
	assert_non_null(g);
	expect(g, TEXT + 0x15, "main.a", "/src/a.go", 12);
	gopcln__free(g);
}

static void test_gopclntab_refused(void **state)
{
	struct buf t;
	size_t n = build_table(&t, 0xfffffffau);
	const char *why = NULL;
	struct gopcln_pos p;
	(void)state;

	assert_null(gopcln__parse(t.b, n, 0, &why));
	assert_non_null(strstr(why, "before 1.18"));
	/* Every truncation: refused, or lookups that find nothing past the
	 * end (ASan in the sanitizer build sees any read beyond). */
	build_table(&t, 0xfffffff0u);
	for (size_t len = 0; len < n; len++) {
		uint8_t *copy = malloc(len ? len : 1);
		struct gopcln *g;

		memcpy(copy, t.b, len);
		g = gopcln__parse(copy, len, 0, &why);
		for (uint64_t pc = TEXT; g && pc < TEXT + 0x48; pc += 3)
			if (!gopcln__lookup(g, pc, &p))
				gopcln_pos_clear(&p);
		gopcln__free(g);
		free(copy);
	}
	/* An offset past the end. */
	put64(&t, 64, 4096);
	assert_null(gopcln__parse(t.b, n, 0, &why));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stripped_program),
		cmocka_unit_test(test_named_program),
		cmocka_unit_test(test_wrappers),
		cmocka_unit_test(test_loader),
		cmocka_unit_test(test_go),
		cmocka_unit_test(test_jvm),
		cmocka_unit_test(test_gopclntab),
		cmocka_unit_test(test_gopclntab_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
