/* User-space symbolization of a process's addresses with libdwfl:
 * function+offset, source file:line, inlined frames, separate debug files,
 * binaries in containers (/proc/PID/root) and deleted binaries
 * (/proc/PID/map_files). */
#ifndef MEMSCOPE_SYMBOLIZE_H
#define MEMSCOPE_SYMBOLIZE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* What a frame is: machine code (a binary's or JIT-compiled, named from
 * the runtime's perf map) or a function of an interpreted language, read
 * from the interpreter's own frame chain (interp.h). */
enum frame_kind {
	FRAME_NATIVE = 0,
	FRAME_JIT,
	FRAME_PHP,
	FRAME_PYTHON,
	FRAME_JS,       /* a JavaScript function, from V8's frames (Node.js) */
};

struct frame {
	uint64_t addr;
	char *symbol;           /* demangled; NULL if unknown */
	/* basename of the binary; "JIT" for anonymous executable memory
	 * (symbol from the runtime's /tmp/perf-PID.map if it has one, else
	 * offset from the start of the mapping); NULL if unmapped */
	char *module;
	uint64_t offset;        /* from symbol start, or from module if no symbol */
	char *file;             /* NULL if no debug info */
	int line;               /* 0 if unknown */
	bool inlined;           /* an inlined frame inside the next one */
	/* line is the function's first (def) line, not the one running:
	 * CPython's line table did not say (cut, or no line there) */
	bool line_is_def;
	/* module+offset only: the binary could not be opened, or the file
	 * at its path is not the one that was mapped (another inode) */
	bool unverified;
	enum frame_kind kind;
};

/* "native", "jit", "php", "python", "js". */
const char *frame_kind_name(enum frame_kind k);
/* A frame read from a runtime's own frames (PHP, Python, JavaScript):
 * it has no machine address. */
static inline bool frame_is_interp(const struct frame *f)
{
	return f->kind == FRAME_PHP || f->kind == FRAME_PYTHON || f->kind == FRAME_JS;
}

struct symbolizer;
/* Snapshot of the process's mappings; call symbolizer__refresh when it has
 * mapped new code (dlopen). NULL if the process is gone. */
struct symbolizer *symbolizer__new(pid_t pid);
/* The same, falling back on mt (modtab.h, not owned: it must outlive the
 * symbolizer) when /proc/PID/maps is gone or empty: an exited process's
 * code is then reported from the table, its files opened by path only if
 * their device and inode are the mapped ones. */
struct modtab;
struct symbolizer *symbolizer__new_with(pid_t pid, const struct modtab *mt);
/* The same for the DWARF unwinder (unwind.h), which reads the binaries'
 * CFI through symbolizer__dwfl: their ELF files are opened in this
 * process too, not only in the symbolizer worker (symworker.h). */
struct symbolizer *symbolizer__new_local(pid_t pid, const struct modtab *mt);
int symbolizer__refresh(struct symbolizer *s);
/* Resolve addr into up to max frames (inlined ones first, the containing
 * function last). Returns the number filled, at least 1.
 * addr must be an instruction's address: callers holding a return address
 * (every stack frame but the innermost, or the word at the stack pointer)
 * pass ret - 1, which lies in the call instruction. The return address
 * itself may already belong to the next line, the next inlined call or,
 * after a noreturn call, the next function. */
int symbolizer__resolve(struct symbolizer *s, uint64_t addr, struct frame *out, int max);
/* Resolve n addresses ahead, in as few messages to the symbolizer worker
 * as fit (symworker.h): the symbolizer__resolve calls that follow for
 * them are answered from the cache. Nothing to do without a worker. */
void symbolizer__prefetch(struct symbolizer *s, const uint64_t *addrs, int n);
void symbolizer__free(struct symbolizer *s);

/* HotSpot's interpreter, and the frame that ends a stack whose callers
 * were lost in compiled Java code (a JVM without PreserveFramePointer). */
#define JVM_INTERPRETED "java (interpreted)"
#define JVM_CALLERS_LOST "[Java callers lost: no -XX:+PreserveFramePointer]"
/* Before a report: when the process is a JVM, says once what its frames
 * are named by; with request_jvm_map (the user's consent) asks it to dump
 * its perf map anew (jcmd, jvm.h) so that code compiled since is named. */
void symbolizer__jit_refresh(struct symbolizer *s, bool request_jvm_map);
/* --jvm-perfmap's help, for every tool that has the option. */
#define JVM_PERFMAP_HELP \
	"Name Java frames: ask a JVM (OpenJDK 17+) for its perf map at the start and at each report, " \
	"running `jcmd PID Compiler.perfmap` as the JVM's user"
/* Is the frame compiled code the JIT's perf map does not name (yet)? */
bool frame_jit_unnamed(const struct frame *f);
/* A stack of n frames (innermost first) as far as it can be trusted: in a
 * JVM without PreserveFramePointer, the frames past the first compiled one
 * are replaced by one JVM_CALLERS_LOST frame. Returns the new n. */
int symbolizer__jvm_trim(struct symbolizer *s, struct frame *fr, int n);
/* The libdwfl session holding the process's modules, for the DWARF
 * unwinder (unwind.h), which reuses its opened ELF files and CFI, and the
 * pprof writer: from this call on the ELF files are opened in this
 * process too. */
struct Dwfl;
struct Dwfl *symbolizer__dwfl(struct symbolizer *s);
void frame_clear(struct frame *f);
/* "func+0x1a (file.c:42)" or "module+0x1234"; interpreted code:
 * "Class::func (file.php:42)"; caller frees. */
char *frame_format(const struct frame *f);

#endif
