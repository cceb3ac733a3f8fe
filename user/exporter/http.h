/* memscope-exporter's HTTP side (libmicrohttpd, a few internal threads):
 * GET / is a short HTML page, GET /metrics the exposition the render
 * callback returns; anything else 404, other methods 405; 401 without
 * the user and password a web config asks for. */
#ifndef MEMSCOPE_EXPORTER_HTTP_H
#define MEMSCOPE_EXPORTER_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "webconfig.h"

/* Returns the body (malloc'd, handed to the server) and its length;
 * called on the server's thread. */
typedef char *(*http_render_fn)(void *ctx, size_t *len);

struct http_server;
/* Listen on addr, with TLS and basic authentication when wc (may be NULL;
 * must outlive the server) asks for them; NULL with a reason in err when
 * the address cannot be bound (in use, no permission). */
struct http_server *http_start(const struct sockaddr *addr, const struct web_config *wc,
			       http_render_fn render, void *ctx, char *err, size_t errlen);
uint16_t http_port(const struct http_server *s);
void http_stop(struct http_server *s);

/* "ADDR:PORT", ":PORT" (every address), "[IPv6]:PORT", "localhost:PORT".
 * 0, or -EINVAL with a reason in err. */
int http_parse_listen(const char *spec, struct sockaddr_storage *ss, char *err, size_t errlen);

#endif
