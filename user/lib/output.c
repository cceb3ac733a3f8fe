// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "output.h"

const char *fmt_bytes(char buf[HUMAN_LEN], uint64_t bytes)
{
	static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = bytes;
	int u = 0;

	if (bytes < 1024) {
		snprintf(buf, HUMAN_LEN, "%llu B", (unsigned long long)bytes);
		return buf;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, HUMAN_LEN, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s", v, units[u]);
	return buf;
}

const char *fmt_bytes_delta(char buf[HUMAN_LEN], int64_t bytes)
{
	char tmp[HUMAN_LEN];
	uint64_t mag = bytes < 0 ? -(uint64_t)bytes : (uint64_t)bytes;

	snprintf(buf, HUMAN_LEN, "%s%s", bytes < 0 ? "-" : bytes > 0 ? "+" : "", fmt_bytes(tmp, mag));
	return buf;
}

int64_t i64_saturate(double v)
{
	if (isnan(v))
		return 0;
	if (v >= 0x1p63)
		return INT64_MAX;
	if (v < -0x1p63)
		return INT64_MIN;
	return (int64_t)v;
}

const char *fmt_duration(char buf[HUMAN_LEN], double s)
{
	if (!isfinite(s) || s < 0)
		snprintf(buf, HUMAN_LEN, "?");
	else if (s < 1)
		snprintf(buf, HUMAN_LEN, "%.0f ms", s * 1000);
	else if (s < 60)
		snprintf(buf, HUMAN_LEN, "%.1f s", s);
	else if (s < 3600)
		snprintf(buf, HUMAN_LEN, "%.1f min", s / 60);
	else if (s < 86400)
		snprintf(buf, HUMAN_LEN, "%.1f h", s / 3600);
	else
		snprintf(buf, HUMAN_LEN, "%.1f d", s / 86400);
	return buf;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n);

	if (!p) {
		fputs("memscope: out of memory\n", stderr);
		abort();
	}
	return p;
}

/* Length of the valid UTF-8 sequence at s (at most len bytes), 0 if
 * invalid; *cp gets the code point. */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n, i;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, c = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, c = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	if (n > len)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and C1 controls can fool terminals. */
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff || (c >= 0x80 && c < 0xa0))
		return 0;
	*cp = c;
	return n;
}

/* Invisible characters that reorder or hide text: bidi embeddings,
 * overrides and isolates (U+202E makes "exe.txt" read "txt.exe"), marks,
 * zero-width characters, line/paragraph separators and the BOM. A comm
 * or a path holding one must not rearrange a table. */
static bool is_format_control(uint32_t cp)
{
	return cp == 0x061c || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2060 && cp <= 0x2069) || cp == 0xfeff;
}

char *term_escape_n(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out = xmalloc(len * 4 + 1), *o = out;
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') {
			*o++ = p[i++];
		} else if (p[i] >= 0x80 && (n = utf8_decode(p + i, len - i, &cp)) && !is_format_control(cp)) {
			memcpy(o, p + i, n);
			o += n;
			i += n;
		} else {
			o += sprintf(o, "\\x%02x", p[i++]);
		}
	}
	*o = '\0';
	return out;
}

char *term_escape(const char *s)
{
	return term_escape_n(s ? s : "", s ? strlen(s) : 0);
}

/* Display columns of an escaped string: UTF-8 continuation bytes take none. */
static int display_width(const char *s)
{
	int w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

void print_term(FILE *f, const char *s, int width)
{
	char *e = term_escape(s);
	int w = display_width(e);

	if (width > 0 && w > width) {
		/* Cut on a character boundary and mark the cut. */
		int cols = 0;
		char *p = e;
		for (; *p; p++) {
			if (((unsigned char)*p & 0xc0) != 0x80 && ++cols > width - 1)
				break;
		}
		*p = '\0';
		fprintf(f, "%s~", e);
	} else {
		fputs(e, f);
		for (; width > 0 && w < width; w++)
			fputc(' ', f);
	}
	free(e);
}

/* A byte that is not UTF-8 becomes \udcNN, the lone low surrogate of
 * Python's "surrogateescape" (PEP 383): valid JSON, never the escape of a
 * real character (UTF-8 cannot encode surrogates), and turned back into
 * the byte by bytes(s, "utf-8", "surrogateescape"). Format controls are
 * escaped as themselves (\u202e) so a terminal showing the JSON stays
 * in order. */
static void json_escape_n(FILE *f, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	uint32_t cp;

	fputc('"', f);
	while (i < len) {
		unsigned char c = p[i];
		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			i++;
		} else if (c < 0x80) {
			fputc(c, f);
			i++;
		} else if ((n = utf8_decode(p + i, len - i, &cp))) {
			if (is_format_control(cp))
				fprintf(f, "\\u%04x", cp);
			else
				fwrite(p + i, 1, n, f);
			i += n;
		} else {
			fprintf(f, "\\udc%02x", c);
			i++;
		}
	}
	fputc('"', f);
}

void json_escape(FILE *f, const char *s)
{
	json_escape_n(f, s ? s : "", s ? strlen(s) : 0);
}

void jw_init(struct jw *w, FILE *f)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
}

static void jw_key(struct jw *w, const char *key)
{
	if (w->depth > 0) {
		if (w->need_comma[w->depth])
			fputc(',', w->f);
		w->need_comma[w->depth] = true;
		if (!w->in_array[w->depth] && key) {
			json_escape(w->f, key);
			fputc(':', w->f);
		}
	}
}

static void jw_open(struct jw *w, const char *key, char c, bool array)
{
	jw_key(w, key);
	fputc(c, w->f);
	if (w->depth + 1 >= JW_MAX_DEPTH)
		abort(); /* a bug in a printer, not an input problem */
	w->depth++;
	w->need_comma[w->depth] = false;
	w->in_array[w->depth] = array;
}

static void jw_close(struct jw *w, char c)
{
	fputc(c, w->f);
	if (--w->depth == 0) {
		fputc('\n', w->f);
		fflush(w->f);
	}
}

void jw_obj_begin(struct jw *w, const char *key) { jw_open(w, key, '{', false); }
void jw_obj_end(struct jw *w) { jw_close(w, '}'); }
void jw_arr_begin(struct jw *w, const char *key) { jw_open(w, key, '[', true); }
void jw_arr_end(struct jw *w) { jw_close(w, ']'); }

void jw_str(struct jw *w, const char *key, const char *val)
{
	jw_key(w, key);
	if (val)
		json_escape(w->f, val);
	else
		fputs("null", w->f);
}

void jw_str_n(struct jw *w, const char *key, const char *val, size_t len)
{
	jw_key(w, key);
	json_escape_n(w->f, val, len);
}

void jw_u64(struct jw *w, const char *key, uint64_t val)
{
	jw_key(w, key);
	fprintf(w->f, "%llu", (unsigned long long)val);
}

void jw_i64(struct jw *w, const char *key, int64_t val)
{
	jw_key(w, key);
	fprintf(w->f, "%lld", (long long)val);
}

/* The shortest text that reads back as the same double: a Unix time
 * keeps its microseconds and 5880000 stays 5880000 (%g printed
 * 1.79545e+09 and 5.88e+06). */
void jw_double(struct jw *w, const char *key, double val)
{
	char buf[40];

	jw_key(w, key);
	if (!isfinite(val)) {
		fputs("null", w->f);
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, val);
		if (strtod(buf, NULL) == val)
			break;
	}
	fputs(buf, w->f);
}

void jw_bool(struct jw *w, const char *key, bool val)
{
	jw_key(w, key);
	fputs(val ? "true" : "false", w->f);
}

void jw_null(struct jw *w, const char *key)
{
	jw_key(w, key);
	fputs("null", w->f);
}

static bool out_json;
static const char *out_tool = "memscope";

/* A pipe's writer polls POLLERR once the last reader is gone, a terminal
 * POLLHUP after a hangup: both are seen without writing anything, so a
 * tool that has nothing to say for hours still notices. */
static bool stdout_hung_up(void)
{
	struct pollfd p = { .fd = STDOUT_FILENO };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP | POLLNVAL));
}

const char *out_tool_name(void)
{
	return out_tool;
}

bool out_lost(void)
{
	return ferror(stdout) || stdout_hung_up();
}

static void out_exit_check(void)
{
	int err = 0;

	if (fflush(stdout) == EOF)
		err = errno;
	if (!err && !out_lost())
		return;
	if (err == EPIPE || stdout_hung_up() || (!err && errno == EPIPE)) {
		/* The reader is gone: end the way a process that did not ignore
		 * SIGPIPE would (the shell's 141), with nothing more to say. */
		signal(SIGPIPE, SIG_DFL);
		raise(SIGPIPE);
	}
	/* An earlier write may have failed (ferror) with its errno gone. */
	fprintf(stderr, "%s: cannot write the output: %s\n", out_tool,
		err ? strerror(err) : "a write to stdout failed");
	_exit(1);
}

void out_set_json(bool json, const char *tool)
{
	static bool registered;

	out_json = json;
	if (tool)
		out_tool = tool;
	if (!registered)
		registered = atexit(out_exit_check) == 0;
}

static void emit_msg(const char *level, const char *fmt, va_list ap)
{
	char *msg = NULL;

	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	if (out_json) {
		struct jw w;
		jw_init(&w, stdout);
		jw_obj_begin(&w, NULL);
		jw_str(&w, "event", level);
		jw_str(&w, "tool", out_tool);
		jw_str(&w, "message", msg ? msg : fmt);
		jw_obj_end(&w);
	}
	fprintf(stderr, "%s: %s%s\n", out_tool, strcmp(level, "warning") ? "" : "warning: ", msg ? msg : fmt);
	free(msg);
}

void die_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit_msg("error", fmt, ap);
	va_end(ap);
}

void warn_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit_msg("warning", fmt, ap);
	va_end(ap);
}

void out_ready(const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (out_json) {
		struct jw w;
		jw_init(&w, stdout);
		jw_obj_begin(&w, NULL);
		jw_str(&w, "event", "ready");
		jw_str(&w, "tool", out_tool);
		jw_str(&w, "message", msg);
		jw_obj_end(&w);
	}
	fprintf(stderr, "Tracing %s\n", msg ? msg : "");
	free(msg);
}

static const char *drop_names[] = { "ring buffer full", "map full", "stack capture failed",
				    "exit without entry" };
static const char *drop_keys[] = { "ringbuf_full", "map_full", "stack_failed", "missed_entry" };

void print_drops(FILE *f, const uint64_t *drops, int n)
{
	bool any = false;

	fputs("events lost: ", f);
	for (int i = 0; i < n && i < 4; i++) {
		if (!drops[i])
			continue;
		fprintf(f, "%s%llu (%s)", any ? ", " : "", (unsigned long long)drops[i], drop_names[i]);
		any = true;
	}
	fputs(any ? "\n" : "none\n", f);
}

void jw_drops(struct jw *w, const char *key, const uint64_t *drops, int n)
{
	uint64_t total = 0;

	jw_obj_begin(w, key);
	for (int i = 0; i < n && i < 4; i++) {
		jw_u64(w, drop_keys[i], drops[i]);
		total += drops[i];
	}
	jw_u64(w, "total", total);
	jw_obj_end(w);
}

static int original_stdout = -1;

int out_to_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);

	if (fd < 0)
		return -errno;
	fflush(stdout);
	if (original_stdout < 0)
		original_stdout = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	if (dup2(fd, STDOUT_FILENO) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	close(fd);
	return 0;
}

int out_original_stdout(void)
{
	return original_stdout;
}
