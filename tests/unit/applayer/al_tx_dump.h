/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A text log of what a parser reports, for tests: one line per al_tx_cb call, then the
 * buffers and numbers final at that stage and the anomalies the transaction carries:
 *
 *   tx 0 stage 0x1 ts
 *     dns.query ts #0 = google.com
 *     dns.rrtype ts #0 = 16
 *     anomaly z_flag_set
 *
 * Bytes outside printable ASCII (and '\') are written \xNN. Tests assert lines with
 * txd_has() and compare two logs to check that a split changes nothing. Header-only.
 */
#ifndef AL_TX_DUMP_H
#define AL_TX_DUMP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "al.h"

struct txd_log {
	char *s;
	size_t len, cap;
	unsigned calls;
};

static inline void
txd_printf(struct txd_log *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(l->s != NULL ? l->s + l->len : NULL, l->cap - l->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && l->len + (size_t)n < l->cap)
			break;
		l->cap = (l->cap + (size_t)n + 1) * 2;
		l->s = realloc(l->s, l->cap);
		if (l->s == NULL)
			abort();
	}
	l->len += (size_t)n;
}

static inline void
txd_bytes(struct txd_log *l, const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			txd_printf(l, "%c", p[i]);
		else
			txd_printf(l, "\\x%02x", p[i]);
	}
}

/* al_tx_cb: arg is a struct txd_log. */
static inline void
txd_cb(void *arg, const struct al_tx *tx, unsigned stage, unsigned dir)
{
	struct txd_log *l = arg;
	const char *dn[2] = { "ts", "tc" };

	l->calls++;
	txd_printf(l, "tx %u stage 0x%x %s\n", tx->index, stage, dn[dir & 1]);
	for (unsigned b = AL_BUF_NONE + 1; b < AL_BUF__COUNT; b++) {
		const struct al_buf_info *bi = al_buf_info((enum al_buf)b);

		if (bi->proto != tx->proto || bi->stage != stage)
			continue;
		for (unsigned i = 0; i < 4096; i++) {
			const uint8_t *p;
			uint32_t n;

			if (!al_tx_buf(tx, (enum al_buf)b, i, &p, &n)) {
				/* multi buffers: Suricata stops at the first absent instance */
				break;
			}
			txd_printf(l, "  %s %s #%u = ", bi->name, dn[bi->dir], i);
			txd_bytes(l, p, n);
			txd_printf(l, "\n");
		}
	}
	for (unsigned k = AL_NUM_NONE + 1; k < AL_NUM__COUNT; k++) {
		const struct al_num_info *ni = al_num_info((enum al_num)k);

		if (ni->proto != tx->proto || ni->stage != stage)
			continue;
		for (unsigned i = 0; i < 4096; i++) {
			uint64_t v;

			if (!al_tx_num(tx, (enum al_num)k, i, &v))
				break;
			txd_printf(l, "  %s %s #%u = %llu\n", ni->name, dn[ni->dir], i,
					(unsigned long long)v);
		}
	}
	for (unsigned a = 0; a < 64; a++)
		if (tx->anomalies & (1ULL << a))
			txd_printf(l, "  anomaly %s\n",
					al_anomaly_name((enum al_proto)tx->proto, a));
}

static inline bool
txd_has(const struct txd_log *l, const char *line)
{
	return l->s != NULL && strstr(l->s, line) != NULL;
}

/* How many times line occurs. */
static inline unsigned
txd_count(const struct txd_log *l, const char *line)
{
	unsigned n = 0;

	for (const char *p = l->s; p != NULL && (p = strstr(p, line)) != NULL; p += strlen(line))
		n++;
	return n;
}

static inline void
txd_free(struct txd_log *l)
{
	free(l->s);
	*l = (struct txd_log){ 0 };
}

#endif /* AL_TX_DUMP_H */
