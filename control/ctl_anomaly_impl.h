/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a detector is and what detectors share; private to ctl_anomaly*.c (and their unit test).
 *
 * A detector is one file that exports one struct ctl_anomaly_def: its name, its config struct
 * with defaults and YAML fields, its finding templates and its callbacks. ctl_anomaly.c's table
 * lists the defs; defaults, the `detectors:` section, the counters and status JSON, and the
 * store's baselines all go through that table (docs/ARCHITECTURE.md, "Add an anomaly detector").
 */
#ifndef CTL_ANOMALY_IMPL_H
#define CTL_ANOMALY_IMPL_H

#include <stddef.h>

#include "ctl_anomaly.h"
#include "vg_yaml.h"
#include "ctl_baseline.h"
#include "ctl_map.h"

/* Packets and bytes a flow added since its previous event, per direction. */
struct ctl_flow_delta {
	uint64_t pkts[2];
	uint64_t bytes[2];
};

struct ctl_anomaly;

struct ctl_anomaly_def {
	/*
	 * The detector's name, never changed: its key under `detectors:` in vigil.yaml, under
	 * analysis.detectors in the status JSON (so the detector label of
	 * vigil_anomaly_findings_total), the detector of its alerts and of its baselines in the
	 * store.
	 */
	const char *name;
	/*
	 * Its config: a struct that starts with `struct ctl_anomaly_common c` and fits
	 * CTL_ANOMALY_CFG_MAX (CTL_ANOMALY_CFG_FITS checks both), the defaults it starts from, and
	 * its YAML fields over it, CTL_ANOMALY_COMMON_FIELDS first. A VG_YT_CUSTOM row also sets
	 * .off to the member it fills, so that the fields say where every key lands.
	 */
	size_t cfg_size;
	const void *defaults;
	const struct vg_yaml_field *fields;
	/*
	 * Set up private state. id is the detector's row (for ctl_anomaly_emit, _untracked and its
	 * baselines' keys); cfg its config, inside d for d's lifetime. Returns 0 or -errno.
	 */
	int (*create)(struct ctl_anomaly *d, unsigned id, const void *cfg, void **priv);
	/* Every flow start, update and end, with what it added since its previous event. */
	void (*on_flow)(void *priv, const struct dp_event *ev, const struct ctl_flow_delta *dl);
	/* Periodically, with the dataplane clock. */
	void (*on_tick)(void *priv, uint64_t now_ns);
	/*
	 * Detectors that judge fixed intervals: judge every open one at now_ns as if it had run its
	 * course (vigild stopping). NULL for those that judge as events arrive.
	 */
	void (*close)(void *priv, uint64_t now_ns);
	void (*free)(void *priv);
	/* Live state entries (for counters). */
	uint32_t (*entries)(const void *priv);
	const struct ctl_alert_template *templates;
	unsigned n_templates;
};

/* The row id's def (id < ctl_anomaly_count()). */
const struct ctl_anomaly_def *ctl_anomaly_def(unsigned id);

/* After a detector's config struct: it starts with the common settings and fits its place. */
#define CTL_ANOMALY_CFG_FITS(type)                                                    \
	_Static_assert(offsetof(type, c) == 0 && sizeof(type) <= CTL_ANOMALY_CFG_MAX, \
			#type " must start with struct ctl_anomaly_common c and fit " \
			      "CTL_ANOMALY_CFG_MAX")

/* The YAML fields of struct ctl_anomaly_common, first in every detector's field table. */
#define CTL_ANOMALY_COMMON_FIELDS                                                      \
	{ .name = "enabled",                                                           \
		.type = VG_YT_BOOL,                                                    \
		.off = offsetof(struct ctl_anomaly_common, enabled) },                 \
			{ .name = "block",                                             \
				.type = VG_YT_BOOL,                                    \
				.off = offsetof(struct ctl_anomaly_common, block) },   \
	{                                                                              \
		.name = "block_ttl", .type = VG_YT_MS,                                 \
		.off = offsetof(struct ctl_anomaly_common, block_ttl_ms), .min = 1000, \
		.max = 30ULL * 24 * 3600 * 1000                                        \
	}

/* Read a number from lo to hi; reports the error naming key. Returns 0 or -EINVAL. */
int ctl_anomaly_parse_double(struct vg_yaml *y, yaml_node_t *v, const char *key, double lo,
		double hi, double *out);

/* Define fn, a VG_YT_CUSTOM parser of a double member of type from lo to hi. */
#define CTL_ANOMALY_DOUBLE(fn, type, member, lo, hi)                                        \
	static int fn(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)        \
	{                                                                                   \
		return ctl_anomaly_parse_double(y, v, key, lo, hi, &((type *)obj)->member); \
	}

struct ctl_anomaly {
	struct ctl_anomaly_cfg cfg;
	ctl_alert_cb cb;
	void *arg;
	struct ctl_baselines *bl;
	const char *names[CTL_ANOMALY_MAX_DETECTORS]; /* the baselines' detector names */
	struct ctl_map *flows; /* (worker, flow_id) -> counters at the previous event */
	uint64_t clock_ns;     /* newest dataplane time seen */
	void *priv[CTL_ANOMALY_MAX_DETECTORS];
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
