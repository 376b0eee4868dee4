/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers for parser tests: replay a suricata-verify capture (skipping with a message when
 * the test data is absent), optionally with every TCP payload fed in pieces of a few bytes,
 * and with ports rewritten (a case on a port protocol detection does not know). Include once,
 * in place of al_pcap.h. Header-only.
 */
#ifndef AL_TEST_FEED_H
#define AL_TEST_FEED_H

#include <stdio.h>

#include "al.h"
#include "al_tx_dump.h"

/* 0: feed payloads as they come; n: TCP payloads in pieces of n bytes. */
static unsigned atf_split;
/* The packet being replayed is TCP (al_pcap.h feeds UDP datagrams whole). */
static bool atf_cur_tcp;

/* al_feed, as al_pcap.h calls it below: UDP datagrams whole, TCP bytes in atf_split pieces. */
static inline int
atf_feed(struct al_ctx *c, struct al_flow *f, unsigned dir, const uint8_t *d, uint32_t len,
		al_tx_cb cb, void *arg, bool tcp)
{
	int rc = 0;

	if (atf_split == 0 || !tcp)
		return al_feed(c, f, dir, d, len, cb, arg);
	for (uint32_t off = 0; off < len; off += atf_split) {
		uint32_t n = len - off < atf_split ? len - off : atf_split;

		rc = al_feed(c, f, dir, d + off, n, cb, arg);
	}
	return rc;
}

/* al_pcap.h's replay feeds through atf_feed. */
#define al_feed(c, f, dir, d, len, cb, arg) \
	atf_feed((c), (f), (dir), (d), (len), (cb), (arg), atf_cur_tcp)
#include "al_pcap.h"
#undef al_feed

/* Ports rewritten before replay: from -> to (0: none). */
static uint16_t atf_port_from, atf_port_to;

/* The path of a case under the test data, or NULL (and a message) when it is absent. */
static inline const char *
atf_path(const char *rel, char *buf, size_t n)
{
	FILE *f;

	snprintf(buf, n, "%s/%s", VIGIL_TESTDATA, rel);
	f = fopen(buf, "rb");
	if (f == NULL) {
		printf("skipped: %s is absent\n", buf);
		return NULL;
	}
	fclose(f);
	return buf;
}

/*
 * Replay rel (relative to the test data) into a fresh context with default limits, logging
 * every stage into l. Returns false (skipped) when the capture is absent. *ctx gets the
 * context when not NULL (the caller frees it), else it is freed here after checking that no
 * arena memory is left.
 */
static inline bool
atf_replay(const char *rel, struct txd_log *l, struct al_ctx **ctx)
{
	char buf[1024];
	const char *path = atf_path(rel, buf, sizeof(buf));
	char errbuf[PCAP_ERRBUF_SIZE];
	struct al_ctx *c;
	struct alp_replay *r;
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *pc;

	if (path == NULL)
		return false;
	c = al_ctx_create(NULL);
	pc = pcap_open_offline(path, errbuf);
	if (c == NULL || pc == NULL)
		abort();
	r = calloc(1, sizeof(*r));
	r->ctx = c;
	r->cb = txd_cb;
	r->arg = l;
	int linktype = pcap_datalink(pc);

	while (pcap_next_ex(pc, &h, &data) == 1) {
		struct alp_pkt p;

		if (!alp_decode(linktype, data, h->caplen, &p))
			continue;
		if (atf_port_from != 0 && p.sport == atf_port_from)
			p.sport = atf_port_to;
		if (atf_port_from != 0 && p.dport == atf_port_from)
			p.dport = atf_port_to;
		atf_cur_tcp = p.proto == IPPROTO_TCP;
		alp_packet(r, &p);
	}
	atf_cur_tcp = true; /* only TCP data waits for alp_finish */
	alp_finish(r);
	free(r);
	pcap_close(pc);
	if (ctx != NULL) {
		*ctx = c;
	} else {
		if (al_ctx_mem_used(c) != 0) {
			fprintf(stderr, "%s: %zu arena bytes left\n", rel, al_ctx_mem_used(c));
			abort();
		}
		al_ctx_free(c);
	}
	return true;
}

/* Replay rel whole and in pieces of 1 and 7 bytes: the logs must be the same. */
static inline bool
atf_replay_splits_agree(const char *rel)
{
	struct txd_log whole = { 0 }, piece = { 0 };
	bool same = true;

	if (!atf_replay(rel, &whole, NULL))
		return true;
	for (unsigned s = 1; s <= 7 && same; s += 6) {
		atf_split = s;
		atf_replay(rel, &piece, NULL);
		atf_split = 0;
		same = piece.len == whole.len && memcmp(piece.s, whole.s, whole.len) == 0;
		if (!same)
			fprintf(stderr, "%s split %u differs:\n--- whole\n%s--- split\n%s", rel, s,
					whole.s, piece.s);
		txd_free(&piece);
	}
	txd_free(&whole);
	return same;
}

#endif /* AL_TEST_FEED_H */
