/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "vg_pktgen_flow.h"
#include "vg_rng.h"

/* Purposes of the keys derived from the seed; changing them changes every file. */
enum {
	KEY_FLOW = 1,
	KEY_FAMILY,
	KEY_PROTO,
	KEY_SELECT,
	KEY_CLIENT,
};

void
vg_pktgen_perm_init(struct vg_pktgen_perm *p, uint64_t n, uint64_t key)
{
	unsigned bits = 0;

	while (bits < 64 && (1ull << bits) < n)
		bits++;
	/* Small domains get a few bits more so the rounds mix something; cycle walking cuts the
	 * result back to [0, n). */
	if (bits < 4)
		bits = 4;
	p->n = n;
	p->bits = bits;
	for (int r = 0; r < 4; r++)
		p->keys[r] = vg_hash2(key, 0x5045524d, (uint64_t)r);
}

/*
 * Unbalanced Feistel network on bits = a + c bits: each round maps (L: a bits, R: c bits) to
 * (R, L ^ F(R)), which swaps the widths; after an even number of rounds they are back. Every
 * round is invertible, so the whole is a bijection of [0, 2^bits).
 */
static uint64_t
feistel(const struct vg_pktgen_perm *p, uint64_t x)
{
	unsigned wl = p->bits / 2, wr = p->bits - wl;
	uint64_t l = x >> wr, r = x & ((1ull << wr) - 1);

	for (int k = 0; k < 4; k++) {
		uint64_t f = vg_hash2(p->keys[k], r, 0) & ((1ull << wl) - 1);
		uint64_t nl = r, nr = l ^ f;
		unsigned t = wl;

		wl = wr;
		wr = t;
		l = nl;
		r = nr;
	}
	return (l << wr) | r;
}

uint64_t
vg_pktgen_perm_apply(const struct vg_pktgen_perm *p, uint64_t x)
{
	/* Cycle walking: following the cycle of x until it re-enters [0, n) keeps a bijection. */
	do
		x = feistel(p, x);
	while (x >= p->n);
	return x;
}

void
vg_pktgen_plan_init(struct vg_pktgen_plan *p, const struct vg_pktgen_opts *o)
{
	uint64_t wsum = 0, rem[VG_PKTGEN_NPROTO];
	uint32_t assigned = 0;
	uint64_t seedkey = vg_mix64(o->seed ^ 0x7067656e);

	memset(p, 0, sizeof(*p));
	p->flows = o->flows;
	p->key = vg_hash2(seedkey, KEY_FLOW, 0);
	switch (o->family) {
	case VG_PKTGEN_V4:
		p->n_v6 = 0;
		break;
	case VG_PKTGEN_V6:
		p->n_v6 = o->flows;
		break;
	case VG_PKTGEN_MIXED:
		p->n_v6 = vg_pktgen_share_count(o->v6_share, o->flows);
		break;
	}
	p->n_match = vg_pktgen_share_count(o->match_share, o->flows);
	p->n_deny = vg_pktgen_share_count(o->deny_share, o->flows);

	/* Largest remainder: counts sum to flows and follow the weights as closely as possible. */
	for (int k = 0; k < VG_PKTGEN_NPROTO; k++)
		wsum += o->mix[k];
	for (int k = 0; k < VG_PKTGEN_NPROTO; k++) {
		uint64_t num = (uint64_t)o->flows * o->mix[k];

		p->n_proto[k] = (uint32_t)(num / wsum);
		rem[k] = num % wsum;
		assigned += p->n_proto[k];
	}
	while (assigned < o->flows) {
		int best = 0;

		for (int k = 1; k < VG_PKTGEN_NPROTO; k++)
			if (rem[k] > rem[best])
				best = k;
		p->n_proto[best]++;
		rem[best] = 0;
		assigned++;
	}

	vg_pktgen_perm_init(&p->family, o->flows, vg_hash2(seedkey, KEY_FAMILY, 0));
	vg_pktgen_perm_init(&p->proto, o->flows, vg_hash2(seedkey, KEY_PROTO, 0));
	vg_pktgen_perm_init(&p->select, o->flows, vg_hash2(seedkey, KEY_SELECT, 0));
	/* Client addresses: a bijection of [0, 2^24 - 1), walked past 0 below, so hosts are
	 * 10.0.0.1 to 10.255.255.254 and no two flows share one. */
	vg_pktgen_perm_init(&p->client, (1u << 24) - 1, vg_hash2(seedkey, KEY_CLIENT, 0));
	memcpy(p->ports, o->ports, sizeof(p->ports));
	p->n_ports = o->n_ports;
	p->deny_dport = o->deny_dport;
	p->n_patterns = (uint32_t)o->n_patterns;
}

static void
put_v4(uint8_t *a, uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3)
{
	a[0] = b0;
	a[1] = b1;
	a[2] = b2;
	a[3] = b3;
}

void
vg_pktgen_flow_get(const struct vg_pktgen_plan *p, uint32_t i, struct vg_pktgen_flow *f)
{
	uint64_t h1 = vg_hash2(p->key, i, 1);
	uint64_t h2 = vg_hash2(p->key, i, 2);
	uint64_t h3 = vg_hash2(p->key, i, 3);
	uint64_t h4 = vg_hash2(p->key, i, 4);
	uint64_t h5 = vg_hash2(p->key, i, 5);
	uint64_t sel = vg_pktgen_perm_apply(&p->select, i);
	uint64_t q = vg_pktgen_perm_apply(&p->proto, i);
	uint64_t c = vg_pktgen_perm_apply(&p->client, (uint64_t)i + 1);
	uint8_t sx = (uint8_t)h1, sy = (uint8_t)(1 + vg_below(h1, 254));

	while (c == 0)
		c = vg_pktgen_perm_apply(&p->client, c);

	memset(f, 0, sizeof(*f));
	f->index = i;
	f->v6 = vg_pktgen_perm_apply(&p->family, i) < p->n_v6;
	f->match = sel < p->n_match;
	f->deny = !f->match && sel < (uint64_t)p->n_match + p->n_deny;
	f->pattern = f->match && p->n_patterns > 0 ? (uint32_t)(sel % p->n_patterns) : 0;
	if (q < p->n_proto[VG_PKTGEN_TCP])
		f->proto = VG_PKTGEN_TCP;
	else if (q < (uint64_t)p->n_proto[VG_PKTGEN_TCP] + p->n_proto[VG_PKTGEN_UDP])
		f->proto = VG_PKTGEN_UDP;
	else
		f->proto = VG_PKTGEN_ICMP;
	if (f->deny && f->proto == VG_PKTGEN_ICMP)
		f->proto = VG_PKTGEN_TCP; /* a denied flow needs a port */

	if (f->v6) {
		f->caddr[0] = 0xfd;
		f->saddr[0] = 0xfd;
		f->saddr[1] = 0x01;
		put_v4(f->caddr + 12, 10, (uint8_t)(c >> 16), (uint8_t)(c >> 8), (uint8_t)c);
		put_v4(f->saddr + 12, 192, 168, sx, sy);
	} else {
		put_v4(f->caddr, 10, (uint8_t)(c >> 16), (uint8_t)(c >> 8), (uint8_t)c);
		put_v4(f->saddr, 192, 168, sx, sy);
	}

	if (f->proto == VG_PKTGEN_ICMP) {
		f->cport = (uint16_t)(h2 >> 48);
		f->sport = 0;
	} else {
		f->cport = (uint16_t)(1024 + vg_below(h2, 65536 - 1024));
		/* Replies to a client must not look like traffic to the denied port. */
		if (p->n_deny > 0 && f->cport == p->deny_dport)
			f->cport = f->cport == 65535 ? 1024 : f->cport + 1;
		f->sport = f->deny ? p->deny_dport : p->ports[vg_below(h3, p->n_ports)];
	}
	f->isn[0] = (uint32_t)h4;
	f->isn[1] = (uint32_t)(h4 >> 32);
	f->fill[0] = (uint32_t)h5;
	f->fill[1] = (uint32_t)(h5 >> 32);
	f->ipid[0] = (uint16_t)h2;
	f->ipid[1] = (uint16_t)h3;
	f->flow_label = (uint32_t)(h2 >> 16) & 0xfffff;
	f->offset_hash = vg_hash2(p->key, i, 6);
}
