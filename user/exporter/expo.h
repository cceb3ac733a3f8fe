/* A small writer of the Prometheus text exposition format (version
 * 0.0.4): one # HELP and # TYPE per family, its samples right after, label
 * values escaped, and a cap on the series of each family so that a host
 * with an unbounded number of cgroups or process names cannot flood the
 * scraper. Series over the cap are not written but counted per family, and
 * expo_write_drops exports the counts. */
#ifndef MEMSCOPE_EXPO_H
#define MEMSCOPE_EXPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EXPO_MAX_FAMILIES 64

enum expo_type { EXPO_GAUGE, EXPO_COUNTER };

struct expo_label {
	const char *name;
	const char *value;      /* raw bytes from the system; NULL or "" = omitted */
};

struct expo_drop {
	const char *family;
	uint64_t series;
};

struct expo {
	char *buf;
	size_t len, cap;
	size_t series_cap;      /* per family; 0 = none */
	const char *family;     /* the family being written */
	size_t family_series;
	struct expo_drop drops[EXPO_MAX_FAMILIES];
	size_t ndrops;
};

void expo_init(struct expo *e, size_t series_cap);
void expo_free(struct expo *e);
/* Hand the text over (NUL-terminated); e is empty afterwards. */
char *expo_take(struct expo *e, size_t *len);

/* Start a family: name, type and HELP text (escaped here). */
void expo_family(struct expo *e, const char *name, enum expo_type type, const char *help);
/* One sample of the current family. False when the family's cap dropped it. */
bool expo_u64(struct expo *e, const struct expo_label *l, size_t nl, uint64_t v);
bool expo_double(struct expo *e, const struct expo_label *l, size_t nl, double v);
/* Both in one call, for families without labels. */
void expo_gauge1(struct expo *e, const char *name, const char *help, double v);

/* memscope_exporter_series_dropped{family}: the series each capped family
 * did not write in this exposition (every family that had any). */
void expo_write_drops(struct expo *e);

/* The label-value escaping alone (for tests): bytes that are not printable
 * UTF-8 become \xNN as in the tools' tables, then \ " and newline are
 * escaped as the format wants. Caller frees. */
char *expo_label_escape(const char *raw);

#endif
