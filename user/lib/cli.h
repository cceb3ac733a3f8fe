/* The options every memscope tool shares, as an argp child parser, and
 * strict number parsing. */
#ifndef MEMSCOPE_CLI_H
#define MEMSCOPE_CLI_H

#include <argp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct common_opts {
	pid_t pid;            /* -p: 0 when not given */
	const char *cgroup;   /* -c: path, id, or NULL */
	double interval_s;    /* -i: 0 = only the final report */
	double duration_s;    /* -d: 0 = until interrupted */
	bool json;            /* --json */
	bool verbose;         /* -v: libbpf debug log and feature details */
};

/* Add as a child of the tool's argp with the input pointing at its
 * struct common_opts, for example:
 *   static struct argp_child children[] = { { &common_argp, 0, NULL, 0 }, {} };
 *   case ARGP_KEY_INIT: state->child_inputs[0] = &env->common; break;
 * Which shared options a tool takes is chosen by flags: */
#define CLI_PID      (1u << 0)
#define CLI_CGROUP   (1u << 1)
#define CLI_INTERVAL (1u << 2)
#define CLI_DURATION (1u << 3)
#define CLI_NO_JSON  (1u << 4)   /* every tool takes --json but the exporter (its output is /metrics) */
extern struct argp common_argp;
/* The flags every tool passes to argp_parse (with its own). */
#define CLI_ARGP_FLAGS ARGP_NO_HELP

/* Call before argp_parse to hide the shared options a tool does not take. */
void cli_select(unsigned flags);
/* Say what a shared option means in this tool, when the general words
 * ("Trace this process", "Report every SECONDS") are not true of it. */
void cli_option_doc(int key, const char *doc);
/* --help (-h, -?) prints the text after '\v' in the tool's argp doc as
 * written, lines unwrapped: put EXAMPLES there, one whole command a line
 * starting with the tool's name, and wrap any prose by hand. */

/* Strict parsing: the whole string must be a number in [min, max];
 * "12abc", "", "-1" for unsigned and overflow are errors (-EINVAL/-ERANGE). */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/* Seconds, fractional allowed ("0.5"), in [min, max]. */
int parse_seconds(const char *s, double min, double max, double *out);
/* A span of time with units, as "10m", "2h", "1d", "1h30m", "90s": whole
 * numbers, each with one of s, m, h, d; the total in (0, max_s]. */
int parse_duration(const char *s, double max_s, double *out);
/* Sizes with optional K/M/G suffix (powers of 1024). */
int parse_size(const char *s, uint64_t *out);

/* argp helper: parse or fail with a one-line usage error. */
uint64_t argp_u64(struct argp_state *st, const char *what, const char *arg, uint64_t min, uint64_t max);
double argp_seconds(struct argp_state *st, const char *what, const char *arg, double min, double max);

#endif
