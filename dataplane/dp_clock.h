/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dataplane's one clock: nanoseconds since the Unix epoch. Timeouts, aging, event intervals,
 * rate limits and every later time-based decision read it.
 *
 * Live, it is the wall-clock time at start plus the TSC since then (no division on the fast
 * path: a 32.32 fixed-point multiplier). When replaying a capture it is the packets' own
 * timestamps (net_pcap with the RX timestamp offload), so that a pcap case gives the same result
 * on any machine at any replay speed: the clock moves only when a packet says so, and never
 * backwards.
 */
#ifndef DP_CLOCK_H
#define DP_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_cycles.h>

enum dp_clock_source {
	DP_CLOCK_TSC = 0,
	DP_CLOCK_PACKET = 1,
};

struct dp_clock {
	enum dp_clock_source source;
	uint64_t now_ns;
	uint64_t base_ns; /* TSC mode: wall-clock time when tsc0 was read */
	uint64_t tsc0;
	uint64_t mult;	    /* ns per cycle, 32.32 fixed point */
	uint64_t pkt_scale; /* ns per packet timestamp unit */
};

/*
 * Start a clock. In TSC mode it reads the wall clock once; in packet mode it stays at 0 until
 * the first packet. pkt_scale: nanoseconds per packet timestamp unit.
 */
void dp_clock_init(struct dp_clock *c, enum dp_clock_source source, uint64_t pkt_scale);

/* Live: the time at TSC reading tsc (a reading taken anyway: a TSC read is not free). No
 * effect in packet mode. tsc never goes back between calls. */
static inline uint64_t
dp_clock_tick_at(struct dp_clock *c, uint64_t tsc)
{
	if (c->source == DP_CLOCK_TSC) {
		uint64_t cycles = tsc - c->tsc0;

		c->now_ns = c->base_ns + (uint64_t)(((unsigned __int128)cycles * c->mult) >> 32);
	}
	return c->now_ns;
}

/* Live: read the TSC. No effect in packet mode. */
static inline uint64_t
dp_clock_tick(struct dp_clock *c)
{
	return c->source == DP_CLOCK_TSC ? dp_clock_tick_at(c, rte_rdtsc()) : c->now_ns;
}

/* Packet mode: advance to a packet's timestamp; never backwards. */
static inline uint64_t
dp_clock_packet(struct dp_clock *c, uint64_t ts)
{
	uint64_t ns = ts * c->pkt_scale;

	if (ns > c->now_ns)
		c->now_ns = ns;
	return c->now_ns;
}

/* Set the clock (unit tests inject time this way). */
static inline void
dp_clock_set(struct dp_clock *c, uint64_t ns)
{
	c->now_ns = ns;
}

#endif /* DP_CLOCK_H */
