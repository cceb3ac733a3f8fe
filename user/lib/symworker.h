/* The symbolizer worker: a child process that parses the binaries of
 * traced processes (ELF symbols, DWARF lines and inlines, Go line tables:
 * dwlookup.h) without capabilities, under a seccomp filter that allows no
 * open, no socket and no exec. The tracer opens each binary itself (and
 * checks it is the mapped one), hands the worker the file descriptor over
 * a socketpair (SCM_RIGHTS) and asks for many addresses per message
 * (symworker_proto.h). One worker serves every symbolizer of the process,
 * each in its own session. See docs/sandbox.md. */
#ifndef MEMSCOPE_SYMWORKER_H
#define MEMSCOPE_SYMWORKER_H

#include <stdbool.h>
#include <stdint.h>

struct frame;
struct symworker;

/* The process's worker, started at the first call. NULL when it cannot
 * run (said once on stderr: binaries are then parsed in the tracer) or
 * MEMSCOPE_SYMWORKER=0 asked for the in-process path. */
struct symworker *symworker__get(void);
/* False once the worker died: it is not restarted (docs/sandbox.md), and
 * the calls below fail with -EPIPE. */
bool symworker__alive(const struct symworker *w);
/* A new session: one process's set of modules. */
uint64_t symworker__session(struct symworker *w);
int symworker__begin(struct symworker *w, uint64_t session);
/* Report one module (SYMW_MOD_RANGE or SYMW_MOD_MAPPED); fd is handed
 * over (-1: none; it stays the caller's to close). True when the worker
 * holds the module with its ELF; *low, *high its range. */
bool symworker__module(struct symworker *w, uint64_t session, unsigned int kind, const char *name,
		       int fd, uint64_t low, uint64_t high, uint64_t pgoff, uint64_t *rlow,
		       uint64_t *rhigh);
int symworker__end(struct symworker *w, uint64_t session);
void symworker__close(struct symworker *w, uint64_t session);

/* Frames of addrs[i] (n of them, 0 when no ELF the worker holds has it),
 * given to the callback, which owns them (frame_clear). */
typedef void (*symworker_frames_fn)(void *ctx, int i, struct frame *fr, int n);
/* Resolve n addresses in batches; the callback is called once for each
 * address answered. Returns 0, or -EPIPE when the worker died. */
int symworker__resolve(struct symworker *w, uint64_t session, const uint64_t *addrs, int n,
		       symworker_frames_fn fn, void *ctx);

#endif
