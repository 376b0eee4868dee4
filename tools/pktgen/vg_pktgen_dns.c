/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "vg_pktgen_dns.h"
#include "vg_rng.h"

/* Purpose of the key derived from the seed; changing it changes every file. */
#define KEY_DNS 0x646e73

#define LABELS_MAX    4	 /* labels before the top-level one */
#define LABEL_LEN_MAX 24 /* names up to 108 bytes: either side of VG_PKTGEN_DNS_LONG_NAME */
#define HDR_LEN	      12
#define TYPE_A	      1
#define CLASS_IN      1

static const char *const tlds[] = { "com", "net", "org", "io", "example", "test", "de",
	"internal" };
static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The question of one flow, with what its answer needs. */
struct query {
	uint8_t qname[1 + LABELS_MAX * (1 + LABEL_LEN_MAX) + 1 + 8 + 1]; /* wire form */
	size_t qname_len;
	size_t written; /* as text */
	uint16_t id;
	uint32_t ttl;
	uint8_t addr[4];
};

static inline uint32_t
pick(struct vg_xoshiro *r, uint64_t n)
{
	return (uint32_t)vg_xoshiro_below(r, n);
}

static void
query_get(const struct vg_pktgen_dns *d, const struct vg_pktgen_flow *f, struct query *q)
{
	struct vg_xoshiro r;
	unsigned n;
	uint8_t *p = q->qname;
	const char *tld;

	vg_xoshiro_seed(&r, vg_hash2(d->key, f->index, 0));
	q->id = (uint16_t)vg_xoshiro_next(&r);
	n = 1 + pick(&r, LABELS_MAX);
	q->written = 0;
	for (unsigned i = 0; i < n; i++) {
		unsigned len = 1 + pick(&r, LABEL_LEN_MAX);

		*p++ = (uint8_t)len;
		for (unsigned k = 0; k < len; k++)
			*p++ = (uint8_t)alnum[pick(&r, N(alnum) - 1)];
		q->written += len + 1;
	}
	tld = tlds[pick(&r, N(tlds))];
	*p++ = (uint8_t)strlen(tld);
	memcpy(p, tld, strlen(tld));
	p += strlen(tld);
	*p++ = 0;
	q->written += strlen(tld);
	q->qname_len = (size_t)(p - q->qname);
	q->ttl = 60 + pick(&r, 86400 - 60);
	q->addr[0] = pick(&r, 2) ? 198 : 203;
	q->addr[1] = q->addr[0] == 198 ? 51 : 0;
	q->addr[2] = q->addr[0] == 198 ? 100 : 113;
	q->addr[3] = (uint8_t)(1 + pick(&r, 254));
}

void
vg_pktgen_dns_init(struct vg_pktgen_dns *d, uint64_t seed)
{
	d->key = vg_hash2(vg_mix64(seed ^ 0x7067656e), KEY_DNS, 0);
}

size_t
vg_pktgen_dns_name_len(const struct vg_pktgen_dns *d, const struct vg_pktgen_flow *f)
{
	struct query q;

	query_get(d, f, &q);
	return q.written;
}

static inline uint8_t *
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

size_t
vg_pktgen_dns_message(const struct vg_pktgen_dns *d, const struct vg_pktgen_flow *f, unsigned dir,
		uint8_t *msg)
{
	uint8_t *p = msg;
	struct query q;

	query_get(d, f, &q);
	p = put16(p, q.id);
	p = put16(p, dir == 0 ? 0x0100 : 0x8180); /* RD; or QR, RD, RA, NOERROR */
	p = put16(p, 1);			  /* QDCOUNT */
	p = put16(p, dir == 0 ? 0 : 1);		  /* ANCOUNT */
	p = put16(p, 0);			  /* NSCOUNT */
	p = put16(p, 0);			  /* ARCOUNT */
	memcpy(p, q.qname, q.qname_len);
	p += q.qname_len;
	p = put16(p, TYPE_A);
	p = put16(p, CLASS_IN);
	if (dir == 0)
		return (size_t)(p - msg);
	p = put16(p, 0xc000 | HDR_LEN); /* the name: a pointer to the question's */
	p = put16(p, TYPE_A);
	p = put16(p, CLASS_IN);
	p = put16(p, (uint16_t)(q.ttl >> 16));
	p = put16(p, (uint16_t)q.ttl);
	p = put16(p, 4);
	memcpy(p, q.addr, 4);
	p += 4;
	return (size_t)(p - msg);
}
