/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The detector table and what detectors share; private to ctl_anomaly*.c. Adding a detector is
 * one file with one struct ctl_anomaly_ops, a row in ctl_anomaly.c's table, and its config.
 */
#ifndef CTL_ANOMALY_IMPL_H
#define CTL_ANOMALY_IMPL_H

#include <stddef.h>

#include "ctl_anomaly.h"
#include "ctl_baseline.h"
#include "ctl_map.h"

/* Packets and bytes a flow added since its previous event, per direction. */
struct ctl_flow_delta {
	uint64_t pkts[2];
	uint64_t bytes[2];
};

struct ctl_anomaly;

struct ctl_anomaly_ops {
	const char *name;
	size_t cfg_off; /* offset of the detector's config (it starts with ctl_anomaly_common) */
	/* Set up private state; returns 0 or -errno. */
	int (*create)(struct ctl_anomaly *d, void **priv);
	/* Every flow start, update and end, with what it added since its previous event. */
	void (*on_flow)(void *priv, const struct dp_event *ev, const struct ctl_flow_delta *dl);
	/* Periodically, with the dataplane clock. */
	void (*on_tick)(void *priv, uint64_t now_ns);
	void (*free)(void *priv);
	/* Live state entries (for counters). */
	uint32_t (*entries)(const void *priv);
	const struct ctl_alert_template *templates;
	unsigned n_templates;
};

extern const struct ctl_anomaly_ops ctl_anomaly_port_scan;
extern const struct ctl_anomaly_ops ctl_anomaly_syn_flood;
extern const struct ctl_anomaly_ops ctl_anomaly_dns_tunnel;
extern const struct ctl_anomaly_ops ctl_anomaly_brute_force;
extern const struct ctl_anomaly_ops ctl_anomaly_exfil;
extern const struct ctl_anomaly_ops ctl_anomaly_rate;
extern const struct ctl_anomaly_ops ctl_anomaly_icmp_tunnel;

struct ctl_anomaly {
	struct ctl_anomaly_cfg cfg;
	ctl_alert_cb cb;
	void *arg;
	struct ctl_baselines *bl;
	struct ctl_map *flows; /* (worker, flow_id) -> counters at the previous event */
	uint64_t clock_ns;     /* newest dataplane time seen */
	void *priv[CTL_ANOMALY__COUNT];
	struct ctl_anomaly_counters c;
};

/* A host as a map key. */
struct ctl_host_key {
	uint8_t family;
	uint8_t pad[3];
	uint8_t addr[16];
};

static inline struct ctl_host_key
ctl_host_key(uint8_t family, const uint8_t *addr)
{
	struct ctl_host_key k;

	__builtin_memset(&k, 0, sizeof(k));
	k.family = family;
	__builtin_memcpy(k.addr, addr, family == 4 ? 4 : 16);
	return k;
}

/*
 * Hand a finding to the callback: fills the block request when the detector opted in (and the
 * source may be blocked), the window, and the explanation; counts it.
 */
void ctl_anomaly_emit(struct ctl_anomaly *d, unsigned det, struct ctl_alert *a);

/* Count an event a detector could not judge because its state table was full. */
static inline void
ctl_anomaly_untracked(struct ctl_anomaly *d, unsigned det)
{
	d->c.untracked[det]++;
}

/* Inside the internal networks? With none configured, every address is. */
static inline bool
ctl_anomaly_internal(const struct ctl_anomaly *d, uint8_t family, const uint8_t *addr)
{
	return d->cfg.n_internal == 0 ||
	       ctl_net_contains(d->cfg.internal, d->cfg.n_internal, family, addr);
}

/* How a value compares with its baseline. */
struct ctl_judgement {
	bool ready; /* the baseline finished its warm-up */
	double mean;
	double sd;    /* the deviation used (with floors) */
	double sigma; /* (x - mean) / sd */
};

void ctl_anomaly_judge(const struct ctl_anomaly *d, const struct ctl_baseline *b, double x,
		uint32_t warmup, double min_sd, struct ctl_judgement *j);

/*
 * Teach the baseline x. Once warm, x is clipped to mean + sigma * sd first, so that an attack
 * does not teach itself as normal while a lasting change is still learnt, slowly.
 */
void ctl_anomaly_learn(struct ctl_anomaly *d, struct ctl_baseline *b, double x, double alpha,
		double sigma, uint32_t warmup, double min_sd, uint64_t now_ns);

/*
 * Remove the entries of m whose uint64_t at last_off in the value is below cutoff (keys of up
 * to 64 bytes).
 */
void ctl_anomaly_gc(struct ctl_map *m, size_t key_len, size_t last_off, uint64_t cutoff);

/* Detector id from its ops pointer (its row in the table). */
unsigned ctl_anomaly_id(const struct ctl_anomaly_ops *ops);

/* FNV-1a of n bytes: cheap and good enough to tell names apart in a set. */
uint64_t ctl_anomaly_hash(const char *s, size_t n);

/* The public-suffix list (ctl_anomaly_psl.c). */
struct ctl_psl;

/* Parse the list at path. Returns NULL with the reason (file, line) in err. */
struct ctl_psl *ctl_psl_load(const char *path, char *err, size_t errlen);
void ctl_psl_free(struct ctl_psl *p);
size_t ctl_psl_rules(const struct ctl_psl *p);

/*
 * Offset in name (lower case, no trailing dot) where its registered domain starts: 0 when the
 * name is one, len when the name is a public suffix itself (it has no registered domain).
 */
size_t ctl_psl_registered(const struct ctl_psl *p, const char *name, size_t len);

/* Most intervals of silence fed to a baseline as zeros in one go. */
#define CTL_ANOMALY_MAX_IDLE_INTERVALS 1024

#endif /* CTL_ANOMALY_IMPL_H */
