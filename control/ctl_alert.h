/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One model for every alert Vigil raises, whether a signature matched in a worker or a
 * detector on control saw an anomaly: what kind, how severe, which flow or host, which rule or
 * baseline, the observed value and its distance from normal, when it was first and last seen and
 * how many times, and a plain-language explanation (what happened, why it is suspicious, what to
 * do next) generated from templates.
 *
 * Also here: deduplication within a window, the JSON form (Suricata EVE "alert" fields where they
 * overlap, plus a "vigil" object), and the EVE log file. Everything runs on the control lcore.
 */
#ifndef CTL_ALERT_H
#define CTL_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ctl_eve_out.h"
#include "dp_event.h"
#include "vg_yaml.h"

enum ctl_alert_kind {
	CTL_ALERT_SIGNATURE = 1,
	CTL_ALERT_ANOMALY = 2,
};

enum ctl_severity {
	CTL_SEV_LOW = 1,
	CTL_SEV_MEDIUM = 2,
	CTL_SEV_HIGH = 3,
	CTL_SEV_CRITICAL = 4,
};

/* gid of anomaly alerts in EVE and in the store; each finding has its own sid (ctl_anomaly.h). */
#define CTL_ANOMALY_GID 9000

#define CTL_ALERT_MAX_FACTS 12

/* A named fact a detector found ("ports" = "57"); templates refer to it as ${ports}. */
struct ctl_alert_fact {
	char name[16];
	char value[64];
};

/*
 * The text of one kind of finding. ${name} is replaced by a field of the alert (src, dst, sport,
 * dport, proto, signature, sid, gid, category, severity, detector, metric, observed, threshold,
 * mean, stddev, sigma, count, window, pkts_out, pkts_in, bytes_out, bytes_in, action) or by a fact.
 */
struct ctl_alert_template {
	uint32_t sid;
	const char *title;    /* the alert's "signature" text */
	const char *category; /* EVE category */
	const char *what;
	const char *why;
	const char *next;
};

struct ctl_alert {
	uint64_t uid;	  /* stable id across repeats; set by ctl_alert_dedup_submit() */
	uint8_t kind;	  /* enum ctl_alert_kind */
	uint8_t severity; /* enum ctl_severity */
	uint8_t worker;	  /* worker that saw the flow (signature alerts) */
	uint8_t blocked;  /* traffic was dropped (signature) or the source blocked (closed loop) */
	bool has_flow; /* flow describes one real flow (else: only the fields the finding names) */
	/* signature alerts: the matching packet's direction (1 to the server, 2 to the client);
	 * EVE names the packet's source and destination, as Suricata does */
	uint8_t direction;
	uint32_t gid;
	uint32_t sid;
	uint32_t rev;
	char detector[24]; /* "signature" or the detector's name */
	char category[48];
	char signature[128]; /* the signature's msg, or the finding's title */
	char metric[24];     /* what a detector measured ("distinct_ports", "half_open") */
	/*
	 * The flow, or for findings about a host the addresses and ports the finding is about;
	 * fields that are not part of it are zero. These fields are also the dedup scope.
	 */
	struct dp_event_flow flow;
	double observed;  /* the value that triggered */
	double threshold; /* the value it had to reach */
	double mean;	  /* baseline mean and standard deviation, 0 without a baseline */
	double stddev;
	double sigma; /* (observed - mean) / stddev, 0 without a baseline */
	uint64_t window_ns;
	uint64_t first_ns; /* dataplane clock */
	uint64_t last_ns;
	uint64_t count;
	uint64_t block_ttl_ms; /* > 0: the detector opted in to block flow.src for this long */
	const struct ctl_alert_template *tmpl; /* NULL for signature alerts */
	unsigned n_facts;
	struct ctl_alert_fact facts[CTL_ALERT_MAX_FACTS];
	char what[512]; /* the explanation, filled by ctl_alert_explain() */
	char why[512];
	char next[512];
	/*
	 * The application-layer transaction a signature matched (its worker's DP_EV_TXMETA, given
	 * by ctl_app_pairing_attach()); flow.app_proto names the flow's protocol either way.
	 */
	bool has_app;
	struct dp_event_txmeta app;
};

/* "low", "medium", "high", "critical" ("?" for anything else). */
const char *ctl_severity_name(unsigned sev);

/* Severity by name; returns 0 or -EINVAL. */
int ctl_severity_parse(const char *name, enum ctl_severity *out);

/* "signature" or "anomaly". */
const char *ctl_alert_kind_name(unsigned kind);

/* IANA protocol name as EVE writes it ("TCP", "UDP", "ICMP", "IPv6-ICMP", "SCTP", else "47"). */
const char *ctl_proto_name(uint8_t proto, char *buf, size_t len);

/* Address text of a flow address (family 4 or 6); "-" when family is neither. */
const char *ctl_addr_str(uint8_t family, const uint8_t *addr, char *buf, size_t len);

/* Add a fact (printf-style value); facts beyond CTL_ALERT_MAX_FACTS are ignored. */
void ctl_alert_fact(struct ctl_alert *a, const char *name, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));

/* Value of a fact, or NULL. */
const char *ctl_alert_fact_get(const struct ctl_alert *a, const char *name);

/*
 * Start an anomaly alert from a template: kind, gid, sid, title, category, detector and severity
 * set, everything else zero.
 */
void ctl_alert_init_anomaly(struct ctl_alert *a, const struct ctl_alert_template *t,
		const char *detector, enum ctl_severity sev);

/*
 * Build a signature alert from a worker's DP_EV_ALERT event. msg, category and severity come from
 * the signature set (NULL/0: "sid N", "unknown", medium).
 */
void ctl_alert_from_event(const struct dp_event *ev, const char *msg, const char *category,
		enum ctl_severity sev, struct ctl_alert *out);

/*
 * Fill what/why/next from the alert's template (or the signature template). Unknown ${names}
 * are left as they are, so a mistake in a template shows in its output. Text is truncated to the
 * buffers.
 */
void ctl_alert_explain(struct ctl_alert *a);

/*
 * Expand one template string with the alert's fields and facts into buf. Returns the number of
 * ${names} it could not resolve.
 */
unsigned ctl_alert_expand(const struct ctl_alert *a, const char *tmpl, char *buf, size_t len);

/*
 * The alert as a JSON object: Suricata EVE alert fields (timestamp, flow_id, in_iface,
 * event_type "alert", src_ip, src_port, dest_ip, dest_port, proto, alert{action, gid,
 * signature_id, rev, signature, category, severity}, the transaction's application-layer object
 * (http, dns, tls, ssh, smtp or ftp: ctl_alert_app.h) and app_proto) plus "vigil": {uid, kind,
 * severity, detector, count, first_seen, last_seen, metric, observed, threshold, baseline, facts,
 * explanation, app_cut}. in_iface may be NULL. Returns a new reference, or NULL on allocation
 * failure.
 */
json_t *ctl_alert_to_json(const struct ctl_alert *a, const char *in_iface);

/*
 * The alert's EVE line: ctl_alert_to_json() as compact JSON, no newline; ascii: characters
 * beyond ASCII as \u escapes (syslog's MSG then needs no BOM). malloc'd; NULL when out of memory.
 */
char *ctl_alert_eve_text(const struct ctl_alert *a, const char *in_iface, bool ascii);

/* EVE severity (1 highest .. 3): critical and high 1, medium 2, low 3. */
int ctl_alert_eve_severity(unsigned sev);

/* ISO 8601 UTC time with microseconds, as EVE writes it ("2024-01-02T03:04:05.123456+0000"). */
void ctl_time_iso(uint64_t ns, char *buf, size_t len);

/*
 * Deduplication. Alerts with the same kind, gid, sid, protocol, source, destination and
 * destination port (from alert.flow: detectors zero what is not part of a finding; source ports
 * are ignored) within window of the first one are one alert: its count grows and its last_seen
 * moves. After the window a new alert starts, so an attack that goes on is reported again.
 */
enum ctl_dedup_result {
	CTL_ALERT_NEW = 1,
	CTL_ALERT_REPEAT = 2,
};

struct ctl_alert_dedup;

struct ctl_alert_dedup_counters {
	uint64_t new_alerts;
	uint64_t repeats;
	uint64_t untracked; /* passed as new because the table was full */
	uint32_t tracked;
};

/* Returns NULL and sets errno on failure. Needs EAL (rte_hash). */
struct ctl_alert_dedup *ctl_alert_dedup_create(uint64_t window_ms, uint32_t capacity);
void ctl_alert_dedup_free(struct ctl_alert_dedup *d);

/*
 * Merge a into the table. On CTL_ALERT_NEW a gets a fresh uid and count 1 (or its own count);
 * on CTL_ALERT_REPEAT it gets the first alert's uid and first_ns and the merged count. The
 * explanation is regenerated so that it tells the merged count.
 */
enum ctl_dedup_result ctl_alert_dedup_submit(struct ctl_alert_dedup *d, struct ctl_alert *a);

/* Forget entries whose window ended before now_ns (dataplane clock). */
void ctl_alert_dedup_expire(struct ctl_alert_dedup *d, uint64_t now_ns);

void ctl_alert_dedup_counters(const struct ctl_alert_dedup *d, struct ctl_alert_dedup_counters *c);

/*
 * The EVE log: one JSON line per alert, appended to a file that log shippers tail. Control
 * formats the line and queues it; a thread of the log's own writes the queue in order, so a
 * stalled or full disk never holds control. A line that cannot be written (ENOSPC, EIO, a
 * frozen file system) stays at the queue's head and is retried with a growing delay (100 ms to
 * 2 s) until it is written, whole: a partial write is completed, never repeated. The queue holds
 * at most CTL_EVE_QUEUE_LINES lines and CTL_EVE_QUEUE_BYTES bytes; beyond that the newest line is
 * dropped and counted (the store keeps the alert). A failure episode is logged once, at its
 * start, and once when writing works again.
 */
struct ctl_eve;

#define CTL_EVE_QUEUE_LINES 65536
#define CTL_EVE_QUEUE_BYTES (16u << 20)

struct ctl_eve_counters {
	uint64_t written;      /* lines written whole */
	uint64_t failed;       /* lines whose write failed at least once (retried, not lost) */
	uint64_t dropped;      /* lines dropped: the queue was full */
	uint64_t episodes;     /* failure episodes: from a failed write to the next success */
	uint64_t queued_bytes; /* the bytes of the lines waiting */
	/* Not in ctl_eve_ctr_set: */
	uint32_t queued; /* lines waiting */
	bool failing;	 /* the last write failed */
	int last_errno;
};
/* The table of its counters, written to queued (ctl_alert.c): the report's eve. */
struct vg_ctr_set;
extern const struct vg_ctr_set ctl_eve_ctr_set;

/* Open (create, append) path and start its writer. Returns NULL and sets errno. */
struct ctl_eve *ctl_eve_open(const char *path);
/* Write what is queued (bounded: a few seconds), stop the writer, close. NULL is a no-op. */
void ctl_eve_close(struct ctl_eve *e);
/* Queue one alert line. Returns 0, -ENOMEM, or -ENOBUFS when the queue is full (dropped). */
int ctl_eve_write(struct ctl_eve *e, const struct ctl_alert *a, const char *in_iface);
/* Close and open the path again (after logrotate moved it), on the writer. Returns 0. */
int ctl_eve_reopen(struct ctl_eve *e);
/* Wait up to timeout_ms for the queue to empty. Returns 0, or -EIO while writes fail. */
int ctl_eve_sync(struct ctl_eve *e, unsigned timeout_ms);
/* Any thread. */
void ctl_eve_counters(const struct ctl_eve *e, struct ctl_eve_counters *c);

/* Alert routing options: the `alerts:` section of the appliance config. */
struct ctl_webhook_opts {
	char url[256];	     /* http:// or https://; empty: no webhook (the default) */
	uint64_t timeout_ms; /* whole request, connection included */
	uint32_t queue_len;  /* alerts waiting to be posted; more are dropped and counted */
};

struct ctl_alert_opts {
	uint64_t dedup_window_ms;
	uint32_t dedup_capacity;
	char eve_log[256];		    /* path of the EVE JSON lines file; empty: none */
	struct ctl_eve_out_opts eve_syslog; /* EVE lines as syslog messages; address empty: none */
	struct ctl_eve_out_opts eve_socket; /* EVE lines to a unix stream socket; empty: none */
	struct ctl_webhook_opts webhook;
};

/*
 * Defaults: 60 s dedup window for 65536 alerts, no EVE file, no EVE syslog or socket (4096
 * queued), no webhook (2 s, 1024 queued).
 */
void ctl_alert_opts_defaults(struct ctl_alert_opts *o);

/*
 * dedup_window, dedup_capacity, eve_log, eve_syslog: {transport, address, facility, app_name,
 * queue}, eve_socket: path or {path, queue}, webhook: {url, timeout, queue}.
 */
extern const struct vg_yaml_field ctl_alert_yaml_fields[];

/* Parse an `alerts:` mapping into o (defaults are not reset). Returns 0 or -EINVAL. */
int ctl_alert_yaml_parse(struct vg_yaml *y, yaml_node_t *n, struct ctl_alert_opts *o);

#endif /* CTL_ALERT_H */
