/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Replay a capture through the application layer, for parser tests built from real traffic:
 * the capture is read with libpcap (Ethernet, VLAN, BSD loopback, raw IP and Linux cooked
 * framings), flows are keyed by 5-tuple with the first packet's sender as initiator (a SYN-ACK's
 * receiver when the capture starts with one), TCP payload goes to al_feed in sequence order per
 * direction (later copies of bytes already fed are skipped; segments ahead of a hole wait in a
 * small queue; a hole that never fills is reported with al_gap at the end), UDP datagrams go as
 * they are. FIN and RST close their direction, and every flow is closed at the end.
 *
 * Header-only: include it in one test file.
 */
#ifndef AL_PCAP_H
#define AL_PCAP_H

#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "al.h"

#define ALP_MAX_FLOWS	256
#define ALP_MAX_PENDING 64
#define ALP_MAX_SEG	65536

struct alp_seg {
	uint32_t seq;
	uint32_t len;
	uint8_t *data;
};

struct alp_dir {
	bool seq_known;
	bool closed;
	uint32_t next;
	struct alp_seg pending[ALP_MAX_PENDING];
	unsigned n_pending;
};

struct alp_flow {
	uint8_t proto, family;
	uint8_t a[16], b[16]; /* a: initiator */
	uint16_t ap, bp;
	struct al_flow *al;
	struct alp_dir d[2];
};

struct alp_replay {
	struct al_ctx *ctx;
	al_tx_cb cb;
	void *arg;
	struct alp_flow flows[ALP_MAX_FLOWS];
	unsigned n_flows;
	unsigned packets;
};

struct alp_pkt {
	uint8_t family, proto;
	const uint8_t *src, *dst;
	uint16_t sport, dport;
	uint8_t tcp_flags;
	uint32_t seq;
	const uint8_t *payload;
	uint32_t len;
};

static inline bool
alp_decode(int linktype, const uint8_t *d, uint32_t len, struct alp_pkt *p)
{
	uint32_t off = 0;
	uint16_t et;

	memset(p, 0, sizeof(*p));
	if (linktype == DLT_EN10MB) {
		if (len < 14)
			return false;
		et = (uint16_t)(d[12] << 8 | d[13]);
		off = 14;
		while ((et == 0x8100 || et == 0x88a8) && len >= off + 4) {
			et = (uint16_t)(d[off + 2] << 8 | d[off + 3]);
			off += 4;
		}
	} else if (linktype == DLT_LINUX_SLL) {
		if (len < 16)
			return false;
		et = (uint16_t)(d[14] << 8 | d[15]);
		off = 16;
	} else if (linktype == DLT_NULL || linktype == DLT_LOOP) {
		/* BSD loopback: the address family, host order for NULL, network for LOOP */
		if (len < 4)
			return false;
		uint32_t af = linktype == DLT_NULL ? (uint32_t)(d[0] | d[1] << 8 | d[2] << 16 |
								     d[3] << 24)
						   : (uint32_t)(d[0] << 24 | d[1] << 16 |
								     d[2] << 8 | d[3]);
		if (af > 0xffff) /* written on a big-endian host */
			af = (af >> 24) | ((af >> 8) & 0xff00);
		et = af == 2 ? 0x0800 : (af == 24 || af == 28 || af == 30) ? 0x86dd : 0;
		off = 4;
	} else if (linktype == DLT_RAW || linktype == 12 /* DLT_RAW on some systems */) {
		if (len < 1)
			return false;
		et = (d[0] >> 4) == 6 ? 0x86dd : 0x0800;
	} else {
		return false;
	}
	uint32_t l4, l4len;
	if (et == 0x0800) {
		if (len < off + 20)
			return false;
		uint32_t ihl = (uint32_t)(d[off] & 0xf) * 4;
		uint32_t tot = (uint32_t)(d[off + 2] << 8 | d[off + 3]);
		if (ihl < 20 || tot < ihl || len < off + tot)
			tot = len - off;
		if ((d[off + 6] & 0x3f) != 0 || d[off + 7] != 0)
			return false; /* fragments: not reassembled here */
		p->family = 4;
		p->proto = d[off + 9];
		p->src = d + off + 12;
		p->dst = d + off + 16;
		l4 = off + ihl;
		l4len = tot > ihl ? tot - ihl : 0;
	} else if (et == 0x86dd) {
		if (len < off + 40)
			return false;
		uint32_t plen = (uint32_t)(d[off + 4] << 8 | d[off + 5]);
		p->family = 6;
		p->proto = d[off + 6];
		p->src = d + off + 8;
		p->dst = d + off + 24;
		l4 = off + 40;
		l4len = plen;
		if (len < l4 + l4len)
			l4len = len > l4 ? len - l4 : 0;
	} else {
		return false;
	}
	if (p->proto == IPPROTO_TCP) {
		if (l4len < 20)
			return false;
		uint32_t doff = (uint32_t)(d[l4 + 12] >> 4) * 4;
		if (doff < 20 || doff > l4len)
			return false;
		p->sport = (uint16_t)(d[l4] << 8 | d[l4 + 1]);
		p->dport = (uint16_t)(d[l4 + 2] << 8 | d[l4 + 3]);
		p->seq = (uint32_t)d[l4 + 4] << 24 | (uint32_t)d[l4 + 5] << 16 |
			 (uint32_t)d[l4 + 6] << 8 | d[l4 + 7];
		p->tcp_flags = d[l4 + 13];
		p->payload = d + l4 + doff;
		p->len = l4len - doff;
		return true;
	}
	if (p->proto == IPPROTO_UDP) {
		if (l4len < 8)
			return false;
		p->sport = (uint16_t)(d[l4] << 8 | d[l4 + 1]);
		p->dport = (uint16_t)(d[l4 + 2] << 8 | d[l4 + 3]);
		p->payload = d + l4 + 8;
		p->len = l4len - 8;
		return true;
	}
	return false;
}

static inline struct alp_flow *
alp_flow(struct alp_replay *r, const struct alp_pkt *p, unsigned *dir)
{
	unsigned alen = p->family == 4 ? 4 : 16;

	for (unsigned i = 0; i < r->n_flows; i++) {
		struct alp_flow *f = &r->flows[i];

		if (f->proto != p->proto || f->family != p->family)
			continue;
		if (!memcmp(f->a, p->src, alen) && !memcmp(f->b, p->dst, alen) &&
				f->ap == p->sport && f->bp == p->dport) {
			*dir = AL_TO_SERVER;
			return f;
		}
		if (!memcmp(f->a, p->dst, alen) && !memcmp(f->b, p->src, alen) &&
				f->ap == p->dport && f->bp == p->sport) {
			*dir = AL_TO_CLIENT;
			return f;
		}
	}
	if (r->n_flows == ALP_MAX_FLOWS)
		return NULL;
	struct alp_flow *f = &r->flows[r->n_flows++];
	/* A capture that starts with the SYN-ACK: its receiver is the client. */
	bool swap = p->proto == IPPROTO_TCP && (p->tcp_flags & 0x12) == 0x12;

	memset(f, 0, sizeof(*f));
	f->proto = p->proto;
	f->family = p->family;
	memcpy(f->a, swap ? p->dst : p->src, alen);
	memcpy(f->b, swap ? p->src : p->dst, alen);
	f->ap = swap ? p->dport : p->sport;
	f->bp = swap ? p->sport : p->dport;
	f->al = al_flow_new(r->ctx, p->proto == IPPROTO_TCP, f->ap, f->bp);
	*dir = swap ? AL_TO_CLIENT : AL_TO_SERVER;
	return f;
}

static inline bool
alp_seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

/* Feed what is in order at d->next: data itself, then any pending segment it reaches. */
static inline void
alp_tcp_data(struct alp_replay *r, struct alp_flow *f, unsigned dir, uint32_t seq,
		const uint8_t *data, uint32_t len)
{
	struct alp_dir *d = &f->d[dir];

	if (alp_seq_lt(seq, d->next)) {
		uint32_t skip = d->next - seq;

		if (skip >= len)
			return;
		data += skip;
		len -= skip;
		seq = d->next;
	}
	if (seq != d->next) {
		if (d->n_pending < ALP_MAX_PENDING && len <= ALP_MAX_SEG) {
			struct alp_seg *s = &d->pending[d->n_pending++];

			s->seq = seq;
			s->len = len;
			s->data = malloc(len);
			memcpy(s->data, data, len);
		}
		return;
	}
	if (f->al != NULL)
		al_feed(r->ctx, f->al, dir, data, len, r->cb, r->arg);
	d->next = seq + len;
	/* Pending segments the stream now reaches: their new bytes, in order. */
	for (bool again = true; again;) {
		again = false;
		for (unsigned i = 0; i < d->n_pending; i++) {
			struct alp_seg s = d->pending[i];

			if (alp_seq_lt(d->next, s.seq))
				continue;
			d->pending[i] = d->pending[--d->n_pending];
			if (alp_seq_lt(d->next, s.seq + s.len)) {
				uint32_t skip = d->next - s.seq;

				if (f->al != NULL)
					al_feed(r->ctx, f->al, dir, s.data + skip, s.len - skip,
							r->cb, r->arg);
				d->next = s.seq + s.len;
			}
			free(s.data);
			again = true;
			break;
		}
	}
}

static inline void
alp_packet(struct alp_replay *r, const struct alp_pkt *p)
{
	unsigned dir;
	struct alp_flow *f = alp_flow(r, p, &dir);

	r->packets++;
	if (f == NULL)
		return;
	if (p->proto == IPPROTO_UDP) {
		if (f->al != NULL)
			al_feed(r->ctx, f->al, dir, p->payload, p->len, r->cb, r->arg);
		return;
	}
	struct alp_dir *d = &f->d[dir];
	uint32_t seq = p->seq;

	if (p->tcp_flags & 0x02) {
		seq++; /* the SYN's number; its data (fast open) follows */
		if (!d->seq_known) {
			d->next = seq;
			d->seq_known = true;
		}
	}
	if (!d->seq_known) {
		d->next = seq;
		d->seq_known = true;
	}
	if (p->len > 0)
		alp_tcp_data(r, f, dir, seq, p->payload, p->len);
	/* FIN or RST; behind a hole it waits for alp_finish, which reports the hole first */
	if ((p->tcp_flags & 0x05) && !d->closed && d->n_pending == 0) {
		d->closed = true;
		if (f->al != NULL)
			al_close(r->ctx, f->al, dir, r->cb, r->arg);
		if (p->tcp_flags & 0x04) {
			struct alp_dir *o = &f->d[dir ^ 1];

			if (!o->closed && f->al != NULL)
				al_close(r->ctx, f->al, dir ^ 1, r->cb, r->arg);
			o->closed = true;
		}
	}
}

/* Close every flow (holes still open become gaps, the rest is fed) and free them. */
static inline void
alp_finish(struct alp_replay *r)
{
	for (unsigned i = 0; i < r->n_flows; i++) {
		struct alp_flow *f = &r->flows[i];

		for (unsigned dir = 0; dir < 2; dir++) {
			struct alp_dir *d = &f->d[dir];

			while (d->n_pending > 0) {
				unsigned best = 0;

				for (unsigned k = 1; k < d->n_pending; k++)
					if (alp_seq_lt(d->pending[k].seq, d->pending[best].seq))
						best = k;
				struct alp_seg s = d->pending[best];

				d->pending[best] = d->pending[--d->n_pending];
				if (alp_seq_lt(d->next, s.seq)) {
					if (f->al != NULL)
						al_gap(r->ctx, f->al, dir, s.seq - d->next);
					d->next = s.seq;
				}
				alp_tcp_data(r, f, dir, s.seq, s.data, s.len);
				free(s.data);
			}
			if (!d->closed && f->al != NULL)
				al_close(r->ctx, f->al, dir, r->cb, r->arg);
			d->closed = true;
		}
		al_flow_free(r->ctx, f->al);
		f->al = NULL;
	}
	r->n_flows = 0;
}

/*
 * Replay path through ctx, reporting transactions to cb. Returns the packets read, or -1 when
 * the file cannot be opened (errbuf says why).
 */
static inline int
alp_replay_file(struct al_ctx *ctx, const char *path, al_tx_cb cb, void *arg)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, errbuf);
	struct alp_replay *r;
	struct pcap_pkthdr *h;
	const u_char *data;
	int linktype, rc, n;

	if (pc == NULL) {
		fprintf(stderr, "%s: %s\n", path, errbuf);
		return -1;
	}
	r = calloc(1, sizeof(*r));
	r->ctx = ctx;
	r->cb = cb;
	r->arg = arg;
	linktype = pcap_datalink(pc);
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
		struct alp_pkt p;

		if (alp_decode(linktype, data, h->caplen, &p))
			alp_packet(r, &p);
	}
	alp_finish(r);
	n = (int)r->packets;
	free(r);
	pcap_close(pc);
	return n;
}

#endif /* AL_PCAP_H */
