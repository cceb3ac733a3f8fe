/* HotSpot JVMs (OpenJDK): what the tools need to name Java frames.
 *
 * Java code runs from the JVM's code cache, anonymous executable memory
 * that only the JVM's perf map names (/tmp/perf-PID.map, perfmap.h). A
 * JVM writes that map only when asked: `jcmd PID Compiler.perfmap`
 * (OpenJDK 17+) dumps every compiled method, stub and the template
 * interpreter ("Interpreter") as they lie now (-XX:+DumpPerfMapAtExit
 * writes one only at its exit, when /proc/PID/root is gone). Asking is the user's choice (it runs jcmd, which attaches
 * to the JVM as its own user): jvm__dump_perfmap does it when a tool's
 * consent flag says so. A dump replaces the file whole, so its reader
 * takes the newest dump only, never lines of an older one.
 *
 * Stacks through compiled Java code need -XX:+PreserveFramePointer: without
 * it the JIT uses rbp as a general register, and a frame-pointer walk
 * skips compiled callers (an interpreted frame further out is reached as
 * if it had made the call). jvm__frame_pointers says whether the JVM runs
 * with it, from its command line and the option variables it reads. */
#ifndef MEMSCOPE_JVM_H
#define MEMSCOPE_JVM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The JVM's versions whose frames were checked against real stacks. */
#define JVM_VERIFIED "OpenJDK 17"

struct jvm;

/* The JVM pid runs: NULL when it maps no HotSpot libjvm.so. Reads the
 * JDK's release file (JAVA_VERSION) and the frame-pointer flag. */
struct jvm *jvm__probe(pid_t pid);
/* The JDK home, as the process sees it. */
const char *jvm__home(const struct jvm *j);
/* "17.0.15", or NULL when the JDK home has no readable release file. */
const char *jvm__version(const struct jvm *j);
/* A version whose stacks were verified (JVM_VERIFIED). */
bool jvm__version_verified(const struct jvm *j);
/* Runs with -XX:+PreserveFramePointer. */
bool jvm__frame_pointers(const struct jvm *j);
/* Asks the JVM to dump its perf map now: `jcmd PID Compiler.perfmap` as
 * the JVM's user (the JDK's own jcmd when it shares our mount namespace
 * and is owned by root or that user, else jcmd from PATH). 0 on success,
 * else -1 with a one-line reason in why. */
int jvm__dump_perfmap(struct jvm *j, char *why, size_t whylen);
void jvm__free(struct jvm *j);

/* A HotSpot perf-map name of a Java method: "RET pkg.Class.method(ARGS)"
 * ("void LeakDirect.leakBuffers(int, int)"). */
bool jvm_method_name(const char *sym);
/* A method of the JDK itself (java.*, javax.*, jdk.*, sun.*, com.sun.*):
 * below the program's own code, like the C library. */
bool jvm_jdk_method(const char *sym);

#endif
