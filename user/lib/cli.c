// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "bpfutil.h"
#include "cgroup.h"
#include "cli.h"
#include "kfeatures.h"
#include "output.h"

const char *argp_program_version = "memscope " MEMSCOPE_VERSION;

enum { OPT_JSON = 0x1000, OPT_FEATURES, OPT_OUTPUT, OPT_USAGE };

static struct argp_option common_options[] = {
	{ "pid", 'p', "PID", 0, "Trace this process (all its threads)", 1 },
	{ "cgroup", 'c', "CGROUP", 0, "Cgroup path, or container/pod id", 1 },
	{ "interval", 'i', "SECONDS", 0, "Report every SECONDS (default: only at the end)", 2 },
	{ "duration", 'd', "SECONDS", 0, "Stop after SECONDS (default: until Ctrl-C)", 2 },
	{ "json", OPT_JSON, NULL, 0, "One JSON object per line on stdout", 2 },
	{ "output", OPT_OUTPUT, "FILE", 0,
	  "Write the report (or JSON) to FILE, not stdout: a command run with -- keeps stdout to itself", 2 },
	{ "verbose", 'v', NULL, 0, "Show libbpf's log and the features probed", 2 },
	/* The tools parse with ARGP_NO_HELP (CLI_ARGP_FLAGS): argp's own --help
	 * would be listed beside this one, which also answers -h and -?. */
	{ "help", 'h', NULL, 0, "Give this help list", -1 },
	{ NULL, '?', NULL, OPTION_HIDDEN, NULL, -1 },
	{ "usage", OPT_USAGE, NULL, 0, "Give a short usage message", -1 },
	{ "version", 'V', NULL, 0, "Print program version", -1 },
	{ "features", OPT_FEATURES, NULL, 0, "Print what this kernel offers (hooks, BTF, cgroups) and exit", 2 },
	{},
};

static struct argp_option *common_option(int key)
{
	for (struct argp_option *o = common_options; o->name || o->key; o++)
		if (o->key == key)
			return o;
	return NULL;
}

void cli_select(unsigned flags)
{
	static const struct { char key; unsigned flag; } map[] = {
		{ 'p', CLI_PID }, { 'c', CLI_CGROUP }, { 'i', CLI_INTERVAL }, { 'd', CLI_DURATION },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!(flags & map[i].flag))
			common_option(map[i].key)->flags |= OPTION_HIDDEN;
	if (flags & CLI_NO_JSON)
		common_option(OPT_JSON)->flags |= OPTION_HIDDEN;
}

void cli_option_doc(int key, const char *doc)
{
	struct argp_option *o = common_option(key);

	if (o)
		o->doc = doc;
}

static bool option_hidden(int key)
{
	const struct argp_option *o = common_option(key);

	return !o || (o->flags & OPTION_HIDDEN);
}

/* The tool's own argp: the one that has the shared options as a child. */
static const struct argp *tool_argp(const struct argp *a)
{
	for (const struct argp_child *c = a->children; c && c->argp; c++) {
		if (c->argp == &common_argp)
			return a;
		const struct argp *t = tool_argp(c->argp);
		if (t)
			return t;
	}
	return NULL;
}

/* argp fills every doc text to 79 columns and so cuts example commands in
 * two, and a command cut in two breaks when copied. The text after '\v' in
 * a tool's doc (EXAMPLES, exit status) is therefore printed as written:
 * argp prints usage, the first paragraph and the options, then that text
 * follows verbatim. */
static void print_help_and_exit(struct argp_state *st)
{
	const struct argp *tool = tool_argp(st->root_argp);
	const char *post = tool && tool->doc ? strchr(tool->doc, '\v') : NULL;

	argp_state_help(st, stdout, ARGP_HELP_STD_HELP & ~(ARGP_HELP_POST_DOC | ARGP_HELP_EXIT_OK));
	if (post && post[1])
		printf("\n%s%s", post + 1, post[strlen(post) - 1] == '\n' ? "" : "\n");
	exit(0);
}

static void print_features_and_exit(void)
{
	const struct cgroup_layout *l = cgroup_layout();

	bpf_log_setup(false);
	features_print(stdout, features_get());
	printf("cgroups: %s (cgroup2: %s, v1 memory controller: %s)\n", cgroup_mode_name(l->mode),
	       l->v2_mount[0] ? l->v2_mount : "none", l->v1_memory[0] ? l->v1_memory : "none");
	exit(0);
}

static error_t common_parse(int key, char *arg, struct argp_state *st)
{
	struct common_opts *o = st->input;

	if ((key == 'p' || key == 'c' || key == 'i' || key == 'd') && option_hidden(key))
		argp_error(st, "-%c is not an option of this tool", key);
	switch (key) {
	case 'p':
		o->pid = argp_u64(st, "pid", arg, 1, 4194304);
		break;
	case 'c':
		if (!*arg)
			argp_error(st, "empty cgroup");
		o->cgroup = arg;
		break;
	case 'i':
		o->interval_s = argp_seconds(st, "interval", arg, 0.1, 86400);
		break;
	case 'd':
		o->duration_s = argp_seconds(st, "duration", arg, 0.1, 31 * 86400.0);
		break;
	case OPT_JSON:
		o->json = true;
		break;
	case OPT_OUTPUT: {
		int err = out_to_file(arg);

		if (err)
			argp_failure(st, 1, -err, "--output %s", arg);
		break;
	}
	case 'v':
		o->verbose = true;
		break;
	case 'h':
	case '?':
		/* argp only knows -?; -h is what every other tool on the host takes. */
		print_help_and_exit(st);
		break;
	case OPT_USAGE:
		argp_state_help(st, stdout, ARGP_HELP_USAGE | ARGP_HELP_EXIT_OK);
		break;
	case 'V':
		printf("%s\n", argp_program_version);
		exit(0);
	case OPT_FEATURES:
		print_features_and_exit();
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

struct argp common_argp = { common_options, common_parse, NULL, NULL, NULL, NULL, NULL };

int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (!s || !(isdigit((unsigned char)*s) || ((*s == '-' || *s == '+') && isdigit((unsigned char)s[1]))))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_seconds(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	if (!s || !(isdigit((unsigned char)*s) || *s == '.'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno == ERANGE || !isfinite(v))
		return -ERANGE;
	if (*end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int parse_duration(const char *s, double max_s, double *out)
{
	double total = 0;

	if (!s || !*s)
		return -EINVAL;
	while (*s) {
		uint64_t v = 0;
		double unit;

		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		for (; isdigit((unsigned char)*s); s++) {
			if (v > (UINT64_MAX - 9) / 10)
				return -ERANGE;
			v = v * 10 + (*s - '0');
		}
		switch (*s++) {
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		default: return -EINVAL;  /* no unit, or an unknown one */
		}
		total += v * unit;
	}
	if (total > max_s)
		return -ERANGE;
	if (total <= 0)
		return -EINVAL;
	*out = total;
	return 0;
}

int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	switch (toupper((unsigned char)*end)) {
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	case 'T': shift = 40; end++; break;
	}
	if (shift && (*end == 'i' || *end == 'I'))
		end++;
	if (shift && (*end == 'b' || *end == 'B'))
		end++;
	if (*end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

uint64_t argp_u64(struct argp_state *st, const char *what, const char *arg, uint64_t min, uint64_t max)
{
	uint64_t v = 0;
	int err = parse_u64(arg, min, max, &v);

	if (err == -EINVAL)
		argp_error(st, "invalid %s '%s': not a whole number", what, arg);
	else if (err)
		argp_error(st, "invalid %s '%s': must be between %llu and %llu", what, arg,
			   (unsigned long long)min, (unsigned long long)max);
	return v;
}

double argp_seconds(struct argp_state *st, const char *what, const char *arg, double min, double max)
{
	double v = 0;
	int err = parse_seconds(arg, min, max, &v);

	if (err == -EINVAL)
		argp_error(st, "invalid %s '%s': not a number of seconds", what, arg);
	else if (err)
		argp_error(st, "invalid %s '%s': must be between %g and %g seconds", what, arg, min, max);
	return v;
}

/* argp exits with EX_USAGE (64) on a usage error; memscope's tools exit 1
 * on every error, so scripts need test only for non-zero. */
__attribute__((constructor)) static void cli_exit_status(void)
{
	argp_err_exit_status = 1;
}
