/* SPDX-License-Identifier: BSD-3-Clause */
/* Monotonic time for threads that wait: milliseconds now, and a deadline for timed waits on
 * condition variables created with CLOCK_MONOTONIC. */
#ifndef VG_TIME_H
#define VG_TIME_H

#include <stdint.h>
#include <time.h>

static inline uint64_t
vg_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* *ts = CLOCK_MONOTONIC now + ms. */
static inline void
vg_mono_deadline(struct timespec *ts, uint64_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

#endif /* VG_TIME_H */
