/* A treap keyed by range start. Non-overlapping ranges keep their order
 * when an edge moves, so trims update nodes in place and only whole
 * removals and splits change the tree. */
#include <errno.h>
#include <stdlib.h>

#include "memleak_ranges.h"

struct node {
	struct mrange m;
	uint32_t prio;
	struct node *l, *r;
};

struct ranges {
	struct node *root;
	size_t count;
	uint64_t bytes;
	uint32_t seed;
};

static uint32_t next_prio(struct ranges *r)
{
	uint32_t x = r->seed;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return r->seed = x;
}

struct ranges *ranges__new(void)
{
	struct ranges *r = calloc(1, sizeof(*r));

	if (r)
		r->seed = 0x9e3779b9u;
	return r;
}

static void free_tree(struct node *n)
{
	while (n) {
		struct node *right = n->r;

		free_tree(n->l);
		free(n);
		n = right;
	}
}

void ranges__clear(struct ranges *r)
{
	free_tree(r->root);
	r->root = NULL;
	r->count = 0;
	r->bytes = 0;
}

void ranges__free(struct ranges *r)
{
	if (!r)
		return;
	ranges__clear(r);
	free(r);
}

/* Split t into keys < key (*lo) and keys >= key (*hi). */
static void split(struct node *t, uint64_t key, struct node **lo, struct node **hi)
{
	if (!t) {
		*lo = *hi = NULL;
	} else if (t->m.start < key) {
		split(t->r, key, &t->r, hi);
		*lo = t;
	} else {
		split(t->l, key, lo, &t->l);
		*hi = t;
	}
}

static struct node *merge(struct node *a, struct node *b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	if (a->prio > b->prio) {
		a->r = merge(a->r, b);
		return a;
	}
	b->l = merge(a, b->l);
	return b;
}

static struct node *insert_node(struct node *t, struct node *n)
{
	if (!t)
		return n;
	if (n->prio > t->prio) {
		split(t, n->m.start, &n->l, &n->r);
		return n;
	}
	if (n->m.start < t->m.start)
		t->l = insert_node(t->l, n);
	else
		t->r = insert_node(t->r, n);
	return t;
}

static struct node *erase(struct node *t, uint64_t key)
{
	if (!t)
		return NULL;
	if (t->m.start == key) {
		struct node *m = merge(t->l, t->r);

		free(t);
		return m;
	}
	if (key < t->m.start)
		t->l = erase(t->l, key);
	else
		t->r = erase(t->r, key);
	return t;
}

/* Largest start <= key. */
static struct node *floor_node(struct node *t, uint64_t key)
{
	struct node *best = NULL;

	while (t) {
		if (t->m.start <= key) {
			best = t;
			t = t->r;
		} else {
			t = t->l;
		}
	}
	return best;
}

/* Smallest start >= key. */
static struct node *ceil_node(struct node *t, uint64_t key)
{
	struct node *best = NULL;

	while (t) {
		if (t->m.start >= key) {
			best = t;
			t = t->l;
		} else {
			t = t->r;
		}
	}
	return best;
}

int ranges__insert(struct ranges *r, uint64_t start, uint64_t end, uint32_t owner, uint64_t ts)
{
	struct node *n;

	if (end <= start)
		return 0;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->m = (struct mrange){ .start = start, .end = end, .ts = ts, .owner = owner };
	n->prio = next_prio(r);
	r->root = insert_node(r->root, n);
	r->count++;
	r->bytes += end - start;
	return 0;
}

static void removed(struct ranges *r, const struct mrange *from, uint64_t lo, uint64_t hi,
		    mrange_cb cb, void *ctx)
{
	struct mrange piece = *from;

	piece.start = lo;
	piece.end = hi;
	r->bytes -= hi - lo;
	if (cb)
		cb(&piece, ctx);
}

uint64_t ranges__remove(struct ranges *r, uint64_t lo, uint64_t hi, mrange_cb cb, void *ctx)
{
	uint64_t before = r->bytes;
	struct node *n;

	if (hi <= lo)
		return 0;
	/* A range starting below lo that reaches into [lo, hi). */
	n = floor_node(r->root, lo);
	if (n && n->m.start < lo && n->m.end > lo) {
		uint64_t cut_end = n->m.end < hi ? n->m.end : hi;
		struct mrange orig = n->m;

		removed(r, &orig, lo, cut_end, cb, ctx);
		n->m.end = lo;
		if (orig.end > hi) {
			/* The hole is inside: the tail becomes its own range. */
			r->bytes -= orig.end - hi;      /* re-added by insert */
			ranges__insert(r, hi, orig.end, orig.owner, orig.ts);
		}
	}
	/* Ranges starting inside [lo, hi). */
	while ((n = ceil_node(r->root, lo)) && n->m.start < hi) {
		if (n->m.end <= hi) {
			removed(r, &n->m, n->m.start, n->m.end, cb, ctx);
			r->root = erase(r->root, n->m.start);
			r->count--;
		} else {
			removed(r, &n->m, n->m.start, hi, cb, ctx);
			n->m.start = hi;        /* order is kept: nothing else lies in [lo, hi) */
			break;
		}
	}
	return before - r->bytes;
}

static int walk(const struct node *n, int (*cb)(const struct mrange *, void *), void *ctx)
{
	int err;

	while (n) {
		if ((err = walk(n->l, cb, ctx)))
			return err;
		if ((err = cb(&n->m, ctx)))
			return err;
		n = n->r;
	}
	return 0;
}

int ranges__foreach(const struct ranges *r, int (*cb)(const struct mrange *m, void *ctx), void *ctx)
{
	return walk(r->root, cb, ctx);
}

const struct mrange *ranges__find(const struct ranges *r, uint64_t addr)
{
	const struct node *n = floor_node(r->root, addr);

	return n && addr < n->m.end ? &n->m : NULL;
}

int ranges__extend(struct ranges *r, uint64_t start, uint64_t end, uint32_t owner)
{
	struct node *n = start ? floor_node(r->root, start - 1) : NULL;

	if (!n || n->m.end != start || n->m.owner != owner)
		return -1;
	n->m.end = end;
	r->bytes += end - start;
	return 0;
}

size_t ranges__count(const struct ranges *r)
{
	return r->count;
}

uint64_t ranges__bytes(const struct ranges *r)
{
	return r->bytes;
}
