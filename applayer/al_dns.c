/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DNS: messages into transactions (a request and its response), with the names and types
 * that dns.query, dns.answers.rrname, dns.queries.rrname (response) and dns.rrtype test.
 *
 * A message is walked twice: the first walk checks the whole message as Suricata does
 * (questions and answers must parse, rdata included; authority and additional sections may
 * fail alone) and measures the names to keep; the second renders those names into one
 * allocation of exactly that size. Both walks are bounded: a name follows at most 255
 * labels and pointers and renders at most AL_DNS_NAME_MAX bytes.
 */
#include <string.h>

#include "al_dns.h"
#include "al_impl.h"

#define DNS_HDR_LEN	  12
#define DNS_MAX_SEGMENTS  255 /* labels and pointers followed in one name, as Suricata */
#define DNS_FLAG_QR	  0x8000
#define DNS_FLAG_Z	  0x0040
#define DNS_TXT_MAX_PARTS 32767 /* Suricata expands a TXT record into at most this many */

static const char *const dns_anomaly_names[AL_DNS__COUNT] = {
	[AL_DNS_MALFORMED_DATA] = "malformed_data",
	[AL_DNS_NOT_REQUEST] = "not_request",
	[AL_DNS_NOT_RESPONSE] = "not_response",
	[AL_DNS_Z_FLAG_SET] = "z_flag_set",
	[AL_DNS_INVALID_OPCODE] = "invalid_opcode",
	[AL_DNS_NAME_TOO_LONG] = "name_too_long",
	[AL_DNS_INFINITE_LOOP] = "infinite_loop",
	[AL_DNS_TOO_MANY_LABELS] = "too_many_labels",
	[AL_DNS_INVALID_ADDITIONALS] = "invalid_additionals",
	[AL_DNS_INVALID_AUTHORITIES] = "invalid_authorities",
	[AL_DNS_FORWARD_POINTER] = "forward_pointer",
	[AL_DNS_TOO_MANY_NAMES] = "too_many_names",
	[AL_DNS_TOO_MANY_TRANSACTIONS] = "too_many_transactions",
};

/* A name kept from a message, with its record's type. */
struct dns_ent {
	uint32_t off; /* in the names after the entries */
	uint16_t len; /* 0: the root name (absent as a buffer, as Suricata) */
	uint16_t type;
};

/* What a transaction keeps of one message: one allocation, the entries then the names. */
struct dns_msg {
	uint16_t id;
	uint16_t flags;
	uint16_t nq;	  /* questions kept: ent[0 .. nq) */
	uint16_t nan;	  /* answers kept: ent[nq .. nq + nan) */
	uint32_t an_data; /* rdata bytes of every answer record */
	struct dns_ent ent[];
};

struct dns_tx {
	struct al_tx head; /* first: the application layer hands &head around */
	struct dns_tx *next;
	struct dns_msg *req;
	struct dns_msg *resp;
};

/* One TCP direction: the length prefix and the message being assembled. */
struct dns_rx {
	uint8_t *buf;
	uint32_t need; /* the message's length; 0 while reading the prefix */
	uint32_t have;
	uint32_t skip; /* bytes still to drop (a message lost to a gap or to memory) */
	uint8_t pfx[2];
	uint8_t pfx_have;
	bool lost; /* a gap broke the framing: look for a message start */
};

struct dns_state {
	bool tcp;
	bool seen; /* a datagram came */
	bool swap; /* UDP: the first datagram was a response, its sender is the server */
	uint32_t next_index;
	uint32_t n_pending;
	struct dns_tx *pending; /* requests waiting for their response, oldest first */
	struct dns_tx *pending_tail;
	struct dns_rx rx[2];
};

struct dns_hdr {
	uint16_t id, flags, qd, an, ns, ar;
};

enum {
	NF_LOOP = 1u << 0,
	NF_TRUNC = 1u << 1,
	NF_LABELS = 1u << 2,
	NF_FORWARD = 1u << 3,
};

/* One walk over a message: the first measures, the second (out set) renders. */
struct dns_walk {
	const uint8_t *m;
	uint32_t mlen;
	unsigned nflags;    /* NF_* over every name of the message */
	uint32_t room;	    /* names that may still be kept */
	bool dropped;	    /* some were not */
	uint16_t nq, nan;   /* kept */
	uint32_t names_len; /* bytes of the kept names */
	uint32_t an_data;   /* rdata bytes of the answer records */
	struct dns_msg *out;
};

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint8_t *
msg_names(struct dns_msg *m)
{
	return (uint8_t *)&m->ent[m->nq + m->nan];
}

static inline const uint8_t *
msg_names_c(const struct dns_msg *m)
{
	return (const uint8_t *)&m->ent[m->nq + m->nan];
}

/*
 * The name at *pos, whose first labels lie before end (a record's rdata end, else the
 * message's); pointers may lead anywhere in the message. *pos moves past the name as it
 * sits there. Rendered into out (AL_DNS_NAME_MAX bytes) when out is set. Returns the
 * rendered length, or -1 when the name does not hold together. As Suricata: a name that
 * runs to the end of its bytes without a zero label ends there, a pointer to itself or too
 * many segments end a name that already jumped (else the message is malformed), and a name
 * longer than AL_DNS_NAME_MAX is cut.
 */
static int
dns_name(struct dns_walk *w, uint32_t *pos, uint32_t end, uint8_t *out)
{
	const uint8_t *m = w->m;
	uint32_t p = *pos, after = 0, len = 0;
	unsigned segs = 0;
	bool jumped = false, trunc = false;

	while (p < end) {
		uint8_t l = m[p];

		if (l == 0) {
			p++;
			break;
		}
		if ((l & 0xc0) == 0) {
			if (end - p - 1 < l)
				return -1;
			if (!trunc) {
				if (len > 0) {
					if (out != NULL && len < AL_DNS_NAME_MAX)
						out[len] = '.';
					len++;
				}
				if (out != NULL && len < AL_DNS_NAME_MAX) {
					uint32_t n = AL_DNS_NAME_MAX - len;

					memcpy(out + len, m + p + 1, n < l ? n : l);
				}
				len += l;
			}
			p += 1u + l;
		} else if ((l & 0xc0) == 0xc0) {
			if (end - p < 2)
				return -1;
			uint32_t off = (uint32_t)(l & 0x3f) << 8 | m[p + 1];

			if (off > w->mlen)
				return -1;
			if (off == p) {
				w->nflags |= NF_LOOP;
				if (jumped)
					break;
				return -1;
			}
			if (off > p)
				w->nflags |= NF_FORWARD;
			if (!jumped) {
				after = p + 2;
				jumped = true;
			}
			p = off;
			end = w->mlen;
		} else {
			return -1; /* 0x40 and 0x80: extended label types, not used */
		}
		if (++segs > DNS_MAX_SEGMENTS) {
			w->nflags |= NF_LABELS;
			if (!jumped)
				return -1;
			w->nflags |= NF_TRUNC;
			break;
		}
		if (len > AL_DNS_NAME_MAX) {
			len = AL_DNS_NAME_MAX;
			trunc = true;
			w->nflags |= NF_TRUNC;
			if (jumped)
				break;
		}
	}
	/* the segment limit may stop a name before the length check cut it */
	if (len > AL_DNS_NAME_MAX) {
		len = AL_DNS_NAME_MAX;
		w->nflags |= NF_TRUNC;
	}
	*pos = jumped ? after : p;
	return (int)len;
}

/* Whether a name may be kept; counts what was not. */
static bool
dns_keep(struct dns_walk *w)
{
	if (w->room > 0)
		return true;
	w->dropped = true;
	return false;
}

/* The rendered name goes at the end of the kept names (second walk). */
static uint8_t *
dns_dst(struct dns_walk *w)
{
	return w->out != NULL ? msg_names(w->out) + w->names_len : NULL;
}

static void
dns_kept(struct dns_walk *w, uint32_t off, int len, uint16_t type, bool answer)
{
	if (w->out != NULL) {
		struct dns_ent *e = &w->out->ent[answer ? w->out->nq + w->nan : w->nq];

		e->off = off;
		e->len = (uint16_t)len;
		e->type = type;
	}
	if (answer)
		w->nan++;
	else
		w->nq++;
	w->room--;
}

static int
dns_questions(struct dns_walk *w, uint32_t *pos, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		bool keep = dns_keep(w);
		uint32_t off = w->names_len;
		int len = dns_name(w, pos, w->mlen, keep ? dns_dst(w) : NULL);

		if (len < 0 || w->mlen - *pos < 4)
			return -1;
		if (keep) {
			dns_kept(w, off, len, rd16(w->m + *pos), false);
			w->names_len += (uint32_t)len;
		}
		*pos += 4;
	}
	return 0;
}

/*
 * The rdata of a record of type type: the records whose rdata Suricata parses must hold
 * together as it expects. Returns the entries the record makes (a TXT record makes one per
 * string, as Suricata expands it), or -1.
 */
static int
dns_rdata(struct dns_walk *w, uint32_t p, uint32_t rdlen, uint16_t type)
{
	const uint32_t end = p + rdlen;
	uint32_t q = p;
	int n = 0;

	switch (type) {
	case 2:	 /* NS */
	case 5:	 /* CNAME */
	case 12: /* PTR */
		return dns_name(w, &q, end, NULL) < 0 ? -1 : 1;
	case 15: /* MX: preference, exchange */
		if (rdlen < 2)
			return -1;
		q += 2;
		return dns_name(w, &q, end, NULL) < 0 ? -1 : 1;
	case 33: /* SRV: priority, weight, port, target */
		if (rdlen < 6)
			return -1;
		q += 6;
		return dns_name(w, &q, end, NULL) < 0 ? -1 : 1;
	case 6: /* SOA: mname, rname, five 32-bit numbers */
		if (dns_name(w, &q, end, NULL) < 0 || dns_name(w, &q, end, NULL) < 0)
			return -1;
		return q <= end && end - q >= 20 ? 1 : -1;
	case 16: /* TXT: strings while whole ones remain, at least one */
		while (q < end && n < DNS_TXT_MAX_PARTS) {
			uint32_t l = w->m[q];

			if (end - q - 1 < l)
				break;
			q += 1 + l;
			n++;
		}
		return n > 0 ? n : -1;
	case 44: /* SSHFP: algorithm, type, fingerprint */
		return rdlen >= 2 ? 1 : -1;
	case 41: /* OPT: options of code, length, data */
		while (q < end) {
			if (end - q < 4)
				return -1;
			uint32_t l = rd16(w->m + q + 2);

			q += 4;
			if (end - q < l)
				return -1;
			q += l;
		}
		return 1;
	default:
		return 1;
	}
}

/* n resource records from *pos; answer: keep their owner names and types. */
static int
dns_records(struct dns_walk *w, uint32_t *pos, unsigned n, bool answer)
{
	for (unsigned i = 0; i < n; i++) {
		bool keep = answer && w->room > 0;
		uint32_t off = w->names_len;
		int len = dns_name(w, pos, w->mlen, keep ? dns_dst(w) : NULL);

		if (len < 0 || w->mlen - *pos < 10)
			return -1;
		uint16_t type = rd16(w->m + *pos);
		uint32_t rdlen = rd16(w->m + *pos + 8);

		*pos += 10;
		if (w->mlen - *pos < rdlen)
			return -1;
		int parts = dns_rdata(w, *pos, rdlen, type);

		if (parts < 0)
			return -1;
		*pos += rdlen;
		if (!answer)
			continue;
		w->an_data += rdlen;
		/* The parts of a TXT record share their owner name's bytes. */
		for (int k = 0; k < parts && dns_keep(w); k++)
			dns_kept(w, off, len, type, true);
		if (keep)
			w->names_len += (uint32_t)len;
	}
	return 0;
}

enum {
	MSG_OK,
	MSG_MALFORMED,
	MSG_BAD_AUTHORITIES = 1u << 1,
	MSG_BAD_ADDITIONALS = 1u << 2,
};

/* The first walk (out NULL) checks everything; the second renders questions and answers. */
static unsigned
dns_walk(struct dns_walk *w, const struct dns_hdr *h)
{
	uint32_t pos = DNS_HDR_LEN;

	if (dns_questions(w, &pos, h->qd) != 0 || dns_records(w, &pos, h->an, true) != 0)
		return MSG_MALFORMED;
	if (w->out != NULL)
		return MSG_OK;
	if (dns_records(w, &pos, h->ns, false) != 0)
		return MSG_BAD_AUTHORITIES; /* the additionals are not looked for, as Suricata */
	if (dns_records(w, &pos, h->ar, false) != 0)
		return MSG_BAD_ADDITIONALS;
	return MSG_OK;
}

/* Suricata's check of a header before the body: counts that fit, a request asks. */
static bool
dns_header_ok(const struct dns_hdr *h, uint32_t mlen)
{
	uint32_t records = (uint32_t)h->qd + h->an + h->ns + h->ar;

	if (2 * records > mlen)
		return false;
	if (records == 0 && mlen > DNS_HDR_LEN)
		return false;
	return (h->flags & DNS_FLAG_QR) || h->qd > 0;
}

/* The message's header alone, for messages whose body is not kept. */
static struct dns_msg *
dns_msg_header(struct al_ctx *c, const struct dns_hdr *h)
{
	struct dns_msg *m = al_alloc(c, sizeof(*m));

	if (m != NULL)
		*m = (struct dns_msg){ .id = h->id, .flags = h->flags };
	return m;
}

/* The second walk: the kept names, into one allocation of the size the first measured. */
static struct dns_msg *
dns_msg_build(struct al_ctx *c, const struct dns_walk *first, const struct dns_hdr *h)
{
	size_t n = (size_t)first->nq + first->nan;
	struct dns_msg *m = al_alloc(c, sizeof(*m) + n * sizeof(struct dns_ent) + first->names_len);

	if (m == NULL)
		return NULL;
	*m = (struct dns_msg){ .id = h->id,
		.flags = h->flags,
		.nq = first->nq,
		.nan = first->nan,
		.an_data = first->an_data };

	struct dns_walk w = {
		.m = first->m,
		.mlen = first->mlen,
		.room = (uint32_t)n,
		.out = m,
	};

	dns_walk(&w, h);
	return m;
}

static void
dns_tx_free(struct al_ctx *c, struct dns_tx *tx)
{
	al_free(c, tx->req);
	al_free(c, tx->resp);
	al_free(c, tx);
}

static struct dns_tx *
dns_tx_new(struct al_ctx *c, struct dns_state *st)
{
	struct dns_tx *tx = al_alloc(c, sizeof(*tx));

	if (tx == NULL)
		return NULL;
	memset(tx, 0, sizeof(*tx));
	tx->head.proto = AL_PROTO_DNS;
	tx->head.index = st->next_index++;
	return tx;
}

/* The response of tx will not come (evicted, flow closed): it is final, absent. */
static void
dns_finish(struct al_ctx *c, struct dns_tx *tx, const struct al_emit *e)
{
	al_emit(e, &tx->head, AL_ST_DNS_RESPONSE, AL_TO_CLIENT);
	dns_tx_free(c, tx);
}

static void
dns_pending_push(struct al_ctx *c, struct dns_state *st, struct dns_tx *tx, const struct al_emit *e)
{
	uint32_t max = al_ctx_limits(c)->dns_max_tx;

	while (st->pending != NULL && st->n_pending >= (max > 0 ? max : 1)) {
		struct dns_tx *old = st->pending;

		st->pending = old->next;
		if (st->pending == NULL)
			st->pending_tail = NULL;
		st->n_pending--;
		al_anomaly(c, AL_PROTO_DNS, &old->head, AL_DNS_TOO_MANY_TRANSACTIONS);
		dns_finish(c, old, e);
	}
	tx->next = NULL;
	if (st->pending_tail != NULL)
		st->pending_tail->next = tx;
	else
		st->pending = tx;
	st->pending_tail = tx;
	st->n_pending++;
}

/* The oldest request waiting with this id, taken off the list. */
static struct dns_tx *
dns_pending_take(struct dns_state *st, uint16_t id)
{
	struct dns_tx *prev = NULL;

	for (struct dns_tx *tx = st->pending; tx != NULL; prev = tx, tx = tx->next) {
		if (tx->req->id != id)
			continue;
		if (prev != NULL)
			prev->next = tx->next;
		else
			st->pending = tx->next;
		if (st->pending_tail == tx)
			st->pending_tail = prev;
		st->n_pending--;
		return tx;
	}
	return NULL;
}

/*
 * One message of direction dir. Requests open a transaction that waits for its response;
 * a response completes the oldest request with its id, or stands alone. As Suricata, a
 * response sent to the server is only an anomaly (not_request) and a query sent to the
 * client is taken as a response (not_response). A message that does not hold together
 * keeps its header (when there is one) and counts malformed_data, in a transaction of its
 * own direction so that rules on the anomaly see it.
 */
static void
dns_message(struct al_ctx *c, struct dns_state *st, unsigned dir, const uint8_t *m, uint32_t mlen,
		const struct al_emit *e)
{
	struct dns_hdr h = { 0 };
	struct dns_walk w = { .m = m, .mlen = mlen };
	struct dns_msg *msg = NULL;
	unsigned anomalies = 0;
	unsigned res = MSG_MALFORMED;
	bool have_hdr = mlen >= DNS_HDR_LEN;

	if (have_hdr) {
		h = (struct dns_hdr){ rd16(m), rd16(m + 2), rd16(m + 4), rd16(m + 6), rd16(m + 8),
			rd16(m + 10) };
		if (dir == AL_TO_SERVER && (h.flags & DNS_FLAG_QR)) {
			anomalies |= 1u << AL_DNS_NOT_REQUEST;
		} else if (dns_header_ok(&h, mlen)) {
			uint32_t max = al_ctx_limits(c)->dns_max_names;

			w.room = max < UINT16_MAX ? max : UINT16_MAX; /* counted in 16 bits */
			res = dns_walk(&w, &h);
		}
		if (dir == AL_TO_CLIENT && !(h.flags & DNS_FLAG_QR))
			anomalies |= 1u << AL_DNS_NOT_RESPONSE;
		if (h.flags & DNS_FLAG_Z)
			anomalies |= 1u << AL_DNS_Z_FLAG_SET;
		if ((h.flags >> 11 & 0xf) >= 7)
			anomalies |= 1u << AL_DNS_INVALID_OPCODE;
	}
	if (res == MSG_MALFORMED && !(anomalies & (1u << AL_DNS_NOT_REQUEST)))
		anomalies |= 1u << AL_DNS_MALFORMED_DATA;
	if (res & MSG_BAD_AUTHORITIES)
		anomalies |= 1u << AL_DNS_INVALID_AUTHORITIES;
	if (res & MSG_BAD_ADDITIONALS)
		anomalies |= 1u << AL_DNS_INVALID_ADDITIONALS;
	if (w.nflags & NF_TRUNC)
		anomalies |= 1u << AL_DNS_NAME_TOO_LONG;
	if (w.nflags & NF_LOOP)
		anomalies |= 1u << AL_DNS_INFINITE_LOOP;
	if (w.nflags & NF_LABELS)
		anomalies |= 1u << AL_DNS_TOO_MANY_LABELS;
	if (w.nflags & NF_FORWARD)
		anomalies |= 1u << AL_DNS_FORWARD_POINTER;
	if (w.dropped)
		anomalies |= 1u << AL_DNS_TOO_MANY_NAMES;

	if (have_hdr)
		msg = res == MSG_MALFORMED ? dns_msg_header(c, &h) : dns_msg_build(c, &w, &h);

	struct dns_tx *tx = NULL;
	bool response = dir == AL_TO_CLIENT;

	if (response && msg != NULL)
		tx = dns_pending_take(st, msg->id);
	if (tx == NULL && (msg != NULL || !have_hdr))
		tx = dns_tx_new(c, st);
	if (tx == NULL) {
		/* no memory: the anomalies still count */
		for (unsigned i = 0; i < AL_DNS__COUNT; i++)
			if (anomalies & (1u << i))
				al_anomaly(c, AL_PROTO_DNS, NULL, i);
		al_free(c, msg);
		return;
	}
	for (unsigned i = 0; i < AL_DNS__COUNT; i++)
		if (anomalies & (1u << i))
			al_anomaly(c, AL_PROTO_DNS, &tx->head, i);
	if (response) {
		tx->resp = msg;
		al_emit(e, &tx->head, AL_ST_DNS_RESPONSE, AL_TO_CLIENT);
		dns_tx_free(c, tx);
		return;
	}
	tx->req = msg;
	al_emit(e, &tx->head, AL_ST_DNS_REQUEST, AL_TO_SERVER);
	/* Only a request that parsed waits for an answer: a broken one has no id to match. */
	if (msg != NULL && res != MSG_MALFORMED)
		dns_pending_push(c, st, tx, e);
	else
		dns_finish(c, tx, e);
}

/* After a gap: does d start a message of this direction (prefix and a header that holds)? */
static bool
dns_tcp_resync(const uint8_t *d, uint32_t len, unsigned dir)
{
	if (len < 2 + DNS_HDR_LEN)
		return false;
	uint32_t mlen = rd16(d);
	const uint8_t *m = d + 2;
	struct dns_hdr h = { rd16(m), rd16(m + 2), rd16(m + 4), rd16(m + 6), rd16(m + 8),
		rd16(m + 10) };

	if (mlen < DNS_HDR_LEN || !dns_header_ok(&h, mlen))
		return false;
	return (dir == AL_TO_CLIENT) == ((h.flags & DNS_FLAG_QR) != 0);
}

static void
dns_tcp(struct al_ctx *c, struct dns_state *st, unsigned dir, const uint8_t *d, uint32_t len,
		const struct al_emit *e)
{
	struct dns_rx *rx = &st->rx[dir];

	while (len > 0) {
		if (rx->skip > 0) {
			uint32_t n = rx->skip < len ? rx->skip : len;

			rx->skip -= n;
			d += n;
			len -= n;
			continue;
		}
		if (rx->lost) {
			if (!dns_tcp_resync(d, len, dir))
				return; /* this segment is the middle of something */
			rx->lost = false;
		}
		if (rx->need == 0) {
			rx->pfx[rx->pfx_have++] = *d++;
			len--;
			if (rx->pfx_have < 2)
				continue;
			rx->pfx_have = 0;
			rx->need = rd16(rx->pfx);
			rx->have = 0;
			continue; /* a zero length is skipped, as Suricata */
		}
		if (rx->buf == NULL && len >= rx->need) {
			/* The whole message is here: parse it in place. */
			uint32_t n = rx->need;

			rx->need = 0;
			dns_message(c, st, dir, d, n, e);
			d += n;
			len -= n;
			continue;
		}
		if (rx->buf == NULL) {
			rx->buf = al_alloc(c, rx->need);
			if (rx->buf == NULL) {
				/* No memory for it (counted): drop this message, keep the framing.
				 */
				rx->skip = rx->need;
				rx->need = 0;
				continue;
			}
		}
		uint32_t n = rx->need - rx->have < len ? rx->need - rx->have : len;

		memcpy(rx->buf + rx->have, d, n);
		rx->have += n;
		d += n;
		len -= n;
		if (rx->have == rx->need) {
			uint8_t *buf = rx->buf;
			uint32_t mlen = rx->need;

			rx->buf = NULL;
			rx->need = 0;
			rx->have = 0;
			dns_message(c, st, dir, buf, mlen, e);
			al_free(c, buf);
		}
	}
}

static void *
dns_state_new(struct al_ctx *c, bool tcp)
{
	struct dns_state *st = al_alloc(c, sizeof(*st));

	if (st == NULL)
		return NULL;
	memset(st, 0, sizeof(*st));
	st->tcp = tcp;
	return st;
}

static void
dns_state_free(struct al_ctx *c, void *state)
{
	struct dns_state *st = state;

	while (st->pending != NULL) {
		struct dns_tx *tx = st->pending;

		st->pending = tx->next;
		dns_tx_free(c, tx);
	}
	for (unsigned d = 0; d < 2; d++)
		al_free(c, st->rx[d].buf);
	al_free(c, st);
}

static int
dns_feed(struct al_ctx *c, void *state, unsigned dir, const uint8_t *d, uint32_t len,
		const struct al_emit *e)
{
	struct dns_state *st = state;

	if (st->tcp) {
		dns_tcp(c, st, dir, d, len, e);
		return 0;
	}
	/* As Suricata's probe sets the flow's direction from the first datagram: a flow that
	 * starts with a response (LLMNR and mDNS answer from another address) is seen from
	 * the responder's side. */
	if (!st->seen) {
		st->seen = true;
		st->swap = dir == AL_TO_SERVER && len >= 4 && (d[2] & 0x80);
	}
	dns_message(c, st, dir ^ st->swap, d, len, e);
	return 0;
}

/*
 * len bytes lost: when they fall inside the message being read, the next one starts right
 * after it and the framing holds; otherwise look for a message start.
 */
static void
dns_gap(struct al_ctx *c, void *state, unsigned dir, uint32_t len)
{
	struct dns_state *st = state;
	struct dns_rx *rx = &st->rx[dir];

	if (!st->tcp)
		return;
	if (rx->lost)
		return;
	if (rx->skip > 0) {
		if (len <= rx->skip) {
			rx->skip -= len;
			return;
		}
	} else if (rx->need > 0 && rx->pfx_have == 0 && len <= rx->need - rx->have) {
		rx->skip = rx->need - rx->have - len;
		al_free(c, rx->buf);
		rx->buf = NULL;
		rx->need = 0;
		rx->have = 0;
		return;
	}
	al_free(c, rx->buf);
	*rx = (struct dns_rx){ .lost = true };
}

static void
dns_close(struct al_ctx *c, void *state, unsigned dir, const struct al_emit *e)
{
	struct dns_state *st = state;
	struct dns_rx *rx = &st->rx[dir];

	dir ^= st->swap;
	if (rx->buf != NULL || rx->need > 0 || rx->pfx_have > 0) {
		/* a message cut short by the end of the stream */
		al_anomaly(c, AL_PROTO_DNS, NULL, AL_DNS_MALFORMED_DATA);
		al_free(c, rx->buf);
		*rx = (struct dns_rx){ 0 };
	}
	if (dir != AL_TO_CLIENT)
		return;
	/* No response comes any more: the requests still waiting are final. */
	while (st->pending != NULL) {
		struct dns_tx *tx = st->pending;

		st->pending = tx->next;
		dns_finish(c, tx, e);
	}
	st->pending_tail = NULL;
	st->n_pending = 0;
}

static bool
dns_tx_buf(const struct al_tx *t, enum al_buf b, unsigned idx, const uint8_t **p, uint32_t *len)
{
	const struct dns_tx *tx = (const struct dns_tx *)t;
	const struct dns_msg *m;
	unsigned base, n;

	switch (b) {
	case AL_BUF_DNS_QUERY:
		m = tx->req;
		if (m == NULL)
			return false;
		base = 0;
		n = m->nq;
		break;
	case AL_BUF_DNS_RESP_QUERY:
		m = tx->resp;
		if (m == NULL)
			return false;
		base = 0;
		n = m->nq;
		break;
	case AL_BUF_DNS_ANSWER_NAME:
		m = tx->resp;
		if (m == NULL)
			return false;
		base = m->nq;
		n = m->nan;
		break;
	default:
		return false;
	}
	if (idx >= n || m->ent[base + idx].len == 0)
		return false;
	*p = msg_names_c(m) + m->ent[base + idx].off;
	*len = m->ent[base + idx].len;
	return true;
}

static bool
dns_tx_num(const struct al_tx *t, enum al_num n, unsigned idx, uint64_t *v)
{
	const struct dns_tx *tx = (const struct dns_tx *)t;
	const struct dns_msg *hdr = tx->req != NULL ? tx->req : tx->resp;

	switch (n) {
	case AL_NUM_DNS_ID:
		if (hdr == NULL || idx > 0)
			return false;
		*v = hdr->id;
		return true;
	case AL_NUM_DNS_OPCODE:
		if (hdr == NULL || idx > 0)
			return false;
		*v = hdr->flags >> 11 & 0xf;
		return true;
	case AL_NUM_DNS_FLAGS:
		if (hdr == NULL || idx > 0)
			return false;
		*v = hdr->flags;
		return true;
	case AL_NUM_DNS_RCODE:
		if (tx->resp == NULL || idx > 0)
			return false;
		*v = tx->resp->flags & 0xf;
		return true;
	case AL_NUM_DNS_QTYPE:
		if (tx->req == NULL || idx >= tx->req->nq)
			return false;
		*v = tx->req->ent[idx].type;
		return true;
	case AL_NUM_DNS_ANSWER_TYPE:
		if (tx->resp == NULL || idx >= tx->resp->nan)
			return false;
		*v = tx->resp->ent[tx->resp->nq + idx].type;
		return true;
	case AL_NUM_DNS_REQ_RCODE:
		if (tx->req == NULL || idx > 0)
			return false;
		*v = tx->req->flags & 0xf;
		return true;
	case AL_NUM_DNS_RESP_OPCODE:
		if (tx->resp == NULL || idx > 0)
			return false;
		*v = tx->resp->flags >> 11 & 0xf;
		return true;
	default:
		return false;
	}
}

const struct al_parser al_dns_parser = {
	.proto = AL_PROTO_DNS,
	.anomaly_names = dns_anomaly_names,
	.n_anomalies = AL_DNS__COUNT,
	.state_new = dns_state_new,
	.state_free = dns_state_free,
	.feed = dns_feed,
	.gap = dns_gap,
	.close = dns_close,
	.tx_buf = dns_tx_buf,
	.tx_num = dns_tx_num,
};

uint32_t
al_dns_answer_bytes(const struct al_tx *t)
{
	const struct dns_tx *tx = (const struct dns_tx *)t;

	return t->proto == AL_PROTO_DNS && tx->resp != NULL ? tx->resp->an_data : 0;
}
