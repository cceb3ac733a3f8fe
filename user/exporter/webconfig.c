// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <crypt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "output.h"
#include "procfs.h"
#include "webconfig.h"

/* A key file or certificate bigger than this is not one. */
#define PEM_MAX (1 << 20)

struct loader {
	yaml_document_t doc;
	char dir[4096];         /* relative file names are taken from here */
	char *err;
	size_t errlen;
};

static int fail(struct loader *l, const char *fmt, const char *what)
{
	char *w = term_escape(what ? what : "");

	snprintf(l->err, l->errlen, fmt, w);
	free(w);
	return -1;
}

static const char *scalar(struct loader *l, int id)
{
	yaml_node_t *n = yaml_document_get_node(&l->doc, id);

	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *mapping(struct loader *l, int id)
{
	yaml_node_t *n = yaml_document_get_node(&l->doc, id);

	return n && n->type == YAML_MAPPING_NODE ? n : NULL;
}

static int read_pem(struct loader *l, const char *key, const char *name, char **out)
{
	char path[8192];

	if (!name || !*name)
		return fail(l, "tls_server_config: %s must name a file", key);
	snprintf(path, sizeof(path), "%s%s%s", name[0] == '/' ? "" : l->dir, name[0] == '/' ? "" : "/", name);
	free(*out);
	*out = NULL;
	if (read_file_max(path, out, PEM_MAX) <= 0)
		return fail(l, "tls_server_config: cannot read %s", path);
	return 0;
}

static int load_tls(struct loader *l, yaml_node_t *m, struct web_config *wc)
{
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		const char *k = scalar(l, p->key), *v = scalar(l, p->value);
		int r;

		if (k && !strcmp(k, "cert_file"))
			r = read_pem(l, k, v, &wc->cert_pem);
		else if (k && !strcmp(k, "key_file"))
			r = read_pem(l, k, v, &wc->key_pem);
		else
			r = fail(l, "tls_server_config: '%s' is not supported (cert_file and key_file are)", k);
		if (r)
			return r;
	}
	if (!wc->cert_pem || !wc->key_pem)
		return fail(l, "tls_server_config needs both cert_file and key_file%s", "");
	return 0;
}

static int load_users(struct loader *l, yaml_node_t *m, struct web_config *wc)
{
	size_t n = (size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start);

	wc->users = calloc(n ? n : 1, sizeof(*wc->users));
	if (!wc->users)
		abort();
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		const char *k = scalar(l, p->key), *v = scalar(l, p->value);

		/* crypt(3) hashes start with '$': a plain password is refused. */
		if (!k || !*k || !v || v[0] != '$')
			return fail(l, "basic_auth_users: '%s' needs a bcrypt hash (htpasswd -nBC 10 USER)", k);
		wc->users[wc->nusers].name = strdup(k);
		wc->users[wc->nusers].hash = strdup(v);
		wc->nusers++;
	}
	return 0;
}

static int load_root(struct loader *l, struct web_config *wc)
{
	yaml_node_t *root = yaml_document_get_root_node(&l->doc);

	if (!root)
		return 0; /* an empty file: plain HTTP, no users */
	if (root->type != YAML_MAPPING_NODE)
		return fail(l, "not a mapping of settings%s", "");
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		const char *k = scalar(l, p->key);
		yaml_node_t *v = mapping(l, p->value);
		int r;

		if (k && !strcmp(k, "tls_server_config") && v)
			r = load_tls(l, v, wc);
		else if (k && !strcmp(k, "basic_auth_users") && v)
			r = load_users(l, v, wc);
		else
			r = fail(l, "'%s' is not supported (tls_server_config and basic_auth_users are, each a mapping)", k);
		if (r)
			return r;
	}
	return 0;
}

int web_config_load(const char *path, struct web_config *wc, char *err, size_t errlen)
{
	struct loader l = { .err = err, .errlen = errlen };
	yaml_parser_t parser;
	char *copy = strdup(path);
	FILE *f = fopen(path, "re");
	int r = -1;

	memset(wc, 0, sizeof(*wc));
	snprintf(l.dir, sizeof(l.dir), "%s", dirname(copy));
	free(copy);
	if (!f) {
		fail(&l, "cannot read %s", path);
		return -1;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &l.doc)) {
		snprintf(err, errlen, "%s: YAML error at line %zu: %s", path, parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "?");
	} else {
		r = load_root(&l, wc);
		yaml_document_delete(&l.doc);
	}
	yaml_parser_delete(&parser);
	fclose(f);
	if (r)
		web_config_free(wc);
	return r;
}

/* Equal strings in a time that depends on their length only. */
static bool same(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;

	for (size_t i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return !d;
}

bool web_config_check(const struct web_config *wc, const char *user, const char *password)
{
	struct crypt_data *cd;
	bool ok = false;

	if (!user || !password)
		return false;
	for (size_t i = 0; i < wc->nusers && !ok; i++) {
		if (strcmp(wc->users[i].name, user))
			continue;
		if (!(cd = calloc(1, sizeof(*cd))))
			abort();
		const char *h = crypt_r(password, wc->users[i].hash, cd);
		ok = h && h[0] == '$' && same(h, wc->users[i].hash);
		free(cd);
	}
	return ok;
}

void web_config_free(struct web_config *wc)
{
	free(wc->cert_pem);
	free(wc->key_pem);
	for (size_t i = 0; i < wc->nusers; i++) {
		free(wc->users[i].name);
		free(wc->users[i].hash);
	}
	free(wc->users);
	memset(wc, 0, sizeof(*wc));
}
