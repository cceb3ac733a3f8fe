// Unit tests of memleak-trace's interval map (memleak_ranges.c): the
// cases munmap, MAP_FIXED and mremap make, then a long random run of
// inserts, removals and extensions checked page by page against a plain
// array that says which mapping owns each page.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "memleak_ranges.h"

#define PG 4096u

struct pieces {
	struct mrange v[64];
	int n;
};

static void keep_piece(const struct mrange *m, void *ctx)
{
	struct pieces *p = ctx;

	assert_true(p->n < 64);
	p->v[p->n++] = *m;
}

static void assert_range(const struct mrange *m, uint64_t start, uint64_t end, uint32_t owner)
{
	assert_non_null(m);
	assert_int_equal(m->start, start);
	assert_int_equal(m->end, end);
	assert_int_equal(m->owner, owner);
}

static void test_partial_unmap_splits_and_trims(void **state)
{
	struct ranges *r = ranges__new();
	struct pieces p = { .n = 0 };
	(void)state;

	assert_int_equal(ranges__insert(r, 10 * PG, 20 * PG, 7, 111), 0);
	/* A hole in the middle: two ranges, both still owner 7 and ts 111. */
	assert_int_equal(ranges__remove(r, 12 * PG, 15 * PG, keep_piece, &p), 3 * PG);
	assert_int_equal(p.n, 1);
	assert_range(&p.v[0], 12 * PG, 15 * PG, 7);
	assert_int_equal(p.v[0].ts, 111);
	assert_int_equal(ranges__count(r), 2);
	assert_int_equal(ranges__bytes(r), 7 * PG);
	assert_range(ranges__find(r, 10 * PG), 10 * PG, 12 * PG, 7);
	assert_null(ranges__find(r, 12 * PG));
	assert_null(ranges__find(r, 15 * PG - 1));
	assert_range(ranges__find(r, 15 * PG), 15 * PG, 20 * PG, 7);
	assert_int_equal(ranges__find(r, 19 * PG)->ts, 111);
	assert_null(ranges__find(r, 20 * PG));     /* the end is not in it */
	/* The head and the tail trimmed. */
	assert_int_equal(ranges__remove(r, 9 * PG, 11 * PG, NULL, NULL), PG);
	assert_int_equal(ranges__remove(r, 19 * PG, 30 * PG, NULL, NULL), PG);
	assert_range(ranges__find(r, 11 * PG), 11 * PG, 12 * PG, 7);
	assert_range(ranges__find(r, 18 * PG), 15 * PG, 19 * PG, 7);
	assert_int_equal(ranges__bytes(r), 5 * PG);
	ranges__free(r);
}

static void test_unmap_across_mappings_reports_each_owner(void **state)
{
	struct ranges *r = ranges__new();
	struct pieces p = { .n = 0 };
	(void)state;

	assert_int_equal(ranges__insert(r, 0, 4 * PG, 1, 10), 0);
	assert_int_equal(ranges__insert(r, 4 * PG, 6 * PG, 2, 20), 0);  /* adjacent */
	assert_int_equal(ranges__insert(r, 8 * PG, 12 * PG, 3, 30), 0);
	assert_int_equal(ranges__count(r), 3);
	/* One munmap over the tail of 1, all of 2, a gap, the head of 3. */
	assert_int_equal(ranges__remove(r, 3 * PG, 9 * PG, keep_piece, &p), 4 * PG);
	assert_int_equal(p.n, 3);
	assert_range(&p.v[0], 3 * PG, 4 * PG, 1);
	assert_int_equal(p.v[0].ts, 10);
	assert_range(&p.v[1], 4 * PG, 6 * PG, 2);
	assert_int_equal(p.v[1].ts, 20);
	assert_range(&p.v[2], 8 * PG, 9 * PG, 3);
	assert_int_equal(p.v[2].ts, 30);
	assert_int_equal(ranges__count(r), 2);
	assert_int_equal(ranges__bytes(r), 6 * PG);
	/* Removing what is not there removes nothing. */
	assert_int_equal(ranges__remove(r, 5 * PG, 8 * PG, keep_piece, &p), 0);
	assert_int_equal(p.n, 3);
	ranges__clear(r);
	assert_int_equal(ranges__count(r), 0);
	assert_int_equal(ranges__bytes(r), 0);
	assert_null(ranges__find(r, 0));
	ranges__free(r);
}

static void test_extend_only_the_owner_that_ends_there(void **state)
{
	struct ranges *r = ranges__new();
	(void)state;

	assert_int_equal(ranges__insert(r, 10 * PG, 11 * PG, 5, 1), 0);
	assert_int_equal(ranges__extend(r, 11 * PG, 12 * PG, 6), -1); /* another owner */
	assert_int_equal(ranges__extend(r, 12 * PG, 13 * PG, 5), -1); /* not adjacent */
	assert_int_equal(ranges__extend(r, 0, PG, 5), -1);            /* nothing below 0 */
	assert_int_equal(ranges__extend(r, 11 * PG, 12 * PG, 5), 0);
	assert_int_equal(ranges__extend(r, 12 * PG, 14 * PG, 5), 0);
	assert_range(ranges__find(r, 13 * PG), 10 * PG, 14 * PG, 5);
	assert_int_equal(ranges__count(r), 1);
	assert_int_equal(ranges__bytes(r), 4 * PG);
	ranges__free(r);
}

/* The model: for each page of a small address space, the mapping (an id
 * per insert) that holds it, its owner and ts. A range of the map is a
 * run of pages with one id. */
#define NPAGES 512
#define NONE 0

struct model {
	uint32_t id[NPAGES], owner[NPAGES];
	uint64_t ts[NPAGES];
	uint32_t next_id;
};

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

struct removal {
	const struct model *m;
	uint64_t bytes;
};

/* Each removed piece is wholly one mapping of the model, as it was. */
static void check_piece(const struct mrange *piece, void *ctx)
{
	struct removal *rm = ctx;
	uint32_t first = piece->start / PG;

	assert_true(piece->start < piece->end);
	for (uint64_t a = piece->start; a < piece->end; a += PG) {
		uint32_t pg = a / PG;

		assert_int_equal(rm->m->id[pg], rm->m->id[first]);
		assert_int_not_equal(rm->m->id[pg], NONE);
		assert_int_equal(rm->m->owner[pg], piece->owner);
		assert_int_equal(rm->m->ts[pg], piece->ts);
	}
	rm->bytes += piece->end - piece->start;
}

static void model_clear(struct model *m, uint32_t lo, uint32_t hi)
{
	for (uint32_t pg = lo; pg < hi; pg++)
		m->id[pg] = NONE;
}

/* A split leaves the pages past the hole a mapping of their own. */
static void model_remove(struct model *m, uint32_t lo, uint32_t hi)
{
	if (lo > 0 && hi < NPAGES && m->id[lo - 1] != NONE && m->id[lo - 1] == m->id[hi]) {
		uint32_t old = m->id[hi], id = ++m->next_id;

		for (uint32_t pg = hi; pg < NPAGES && m->id[pg] == old; pg++)
			m->id[pg] = id;
	}
	model_clear(m, lo, hi);
}

struct walk_state {
	const struct model *m;
	uint64_t last_end;
	size_t n;
};

static int check_walk(const struct mrange *r, void *ctx)
{
	struct walk_state *w = ctx;
	uint32_t lo = r->start / PG, hi = r->end / PG;

	assert_true(r->start >= w->last_end);        /* sorted, no overlap */
	assert_true(hi <= NPAGES && lo < hi);
	assert_true(lo == 0 || w->m->id[lo - 1] != w->m->id[lo]);
	assert_true(hi == NPAGES || w->m->id[hi] != w->m->id[lo]);
	for (uint32_t pg = lo; pg < hi; pg++) {
		assert_int_equal(w->m->id[pg], w->m->id[lo]);
		assert_int_equal(w->m->owner[pg], r->owner);
		assert_int_equal(w->m->ts[pg], r->ts);
	}
	w->last_end = r->end;
	w->n++;
	return 0;
}

static void check_against_model(const struct ranges *r, const struct model *m)
{
	struct walk_state w = { m, 0, 0 };
	size_t runs = 0;
	uint64_t bytes = 0;

	for (uint32_t pg = 0; pg < NPAGES; pg++) {
		const struct mrange *f = ranges__find(r, (uint64_t)pg * PG + PG / 2);

		if (m->id[pg] == NONE) {
			assert_null(f);
			continue;
		}
		assert_non_null(f);
		assert_int_equal(f->owner, m->owner[pg]);
		bytes += PG;
		runs += pg == 0 || m->id[pg - 1] != m->id[pg];
	}
	assert_int_equal(ranges__foreach(r, check_walk, &w), 0);
	assert_int_equal(w.n, runs);
	assert_int_equal(ranges__count(r), runs);
	assert_int_equal(ranges__bytes(r), bytes);
}

/* The bytes removed are the pieces' bytes, each piece as the model had it. */
static void unmap_checked(struct ranges *r, struct model *m, uint32_t lo, uint32_t hi)
{
	struct removal rm = { m, 0 };
	uint64_t removed = ranges__remove(r, (uint64_t)lo * PG, (uint64_t)hi * PG, check_piece, &rm);
	uint64_t held = 0;

	for (uint32_t pg = lo; pg < hi; pg++)
		held += m->id[pg] != NONE ? PG : 0;
	assert_int_equal(removed, rm.bytes);
	assert_int_equal(removed, held);
	model_remove(m, lo, hi);
}

static void random_step(struct ranges *r, struct model *m, uint32_t *seed, uint64_t step)
{
	uint32_t lo = rnd(seed) % NPAGES, len = 1 + rnd(seed) % 24, op = rnd(seed) % 8;
	uint32_t hi = lo + len > NPAGES ? NPAGES : lo + len;

	if (op < 3) {                  /* mmap, MAP_FIXED over what is there */
		uint32_t owner = 1 + rnd(seed) % 5, id = ++m->next_id;

		unmap_checked(r, m, lo, hi);
		assert_int_equal(ranges__insert(r, (uint64_t)lo * PG, (uint64_t)hi * PG, owner, step), 0);
		for (uint32_t pg = lo; pg < hi; pg++) {
			m->id[pg] = id;
			m->owner[pg] = owner;
			m->ts[pg] = step;
		}
	} else if (op < 6) {           /* munmap */
		unmap_checked(r, m, lo, hi);
	} else if (m->id[lo] == NONE) { /* a fault on a free page: extends a run */
		uint32_t owner = 1 + rnd(seed) % 5;
		int fits = lo > 0 && m->id[lo - 1] != NONE && m->owner[lo - 1] == owner;

		assert_int_equal(ranges__extend(r, (uint64_t)lo * PG, (uint64_t)(lo + 1) * PG, owner),
				 fits ? 0 : -1);
		if (fits) {
			m->id[lo] = m->id[lo - 1];
			m->owner[lo] = owner;
			m->ts[lo] = m->ts[lo - 1];
		}
	}
}

static void test_random_operations_match_the_page_model(void **state)
{
	struct ranges *r = ranges__new();
	static struct model m;
	uint32_t seed = 0x1234567u;
	(void)state;

	memset(&m, 0, sizeof(m));
	for (uint64_t step = 1; step <= 200000; step++) {
		random_step(r, &m, &seed, step);
		if (step % 97 == 0)
			check_against_model(r, &m);
	}
	check_against_model(r, &m);
	ranges__free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_partial_unmap_splits_and_trims),
		cmocka_unit_test(test_unmap_across_mappings_reports_each_owner),
		cmocka_unit_test(test_extend_only_the_owner_that_ends_there),
		cmocka_unit_test(test_random_operations_match_the_page_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
