/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Behaviour baselines: an exponentially weighted running mean and variance per (detector,
 * metric, entity), with a warm-up before a baseline may judge anything, persisted through the
 * store so that a restart keeps what was learnt.
 *
 * The update is the incremental EWMA of Finch (2009): with d = x - mean,
 *   mean += alpha * d;  var = (1 - alpha) * (var + alpha * d * d)
 * which equals the weighted mean and variance of all samples with weight alpha(1-alpha)^k for
 * the sample k steps back (and (1-alpha)^(n-1) for the first, which seeds the mean).
 */
#ifndef CTL_BASELINE_H
#define CTL_BASELINE_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ctl_store;

struct ctl_ewma {
	double mean;
	double var;
	uint64_t n; /* samples seen */
};

static inline void
ctl_ewma_update(struct ctl_ewma *e, double x, double alpha)
{
	if (e->n == 0) {
		e->mean = x;
		e->var = 0;
	} else {
		double d = x - e->mean, inc = alpha * d;

		e->mean += inc;
		e->var = (1 - alpha) * (e->var + d * inc);
	}
	e->n++;
}

static inline double
ctl_ewma_stddev(const struct ctl_ewma *e)
{
	return e->var > 0 ? sqrt(e->var) : 0;
}

/* True once the baseline has seen warmup samples. */
static inline bool
ctl_ewma_ready(const struct ctl_ewma *e, uint64_t warmup)
{
	return e->n >= warmup;
}

/*
 * The standard deviation used to judge x: never below min_frac of the mean nor below min_abs,
 * so that a perfectly regular history (variance 0) does not make every wobble infinitely far.
 */
static inline double
ctl_ewma_judge_stddev(const struct ctl_ewma *e, double min_frac, double min_abs)
{
	double s = ctl_ewma_stddev(e), floor = fabs(e->mean) * min_frac;

	if (s < floor)
		s = floor;
	if (s < min_abs)
		s = min_abs;
	return s;
}

/* Metrics that baselines measure. */
enum ctl_metric {
	CTL_METRIC_SYN_RATE = 1,  /* TCP connection attempts per second towards a service */
	CTL_METRIC_BYTES_OUT = 2, /* bytes a host sent out of the internal networks, per interval */
	CTL_METRIC_PPS = 3,	  /* packets per second of a host or service */
	CTL_METRIC_BPS = 4,	  /* bytes per second of a host or service */
	CTL_METRIC__COUNT
};

/* "syn_rate", "bytes_out", "pps", "bps"; "?" otherwise. */
const char *ctl_metric_name(unsigned m);

/* What a baseline is about. Addresses in network order, IPv4 in the first 4 bytes. */
struct ctl_bl_key {
	uint8_t detector; /* index into the names given to ctl_baselines_create() */
	uint8_t metric;	  /* enum ctl_metric */
	uint8_t family;	  /* 4 or 6 */
	uint8_t proto;	  /* for services; 0 for hosts */
	uint16_t port;	  /* for services; 0 for hosts */
	uint8_t pad[2];
	uint8_t addr[16];
};

struct ctl_baseline {
	struct ctl_ewma e;
	uint64_t updated_ns;
	bool dirty; /* changed since the last save */
};

struct ctl_baselines;

/*
 * A table of up to capacity baselines. det_names[i] names detector index i in the store (the
 * pointers must outlive the table). Returns NULL and sets errno. Needs EAL (rte_hash).
 */
struct ctl_baselines *ctl_baselines_create(
		uint32_t capacity, const char *const *det_names, unsigned n_names);
void ctl_baselines_free(struct ctl_baselines *bl);

/* The baseline for k, or NULL. */
struct ctl_baseline *ctl_baselines_find(struct ctl_baselines *bl, const struct ctl_bl_key *k);

/* The baseline for k, created empty when absent; NULL (errno ENOSPC) when the table is full. */
struct ctl_baseline *ctl_baselines_get(struct ctl_baselines *bl, const struct ctl_bl_key *k);

/* Add a sample: update, stamp and mark dirty. */
void ctl_baseline_add(struct ctl_baseline *b, double x, double alpha, uint64_t now_ns);

uint32_t ctl_baselines_count(const struct ctl_baselines *bl);

/* Readable entity of a key: "10.0.0.1" for a host, "10.0.0.1:443/TCP" for a service. */
void ctl_bl_entity(const struct ctl_bl_key *k, char *buf, size_t len);

/*
 * Queue every dirty baseline to the store (it writes them with its next batch). Returns the
 * number queued, or -ENOSPC when the store's queue filled up (the rest stay dirty).
 */
int ctl_baselines_save(struct ctl_baselines *bl, struct ctl_store *s);

/*
 * Load the stored baselines of the known detectors. Rows of unknown detectors or with a key
 * this code did not write are skipped. Returns the number loaded or -errno.
 */
int ctl_baselines_load(struct ctl_baselines *bl, struct ctl_store *s);

#endif /* CTL_BASELINE_H */
