// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* memscope-exporter: one long-running process per host that runs the
 * memscope collectors side by side and serves what they know on /metrics
 * in the Prometheus text format. The main thread collects every interval
 * and swaps in a new exposition; the HTTP thread serves the latest one
 * plus the exporter's own figures, so a scrape costs a copy, whatever the
 * number of cgroups. */
#include <argp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "bpfstats.h"
#include "cgmetrics.h"
#include "cli.h"
#include "config.h"
#include "expo.h"
#include "http.h"
#include "bpfutil.h"
#include "loop.h"
#include "oommetrics.h"
#include "output.h"
#include "privs.h"
#include "procfs.h"
#include "sockmetrics.h"

/* Outside 9100-9999, the range Prometheus' port registry has handed out
 * in full, below Linux's ephemeral ports, unassigned in /etc/services. */
#define DEFAULT_LISTEN        ":19736"
#define DEFAULT_INTERVAL_S    5.0
#define DEFAULT_MAX_CGROUPS   2000
#define DEFAULT_MAX_SERIES    10000
#define DEFAULT_SLOPE_WINDOW  300.0
#define DEFAULT_OLDER_THAN    60.0

/* The collectors --collectors picks from. */
#define COL_CGROUPS (1u << 0)
#define COL_OOM     (1u << 1)
#define COL_SOCKETS (1u << 2)
#define COL_ALL     (COL_CGROUPS | COL_OOM | COL_SOCKETS)
#define COL_BPF     (COL_OOM | COL_SOCKETS)

struct env {
	struct common_opts common;
	const char *listen;
	const char *config;
	const char *web_config;  /* --web.config.file: TLS, basic auth */
	uint64_t max_cgroups;
	uint64_t max_series;
	double slope_window_s;
	double older_than_s;
	unsigned collectors;     /* COL_* */
	unsigned set;            /* options given on the command line */
	/* Values read from --config that settings point into (listen,
	 * web-config-file): the file's buffer is gone once it is read. */
	char *from_config[8];
	int nfrom_config;
};

enum { OPT_LISTEN = 0x3000, OPT_CONFIG, OPT_MAX_CGROUPS, OPT_MAX_SERIES, OPT_SLOPE_WINDOW, OPT_OLDER_THAN,
       OPT_COLLECTORS, OPT_WEB_CONFIG };
#define SET(opt) (1u << ((opt) - OPT_LISTEN))

struct exporter {
	struct env env;
	struct cgm *cgm;
	struct oomm *oom;
	struct sockm *sock;
	struct http_server *http;
	struct web_config web;
	pthread_mutex_t mu;
	char *snapshot;          /* the collectors' exposition, under mu */
	size_t snapshot_len;
	uint64_t collections;
	double collect_s;        /* duration of the last collection */
	double collect_at;       /* its end, Unix seconds */
	uint64_t scrapes;
	double started_at;
	bool bpf_stats;          /* the kernel counts our programs' run time */
};

static double unix_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double mono_now(void)
{
	return mono_ns() / 1e9;
}

/* ---- options: the same names on the command line and in the file ---- */

static const char *const config_keys =
	"listen, web-config-file, interval, collectors, max-cgroups, max-series, slope-window, older-than";

/* "cgroups,oom,sockets" (any of them, or "all") -> COL_*; 0 when invalid. */
static unsigned parse_collectors(const char *list)
{
	char *copy = strdup(list), *save = NULL;
	unsigned m = 0;

	if (!copy)
		abort();
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!strcmp(t, "cgroups"))
			m |= COL_CGROUPS;
		else if (!strcmp(t, "oom"))
			m |= COL_OOM;
		else if (!strcmp(t, "sockets"))
			m |= COL_SOCKETS;
		else if (!strcmp(t, "all"))
			m |= COL_ALL;
		else {
			m = 0;
			break;
		}
	}
	free(copy);
	return m;
}

static int set_option(struct env *e, int key, const char *val, char *err, size_t errlen)
{
	uint64_t u;
	double d;

	switch (key) {
	case OPT_LISTEN: {
		struct sockaddr_storage ss;
		if (http_parse_listen(val, &ss, err, errlen))
			return -1;
		e->listen = val;
		return 0;
	}
	case OPT_WEB_CONFIG:
		e->web_config = val;
		return 0;
	case 'i':
		if (parse_seconds(val, 0.1, 86400, &d))
			break;
		e->common.interval_s = d;
		return 0;
	case OPT_MAX_CGROUPS:
		if (parse_u64(val, 1, 10000000, &u))
			break;
		e->max_cgroups = u;
		return 0;
	case OPT_MAX_SERIES:
		if (parse_u64(val, 1, 100000000, &u))
			break;
		e->max_series = u;
		return 0;
	case OPT_SLOPE_WINDOW:
		if (parse_seconds(val, 1, 86400, &d))
			break;
		e->slope_window_s = d;
		return 0;
	case OPT_OLDER_THAN:
		if (parse_seconds(val, 1, 86400 * 365.0, &d))
			break;
		e->older_than_s = d;
		return 0;
	case OPT_COLLECTORS:
		if (!(e->collectors = parse_collectors(val))) {
			snprintf(err, errlen, "invalid collector list '%s': cgroups, oom, sockets or all, comma-separated",
				 val);
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen, "invalid value '%s'", val);
	return -1;
}

static int config_set(void *ctx, const char *key, const char *value, char *err, size_t errlen)
{
	static const struct { const char *name; int key; } map[] = {
		{ "listen", OPT_LISTEN }, { "interval", 'i' }, { "max-cgroups", OPT_MAX_CGROUPS },
		{ "max-series", OPT_MAX_SERIES }, { "slope-window", OPT_SLOPE_WINDOW },
		{ "older-than", OPT_OLDER_THAN }, { "collectors", OPT_COLLECTORS },
		{ "web-config-file", OPT_WEB_CONFIG },
	};
	struct env *e = ctx;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcmp(key, map[i].name))
			continue;
		/* The command line wins over the file. */
		if ((map[i].key == 'i' && e->common.interval_s) ||
		    (map[i].key != 'i' && (e->set & SET(map[i].key))))
			return 0;
		char why[200], *kept = strdup(value);
		if (!kept || e->nfrom_config == (int)(sizeof(e->from_config) / sizeof(e->from_config[0]))) {
			free(kept);
			snprintf(err, errlen, "%s: set more than once", key);
			return -1;
		}
		e->from_config[e->nfrom_config++] = kept;
		if (set_option(e, map[i].key, kept, why, sizeof(why))) {
			snprintf(err, errlen, "%s: %s", key, why);
			return -1;
		}
		return 0;
	}
	char *k = term_escape(key);
	snprintf(err, errlen, "unknown setting '%s' (known: %s)", k, config_keys);
	free(k);
	return -1;
}

static const char doc[] =
	"memscope-exporter: OOM kills, socket leaks and the working set of every memory cgroup, "
	"served to Prometheus on /metrics.\v"
	"EXAMPLES\n"
	"  memscope-exporter                            # serve on :19736 (every address)\n"
	"  memscope-exporter --listen 127.0.0.1:19736   # loopback only\n"
	"  memscope-exporter -i 15 --collectors cgroups # memory files every 15 s, no BPF\n"
	"  memscope-exporter --config /etc/memscope/exporter.conf\n"
	"  memscope-exporter --web.config.file /etc/memscope/web.yml  # TLS, basic auth\n"
	"\n"
	"Then: curl -s localhost:19736/metrics | grep memscope_cgroup_memory_working_set_bytes\n"
	"\n"
	"The configuration file holds one 'key = value' a line (" /* keys: */
	"listen,\nweb-config-file, interval, collectors, max-cgroups, max-series, slope-window,\n"
	"older-than); the command line wins over it.\n"
	"The web configuration file is the YAML of Prometheus' exporters: tls_server_config\n"
	"(cert_file, key_file) and basic_auth_users (user: bcrypt hash); other settings are\n"
	"refused.\n"
	"Exit status: 0 after SIGTERM/SIGINT, 1 on bad input or when the address cannot\nbe bound.\n";

static const struct argp_option options[] = {
	{ NULL, 0, NULL, 0, "Serving:", 1 },
	{ "listen", OPT_LISTEN, "ADDR:PORT", 0, "Address to serve on (default :19736, every address)", 1 },
	{ "config", OPT_CONFIG, "FILE", 0, "Read settings from FILE (key = value lines)", 1 },
	{ "web.config.file", OPT_WEB_CONFIG, "FILE", 0,
	  "Serve HTTPS and/or ask for a user and password, as FILE says (YAML, as Prometheus' exporters)", 1 },
	{ NULL, 0, NULL, 0, "Collection:", 3 },
	{ "collectors", OPT_COLLECTORS, "LIST", 0,
	  "cgroups (memory files), oom (BPF), sockets (BPF); default: all", 3 },
	{ "older-than", OPT_OLDER_THAN, "SECONDS", 0, "Sockets open longer are leak suspects (default 60)", 3 },
	{ "max-cgroups", OPT_MAX_CGROUPS, "N", 0, "Export at most N cgroups (default 2000); the rest are counted", 3 },
	{ "max-series", OPT_MAX_SERIES, "N", 0, "At most N series per metric (default 10000); the rest are counted", 3 },
	{ "slope-window", OPT_SLOPE_WINDOW, "SECONDS", 0,
	  "Working-set growth is the slope over this window (default 300), from the samples since the "
	  "cgroup's last restart (an OOM kill, or its processes replaced)", 3 },
	{},
};

static error_t parse_opt(int key, char *arg, struct argp_state *st)
{
	struct env *e = st->input;
	char err[256];

	switch (key) {
	case ARGP_KEY_INIT:
		st->child_inputs[0] = &e->common;
		break;
	case OPT_CONFIG:
		e->config = arg;
		break;
	case OPT_LISTEN:
	case OPT_WEB_CONFIG:
	case OPT_MAX_CGROUPS:
	case OPT_MAX_SERIES:
	case OPT_SLOPE_WINDOW:
	case OPT_OLDER_THAN:
	case OPT_COLLECTORS:
		if (set_option(e, key, arg, err, sizeof(err)))
			argp_error(st, "%s", err);
		e->set |= SET(key);
		break;
	case ARGP_KEY_ARG:
		argp_error(st, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		if (e->common.json)
			argp_error(st, "--json is not an option of the exporter: its output is /metrics");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* ---- collection ---- */

static void losses_of(struct expo *e, const char *collector, const char *const *names, const uint64_t *vals,
		      size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct expo_label l[] = { { "collector", collector }, { "reason", names[i] } };
		expo_u64(e, l, 2, vals[i]);
	}
}

static void write_losses(struct exporter *x, struct expo *e)
{
	const char *const *names;
	const uint64_t *vals;
	size_t n;

	expo_family(e, "memscope_exporter_events_lost_total", EXPO_COUNTER,
		    "What the BPF collectors lost or had to correct, since the exporter started: ring buffer full, "
		    "a map full, stack captures failed, exits without their entry; sockets: table inserts that "
		    "failed, and fds found or gone in /proc that no hook saw (corrected_from_proc).");
	if (x->oom) {
		oomm_losses(x->oom, &names, &vals, &n);
		losses_of(e, "oom", names, vals, n);
	}
	if (x->sock) {
		sockm_losses(x->sock, &names, &vals, &n);
		losses_of(e, "sockets", names, vals, n);
	}
}

static int collect(void *ctx)
{
	struct exporter *x = ctx;
	struct expo e;
	double t0 = mono_now();

	expo_init(&e, x->env.max_series);
	if (x->cgm) {
		cgm_refresh(x->cgm, t0, unix_now());
		cgm_write(x->cgm, &e);
	}
	if (x->oom)
		oomm_write(x->oom, &e);
	if (x->sock) {
		sockm_refresh(x->sock);
		sockm_write(x->sock, &e);
	}
	write_losses(x, &e);
	expo_write_drops(&e);

	size_t len;
	char *text = expo_take(&e, &len);
	pthread_mutex_lock(&x->mu);
	free(x->snapshot);
	x->snapshot = text;
	x->snapshot_len = len;
	x->collections++;
	x->collect_s = mono_now() - t0;
	x->collect_at = unix_now();
	pthread_mutex_unlock(&x->mu);
	return 0;
}

/* ---- the exporter's own figures, read at each scrape ---- */

static uint64_t self_rss(void)
{
	char *buf = NULL;
	unsigned long long size, rss = 0;

	if (read_file("/proc/self/statm", &buf) > 0 && sscanf(buf, "%llu %llu", &size, &rss) == 2)
		rss *= sysconf(_SC_PAGESIZE);
	free(buf);
	return rss;
}

static void write_self(struct exporter *x, struct expo *e)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	expo_family(e, "memscope_exporter_build_info", EXPO_GAUGE, "Always 1: the exporter's version.");
	struct expo_label l[] = { { "version", MEMSCOPE_VERSION } };
	expo_u64(e, l, 1, 1);
	expo_family(e, "memscope_exporter_cpu_seconds_total", EXPO_COUNTER,
		    "CPU time the exporter used (user + system, every thread), since it started.");
	expo_double(e, NULL, 0, ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
					ru.ru_stime.tv_usec / 1e6);
	expo_gauge1(e, "memscope_exporter_resident_memory_bytes", "The exporter's resident set size.",
		    self_rss());
	expo_gauge1(e, "memscope_exporter_resident_memory_peak_bytes", "The exporter's peak resident set size.",
		    ru.ru_maxrss * 1024.0);
	expo_gauge1(e, "memscope_exporter_start_time_seconds", "When the exporter started, Unix seconds.",
		    x->started_at);
	expo_family(e, "memscope_exporter_scrapes_total", EXPO_COUNTER, "Requests for /metrics served.");
	expo_u64(e, NULL, 0, x->scrapes);
	expo_family(e, "memscope_exporter_collections_total", EXPO_COUNTER,
		    "Collections done (one every interval); scrapes serve the latest.");
	expo_u64(e, NULL, 0, x->collections);
	expo_gauge1(e, "memscope_exporter_collect_duration_seconds", "How long the latest collection took.",
		    x->collect_s);
	expo_gauge1(e, "memscope_exporter_collect_timestamp_seconds",
		    "When the latest collection ended, Unix seconds: what the values are as of.", x->collect_at);
	expo_gauge1(e, "memscope_exporter_collect_interval_seconds", "The interval between collections.",
		    x->env.common.interval_s);
	if (x->oom || x->sock) {
		bpfstats_write(e, x->bpf_stats);
		bpfstats_write_maps(e);
	}
}

static char *render(void *ctx, size_t *len)
{
	struct exporter *x = ctx;
	struct expo e;

	expo_init(&e, 0);
	pthread_mutex_lock(&x->mu);
	x->scrapes++;
	write_self(x, &e);
	size_t self_len = e.len;
	char *out = malloc(self_len + x->snapshot_len + 1);
	if (!out)
		abort();
	memcpy(out, e.buf, self_len);
	memcpy(out + self_len, x->snapshot, x->snapshot_len + 1);
	*len = self_len + x->snapshot_len;
	pthread_mutex_unlock(&x->mu);
	expo_free(&e);
	return out;
}

/* ---- lifecycle ---- */

/* After each poll of the OOM ring buffer: count the kills it brought. */
static int drain_kills(void *ctx)
{
	oomm_drain(((struct exporter *)ctx)->oom);
	return 0;
}

static int open_collectors(struct exporter *x)
{
	struct cgm_opts co = {
		.max_cgroups = x->env.max_cgroups,
		.slope_window_s = x->env.slope_window_s,
	};
	unsigned want = x->env.collectors;
	int err = 0;

	if ((want & COL_BPF) && privs_check())
		return -1;
	if ((want & COL_CGROUPS) && !(x->cgm = cgm_new(&co, &err)))
		warn_msg("no memory cgroup hierarchy is mounted: no per-cgroup metrics");
	if (want & COL_BPF)
		bpf_log_setup(x->env.common.verbose);
	if (want & COL_BPF)
		x->bpf_stats = bpfstats_enable();
	if ((want & COL_OOM) && !(x->oom = oomm_new(x->env.max_series)))
		return -1;
	if (want & COL_SOCKETS) {
		struct sockm_opts so = { .older_than_s = x->env.older_than_s, .max_rows = x->env.max_series };
		if (!(x->sock = sockm_new(&so)))
			return -1;
	}
	return 0;
}

static void close_collectors(struct exporter *x)
{
	cgm_free(x->cgm);
	oomm_free(x->oom);
	sockm_free(x->sock);
}

/* Collectors attached, before the HTTP threads start (capabilities are
 * per thread): other users' /proc/PID fds and limits are all that is
 * left to reach, and a port below 1024 to bind (docs/sandbox.md). */
static void settle_privs(const struct exporter *x, const struct sockaddr_storage *ss)
{
	unsigned port = ss->ss_family == AF_INET6 ? ntohs(((const struct sockaddr_in6 *)ss)->sin6_port)
						   : ntohs(((const struct sockaddr_in *)ss)->sin_port);

	privs_settle(PRIV(CAP_SYS_PTRACE) | PRIV(CAP_DAC_READ_SEARCH) |
			     (port && port < 1024 ? PRIV(CAP_NET_BIND_SERVICE) : 0),
		     x->env.common.verbose);
}

static int serve(struct exporter *x)
{
	struct sockaddr_storage ss;
	char err[256], host[INET6_ADDRSTRLEN] = "";

	http_parse_listen(x->env.listen, &ss, err, sizeof(err));
	settle_privs(x, &ss);
	if (x->env.web_config && web_config_load(x->env.web_config, &x->web, err, sizeof(err))) {
		die_msg("--web.config.file %s: %s", x->env.web_config, err);
		return -1;
	}
	if (!(x->http = http_start((struct sockaddr *)&ss, &x->web, render, x, err, sizeof(err)))) {
		die_msg("cannot listen on %s: %s", x->env.listen, err);
		return -1;
	}
	if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof(host));
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof(host));
	fprintf(stderr, "memscope-exporter: serving %s://%s%s%s:%u/metrics%s (collecting every %g s: %s%s%s%s)\n",
		x->web.cert_pem ? "https" : "http", ss.ss_family == AF_INET6 ? "[" : "", host, ss.ss_family == AF_INET6 ? "]" : "",
		(unsigned)http_port(x->http), x->web.nusers ? " with basic auth" : "", x->env.common.interval_s, x->cgm ? "cgroups under " : "",
		x->cgm ? cgm_root(x->cgm) : "", x->oom ? ", OOM kills" : "", x->sock ? ", sockets" : "");
	return 0;
}

int main(int argc, char **argv)
{
	static struct argp_child children[] = { { &common_argp, 0, NULL, 0 }, {} };
	static struct argp argp = { options, parse_opt, NULL, doc, children, NULL, NULL };
	static struct exporter x = { .mu = PTHREAD_MUTEX_INITIALIZER };
	char err[512];
	int status = 0;

	x.env.max_cgroups = DEFAULT_MAX_CGROUPS;
	x.env.max_series = DEFAULT_MAX_SERIES;
	x.env.slope_window_s = DEFAULT_SLOPE_WINDOW;
	x.env.older_than_s = DEFAULT_OLDER_THAN;
	x.env.collectors = COL_ALL;
	cli_select(CLI_INTERVAL | CLI_DURATION | CLI_NO_JSON);
	cli_option_doc('i', "Collect every SECONDS (default 5); scrapes serve the latest collection");
	if (argp_parse(&argp, argc, argv, CLI_ARGP_FLAGS, NULL, &x.env))
		return 1;
	out_set_json(false, "memscope-exporter");
	if (x.env.config && config_load(x.env.config, config_set, &x.env, err, sizeof(err))) {
		die_msg("%s", err);
		return 1;
	}
	if (!x.env.listen)
		x.env.listen = DEFAULT_LISTEN;
	if (!x.env.common.interval_s)
		x.env.common.interval_s = DEFAULT_INTERVAL_S;
	x.started_at = unix_now();

	loop_signals_install();
	if (open_collectors(&x) || collect(&x) || serve(&x)) {
		status = 1;
		goto out;
	}
	struct loop_opts lo = {
		.interval_s = x.env.common.interval_s,
		.duration_s = x.env.common.duration_s,
		.on_interval = collect,
		.on_poll = x.oom ? drain_kills : NULL,
		.ctx = &x,
		.rb = x.oom ? oomm_ringbuf(x.oom) : NULL,
	};
	enum loop_stop why = loop_run(&lo);
	if (why == LOOP_ERROR)
		status = 1;
	fprintf(stderr, "memscope-exporter: stopping (%s) after %llu collections and %llu scrapes\n",
		loop_stop_name(why), (unsigned long long)x.collections, (unsigned long long)x.scrapes);
out:
	http_stop(x.http);
	web_config_free(&x.web);
	close_collectors(&x);
	free(x.snapshot);
	for (int i = 0; i < x.env.nfrom_config; i++)
		free(x.env.from_config[i]);
	return status;
}
