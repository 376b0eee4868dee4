/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The store: Vigil's durable history in SQLite.
 *
 * Two threads share the work, each owning its part. The control lcore accepts rows: flow events
 * are aggregated per minute in memory, keyed by (minute, src, dst, dport, proto, verdict,
 * app_proto), next to a queue of alerts, anomalies, audit records, baselines, blocklist rows and
 * versions. When a batch is due, control moves it into one of a fixed number of batch buffers
 * and hands it to the store's writer thread, which alone owns the SQLite connection and writes
 * each batch in one transaction (WAL, synchronous=NORMAL: a killed process loses at most the
 * batch being written and never corrupts the file).
 *
 * Nothing here may stall control: control never calls SQLite after ctl_store_open(). A locked
 * database, a full disk, an I/O error or a frozen file system hold the writer (the batch is
 * rolled back and retried with a growing delay, in order); while every batch buffer waits,
 * control keeps merging new rows into its aggregate and queue, up to max_pending_rows, beyond
 * which the newest rows are dropped and counted. A file that is not a database, or whose pages
 * are corrupt, is renamed to <path>.corrupt-<time> and a fresh database is created in its place.
 *
 * Durable rows (a blocklist entry or a version the API answers for) carry a ticket: they use a
 * reserved part of the queue, make the batch due at once, are never dropped while the process
 * runs, and the ticket says when they are written (with the version's id).
 *
 * Readers (management threads) open their own read-only connections with
 * ctl_store_reader_open() and get JSON arrays (jansson) back.
 *
 * Times: flow minutes are Unix seconds of the minute's start and alert/anomaly times are
 * nanoseconds, both from the dataplane clock (event time_ns); versions, audit records and
 * blocklist rows use the wall clock in milliseconds.
 */
#ifndef CTL_STORE_H
#define CTL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ctl_alert.h"
#include "dp_event.h"
#include "vg_yaml.h"

/* The schema version this code writes; older databases are migrated on open. */
#define CTL_STORE_SCHEMA_VERSION 4

#define CTL_STORE_PATH_LEN 256
/* Port names the store maps in_port indexes to (VG_MAX_PORTS, VG_NAME_LEN). */
#define CTL_STORE_MAX_PORTS 32
#define CTL_STORE_PORT_NAME 32

struct ctl_store_opts {
	char path[CTL_STORE_PATH_LEN];
	uint64_t max_age_ms;		/* retention by age; 0 keeps everything */
	uint64_t max_bytes;		/* retention by size (used pages); 0: no bound */
	uint64_t retention_interval_ms; /* how often retention runs */
	uint32_t batch_max_rows;	/* flush when this many rows are pending ... */
	uint64_t batch_max_ms;		/* ... or when the oldest pending row is this old */
	uint32_t max_pending_rows;	/* bound of the in-memory aggregate (and queue) */
	uint32_t max_flows;		/* flows tracked for per-flow deltas */
	uint64_t busy_timeout_ms;	/* how long one statement may wait for a lock */
	uint64_t retry_min_ms;		/* first retry delay after a failed batch; doubles ... */
	uint64_t retry_max_ms;		/* ... up to this */
	bool check_on_open;		/* PRAGMA quick_check when opening */
	uint32_t queue_batches;		/* batches handed to the writer at most (its bound) */
	/*
	 * Not from the `store:` section: the appliance's port names in config order (the
	 * events' in_port indexes), as flows keep them. A port without a name is stored as ''.
	 */
	char port_names[CTL_STORE_MAX_PORTS][CTL_STORE_PORT_NAME];
	unsigned n_ports;
};

/* Defaults: vigil.db, 30 days, 1 GiB, 1000 rows or 1 s per batch, 64k pending rows. */
void ctl_store_opts_defaults(struct ctl_store_opts *o);

/*
 * The `store:` section of the appliance config, as vg_yaml fields over struct ctl_store_opts
 * (path, max_age, max_size, retention_interval, batch_rows, batch_ms, max_pending_rows,
 * max_flows, busy_timeout, retry_min, retry_max, check_on_open).
 */
extern const struct vg_yaml_field ctl_store_yaml_fields[];

/* Parse a `store:` mapping node into o (defaults are not reset). Returns 0 or -EINVAL. */
int ctl_store_yaml_parse(struct vg_yaml *y, yaml_node_t *n, struct ctl_store_opts *o);

struct ctl_store;
struct ctl_store_ticket;

/*
 * Open or create the database at opts->path, moving a corrupt file aside and migrating an older
 * schema. On failure returns NULL, sets errno and writes the reason to err (a database newer
 * than this code, a path that cannot be created, ...). Needs EAL (rte_hash) for aggregation.
 */
struct ctl_store *ctl_store_open(const struct ctl_store_opts *opts, char *err, size_t errlen);

/*
 * Flush what is pending (a last try, bounded in time: a stalled disk is not waited for past
 * a few seconds) and close. NULL is a no-op.
 */
void ctl_store_close(struct ctl_store *s);

/*
 * Account one worker event: flow starts count a flow, updates and ends add packets and bytes
 * (both directions) as deltas since the flow's last event, in the minute of the event's time,
 * under the application protocol the event names. A flow's protocol is found after its start
 * (with its first payload): the first event that names it moves the flow's count from "not
 * known" to that protocol, in the start's minute, so that flows and bytes per application add
 * up. Alert events are ignored here (they reach the store through ctl_store_add_alert()).
 * Returns 0, or -ENOSPC when the aggregate is full (the event's counts are lost and counted).
 */
int ctl_store_add_flow_event(struct ctl_store *s, const struct dp_event *ev);

/*
 * Queue an alert (insert, or update count and last_seen of the alert with the same uid). An
 * anomaly alert also adds a row to the anomalies table (the evidence series). Returns 0 or
 * -ENOSPC when the queue is full (counted).
 */
int ctl_store_add_alert(struct ctl_store *s, const struct ctl_alert *a);

/* Baselines, keyed by (detector, metric, entity); key is the detector's binary key. */
struct ctl_store_baseline {
	char detector[24];
	char metric[24];
	char entity[64]; /* readable: "10.0.0.1", "10.0.0.1:443/TCP" */
	uint8_t key[32];
	uint32_t key_len;
	double mean;
	double var;
	uint64_t n;
	uint64_t updated_ns;
};

/* Queue a baseline upsert. Returns 0 or -ENOSPC. */
int ctl_store_put_baseline(struct ctl_store *s, const struct ctl_store_baseline *b);

/* Call fn for every stored baseline (immediately, not batched). Returns rows read or -errno. */
int ctl_store_load_baselines(struct ctl_store *s,
		void (*fn)(const struct ctl_store_baseline *b, void *arg), void *arg);

/* Blocklist rows (the closed loop). expires_ms 0: until removed. */
struct ctl_store_block {
	uint8_t family;
	uint8_t addr[16];
	uint64_t created_ms;
	uint64_t expires_ms;
	uint64_t alert_uid;
	char source[24]; /* detector name, or "api" */
	char reason[128];
};

/*
 * Queue an insert-or-replace of the entry for addr. With a ticket the row is durable (see
 * above) and t is completed when it is written. Returns 0 or -ENOSPC.
 */
int ctl_store_put_block(
		struct ctl_store *s, const struct ctl_store_block *b, struct ctl_store_ticket *t);
/* Queue the removal of addr's entry. Returns 0 or -ENOSPC. */
int ctl_store_del_block(struct ctl_store *s, uint8_t family, const uint8_t *addr);
/*
 * Call fn for every entry still active at now_ms (immediately). Returns rows read or -errno.
 * Used at start to push the blocklist back to the workers.
 */
int ctl_store_load_blocks(struct ctl_store *s, uint64_t now_ms,
		void (*fn)(const struct ctl_store_block *b, void *arg), void *arg);

/* An audit record: one API write. */
struct ctl_audit {
	uint64_t ts_ms;
	const char *actor;  /* token name */
	const char *action; /* "PUT /api/v1/policy" */
	const char *target; /* "policy" */
	const char *detail; /* free text or JSON */
	const char *result; /* "ok", "400 invalid", ... */
};

/* Queue an audit record (strings are copied). Returns 0, -ENOMEM or -ENOSPC. */
int ctl_store_audit(struct ctl_store *s, const struct ctl_audit *a);

/*
 * The SHA-256 of data as 64 lowercase hex digits and a NUL: the digest versions are stored
 * and compared by. Returns 0, or -EIO if the digest failed (out is then "").
 */
int ctl_store_sha256_hex(const void *data, size_t len, char out[65]);

/*
 * A durable write's ticket: made by whoever waits for the write (a management thread), given
 * to the queueing function on control, completed on control when the row is written. Any thread
 * may wait on it; each holder drops its reference with ctl_store_ticket_put().
 */
struct ctl_store_ticket;

struct ctl_store_ticket *ctl_store_ticket_new(void);
void ctl_store_ticket_put(struct ctl_store_ticket *t);

/*
 * Wait up to timeout_ms for t's row. Returns 1 when written (*id: the row's id, for versions),
 * 0 while still pending, or -errno when the row was lost (the store closed before it could be
 * written).
 */
int ctl_store_ticket_wait(
		struct ctl_store *s, struct ctl_store_ticket *t, unsigned timeout_ms, int64_t *id);

/* Called on control once a version is written (rc 0, id) or lost (rc -errno, id 0). */
typedef void (*ctl_store_version_fn)(void *arg, uint64_t cookie, int rc, int64_t id);

/*
 * Queue a policy or signature version, a durable row: kind is "policy" or "signatures", source
 * who/where it came from, result "applied" or the error summary; the text is copied. The id
 * comes from the store alone, when the row is written: fn(arg, cookie, 0, id) runs on control
 * then, and t (if not NULL) is completed. Returns 0, -EINVAL, -ENOMEM, or -ENOSPC when the
 * durable part of the queue is full (nothing queued: the version is unrecorded).
 */
int ctl_store_put_version(struct ctl_store *s, const char *kind, const void *text, size_t len,
		const char *source, const char *result, ctl_store_version_fn fn, void *arg,
		uint64_t cookie, struct ctl_store_ticket *t);

/* True when a durable row can be queued now (control lcore). */
bool ctl_store_durable_room(const struct ctl_store *s);

/*
 * Periodic work, called often from the control loop with a monotonic clock: take back the
 * batches the writer finished (completing their tickets), and hand the writer a batch when the
 * batch bound is reached, batch_max_ms passed, or a durable row waits, and a batch buffer is
 * free. Never waits for the disk. Returns the rows handed to the writer.
 */
int ctl_store_tick(struct ctl_store *s, uint64_t now_ms);

/*
 * Write everything pending now and wait for it (tests, shutdown; not the control loop): returns
 * the rows written, or -errno when a batch failed (it stays queued and is retried) or
 * timeout_ms passed (0: no bound).
 */
int ctl_store_flush_wait(struct ctl_store *s, unsigned timeout_ms);

/* ctl_store_flush_wait(s, 0). */
int ctl_store_flush(struct ctl_store *s);

/*
 * Run retention now: delete flows, alerts and anomalies older than max_age (measured from the
 * newest event time seen, so a replayed capture is not deleted as it is written), then, while
 * the used size exceeds max_bytes, the oldest flows, then anomalies, then alerts. Versions,
 * audit, baselines and the blocklist are never deleted by retention. The writer thread runs it
 * every retention_interval; this asks it to run now and waits. Returns rows deleted or -errno.
 */
int ctl_store_retention(struct ctl_store *s);

/* Bytes used by the database's pages (page_count - freelist_count) * page_size, or -errno. */
int64_t ctl_store_used_bytes(struct ctl_store *s);

struct ctl_store_counters {
	uint64_t rows_written;	  /* rows upserted/inserted/deleted by batches */
	uint64_t batches;	  /* committed batches */
	uint64_t failures;	  /* batch attempts that failed (the batch is kept and retried) */
	uint64_t retries;	  /* attempts made after a failure */
	uint64_t rows_dropped;	  /* rows lost: aggregate or queue full */
	uint64_t flows_untracked; /* flow events without (room for) per-flow state */
	uint64_t retention_deleted;
	uint64_t corrupt_moved; /* files moved aside */
	uint64_t episodes;	/* failure episodes: from a first failure to the next success */
	/* Not in ctl_store_ctr_set: */
	uint32_t pending;	  /* rows on control, not yet handed to the writer */
	uint32_t queued;	  /* rows handed to the writer, not yet written */
	uint32_t durable_pending; /* durable rows (API blocks, versions) not yet written */
	uint32_t queue_batches;	  /* batches with the writer now (its bound: queue_batches) */
	bool failing;		  /* the last attempt failed */
	uint64_t writer_busy_ms;  /* how long the writer has been in its current attempt */
	uint64_t failing_for_ms;  /* how long the current failure episode has lasted */
	int last_error;		  /* SQLite result code of the last failure, 0 if none */
	char last_error_msg[160];
};

/* The table of its counters, written to pending (ctl_store.c): the report's store. */
struct vg_ctr_set;
extern const struct vg_ctr_set ctl_store_ctr_set;

/* Any thread. */
void ctl_store_counters(struct ctl_store *s, struct ctl_store_counters *c);

/* The path actually opened (and the name the corrupt file was moved to, if any). */
const char *ctl_store_path(const struct ctl_store *s);
const char *ctl_store_moved_aside(const struct ctl_store *s);

/* Readers ----------------------------------------------------------------------------------- */

struct ctl_store_reader;

/*
 * Open a read-only connection (management threads, one each). Returns NULL, sets errno and
 * fills err when the file cannot be opened as a Vigil database.
 */
struct ctl_store_reader *ctl_store_reader_open(const char *path, char *err, size_t errlen);
void ctl_store_reader_close(struct ctl_store_reader *r);

struct ctl_flow_query {
	int64_t since;	 /* Unix seconds, inclusive; 0: no bound */
	int64_t until;	 /* exclusive; 0: no bound */
	const char *src; /* address text; NULL: any */
	const char *dst;
	int dport;	       /* -1: any */
	int proto;	       /* -1: any */
	int verdict;	       /* enum dp_verdict, -1: any */
	const char *app_proto; /* "http", ... or "unknown" (not detected); NULL: any */
	uint32_t limit;	       /* 0: 1000 */
};

/*
 * Flow aggregates, newest minute first: [{"minute", "time", "src", "dst", "dport", "proto",
 * "verdict", "app_proto" (null: not detected), "packets", "bytes", "flows"}]. Returns NULL and
 * fills err (bad filter or SQLite error).
 */
json_t *ctl_store_query_flows(struct ctl_store_reader *r, const struct ctl_flow_query *q, char *err,
		size_t errlen);

/* A flow key's ingress port that the store does not know (rows older than schema 4, or a name
 * no longer in the config). */
#define CTL_PORT_UNKNOWN UINT16_MAX

/* One flow key of a window, its counts summed over the window's minutes (policy preview). */
struct ctl_flow_key_sum {
	uint8_t family; /* 4 or 6 */
	uint8_t proto;
	uint16_t dport;
	uint16_t in_port; /* index in the scan's port names, or CTL_PORT_UNKNOWN */
	uint8_t src[16];  /* network order */
	uint8_t dst[16];
	uint64_t packets, bytes, flows;
	int64_t first, last; /* Unix seconds of the first and last minute */
};

/* The appliance's port names in config order, as readers map stored names back to indexes. */
struct ctl_ports {
	const char *name[CTL_STORE_MAX_PORTS];
	unsigned n;
};

/* Distinct keys one scan sums at most (about 100 bytes each). */
#define CTL_STORE_SCAN_MAX_KEYS (4u << 20)

/*
 * Call fn for every (src, dst, dport, proto, in_port) seen in [since, until) (Unix seconds,
 * since rounded down to its minute; 0: no bound), its rows summed over minutes, verdicts and
 * application protocols, in no particular order. in_port is the index of the stored port name
 * in ports (the config's names, in order), or CTL_PORT_UNKNOWN. The hours wholly inside the
 * window are read from the hourly sums (flows_hour), the minutes at its edges from flows, in one
 * read transaction. fn returns 0 to go on or a negative errno to stop (returned as is). Returns
 * the keys visited, or -errno with err filled: -E2BIG past CTL_STORE_SCAN_MAX_KEYS keys,
 * -ENOMEM, -EIO.
 */
int64_t ctl_store_scan_flow_keys(struct ctl_store_reader *r, int64_t since, int64_t until,
		const char *const *ports, unsigned n_ports,
		int (*fn)(const struct ctl_flow_key_sum *k, void *arg), void *arg, char *err,
		size_t errlen);

struct ctl_alert_query {
	int64_t since_ns; /* last_seen >= since; 0: no bound */
	int64_t until_ns; /* last_seen < until; 0: no bound */
	int min_severity; /* enum ctl_severity; 0: any */
	const char *kind; /* "signature", "anomaly" or NULL */
	const char *src;
	const char *dst;
	uint32_t sid;	       /* 0: any */
	const char *app_proto; /* "http", ... or "unknown" (none); NULL: any */
	uint32_t limit;	       /* 0: 100 */
	int64_t cursor;	       /* 0: newest first; else the next_cursor of the previous page */
};

/*
 * Alerts, newest first, each with its evidence and explanation, and for signature alerts the
 * flow's app_proto and the matched transaction's facts: "app" (the EVE object of that protocol)
 * and "app_cut" (the values cut to fit). *next_cursor is set to the cursor of the next page, or
 * 0 when this was the last page.
 */
json_t *ctl_store_query_alerts(struct ctl_store_reader *r, const struct ctl_alert_query *q,
		int64_t *next_cursor, char *err, size_t errlen);

/*
 * One alert by its uid (the id its EVE line has as vigil.uid), as ctl_store_query_alerts()
 * lists it; NULL with err "no alert N" (errno not set) or the SQLite error.
 */
json_t *ctl_store_get_alert(struct ctl_store_reader *r, int64_t uid, char *err, size_t errlen);

/* Anomaly rows (detector findings with their baselines), newest first, paginated like alerts. */
json_t *ctl_store_query_anomalies(struct ctl_store_reader *r, int64_t since_ns,
		const char *detector, uint32_t limit, int64_t cursor, int64_t *next_cursor,
		char *err, size_t errlen);

/* Versions of kind (NULL: all), newest first, without their text. */
json_t *ctl_store_query_versions(struct ctl_store_reader *r, const char *kind, uint32_t limit,
		char *err, size_t errlen);

/* One version with its text, or NULL (err says "no version N" or the SQLite error). */
json_t *ctl_store_get_version(struct ctl_store_reader *r, int64_t id, char *err, size_t errlen);

/* Audit records, newest first, paginated like alerts. */
json_t *ctl_store_query_audit(struct ctl_store_reader *r, int64_t since_ms, uint32_t limit,
		int64_t cursor, int64_t *next_cursor, char *err, size_t errlen);

/* Blocklist entries active at now_ms. */
json_t *ctl_store_query_blocks(
		struct ctl_store_reader *r, uint64_t now_ms, char *err, size_t errlen);

#endif /* CTL_STORE_H */
