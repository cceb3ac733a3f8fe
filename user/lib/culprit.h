/* The culprit of a stack: the frame a report names as the code to fix.
 * One rule for every tool (memleak-trace's rows and verdict, its pprof
 * profiles, sockleak's stack groups):
 *
 *   - interpreted code first: the innermost PHP or Python function with a
 *     file (interpreters.h);
 *   - in a JVM's stack (through libjvm.so), the innermost frame past the
 *     allocator, libjvm and the JDK's native libraries, the JDK's compiled
 *     methods and HotSpot's stubs: the program's Java method, the
 *     lost-callers marker or an unnamed JIT frame (symbolize.h), or a JNI
 *     library's function; "java (interpreted)" only when none is further
 *     out;
 *   - else the innermost frame of the program's own code: below it lie the
 *     allocator, syscall wrappers, the C library and the dynamic loader,
 *     applications' and runtimes' known allocation wrappers (and their
 *     unnamed static helpers), the Go runtime and standard internals;
 *   - never the program's entry (_start, __libc_start_main,
 *     __libc_start_call_main, Go's rt0_go): frames past it are not code
 *     anyone wrote for this program;
 *   - an unnamed frame (a stripped program) is named "module+0xOFFSET",
 *     the ELF address addr2line -e takes;
 *   - a stack that is the runtime's alone (the dynamic loader mapping a
 *     library at start, the Go runtime reserving its arenas) names the
 *     first frame past the allocator, and a frame of ld.so as "the
 *     dynamic loader (ld.so)". */
#ifndef MEMSCOPE_CULPRIT_H
#define MEMSCOPE_CULPRIT_H

#include <stdbool.h>

#include "symbolize.h"

/* Index of the culprit in fr[0..n), innermost first; -1 if n is 0. */
int culprit_index(const struct frame *fr, int n);
/* The culprit as a reader sees it: "func (file.c:42)" with with_line
 * ("func+0x1a" when the line is unknown), else the symbol alone;
 * "module+0xOFFSET" for an unnamed frame; "the
 * dynamic loader (ld.so)" for ld.so. Caller frees; NULL if n is 0. */
char *culprit_label(const struct frame *fr, int n, bool with_line);
/* A frame of the dynamic loader (ld-linux*.so, ld-musl*). */
bool loader_frame(const struct frame *f);

#endif
