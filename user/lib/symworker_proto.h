/* The symbolizer worker's wire format (symworker.h): one request, one
 * answer, each a single SOCK_SEQPACKET message. Fixed-width fields only;
 * every length is checked by the side that receives it. */
#ifndef MEMSCOPE_SYMWORKER_PROTO_H
#define MEMSCOPE_SYMWORKER_PROTO_H

#include <linux/types.h>

/* Addresses in one resolve request, frames answered for one address
 * (inlined ones and the containing function), bytes of one string. */
#define SYMW_MAX_ADDRS 128
#define SYMW_MAX_FRAMES 16
#define SYMW_STR_MAX 1024
/* The largest message either side sends or accepts. */
#define SYMW_MSG_MAX (64 * 1024)
#define SYMW_NAME_MAX 256
#define SYMW_BUILD_ID_MAX 64

/* Request types (symw_req.type). */
#define SYMW_BEGIN 1    /* session: start a new report of modules */
#define SYMW_MODULE 2   /* one module, its file's fd attached or none; outside a
			 * BEGIN..END report, added to the session's modules */
#define SYMW_END 3      /* session: the report is complete */
#define SYMW_RESOLVE 4  /* session: count addresses follow the header */
#define SYMW_CLOSE 5    /* session: forget it */
#define SYMW_DEBUGINFO 6 /* the separate debug file (fd) of the module at low */

/* Module kinds (symw_module.kind). */
#define SYMW_MOD_RANGE 1        /* at [low, high); fd: its file, or none to keep the one held */
#define SYMW_MOD_MAPPED 2       /* fd's page at pgoff mapped at low: the bias is read from its ELF */

struct symw_req {
	__u32 type;
	__u32 count;            /* SYMW_RESOLVE: addresses after this header */
	__u64 session;
};

struct symw_module {
	struct symw_req hdr;    /* type SYMW_MODULE or SYMW_DEBUGINFO (low only) */
	__u32 kind;
	__u32 name_len;         /* bytes of name used, < SYMW_NAME_MAX */
	__u64 low, high, pgoff;
	char name[SYMW_NAME_MAX];
};

/* Answer to every request but SYMW_RESOLVE. */
struct symw_ack {
	__u32 ok;               /* SYMW_MODULE: the module is reported with its ELF */
	__u32 pad;
	__u64 low, high;        /* SYMW_MODULE: its range in the session */
	/* SYMW_MODULE: its GNU build ID, by which the tracer finds its
	 * separate debug file (0: none). */
	__u32 build_id_len;
	__u8 build_id[SYMW_BUILD_ID_MAX];
};

/* Answer to SYMW_RESOLVE: header, nframes symw_frame, then the strings
 * the frames point into. The worker answers the first addrs addresses
 * (at least one) and as many as fit in SYMW_MSG_MAX; the rest are asked
 * again. */
struct symw_resolved {
	__u32 addrs;            /* addresses answered */
	__u32 nframes;
	__u32 str_len;          /* bytes of strings after the frames */
	__u32 pad;
};

#define SYMW_FRAME_INLINED 1u

struct symw_frame {
	__u32 addr_index;       /* which address of the request; ascending */
	__u32 flags;
	__u64 offset;
	__s32 line;
	/* Offsets into the strings; len 0: none (NULL). */
	__u32 symbol_off, symbol_len;
	__u32 file_off, file_len;
	__u32 pad;
};

#endif
