// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#include "cli.h"
#include "http.h"

/* Prometheus needs one connection (an HA pair two). The slots are many
 * and each address gets few, so that idle or half-sent requests from one
 * client (a careless script, or an attack) cannot take the slots a scrape
 * needs: seen with 16 slots in all, 64 idle connections made a scrape wait
 * 40 s, past Prometheus' 10 s scrape timeout. */
#define HTTP_MAX_CONNECTIONS 1024
#define HTTP_PER_ADDRESS 32
/* An idle connection (no byte for this long, e.g. a request's headers
 * left half-sent) is closed. */
#define HTTP_TIMEOUT_S 10
/* A request's headers beyond this get 431 (MHD's per-connection pool;
 * Prometheus sends well under 1 KiB). */
#define HTTP_HEADER_POOL (16 << 10)
/* Threads serving connections: a password check (bcrypt, tens of ms by
 * design) or a slow reader on one must not hold up the scrape on another. */
#define HTTP_THREADS 4

struct http_server {
	struct MHD_Daemon *d;
	http_render_fn render;
	void *ctx;
	const struct web_config *wc;
	uint16_t port;
};

static const char index_html[] =
	"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>memscope exporter</title></head>\n"
	"<body><h1>memscope exporter</h1>\n"
	"<p>OOM kills, socket leaks and the working set of every memory cgroup on this host, "
	"for Prometheus.</p>\n<p><a href=\"/metrics\">/metrics</a></p>\n</body></html>\n";

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type, char *body,
			     size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static bool authorized(const struct web_config *wc, struct MHD_Connection *conn)
{
	char *pass = NULL, *user = MHD_basic_auth_get_username_password(conn, &pass);
	bool ok = web_config_check(wc, user, pass);

	MHD_free(user);
	MHD_free(pass);
	return ok;
}

static enum MHD_Result ask_password(struct MHD_Connection *conn)
{
	static char body[] = "authentication required\n";
	struct MHD_Response *r = MHD_create_response_from_buffer(sizeof(body) - 1, body, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	ret = MHD_queue_basic_auth_fail_response(conn, "memscope", r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_len, void **con_cls)
{
	struct http_server *s = cls;
	(void)version;
	(void)upload;
	(void)con_cls;

	if (*upload_len)
		return MHD_NO;
	if (s->wc && s->wc->nusers && !authorized(s->wc, conn))
		return ask_password(conn);
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "only GET\n", 9,
			     MHD_RESPMEM_PERSISTENT);
	if (!strcmp(url, "/metrics")) {
		size_t len;
		char *body = s->render(s->ctx, &len);
		return reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body, len,
			     MHD_RESPMEM_MUST_FREE);
	}
	if (!strcmp(url, "/"))
		return reply(conn, MHD_HTTP_OK, "text/html; charset=utf-8", (char *)index_html,
			     sizeof(index_html) - 1, MHD_RESPMEM_PERSISTENT);
	return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", "not found: try /metrics\n", 24,
		     MHD_RESPMEM_PERSISTENT);
}

/* The slots, within what the process may open (its soft limit raised to
 * the hard one first): the BPF objects and /proc reads need the rest. */
static unsigned connection_slots(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 64;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= HTTP_MAX_CONNECTIONS + 256)
		return HTTP_MAX_CONNECTIONS;
	return rl.rlim_cur > 256 + 16 ? (unsigned)rl.rlim_cur - 256 : 16;
}

static struct MHD_Daemon *start_daemon(struct http_server *s, int family, int fd)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
	const struct web_config *wc = s->wc;

	if (family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (wc && wc->cert_pem)
		flags |= MHD_USE_TLS;
	/* MHD_OPTION_HTTPS_MEM_* must not be passed without MHD_USE_TLS:
	 * end the list before them for plain HTTP. */
	return MHD_start_daemon(flags, 0, NULL, NULL, handle, s, MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_CONNECTION_LIMIT, connection_slots(),
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTP_PER_ADDRESS,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT_S,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_HEADER_POOL,
				MHD_OPTION_THREAD_POOL_SIZE, (unsigned)HTTP_THREADS,
				wc && wc->cert_pem ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END,
				wc ? wc->key_pem : NULL, MHD_OPTION_HTTPS_MEM_CERT, wc ? wc->cert_pem : NULL,
				MHD_OPTION_END);
}

struct http_server *http_start(const struct sockaddr *addr, const struct web_config *wc,
			       http_render_fn render, void *ctx, char *err, size_t errlen)
{
	struct http_server *s = calloc(1, sizeof(*s));

	if (!s)
		abort();
	s->render = render;
	s->ctx = ctx;
	s->wc = wc;
	/* MHD reports a failed bind only by returning NULL (and printing,
	 * unless told not to): bind a socket first to say why. */
	int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	socklen_t alen = addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) || bind(fd, addr, alen) ||
	    listen(fd, 64)) {
		snprintf(err, errlen, "%s", strerror(errno));
		if (fd >= 0)
			close(fd);
		free(s);
		return NULL;
	}
	struct sockaddr_storage bound;
	socklen_t blen = sizeof(bound);
	getsockname(fd, (struct sockaddr *)&bound, &blen);
	s->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
						    : ((struct sockaddr_in *)&bound)->sin_port);
	s->d = start_daemon(s, addr->sa_family, fd);
	if (!s->d) {
		snprintf(err, errlen, "libmicrohttpd could not start its server%s",
			 wc && wc->cert_pem ? " (is the TLS key the certificate's, both PEM?)" : "");
		close(fd);
		free(s);
		return NULL;
	}
	return s;
}

uint16_t http_port(const struct http_server *s)
{
	return s->port;
}

void http_stop(struct http_server *s)
{
	if (!s)
		return;
	/* MHD_stop_daemon closes the listening socket it was given. */
	MHD_stop_daemon(s->d);
	free(s);
}

int http_parse_listen(const char *spec, struct sockaddr_storage *ss, char *err, size_t errlen)
{
	char host[256];
	const char *colon, *hs = spec;
	size_t hl;
	uint64_t port;

	memset(ss, 0, sizeof(*ss));
	if (spec[0] == '[') {
		const char *close_ = strchr(spec, ']');
		if (!close_ || close_[1] != ':') {
			snprintf(err, errlen, "'%s': expected [IPv6]:PORT", spec);
			return -EINVAL;
		}
		hs = spec + 1;
		hl = close_ - hs;
		colon = close_ + 1;
	} else {
		if (!(colon = strrchr(spec, ':'))) {
			snprintf(err, errlen, "'%s': expected ADDR:PORT or :PORT", spec);
			return -EINVAL;
		}
		hl = colon - spec;
	}
	if (hl >= sizeof(host) || parse_u64(colon + 1, 0, 65535, &port)) {
		snprintf(err, errlen, "'%s': the port must be a number from 0 to 65535", spec);
		return -EINVAL;
	}
	memcpy(host, hs, hl);
	host[hl] = '\0';
	if (!strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");

	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	if (!host[0] || inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(port);
		if (!host[0])
			v4->sin_addr.s_addr = htonl(INADDR_ANY);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(port);
		return 0;
	}
	snprintf(err, errlen, "'%s': '%s' is not an IPv4 or IPv6 address", spec, host);
	return -EINVAL;
}
