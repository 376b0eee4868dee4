/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet and bit rates of the ports, the workers and their queues, from two readings of the
 * workers' counters: a rate is the difference of the two over the time between them.
 *
 * A reading (struct ctl_reading) holds every worker's per-port counters; a worker polls at most
 * one queue of each port, so (worker, port) is a queue. The periodic stats line (vigild --stats,
 * ctl_loop.c) takes one per line; ctl_rates keeps the last two of the readings control takes
 * every second, for the status, GET /api/v1/workers and the dashboard: the same rates for every
 * client however often it asks, at most about two seconds old.
 */
#ifndef CTL_RATES_H
#define CTL_RATES_H

#include <stdint.h>

#include <jansson.h>

#include "dp.h"

/* Every worker, or every port, in ctl_reading_rate(). */
#define CTL_RATES_ALL (~0u)

struct ctl_reading;

/* A reading sized for dp's workers and ports (all zero, taken at time 0). NULL: no memory. */
struct ctl_reading *ctl_reading_create(const struct dp *dp);
void ctl_reading_free(struct ctl_reading *r);

/* Read the counters into r; now_ms: the monotonic time of the reading. */
void ctl_reading_take(struct ctl_reading *r, const struct dp *dp, uint64_t now_ms);

struct ctl_rate {
	double rx_pps, rx_bps; /* received, packets and bits per second */
	double tx_pps, tx_bps; /* sent */
	double secs;	       /* the time between the readings */
};

/*
 * The rates of worker w (CTL_RATES_ALL: summed over the workers) on port p (CTL_RATES_ALL:
 * summed over the ports) between an older reading a and a newer b. Bits count the frames as
 * received (pkt_len, without the Ethernet FCS). -EAGAIN when b is not later than a.
 */
int ctl_reading_rate(const struct ctl_reading *a, const struct ctl_reading *b, unsigned w,
		unsigned p, struct ctl_rate *out);

/* The last two readings control took, one every CTL_RATES_INTERVAL_MS. */
#define CTL_RATES_INTERVAL_MS 1000

struct ctl_rates;

struct ctl_rates *ctl_rates_create(const struct dp *dp);
void ctl_rates_free(struct ctl_rates *r);

/* On the control lcore, on every pass of its loop: a reading when one is due. */
void ctl_rates_tick(struct ctl_rates *r, uint64_t now_ms);

/*
 * Add worker w's rates to its JSON object (a status or GET /api/v1/workers entry):
 * rx_pps, rx_bps, tx_pps, tx_bps over its ports, and the same in each element of its "queues"
 * array (one per queue it polls, in dp_worker_queues() order). null until control has two
 * readings, or when r is NULL. Any thread.
 */
void ctl_rates_annotate(struct ctl_rates *r, const struct dp *dp, unsigned w, json_t *worker);

/* Seconds between the two readings the rates come from (0: fewer than two yet). Any thread. */
double ctl_rates_interval(struct ctl_rates *r);

#endif /* CTL_RATES_H */
