/* sockleak's creating call sites, symbolized when user space first hears
 * of them (a ring-buffer record per new site), while the process is alive:
 * a process that exits keeps its stacks in the report. With DWARF stack
 * mode the record carries a copy of the stack, unwound by the call-site
 * service (callsites.h), which also verifies the BPF cache's keys. */
#ifndef MEMSCOPE_SOCKLEAK_SITES_H
#define MEMSCOPE_SOCKLEAK_SITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "callsites.h"

struct sl_sites_opts {
	int stacks_map;          /* BPF stack-trace map */
	enum stack_mode mode;
	int max_frames;          /* frames kept per stack (--frames) */
	struct interp *interp;   /* interpreter stacks (PHP, Python), or NULL */
	struct callsites_opts cs; /* the BPF call-site cache */
	const uint64_t *verify_lost; /* the BPF cs_verify_lost (.bss) */
	bool jvm_perfmap;        /* --jvm-perfmap: a JVM's map dumped for new sites */
};

struct sl_site {
	uint32_t tgid;
	uint64_t site;
	int32_t stack_id;
	uint64_t caller;
	char **frames;           /* formatted, innermost first */
	uint8_t *kinds;          /* enum frame_kind of each frame */
	int nframes;
	/* the innermost interpreter frame with a file, else the first frame
	 * outside libc; -1 none */
	int culprit;
	bool dwarf;              /* unwound from the snapshot */
};

struct sl_sites;
struct sl_sites *sl_sites__new(const struct sl_sites_opts *o);
/* ring_buffer__new sample callback (ctx: the sl_sites). */
int sl_sites__on_event(void *ctx, void *data, size_t size);
/* The site of an fd entry; symbolized now if it was not yet (and the
 * process is still there to read its mappings). With an interpreter stack
 * (interp, 0: none) its frames come first: one native site (the
 * interpreter's socket call) serves every script. Never NULL. */
const struct sl_site *sl_sites__get(struct sl_sites *s, uint32_t tgid, uint64_t site,
				    int32_t stack_id, uint64_t caller, uint64_t interp);
/* The process exited: its symbols can no longer be read; free them. */
void sl_sites__forget_proc(struct sl_sites *s, uint32_t tgid);
/* Was the site's key found to stand for more than one stack? (Its fds
 * made before the split may have come from either.) */
bool sl_sites__merged(const struct sl_sites *s, uint32_t tgid, uint64_t site);
/* The call-site service's counts with the open fds (merged) of merged
 * sites: in the JSON summary (s NULL: no stacks, nothing verified), and
 * as a text line when worth one. */
void sl_sites__json(const struct sl_sites *s, struct jw *w, uint64_t merged);
void sl_sites__print(const struct sl_sites *s, uint64_t merged);
/* Sites seen, of them unwound with DWARF (for the footer). */
void sl_sites__counts(const struct sl_sites *s, uint64_t *sites, uint64_t *dwarf);
/* Frames kept as module+offset only: their binary could not be opened,
 * or the file at its path is not the one the process mapped. */
uint64_t sl_sites__frames_unverified(const struct sl_sites *s);
void sl_sites__free(struct sl_sites *s);

#endif
