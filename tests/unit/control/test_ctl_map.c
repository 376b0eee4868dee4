/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control map: values zeroed on add and kept in place, a full map refusing with ENOSPC
 * (and accepting again after a delete), deletes, resets and walks that see every key once.
 */
#define VG_TEST_WITH_EAL
#include "vg_test.h"

#include "ctl_map.h"

struct key {
	uint32_t a;
	uint16_t b;
	uint16_t c;
};

struct val {
	uint64_t count;
	uint32_t seen;
};

static struct key
key_of(uint32_t i)
{
	struct key k = { .a = i * 2654435761u, .b = (uint16_t)i, .c = 7 };

	return k;
}

static void
test_create_args(void **state)
{
	struct ctl_map *m;

	(void)state;
	errno = 0;
	assert_null(ctl_map_create("x", 0, 8, 16));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(ctl_map_create("x", 8, 0, 16));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(ctl_map_create("x", 8, 8, 0));
	assert_int_equal(errno, EINVAL);
	/* The same name twice is fine: each hash gets its own. */
	m = ctl_map_create("same", 8, 8, 16);
	struct ctl_map *m2 = ctl_map_create("same", 8, 8, 16);
	assert_non_null(m);
	assert_non_null(m2);
	assert_int_equal(ctl_map_capacity(m), 16);
	ctl_map_free(m);
	ctl_map_free(m2);
	ctl_map_free(NULL);
}

static void
test_get_find_del(void **state)
{
	struct ctl_map *m = ctl_map_create("gfd", sizeof(struct key), sizeof(struct val), 64);
	struct key k1 = key_of(1), k2 = key_of(2);
	struct val *v;
	bool added;

	(void)state;
	assert_non_null(m);
	assert_int_equal(ctl_map_count(m), 0);
	assert_null(ctl_map_find(m, &k1));

	v = ctl_map_get(m, &k1, &added);
	assert_non_null(v);
	assert_true(added);
	assert_int_equal(v->count, 0);
	assert_int_equal(v->seen, 0);
	v->count = 41;
	v->seen = 3;
	/* The same key again: the same value, not added, not zeroed. */
	struct val *again = ctl_map_get(m, &k1, &added);
	assert_ptr_equal(again, v);
	assert_false(added);
	again->count++;
	assert_int_equal(((struct val *)ctl_map_find(m, &k1))->count, 42);
	/* added may be NULL. */
	struct val *v2 = ctl_map_get(m, &k2, NULL);
	assert_non_null(v2);
	assert_ptr_not_equal(v2, v);
	assert_int_equal(v2->count, 0);
	assert_int_equal(ctl_map_count(m), 2);
	/* A key differing in one byte is another key. */
	struct key k1b = k1;
	k1b.c = 8;
	assert_null(ctl_map_find(m, &k1b));

	assert_int_equal(ctl_map_del(m, &k1), 0);
	assert_int_equal(ctl_map_del(m, &k1), -ENOENT);
	assert_null(ctl_map_find(m, &k1));
	assert_int_equal(ctl_map_count(m), 1);
	assert_int_equal(((struct val *)ctl_map_find(m, &k2))->count, 0);
	/* Back after a delete: zeroed again, whatever slot it gets. */
	v = ctl_map_get(m, &k1, &added);
	assert_true(added);
	assert_int_equal(v->count, 0);
	assert_int_equal(v->seen, 0);
	ctl_map_free(m);
}

static void
test_full(void **state)
{
	const uint32_t cap = 100;
	struct ctl_map *m = ctl_map_create("full", sizeof(struct key), sizeof(struct val), cap);
	struct key k;
	struct val *v;
	bool added;

	(void)state;
	assert_non_null(m);
	/* Every one of capacity keys fits, each with its own value. */
	for (uint32_t i = 0; i < cap; i++) {
		k = key_of(i);
		v = ctl_map_get(m, &k, &added);
		assert_non_null(v);
		assert_true(added);
		v->count = i + 1000;
	}
	assert_int_equal(ctl_map_count(m), cap);
	/* One more is refused with ENOSPC and leaves the map as it was. */
	for (uint32_t i = cap; i < cap + 20; i++) {
		k = key_of(i);
		errno = 0;
		added = true;
		assert_null(ctl_map_get(m, &k, &added));
		assert_false(added);
		assert_int_equal(errno, ENOSPC);
		assert_null(ctl_map_find(m, &k));
	}
	assert_int_equal(ctl_map_count(m), cap);
	/* Present keys are still found when full. */
	for (uint32_t i = 0; i < cap; i++) {
		k = key_of(i);
		v = ctl_map_get(m, &k, &added);
		assert_non_null(v);
		assert_false(added);
		assert_int_equal(v->count, i + 1000);
	}
	/* A delete makes room for exactly one. */
	k = key_of(17);
	assert_int_equal(ctl_map_del(m, &k), 0);
	k = key_of(cap);
	v = ctl_map_get(m, &k, &added);
	assert_non_null(v);
	assert_true(added);
	assert_int_equal(v->count, 0);
	k = key_of(cap + 1);
	assert_null(ctl_map_get(m, &k, NULL));
	/* The others kept their values. */
	for (uint32_t i = 0; i < cap; i++) {
		k = key_of(i);
		v = ctl_map_find(m, &k);
		if (i == 17) {
			assert_null(v);
		} else {
			assert_non_null(v);
			assert_int_equal(v->count, i + 1000);
		}
	}
	ctl_map_free(m);
}

static void
test_walk_reset(void **state)
{
	const uint32_t n = 50;
	struct ctl_map *m = ctl_map_create("walk", sizeof(struct key), sizeof(struct val), 64);
	const void *kp;
	void *vp;
	uint32_t iter = 0, walked = 0;
	uint8_t seen[50] = { 0 };

	(void)state;
	assert_non_null(m);
	for (uint32_t i = 0; i < n; i++) {
		struct key k = key_of(i);
		struct val *v = ctl_map_get(m, &k, NULL);

		assert_non_null(v);
		v->seen = i;
	}
	/* Each key once, with its own value. */
	while (ctl_map_next(m, &iter, &kp, &vp)) {
		const struct key *k = kp;
		const struct val *v = vp;

		assert_true(v->seen < n);
		struct key want = key_of(v->seen);

		assert_memory_equal(k, &want, sizeof(want));
		assert_int_equal(seen[v->seen], 0);
		seen[v->seen] = 1;
		walked++;
	}
	assert_int_equal(walked, n);
	/* key and val may be NULL. */
	iter = 0;
	walked = 0;
	while (ctl_map_next(m, &iter, NULL, NULL))
		walked++;
	assert_int_equal(walked, n);

	/* Collect, then delete: every odd key goes. */
	for (uint32_t i = 1; i < n; i += 2) {
		struct key k = key_of(i);

		assert_int_equal(ctl_map_del(m, &k), 0);
	}
	assert_int_equal(ctl_map_count(m), n / 2);
	iter = 0;
	walked = 0;
	while (ctl_map_next(m, &iter, NULL, &vp)) {
		assert_int_equal(((struct val *)vp)->seen % 2, 0);
		walked++;
	}
	assert_int_equal(walked, n / 2);

	ctl_map_reset(m);
	assert_int_equal(ctl_map_count(m), 0);
	iter = 0;
	assert_false(ctl_map_next(m, &iter, &kp, &vp));
	struct key k0 = key_of(0);
	assert_null(ctl_map_find(m, &k0));
	/* Usable to its capacity after a reset, values zeroed. */
	for (uint32_t i = 0; i < 64; i++) {
		struct key k = key_of(1000 + i);
		struct val *v = ctl_map_get(m, &k, NULL);

		assert_non_null(v);
		assert_int_equal(v->seen, 0);
		assert_int_equal(v->count, 0);
	}
	assert_int_equal(ctl_map_count(m), 64);
	ctl_map_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_args),
		cmocka_unit_test(test_get_find_del),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_walk_reset),
	};

	if (vg_test_eal_init() != 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
