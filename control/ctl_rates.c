/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_rates.h"

struct rd_ctr {
	uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes;
};

struct ctl_reading {
	uint64_t at_ms;
	unsigned n_workers, n_ports;
	struct rd_ctr c[]; /* [worker * n_ports + port] */
};

struct ctl_reading *
ctl_reading_create(const struct dp *dp)
{
	unsigned nw = dp_n_workers(dp), np = dp_n_ports(dp);
	struct ctl_reading *r = calloc(1, sizeof(*r) + (size_t)nw * np * sizeof(r->c[0]));

	if (r == NULL)
		return NULL;
	r->n_workers = nw;
	r->n_ports = np;
	return r;
}

void
ctl_reading_free(struct ctl_reading *r)
{
	free(r);
}

void
ctl_reading_take(struct ctl_reading *r, const struct dp *dp, uint64_t now_ms)
{
	for (unsigned w = 0; w < r->n_workers; w++) {
		const struct dp_worker_counters *c = dp_worker_counters(dp, w);

		for (unsigned p = 0; p < r->n_ports; p++) {
			struct rd_ctr *d = &r->c[w * r->n_ports + p];

			d->rx_pkts = dp_read_u64(&c->port[p].rx_pkts);
			d->rx_bytes = dp_read_u64(&c->port[p].rx_bytes);
			d->tx_pkts = dp_read_u64(&c->port[p].tx_pkts);
			d->tx_bytes = dp_read_u64(&c->port[p].tx_bytes);
		}
	}
	r->at_ms = now_ms;
}

int
ctl_reading_rate(const struct ctl_reading *a, const struct ctl_reading *b, unsigned w, unsigned p,
		struct ctl_rate *out)
{
	struct rd_ctr d = { 0 };

	memset(out, 0, sizeof(*out));
	if (b->at_ms <= a->at_ms || a->n_workers != b->n_workers || a->n_ports != b->n_ports)
		return -EAGAIN;
	for (unsigned i = 0; i < b->n_workers; i++) {
		if (w != CTL_RATES_ALL && i != w)
			continue;
		for (unsigned j = 0; j < b->n_ports; j++) {
			const struct rd_ctr *x = &a->c[i * a->n_ports + j];
			const struct rd_ctr *y = &b->c[i * b->n_ports + j];

			if (p != CTL_RATES_ALL && j != p)
				continue;
			/* Counters only grow: each is read whole, and a later reading is never
			 * smaller. */
			d.rx_pkts += y->rx_pkts - x->rx_pkts;
			d.rx_bytes += y->rx_bytes - x->rx_bytes;
			d.tx_pkts += y->tx_pkts - x->tx_pkts;
			d.tx_bytes += y->tx_bytes - x->tx_bytes;
		}
	}
	out->secs = (double)(b->at_ms - a->at_ms) / 1000.0;
	out->rx_pps = (double)d.rx_pkts / out->secs;
	out->rx_bps = 8.0 * (double)d.rx_bytes / out->secs;
	out->tx_pps = (double)d.tx_pkts / out->secs;
	out->tx_bps = 8.0 * (double)d.tx_bytes / out->secs;
	return 0;
}

struct ctl_rates {
	const struct dp *dp;
	pthread_mutex_t mu; /* prev, cur and n: control writes, API threads read */
	struct ctl_reading *prev, *cur;
	unsigned n; /* readings taken (2 or more: prev and cur hold the last two) */
	uint64_t next_ms;
};

struct ctl_rates *
ctl_rates_create(const struct dp *dp)
{
	struct ctl_rates *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->dp = dp;
	r->prev = ctl_reading_create(dp);
	r->cur = ctl_reading_create(dp);
	if (r->prev == NULL || r->cur == NULL) {
		ctl_rates_free(r);
		return NULL;
	}
	pthread_mutex_init(&r->mu, NULL);
	return r;
}

void
ctl_rates_free(struct ctl_rates *r)
{
	if (r == NULL)
		return;
	if (r->prev != NULL && r->cur != NULL)
		pthread_mutex_destroy(&r->mu);
	ctl_reading_free(r->prev);
	ctl_reading_free(r->cur);
	free(r);
}

void
ctl_rates_tick(struct ctl_rates *r, uint64_t now_ms)
{
	struct ctl_reading *t;

	if (now_ms < r->next_ms)
		return;
	r->next_ms = now_ms + CTL_RATES_INTERVAL_MS;
	pthread_mutex_lock(&r->mu);
	t = r->prev;
	r->prev = r->cur;
	r->cur = t;
	ctl_reading_take(r->cur, r->dp, now_ms);
	r->n++;
	pthread_mutex_unlock(&r->mu);
}

static void
set_rates(json_t *o, const struct ctl_rate *rt)
{
	json_object_set_new(o, "rx_pps", rt ? json_real(rt->rx_pps) : json_null());
	json_object_set_new(o, "rx_bps", rt ? json_real(rt->rx_bps) : json_null());
	json_object_set_new(o, "tx_pps", rt ? json_real(rt->tx_pps) : json_null());
	json_object_set_new(o, "tx_bps", rt ? json_real(rt->tx_bps) : json_null());
}

void
ctl_rates_annotate(struct ctl_rates *r, const struct dp *dp, unsigned w, json_t *worker)
{
	uint16_t port[VG_MAX_PORTS], queue[VG_MAX_PORTS];
	unsigned nq = dp_worker_queues(dp, w, port, queue, VG_MAX_PORTS);
	json_t *queues = json_object_get(worker, "queues");
	struct ctl_rate rt;
	bool have;

	if (nq > VG_MAX_PORTS)
		nq = VG_MAX_PORTS;
	if (r != NULL)
		pthread_mutex_lock(&r->mu);
	have = r != NULL && r->n >= 2 &&
	       ctl_reading_rate(r->prev, r->cur, w, CTL_RATES_ALL, &rt) == 0;
	set_rates(worker, have ? &rt : NULL);
	for (unsigned i = 0; i < nq && i < json_array_size(queues); i++) {
		have = r != NULL && r->n >= 2 &&
		       ctl_reading_rate(r->prev, r->cur, w, port[i], &rt) == 0;
		set_rates(json_array_get(queues, i), have ? &rt : NULL);
	}
	if (r != NULL)
		pthread_mutex_unlock(&r->mu);
}

double
ctl_rates_interval(struct ctl_rates *r)
{
	double s = 0;

	if (r == NULL)
		return 0;
	pthread_mutex_lock(&r->mu);
	if (r->n >= 2 && r->cur->at_ms > r->prev->at_ms)
		s = (double)(r->cur->at_ms - r->prev->at_ms) / 1000.0;
	pthread_mutex_unlock(&r->mu);
	return s;
}
