// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "expo.h"
#include "output.h"

void expo_init(struct expo *e, size_t series_cap)
{
	memset(e, 0, sizeof(*e));
	e->series_cap = series_cap;
}

void expo_free(struct expo *e)
{
	free(e->buf);
	e->buf = NULL;
	e->len = e->cap = 0;
}

char *expo_take(struct expo *e, size_t *len)
{
	char *b = e->buf;

	if (!b) {
		if (!(b = strdup("")))
			abort();
	}
	if (len)
		*len = e->len;
	e->buf = NULL;
	e->len = e->cap = 0;
	return b;
}

static void reserve(struct expo *e, size_t more)
{
	if (e->len + more + 1 <= e->cap)
		return;
	size_t cap = e->cap ? e->cap : 4096;
	while (cap < e->len + more + 1)
		cap *= 2;
	if (!(e->buf = realloc(e->buf, cap)))
		abort();
	e->cap = cap;
}

static void put(struct expo *e, const char *s, size_t n)
{
	reserve(e, n);
	memcpy(e->buf + e->len, s, n);
	e->len += n;
	e->buf[e->len] = '\0';
}

static void puts_(struct expo *e, const char *s)
{
	put(e, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3))) putf(struct expo *e, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	reserve(e, n);
	va_start(ap, fmt);
	vsnprintf(e->buf + e->len, n + 1, fmt, ap);
	va_end(ap);
	e->len += n;
}

/* HELP text: the format escapes only backslash and newline there. */
static void put_help(struct expo *e, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			puts_(e, "\\\\");
		else if (*s == '\n')
			puts_(e, "\\n");
		else
			put(e, s, 1);
	}
}

char *expo_label_escape(const char *raw)
{
	/* term_escape leaves only printable UTF-8, with a backslash itself
	 * shown as \x5c: the value reads as the tools print the same name. */
	char *t = term_escape(raw);
	size_t n = 0;
	for (const char *p = t; *p; p++)
		n += (*p == '\\' || *p == '"' || *p == '\n') ? 2 : 1;
	char *out = malloc(n + 1), *o = out;
	if (!out)
		abort();
	for (const char *p = t; *p; p++) {
		if (*p == '\\' || *p == '"') {
			*o++ = '\\';
			*o++ = *p;
		} else if (*p == '\n') {
			*o++ = '\\';
			*o++ = 'n';
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	free(t);
	return out;
}

void expo_family(struct expo *e, const char *name, enum expo_type type, const char *help)
{
	e->family = name;
	e->family_series = 0;
	putf(e, "# HELP %s ", name);
	put_help(e, help);
	putf(e, "\n# TYPE %s %s\n", name, type == EXPO_COUNTER ? "counter" : "gauge");
}

static void count_drop(struct expo *e)
{
	for (size_t i = 0; i < e->ndrops; i++) {
		if (e->drops[i].family == e->family) {
			e->drops[i].series++;
			return;
		}
	}
	if (e->ndrops < EXPO_MAX_FAMILIES)
		e->drops[e->ndrops++] = (struct expo_drop){ e->family, 1 };
}

/* The name and labels of a sample; false when the cap drops it. */
static bool sample_head(struct expo *e, const struct expo_label *l, size_t nl)
{
	if (e->series_cap && e->family_series >= e->series_cap) {
		count_drop(e);
		return false;
	}
	e->family_series++;
	puts_(e, e->family);
	bool open = false;
	for (size_t i = 0; i < nl; i++) {
		if (!l[i].value || !l[i].value[0])
			continue;
		char *v = expo_label_escape(l[i].value);
		putf(e, "%c%s=\"%s\"", open ? ',' : '{', l[i].name, v);
		free(v);
		open = true;
	}
	if (open)
		puts_(e, "}");
	return true;
}

bool expo_u64(struct expo *e, const struct expo_label *l, size_t nl, uint64_t v)
{
	if (!sample_head(e, l, nl))
		return false;
	putf(e, " %llu\n", (unsigned long long)v);
	return true;
}

/* The shortest text that reads back as v: 0.1, not 0.10000000000000001. */
static const char *shortest(double v, char buf[32])
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, 32, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return buf;
}

bool expo_double(struct expo *e, const struct expo_label *l, size_t nl, double v)
{
	if (!sample_head(e, l, nl))
		return false;
	if (isnan(v))
		puts_(e, " NaN\n");
	else if (isinf(v))
		puts_(e, v > 0 ? " +Inf\n" : " -Inf\n");
	else
		putf(e, " %s\n", shortest(v, (char[32]){ 0 }));
	return true;
}

void expo_gauge1(struct expo *e, const char *name, const char *help, double v)
{
	expo_family(e, name, EXPO_GAUGE, help);
	expo_double(e, NULL, 0, v);
}

void expo_write_drops(struct expo *e)
{
	size_t n = e->ndrops;
	struct expo_drop d[EXPO_MAX_FAMILIES];

	/* Copied first: this family is capped like any other. */
	memcpy(d, e->drops, n * sizeof(d[0]));
	expo_family(e, "memscope_exporter_series_dropped", EXPO_GAUGE,
		    "Series not exported in this scrape because their family reached its cap "
		    "(max-series; cgroups: max-cgroups), by family.");
	for (size_t i = 0; i < n; i++) {
		struct expo_label l[] = { { "family", d[i].family } };
		expo_u64(e, l, 1, d[i].series);
	}
}
