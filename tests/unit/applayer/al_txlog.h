/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A transaction log for parser tests: an al_tx_cb that copies, at every stage reported, each
 * buffer and number of the transaction's protocol that al_tx_buf/al_tx_num give, so that a
 * test reads them after the flow is gone and compares two runs (the same bytes whole and one
 * at a time) field by field. Also feeds a hand-written session through al_feed.
 *
 * Header-only: include it in one test file.
 */
#ifndef AL_TXLOG_H
#define AL_TXLOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "al.h"
#include "al_impl.h"

#define TXL_MAX_TX   256
#define TXL_MAX_INST 8

struct txl_buf {
	bool has;
	uint32_t len;
	uint8_t *p;
};

struct txl_tx {
	const struct al_tx *key; /* the pointer the parser reported it with */
	uint32_t index;
	uint8_t proto;
	unsigned ready;
	unsigned n_stages;
	unsigned stages[8]; /* in the order reported */
	unsigned dirs[8];
	uint64_t anomalies;
	struct txl_buf buf[AL_BUF__COUNT][TXL_MAX_INST];
	bool has_num[AL_NUM__COUNT];
	uint64_t num[AL_NUM__COUNT];
};

struct txl {
	struct txl_tx *tx; /* TXL_MAX_TX of them, allocated at the first stage */
	unsigned n;
	unsigned calls;
	unsigned overflow; /* transactions past TXL_MAX_TX */
	uint8_t only;	   /* an al_proto: log this protocol's transactions only (0: all) */
};

static inline void
txl_snapshot(struct txl_tx *t, const struct al_tx *tx)
{
	for (unsigned b = AL_BUF_NONE + 1; b < AL_BUF__COUNT; b++) {
		const struct al_buf_info *bi = al_buf_info((enum al_buf)b);

		if (bi->proto != tx->proto)
			continue;
		for (unsigned i = 0; i < TXL_MAX_INST; i++) {
			const uint8_t *p;
			uint32_t len;
			struct txl_buf *tb = &t->buf[b][i];

			if (!al_tx_buf(tx, (enum al_buf)b, i, &p, &len))
				break;
			free(tb->p);
			tb->p = malloc(len + 1);
			memcpy(tb->p, p, len);
			tb->p[len] = 0;
			tb->len = len;
			tb->has = true;
			if (!(bi->flags & AL_BUF_MULTI))
				break;
		}
	}
	for (unsigned n = AL_NUM_NONE + 1; n < AL_NUM__COUNT; n++) {
		uint64_t v;

		if (al_num_info((enum al_num)n)->proto == tx->proto &&
				al_tx_num(tx, (enum al_num)n, 0, &v)) {
			t->has_num[n] = true;
			t->num[n] = v;
		}
	}
}

static inline void
txl_cb(void *arg, const struct al_tx *tx, unsigned stage, unsigned dir)
{
	struct txl *l = arg;
	struct txl_tx *t = NULL;

	if (l->only != 0 && tx->proto != l->only)
		return; /* another flow of the capture (its DNS, say) */
	l->calls++;
	if (l->tx == NULL && (l->tx = calloc(TXL_MAX_TX, sizeof(*l->tx))) == NULL)
		abort();
	/* A transaction's first stage opens an entry; later stages find it again. */
	if (tx->ready != stage) {
		for (unsigned i = l->n; i-- > 0;) {
			if (l->tx[i].key == tx && l->tx[i].index == tx->index &&
					l->tx[i].proto == tx->proto) {
				t = &l->tx[i];
				break;
			}
		}
	}
	if (t == NULL) {
		if (l->n == TXL_MAX_TX) {
			l->overflow++;
			return;
		}
		t = &l->tx[l->n++];
		t->key = tx;
		t->index = tx->index;
		t->proto = tx->proto;
	}
	t->ready = tx->ready;
	t->anomalies = tx->anomalies;
	if (t->n_stages < 8) {
		t->stages[t->n_stages] = stage;
		t->dirs[t->n_stages++] = dir;
	}
	txl_snapshot(t, tx);
}

static inline void
txl_free(struct txl *l)
{
	for (unsigned i = 0; i < l->n; i++)
		for (unsigned b = 0; b < AL_BUF__COUNT; b++)
			for (unsigned k = 0; k < TXL_MAX_INST; k++)
				free(l->tx[i].buf[b][k].p);
	free(l->tx);
	memset(l, 0, sizeof(*l));
}

/* Buffer b (instance i) of logged transaction t as a C string, or NULL when absent. */
static inline const char *
txl_str(const struct txl *l, unsigned t, enum al_buf b, unsigned i)
{
	if (t >= l->n || i >= TXL_MAX_INST || !l->tx[t].buf[b][i].has)
		return NULL;
	return (const char *)l->tx[t].buf[b][i].p;
}

static inline uint32_t
txl_len(const struct txl *l, unsigned t, enum al_buf b, unsigned i)
{
	return t < l->n && i < TXL_MAX_INST ? l->tx[t].buf[b][i].len : 0;
}

static inline bool
txl_anomaly(const struct txl *l, unsigned t, enum al_proto p, const char *name)
{
	int id = al_anomaly_find(p, name);

	return t < l->n && id >= 0 && (l->tx[t].anomalies >> id & 1);
}

/* Field-by-field equality of two logs: same transactions, stages, buffers, numbers. */
static inline bool
txl_equal(const struct txl *a, const struct txl *b, char *why, size_t whylen)
{
	if (a->n != b->n) {
		snprintf(why, whylen, "%u transactions vs %u", a->n, b->n);
		return false;
	}
	for (unsigned i = 0; i < a->n; i++) {
		const struct txl_tx *x = &a->tx[i], *y = &b->tx[i];

		if (x->index != y->index || x->ready != y->ready || x->anomalies != y->anomalies ||
				x->n_stages != y->n_stages ||
				memcmp(x->stages, y->stages, sizeof(x->stages)) != 0) {
			snprintf(why, whylen,
					"tx %u: index/stages/anomalies differ (%#x/%#x, %#llx/%#llx)",
					i, x->ready, y->ready, (unsigned long long)x->anomalies,
					(unsigned long long)y->anomalies);
			return false;
		}
		for (unsigned k = 0; k < AL_BUF__COUNT; k++) {
			for (unsigned j = 0; j < TXL_MAX_INST; j++) {
				const struct txl_buf *u = &x->buf[k][j], *v = &y->buf[k][j];

				if (u->has != v->has || u->len != v->len ||
						(u->has && memcmp(u->p, v->p, u->len) != 0)) {
					snprintf(why, whylen, "tx %u: buffer %s[%u] differs", i,
							al_buf_info((enum al_buf)k)->name, j);
					return false;
				}
			}
		}
		for (unsigned k = 0; k < AL_NUM__COUNT; k++) {
			if (x->has_num[k] != y->has_num[k] || x->num[k] != y->num[k]) {
				snprintf(why, whylen, "tx %u: number %s differs", i,
						al_num_info((enum al_num)k)->name);
				return false;
			}
		}
	}
	return true;
}

/* One message of a hand-written session. */
struct txl_msg {
	unsigned dir;
	const char *data;
	uint32_t len; /* 0: strlen(data) */
};

/*
 * Feed a session to a new TCP flow (sport 40000 to dport) in pieces of at most chunk bytes
 * (0: each message whole), close both directions and free the flow. Returns the protocol the
 * flow was detected as.
 */
static inline enum al_proto
txl_run(struct al_ctx *c, uint16_t dport, const struct txl_msg *m, unsigned n, uint32_t chunk,
		struct txl *log)
{
	struct al_flow *f = al_flow_new(c, true, 40000, dport);
	enum al_proto p;

	if (f == NULL)
		return AL_PROTO_NONE;
	for (unsigned i = 0; i < n; i++) {
		uint32_t len = m[i].len != 0 ? m[i].len : (uint32_t)strlen(m[i].data);
		const uint8_t *d = (const uint8_t *)m[i].data;

		for (uint32_t off = 0; off < len;) {
			uint32_t k = chunk == 0 || len - off < chunk ? len - off : chunk;

			al_feed(c, f, m[i].dir, d + off, k, txl_cb, log);
			off += k;
		}
	}
	al_close(c, f, AL_TO_SERVER, txl_cb, log);
	al_close(c, f, AL_TO_CLIENT, txl_cb, log);
	p = al_flow_proto(f);
	al_flow_free(c, f);
	return p;
}

/*
 * The same, straight to a parser (no detection): for sessions whose first bytes are not the
 * protocol's. Returns the parser's last feed result (-1: it gave up).
 */
static inline int
txl_run_parser(struct al_ctx *c, const struct al_parser *ps, const struct txl_msg *m, unsigned n,
		uint32_t chunk, struct txl *log)
{
	const struct al_emit e = { .ctx = c, .cb = txl_cb, .arg = log };
	void *st = ps->state_new(c, true);
	int rc = 0;

	if (st == NULL)
		return -1;
	for (unsigned i = 0; i < n && rc == 0; i++) {
		uint32_t len = m[i].len != 0 ? m[i].len : (uint32_t)strlen(m[i].data);
		const uint8_t *d = (const uint8_t *)m[i].data;

		for (uint32_t off = 0; off < len && rc == 0;) {
			uint32_t k = chunk == 0 || len - off < chunk ? len - off : chunk;

			rc = ps->feed(c, st, m[i].dir, d + off, k, &e);
			off += k;
		}
	}
	if (rc == 0 && ps->close != NULL) {
		ps->close(c, st, AL_TO_SERVER, &e);
		ps->close(c, st, AL_TO_CLIENT, &e);
	}
	ps->state_free(c, st);
	return rc;
}

/* Whether the capture at path exists: tests of captures skip (and say so) when it does not. */
static inline bool
txl_have(const char *path)
{
	FILE *fp = fopen(path, "rb");

	if (fp == NULL) {
		printf("skipped: %s is absent\n", path);
		return false;
	}
	fclose(fp);
	return true;
}

#endif /* AL_TXLOG_H */
