/* --web.config.file: TLS and basic authentication for the exporter's HTTP
 * side, in the YAML format Prometheus' own exporters read, so one file
 * serves a fleet's node_exporter and memscope alike:
 *
 *   tls_server_config:
 *     cert_file: server.crt      # relative to the file's directory
 *     key_file: server.key
 *   basic_auth_users:
 *     prometheus: $2y$10$...     # bcrypt, as htpasswd -nB writes it
 *
 * Settings this exporter does not implement (client certificates, TLS
 * versions, http_server_config) are refused, never ignored: a file that
 * asks for mutual TLS must not silently serve without it. */
#ifndef MEMSCOPE_EXPORTER_WEBCONFIG_H
#define MEMSCOPE_EXPORTER_WEBCONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct web_user {
	char *name;
	char *hash;     /* crypt(3) hash: bcrypt ($2b$, $2y$) or any libxcrypt knows */
};

struct web_config {
	char *cert_pem; /* NULL: plain HTTP */
	char *key_pem;
	struct web_user *users;
	size_t nusers;  /* 0: no authentication */
};

/* Read and check path. 0, or -1 with one line in err. */
int web_config_load(const char *path, struct web_config *wc, char *err, size_t errlen);
/* Whether user and password match an entry (crypt(3), compared in
 * constant time). */
bool web_config_check(const struct web_config *wc, const char *user, const char *password);
void web_config_free(struct web_config *wc);

#endif
