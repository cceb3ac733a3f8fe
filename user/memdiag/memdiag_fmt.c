// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* memdiag's figures for people, shared by the text and the cgroups views. */
#include <stdio.h>

#include "memdiag_fmt.h"
#include "memstat.h"
#include "output.h"

/* Enough for the most figures one printf of the views holds. */
#define MD_BUFS 8

static char sz[MD_BUFS][HUMAN_LEN];
static int szi;

static char *next_buf(void)
{
	szi = (szi + 1) % MD_BUFS;
	return sz[szi];
}

const char *md_size(uint64_t b)
{
	return fmt_bytes(next_buf(), b);
}

const char *md_size_delta(double bytes)
{
	return fmt_bytes_delta(next_buf(), i64_saturate(bytes));
}

/* Per second as in memleak-trace and sockleak (the trend and the JSON
 * keep bytes per minute). */
const char *md_rate(double per_min)
{
	static char rate[MD_BUFS][HUMAN_LEN + 2];
	const char *d = md_size_delta(per_min / 60.0);

	snprintf(rate[szi], sizeof(rate[szi]), "%s/s", d);
	return rate[szi];
}

const char *md_duration(double s)
{
	return fmt_duration(next_buf(), s);
}

void md_jw_limit(struct jw *w, const char *key, uint64_t v)
{
	if (v == MEM_UNLIMITED)
		jw_null(w, key);
	else
		jw_u64(w, key, v);
}
