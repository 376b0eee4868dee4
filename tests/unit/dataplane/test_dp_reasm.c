/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reassembly for inspection: IPv4 and IPv6 datagrams cut into fragments (built as bytes here)
 * and given in order, out of order, with an overlap, and past the timeout; the reassembled
 * datagram compared byte for byte with the one that was cut, the caller's mbufs untouched and
 * every mbuf back in the pool at the end.
 */
#define VG_TEST_WITH_EAL
#include "vg_test.h"

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dp_parse.h"
#include "dp_reasm.h"
#include "pkt_build.h"

#define MS	(1000000ULL)
#define TIMEOUT (2000 * MS)
#define T0	(1000 * MS)
#define POOL_N	255

static struct rte_mempool *pool;

/* The datagram: a UDP header and n payload bytes, i * 7 + 3 each. */
#define DGRAM_MAX 8192
static uint8_t dgram[DGRAM_MAX];
static uint32_t dgram_len;

static void
make_dgram(uint32_t n)
{
	dgram[0] = 0x13;
	dgram[1] = 0x88; /* 5000 */
	dgram[2] = 0;
	dgram[3] = 53;
	dgram[4] = (uint8_t)((n + 8) >> 8);
	dgram[5] = (uint8_t)(n + 8);
	dgram[6] = dgram[7] = 0;
	for (uint32_t i = 0; i < n; i++)
		dgram[8 + i] = (uint8_t)(i * 7 + 3);
	dgram_len = n + 8;
}

struct frag {
	struct pb b;
	struct dp_pkt p;
	struct rte_mbuf *m;
};

/* The fragment of dgram at [off, off + len) (off a multiple of 8) for IP version v. */
static void
cut(struct frag *f, int v, uint32_t id, uint32_t off, uint32_t len)
{
	const int more = off + len < dgram_len;
	struct pb *b = &f->b;
	char *d;

	pb_init(b);
	if (v == 4) {
		pb_eth(b, 0x0800);
		pb_ipv4(b, 17, NULL, 0);
		pb_bytes(b, dgram + off, len);
		pb_finish(b);
		pb_set16(b, b->l3 + 4, (uint16_t)id);
		pb_ipv4_frag(b, off, 0, more);
		pb_ipv4_cksum(b);
	} else {
		pb_eth(b, 0x86dd);
		pb_ipv6(b, 44);
		pb_frag6(b, 17, off, more, id);
		pb_bytes(b, dgram + off, len);
		pb_finish(b);
	}
	assert_int_equal(dp_parse(b->b, b->len, &f->p, NULL), 0);
	assert_int_not_equal(f->p.frag, DP_FRAG_NONE);
	f->m = rte_pktmbuf_alloc(pool);
	assert_non_null(f->m);
	d = rte_pktmbuf_append(f->m, (uint16_t)b->len);
	assert_non_null(d);
	memcpy(d, b->b, b->len);
}

/* Feed f; the caller's mbuf is left as it was. */
static const uint8_t *
feed(struct dp_reasm *r, struct frag *f, uint64_t now, uint32_t *len)
{
	const uint8_t *out = dp_reasm_feed(r, f->m, &f->p, now, len);

	assert_int_equal(rte_pktmbuf_pkt_len(f->m), f->b.len);
	assert_memory_equal(rte_pktmbuf_mtod(f->m, const uint8_t *), f->b.b, f->b.len);
	return out;
}

static void
free_frags(struct frag *f, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		rte_pktmbuf_free(f[i].m);
}

/* out is the whole datagram of version v: one packet, unfragmented, dgram as its payload. */
static void
check_whole(const uint8_t *out, uint32_t len, int v)
{
	const uint32_t l3 = 14, iplen = v == 4 ? 20 : 40;
	struct dp_parse_policy pol = dp_parse_policy_default();
	struct dp_pkt p;

	assert_non_null(out);
	assert_int_equal(len, l3 + iplen + dgram_len);
	/* Reassembly leaves the IPv4 header checksum to whoever sends the datagram (0 here): the
	 * worker parses it without checking it, as here. */
	pol.ipv4_cksum = false;
	assert_int_equal(dp_parse(out, len, &p, &pol), 0);
	assert_int_equal(p.frag, DP_FRAG_NONE);
	assert_int_equal(p.proto, 17);
	assert_int_equal(p.sport, 5000);
	assert_int_equal(p.dport, 53);
	assert_int_equal(p.payload_len, dgram_len - 8);
	assert_memory_equal(out + l3 + iplen, dgram, dgram_len);
}

static void
check_pool_full(void)
{
	assert_int_equal(rte_mempool_avail_count(pool), POOL_N);
}

static void
run_order(struct dp_reasm *r, int v, uint32_t id, const unsigned *order, unsigned n,
		const uint32_t *offs, uint64_t now)
{
	struct frag f[8];
	const uint8_t *out = NULL;
	uint32_t len = 0;

	for (unsigned i = 0; i < n; i++)
		cut(&f[i], v, id, offs[i], offs[i + 1] - offs[i]);
	for (unsigned i = 0; i < n; i++) {
		out = feed(r, &f[order[i]], now + i, &len);
		if (i + 1 < n)
			assert_null(out);
	}
	check_whole(out, len, v);
	free_frags(f, n);
}

static void
test_orders(void **state)
{
	struct dp_reasm *r = dp_reasm_create(0, 64, TIMEOUT, 0);
	const uint32_t offs[] = { 0, 1480, 2960, 3008 };
	const unsigned in_order[] = { 0, 1, 2 }, reversed[] = { 2, 1, 0 }, mixed[] = { 1, 2, 0 };
	const struct dp_reasm_counters *c;

	(void)state;
	assert_non_null(r);
	c = dp_reasm_counters(r);
	make_dgram(3000);
	for (int v = 4; v <= 6; v += 2) {
		run_order(r, v, 1, in_order, 3, offs, T0);
		run_order(r, v, 2, reversed, 3, offs, T0);
		run_order(r, v, 3, mixed, 3, offs, T0);
	}
	assert_int_equal(c->fragments, 18);
	assert_int_equal(c->datagrams, 6);
	assert_int_equal(c->too_big + c->clone_failures, 0);

	/* Two datagrams interleaved, same addresses, other ids: each whole. */
	struct frag a[2], b[2];
	const uint8_t *out;
	uint32_t len;

	make_dgram(1000);
	cut(&a[0], 4, 10, 0, 512);
	cut(&a[1], 4, 10, 512, dgram_len - 512);
	cut(&b[0], 4, 11, 0, 512);
	cut(&b[1], 4, 11, 512, dgram_len - 512);
	assert_null(feed(r, &a[1], T0, &len));
	assert_null(feed(r, &b[0], T0, &len));
	out = feed(r, &a[0], T0, &len);
	check_whole(out, len, 4);
	out = feed(r, &b[1], T0, &len);
	check_whole(out, len, 4);
	free_frags(a, 2);
	free_frags(b, 2);
	dp_reasm_tick(r, T0);
	dp_reasm_free(r);
	check_pool_full();
}

static void
test_overlap_duplicate(void **state)
{
	struct dp_reasm *r = dp_reasm_create(1, 64, TIMEOUT, 0);
	struct frag f[4];
	uint32_t len;
	const uint8_t *out;

	(void)state;
	assert_non_null(r);
	make_dgram(3000);
	/* [0, 1480) [1472, 2960): overlapping by 8 bytes, then the rest. */
	cut(&f[0], 4, 20, 0, 1480);
	cut(&f[1], 4, 20, 1472, 1488);
	cut(&f[2], 4, 20, 2960, dgram_len - 2960);
	cut(&f[3], 4, 20, 1480, 1480);
	assert_null(feed(r, &f[0], T0, &len));
	assert_null(feed(r, &f[1], T0, &len));
	/* The overlap spoils the datagram: nothing comes out of what is left. */
	out = feed(r, &f[2], T0, &len);
	assert_null(out);
	out = feed(r, &f[3], T0, &len);
	assert_null(out);
	free_frags(f, 4);

	/* A second first fragment spoils its datagram too: the rest alone starts a new one. */
	cut(&f[0], 4, 21, 0, 1480);
	cut(&f[1], 4, 21, 0, 1480);
	cut(&f[2], 4, 21, 1480, dgram_len - 1480);
	assert_null(feed(r, &f[0], T0, &len));
	assert_null(feed(r, &f[1], T0, &len));
	assert_null(feed(r, &f[2], T0, &len));
	/* ... which the first fragment, sent again, completes. */
	out = feed(r, &f[0], T0, &len);
	check_whole(out, len, 4);
	free_frags(f, 3);
	dp_reasm_tick(r, T0 + 2 * TIMEOUT);
	dp_reasm_free(r);
	check_pool_full();
}

static void
test_timeout(void **state)
{
	struct dp_reasm *r = dp_reasm_create(2, 64, TIMEOUT, 0);
	const struct dp_reasm_counters *c;
	struct frag f[3];
	const uint8_t *out;
	uint32_t len;

	(void)state;
	assert_non_null(r);
	c = dp_reasm_counters(r);
	make_dgram(2000);
	/* Expired by the tick: the second half alone makes nothing. */
	cut(&f[0], 4, 30, 0, 1480);
	cut(&f[1], 4, 30, 1480, dgram_len - 1480);
	assert_null(feed(r, &f[0], T0, &len));
	dp_reasm_tick(r, T0 + TIMEOUT / 2);
	dp_reasm_tick(r, T0 + TIMEOUT + 1);
	assert_null(feed(r, &f[1], T0 + TIMEOUT + 2, &len));
	free_frags(f, 2);

	/* Expired on arrival of the next fragment (no tick in between). */
	cut(&f[0], 6, 31, 0, 1480);
	cut(&f[1], 6, 31, 1480, dgram_len - 1480);
	assert_null(feed(r, &f[0], T0, &len));
	assert_null(feed(r, &f[1], T0 + TIMEOUT + 1, &len));
	/* Just inside the timeout: whole. */
	cut(&f[2], 6, 31, 0, 1480);
	out = feed(r, &f[2], T0 + TIMEOUT + 1 + TIMEOUT - 1, &len);
	check_whole(out, len, 6);
	free_frags(f, 3);
	assert_int_equal(c->fragments, 5);
	assert_int_equal(c->datagrams, 1);
	dp_reasm_tick(r, T0 + 10 * TIMEOUT);
	dp_reasm_free(r);
	check_pool_full();
}

static void
test_full(void **state)
{
	/* 8 datagrams in progress at most: the ninth is not held. */
	struct dp_reasm *r = dp_reasm_create(3, 8, TIMEOUT, 0);
	struct frag f[20];
	uint32_t len;
	unsigned n = 0;

	(void)state;
	assert_non_null(r);
	make_dgram(2000);
	for (uint32_t id = 0; id < 16; id++) {
		cut(&f[n], 4, 100 + id, 0, 1480);
		assert_null(feed(r, &f[n++], T0, &len));
	}
	/* The first one was held: its rest completes it. */
	cut(&f[n], 4, 100, 1480, dgram_len - 1480);
	const uint8_t *out = feed(r, &f[n++], T0 + 1, &len);
	unsigned held = 1;

	check_whole(out, len, 4);
	/* Not all sixteen were held: at most 8 complete. */
	for (uint32_t id = 1; id < 16; id++) {
		struct frag g;

		cut(&g, 4, 100 + id, 1480, dgram_len - 1480);
		out = feed(r, &g, T0 + 2, &len);
		if (out != NULL) {
			check_whole(out, len, 4);
			held++;
		}
		rte_pktmbuf_free(g.m);
		dp_reasm_tick(r, T0 + 2);
	}
	/* Which of the others found room depends on the table's hash; never more than 8. */
	assert_true(held <= 8);
	free_frags(f, n);
	dp_reasm_tick(r, T0 + 10 * TIMEOUT);
	dp_reasm_free(r);
	check_pool_full();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_orders),
		cmocka_unit_test(test_overlap_duplicate),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_full),
	};

	if (vg_test_eal_init() != 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	pool = rte_pktmbuf_pool_create("reasm", POOL_N, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (pool == NULL) {
		fprintf(stderr, "mbuf pool\n");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
