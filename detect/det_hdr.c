/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "det_hdr.h"

/* ---- the keywords ---- */

struct hdr_kw {
	const char *name;
	uint8_t field;
	uint64_t max; /* the largest value the field holds */
};

static const struct hdr_kw hdr_kws[] = {
	{ "ttl", DET_H_TTL, 255 },
	{ "tos", DET_H_TOS, 255 },
	{ "id", DET_H_IP_ID, 65535 },
	{ "ip_proto", DET_H_IP_PROTO, 255 },
	{ "ipopts", DET_H_IPOPTS, 0 },
	{ "fragbits", DET_H_FRAGBITS, 0 },
	{ "fragoffset", DET_H_FRAGOFFSET, 8191 },
	{ "itype", DET_H_ITYPE, 255 },
	{ "icode", DET_H_ICODE, 255 },
	{ "icmp_id", DET_H_ICMP_ID, 65535 },
	{ "icmp_seq", DET_H_ICMP_SEQ, 65535 },
	{ "icmpv6.mtu", DET_H_ICMPV6_MTU, UINT32_MAX },
	{ "tcp.mss", DET_H_TCP_MSS, 65535 },
	{ "window", DET_H_WINDOW, 65535 },
	{ "seq", DET_H_SEQ, UINT32_MAX },
	{ "ack", DET_H_ACK, UINT32_MAX },
	{ "vlan.id", DET_H_VLAN_ID, 4095 },
	{ "vlan.layers", DET_H_VLAN_LAYERS, 255 },
	{ "stream_size", DET_H_STREAM_SIZE, UINT32_MAX },
	{ "sameip", DET_H_SAMEIP, 0 },
};

#define N_HDR_KWS (sizeof(hdr_kws) / sizeof(hdr_kws[0]))

unsigned
det_hdr_find(const char *name)
{
	for (size_t i = 0; i < N_HDR_KWS; i++)
		if (strcmp(hdr_kws[i].name, name) == 0)
			return hdr_kws[i].field;
	return 0;
}

static const struct hdr_kw *
kw_of(unsigned field)
{
	for (size_t i = 0; i < N_HDR_KWS; i++)
		if (hdr_kws[i].field == field)
			return &hdr_kws[i];
	return NULL;
}

/* IPv4 options by the names ipopts takes (Suricata's), with their option type. */
static const struct {
	const char *name;
	uint8_t type;
} ipopt_names[] = {
	{ "eol", 0 },	  /* end of list */
	{ "nop", 1 },	  /* no operation */
	{ "rr", 7 },	  /* record route */
	{ "ts", 68 },	  /* timestamp */
	{ "sec", 130 },	  /* security */
	{ "lsrr", 131 },  /* loose source route */
	{ "esec", 133 },  /* extended security */
	{ "satid", 136 }, /* stream identifier */
	{ "ssrr", 137 },  /* strict source route */
};

#define N_IPOPTS	 (sizeof(ipopt_names) / sizeof(ipopt_names[0]))
#define IPOPT_ANY_BITS	 ((uint16_t)((1u << N_IPOPTS) - 1))
#define IPOPT_OTHER_BITS ((uint16_t)(1u << N_IPOPTS)) /* an option not in the list */

/* ---- parsing ---- */

/* A whole number in decimal or 0x hex, at most max. */
static int
num(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	uint64_t v;

	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) ? 16 : 10);
	while (isspace((unsigned char)*end))
		end++;
	if (errno != 0 || *end != '\0' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int
det_cmp_parse(const char *v, uint64_t max, struct det_cmp *c)
{
	char tmp[64], *s, *sep;
	uint64_t a, b;

	if (strlen(v) >= sizeof(tmp))
		return -EINVAL;
	strcpy(tmp, v);
	s = det_strip(tmp);
	memset(c, 0, sizeof(*c));
	if ((sep = strstr(s, "<>")) != NULL || (sep = strchr(s, '-')) != NULL) {
		unsigned w = sep[0] == '<' ? 2 : 1;

		*sep = '\0';
		if (num(s, max, &a) != 0 || num(sep + w, max, &b) != 0 || b <= a + 1)
			return -EINVAL;
		c->op = DET_NOP_RANGE;
		c->lo = a;
		c->hi = b;
		return 0;
	}
	if (strncmp(s, "<=", 2) == 0) {
		c->op = DET_NOP_LE;
		s += 2;
	} else if (strncmp(s, ">=", 2) == 0) {
		c->op = DET_NOP_GE;
		s += 2;
	} else if (strncmp(s, "!=", 2) == 0) {
		c->op = DET_NOP_NE;
		s += 2;
	} else if (*s == '<') {
		c->op = DET_NOP_LT;
		s++;
	} else if (*s == '>') {
		c->op = DET_NOP_GT;
		s++;
	} else if (*s == '!') {
		c->op = DET_NOP_NE;
		s++;
	} else {
		c->op = DET_NOP_EQ;
		if (*s == '=')
			s++;
	}
	if (num(s, max, &a) != 0)
		return -EINVAL;
	/* nothing is below 0 or above the field's largest value */
	if ((c->op == DET_NOP_LT && a == 0) || (c->op == DET_NOP_GT && a == max))
		return -ERANGE;
	c->lo = a;
	return 0;
}

/* A value in optional double quotes (icmp_id:"5", as Suricata accepts). */
static const char *
unquote(char *s)
{
	size_t n;

	s = det_strip(s);
	n = strlen(s);
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s[n - 1] = '\0';
		s = det_strip(s + 1);
	}
	return s;
}

static int __attribute__((format(printf, 3, 4))) bad(char *msg, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

#define UINT_FORMS "N, !N, <N, >N, <=N, >=N, lo-hi or lo<>hi"

static int
parse_cmp_kw(const char *name, const char *v, uint64_t max, struct det_cmp *c, char *msg,
		size_t size)
{
	char tmp[64];
	int rc;

	if (strlen(v) >= sizeof(tmp))
		return bad(msg, size, "%s value '%s' is too long", name, v);
	strcpy(tmp, v);
	rc = det_cmp_parse(unquote(tmp), max, c);
	if (rc == -ERANGE)
		return bad(msg, size, "%s '%s' can never match (the field holds 0-%" PRIu64 ")",
				name, v, max);
	if (rc != 0)
		return bad(msg, size, "%s '%s' should be %s, with numbers 0-%" PRIu64, name, v,
				UINT_FORMS, max);
	return 0;
}

/* tos:[!]N with N decimal, 0xNN or xNN (Suricata's hex form). */
static int
parse_tos(const char *v, struct det_hdr *h, char *msg, size_t size)
{
	char tmp[32], *s;
	uint64_t x;
	bool neg = false;

	if (strlen(v) >= sizeof(tmp))
		return bad(msg, size, "tos value '%s' is too long", v);
	strcpy(tmp, v);
	s = det_strip(tmp);
	if (*s == '!') {
		neg = true;
		s = det_strip(s + 1);
	}
	if ((*s == 'x' || *s == 'X') && isxdigit((unsigned char)s[1])) {
		char *end;

		errno = 0;
		x = strtoull(s + 1, &end, 16);
		if (errno != 0 || *end != '\0' || x > 255)
			return bad(msg, size, "tos '%s' should be [!]N (0-255, or x00-xff)", v);
	} else if (num(s, 255, &x) != 0) {
		return bad(msg, size, "tos '%s' should be [!]N (0-255, or x00-xff)", v);
	}
	h->cmp.op = neg ? DET_NOP_NE : DET_NOP_EQ;
	h->cmp.lo = x;
	return 0;
}

/* ip_proto:[!<>]N or a protocol name. */
static int
parse_ip_proto(const char *v, struct det_hdr *h, char *msg, size_t size)
{
	static const struct {
		const char *name;
		uint8_t proto;
	} names[] = {
		{ "ip", 0 },
		{ "hopopt", 0 },
		{ "icmp", 1 },
		{ "igmp", 2 },
		{ "ipip", 4 },
		{ "ipencap", 4 },
		{ "tcp", 6 },
		{ "egp", 8 },
		{ "udp", 17 },
		{ "ipv6", 41 },
		{ "ipv6-route", 43 },
		{ "ipv6-frag", 44 },
		{ "rsvp", 46 },
		{ "gre", 47 },
		{ "esp", 50 },
		{ "ah", 51 },
		{ "ipv6-icmp", 58 },
		{ "icmpv6", 58 },
		{ "ipv6-nonxt", 59 },
		{ "ipv6-opts", 60 },
		{ "eigrp", 88 },
		{ "ospf", 89 },
		{ "pim", 103 },
		{ "vrrp", 112 },
		{ "l2tp", 115 },
		{ "sctp", 132 },
		{ "udplite", 136 },
	};
	char tmp[32], *s;
	uint64_t x;
	uint8_t op = DET_NOP_EQ;

	if (strlen(v) >= sizeof(tmp))
		return bad(msg, size, "ip_proto value '%s' is too long", v);
	strcpy(tmp, v);
	s = det_strip(tmp);
	if (*s == '!' || *s == '<' || *s == '>') {
		op = *s == '!' ? DET_NOP_NE : *s == '<' ? DET_NOP_LT : DET_NOP_GT;
		s = det_strip(s + 1);
	}
	if (num(s, 255, &x) != 0) {
		size_t i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strcasecmp(names[i].name, s) == 0)
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			return bad(msg, size,
					"ip_proto '%s' should be [!<>]N (0-255) or a protocol name "
					"(tcp, udp, icmp, ipv6-icmp, gre, esp, ah, sctp, ...)",
					v);
		x = names[i].proto;
	}
	if ((op == DET_NOP_LT && x == 0) || (op == DET_NOP_GT && x == 255))
		return bad(msg, size, "ip_proto '%s' can never match", v);
	h->cmp.op = op;
	h->cmp.lo = x;
	return 0;
}

/* ipopts:name, one option. */
static int
parse_ipopts(const char *v, struct det_hdr *h, char *msg, size_t size)
{
	char tmp[32], *s;

	if (strlen(v) >= sizeof(tmp))
		return bad(msg, size, "ipopts value '%s' is too long", v);
	strcpy(tmp, v);
	s = det_strip(tmp);
	if (strcmp(s, "any") == 0) {
		h->bits = IPOPT_ANY_BITS | IPOPT_OTHER_BITS;
		return 0;
	}
	for (size_t i = 0; i < N_IPOPTS; i++)
		if (strcmp(ipopt_names[i].name, s) == 0) {
			h->bits = (uint16_t)(1u << i);
			return 0;
		}
	return bad(msg, size,
			"ipopts '%s' is not an IPv4 option: rr, eol, nop, ts, sec, esec, lsrr, "
			"ssrr, satid or any",
			v);
}

/* fragbits:[+*!]<MDR>: M more fragments, D don't fragment, R reserved. */
static int
parse_fragbits(const char *v, struct det_hdr *h, char *msg, size_t size)
{
	uint8_t mode = DET_TF_EXACT;
	uint16_t bits = 0;

	for (const char *s = v; *s; s++) {
		switch (*s) {
		case ' ':
			continue;
		case '+':
			mode = DET_TF_ALL;
			continue;
		case '*':
			mode = DET_TF_ANY;
			continue;
		case '!':
			mode = DET_TF_NOT;
			continue;
		case 'M':
			bits |= 1;
			continue;
		case 'D':
			bits |= 2;
			continue;
		case 'R':
			bits |= 4;
			continue;
		default:
			return bad(msg, size,
					"fragbits '%s': '%c' is not a fragment bit (M, D, R, with "
					"modifiers + * !)",
					v, *s);
		}
	}
	if (bits == 0)
		return bad(msg, size, "fragbits '%s' names no bit (M, D, R)", v);
	h->mode = mode;
	h->bits = bits;
	return 0;
}

/* vlan.id:[op]id[,layer]: layer 0..2, -3..-1, any (default) or all. */
static int
parse_vlan_id(const char *v, struct det_hdr *h, char *msg, size_t size)
{
	char tmp[64], *comma;

	if (strlen(v) >= sizeof(tmp))
		return bad(msg, size, "vlan.id value '%s' is too long", v);
	strcpy(tmp, v);
	h->layer = DET_VLAN_ANY;
	comma = strchr(tmp, ',');
	if (comma != NULL) {
		char *l = det_strip(comma + 1);
		char *end;
		long x;

		*comma = '\0';
		if (strcmp(l, "any") == 0) {
			h->layer = DET_VLAN_ANY;
		} else if (strcmp(l, "all") == 0) {
			h->layer = DET_VLAN_ALL;
		} else {
			errno = 0;
			x = strtol(l, &end, 10);
			if (*l == '\0' || *end != '\0' || errno != 0 || x < -3 || x > 2)
				return bad(msg, size,
						"vlan.id layer '%s' should be 0, 1, 2 (from the "
						"outermost), -1, -2, -3 (from the innermost), any or "
						"all",
						l);
			h->layer = (int8_t)x;
		}
	}
	return parse_cmp_kw("vlan.id", tmp, 4095, &h->cmp, msg, size);
}

/* stream_size:<server|client|both|either>,<op>,<n> */
static int
parse_stream_size(const char *v, struct det_hdr *h, char *msg, size_t size)
{
	static const char *const ops[] = { "<=", ">=", "!=", "==", "<", ">", "=", "!" };
	static const uint8_t opv[] = { DET_NOP_LE, DET_NOP_GE, DET_NOP_NE, DET_NOP_EQ, DET_NOP_LT,
		DET_NOP_GT, DET_NOP_EQ, DET_NOP_NE };
	char tmp[64], *side, *op, *n, *save;
	uint64_t x;
	size_t i;

	if (strlen(v) >= sizeof(tmp))
		return bad(msg, size, "stream_size value '%s' is too long", v);
	strcpy(tmp, v);
	side = strtok_r(tmp, ",", &save);
	op = strtok_r(NULL, ",", &save);
	n = strtok_r(NULL, "", &save);
	if (side == NULL || op == NULL || n == NULL)
		return bad(msg, size,
				"stream_size '%s' should be <server|client|both|either>,<op>,<n> "
				"with op one of < <= = != >= >",
				v);
	side = det_strip(side);
	op = det_strip(op);
	if (strcmp(side, "server") == 0)
		h->mode = DET_SS_SERVER;
	else if (strcmp(side, "client") == 0)
		h->mode = DET_SS_CLIENT;
	else if (strcmp(side, "both") == 0)
		h->mode = DET_SS_BOTH;
	else if (strcmp(side, "either") == 0)
		h->mode = DET_SS_EITHER;
	else
		return bad(msg, size,
				"stream_size side '%s' should be server, client, both or either",
				side);
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(op, ops[i]) == 0)
			break;
	if (i == sizeof(ops) / sizeof(ops[0]))
		return bad(msg, size, "stream_size operator '%s' should be one of < <= = != >= >",
				op);
	if (num(n, UINT32_MAX, &x) != 0)
		return bad(msg, size, "stream_size size '%s' should be a number 0-4294967295",
				det_strip(n));
	h->cmp.op = opv[i];
	h->cmp.lo = x;
	return 0;
}

int
det_hdr_parse(unsigned field, const char *v, struct det_hdr *h, char *msg, size_t size)
{
	const struct hdr_kw *k = kw_of(field);

	memset(h, 0, sizeof(*h));
	h->field = (uint8_t)field;
	if (k == NULL)
		return bad(msg, size, "not a header keyword");
	switch (field) {
	case DET_H_SAMEIP:
		return 0; /* takes no value */
	case DET_H_TOS:
		return parse_tos(v, h, msg, size);
	case DET_H_IP_PROTO:
		return parse_ip_proto(v, h, msg, size);
	case DET_H_IPOPTS:
		return parse_ipopts(v, h, msg, size);
	case DET_H_FRAGBITS:
		return parse_fragbits(v, h, msg, size);
	case DET_H_VLAN_ID:
		return parse_vlan_id(v, h, msg, size);
	case DET_H_STREAM_SIZE:
		return parse_stream_size(v, h, msg, size);
	default:
		return parse_cmp_kw(k->name, v, k->max, &h->cmp, msg, size);
	}
}

/* ---- matching ---- */

static inline uint16_t
be16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static inline uint32_t
be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static inline bool
is_ip4(const struct det_pkt *p)
{
	return p->family == 4 && p->l3 != NULL && p->l3_len >= 20;
}

static inline bool
is_ip6(const struct det_pkt *p)
{
	return p->family == 6 && p->l3 != NULL && p->l3_len >= 40;
}

static inline bool
is_tcp(const struct det_pkt *p)
{
	return p->proto == IPPROTO_TCP && p->l4 != NULL && p->l4_len >= 20;
}

static inline bool
is_icmp(const struct det_pkt *p)
{
	return (p->proto == IPPROTO_ICMP || p->proto == IPPROTO_ICMPV6) && p->l4 != NULL &&
	       p->l4_len >= 8;
}

/* The IPv4 options present, as ipopts bits. */
static uint16_t
ip4_opts(const struct det_pkt *p)
{
	const uint8_t *o = p->l3;
	unsigned hl = (unsigned)(o[0] & 0x0f) * 4, i = 20;
	uint16_t bits = 0;

	if (hl > p->l3_len)
		hl = p->l3_len;
	while (i < hl) {
		uint8_t type = o[i];
		size_t k;

		for (k = 0; k < N_IPOPTS && ipopt_names[k].type != type; k++)
			;
		bits |= k < N_IPOPTS ? (uint16_t)(1u << k) : IPOPT_OTHER_BITS;
		if (type == 0)
			break;
		if (type == 1) {
			i++;
			continue;
		}
		if (i + 1 >= hl || o[i + 1] < 2)
			break;
		i += o[i + 1];
	}
	return bits;
}

/* The fragment offset (8-byte units) of an IPv6 packet's fragment header, or -1. */
static int32_t
ip6_frag_offset(const struct det_pkt *p)
{
	const uint8_t *b = p->l3;
	uint8_t nh = b[6];
	unsigned o = 40;

	while (o + 8 <= p->l3_len) {
		switch (nh) {
		case 44: /* fragment */
			return be16(b + o + 2) >> 3;
		case 0:	  /* hop-by-hop */
		case 43:  /* routing */
		case 60:  /* destination options */
		case 135: /* mobility */
			nh = b[o];
			o += ((unsigned)b[o + 1] + 1) * 8;
			break;
		case 51: /* AH */
			nh = b[o];
			o += ((unsigned)b[o + 1] + 2) * 4;
			break;
		default:
			return -1;
		}
	}
	return -1;
}

/* The TCP MSS option's value, or -1 when the segment has none. */
static int32_t
tcp_mss(const struct det_pkt *p)
{
	const uint8_t *t = p->l4;
	unsigned hl = (unsigned)(t[12] >> 4) * 4, i = 20;

	if (hl > p->l4_len)
		hl = p->l4_len;
	while (i < hl) {
		if (t[i] == 0)
			break;
		if (t[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= hl || t[i + 1] < 2)
			break;
		if (t[i] == 2 && t[i + 1] == 4 && i + 4 <= hl)
			return be16(t + i + 2);
		i += t[i + 1];
	}
	return -1;
}

/* ICMP messages with identifier and sequence number (Suricata's list). */
static bool
icmp_has_id(const struct det_pkt *p)
{
	uint8_t type = p->l4[0];

	if (p->proto == IPPROTO_ICMPV6)
		return type == 128 || type == 129;
	switch (type) {
	case 0:	 /* echo reply */
	case 8:	 /* echo */
	case 13: /* timestamp */
	case 14:
	case 15: /* information */
	case 16:
	case 17: /* address mask */
	case 18:
		return true;
	default:
		return false;
	}
}

static bool
bits_ok(uint8_t mode, uint16_t f, uint16_t bits)
{
	switch (mode) {
	case DET_TF_EXACT:
		return f == bits;
	case DET_TF_ALL:
		return (f & bits) == bits;
	case DET_TF_ANY:
		return (f & bits) != 0;
	case DET_TF_NOT:
		return (f & bits) == 0;
	default:
		return false;
	}
}

static bool
vlan_ok(const struct det_hdr *h, const struct det_pkt *p)
{
	unsigned n = p->n_vlan < 3 ? p->n_vlan : 3;

	if (n == 0)
		return false;
	if (h->layer == DET_VLAN_ANY || h->layer == DET_VLAN_ALL) {
		bool all = h->layer == DET_VLAN_ALL;

		for (unsigned i = 0; i < n; i++)
			if (det_cmp_ok(&h->cmp, p->vlan[i]) != all)
				return !all;
		return all;
	}
	if (h->layer >= 0)
		return (unsigned)h->layer < n && det_cmp_ok(&h->cmp, p->vlan[h->layer]);
	return (unsigned)-h->layer <= n && det_cmp_ok(&h->cmp, p->vlan[(int)n + h->layer]);
}

static bool
stream_size_ok(const struct det_hdr *h, const struct det_pkt *p)
{
	bool c, s;

	if (p->proto != IPPROTO_TCP || !p->stream_known)
		return false;
	c = det_cmp_ok(&h->cmp, p->stream_size[0]);
	s = det_cmp_ok(&h->cmp, p->stream_size[1]);
	switch (h->mode) {
	case DET_SS_SERVER:
		return s;
	case DET_SS_CLIENT:
		return c;
	case DET_SS_BOTH:
		return c && s;
	case DET_SS_EITHER:
		return c || s;
	default:
		return false;
	}
}

bool
det_hdr_test(const struct det_hdr *h, const struct det_pkt *p)
{
	const struct det_cmp *c = &h->cmp;

	switch (h->field) {
	case DET_H_TTL:
		if (is_ip4(p))
			return det_cmp_ok(c, p->l3[8]);
		return is_ip6(p) && det_cmp_ok(c, p->l3[7]);
	case DET_H_TOS:
		return is_ip4(p) && det_cmp_ok(c, p->l3[1]);
	case DET_H_IP_ID:
		return is_ip4(p) && det_cmp_ok(c, be16(p->l3 + 4));
	case DET_H_IP_PROTO:
		return (p->family == 4 || p->family == 6) && det_cmp_ok(c, p->proto);
	case DET_H_IPOPTS:
		return is_ip4(p) && (ip4_opts(p) & h->bits) != 0;
	case DET_H_FRAGBITS:
		/* the flags byte: R 0x80, D 0x40, M 0x20 -> M 1, D 2, R 4 */
		return is_ip4(p) &&
		       bits_ok(h->mode,
				       (uint16_t)((p->l3[6] >> 5 & 1) | (p->l3[6] >> 6 & 1) << 1 |
						       (p->l3[6] >> 7 & 1) << 2),
				       h->bits);
	case DET_H_FRAGOFFSET:
		if (is_ip4(p))
			return det_cmp_ok(c, be16(p->l3 + 6) & 0x1fff);
		if (is_ip6(p)) {
			int32_t off = ip6_frag_offset(p);

			return off >= 0 && det_cmp_ok(c, (uint64_t)off);
		}
		return false;
	case DET_H_ITYPE:
		return is_icmp(p) && det_cmp_ok(c, p->l4[0]);
	case DET_H_ICODE:
		return is_icmp(p) && det_cmp_ok(c, p->l4[1]);
	case DET_H_ICMP_ID:
		return is_icmp(p) && icmp_has_id(p) && det_cmp_ok(c, be16(p->l4 + 4));
	case DET_H_ICMP_SEQ:
		return is_icmp(p) && icmp_has_id(p) && det_cmp_ok(c, be16(p->l4 + 6));
	case DET_H_ICMPV6_MTU:
		return is_icmp(p) && p->proto == IPPROTO_ICMPV6 && p->l4[0] == 2 && p->l4[1] == 0 &&
		       det_cmp_ok(c, be32(p->l4 + 4));
	case DET_H_TCP_MSS: {
		int32_t mss = is_tcp(p) ? tcp_mss(p) : -1;

		return mss >= 0 && det_cmp_ok(c, (uint64_t)mss);
	}
	case DET_H_WINDOW:
		return is_tcp(p) && det_cmp_ok(c, be16(p->l4 + 14));
	case DET_H_SEQ:
		return is_tcp(p) && det_cmp_ok(c, be32(p->l4 + 4));
	case DET_H_ACK:
		return is_tcp(p) && det_cmp_ok(c, be32(p->l4 + 8));
	case DET_H_VLAN_ID:
		return vlan_ok(h, p);
	case DET_H_VLAN_LAYERS:
		return det_cmp_ok(c, p->n_vlan);
	case DET_H_STREAM_SIZE:
		return stream_size_ok(h, p);
	case DET_H_SAMEIP:
		return p->src != NULL && p->dst != NULL && (p->family == 4 || p->family == 6) &&
		       memcmp(p->src, p->dst, p->family == 4 ? 4 : 16) == 0;
	default:
		return false;
	}
}

const uint8_t *
det_hdr_buf(unsigned buf, const struct det_pkt *p, uint32_t *len)
{
	*len = 0;
	switch (buf) {
	case DET_BUF_TCP_HDR:
		if (!is_tcp(p))
			return NULL;
		*len = p->l4_len;
		return p->l4;
	case DET_BUF_ICMPV6_HDR:
		if (!is_icmp(p) || p->proto != IPPROTO_ICMPV6)
			return NULL;
		*len = 8;
		return p->l4;
	default:
		return NULL;
	}
}

bool
det_hdr_ok(const struct det_rule *r, const struct det_pkt *p, struct det_confirm_ctx *c)
{
	for (unsigned i = 0; i < r->n_hdr; i++) {
		const struct det_hdr *h = &r->hdr[i];

		if (h->field == DET_H_BUF) {
			uint32_t len;
			const uint8_t *b = det_hdr_buf(h->buf, p, &len);

			if (b == NULL || !det_confirm_items(&r->hitems[h->first], h->n, b, len, 0,
							 c, NULL))
				return false;
		} else if (!det_hdr_test(h, p)) {
			return false;
		}
	}
	return true;
}
