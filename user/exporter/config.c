// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "output.h"
#include "procfs.h"

/* A configuration file is a few lines: anything bigger is not one. */
#define CONFIG_MAX_BYTES (64 * 1024)

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int parse_line(char *line, char **key, char **value)
{
	char *hash = strchr(line, '#');
	if (hash)
		*hash = '\0';
	line = trim(line);
	if (!*line)
		return 0;
	size_t kl = strcspn(line, " \t=");
	char *rest = line + kl;
	bool had_sep = *rest != '\0';
	if (had_sep)
		*rest++ = '\0';
	rest = trim(rest);
	if (*rest == '=')
		rest = trim(rest + 1);
	*key = line;
	*value = rest;
	return 1;
}

int config_load(const char *path, config_set_fn set, void *ctx, char *err, size_t errlen)
{
	char *buf = NULL, *save = NULL, *esc = term_escape(path);
	ssize_t n = read_file_max(path, &buf, CONFIG_MAX_BYTES);
	int lineno = 0, ret = 0;

	if (n < 0) {
		snprintf(err, errlen, "cannot read config file %s: %s", esc, strerror((int)-n));
		free(esc);
		free(buf);
		return -1;
	}
	/* Keep empty lines in the count: strtok_r would skip them. */
	for (char *line = buf; line && ret == 0; line = save) {
		char *key, *value, why[256];
		save = strchr(line, '\n');
		if (save)
			*save++ = '\0';
		lineno++;
		if (!parse_line(line, &key, &value))
			continue;
		if (!*value) {
			snprintf(err, errlen, "%s:%d: '%s' has no value", esc, lineno, key);
			ret = -1;
		} else if (set(ctx, key, value, why, sizeof(why))) {
			snprintf(err, errlen, "%s:%d: %s", esc, lineno, why);
			ret = -1;
		}
	}
	free(esc);
	free(buf);
	return ret;
}
