/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>
#include <time.h>

#include "dp_clock.h"

void
dp_clock_init(struct dp_clock *c, enum dp_clock_source source, uint64_t pkt_scale)
{
	struct timespec ts;
	uint64_t hz = rte_get_tsc_hz();

	memset(c, 0, sizeof(*c));
	c->source = source;
	c->pkt_scale = pkt_scale ? pkt_scale : 1;
	c->mult = hz ? (1000000000ULL << 32) / hz : 0;
	if (source == DP_CLOCK_TSC) {
		clock_gettime(CLOCK_REALTIME, &ts);
		c->tsc0 = rte_rdtsc();
		c->base_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
		c->now_ns = c->base_ns;
	}
}
