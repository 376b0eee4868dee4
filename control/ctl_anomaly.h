/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Anomaly detectors on the control lcore. Each detector is a row of a table (name, on_flow,
 * on_tick, free: see ctl_anomaly_impl.h) fed with the workers' flow events; what it finds becomes a
 * ctl_alert handed to a callback (the control loop routes it to dedup, the store, the EVE log,
 * the webhook and, when the detector opted in, the blocklist).
 *
 * Built in: port scan (small, vertical, slow and horizontal; SYN, connect, FIN, NULL, Xmas and
 * UDP probes), SYN flood (half-open connections and SYN rate towards a service against its
 * baseline, and the flood's end), DNS tunneling (encoded names per registered domain over a
 * short and a long window, one long encoded name, long or high-entropy names, many unique
 * subdomains of one domain, TXT/NULL volume), brute force (short or failed connections to
 * authentication ports), exfiltration (outbound bytes of an internal host against its
 * baseline), rate anomaly (packets or bytes per second of a host or service beyond N standard
 * deviations of its baseline) and ICMP tunnels (echo flows whose payload sizes vary or whose
 * directions differ).
 *
 * Windows and rates run on the dataplane clock (event time_ns), so a replayed capture is judged
 * the same at any replay speed. Single-threaded: control only. Needs EAL (rte_hash).
 */
#ifndef CTL_ANOMALY_H
#define CTL_ANOMALY_H

#include <stdbool.h>
#include <stdint.h>

#include "ctl_alert.h"
#include "dp_event.h"
#include "vg_yaml.h"

struct ctl_store;

enum ctl_anomaly_detector {
	CTL_ANOMALY_PORT_SCAN,
	CTL_ANOMALY_SYN_FLOOD,
	CTL_ANOMALY_DNS_TUNNEL,
	CTL_ANOMALY_BRUTE_FORCE,
	CTL_ANOMALY_EXFIL,
	CTL_ANOMALY_RATE,
	CTL_ANOMALY_ICMP_TUNNEL,
	CTL_ANOMALY__COUNT
};

/* Finding ids: the sid of anomaly alerts (gid CTL_ANOMALY_GID). Stable across versions. */
#define CTL_SID_PORTSCAN_VERTICAL     9000001
#define CTL_SID_PORTSCAN_HORIZONTAL   9000002
#define CTL_SID_PORTSCAN_SMALL	      9000003
#define CTL_SID_PORTSCAN_SLOW	      9000004
#define CTL_SID_SYN_FLOOD	      9000010
#define CTL_SID_SYN_FLOOD_END	      9000011
#define CTL_SID_DNS_SUSPICIOUS_NAMES  9000020
#define CTL_SID_DNS_UNIQUE_SUBDOMAINS 9000021
#define CTL_SID_DNS_TXT_VOLUME	      9000022
#define CTL_SID_DNS_TUNNEL	      9000023
#define CTL_SID_DNS_LONG_NAME	      9000024
#define CTL_SID_BRUTE_FORCE	      9000030
#define CTL_SID_EXFIL		      9000040
#define CTL_SID_RATE_HOST_PPS	      9000050
#define CTL_SID_RATE_HOST_BPS	      9000051
#define CTL_SID_RATE_SERVICE_PPS      9000052
#define CTL_SID_RATE_SERVICE_BPS      9000053
#define CTL_SID_ICMP_TUNNEL	      9000060

#define CTL_ANOMALY_MAX_NETS  32
#define CTL_ANOMALY_MAX_PORTS 32

/* What every detector has: on or off, and the closed loop (off unless asked for). */
struct ctl_anomaly_common {
	bool enabled;
	bool block;	       /* ask for the source to be blocked when an alert starts */
	uint64_t block_ttl_ms; /* for how long */
};

struct ctl_portscan_cfg {
	struct ctl_anomaly_common c;
	uint64_t window_ms;
	uint32_t ports;		 /* distinct ports probed on one host (vertical) */
	uint32_t hosts;		 /* distinct hosts probed (horizontal) */
	uint32_t probe_max_pkts; /* a probe sends at most this many packets and no payload */
	uint32_t small_ports;	 /* a handful of ports of one host per window (low severity) */
	uint64_t long_window_ms; /* `ports` within this is a slow scan */
};

struct ctl_synflood_cfg {
	struct ctl_anomaly_common c;
	uint64_t interval_ms;	/* the rate's measuring interval */
	uint32_t min_half_open; /* half-open connections towards the service at least ... */
	uint32_t min_rate;	/* ... and connection attempts per second at least ... */
	double sigma;		/* ... and, once the baseline is warm, this far above it */
	double alpha;
	uint32_t warmup; /* intervals before the baseline judges */
};

struct ctl_dns_cfg {
	struct ctl_anomaly_common c;
	uint64_t window_ms;
	uint32_t max_name_len;	    /* a longer query name is suspicious ... */
	uint32_t max_label_len;	    /* ... and so is a longer label */
	double entropy;		    /* bits per character of the subdomain part ... */
	uint32_t entropy_min_len;   /* ... for subdomains at least this long */
	uint32_t suspicious_names;  /* suspicious names from one client per window */
	uint32_t unique_subdomains; /* distinct names under one domain per window */
	uint32_t txt_queries; /* TXT, NULL, private-type queries under one domain per window */
	/* The tunnel finding: distinct encoded-looking names under one registered domain ... */
	uint32_t tunnel_names; /* ... per window ... */
	uint64_t long_window_ms;
	uint32_t long_tunnel_names;   /* ... or per long window (slow tunnels) */
	uint32_t encoded_min_len;     /* a subdomain part shorter than this is never "encoded" */
	uint32_t long_name_len;	      /* one encoded subdomain part this long is a finding */
	char public_suffix_list[256]; /* path of the list (Debian package publicsuffix) */
};

struct ctl_brute_cfg {
	struct ctl_anomaly_common c;
	uint64_t window_ms;
	uint32_t attempts;	  /* short or failed connections from one source to one port */
	uint64_t max_duration_ms; /* a connection this short counts as an attempt ... */
	uint32_t max_pkts;	  /* ... if it also carried at most this many packets */
	uint16_t ports[CTL_ANOMALY_MAX_PORTS];
	uint32_t n_ports;
};

struct ctl_exfil_cfg {
	struct ctl_anomaly_common c;
	uint64_t interval_ms;
	double sigma;
	double alpha;
	uint32_t warmup;
	uint64_t min_bytes; /* never alert below this many bytes per interval */
};

struct ctl_rate_cfg {
	struct ctl_anomaly_common c;
	uint64_t interval_ms;
	double sigma;
	double alpha;
	uint32_t warmup;
	uint64_t min_pps; /* never alert below these rates */
	uint64_t min_bps;
	bool hosts;    /* per internal host, both directions */
	bool services; /* per internal (address, port, protocol) that answers */
};

struct ctl_icmp_cfg {
	struct ctl_anomaly_common c;
	uint32_t min_pkts; /* an echo flow this long is sustained */
	double min_stddev; /* payload sizes this spread (bytes) vary */
	double asymmetry;  /* one direction with this many times the other's bytes */
	uint32_t large;	   /* mean payload bytes that make it large */
	double content;	   /* share of compared echoes with other data that makes it data */
};

struct ctl_net {
	uint8_t family;
	uint8_t prefix;
	uint8_t addr[16];
};

struct ctl_anomaly_cfg {
	/* Internal networks: "outbound" and "host" mean addresses inside these. */
	struct ctl_net internal[CTL_ANOMALY_MAX_NETS];
	uint32_t n_internal;
	/* Never block these, whatever a detector asks. */
	struct ctl_net never_block[CTL_ANOMALY_MAX_NETS];
	uint32_t n_never_block;
	uint32_t max_entries;	/* state entries per detector (memory bound) */
	uint32_t max_baselines; /* baselines for all detectors */
	double min_stddev_frac; /* a baseline's deviation is never taken below this share of its
				   mean */
	struct ctl_portscan_cfg port_scan;
	struct ctl_synflood_cfg syn_flood;
	struct ctl_dns_cfg dns_tunnel;
	struct ctl_brute_cfg brute_force;
	struct ctl_exfil_cfg exfiltration;
	struct ctl_rate_cfg rate;
	struct ctl_icmp_cfg icmp_tunnel;
};

/* Defaults: every detector on, no blocking, RFC 1918 and fc00::/7 internal. */
void ctl_anomaly_defaults(struct ctl_anomaly_cfg *cfg);

/*
 * The `detectors:` section of the appliance config as vg_yaml fields over struct
 * ctl_anomaly_cfg: internal, never_block, max_entries, max_baselines, min_stddev_fraction, and one
 * mapping per detector (port_scan, syn_flood, dns_tunnel, brute_force, exfiltration, rate).
 */
extern const struct vg_yaml_field ctl_anomaly_yaml_fields[];

/* Parse a `detectors:` mapping into cfg (defaults are not reset). Returns 0 or -EINVAL. */
int ctl_anomaly_yaml_parse(struct vg_yaml *y, yaml_node_t *n, struct ctl_anomaly_cfg *cfg);

/* Receives each finding. a is the caller's to change (dedup fills uid and count). */
typedef void (*ctl_alert_cb)(struct ctl_alert *a, void *arg);

struct ctl_anomaly;

/* Returns NULL and sets errno (ENOMEM, or rte_hash's error). */
struct ctl_anomaly *ctl_anomaly_create(
		const struct ctl_anomaly_cfg *cfg, ctl_alert_cb cb, void *arg);
void ctl_anomaly_free(struct ctl_anomaly *d);

/* Feed one worker event (flow start, update, end; alert events are ignored). */
void ctl_anomaly_on_event(struct ctl_anomaly *d, const struct dp_event *ev);

/*
 * Periodic work: close intervals and windows, forget stale state. now_ns is the dataplane clock
 * (0: the newest event time seen, which is what a replay should pass).
 */
void ctl_anomaly_on_tick(struct ctl_anomaly *d, uint64_t now_ns);

/*
 * Judge every open interval of the interval detectors (SYN flood, exfiltration, rate) now, as
 * if each had run its course: the end of the traffic (vigild stopping). now_ns: the dataplane
 * clock (0: the newest event time). Window detectors, which judge as events arrive, keep their
 * windows, so events that still come (the shutdown's flow ends) count in them.
 */
void ctl_anomaly_close_intervals(struct ctl_anomaly *d, uint64_t now_ns);

/* Persist changed baselines through the store / load them at start. Count or -errno. */
int ctl_anomaly_save_baselines(struct ctl_anomaly *d, struct ctl_store *s);
int ctl_anomaly_load_baselines(struct ctl_anomaly *d, struct ctl_store *s);

struct ctl_anomaly_counters {
	uint64_t events;
	uint64_t flows_untracked;		/* per-flow state table full */
	uint64_t alerts[CTL_ANOMALY__COUNT];	/* findings emitted */
	uint64_t untracked[CTL_ANOMALY__COUNT]; /* state table full: not judged */
	uint32_t entries[CTL_ANOMALY__COUNT];	/* live state entries */
	uint32_t baselines;
};

void ctl_anomaly_counters(const struct ctl_anomaly *d, struct ctl_anomaly_counters *c);

/* "port_scan", "syn_flood", "dns_tunnel", "brute_force", "exfiltration", "rate",
 * "icmp_tunnel". */
const char *ctl_anomaly_name(unsigned id);

/* Every finding's template (for documentation and tests). */
const struct ctl_alert_template *ctl_anomaly_template(unsigned i);
unsigned ctl_anomaly_n_templates(void);

/* Is addr inside one of the nets? */
bool ctl_net_contains(const struct ctl_net *nets, unsigned n, uint8_t family, const uint8_t *addr);

#endif /* CTL_ANOMALY_H */
