/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "dp_reasm.h"

/* Room for any IPv4 or IPv6 datagram with its L2 header. */
#define BUF_LEN		 (65535 + 64)
#define FRAGS_PER_BUCKET 4

struct dp_reasm {
	struct rte_ip_frag_tbl *tbl;
	struct rte_ip_frag_death_row dr;
	struct dp_reasm_counters ctr;
	uint8_t buf[BUF_LEN];
};

struct dp_reasm *
dp_reasm_create(unsigned worker, uint32_t max, uint64_t timeout_ns, int socket)
{
	struct dp_reasm *r =
			rte_zmalloc_socket("dp_reasm", sizeof(*r), RTE_CACHE_LINE_SIZE, socket);
	uint32_t buckets = (max + FRAGS_PER_BUCKET - 1) / FRAGS_PER_BUCKET;

	(void)worker;
	if (r == NULL)
		return NULL;
	/* The table's clock is ours: "cycles" are dataplane nanoseconds. */
	r->tbl = rte_ip_frag_table_create(buckets, FRAGS_PER_BUCKET, max, timeout_ns, socket);
	if (r->tbl == NULL) {
		rte_free(r);
		return NULL;
	}
	return r;
}

void
dp_reasm_free(struct dp_reasm *r)
{
	if (r == NULL)
		return;
	rte_ip_frag_free_death_row(&r->dr, 0);
	rte_ip_frag_table_destroy(r->tbl);
	rte_free(r);
}

const uint8_t *
dp_reasm_feed(struct dp_reasm *r, struct rte_mbuf *m, const struct dp_pkt *p, uint64_t now,
		uint32_t *len)
{
	/* A copy, not a clone: reassembly rewrites the first fragment's header in place, and the
	 * original is on its way out unchanged. */
	struct rte_mbuf *c = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX), *whole;
	uint8_t *l3;

	if (c == NULL) {
		r->ctr.clone_failures++;
		return NULL;
	}
	r->ctr.fragments++;
	c->l2_len = p->l3_off;
	l3 = rte_pktmbuf_mtod_offset(c, uint8_t *, p->l3_off);
	if (p->l3 == DP_L3_IPV4) {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)l3;

		c->l3_len = rte_ipv4_hdr_len(ip);
		whole = rte_ipv4_frag_reassemble_packet(r->tbl, &r->dr, c, now, ip);
	} else {
		struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)l3;
		struct rte_ipv6_fragment_ext *fh = rte_ipv6_frag_get_ipv6_fragment_header(ip6);

		if (fh == NULL) {
			/* Extension headers before the fragment header: not reassembled here. */
			rte_pktmbuf_free(c);
			return NULL;
		}
		c->l3_len = sizeof(*ip6) + sizeof(*fh);
		whole = rte_ipv6_frag_reassemble_packet(r->tbl, &r->dr, c, now, ip6, fh);
	}
	if (whole == NULL)
		return NULL;
	r->ctr.datagrams++;
	if (rte_pktmbuf_pkt_len(whole) > BUF_LEN) {
		r->ctr.too_big++;
		rte_pktmbuf_free(whole);
		return NULL;
	}
	*len = rte_pktmbuf_pkt_len(whole);
	const void *d = rte_pktmbuf_read(whole, 0, *len, r->buf);

	if (d != r->buf)
		memcpy(r->buf, d, *len);
	rte_pktmbuf_free(whole);
	return r->buf;
}

void
dp_reasm_tick(struct dp_reasm *r, uint64_t now)
{
	rte_ip_frag_table_del_expired_entries(r->tbl, &r->dr, now);
	if (r->dr.cnt > 0)
		rte_ip_frag_free_death_row(&r->dr, 0);
}

const struct dp_reasm_counters *
dp_reasm_counters(const struct dp_reasm *r)
{
	return &r->ctr;
}
