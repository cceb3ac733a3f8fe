/* Groups of symbolized stacks (see stackgroup.h): a hash table keyed by
 * the tag and the frames' text. */
#include <stdlib.h>
#include <string.h>

#include "stackgroup.h"

struct sg_entry {
	uint64_t hash;
	char *key;              /* see join() */
	size_t len;
	uint32_t id;
};

struct stack_groups {
	struct sg_entry *v;     /* key NULL: empty */
	uint32_t size, count;
};

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

/* tag, then each frame as its length and its bytes: unambiguous
 * whatever the frames hold. */
static char *join(uint32_t tag, const char *const *frames, int n, size_t *len)
{
	size_t l = sizeof(tag);
	char *k, *p;

	for (int i = 0; i < n; i++)
		l += sizeof(uint32_t) + strlen(frames[i] ? frames[i] : "");
	k = malloc(l);
	if (!k)
		abort();
	memcpy(k, &tag, sizeof(tag));
	p = k + sizeof(tag);
	for (int i = 0; i < n; i++) {
		uint32_t fl = (uint32_t)strlen(frames[i] ? frames[i] : "");

		memcpy(p, &fl, sizeof(fl));
		memcpy(p + sizeof(fl), frames[i] ? frames[i] : "", fl);
		p += sizeof(fl) + fl;
	}
	*len = l;
	return k;
}

static void grow(struct stack_groups *g)
{
	uint32_t size = g->size ? g->size * 2 : 64;
	struct sg_entry *v = calloc(size, sizeof(*v));

	if (!v)
		abort();
	for (uint32_t i = 0; i < g->size; i++) {
		uint32_t h;

		if (!g->v[i].key)
			continue;
		for (h = g->v[i].hash & (size - 1); v[h].key; h = (h + 1) & (size - 1))
			;
		v[h] = g->v[i];
	}
	free(g->v);
	g->v = v;
	g->size = size;
}

struct stack_groups *stack_groups__new(void)
{
	return calloc(1, sizeof(struct stack_groups));
}

uint32_t stack_groups__id(struct stack_groups *g, uint32_t tag, const char *const *frames, int n)
{
	size_t len;
	char *key = join(tag, frames, n, &len);
	uint64_t hash = fnv1a(key, len);
	uint32_t h;

	if ((g->count + 1) * 2 > g->size)
		grow(g);
	for (h = hash & (g->size - 1); g->v[h].key; h = (h + 1) & (g->size - 1)) {
		if (g->v[h].hash == hash && g->v[h].len == len && !memcmp(g->v[h].key, key, len)) {
			free(key);
			return g->v[h].id;
		}
	}
	g->v[h] = (struct sg_entry){ .hash = hash, .key = key, .len = len, .id = g->count };
	return g->count++;
}

uint32_t stack_groups__count(const struct stack_groups *g)
{
	return g ? g->count : 0;
}

void stack_groups__free(struct stack_groups *g)
{
	if (!g)
		return;
	for (uint32_t i = 0; i < g->size; i++)
		free(g->v[i].key);
	free(g->v);
	free(g);
}
