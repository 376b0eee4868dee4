/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "al.h"
#include "ctl_alert_app.h"
#include "ctl_map.h"
#include "ctl_store.h"
#include "ctl_store_schema.h"
#include "vg_addr.h"
#include "vg_ctr.h"
#include "vg_log.h"
#include "vg_time.h"

/* Rows per retention DELETE: bounded so that one retention step never stalls control. */
#define RETENTION_CHUNK 20000
/* Retention steps per ctl_store_retention() call. */
#define RETENTION_STEPS 32

/* In-memory aggregate: one row of the flows table, as deltas not yet written. */
struct agg_key {
	int64_t minute; /* Unix seconds of the minute's start */
	uint8_t src[16];
	uint8_t dst[16];
	uint16_t dport;
	uint8_t proto;
	uint8_t verdict;
	uint8_t family;
	uint8_t app_proto; /* enum al_proto, 0: not known */
	uint16_t in_port;  /* config index of the initiator's ingress port */
};

/* Deltas: a flow that moves to its protocol's row takes its counts out of another (below). */
struct agg_val {
	int64_t packets;
	int64_t bytes;
	int64_t flows;
};

/* Per-flow totals at its last event, to turn cumulative counters into deltas. */
struct track_key {
	uint32_t flow_id;
	uint8_t worker;
	uint8_t pad[3];
};

struct track_val {
	uint64_t pkts;
	uint64_t bytes;
	/*
	 * Where the flow was counted: its start's minute, verdict and application protocol, and
	 * the packets and bytes its events added there before its protocol was known.
	 */
	int64_t minute;
	uint64_t early_pkts;
	uint64_t early_bytes;
	uint8_t verdict;
	uint8_t app_proto;
	bool counted;
	uint8_t pad[5];
};

enum op_type {
	OP_ALERT = 1,
	OP_BASELINE,
	OP_BLOCK_PUT,
	OP_BLOCK_DEL,
	OP_AUDIT,
	OP_VERSION,
};

struct op_audit {
	uint64_t ts_ms;
	char *buf; /* actor, action, target, detail, result: NUL-separated, one allocation */
};

/* A version: kind, source and result NUL-terminated in buf, then the text's bytes. */
struct op_version {
	char *buf;
	size_t text_off;
	size_t text_len;
	uint64_t created_ms;
	char sha256[65];
	ctl_store_version_fn fn;
	void *arg;
	uint64_t cookie;
	int64_t id; /* set by the writer */
};

struct op {
	uint8_t type;
	bool durable;		    /* kept past the ordinary bound, makes its batch due */
	struct ctl_store_ticket *t; /* a durable row's ticket, or NULL */
	union {
		struct ctl_alert alert;
		struct ctl_store_baseline bl;
		struct ctl_store_block blk;
		struct op_audit audit;
		struct op_version ver;
	};
};

/* A durable write's ticket: state and id are guarded by the store's mutex. */
struct ctl_store_ticket {
	int refs;  /* atomic */
	int state; /* 0 pending, 1 written, -errno lost */
	int64_t id;
};

/* One aggregate row as it leaves control. */
struct agg_row {
	struct agg_key k;
	struct agg_val v;
};

/* What control hands the writer: rows moved out of its queue and aggregate. */
struct batch {
	struct batch *next;
	struct op *ops;
	uint32_t n_ops;
	struct agg_row *agg;
	uint32_t n_agg;
	uint32_t n_durable;
	int64_t newest_sec;
};

enum stmt_id {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_FLOW,
	ST_FLOW_HOUR,
	ST_ALERT,
	ST_ANOMALY,
	ST_BASELINE,
	ST_BLOCK_PUT,
	ST_BLOCK_DEL,
	ST_AUDIT,
	ST_VERSION,
	ST__COUNT
};

static const char *const stmt_sql[ST__COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_FLOW] = "INSERT INTO flows (minute, src, dst, dport, proto, verdict, app_proto, packets, "
		    "bytes, flows, in_port) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
		    "ON CONFLICT (minute, src, dst, dport, proto, verdict, app_proto, in_port) "
		    "DO UPDATE SET packets = packets + excluded.packets, "
		    "bytes = bytes + excluded.bytes, flows = flows + excluded.flows",
	/* The same parameters as ST_FLOW: the hour's row of the same key. */
	[ST_FLOW_HOUR] = "INSERT INTO flows_hour (hour, src, dst, dport, proto, packets, bytes, "
			 "flows, in_port, first, last) VALUES (?1 / 3600 * 3600, ?2, ?3, ?4, ?5, "
			 "?8, ?9, ?10, ?11, ?1, ?1) "
			 "ON CONFLICT (hour, src, dst, dport, proto, in_port) DO UPDATE SET "
			 "packets = packets + excluded.packets, bytes = bytes + excluded.bytes, "
			 "flows = flows + excluded.flows, first = min(first, excluded.first), "
			 "last = max(last, excluded.last)",
	[ST_ALERT] = "INSERT INTO alerts (uid, kind, severity, category, gid, sid, rev, signature, "
		     "src, dst, sport, dport, proto, first_ns, last_ns, count, detector, action, "
		     "flow_id, metric, observed, threshold, mean, stddev, sigma, window_ns, "
		     "packets_out, packets_in, bytes_out, bytes_in, facts, what, why, next, app_proto, "
		     "app, app_cut) "
		     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
		     "?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, "
		     "?32, ?33, ?34, ?35, ?36, ?37) "
		     "ON CONFLICT (uid) DO UPDATE SET last_ns = max(last_ns, excluded.last_ns), "
		     "count = max(count, excluded.count), "
		     "severity = max(severity, excluded.severity), action = excluded.action, "
		     "observed = excluded.observed, threshold = excluded.threshold, "
		     "mean = excluded.mean, stddev = excluded.stddev, sigma = excluded.sigma, "
		     "packets_out = excluded.packets_out, packets_in = excluded.packets_in, "
		     "bytes_out = excluded.bytes_out, bytes_in = excluded.bytes_in, "
		     "facts = excluded.facts, what = excluded.what, why = excluded.why, "
		     "next = excluded.next, "
		     /* A repeat keeps the first transaction's facts, as the EVE line has them. */
		     "app_proto = coalesce(app_proto, excluded.app_proto), "
		     "app_cut = CASE WHEN app IS NULL THEN excluded.app_cut ELSE app_cut END, "
		     "app = coalesce(app, excluded.app)",
	[ST_ANOMALY] = "INSERT INTO anomalies (ts_ns, alert_uid, detector, metric, src, dst, dport, "
		       "proto, observed, threshold, mean, stddev, sigma, window_ns, facts) "
		       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
	[ST_BASELINE] = "INSERT INTO baselines (detector, metric, entity, key, mean, var, n, "
			"updated_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
			"ON CONFLICT (detector, metric, entity) DO UPDATE SET key = excluded.key, "
			"mean = excluded.mean, var = excluded.var, n = excluded.n, "
			"updated_ns = excluded.updated_ns",
	[ST_BLOCK_PUT] = "INSERT OR REPLACE INTO blocklist (addr, family, created_ms, expires_ms, "
			 "alert_uid, source, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_BLOCK_DEL] = "DELETE FROM blocklist WHERE addr = ?1",
	[ST_AUDIT] = "INSERT INTO audit (ts_ms, actor, action, target, detail, result) "
		     "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_VERSION] = "INSERT INTO versions (kind, text, sha256, source, created_ms, result, id) "
		       "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
};

/*
 * Ownership. Control (the thread that calls ctl_store_add_*, put_*, tick and flush) owns the
 * aggregate, the flow tracker and the op ring, and the batches on the free list while it fills
 * them. The writer thread owns db and the statements, and the batch at the queue's head while
 * it writes it. The lists (free, queue, done), the tickets and the writer's counters are
 * guarded by mu; control's two counters are atomics. Neither thread waits for the other
 * except in ctl_store_flush_wait(), ctl_store_retention() and ctl_store_close().
 */

struct ctl_store {
	struct ctl_store_opts o;

	/* Control's. */
	struct ctl_map *agg;
	struct ctl_map *track;
	struct op *ops; /* ring of queued rows */
	uint32_t ops_cap;
	uint32_t ops_reserve; /* the ring's last slots, kept for durable rows */
	uint32_t ops_head;
	uint32_t ops_n;
	uint32_t durable_queued;   /* durable rows in the ring */
	uint64_t now_ms;	   /* last tick */
	uint64_t pending_since_ms; /* when the oldest pending row arrived (tick clock) */
	int64_t newest_sec;	   /* newest event time seen (flow minute or alert), Unix seconds */
	uint64_t rows_dropped;	   /* atomic */
	uint64_t flows_untracked;  /* atomic */
	uint32_t pending_pub;	   /* atomic: pending rows as of the last tick */
	uint32_t durable_pub;	   /* atomic: durable_queued, for other threads */

	/* The writer's. */
	sqlite3 *db;
	sqlite3_stmt *st[ST__COUNT];
	uint64_t w_now_ms;
	uint64_t retry_delay_ms;
	uint64_t next_retention_ms;
	int64_t w_newest_sec;
	/*
	 * The next version id: above every id this database or an earlier one (moved aside as
	 * corrupt) ever gave, so that an id answered once is never given to another text.
	 */
	int64_t w_version_next;
	int64_t w_batch_version; /* the next id within the batch being written */

	/* Shared, under mu. */
	pthread_mutex_t mu;
	pthread_cond_t wake;	/* the writer: work queued, retention asked, stop */
	pthread_cond_t changed; /* waiters: a batch done or failed, retention done */
	pthread_t thread;
	bool thread_started;
	struct batch *pool;
	unsigned n_batches;
	struct batch *free_list;
	struct batch *q_head, *q_tail; /* with the writer, in order; the head is being written */
	struct batch *done_head, *done_tail;
	uint32_t queued_rows;
	uint32_t queued_batches;
	uint32_t durable_inflight;
	uint64_t writing_since_ms; /* 0: the writer is not in a write */
	bool failing;
	uint64_t fail_since_ms;
	uint64_t fail_streak;
	bool stop;
	bool retention_asked;
	uint64_t retention_runs;
	int retention_result;
	struct ctl_store_counters c; /* the writer's counters */
	char moved_aside[CTL_STORE_PATH_LEN + 48];
};

/* Options ----------------------------------------------------------------------------------- */

void
ctl_store_opts_defaults(struct ctl_store_opts *o)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->path, sizeof(o->path), "vigil.db");
	o->max_age_ms = 30ULL * 24 * 3600 * 1000;
	o->max_bytes = 1ULL << 30;
	o->retention_interval_ms = 60 * 1000;
	o->batch_max_rows = 1000;
	o->batch_max_ms = 1000;
	o->max_pending_rows = 65536;
	o->max_flows = 262144;
	o->busy_timeout_ms = 5;
	o->retry_min_ms = 500;
	o->retry_max_ms = 30000;
	o->check_on_open = true;
	o->queue_batches = 4;
}

#define OPT_OFF(f) offsetof(struct ctl_store_opts, f)

const struct vg_yaml_field ctl_store_yaml_fields[] = {
	{ .name = "path",
			.type = VG_YT_STRBUF,
			.off = OPT_OFF(path),
			.min = 1,
			.max = CTL_STORE_PATH_LEN },
	{ .name = "max_age", .type = VG_YT_MS, .off = OPT_OFF(max_age_ms) },
	{ .name = "max_size", .type = VG_YT_SIZE64, .off = OPT_OFF(max_bytes) },
	{ .name = "retention_interval",
			.type = VG_YT_MS,
			.off = OPT_OFF(retention_interval_ms),
			.min = 100 },
	{ .name = "batch_rows",
			.type = VG_YT_U32,
			.off = OPT_OFF(batch_max_rows),
			.min = 1,
			.max = 1000000 },
	{ .name = "batch_interval",
			.type = VG_YT_MS,
			.off = OPT_OFF(batch_max_ms),
			.min = 1,
			.max = 3600 * 1000 },
	{ .name = "max_pending_rows",
			.type = VG_YT_SIZE32,
			.off = OPT_OFF(max_pending_rows),
			.min = 64,
			.max = 1 << 26 },
	{ .name = "max_flows",
			.type = VG_YT_SIZE32,
			.off = OPT_OFF(max_flows),
			.min = 64,
			.max = 1 << 26 },
	{ .name = "busy_timeout", .type = VG_YT_MS, .off = OPT_OFF(busy_timeout_ms), .max = 10000 },
	{ .name = "retry_min", .type = VG_YT_MS, .off = OPT_OFF(retry_min_ms), .min = 1 },
	{ .name = "retry_max", .type = VG_YT_MS, .off = OPT_OFF(retry_max_ms), .min = 1 },
	{ .name = "check_on_open", .type = VG_YT_BOOL, .off = OPT_OFF(check_on_open) },
	{ .name = "queue_batches",
			.type = VG_YT_U32,
			.off = OPT_OFF(queue_batches),
			.min = 1,
			.max = 1024 },
	{ 0 },
};

int
ctl_store_yaml_parse(struct vg_yaml *y, yaml_node_t *n, struct ctl_store_opts *o)
{
	if (!vg_yaml_expect_map(y, n, "store"))
		return -EINVAL;
	if (vg_yaml_map(y, n, "store", ctl_store_yaml_fields, o) != 0)
		return -EINVAL;
	if (o->retry_max_ms < o->retry_min_ms) {
		vg_yaml_err(y, n,
				"store: retry_max (%" PRIu64 " ms) is below retry_min (%" PRIu64
				" ms)",
				o->retry_max_ms, o->retry_min_ms);
		return -EINVAL;
	}
	return 0;
}

/* Helpers ----------------------------------------------------------------------------------- */

static void
cnt_add(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

static uint64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool
rc_is_corrupt(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB;
}

static int
rc_to_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return EBUSY;
	case SQLITE_FULL:
		return ENOSPC;
	case SQLITE_NOMEM:
		return ENOMEM;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return EACCES;
	case SQLITE_CANTOPEN:
		return ENOENT;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return EILSEQ;
	default:
		return EIO;
	}
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static const char *
addr_text(uint8_t family, const uint8_t *a, char *buf, size_t len)
{
	if (family != 4 && family != 6)
		return NULL;
	return ctl_addr_str(family, a, buf, len);
}

static bool
all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* Bind text or NULL. */
static int
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

/* Run a statement that returns no rows, then reset it. Returns the SQLite result code. */
static int
step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

static int
exec_sql(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static int
pragma_int(sqlite3 *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		*out = 0;
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

/* Opening ----------------------------------------------------------------------------------- */

/*
 * Does the file at db look like a healthy SQLite database? Reading the schema catches a file
 * that is not a database; quick_check catches damaged pages. Returns a SQLite code, with
 * SQLITE_CORRUPT when quick_check reports a problem.
 */
static int
probe_db(sqlite3 *db, bool quick_check, char *why, size_t whylen)
{
	sqlite3_stmt *st;
	int rc;

	rc = exec_sql(db, "SELECT count(*) FROM sqlite_master");
	if (rc != SQLITE_OK) {
		snprintf(why, whylen, "%s", sqlite3_errmsg(db));
		return rc;
	}
	if (!quick_check)
		return SQLITE_OK;
	rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		snprintf(why, whylen, "%s", sqlite3_errmsg(db));
		return rc;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *res = (const char *)sqlite3_column_text(st, 0);

		if (res == NULL || strcmp(res, "ok") != 0) {
			snprintf(why, whylen, "quick_check: %s", res ? res : "(no result)");
			rc = SQLITE_CORRUPT;
		} else {
			rc = SQLITE_OK;
		}
	} else {
		snprintf(why, whylen, "%s", sqlite3_errmsg(db));
	}
	sqlite3_finalize(st);
	return rc;
}

/* Rename path (and its WAL) to path.corrupt-<UTC time>[-n]; the shared-memory index goes. */
static int
move_aside(const char *path, char *moved, size_t movedlen)
{
	char stamp[32], from[CTL_STORE_PATH_LEN + 8], to[CTL_STORE_PATH_LEN + 64];
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(moved, movedlen, "%s.corrupt-%s", path, stamp);
	for (int n = 1; access(moved, F_OK) == 0 && n < 100; n++)
		snprintf(moved, movedlen, "%s.corrupt-%s-%d", path, stamp, n);
	if (rename(path, moved) != 0)
		return -errno;
	snprintf(from, sizeof(from), "%s-wal", path);
	snprintf(to, sizeof(to), "%s-wal", moved);
	if (access(from, F_OK) == 0)
		(void)rename(from, to);
	snprintf(from, sizeof(from), "%s-shm", path);
	(void)unlink(from);
	return 0;
}

/*
 * After moving a corrupt file aside: version ids go on above the highest it holds, when its
 * versions table can still be read, so that a rollback to an id answered before never finds
 * another text under it in the new database.
 */
static void
seed_version_ids(struct ctl_store *s, const char *moved)
{
	sqlite3 *old = NULL;
	int64_t max_id = 0;

	if (sqlite3_open_v2(moved, &old, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
			pragma_int(old, "SELECT max(id) FROM versions", &max_id) == SQLITE_OK) {
		if (max_id + 1 > s->w_version_next)
			s->w_version_next = max_id + 1;
	} else {
		CTL_LOG(WARNING,
				"store: the versions in %s cannot be read; version ids start again "
				"above %" PRId64,
				moved, s->w_version_next > 0 ? s->w_version_next - 1 : 0);
	}
	sqlite3_close(old);
}

static int
open_conn(const char *path, int busy_ms, sqlite3 **out)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db,
			SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);

	if (rc != SQLITE_OK) {
		sqlite3_close(db);
		*out = NULL;
		return rc;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, busy_ms);
	*out = db;
	return SQLITE_OK;
}

/* Bring the schema to CTL_STORE_SCHEMA_VERSION, one transaction per step. */
static int
migrate(sqlite3 *db, char *err, size_t errlen)
{
	int64_t ver = 0;
	int rc = pragma_int(db, "PRAGMA user_version", &ver);

	if (rc != SQLITE_OK) {
		set_err(err, errlen, "reading the schema version: %s", sqlite3_errmsg(db));
		return -rc_to_errno(rc);
	}
	if (ver > CTL_STORE_SCHEMA_VERSION) {
		set_err(err, errlen,
				"the database has schema version %" PRId64
				", newer than this vigild understands (%d); run a newer vigild or "
				"point store.path elsewhere",
				ver, CTL_STORE_SCHEMA_VERSION);
		return -EPROTONOSUPPORT;
	}
	for (int64_t v = ver; v < CTL_STORE_SCHEMA_VERSION; v++) {
		char sql[64];

		rc = exec_sql(db, "BEGIN IMMEDIATE");
		if (rc == SQLITE_OK)
			rc = exec_sql(db, ctl_store_migrations[v]);
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %" PRId64, v + 1);
		if (rc == SQLITE_OK)
			rc = exec_sql(db, sql);
		if (rc == SQLITE_OK)
			rc = exec_sql(db, "COMMIT");
		if (rc != SQLITE_OK) {
			set_err(err, errlen,
					"migrating the schema from version %" PRId64 " to %" PRId64
					": %s",
					v, v + 1, sqlite3_errmsg(db));
			exec_sql(db, "ROLLBACK");
			return -rc_to_errno(rc);
		}
	}
	if (ver > 0 && ver < CTL_STORE_SCHEMA_VERSION)
		CTL_LOG(NOTICE, "store: migrated %s from schema version %" PRId64 " to %d",
				sqlite3_db_filename(db, "main"), ver, CTL_STORE_SCHEMA_VERSION);
	return 0;
}

static void
finalize_stmts(struct ctl_store *s)
{
	for (int i = 0; i < ST__COUNT; i++) {
		sqlite3_finalize(s->st[i]);
		s->st[i] = NULL;
	}
}

/*
 * Open (or re-open after moving a corrupt file aside) s->o.path and get it ready: pragmas,
 * migrations, statements. Returns 0 or -errno with err filled.
 */
static int
attach_db(struct ctl_store *s, char *err, size_t errlen)
{
	char why[256] = "";
	int rc;

	for (int attempt = 0; attempt < 2; attempt++) {
		rc = open_conn(s->o.path, (int)s->o.busy_timeout_ms, &s->db);
		if (rc != SQLITE_OK) {
			set_err(err, errlen, "cannot open %s: %s", s->o.path, sqlite3_errstr(rc));
			return -rc_to_errno(rc);
		}
		/* Only takes effect on a new database: lets retention give pages back. */
		rc = exec_sql(s->db, "PRAGMA auto_vacuum = INCREMENTAL");
		if (rc == SQLITE_OK)
			rc = probe_db(s->db, s->o.check_on_open, why, sizeof(why));
		else
			snprintf(why, sizeof(why), "%s", sqlite3_errmsg(s->db));
		if (rc == SQLITE_OK)
			break;
		sqlite3_close(s->db);
		s->db = NULL;
		if (!rc_is_corrupt(rc) || attempt > 0) {
			set_err(err, errlen, "cannot use %s: %s", s->o.path, why);
			return -rc_to_errno(rc);
		}
		/* Never overwrite what may be evidence: keep the damaged file under a new name. */
		int mrc = move_aside(s->o.path, s->moved_aside, sizeof(s->moved_aside));

		if (mrc != 0) {
			set_err(err, errlen, "%s is corrupt (%s) and could not be moved aside: %s",
					s->o.path, why, strerror(-mrc));
			return mrc;
		}
		pthread_mutex_lock(&s->mu);
		s->c.corrupt_moved++;
		pthread_mutex_unlock(&s->mu);
		CTL_LOG(ERR, "store: %s is corrupt (%s); moved it to %s and started a new database",
				s->o.path, why, s->moved_aside);
		seed_version_ids(s, s->moved_aside);
	}

	rc = exec_sql(s->db, "PRAGMA journal_mode = WAL");
	if (rc == SQLITE_OK)
		rc = exec_sql(s->db, "PRAGMA synchronous = NORMAL");
	/* Keep the WAL from growing without bound between checkpoints. */
	if (rc == SQLITE_OK)
		rc = exec_sql(s->db, "PRAGMA journal_size_limit = 67108864");
	/* Upserts land all over the flow key's b-tree: 64 MiB of cache keeps them off the disk. */
	if (rc == SQLITE_OK)
		rc = exec_sql(s->db, "PRAGMA cache_size = -65536");
	if (rc != SQLITE_OK) {
		set_err(err, errlen, "setting up %s: %s", s->o.path, sqlite3_errmsg(s->db));
		return -rc_to_errno(rc);
	}
	rc = migrate(s->db, err, errlen);
	if (rc != 0)
		return rc;
	for (int i = 0; i < ST__COUNT; i++) {
		rc = sqlite3_prepare_v3(
				s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL);
		if (rc != SQLITE_OK) {
			set_err(err, errlen, "preparing statements on %s: %s", s->o.path,
					sqlite3_errmsg(s->db));
			return -rc_to_errno(rc);
		}
	}
	int64_t newest = 0, max_id = 0;

	if (pragma_int(s->db, "SELECT max(minute) FROM flows", &newest) == SQLITE_OK &&
			newest > s->w_newest_sec)
		s->w_newest_sec = newest;
	if (pragma_int(s->db, "SELECT max(id) FROM versions", &max_id) == SQLITE_OK &&
			max_id + 1 > s->w_version_next)
		s->w_version_next = max_id + 1;
	return 0;
}

static void
detach_db(struct ctl_store *s)
{
	finalize_stmts(s);
	if (s->db != NULL)
		sqlite3_close(s->db);
	s->db = NULL;
}

static void *writer_main(void *arg);
static void op_release(struct op *op, int lost);

static void
free_buffers(struct ctl_store *s)
{
	for (unsigned i = 0; s->pool != NULL && i < s->n_batches; i++) {
		free(s->pool[i].ops);
		free(s->pool[i].agg);
	}
	free(s->pool);
	ctl_map_free(s->agg);
	ctl_map_free(s->track);
	free(s->ops);
	pthread_cond_destroy(&s->wake);
	pthread_cond_destroy(&s->changed);
	pthread_mutex_destroy(&s->mu);
}

struct ctl_store *
ctl_store_open(const struct ctl_store_opts *opts, char *err, size_t errlen)
{
	struct ctl_store *s = calloc(1, sizeof(*s));
	pthread_condattr_t ca;
	bool bufs_ok = true;
	int rc;

	if (s == NULL) {
		set_err(err, errlen, "out of memory");
		return NULL;
	}
	s->o = *opts;
	if (s->o.batch_max_rows == 0)
		s->o.batch_max_rows = 1;
	if (s->o.max_pending_rows < s->o.batch_max_rows)
		s->o.max_pending_rows = s->o.batch_max_rows;
	if (s->o.retry_min_ms == 0)
		s->o.retry_min_ms = 1;
	if (s->o.retry_max_ms < s->o.retry_min_ms)
		s->o.retry_max_ms = s->o.retry_min_ms;
	if (s->o.queue_batches == 0)
		s->o.queue_batches = 1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &ca);
	pthread_cond_init(&s->changed, &ca);
	pthread_condattr_destroy(&ca);
	s->ops_cap = s->o.max_pending_rows / 16 < 64 ? 64 : s->o.max_pending_rows / 16;
	s->ops_reserve = s->ops_cap / 4;
	s->ops = calloc(s->ops_cap, sizeof(*s->ops));
	s->n_batches = s->o.queue_batches;
	s->pool = calloc(s->n_batches, sizeof(*s->pool));
	for (unsigned i = 0; s->pool != NULL && i < s->n_batches; i++) {
		struct batch *b = &s->pool[i];

		b->ops = calloc(s->o.batch_max_rows, sizeof(*b->ops));
		b->agg = calloc(s->o.batch_max_rows, sizeof(*b->agg));
		bufs_ok = bufs_ok && b->ops != NULL && b->agg != NULL;
		b->next = s->free_list;
		s->free_list = b;
	}
	s->agg = ctl_map_create("agg", sizeof(struct agg_key), sizeof(struct agg_val),
			s->o.max_pending_rows);
	s->track = ctl_map_create("trk", sizeof(struct track_key), sizeof(struct track_val),
			s->o.max_flows ? s->o.max_flows : 64);
	if (s->ops == NULL || s->pool == NULL || !bufs_ok || s->agg == NULL || s->track == NULL) {
		set_err(err, errlen,
				"cannot allocate the store's buffers (%u pending rows, %u flows, "
				"%u batches): %s",
				s->o.max_pending_rows, s->o.max_flows, s->o.queue_batches,
				strerror(errno ? errno : ENOMEM));
		rc = -ENOMEM;
		goto fail;
	}
	rc = attach_db(s, err, errlen);
	if (rc != 0)
		goto fail;
	s->newest_sec = s->w_newest_sec;
	/* The first retention one interval after opening: starting is not slowed by deletes. */
	s->next_retention_ms = vg_mono_ms() + s->o.retention_interval_ms;
	rc = pthread_create(&s->thread, NULL, writer_main, s);
	if (rc != 0) {
		set_err(err, errlen, "cannot start the store's writer thread: %s", strerror(rc));
		rc = -rc;
		goto fail;
	}
	s->thread_started = true;
	return s;
fail:
	detach_db(s);
	free_buffers(s);
	free(s);
	errno = -rc;
	return NULL;
}

static void
op_release(struct op *op, int lost)
{
	if (op->type == OP_AUDIT)
		free(op->audit.buf);
	if (op->type == OP_VERSION) {
		if (lost && op->ver.fn != NULL)
			op->ver.fn(op->ver.arg, op->ver.cookie, lost, 0);
		free(op->ver.buf);
	}
	if (op->t != NULL)
		ctl_store_ticket_put(op->t);
	op->t = NULL;
	op->type = 0;
}

/* Under mu: the tickets of b's rows are lost (-EIO). */
static void
tickets_lost(struct batch *b)
{
	for (uint32_t i = 0; i < b->n_ops; i++)
		if (b->ops[i].t != NULL)
			b->ops[i].t->state = -EIO;
}

/*
 * Closing: the owners of version callbacks (the policy, the signatures) are gone by now; no
 * callback may run. Batches with the writer are only read by it, and fn is not.
 */
static void
drop_callbacks(struct ctl_store *s)
{
	for (uint32_t i = 0; i < s->ops_n; i++) {
		struct op *op = &s->ops[(s->ops_head + i) % s->ops_cap];

		if (op->type == OP_VERSION)
			op->ver.fn = NULL;
	}
	pthread_mutex_lock(&s->mu);
	for (struct batch *b = s->q_head; b != NULL; b = b->next)
		for (uint32_t i = 0; i < b->n_ops; i++)
			if (b->ops[i].type == OP_VERSION)
				b->ops[i].ver.fn = NULL;
	for (struct batch *b = s->done_head; b != NULL; b = b->next)
		for (uint32_t i = 0; i < b->n_ops; i++)
			if (b->ops[i].type == OP_VERSION)
				b->ops[i].ver.fn = NULL;
	pthread_mutex_unlock(&s->mu);
}

void
ctl_store_close(struct ctl_store *s)
{
	char why[sizeof(s->c.last_error_msg)];
	uint32_t left;
	bool joined = true;

	if (s == NULL)
		return;
	drop_callbacks(s);
	/* A last try, bounded: a stalled or full disk is reported, not waited for. */
	int frc = ctl_store_flush_wait(s, 5000);

	pthread_mutex_lock(&s->mu);
	snprintf(why, sizeof(why), "%s",
			s->c.last_error_msg[0] ? s->c.last_error_msg : "timed out");
	pthread_mutex_unlock(&s->mu);
	if (frc < 0)
		CTL_LOG(ERR, "store: the last write before closing failed or did not finish (%s)",
				why);
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->mu);
	if (s->thread_started) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 3;
		if (pthread_timedjoin_np(s->thread, NULL, &ts) != 0)
			joined = false;
	}
	pthread_mutex_lock(&s->mu);
	left = ctl_map_count(s->agg) + s->ops_n + s->queued_rows;
	for (struct batch *b = s->q_head; b != NULL; b = b->next)
		tickets_lost(b);
	for (uint32_t i = 0; i < s->ops_n; i++) {
		struct op *op = &s->ops[(s->ops_head + i) % s->ops_cap];

		if (op->t != NULL)
			op->t->state = -EIO;
	}
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->mu);
	if (left > 0)
		CTL_LOG(ERR, "store: closing with %u rows not written (%s)", left, why);
	if (!joined) {
		/* The writer is stuck in a system call (a frozen file system): leave it be. */
		CTL_LOG(ERR, "store: the writer thread is stuck writing to %s; leaving it",
				s->o.path);
		pthread_detach(s->thread);
		return;
	}
	while (s->ops_n > 0) {
		op_release(&s->ops[s->ops_head], -EIO);
		s->ops_head = (s->ops_head + 1) % s->ops_cap;
		s->ops_n--;
	}
	for (struct batch *b = s->q_head; b != NULL; b = b->next)
		for (uint32_t i = 0; i < b->n_ops; i++)
			op_release(&b->ops[i], -EIO);
	for (struct batch *b = s->done_head; b != NULL; b = b->next)
		for (uint32_t i = 0; i < b->n_ops; i++)
			op_release(&b->ops[i], 0);
	detach_db(s);
	free_buffers(s);
	free(s);
}

/* Accepting rows ---------------------------------------------------------------------------- */

static uint32_t
pending(const struct ctl_store *s)
{
	return ctl_map_count(s->agg) + s->ops_n;
}

static void
note_pending(struct ctl_store *s)
{
	if (s->pending_since_ms == 0)
		s->pending_since_ms = s->now_ms ? s->now_ms : 1;
}

/* What ctl_store_counters() tells other threads about control's rows. */
static void
publish_pending(struct ctl_store *s)
{
	__atomic_store_n(&s->pending_pub, pending(s), __ATOMIC_RELAXED);
	__atomic_store_n(&s->durable_pub, s->durable_queued, __ATOMIC_RELAXED);
}

/* The aggregate row an event's counts go to. */
static void
agg_key_of(const struct dp_event *ev, struct agg_key *k)
{
	memset(k, 0, sizeof(*k));
	k->minute = (int64_t)(ev->time_ns / 60000000000ULL) * 60;
	memcpy(k->src, ev->flow.src, 16);
	memcpy(k->dst, ev->flow.dst, 16);
	k->dport = ev->flow.dport;
	k->proto = ev->flow.proto;
	k->verdict = ev->flow.verdict;
	k->family = ev->flow.family;
	k->app_proto = ev->flow.app_proto < AL_PROTO__COUNT ? ev->flow.app_proto : 0;
	k->in_port = ev->flow.in_port;
}

static void
add_agg(struct ctl_store *s, const struct agg_key *k, int64_t pkts, int64_t bytes, int64_t flows,
		int *rc)
{
	struct agg_val *v;

	if (pkts == 0 && bytes == 0 && flows == 0)
		return;
	v = ctl_map_get(s->agg, k, NULL);
	if (v == NULL) {
		cnt_add(&s->rows_dropped, 1);
		*rc = -ENOSPC;
		return;
	}
	v->packets += pkts;
	v->bytes += bytes;
	v->flows += flows;
	if (k->minute > s->newest_sec)
		s->newest_sec = k->minute;
	note_pending(s);
}

/*
 * The flow's protocol became known: its count, and the packets and bytes its events added in
 * its start's minute while the protocol was not known (its first packets; a one-datagram flow's
 * whole traffic), move from that row to the same row of its protocol. What later minutes got
 * before the protocol was known stays there.
 */
static void
move_to_protocol(struct ctl_store *s, const struct dp_event *ev, struct track_val *tv, int *rc)
{
	struct agg_key k;
	int64_t p = (int64_t)tv->early_pkts, b = (int64_t)tv->early_bytes;

	agg_key_of(ev, &k);
	k.minute = tv->minute;
	k.verdict = tv->verdict;
	k.app_proto = tv->app_proto;
	add_agg(s, &k, -p, -b, -1, rc);
	k.app_proto = ev->flow.app_proto;
	add_agg(s, &k, p, b, 1, rc);
	tv->app_proto = ev->flow.app_proto;
	tv->early_pkts = tv->early_bytes = 0;
}

int
ctl_store_add_flow_event(struct ctl_store *s, const struct dp_event *ev)
{
	struct track_key tk;
	struct track_val *tv;
	struct agg_key k;
	uint64_t pkts, bytes, dp, db;
	bool added;
	int rc = 0;

	if (ev->type != DP_EV_FLOW_START && ev->type != DP_EV_FLOW_UPDATE &&
			ev->type != DP_EV_FLOW_END)
		return 0;
	if (ev->flow.family != 4 && ev->flow.family != 6)
		return 0;
	pkts = ev->flow.pkts[0] + ev->flow.pkts[1];
	bytes = ev->flow.bytes[0] + ev->flow.bytes[1];
	memset(&tk, 0, sizeof(tk));
	tk.flow_id = ev->flow.flow_id;
	tk.worker = ev->worker;

	if (ev->type == DP_EV_FLOW_END) {
		tv = ctl_map_find(s->track, &tk);
	} else {
		tv = ctl_map_get(s->track, &tk, &added);
		/* A start resets the flow's totals, whatever an earlier flow with its id left. */
		if (tv != NULL && ev->type == DP_EV_FLOW_START)
			memset(tv, 0, sizeof(*tv));
		else if (tv != NULL && added)
			cnt_add(&s->flows_untracked, 1); /* an update whose start we missed */
	}
	agg_key_of(ev, &k);
	if (tv == NULL) {
		/* No state (table full, or a start we missed): take the counters whole. */
		cnt_add(&s->flows_untracked, 1);
		dp = pkts;
		db = bytes;
	} else {
		/* Counters only grow; if they did not, the worker reused the id: take them whole.
		 */
		dp = pkts >= tv->pkts ? pkts - tv->pkts : pkts;
		db = bytes >= tv->bytes ? bytes - tv->bytes : bytes;
		tv->pkts = pkts;
		tv->bytes = bytes;
		if (ev->type == DP_EV_FLOW_START) {
			tv->minute = k.minute;
			tv->verdict = k.verdict;
			tv->app_proto = k.app_proto;
			tv->counted = true;
		} else if (tv->counted && k.app_proto != 0 && k.app_proto != tv->app_proto) {
			move_to_protocol(s, ev, tv, &rc);
		}
		if (tv->counted && tv->app_proto == 0 && k.app_proto == 0 &&
				k.minute == tv->minute && k.verdict == tv->verdict) {
			tv->early_pkts += dp;
			tv->early_bytes += db;
		}
		if (ev->type == DP_EV_FLOW_END)
			ctl_map_del(s->track, &tk);
	}
	add_agg(s, &k, (int64_t)dp, (int64_t)db, ev->type == DP_EV_FLOW_START ? 1 : 0, &rc);
	if (rc != 0 && ev->type == DP_EV_FLOW_START && tv != NULL)
		tv->counted = false; /* no row holds its count: nothing to move later */
	publish_pending(s);
	return rc;
}

/*
 * A slot at the ring's tail. Ordinary rows leave the last ops_reserve slots to durable ones
 * (those with a ticket), so that a flood of alerts cannot refuse an operator's block.
 */
static struct op *
op_push(struct ctl_store *s, uint8_t type, struct ctl_store_ticket *t)
{
	struct op *op;

	if (s->ops_n >= s->ops_cap - (t != NULL ? 0 : s->ops_reserve)) {
		cnt_add(&s->rows_dropped, 1);
		return NULL;
	}
	op = &s->ops[(s->ops_head + s->ops_n) % s->ops_cap];
	op->type = type;
	op->t = t;
	op->durable = t != NULL;
	if (t != NULL) {
		__atomic_fetch_add(&t->refs, 1, __ATOMIC_RELAXED);
		s->durable_queued++;
	}
	s->ops_n++;
	note_pending(s);
	publish_pending(s);
	return op;
}

bool
ctl_store_durable_room(const struct ctl_store *s)
{
	return s->ops_n < s->ops_cap;
}

struct ctl_store_ticket *
ctl_store_ticket_new(void)
{
	struct ctl_store_ticket *t = calloc(1, sizeof(*t));

	if (t != NULL)
		t->refs = 1;
	return t;
}

void
ctl_store_ticket_put(struct ctl_store_ticket *t)
{
	if (t != NULL && __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(t);
}

int
ctl_store_ticket_wait(
		struct ctl_store *s, struct ctl_store_ticket *t, unsigned timeout_ms, int64_t *id)
{
	struct timespec ts;
	int st;

	vg_mono_deadline(&ts, timeout_ms);
	pthread_mutex_lock(&s->mu);
	while (t->state == 0 && pthread_cond_timedwait(&s->changed, &s->mu, &ts) == 0)
		;
	st = t->state;
	if (id != NULL)
		*id = t->id;
	pthread_mutex_unlock(&s->mu);
	return st;
}

int
ctl_store_add_alert(struct ctl_store *s, const struct ctl_alert *a)
{
	struct op *op = op_push(s, OP_ALERT, NULL);
	int64_t sec = (int64_t)(a->last_ns / 1000000000ULL);

	if (op == NULL)
		return -ENOSPC;
	op->alert = *a;
	if (sec > s->newest_sec)
		s->newest_sec = sec;
	return 0;
}

int
ctl_store_put_baseline(struct ctl_store *s, const struct ctl_store_baseline *b)
{
	struct op *op = op_push(s, OP_BASELINE, NULL);

	if (op == NULL)
		return -ENOSPC;
	op->bl = *b;
	return 0;
}

int
ctl_store_put_block(
		struct ctl_store *s, const struct ctl_store_block *b, struct ctl_store_ticket *t)
{
	struct op *op = op_push(s, OP_BLOCK_PUT, t);

	if (op == NULL)
		return -ENOSPC;
	op->blk = *b;
	return 0;
}

int
ctl_store_del_block(struct ctl_store *s, uint8_t family, const uint8_t *addr)
{
	struct op *op = op_push(s, OP_BLOCK_DEL, NULL);

	if (op == NULL)
		return -ENOSPC;
	memset(&op->blk, 0, sizeof(op->blk));
	op->blk.family = family;
	memcpy(op->blk.addr, addr, family == 4 ? 4 : 16);
	return 0;
}

int
ctl_store_audit(struct ctl_store *s, const struct ctl_audit *a)
{
	const char *f[5] = { a->actor, a->action, a->target, a->detail, a->result };
	size_t len = 0, o = 0;
	char *buf;
	struct op *op;

	for (int i = 0; i < 5; i++)
		len += (f[i] ? strlen(f[i]) : 0) + 1;
	buf = malloc(len);
	if (buf == NULL)
		return -ENOMEM;
	for (int i = 0; i < 5; i++) {
		size_t l = f[i] ? strlen(f[i]) : 0;

		memcpy(buf + o, f[i] ? f[i] : "", l);
		buf[o + l] = '\0';
		o += l + 1;
	}
	op = op_push(s, OP_AUDIT, NULL);
	if (op == NULL) {
		free(buf);
		return -ENOSPC;
	}
	op->audit.ts_ms = a->ts_ms ? a->ts_ms : wall_ms();
	op->audit.buf = buf;
	return 0;
}

/* Writing a batch --------------------------------------------------------------------------- */

static char *
facts_json(const struct ctl_alert *a)
{
	json_t *o = json_object();
	char *s;

	if (o == NULL)
		return NULL;
	for (unsigned i = 0; i < a->n_facts && i < CTL_ALERT_MAX_FACTS; i++)
		json_object_set_new(o, a->facts[i].name, json_string(a->facts[i].value));
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return s;
}

static int
write_alert(struct ctl_store *s, const struct ctl_alert *a)
{
	const struct dp_event_flow *f = &a->flow;
	sqlite3_stmt *st = s->st[ST_ALERT];
	char src[64], dst[64];
	const char *srcp = addr_text(f->family, f->src, src, sizeof(src));
	const char *dstp = a->has_flow || !all_zero(f->dst, 16)
					   ? addr_text(f->family, f->dst, dst, sizeof(dst))
					   : NULL;
	char *facts = facts_json(a);
	bool anomaly = a->kind == CTL_ALERT_ANOMALY;
	const char *app_name = NULL;
	json_t *cut = NULL, *app = ctl_alert_app_json(a, &app_name, &cut);
	char *app_text = app ? json_dumps(app, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	char *cut_text = cut ? json_dumps(cut, JSON_COMPACT) : NULL;
	const char *app_proto = ctl_app_proto_name(f->app_proto);
	int rc;

	sqlite3_bind_int64(st, 1, (int64_t)a->uid);
	bind_text(st, 2, ctl_alert_kind_name(a->kind));
	sqlite3_bind_int(st, 3, a->severity);
	bind_text(st, 4, a->category);
	sqlite3_bind_int64(st, 5, a->gid);
	sqlite3_bind_int64(st, 6, a->sid);
	sqlite3_bind_int64(st, 7, a->rev);
	bind_text(st, 8, a->signature);
	bind_text(st, 9, srcp);
	bind_text(st, 10, dstp);
	if (a->has_flow || f->sport)
		sqlite3_bind_int(st, 11, f->sport);
	if (a->has_flow || f->dport)
		sqlite3_bind_int(st, 12, f->dport);
	if (f->proto)
		sqlite3_bind_int(st, 13, f->proto);
	sqlite3_bind_int64(st, 14, (int64_t)a->first_ns);
	sqlite3_bind_int64(st, 15, (int64_t)a->last_ns);
	sqlite3_bind_int64(st, 16, (int64_t)(a->count ? a->count : 1));
	bind_text(st, 17, a->detector);
	bind_text(st, 18, a->blocked ? "blocked" : "allowed");
	if (a->has_flow)
		sqlite3_bind_int64(st, 19, (int64_t)(((uint64_t)a->worker << 32) | f->flow_id));
	if (anomaly) {
		bind_text(st, 20, a->metric);
		sqlite3_bind_double(st, 21, a->observed);
		sqlite3_bind_double(st, 22, a->threshold);
		if (a->stddev > 0) {
			sqlite3_bind_double(st, 23, a->mean);
			sqlite3_bind_double(st, 24, a->stddev);
			sqlite3_bind_double(st, 25, a->sigma);
		}
		if (a->window_ns)
			sqlite3_bind_int64(st, 26, (int64_t)a->window_ns);
	}
	if (a->has_flow) {
		sqlite3_bind_int64(st, 27, (int64_t)f->pkts[0]);
		sqlite3_bind_int64(st, 28, (int64_t)f->pkts[1]);
		sqlite3_bind_int64(st, 29, (int64_t)f->bytes[0]);
		sqlite3_bind_int64(st, 30, (int64_t)f->bytes[1]);
	}
	bind_text(st, 31, facts);
	bind_text(st, 32, a->what);
	bind_text(st, 33, a->why);
	bind_text(st, 34, a->next);
	bind_text(st, 35, app_proto != NULL ? app_proto : app_name);
	bind_text(st, 36, app_text);
	bind_text(st, 37, cut_text);
	rc = step_done(st);
	if (rc == SQLITE_OK && anomaly) {
		st = s->st[ST_ANOMALY];
		sqlite3_bind_int64(st, 1, (int64_t)a->last_ns);
		sqlite3_bind_int64(st, 2, (int64_t)a->uid);
		bind_text(st, 3, a->detector);
		bind_text(st, 4, a->metric);
		bind_text(st, 5, srcp);
		bind_text(st, 6, dstp);
		if (f->dport)
			sqlite3_bind_int(st, 7, f->dport);
		if (f->proto)
			sqlite3_bind_int(st, 8, f->proto);
		sqlite3_bind_double(st, 9, a->observed);
		sqlite3_bind_double(st, 10, a->threshold);
		if (a->stddev > 0) {
			sqlite3_bind_double(st, 11, a->mean);
			sqlite3_bind_double(st, 12, a->stddev);
			sqlite3_bind_double(st, 13, a->sigma);
		}
		if (a->window_ns)
			sqlite3_bind_int64(st, 14, (int64_t)a->window_ns);
		bind_text(st, 15, facts);
		rc = step_done(st);
	}
	free(facts);
	free(app_text);
	free(cut_text);
	json_decref(app);
	json_decref(cut);
	return rc;
}

static int
write_op(struct ctl_store *s, const struct op *op)
{
	sqlite3_stmt *st;
	char addr[64];

	switch (op->type) {
	case OP_ALERT:
		return write_alert(s, &op->alert);
	case OP_BASELINE:
		st = s->st[ST_BASELINE];
		bind_text(st, 1, op->bl.detector);
		bind_text(st, 2, op->bl.metric);
		bind_text(st, 3, op->bl.entity);
		sqlite3_bind_blob(st, 4, op->bl.key,
				(int)(op->bl.key_len <= sizeof(op->bl.key) ? op->bl.key_len : 0),
				SQLITE_TRANSIENT);
		sqlite3_bind_double(st, 5, op->bl.mean);
		sqlite3_bind_double(st, 6, op->bl.var);
		sqlite3_bind_int64(st, 7, (int64_t)op->bl.n);
		sqlite3_bind_int64(st, 8, (int64_t)op->bl.updated_ns);
		return step_done(st);
	case OP_BLOCK_PUT:
		st = s->st[ST_BLOCK_PUT];
		if (addr_text(op->blk.family, op->blk.addr, addr, sizeof(addr)) == NULL)
			return SQLITE_OK; /* nothing meaningful to store */
		bind_text(st, 1, addr);
		sqlite3_bind_int(st, 2, op->blk.family);
		sqlite3_bind_int64(st, 3, (int64_t)op->blk.created_ms);
		sqlite3_bind_int64(st, 4, (int64_t)op->blk.expires_ms);
		if (op->blk.alert_uid)
			sqlite3_bind_int64(st, 5, (int64_t)op->blk.alert_uid);
		bind_text(st, 6, op->blk.source);
		bind_text(st, 7, op->blk.reason);
		return step_done(st);
	case OP_BLOCK_DEL:
		st = s->st[ST_BLOCK_DEL];
		if (addr_text(op->blk.family, op->blk.addr, addr, sizeof(addr)) == NULL)
			return SQLITE_OK;
		bind_text(st, 1, addr);
		return step_done(st);
	case OP_AUDIT: {
		const char *p = op->audit.buf;

		st = s->st[ST_AUDIT];
		sqlite3_bind_int64(st, 1, (int64_t)op->audit.ts_ms);
		for (int i = 0; i < 5; i++) {
			bind_text(st, 2 + i, p);
			p += strlen(p) + 1;
		}
		return step_done(st);
	}
	case OP_VERSION: {
		const char *kind = op->ver.buf;
		const char *source = kind + strlen(kind) + 1;
		const char *result = source + strlen(source) + 1;
		int rc;

		st = s->st[ST_VERSION];
		bind_text(st, 1, kind);
		sqlite3_bind_blob(st, 2, op->ver.buf + op->ver.text_off, (int)op->ver.text_len,
				SQLITE_STATIC);
		bind_text(st, 3, op->ver.sha256);
		bind_text(st, 4, source);
		sqlite3_bind_int64(st, 5, (int64_t)op->ver.created_ms);
		bind_text(st, 6, result);
		sqlite3_bind_int64(st, 7, s->w_batch_version);
		rc = step_done(st);
		if (rc == SQLITE_OK)
			((struct op *)op)->ver.id = s->w_batch_version++;
		return rc;
	}
	}
	return SQLITE_OK;
}

static int
write_agg(struct ctl_store *s, const struct agg_key *k, const struct agg_val *v)
{
	sqlite3_stmt *st = s->st[ST_FLOW];
	char src[64], dst[64];
	int rc;

	/* A flow that moved to its protocol's row may leave nothing here: no row for it. */
	if (v->packets == 0 && v->bytes == 0 && v->flows == 0)
		return SQLITE_OK;
	sqlite3_bind_int64(st, 1, k->minute);
	/* The buffers outlive the step below: no copy needed. */
	sqlite3_bind_text(st, 2, ctl_addr_str(k->family, k->src, src, sizeof(src)), -1,
			SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ctl_addr_str(k->family, k->dst, dst, sizeof(dst)), -1,
			SQLITE_STATIC);
	sqlite3_bind_int(st, 4, k->dport);
	sqlite3_bind_int(st, 5, k->proto);
	sqlite3_bind_int(st, 6, k->verdict);
	bind_text(st, 7, ctl_app_proto_name(k->app_proto) ?: "");
	sqlite3_bind_int64(st, 8, v->packets);
	sqlite3_bind_int64(st, 9, v->bytes);
	sqlite3_bind_int64(st, 10, v->flows);
	sqlite3_bind_text(st, 11, k->in_port < s->o.n_ports ? s->o.port_names[k->in_port] : "", -1,
			SQLITE_STATIC);
	rc = step_done(st);
	if (rc != SQLITE_OK)
		return rc;
	/* The hour's row, in the same transaction (ctl_store_schema.h, 3 -> 4). */
	st = s->st[ST_FLOW_HOUR];
	sqlite3_bind_int64(st, 1, k->minute);
	sqlite3_bind_text(st, 2, src, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, dst, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, k->dport);
	sqlite3_bind_int(st, 5, k->proto);
	sqlite3_bind_int64(st, 8, v->packets);
	sqlite3_bind_int64(st, 9, v->bytes);
	sqlite3_bind_int64(st, 10, v->flows);
	sqlite3_bind_text(st, 11, k->in_port < s->o.n_ports ? s->o.port_names[k->in_port] : "", -1,
			SQLITE_STATIC);
	return step_done(st);
}

/* Writer, under mu: a batch failed. Logged once per episode (its first failure). */
static void
note_failure(struct ctl_store *s, int rc, const char *what, uint32_t rows)
{
	const char *msg = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
	bool first = !s->failing;

	s->c.failures++;
	s->c.last_error = rc;
	snprintf(s->c.last_error_msg, sizeof(s->c.last_error_msg), "%s: %s", what, msg);
	if (first) {
		s->failing = true;
		s->fail_since_ms = s->w_now_ms;
		s->retry_delay_ms = s->o.retry_min_ms;
		s->fail_streak = 0;
		s->c.episodes++;
		CTL_LOG(WARNING,
				"store: could not write a batch of %u rows to %s (%s: %s); the batch "
				"is kept and retried, %u rows wait with the writer and control keeps "
				"up to %u more (further failures are counted, not logged, until "
				"writing works again)",
				rows, s->o.path, what, msg, s->queued_rows, s->o.max_pending_rows);
	} else {
		s->retry_delay_ms *= 2;
		if (s->retry_delay_ms > s->o.retry_max_ms)
			s->retry_delay_ms = s->o.retry_max_ms;
	}
	s->fail_streak++;
}

/* Writer, under mu. */
static void
note_success(struct ctl_store *s)
{
	if (s->failing)
		CTL_LOG(NOTICE,
				"store: writing to %s again after %" PRIu64
				" failed attempts over %" PRIu64 " ms; %" PRIu64
				" rows dropped in total",
				s->o.path, s->fail_streak, s->w_now_ms - s->fail_since_ms,
				__atomic_load_n(&s->rows_dropped, __ATOMIC_RELAXED));
	s->failing = false;
	s->fail_streak = 0;
}

/* Writer: a write found the file corrupt: set it aside and carry on with a new database. */
static void
recover_corrupt(struct ctl_store *s)
{
	char err[256];

	detach_db(s);
	if (move_aside(s->o.path, s->moved_aside, sizeof(s->moved_aside)) == 0) {
		pthread_mutex_lock(&s->mu);
		s->c.corrupt_moved++;
		pthread_mutex_unlock(&s->mu);
		CTL_LOG(ERR, "store: %s turned out corrupt while writing; moved it to %s",
				s->o.path, s->moved_aside);
		seed_version_ids(s, s->moved_aside);
	}
	if (attach_db(s, err, sizeof(err)) != 0) {
		CTL_LOG(ERR, "store: cannot start a new database: %s", err);
		detach_db(s);
	}
}

/*
 * Writer, without mu: write b in one transaction. Returns SQLITE_OK or the failing code (the
 * transaction rolled back, b unchanged). what says which step failed.
 */
static int
write_batch(struct ctl_store *s, struct batch *b, const char **what)
{
	int rc;

	*what = "write";
	if (s->db == NULL) {
		char err[256];

		*what = "open";
		if (attach_db(s, err, sizeof(err)) != 0) {
			detach_db(s);
			CTL_LOG(DEBUG, "store: %s", err);
			return SQLITE_CANTOPEN;
		}
	}
	if (b->newest_sec > s->w_newest_sec)
		s->w_newest_sec = b->newest_sec;
	if (s->w_version_next < 1)
		s->w_version_next = 1;
	s->w_batch_version = s->w_version_next;
	rc = step_done(s->st[ST_BEGIN]);
	if (rc != SQLITE_OK) {
		*what = "begin";
		return rc;
	}
	for (uint32_t i = 0; i < b->n_ops && rc == SQLITE_OK; i++)
		rc = write_op(s, &b->ops[i]);
	for (uint32_t i = 0; i < b->n_agg && rc == SQLITE_OK; i++)
		rc = write_agg(s, &b->agg[i].k, &b->agg[i].v);
	if (rc == SQLITE_OK)
		rc = step_done(s->st[ST_COMMIT]);
	if (rc == SQLITE_OK)
		s->w_version_next = s->w_batch_version;
	if (rc != SQLITE_OK && !sqlite3_get_autocommit(s->db))
		step_done(s->st[ST_ROLLBACK]); /* some errors end the transaction themselves */
	return rc;
}

static int run_retention(struct ctl_store *s);

/* The writer thread: batches in order, each until it is written; retention in between. */
static void *
writer_main(void *arg)
{
	struct ctl_store *s = arg;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		struct batch *b = s->q_head;

		s->w_now_ms = vg_mono_ms();
		if (s->retention_asked || (b == NULL && !s->failing && s->db != NULL &&
							  (s->o.max_age_ms || s->o.max_bytes) &&
							  s->w_now_ms >= s->next_retention_ms)) {
			bool asked = s->retention_asked;
			int rc;

			pthread_mutex_unlock(&s->mu);
			rc = run_retention(s);
			pthread_mutex_lock(&s->mu);
			/* Work left over (a large backlog): come back soon rather than in an
			 * interval. */
			s->next_retention_ms = s->w_now_ms +
					       (rc >= RETENTION_CHUNK ? s->o.batch_max_ms
								      : s->o.retention_interval_ms);
			if (rc > 0)
				s->c.retention_deleted += (uint64_t)rc;
			if (asked) {
				s->retention_asked = false;
				s->retention_result = rc;
				s->retention_runs++;
				pthread_cond_broadcast(&s->changed);
			}
			continue;
		}
		if (b == NULL) {
			struct timespec ts;

			if (s->stop)
				break;
			vg_mono_deadline(&ts, s->o.retention_interval_ms);
			pthread_cond_timedwait(&s->wake, &s->mu, &ts);
			continue;
		}
		uint32_t rows = b->n_ops + b->n_agg;
		const char *what;
		int rc;

		if (s->failing)
			s->c.retries++;
		s->writing_since_ms = s->w_now_ms ? s->w_now_ms : 1;
		pthread_mutex_unlock(&s->mu);
		rc = write_batch(s, b, &what);
		if (rc != SQLITE_OK && rc_is_corrupt(rc))
			recover_corrupt(s);
		pthread_mutex_lock(&s->mu);
		s->writing_since_ms = 0;
		s->w_now_ms = vg_mono_ms();
		if (rc == SQLITE_OK) {
			s->q_head = b->next;
			if (s->q_head == NULL)
				s->q_tail = NULL;
			b->next = NULL;
			if (s->done_tail != NULL)
				s->done_tail->next = b;
			else
				s->done_head = b;
			s->done_tail = b;
			s->c.rows_written += rows;
			s->c.batches++;
			note_success(s);
			pthread_cond_broadcast(&s->changed);
			continue;
		}
		note_failure(s, rc, what, rows);
		pthread_cond_broadcast(&s->changed);
		if (s->stop)
			break; /* closing: one try only */
		struct timespec ts;

		vg_mono_deadline(&ts, s->retry_delay_ms);
		while (!s->stop && pthread_cond_timedwait(&s->wake, &s->mu, &ts) == 0)
			;
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/*
 * Control: take back what the writer finished. Versions learn their id (their callbacks run
 * here, on control, before the ticket says "written"), tickets complete, buffers are freed.
 */
static void
reclaim(struct ctl_store *s)
{
	struct batch *done;

	pthread_mutex_lock(&s->mu);
	done = s->done_head;
	s->done_head = s->done_tail = NULL;
	pthread_mutex_unlock(&s->mu);
	if (done == NULL)
		return;
	for (struct batch *b = done; b != NULL; b = b->next)
		for (uint32_t i = 0; i < b->n_ops; i++)
			if (b->ops[i].type == OP_VERSION && b->ops[i].ver.fn != NULL)
				b->ops[i].ver.fn(b->ops[i].ver.arg, b->ops[i].ver.cookie, 0,
						b->ops[i].ver.id);
	pthread_mutex_lock(&s->mu);
	for (struct batch *b = done; b != NULL; b = b->next) {
		for (uint32_t i = 0; i < b->n_ops; i++)
			if (b->ops[i].t != NULL) {
				b->ops[i].t->state = 1;
				b->ops[i].t->id =
						b->ops[i].type == OP_VERSION ? b->ops[i].ver.id : 0;
			}
		s->queued_rows -= b->n_ops + b->n_agg;
		s->durable_inflight -= b->n_durable;
		s->queued_batches--;
	}
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->mu);
	while (done != NULL) {
		struct batch *b = done;

		done = b->next;
		for (uint32_t i = 0; i < b->n_ops; i++) {
			if (b->ops[i].type == OP_VERSION)
				b->ops[i].ver.fn = NULL; /* ran above */
			op_release(&b->ops[i], 0);
		}
		b->n_ops = b->n_agg = b->n_durable = 0;
		pthread_mutex_lock(&s->mu);
		b->next = s->free_list;
		s->free_list = b;
		pthread_mutex_unlock(&s->mu);
	}
}

/* Control: move up to one batch of pending rows into a free buffer for the writer. */
static uint32_t
hand_batch(struct ctl_store *s)
{
	struct batch *b;
	uint32_t it = 0, n;
	const void *k;
	void *v;

	if (pending(s) == 0)
		return 0;
	pthread_mutex_lock(&s->mu);
	b = s->free_list;
	if (b != NULL)
		s->free_list = b->next;
	pthread_mutex_unlock(&s->mu);
	if (b == NULL)
		return 0;
	b->next = NULL;
	b->n_ops = s->ops_n < s->o.batch_max_rows ? s->ops_n : s->o.batch_max_rows;
	b->n_durable = 0;
	for (uint32_t i = 0; i < b->n_ops; i++) {
		b->ops[i] = s->ops[s->ops_head]; /* moved: the batch owns it now */
		memset(&s->ops[s->ops_head], 0, sizeof(s->ops[0]));
		s->ops_head = (s->ops_head + 1) % s->ops_cap;
		s->ops_n--;
		if (b->ops[i].durable)
			b->n_durable++;
	}
	s->durable_queued -= b->n_durable;
	b->n_agg = 0;
	while (b->n_ops + b->n_agg < s->o.batch_max_rows && ctl_map_next(s->agg, &it, &k, &v)) {
		memcpy(&b->agg[b->n_agg].k, k, sizeof(struct agg_key));
		memcpy(&b->agg[b->n_agg].v, v, sizeof(struct agg_val));
		b->n_agg++;
	}
	for (uint32_t i = 0; i < b->n_agg; i++)
		ctl_map_del(s->agg, &b->agg[i].k);
	b->newest_sec = s->newest_sec;
	n = b->n_ops + b->n_agg;
	s->pending_since_ms = pending(s) ? (s->now_ms ? s->now_ms : 1) : 0;
	pthread_mutex_lock(&s->mu);
	if (s->q_tail != NULL)
		s->q_tail->next = b;
	else
		s->q_head = b;
	s->q_tail = b;
	s->queued_rows += n;
	s->queued_batches++;
	s->durable_inflight += b->n_durable;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->mu);
	return n;
}

int
ctl_store_tick(struct ctl_store *s, uint64_t now_ms)
{
	uint32_t handed = 0;

	s->now_ms = now_ms;
	reclaim(s);
	for (;;) {
		uint32_t p = pending(s), n;

		if (p > 0 && s->pending_since_ms == 0)
			s->pending_since_ms = now_ms;
		if (p == 0 || !(p >= s->o.batch_max_rows || s->durable_queued > 0 ||
					      now_ms - s->pending_since_ms >= s->o.batch_max_ms))
			break;
		n = hand_batch(s);
		if (n == 0)
			break; /* every buffer is with the writer: rows wait here, merging */
		handed += n;
	}
	publish_pending(s);
	return (int)handed;
}

int
ctl_store_flush_wait(struct ctl_store *s, unsigned timeout_ms)
{
	uint64_t failures0, written0, deadline = vg_mono_ms() + timeout_ms;
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	failures0 = s->c.failures;
	written0 = s->c.rows_written;
	pthread_mutex_unlock(&s->mu);
	for (;;) {
		struct timespec ts;
		bool idle;

		reclaim(s);
		while (hand_batch(s) > 0)
			;
		pthread_mutex_lock(&s->mu);
		idle = s->q_head == NULL && s->done_head == NULL;
		if (idle && pending(s) == 0) {
			rc = (int)(s->c.rows_written - written0);
			pthread_mutex_unlock(&s->mu);
			break;
		}
		if (s->c.failures > failures0) {
			rc = -rc_to_errno(s->c.last_error);
			pthread_mutex_unlock(&s->mu);
			break;
		}
		if (timeout_ms > 0 && vg_mono_ms() >= deadline) {
			pthread_mutex_unlock(&s->mu);
			rc = -ETIMEDOUT;
			break;
		}
		if (!idle) {
			vg_mono_deadline(&ts, 50);
			pthread_cond_timedwait(&s->changed, &s->mu, &ts);
		}
		pthread_mutex_unlock(&s->mu);
	}
	reclaim(s);
	publish_pending(s);
	return rc;
}

int
ctl_store_flush(struct ctl_store *s)
{
	return ctl_store_flush_wait(s, 0);
}

/* Retention --------------------------------------------------------------------------------- */

static int64_t
used_bytes(sqlite3 *db)
{
	int64_t pages = 0, freel = 0, psize = 0;

	if (db == NULL)
		return -EIO;
	if (pragma_int(db, "PRAGMA page_count", &pages) != SQLITE_OK ||
			pragma_int(db, "PRAGMA freelist_count", &freel) != SQLITE_OK ||
			pragma_int(db, "PRAGMA page_size", &psize) != SQLITE_OK)
		return -EIO;
	return (pages - freel) * psize;
}

/* A read-only connection of the caller's own (the writer's is the writer's alone). */
static int
open_reader_conn(struct ctl_store *s, sqlite3 **out)
{
	int rc = sqlite3_open_v2(s->o.path, out, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);

	if (rc != SQLITE_OK) {
		sqlite3_close(*out);
		*out = NULL;
		return -rc_to_errno(rc);
	}
	sqlite3_busy_timeout(*out, 1000);
	return 0;
}

int64_t
ctl_store_used_bytes(struct ctl_store *s)
{
	sqlite3 *db;
	int64_t n;
	int rc = open_reader_conn(s, &db);

	if (rc != 0)
		return rc;
	n = used_bytes(db);
	sqlite3_close(db);
	return n;
}

/* Run one DELETE with up to two integer parameters. Returns rows deleted or -errno. */
static int
delete_with(struct ctl_store *s, const char *sql, int64_t p1, int64_t p2)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

	if (rc != SQLITE_OK)
		return -rc_to_errno(rc);
	sqlite3_bind_int64(st, 1, p1);
	sqlite3_bind_int64(st, 2, p2);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		pthread_mutex_lock(&s->mu);
		s->c.last_error = rc;
		snprintf(s->c.last_error_msg, sizeof(s->c.last_error_msg), "retention: %s",
				sqlite3_errmsg(s->db));
		pthread_mutex_unlock(&s->mu);
		return -rc_to_errno(rc);
	}
	return sqlite3_changes(s->db);
}

/*
 * Delete flow minutes older than cutoff (Unix seconds), at most about RETENTION_CHUNK rows: whole
 * minutes up to the chunk's last one, so rows of one minute go together.
 */
static int
delete_old_flows(struct ctl_store *s, int64_t cutoff)
{
	return delete_with(s,
			"DELETE FROM flows WHERE minute < ?1 AND minute <= coalesce("
			"(SELECT minute FROM flows ORDER BY minute LIMIT 1 OFFSET ?2), ?1)",
			cutoff, RETENTION_CHUNK);
}

/*
 * Delete the hours of flows_hour whose minutes are all gone from flows (a partly deleted hour
 * stays: readers take the minutes of an hour that starts before the oldest minute kept).
 */
static int
delete_old_hours(struct ctl_store *s)
{
	return delete_with(s,
			"DELETE FROM flows_hour WHERE hour + 3600 <= "
			"coalesce((SELECT min(minute) FROM flows), ?1)",
			INT64_MAX, 0);
}

int
ctl_store_retention(struct ctl_store *s)
{
	uint64_t runs;
	int rc;

	pthread_mutex_lock(&s->mu);
	runs = s->retention_runs;
	s->retention_asked = true;
	pthread_cond_signal(&s->wake);
	while (s->retention_runs == runs && s->thread_started)
		pthread_cond_wait(&s->changed, &s->mu);
	rc = s->retention_result;
	pthread_mutex_unlock(&s->mu);
	return rc;
}

/* Writer. */
static int
run_retention(struct ctl_store *s)
{
	int total = 0, n, rc;

	if (s->db == NULL)
		return -EIO;
	if (s->o.max_age_ms && s->w_newest_sec > 0) {
		int64_t cutoff = s->w_newest_sec - (int64_t)(s->o.max_age_ms / 1000);
		int64_t cutoff_ns = cutoff > 0 ? cutoff * 1000000000LL : 0;

		n = delete_old_flows(s, cutoff);
		if (n < 0)
			return n;
		total += n;
		/* The hourly sums go with their minutes; derived rows, not counted. */
		if (n > 0 && (rc = delete_old_hours(s)) < 0)
			return rc;
		n = delete_with(s,
				"DELETE FROM anomalies WHERE id IN (SELECT id FROM anomalies WHERE "
				"ts_ns < ?1 ORDER BY ts_ns LIMIT ?2)",
				cutoff_ns, RETENTION_CHUNK);
		if (n < 0)
			return n;
		total += n;
		n = delete_with(s,
				"DELETE FROM alerts WHERE id IN (SELECT id FROM alerts WHERE "
				"last_ns < ?1 ORDER BY last_ns LIMIT ?2)",
				cutoff_ns, RETENTION_CHUNK);
		if (n < 0)
			return n;
		total += n;
	}
	if (s->o.max_bytes) {
		/* Down to 90% so that retention does not run again at the next row. */
		int64_t target = (int64_t)(s->o.max_bytes / 10 * 9);

		for (int step = 0; step < RETENTION_STEPS; step++) {
			int64_t used = used_bytes(s->db), rows = 0, want;

			if (used < 0)
				return (int)used;
			if (used <= target)
				break;
			/* Delete the oldest rows in proportion to the excess, a chunk at most. */
			if (pragma_int(s->db, "SELECT count(*) FROM flows", &rows) != SQLITE_OK)
				return -EIO;
			want = (int64_t)((double)rows * (double)(used - target) / (double)used) + 1;
			if (want > RETENTION_CHUNK)
				want = RETENTION_CHUNK;
			n = rows == 0 ? 0
				      : delete_with(s,
							"DELETE FROM flows WHERE minute <= coalesce((SELECT "
							"minute FROM flows ORDER BY minute LIMIT 1 OFFSET ?1), "
							"(SELECT max(minute) FROM flows))",
							want - 1, 0);
			if (n > 0 && (rc = delete_old_hours(s)) < 0)
				return rc;
			if (n == 0)
				n = delete_with(s,
						"DELETE FROM anomalies WHERE id IN (SELECT id FROM "
						"anomalies ORDER BY ts_ns LIMIT ?1)",
						RETENTION_CHUNK / 8, 0);
			if (n == 0)
				n = delete_with(s,
						"DELETE FROM alerts WHERE id IN (SELECT id FROM alerts "
						"ORDER BY last_ns LIMIT ?1)",
						RETENTION_CHUNK / 8, 0);
			if (n < 0)
				return n;
			if (n == 0) {
				CTL_LOG(WARNING,
						"store: %s uses %" PRId64
						" bytes, above max_size %" PRIu64
						", but only versions, audit, baselines and the blocklist "
						"are left",
						s->o.path, used, s->o.max_bytes);
				break;
			}
			total += n;
		}
	}
	if (total > 0) {
		/* Give freed pages back to the file system a bounded amount at a time. */
		exec_sql(s->db, "PRAGMA incremental_vacuum(4096)");
	}
	return total;
}

/* Immediate reads and writes ---------------------------------------------------------------- */

int
ctl_store_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	out[0] = '\0';
	if (EVP_Digest(data != NULL ? data : "", len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
			mdlen != 32)
		return -EIO;
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

int
ctl_store_put_version(struct ctl_store *s, const char *kind, const void *text, size_t len,
		const char *source, const char *result, ctl_store_version_fn fn, void *arg,
		uint64_t cookie, struct ctl_store_ticket *t)
{
	size_t kl, sl, rl;
	struct op *op;
	char *buf;

	if (kind == NULL || (text == NULL && len > 0) || len > INT32_MAX)
		return -EINVAL;
	source = source ? source : "";
	result = result ? result : "";
	kl = strlen(kind) + 1, sl = strlen(source) + 1, rl = strlen(result) + 1;
	buf = malloc(kl + sl + rl + len + 1);
	if (buf == NULL)
		return -ENOMEM;
	memcpy(buf, kind, kl);
	memcpy(buf + kl, source, sl);
	memcpy(buf + kl + sl, result, rl);
	if (len > 0)
		memcpy(buf + kl + sl + rl, text, len);
	/* A version is durable whether or not someone waits for it. */
	if (s->ops_n >= s->ops_cap) {
		free(buf);
		cnt_add(&s->rows_dropped, 1);
		return -ENOSPC;
	}
	op = &s->ops[(s->ops_head + s->ops_n) % s->ops_cap];
	memset(op, 0, sizeof(*op));
	op->type = OP_VERSION;
	op->durable = true;
	op->ver.buf = buf;
	op->ver.text_off = kl + sl + rl;
	op->ver.text_len = len;
	op->ver.created_ms = wall_ms();
	op->ver.fn = fn;
	op->ver.arg = arg;
	op->ver.cookie = cookie;
	if (ctl_store_sha256_hex(text, len, op->ver.sha256) != 0) {
		free(buf);
		op->type = 0;
		return -EIO;
	}
	if (t != NULL) {
		op->t = t;
		__atomic_fetch_add(&t->refs, 1, __ATOMIC_RELAXED);
	}
	s->ops_n++;
	s->durable_queued++; /* makes the batch due at once */
	note_pending(s);
	publish_pending(s);
	return 0;
}

int
ctl_store_load_baselines(struct ctl_store *s,
		void (*fn)(const struct ctl_store_baseline *b, void *arg), void *arg)
{
	sqlite3_stmt *st;
	int rc, n = 0;

	sqlite3 *db;

	rc = open_reader_conn(s, &db);
	if (rc != 0)
		return rc;
	rc = sqlite3_prepare_v2(db,
			"SELECT detector, metric, entity, key, mean, var, n, updated_ns FROM baselines",
			-1, &st, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_close(db);
		return -rc_to_errno(rc);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ctl_store_baseline b;
		int klen = sqlite3_column_bytes(st, 3);

		memset(&b, 0, sizeof(b));
		snprintf(b.detector, sizeof(b.detector), "%s", sqlite3_column_text(st, 0));
		snprintf(b.metric, sizeof(b.metric), "%s", sqlite3_column_text(st, 1));
		snprintf(b.entity, sizeof(b.entity), "%s", sqlite3_column_text(st, 2));
		if (klen < 0 || (size_t)klen > sizeof(b.key))
			continue; /* not a key this code wrote */
		memcpy(b.key, sqlite3_column_blob(st, 3), (size_t)klen);
		b.key_len = (uint32_t)klen;
		b.mean = sqlite3_column_double(st, 4);
		b.var = sqlite3_column_double(st, 5);
		b.n = (uint64_t)sqlite3_column_int64(st, 6);
		b.updated_ns = (uint64_t)sqlite3_column_int64(st, 7);
		fn(&b, arg);
		n++;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc == SQLITE_DONE ? n : -rc_to_errno(rc);
}

int
ctl_store_load_blocks(struct ctl_store *s, uint64_t now_ms,
		void (*fn)(const struct ctl_store_block *b, void *arg), void *arg)
{
	sqlite3_stmt *st;
	int rc, n = 0;

	sqlite3 *db;

	rc = open_reader_conn(s, &db);
	if (rc != 0)
		return rc;
	rc = sqlite3_prepare_v2(db,
			"SELECT addr, family, created_ms, expires_ms, alert_uid, source, reason "
			"FROM blocklist WHERE expires_ms = 0 OR expires_ms > ?1",
			-1, &st, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_close(db);
		return -rc_to_errno(rc);
	}
	sqlite3_bind_int64(st, 1, (int64_t)now_ms);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ctl_store_block b;
		struct vg_addr a;
		const char *addr = (const char *)sqlite3_column_text(st, 0);

		memset(&b, 0, sizeof(b));
		b.family = (uint8_t)sqlite3_column_int(st, 1);
		if (addr == NULL || vg_addr_parse_str(addr, &a) != 0 || a.family != b.family)
			continue;
		memcpy(b.addr, a.b, sizeof(b.addr));
		b.created_ms = (uint64_t)sqlite3_column_int64(st, 2);
		b.expires_ms = (uint64_t)sqlite3_column_int64(st, 3);
		b.alert_uid = (uint64_t)sqlite3_column_int64(st, 4);
		snprintf(b.source, sizeof(b.source), "%s",
				(const char *)sqlite3_column_text(st, 5) ?: "");
		snprintf(b.reason, sizeof(b.reason), "%s",
				(const char *)sqlite3_column_text(st, 6) ?: "");
		fn(&b, arg);
		n++;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc == SQLITE_DONE ? n : -rc_to_errno(rc);
}

#define STORE(field, unit, ...) \
	VG_CTR(struct ctl_store_counters, field, #field, COUNTER, unit, __VA_ARGS__)

static const struct vg_ctr store_rows[] = {
	STORE(rows_written, "rows", .prom = "vigil_store_rows_written_total",
			.help = "Rows the store wrote."),
	STORE(batches, "batches", .prom = "vigil_store_batches_total",
			.help = "Store batches committed."),
	STORE(failures, "batches", .prom = "vigil_store_batch_failures_total",
			.help = "Store batches that failed (retried)."),
	STORE(retries, "batches", .prom = "vigil_store_batch_retries_total",
			.help = "Store batch attempts made after a failure."),
	STORE(rows_dropped, "rows", .prom = "vigil_store_rows_dropped_total",
			.help = "Rows lost: the store's queue was full."),
	STORE(flows_untracked, "events", .prom = "vigil_store_flows_untracked_total",
			.help = "Flow events without per-flow state in the store (their start was missed, "
				"or no room)."),
	STORE(retention_deleted, "rows", .prom = "vigil_store_retention_deleted_rows_total",
			.help = "Rows the store's retention deleted."),
	STORE(corrupt_moved, "files", .prom = "vigil_store_corrupt_files_moved_total",
			.help = "Database files found corrupt and moved aside."),
	STORE(episodes, "episodes", .prom = "vigil_store_failure_episodes_total",
			.help = "Store failure episodes (first failure to next success)."),
};
const struct vg_ctr_set ctl_store_ctr_set =
		VG_CTR_SET_TO("store", struct ctl_store_counters, store_rows, pending);

void
ctl_store_counters(struct ctl_store *s, struct ctl_store_counters *c)
{
	uint64_t now = vg_mono_ms();

	pthread_mutex_lock(&s->mu);
	*c = s->c;
	c->queued = s->queued_rows;
	c->queue_batches = s->queued_batches;
	c->durable_pending = s->durable_inflight;
	c->failing = s->failing;
	c->writer_busy_ms = s->writing_since_ms && now > s->writing_since_ms
					    ? now - s->writing_since_ms
					    : 0;
	c->failing_for_ms = s->failing && now > s->fail_since_ms ? now - s->fail_since_ms : 0;
	pthread_mutex_unlock(&s->mu);
	c->rows_dropped = __atomic_load_n(&s->rows_dropped, __ATOMIC_RELAXED);
	c->flows_untracked = __atomic_load_n(&s->flows_untracked, __ATOMIC_RELAXED);
	c->pending = __atomic_load_n(&s->pending_pub, __ATOMIC_RELAXED);
	c->durable_pending += __atomic_load_n(&s->durable_pub, __ATOMIC_RELAXED);
}

const char *
ctl_store_path(const struct ctl_store *s)
{
	return s->o.path;
}

const char *
ctl_store_moved_aside(const struct ctl_store *s)
{
	return s->moved_aside[0] ? s->moved_aside : NULL;
}
