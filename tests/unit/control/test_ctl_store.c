/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The store on real SQLite files: per-minute aggregation (by application protocol too),
 * migrations from a hand-made v1 database and from a v2 one built by the shipped migrations,
 * retention by age and by size, a corrupt file moved aside, a locked database that fails softly
 * and catches up, crash safety under SIGKILL, versions, alerts with pagination and their
 * application layer, audit and the blocklist through the read-only API.
 */
#define VG_TEST_WITH_EAL
#include "vg_test.h"

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "al.h"
#include "ctl_store.h"
#include "ctl_store_schema.h"
#include "ctl_test_util.h"

/* 2024-03-01T00:00:00Z: a fixed dataplane clock for the tests. */
#define T0_NS (1709251200ULL * NS_PER_S)

struct fixture {
	char *dir;
	char path[512];
	struct ctl_store_opts o;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	f->dir = ctl_test_tmpdir();
	if (f->dir == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/vigil.db", f->dir);
	ctl_store_opts_defaults(&f->o);
	snprintf(f->o.path, sizeof(f->o.path), "%.200s", f->path);
	f->o.max_pending_rows = 4096;
	f->o.max_flows = 4096;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	ctl_test_rmdir(f->dir);
	free(f);
	return 0;
}

static struct ctl_store *
open_store(struct fixture *f)
{
	char err[256] = "";
	struct ctl_store *s = ctl_store_open(&f->o, err, sizeof(err));

	if (s == NULL)
		fail_msg("ctl_store_open(%s): %s", f->path, err);
	return s;
}

/* One integer from SQL on a separate raw connection (what an operator's sqlite3 would see). */
static int64_t
sql_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void
exec_raw(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
}

static void
test_aggregates_per_minute(void **state)
{
	struct fixture *f = *state;
	struct ctl_store *s = open_store(f);
	struct ctl_store_counters c;
	struct dp_event ev;
	uint64_t t = T0_NS + 5 * NS_PER_S;

	/* Flow 1: start with 1 packet, an update, an end; all in minute 0. */
	ev = ctl_test_ev4(DP_EV_FLOW_START, t, "10.0.0.1", 40000, "192.0.2.10", 443, 6, 1);
	ctl_test_counts(&ev, 1, 0, 60, 0);
	assert_int_equal(ctl_store_add_flow_event(s, &ev), 0);
	ev.type = DP_EV_FLOW_UPDATE;
	ev.time_ns = t + 10 * NS_PER_S;
	ctl_test_counts(&ev, 10, 8, 1000, 5000);
	assert_int_equal(ctl_store_add_flow_event(s, &ev), 0);
	ev.type = DP_EV_FLOW_END;
	ev.time_ns = t + 20 * NS_PER_S;
	ctl_test_counts(&ev, 12, 10, 1200, 6000);
	assert_int_equal(ctl_store_add_flow_event(s, &ev), 0);
	/* Flow 2: same key, another worker, starts and ends in minute 0. */
	ev = ctl_test_ev4(DP_EV_FLOW_START, t, "10.0.0.1", 40001, "192.0.2.10", 443, 6, 1);
	ev.worker = 1;
	ctl_test_counts(&ev, 1, 0, 60, 0);
	assert_int_equal(ctl_store_add_flow_event(s, &ev), 0);
	ev.type = DP_EV_FLOW_END;
	ctl_test_counts(&ev, 3, 2, 200, 100);
	assert_int_equal(ctl_store_add_flow_event(s, &ev), 0);
	/* Flow 3 crosses into minute 1: its update lands there. */
	ev = ctl_test_ev4(DP_EV_FLOW_START, t, "10.0.0.2", 5000, "192.0.2.53", 53, 17, 7);
	ctl_test_counts(&ev, 1, 0, 80, 0);
	assert_int_equal(ctl_store_add_flow_event(s, &ev), 0);
	ev.type = DP_EV_FLOW_END;
	ev.time_ns = T0_NS + 70 * NS_PER_S;
	ctl_test_counts(&ev, 1, 1, 80, 200);
	assert_int_equal(ctl_store_add_flow_event(s, &ev), 0);

	ctl_store_counters(s, &c);
	assert_int_equal(c.pending, 3);
	assert_int_equal(ctl_store_flush(s), 3);
	ctl_store_counters(s, &c);
	assert_int_equal(c.pending, 0);
	assert_int_equal(c.batches, 1);
	assert_int_equal(c.flows_untracked, 0);
	ctl_store_close(s);

	int64_t m0 = (int64_t)(T0_NS / NS_PER_S);
	char sql[256];

	snprintf(sql, sizeof(sql),
			"SELECT packets * 1000000 + bytes * 10 + flows FROM flows WHERE minute = %" PRId64
			" AND src = '10.0.0.1' AND dport = 443 AND verdict = 1",
			m0);
	/* 22 + 5 packets, 7200 + 300 bytes, 2 flows. */
	assert_int_equal(sql_int(f->path, sql), 27 * 1000000 + 7500 * 10 + 2);
	snprintf(sql, sizeof(sql),
			"SELECT packets * 1000 + bytes FROM flows WHERE minute = %" PRId64
			" AND dport = 53",
			m0 + 60);
	assert_int_equal(sql_int(f->path, sql), 1 * 1000 + 200);
	snprintf(sql, sizeof(sql),
			"SELECT flows FROM flows WHERE minute = %" PRId64 " AND dport = 53", m0);
	assert_int_equal(sql_int(f->path, sql), 1);

	/* Read back through the reader API with filters. */
	char err[256] = "";
	struct ctl_store_reader *r = ctl_store_reader_open(f->path, err, sizeof(err));
	struct ctl_flow_query q = { .dport = -1, .proto = -1, .verdict = -1, .src = "10.0.0.1" };
	json_t *rows;

	assert_non_null(r);
	rows = ctl_store_query_flows(r, &q, err, sizeof(err));
	assert_non_null(rows);
	assert_int_equal(json_array_size(rows), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(rows, 0), "packets")),
			27);
	assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "verdict")),
			"allow");
	json_decref(rows);
	q.src = "10.0.0.999";
	assert_null(ctl_store_query_flows(r, &q, err, sizeof(err)));
	assert_non_null(strstr(err, "'10.0.0.999' is not an IPv4 or IPv6 address"));
	ctl_store_reader_close(r);
}

static void
test_wal_and_synchronous(void **state)
{
	struct fixture *f = *state;
	struct ctl_store *s = open_store(f);
	sqlite3 *db;
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_int_equal(sql_int(f->path, "PRAGMA user_version"), CTL_STORE_SCHEMA_VERSION);
	ctl_store_close(s);
}

/* The v1 schema, typed here by hand as a v1 vigild would have created it. */
static const char v1_schema[] =
		"CREATE TABLE flows (minute INTEGER NOT NULL, src TEXT NOT NULL, dst TEXT NOT NULL,"
		" dport INTEGER NOT NULL, proto INTEGER NOT NULL, packets INTEGER NOT NULL DEFAULT 0,"
		" bytes INTEGER NOT NULL DEFAULT 0, flows INTEGER NOT NULL DEFAULT 0,"
		" PRIMARY KEY (minute, src, dst, dport, proto)) WITHOUT ROWID;"
		"CREATE TABLE alerts (id INTEGER PRIMARY KEY, uid INTEGER NOT NULL UNIQUE,"
		" kind TEXT NOT NULL, severity INTEGER NOT NULL, category TEXT NOT NULL DEFAULT '',"
		" gid INTEGER NOT NULL DEFAULT 0, sid INTEGER NOT NULL DEFAULT 0,"
		" rev INTEGER NOT NULL DEFAULT 0, signature TEXT NOT NULL DEFAULT '', src TEXT,"
		" dst TEXT, sport INTEGER, dport INTEGER, proto INTEGER, first_ns INTEGER NOT NULL,"
		" last_ns INTEGER NOT NULL, count INTEGER NOT NULL DEFAULT 1);"
		"CREATE INDEX alerts_last ON alerts(last_ns);"
		"CREATE TABLE versions (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, text BLOB NOT NULL,"
		" sha256 TEXT NOT NULL, source TEXT NOT NULL DEFAULT '', created_ms INTEGER NOT NULL,"
		" result TEXT NOT NULL DEFAULT '');"
		"CREATE INDEX versions_kind ON versions(kind, id);"
		"CREATE TABLE audit (id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL,"
		" actor TEXT NOT NULL DEFAULT '', action TEXT NOT NULL, target TEXT NOT NULL DEFAULT '',"
		" detail TEXT NOT NULL DEFAULT '', result TEXT NOT NULL DEFAULT '');"
		"INSERT INTO flows VALUES (1709251200, '10.1.1.1', '10.2.2.2', 22, 6, 100, 9000, 3);"
		"INSERT INTO flows VALUES (1709251260, '10.1.1.1', '10.2.2.2', 22, 6, 5, 500, 1);"
		"INSERT INTO alerts (uid, kind, severity, category, gid, sid, rev, signature, src, dst,"
		" sport, dport, proto, first_ns, last_ns, count) VALUES (77, 'signature', 3,"
		" 'Attempted Admin', 1, 2001219, 20, 'ET SCAN Potential SSH Scan', '10.1.1.1',"
		" '10.2.2.2', 50000, 22, 6, 1709251200000000000, 1709251201000000000, 4);"
		"INSERT INTO versions (kind, text, sha256, source, created_ms, result) VALUES"
		" ('policy', 'version: 1', 'abc', 'test', 1, 'ok');"
		"INSERT INTO audit (ts_ms, actor, action) VALUES (5, 'admin', 'PUT /api/v1/policy');"
		"PRAGMA user_version = 1;";

static void
test_migration_from_v1(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db;
	struct ctl_store *s;
	struct ctl_alert a;
	static const struct ctl_alert_template t = { .sid = 9000099,
		.title = "test finding",
		.category = "test",
		.what = "w",
		.why = "y",
		.next = "n" };

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	exec_raw(db, v1_schema);
	sqlite3_close(db);

	s = open_store(f);
	assert_int_equal(sql_int(f->path, "PRAGMA user_version"), CTL_STORE_SCHEMA_VERSION);
	/* Old rows kept, with verdict 0 ("not known") in the new key. */
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM flows"), 2);
	assert_int_equal(sql_int(f->path, "SELECT sum(bytes) FROM flows WHERE verdict = 0"), 9500);
	assert_int_equal(sql_int(f->path, "SELECT count FROM alerts WHERE uid = 77"), 4);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM alerts WHERE action = 'allowed'"),
			1);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM versions"), 1);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM audit"), 1);
	/* New tables exist and take rows through the normal path. */
	ctl_alert_init_anomaly(&a, &t, "test", CTL_SEV_HIGH);
	a.uid = 78;
	a.flow.family = 4;
	inet_pton(AF_INET, "10.1.1.1", a.flow.src);
	a.last_ns = a.first_ns = T0_NS;
	snprintf(a.metric, sizeof(a.metric), "m");
	a.observed = 5;
	assert_int_equal(ctl_store_add_alert(s, &a), 0);
	struct dp_event ev =
			ctl_test_ev4(DP_EV_FLOW_START, T0_NS, "10.1.1.1", 1, "10.2.2.2", 22, 6, 1);

	ctl_test_counts(&ev, 1, 0, 60, 0);
	assert_int_equal(ctl_store_add_flow_event(s, &ev), 0);
	assert_int_equal(ctl_store_flush(s), 2);
	ctl_store_close(s);
	assert_int_equal(
			sql_int(f->path, "SELECT count(*) FROM anomalies WHERE alert_uid = 78"), 1);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM flows WHERE verdict = 1"), 1);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM baselines"), 0);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM blocklist"), 0);
	/* Opening again is a no-op for the schema. */
	s = open_store(f);
	ctl_store_close(s);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM flows"), 3);
}

static void
test_newer_schema_refused(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db;
	char err[256] = "";

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	exec_raw(db, "CREATE TABLE future (x); PRAGMA user_version = 99;");
	sqlite3_close(db);
	errno = 0;
	assert_null(ctl_store_open(&f->o, err, sizeof(err)));
	assert_int_equal(errno, EPROTONOSUPPORT);
	assert_non_null(strstr(err, "schema version 99"));
	/* Left as it was. */
	assert_int_equal(sql_int(f->path, "PRAGMA user_version"), 99);
}

static void
add_flows_at(struct ctl_store *s, uint64_t t_ns, unsigned n, unsigned base)
{
	for (unsigned i = 0; i < n; i++) {
		char src[32];
		struct dp_event ev;

		ctl_test_addr(src, sizeof(src), 10, base + i);
		ev = ctl_test_ev4(DP_EV_FLOW_START, t_ns, src, 1000, "192.0.2.1", 80, 6, base + i);
		ctl_test_counts(&ev, 2, 1, 120, 60);
		assert_int_equal(ctl_store_add_flow_event(s, &ev), 0);
		ev.type = DP_EV_FLOW_END;
		assert_int_equal(ctl_store_add_flow_event(s, &ev), 0);
	}
}

static void
test_retention_by_age(void **state)
{
	struct fixture *f = *state;
	struct ctl_store *s;
	struct ctl_alert a;
	static const struct ctl_alert_template t = {
		.sid = 9000098, .title = "old", .category = "c", .what = "", .why = "", .next = ""
	};

	f->o.max_age_ms = 2 * 3600 * 1000ULL;
	f->o.max_bytes = 0;
	s = open_store(f);
	for (unsigned h = 0; h < 5; h++) {
		add_flows_at(s, T0_NS + h * 3600 * NS_PER_S, 10, h * 100);
		ctl_alert_init_anomaly(&a, &t, "test", CTL_SEV_LOW);
		a.uid = 1000 + h;
		a.flow.family = 4;
		a.first_ns = a.last_ns = T0_NS + h * 3600 * NS_PER_S;
		assert_int_equal(ctl_store_add_alert(s, &a), 0);
		while (ctl_store_flush(s) > 0)
			;
	}
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM flows"), 50);
	/* Newest data is at T0 + 4 h: everything before T0 + 2 h goes. */
	assert_true(ctl_store_retention(s) > 0);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM flows"), 30);
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT min(minute) FROM flows");
	assert_int_equal(sql_int(f->path, sql), (int64_t)(T0_NS / NS_PER_S) + 2 * 3600);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM alerts"), 3);
	assert_int_equal(sql_int(f->path, "SELECT min(uid) FROM alerts"), 1002);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM anomalies"), 3);
	/* Versions are never deleted by retention. */
	int64_t id;

	(void)id;
	assert_int_equal(ctl_store_put_version(s, "policy", "x", 1, "t", "ok", NULL, NULL, 0, NULL),
			0);
	assert_int_equal(ctl_store_flush(s), 1);
	assert_int_equal(ctl_store_retention(s), 0);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM versions"), 1);
	ctl_store_close(s);
}

static void
test_retention_by_size(void **state)
{
	struct fixture *f = *state;
	struct ctl_store *s;
	struct ctl_store_counters c;
	int64_t used_before, used_after, newest;
	char sql[128];

	f->o.max_age_ms = 0;
	f->o.max_bytes = 0;
	f->o.batch_max_rows = 2000;
	s = open_store(f);
	/* 100 minutes of 200 distinct flows each: 20000 rows. */
	for (unsigned m = 0; m < 100; m++) {
		add_flows_at(s, T0_NS + m * 60 * NS_PER_S, 200, m * 1000);
		while (ctl_store_flush(s) > 0)
			;
	}
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM flows"), 20000);
	used_before = ctl_store_used_bytes(s);
	ctl_store_close(s);
	assert_true(used_before > 512 * 1024);

	f->o.max_bytes = (uint64_t)used_before / 2;
	s = open_store(f);
	assert_true(ctl_store_retention(s) > 0);
	used_after = ctl_store_used_bytes(s);
	ctl_store_counters(s, &c);
	ctl_store_close(s);
	print_message("used %" PRId64 " -> %" PRId64 " bytes (max %" PRIu64 "), %" PRIu64
		      " rows deleted\n",
			used_before, used_after, f->o.max_bytes, c.retention_deleted);
	assert_true(used_after <= (int64_t)f->o.max_bytes);
	/* The oldest went, the newest stayed. */
	newest = (int64_t)(T0_NS / NS_PER_S) + 99 * 60;
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM flows WHERE minute = %" PRId64, newest);
	assert_int_equal(sql_int(f->path, sql), 200);
	assert_true(sql_int(f->path, "SELECT min(minute) FROM flows") >
			(int64_t)(T0_NS / NS_PER_S) + 30 * 60);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM flows"),
			20000 - c.retention_deleted);
	/* The file is still a healthy database. */
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM pragma_integrity_check "
					  "WHERE integrity_check = 'ok'"),
			1);
}

static void
test_corrupt_file_moved_aside(void **state)
{
	struct fixture *f = *state;
	struct ctl_store *s;
	char garbage[8192], moved[600], buf[16];
	int fd;

	memset(garbage, 'x', sizeof(garbage));
	memcpy(garbage, "not a database", 14);
	fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, garbage, sizeof(garbage)), sizeof(garbage));
	close(fd);

	s = open_store(f);
	assert_non_null(ctl_store_moved_aside(s));
	snprintf(moved, sizeof(moved), "%s", ctl_store_moved_aside(s));
	assert_non_null(strstr(moved, "/vigil.db.corrupt-"));
	struct ctl_store_counters c;

	ctl_store_counters(s, &c);
	assert_int_equal(c.corrupt_moved, 1);
	/* The garbage is kept as it was. */
	fd = open(moved, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, 14), 14);
	close(fd);
	assert_memory_equal(buf, "not a database", 14);
	/* And a fresh database works. */
	add_flows_at(s, T0_NS, 5, 0);
	assert_int_equal(ctl_store_flush(s), 5);
	ctl_store_close(s);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM flows"), 5);
}

static void
test_corrupt_pages_moved_aside(void **state)
{
	struct fixture *f = *state;
	struct ctl_store *s = open_store(f);
	struct stat st;
	char junk[4096];
	int fd;

	/* A real database whose b-tree pages are then overwritten. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(ctl_store_put_version(s, "policy", "old", 3, "t", "applied", NULL,
						 NULL, 0, NULL),
				0);
	add_flows_at(s, T0_NS, 2000, 0);
	while (ctl_store_flush(s) > 0)
		;
	ctl_store_close(s);
	assert_int_equal(stat(f->path, &st), 0);
	assert_true(st.st_size > 4 * 4096);
	memset(junk, 0xa5, sizeof(junk));
	fd = open(f->path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, junk, sizeof(junk), 2 * 4096), sizeof(junk));
	assert_int_equal(pwrite(fd, junk, sizeof(junk), 3 * 4096), sizeof(junk));
	close(fd);

	s = open_store(f);
	assert_non_null(ctl_store_moved_aside(s));
	assert_int_equal(access(ctl_store_moved_aside(s), F_OK), 0);
	/* The new database goes on above the ids the old one gave: none is given twice. */
	struct ctl_store_ticket *t = ctl_store_ticket_new();
	int64_t id = 0;

	assert_int_equal(ctl_store_put_version(
					 s, "policy", "new", 3, "t", "applied", NULL, NULL, 0, t),
			0);
	assert_int_equal(ctl_store_flush(s), 1);
	assert_int_equal(ctl_store_ticket_wait(s, t, 1000, &id), 1);
	ctl_store_ticket_put(t);
	assert_int_equal(id, 4);
	ctl_store_close(s);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM flows"), 0);
}

/* Poll the counters until cond holds or 5 s pass. */
#define WAIT_FOR(s, c, cond)                               \
	do {                                               \
		for (int _i = 0; _i < 500; _i++) {         \
			ctl_store_tick(s, mono_ms_test()); \
			ctl_store_counters(s, &(c));       \
			if (cond)                          \
				break;                     \
			usleep(10000);                     \
		}                                          \
		assert_true(cond);                         \
	} while (0)

static uint64_t
mono_ms_test(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
test_locked_database_fails_softly(void **state)
{
	struct fixture *f = *state;
	struct ctl_store *s;
	struct ctl_store_counters c;
	sqlite3 *other;

	f->o.retry_min_ms = 50;
	f->o.batch_max_ms = 10;
	s = open_store(f);
	assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
	exec_raw(other, "BEGIN IMMEDIATE");

	add_flows_at(s, T0_NS, 50, 0);
	usleep(20000);
	WAIT_FOR(s, c, c.failures >= 1);
	assert_int_equal(c.episodes, 1);
	assert_true(c.failing);
	assert_int_equal(c.queued, 50); /* the batch is kept by the writer */
	assert_int_equal(c.rows_written, 0);
	assert_int_equal(c.last_error & 0xff, SQLITE_BUSY);
	assert_non_null(strstr(c.last_error_msg, "locked"));

	/* More traffic merges on control while the writer retries; more failures, one episode. */
	add_flows_at(s, T0_NS, 50, 0);
	add_flows_at(s, T0_NS, 10, 500);
	WAIT_FOR(s, c, c.failures >= 3);
	assert_int_equal(c.episodes, 1);
	assert_true(c.retries >= 2);

	exec_raw(other, "COMMIT");
	sqlite3_close(other);
	WAIT_FOR(s, c, c.pending == 0 && c.queued == 0 && !c.failing);
	assert_int_equal(c.rows_dropped, 0);
	assert_int_equal(c.episodes, 1);
	ctl_store_close(s);
	/* Nothing lost: 100 flows for the first 50 sources, 10 more. */
	assert_int_equal(sql_int(f->path, "SELECT sum(flows) FROM flows"), 110);
	assert_int_equal(sql_int(f->path, "SELECT sum(packets) FROM flows"), 110 * 3);
}

/*
 * A stalled disk (here: another connection holds the write lock and busy_timeout is long, so
 * the writer sits in SQLite for seconds) never holds control: ticks return at once, rows keep
 * being accepted up to the bound and merging, the rest are dropped and counted; once the lock
 * goes, everything kept is written.
 */
static void
test_stalled_writer_never_holds_control(void **state)
{
	struct fixture *f = *state;
	struct ctl_store *s;
	struct ctl_store_counters c;
	uint64_t worst = 0;
	sqlite3 *other;

	f->o.busy_timeout_ms = 2000;
	f->o.batch_max_rows = 100;
	f->o.batch_max_ms = 1;
	f->o.queue_batches = 2;
	f->o.max_pending_rows = 256;
	s = open_store(f);
	assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
	exec_raw(other, "BEGIN IMMEDIATE");
	for (unsigned round = 0; round < 10; round++) {
		uint64_t t0 = mono_ms_test(), dt;

		for (unsigned i = 0; i < 100; i++) {
			char src[32];
			struct dp_event ev;

			ctl_test_addr(src, sizeof(src), 10, round * 100 + i);
			ev = ctl_test_ev4(DP_EV_FLOW_START, T0_NS, src, 1000, "192.0.2.1", 80, 6,
					round * 100 + i);
			ctl_test_counts(&ev, 2, 1, 120, 60);
			(void)ctl_store_add_flow_event(s, &ev); /* -ENOSPC beyond the bound */
		}
		ctl_store_tick(s, mono_ms_test());
		dt = mono_ms_test() - t0;
		worst = dt > worst ? dt : worst;
		usleep(50000);
	}
	ctl_store_counters(s, &c);
	/* Before the writer thread, each tick waited busy_timeout (2 s) in BEGIN IMMEDIATE. */
	assert_true(worst < 200);
	assert_true(c.writer_busy_ms > 0 || c.failing);
	assert_int_equal(c.queue_batches, 2); /* the bound */
	assert_int_equal(c.queued, 200);
	assert_int_equal(c.pending, 256);
	assert_int_equal(c.rows_dropped, 1000 - 200 - 256);
	assert_int_equal(c.rows_written, 0);

	exec_raw(other, "COMMIT");
	sqlite3_close(other);
	assert_int_equal(ctl_store_flush_wait(s, 10000), 456);
	ctl_store_close(s);
	assert_int_equal(sql_int(f->path, "SELECT sum(flows) FROM flows"), 456);
}

/*
 * Durable rows: a block with a ticket is not reported written while the store cannot write,
 * is kept past the ordinary rows' bound, and is written once the store can. Two versions queued
 * while the store is stuck get two distinct ids from the store, each with its own text.
 */
static void
test_durable_rows_and_version_ids(void **state)
{
	struct fixture *f = *state;
	struct ctl_store_ticket *tb = ctl_store_ticket_new(), *t1 = ctl_store_ticket_new(),
				*t2 = ctl_store_ticket_new();
	struct ctl_store_counters c;
	struct ctl_store_block b;
	struct ctl_store *s;
	struct ctl_alert a;
	int64_t id1 = 0, id2 = 0, idb = 0;
	sqlite3 *other;
	unsigned ok = 0;
	char err[256];

	f->o.retry_min_ms = 20;
	f->o.retry_max_ms = 50;
	s = open_store(f);
	assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
	exec_raw(other, "BEGIN IMMEDIATE");
	/* Ordinary rows stop short of the ring's end: the reserve is for durable ones. */
	memset(&a, 0, sizeof(a));
	for (unsigned i = 0; i < 1000; i++) {
		a.uid = 7000 + i;
		ok += ctl_store_add_alert(s, &a) == 0;
	}
	assert_true(ok < 1000);
	assert_true(ctl_store_durable_room(s));
	memset(&b, 0, sizeof(b));
	b.family = 4;
	inet_pton(AF_INET, "198.51.100.9", b.addr);
	snprintf(b.source, sizeof(b.source), "api:test");
	assert_int_equal(ctl_store_put_block(s, &b, tb), 0);
	assert_int_equal(ctl_store_put_version(s, "policy", "text A", 6, "api:t", "applied", NULL,
					 NULL, 0, t1),
			0);
	assert_int_equal(ctl_store_put_version(s, "policy", "text B", 6, "api:t", "applied", NULL,
					 NULL, 0, t2),
			0);
	ctl_store_tick(s, mono_ms_test());
	assert_int_equal(ctl_store_ticket_wait(s, tb, 300, &idb), 0); /* pending, not lost */
	ctl_store_counters(s, &c);
	assert_int_equal(c.durable_pending, 3);

	exec_raw(other, "COMMIT");
	sqlite3_close(other);
	for (int i = 0; i < 500 && ctl_store_ticket_wait(s, t2, 10, &id2) == 0; i++)
		ctl_store_tick(s, mono_ms_test());
	assert_int_equal(ctl_store_ticket_wait(s, tb, 0, &idb), 1);
	assert_int_equal(ctl_store_ticket_wait(s, t1, 0, &id1), 1);
	assert_int_equal(ctl_store_ticket_wait(s, t2, 0, &id2), 1);
	assert_true(id1 > 0 && id2 > id1);
	ctl_store_counters(s, &c);
	assert_int_equal(c.durable_pending, 0);
	ctl_store_ticket_put(tb);
	ctl_store_ticket_put(t1);
	ctl_store_ticket_put(t2);

	struct ctl_store_reader *r = ctl_store_reader_open(f->path, err, sizeof(err));
	json_t *v;

	assert_non_null(r);
	v = ctl_store_get_version(r, id1, err, sizeof(err));
	assert_string_equal(json_string_value(json_object_get(v, "text")), "text A");
	json_decref(v);
	v = ctl_store_get_version(r, id2, err, sizeof(err));
	assert_string_equal(json_string_value(json_object_get(v, "text")), "text B");
	json_decref(v);
	ctl_store_reader_close(r);
	ctl_store_close(s);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM blocklist"), 1);
}

#define CRASH_ROWS 200

static void
test_crash_safety_sigkill(void **state)
{
	struct fixture *f = *state;
	int pfd[2];
	pid_t pid;
	int32_t last = -1, b;
	int status;

	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Child: batches of CRASH_ROWS rows, one minute each, reported after commit. */
		char err[256];
		struct ctl_store *s;

		close(pfd[0]);
		f->o.batch_max_rows = CRASH_ROWS;
		s = ctl_store_open(&f->o, err, sizeof(err));
		if (s == NULL)
			_exit(2);
		for (int32_t i = 0;; i++) {
			add_flows_at(s, T0_NS + (uint64_t)i * 60 * NS_PER_S, CRASH_ROWS, 0);
			if (ctl_store_flush(s) != CRASH_ROWS)
				_exit(3);
			if (write(pfd[1], &i, sizeof(i)) != sizeof(i))
				_exit(4);
		}
	}
	close(pfd[1]);
	/* Let it commit a few dozen batches, then kill it wherever it is. */
	while (read(pfd[0], &b, sizeof(b)) == sizeof(b)) {
		last = b;
		if (b >= 40)
			break;
	}
	kill(pid, SIGKILL);
	while (read(pfd[0], &b, sizeof(b)) == sizeof(b))
		last = b;
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	assert_true(last >= 40);

	sqlite3 *db;
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(
			sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	/* Every batch is whole, none reported is missing, at most one unreported one is there. */
	assert_int_equal(sqlite3_prepare_v2(db,
					 "SELECT minute, count(*) FROM flows GROUP BY minute "
					 "ORDER BY minute",
					 -1, &st, NULL),
			SQLITE_OK);
	int32_t n = 0;

	while (sqlite3_step(st) == SQLITE_ROW) {
		assert_int_equal(sqlite3_column_int64(st, 0),
				(int64_t)(T0_NS / NS_PER_S) + (int64_t)n * 60);
		assert_int_equal(sqlite3_column_int(st, 1), CRASH_ROWS);
		n++;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	print_message("child reported %d batches, database holds %d\n", last + 1, n);
	assert_true(n == last + 1 || n == last + 2);
}

static void
test_versions(void **state)
{
	struct fixture *f = *state;
	struct ctl_store *s = open_store(f);
	int64_t id1, id2;
	char sha[65], err[256] = "";
	json_t *v;

	struct ctl_store_ticket *t1 = ctl_store_ticket_new(), *t2 = ctl_store_ticket_new();

	assert_int_equal(ctl_store_put_version(s, "policy", "hello", 5, "api:admin", "ok", NULL,
					 NULL, 0, t1),
			0);
	assert_int_equal(ctl_store_sha256_hex("hello", 5, sha), 0);
	assert_string_equal(
			sha, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
	assert_int_equal(ctl_store_put_version(s, "signatures", "alert tcp any any", 17, "file",
					 "3 rules loaded", NULL, NULL, 0, t2),
			0);
	assert_int_equal(ctl_store_flush(s), 2);
	assert_int_equal(ctl_store_ticket_wait(s, t1, 1000, &id1), 1);
	assert_int_equal(ctl_store_ticket_wait(s, t2, 1000, &id2), 1);
	ctl_store_ticket_put(t1);
	ctl_store_ticket_put(t2);
	assert_true(id1 > 0);
	assert_true(id2 > id1);

	struct ctl_store_reader *r = ctl_store_reader_open(f->path, err, sizeof(err));

	assert_non_null(r);
	v = ctl_store_query_versions(r, "policy", 0, err, sizeof(err));
	assert_int_equal(json_array_size(v), 1);
	assert_string_equal(
			json_string_value(json_object_get(json_array_get(v, 0), "sha256")), sha);
	assert_null(json_object_get(json_array_get(v, 0), "text"));
	json_decref(v);
	v = ctl_store_get_version(r, id2, err, sizeof(err));
	assert_non_null(v);
	assert_string_equal(json_string_value(json_object_get(v, "text")), "alert tcp any any");
	assert_string_equal(json_string_value(json_object_get(v, "result")), "3 rules loaded");
	json_decref(v);
	assert_null(ctl_store_get_version(r, 999, err, sizeof(err)));
	assert_string_equal(err, "no version 999");
	ctl_store_reader_close(r);
	ctl_store_close(s);
}

static void
test_alert_queries_and_pagination(void **state)
{
	struct fixture *f = *state;
	struct ctl_store *s = open_store(f);
	struct ctl_alert a;
	struct dp_event ev;
	char err[256] = "";
	int64_t cursor = 0;
	unsigned seen = 0;

	for (unsigned i = 0; i < 25; i++) {
		char src[32];

		ctl_test_addr(src, sizeof(src), 10, i % 5);
		ev = ctl_test_ev4(DP_EV_ALERT, T0_NS + i * NS_PER_S, src, 1234, "192.0.2.7", 80, 6,
				i);
		ev.alert.sid = 2000000 + i % 3;
		ev.alert.gid = 1;
		ev.alert.rev = 2;
		ctl_alert_from_event(&ev, "test sig", "web-application-attack",
				i % 2 ? CTL_SEV_HIGH : CTL_SEV_LOW, &a);
		a.uid = 500 + i;
		assert_int_equal(ctl_store_add_alert(s, &a), 0);
	}
	/* A repeat of uid 500: count and last_seen move, no new row. */
	a.uid = 500;
	a.count = 9;
	a.last_ns = T0_NS + 100 * NS_PER_S;
	assert_int_equal(ctl_store_add_alert(s, &a), 0);
	assert_int_equal(ctl_store_flush(s), 26);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM alerts"), 25);
	assert_int_equal(sql_int(f->path, "SELECT count FROM alerts WHERE uid = 500"), 9);

	struct ctl_store_reader *r = ctl_store_reader_open(f->path, err, sizeof(err));
	struct ctl_alert_query q = { .limit = 10 };
	json_t *page;

	assert_non_null(r);
	do {
		q.cursor = cursor;
		page = ctl_store_query_alerts(r, &q, &cursor, err, sizeof(err));
		assert_non_null(page);
		seen += (unsigned)json_array_size(page);
		json_decref(page);
	} while (cursor != 0);
	assert_int_equal(seen, 25);

	memset(&q, 0, sizeof(q));
	q.min_severity = CTL_SEV_HIGH;
	q.sid = 2000001;
	q.src = "10.0.0.1";
	page = ctl_store_query_alerts(r, &q, &cursor, err, sizeof(err));
	assert_non_null(page);
	/* i odd, i % 3 == 1, i % 5 == 1: i = 1 only. */
	assert_int_equal(json_array_size(page), 1);
	json_t *row = json_array_get(page, 0);

	assert_string_equal(json_string_value(json_object_get(row, "severity")), "high");
	assert_string_equal(json_string_value(json_object_get(row, "kind")), "signature");
	assert_non_null(strstr(json_string_value(json_object_get(row, "what")), "2000001"));
	json_decref(page);
	q.kind = "bogus";
	assert_null(ctl_store_query_alerts(r, &q, &cursor, err, sizeof(err)));
	assert_non_null(strstr(err, "'bogus'"));
	ctl_store_reader_close(r);
	ctl_store_close(s);
}

/*
 * A v2 database as the shipped migrations made it (the previous schema version), with a flow
 * row and a signature alert, migrated to the current one.
 */
static void
test_migration_from_v2(void **state)
{
	struct fixture *f = *state;
	struct ctl_store *s;
	sqlite3 *db;
	struct dp_event ev;
	char err[256] = "";

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	exec_raw(db, ctl_store_migrations[0]);
	exec_raw(db, ctl_store_migrations[1]);
	exec_raw(db, "INSERT INTO flows VALUES (1709251200, '10.1.1.1', '10.2.2.2', 80, 6, 1, 10,"
		     " 4000, 2);"
		     "INSERT INTO alerts (uid, kind, severity, gid, sid, signature, src, dst, sport,"
		     " dport, proto, first_ns, last_ns, action, facts) VALUES (91, 'signature', 2,"
		     " 1, 2000001, 'old', '10.1.1.1', '10.2.2.2', 40000, 80, 6,"
		     " 1709251200000000000, 1709251200000000000, 'allowed', '{}');"
		     "PRAGMA user_version = 2;");
	sqlite3_close(db);

	s = open_store(f);
	assert_int_equal(sql_int(f->path, "PRAGMA user_version"), CTL_STORE_SCHEMA_VERSION);
	/* The old rows are kept, their protocol "not known". */
	assert_int_equal(sql_int(f->path, "SELECT flows * 100000 + bytes FROM flows WHERE"
					  " app_proto = '' AND verdict = 1"),
			2 * 100000 + 4000);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM alerts WHERE uid = 91 AND"
					  " app_proto IS NULL AND app IS NULL"),
			1);
	/* The key has the protocol: the same minute and flow key with "http" is another row. */
	ev = ctl_test_ev4(DP_EV_FLOW_START, 1709251200ULL * NS_PER_S, "10.1.1.1", 40001, "10.2.2.2",
			80, 6, 5);
	ctl_test_counts(&ev, 1, 0, 60, 0);
	assert_int_equal(ctl_store_add_flow_event(s, &ev), 0);
	ev.type = DP_EV_FLOW_END;
	ev.flow.app_proto = AL_PROTO_HTTP;
	ctl_test_counts(&ev, 5, 4, 600, 3000);
	assert_int_equal(ctl_store_add_flow_event(s, &ev), 0);
	assert_true(ctl_store_flush(s) > 0);
	ctl_store_close(s);
	/* The start landed on the old row's key (protocol not known yet) and moved on whole. */
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM flows"), 2);
	assert_int_equal(sql_int(f->path, "SELECT flows * 100000 + bytes FROM flows WHERE"
					  " app_proto = ''"),
			2 * 100000 + 4000);
	assert_int_equal(
			sql_int(f->path, "SELECT bytes FROM flows WHERE app_proto = 'http'"), 3600);
	assert_int_equal(sql_int(f->path, "SELECT flows FROM flows WHERE app_proto = 'http'"), 1);
	/* The indexes came back with the rebuilt table. */
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
					  " AND name IN ('flows_src', 'flows_dst')"),
			2);
	/* Readers see the migrated rows: the old ones with app_proto null. */
	struct ctl_store_reader *r = ctl_store_reader_open(f->path, err, sizeof(err));
	struct ctl_flow_query q = {
		.dport = -1, .proto = -1, .verdict = -1, .app_proto = "unknown"
	};
	json_t *rows;

	assert_non_null(r);
	rows = ctl_store_query_flows(r, &q, err, sizeof(err));
	assert_non_null(rows);
	assert_int_equal(json_array_size(rows), 1);
	assert_true(json_is_null(json_object_get(json_array_get(rows, 0), "app_proto")));
	json_decref(rows);
	ctl_store_reader_close(r);
}

/*
 * Aggregates per application protocol. A flow's start does not know its protocol; the first
 * event that does moves the flow's count there, with what the flow added in its start's minute
 * meanwhile, even when the "not known" row was written already; later packets and bytes go
 * under the protocol their event names.
 */
static void
test_flows_by_app_proto(void **state)
{
	struct fixture *f = *state;
	struct ctl_store *s = open_store(f);
	struct dp_event ev;
	uint64_t t = T0_NS + 5 * NS_PER_S;
	int64_t m0 = (int64_t)(T0_NS / NS_PER_S);
	char sql[256], err[256] = "";

	/* HTTP flow: start (60 bytes) in minute 0, written; update in minute 1 names http. */
	ev = ctl_test_ev4(DP_EV_FLOW_START, t, "10.0.0.1", 40000, "192.0.2.10", 80, 6, 1);
	ctl_test_counts(&ev, 1, 0, 60, 0);
	assert_int_equal(ctl_store_add_flow_event(s, &ev), 0);
	assert_int_equal(ctl_store_flush(s), 1);
	ev.type = DP_EV_FLOW_UPDATE;
	ev.time_ns = t + 60 * NS_PER_S;
	ev.flow.app_proto = AL_PROTO_HTTP;
	ctl_test_counts(&ev, 4, 3, 600, 4000);
	assert_int_equal(ctl_store_add_flow_event(s, &ev), 0);
	ev.type = DP_EV_FLOW_END;
	ev.time_ns = t + 70 * NS_PER_S;
	ctl_test_counts(&ev, 6, 5, 800, 9000);
	assert_int_equal(ctl_store_add_flow_event(s, &ev), 0);
	/* A flow whose protocol is never recognised: counted under "failed" once detection gave
	 * up, and one that ends before any payload: under "not known". */
	ev = ctl_test_ev4(DP_EV_FLOW_START, t, "10.0.0.1", 40001, "192.0.2.10", 80, 6, 2);
	ctl_test_counts(&ev, 1, 0, 60, 0);
	assert_int_equal(ctl_store_add_flow_event(s, &ev), 0);
	ev.type = DP_EV_FLOW_END;
	ev.flow.app_proto = AL_PROTO_FAILED;
	ctl_test_counts(&ev, 3, 2, 300, 200);
	assert_int_equal(ctl_store_add_flow_event(s, &ev), 0);
	ev = ctl_test_ev4(DP_EV_FLOW_START, t, "10.0.0.1", 40002, "192.0.2.10", 80, 6, 3);
	ctl_test_counts(&ev, 1, 0, 60, 0);
	assert_int_equal(ctl_store_add_flow_event(s, &ev), 0);
	ev.type = DP_EV_FLOW_END;
	ctl_test_counts(&ev, 2, 1, 120, 60);
	assert_int_equal(ctl_store_add_flow_event(s, &ev), 0);
	assert_true(ctl_store_flush(s) > 0);
	ctl_store_close(s);

	/* Flows per application, in the minute each started. */
	snprintf(sql, sizeof(sql),
			"SELECT sum(flows) FROM flows WHERE minute = %" PRId64
			" AND app_proto = '%s'",
			m0, "http");
	assert_int_equal(sql_int(f->path, sql), 1);
	snprintf(sql, sizeof(sql),
			"SELECT sum(flows) FROM flows WHERE minute = %" PRId64
			" AND app_proto = '%s'",
			m0, "failed");
	assert_int_equal(sql_int(f->path, sql), 1);
	snprintf(sql, sizeof(sql),
			"SELECT sum(flows) FROM flows WHERE minute = %" PRId64
			" AND app_proto = ''",
			m0);
	assert_int_equal(sql_int(f->path, sql), 1);
	assert_int_equal(sql_int(f->path, "SELECT sum(flows) FROM flows"), 3);
	/* Bytes per application: each flow's bytes under its protocol, the first ones too. */
	assert_int_equal(sql_int(f->path, "SELECT sum(bytes) FROM flows WHERE app_proto = 'http'"),
			9800);
	assert_int_equal(
			sql_int(f->path, "SELECT sum(bytes) FROM flows WHERE app_proto = 'failed'"),
			500);
	assert_int_equal(
			sql_int(f->path, "SELECT sum(bytes) FROM flows WHERE app_proto = ''"), 180);
	assert_int_equal(
			sql_int(f->path, "SELECT sum(packets) FROM flows WHERE app_proto = ''"), 3);
	/* The "not known" row the three share, written before the moves: the third flow only. */
	snprintf(sql, sizeof(sql),
			"SELECT packets + bytes + flows FROM flows WHERE minute = %" PRId64
			" AND app_proto = '' AND src = '10.0.0.1' AND dport = 80",
			m0);
	assert_int_equal(sql_int(f->path, sql), 180 + 3 + 1);

	struct ctl_store_reader *r = ctl_store_reader_open(f->path, err, sizeof(err));
	struct ctl_flow_query q = { .dport = -1, .proto = -1, .verdict = -1, .app_proto = "http" };
	json_t *rows;

	assert_non_null(r);
	rows = ctl_store_query_flows(r, &q, err, sizeof(err));
	assert_non_null(rows);
	assert_int_equal(json_array_size(rows), 2); /* minute 0 (the flow) and 1 (its bytes) */
	for (size_t i = 0; i < json_array_size(rows); i++)
		assert_string_equal(json_string_value(json_object_get(
						    json_array_get(rows, i), "app_proto")),
				"http");
	json_decref(rows);
	q.app_proto = "gopher";
	assert_null(ctl_store_query_flows(r, &q, err, sizeof(err)));
	assert_non_null(strstr(err, "'gopher' is not an application protocol"));
	ctl_store_reader_close(r);
}

/* A signature alert keeps its app_proto and transaction facts; the list filters on them. */
static void
test_alert_app_columns(void **state)
{
	struct fixture *f = *state;
	struct ctl_store *s = open_store(f);
	struct ctl_alert a;
	struct dp_event ev;
	char err[256] = "";
	int64_t cursor;
	static const char host[] = "www.example.com", url[] = "/a/very/long/ur";

	ev = ctl_test_ev4(DP_EV_ALERT, T0_NS, "10.1.1.1", 40000, "10.2.2.2", 80, 6, 9);
	ev.alert.sid = 9900001;
	ev.flow.app_proto = AL_PROTO_HTTP;
	ev.alert.tx = 1;
	ctl_alert_from_event(&ev, "http test", "web", CTL_SEV_HIGH, &a);
	a.has_app = true;
	a.app.proto = AL_PROTO_HTTP;
	a.app.data[0] = DP_TM_HTTP_HOST;
	a.app.data[1] = sizeof(host) - 1;
	memcpy(a.app.data + 2, host, sizeof(host) - 1);
	a.app.len = (uint8_t)(2 + sizeof(host) - 1);
	a.app.data[a.app.len] = DP_TM_HTTP_URL | DP_TM_CUT;
	a.app.data[a.app.len + 1] = sizeof(url) - 1;
	memcpy(a.app.data + a.app.len + 2, url, sizeof(url) - 1);
	a.app.len = (uint8_t)(a.app.len + 2 + sizeof(url) - 1);
	a.uid = 700;
	assert_int_equal(ctl_store_add_alert(s, &a), 0);
	/* A repeat (same uid) of another transaction keeps the first one's facts. */
	a.app.data[2] = 'X';
	a.count = 2;
	assert_int_equal(ctl_store_add_alert(s, &a), 0);
	/* An alert on a flow without a detected protocol, and an anomaly. */
	ev.flow.app_proto = 0;
	ev.alert.tx = 0;
	ctl_alert_from_event(&ev, "stream test", "web", CTL_SEV_LOW, &a);
	a.uid = 701;
	assert_int_equal(ctl_store_add_alert(s, &a), 0);
	assert_int_equal(ctl_store_flush(s), 3);
	ctl_store_close(s);

	struct ctl_store_reader *r = ctl_store_reader_open(f->path, err, sizeof(err));
	struct ctl_alert_query q = { .app_proto = "http" };
	json_t *page, *row;

	assert_non_null(r);
	page = ctl_store_query_alerts(r, &q, &cursor, err, sizeof(err));
	assert_non_null(page);
	assert_int_equal(json_array_size(page), 1);
	row = json_array_get(page, 0);
	assert_int_equal(json_integer_value(json_object_get(row, "uid")), 700);
	assert_int_equal(json_integer_value(json_object_get(row, "count")), 2);
	assert_string_equal(json_string_value(json_object_get(row, "app_proto")), "http");
	assert_string_equal(
			json_string_value(json_object_get(json_object_get(row, "app"), "hostname")),
			"www.example.com");
	assert_string_equal(json_string_value(json_object_get(json_object_get(row, "app"), "url")),
			"/a/very/long/ur");
	assert_string_equal(json_string_value(json_array_get(json_object_get(row, "app_cut"), 0)),
			"http.url");
	json_decref(page);
	q.app_proto = "unknown";
	page = ctl_store_query_alerts(r, &q, &cursor, err, sizeof(err));
	assert_non_null(page);
	assert_int_equal(json_array_size(page), 1);
	row = json_array_get(page, 0);
	assert_int_equal(json_integer_value(json_object_get(row, "uid")), 701);
	assert_true(json_is_null(json_object_get(row, "app_proto")));
	assert_true(json_is_null(json_object_get(row, "app")));
	assert_true(json_is_null(json_object_get(row, "app_cut")));
	json_decref(page);
	q.app_proto = "dns";
	page = ctl_store_query_alerts(r, &q, &cursor, err, sizeof(err));
	assert_int_equal(json_array_size(page), 0);
	json_decref(page);
	/* One alert by uid, the same as in the list. */
	row = ctl_store_get_alert(r, 700, err, sizeof(err));
	assert_non_null(row);
	assert_string_equal(json_string_value(json_object_get(row, "app_proto")), "http");
	assert_non_null(json_object_get(row, "app"));
	json_decref(row);
	assert_null(ctl_store_get_alert(r, 12345, err, sizeof(err)));
	assert_string_equal(err, "no alert 12345");
	ctl_store_reader_close(r);
}

static void
count_block(const struct ctl_store_block *b, void *arg)
{
	unsigned *n = arg;

	if (b->family == 4 && strcmp(b->source, "port_scan") == 0)
		(*n)++;
}

static void
test_audit_and_blocklist(void **state)
{
	struct fixture *f = *state;
	struct ctl_store *s = open_store(f);
	struct ctl_store_block b;
	struct ctl_audit au = { .ts_ms = 1234,
		.actor = "admin",
		.action = "PUT /api/v1/policy",
		.target = "policy",
		.detail = "{\"version\":3}",
		.result = "ok" };
	char err[256] = "";
	unsigned n = 0;
	int64_t next;

	assert_int_equal(ctl_store_audit(s, &au), 0);
	memset(&b, 0, sizeof(b));
	b.family = 4;
	inet_pton(AF_INET, "198.51.100.7", b.addr);
	b.created_ms = 1000;
	b.expires_ms = 5000;
	snprintf(b.source, sizeof(b.source), "port_scan");
	snprintf(b.reason, sizeof(b.reason), "scan of 60 ports");
	assert_int_equal(ctl_store_put_block(s, &b, NULL), 0);
	inet_pton(AF_INET, "198.51.100.8", b.addr);
	b.expires_ms = 2000;
	assert_int_equal(ctl_store_put_block(s, &b, NULL), 0);
	assert_int_equal(ctl_store_flush(s), 3);
	assert_int_equal(ctl_store_load_blocks(s, 3000, count_block, &n), 1);
	assert_int_equal(n, 1);

	struct ctl_store_reader *r = ctl_store_reader_open(f->path, err, sizeof(err));
	json_t *rows;

	assert_non_null(r);
	rows = ctl_store_query_audit(r, 0, 10, 0, &next, err, sizeof(err));
	assert_int_equal(json_array_size(rows), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "actor")),
			"admin");
	assert_int_equal(next, 0);
	json_decref(rows);
	rows = ctl_store_query_blocks(r, 1500, err, sizeof(err));
	assert_int_equal(json_array_size(rows), 2);
	json_decref(rows);

	assert_int_equal(ctl_store_del_block(s, 4, b.addr), 0);
	inet_pton(AF_INET, "198.51.100.7", b.addr);
	assert_int_equal(ctl_store_del_block(s, 4, b.addr), 0);
	assert_int_equal(ctl_store_flush(s), 2);
	rows = ctl_store_query_blocks(r, 1500, err, sizeof(err));
	assert_int_equal(json_array_size(rows), 0);
	json_decref(rows);
	ctl_store_reader_close(r);
	ctl_store_close(s);
}

static void
test_full_aggregate_counts_drops(void **state)
{
	struct fixture *f = *state;
	struct ctl_store *s;
	struct ctl_store_counters c;
	char src[32];
	int rc = 0;

	f->o.max_pending_rows = 64;
	f->o.batch_max_rows = 64;
	s = open_store(f);
	for (unsigned i = 0; i < 100; i++) {
		struct dp_event ev;

		ctl_test_addr(src, sizeof(src), 10, i);
		ev = ctl_test_ev4(DP_EV_FLOW_START, T0_NS, src, 1, "192.0.2.1", 80, 6, i);
		ctl_test_counts(&ev, 1, 0, 60, 0);
		rc = ctl_store_add_flow_event(s, &ev);
		if (rc != 0)
			break;
	}
	assert_int_equal(rc, -ENOSPC);
	ctl_store_counters(s, &c);
	assert_int_equal(c.rows_dropped, 1);
	assert_int_equal(c.pending, 64);
	ctl_store_close(s);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM flows"), 64);
}

static void
test_store_yaml(void **state)
{
	struct vg_yaml y;
	struct vg_diag d;
	struct ctl_store_opts o;
	const char *good = "path: /var/lib/vigil/v.db\nmax_age: 7d\nmax_size: 512M\n"
			   "batch_rows: 5000\nbatch_interval: 250ms\n";
	const char *bad = "path: x.db\nmax_sise: 1G\nbatch_rows: 0\n";

	(void)state;
	vg_diag_init(&d);
	ctl_store_opts_defaults(&o);
	assert_int_equal(vg_yaml_load_buf(&y, "s.yaml", good, strlen(good), &d), 0);
	assert_int_equal(ctl_store_yaml_parse(&y, vg_yaml_root(&y), &o), 0);
	assert_string_equal(o.path, "/var/lib/vigil/v.db");
	assert_int_equal(o.max_age_ms, 7ULL * 24 * 3600 * 1000);
	assert_int_equal(o.max_bytes, 512ULL << 20);
	assert_int_equal(o.batch_max_rows, 5000);
	assert_int_equal(o.batch_max_ms, 250);
	vg_yaml_free(&y);

	assert_int_equal(vg_yaml_load_buf(&y, "s.yaml", bad, strlen(bad), &d), 0);
	assert_int_equal(ctl_store_yaml_parse(&y, vg_yaml_root(&y), &o), -EINVAL);
	assert_diag(&d, 2, 1, "unknown key 'max_sise'");
	assert_diag(&d, 3, 13, "batch_rows");
	vg_yaml_free(&y);
	vg_diag_free(&d);
}

/* One scanned key as text, to compare with what SQL sums from flows. */
struct scan_lines {
	char **v;
	size_t n;
	const char *const *ports;
};

static int
scan_line(const struct ctl_flow_key_sum *k, void *arg)
{
	struct scan_lines *l = arg;
	char src[64], dst[64], *line;
	int af = k->family == 4 ? AF_INET : AF_INET6;

	inet_ntop(af, k->src, src, sizeof(src));
	inet_ntop(af, k->dst, dst, sizeof(dst));
	assert_true(asprintf(&line,
				    "%s %s %u %u %s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRId64
				    " %" PRId64,
				    src, dst, k->dport, k->proto,
				    k->in_port == CTL_PORT_UNKNOWN ? "-" : l->ports[k->in_port],
				    k->packets, k->bytes, k->flows, k->first, k->last) > 0);
	l->v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
	assert_non_null(l->v);
	l->v[l->n++] = line;
	return 0;
}

static int
cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
lines_free(struct scan_lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* The scan of [since, until) against the minutes of flows summed by SQL. Returns the keys. */
static size_t
check_scan(const char *path, int64_t since, int64_t until)
{
	static const char *const ports[] = { "outside", "inside" }; /* not the config's order */
	struct scan_lines got = { .ports = ports }, want = { .ports = ports };
	struct ctl_store_reader *r;
	char err[256] = "", *line;
	sqlite3 *db;
	sqlite3_stmt *st;

	r = ctl_store_reader_open(path, err, sizeof(err));
	assert_non_null(r);
	int64_t rc = ctl_store_scan_flow_keys(
			r, since, until, ports, 2, scan_line, &got, err, sizeof(err));

	if (rc < 0)
		fail_msg("scan: %s", err);
	assert_int_equal(rc, (int64_t)got.n);
	ctl_store_reader_close(r);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
					 "SELECT src, dst, dport, proto, CASE in_port WHEN '' THEN "
					 "'-' ELSE in_port END, sum(packets), sum(bytes), "
					 "sum(flows), min(minute), max(minute) FROM flows WHERE "
					 "minute >= ?1 AND minute < ?2 GROUP BY src, dst, dport, "
					 "proto, in_port",
					 -1, &st, NULL),
			SQLITE_OK);
	sqlite3_bind_int64(st, 1, since > 0 ? since / 60 * 60 : INT64_MIN);
	sqlite3_bind_int64(st, 2, until > 0 ? until : INT64_MAX);
	while (sqlite3_step(st) == SQLITE_ROW) {
		assert_true(asprintf(&line, "%s %s %d %d %s %lld %lld %lld %lld %lld",
					    sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
					    sqlite3_column_int(st, 2), sqlite3_column_int(st, 3),
					    sqlite3_column_text(st, 4),
					    (long long)sqlite3_column_int64(st, 5),
					    (long long)sqlite3_column_int64(st, 6),
					    (long long)sqlite3_column_int64(st, 7),
					    (long long)sqlite3_column_int64(st, 8),
					    (long long)sqlite3_column_int64(st, 9)) > 0);
		want.v = realloc(want.v, (want.n + 1) * sizeof(*want.v));
		assert_non_null(want.v);
		want.v[want.n++] = line;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (got.n > 0)
		qsort(got.v, got.n, sizeof(*got.v), cmp_line);
	if (want.n > 0)
		qsort(want.v, want.n, sizeof(*want.v), cmp_line);
	for (size_t i = 0; i < got.n && i < want.n; i++)
		if (strcmp(got.v[i], want.v[i]) != 0)
			fail_msg("window [%" PRId64 ", %" PRId64 "): scan '%s', flows '%s'", since,
					until, got.v[i], want.v[i]);
	if (got.n != want.n)
		fail_msg("window [%" PRId64 ", %" PRId64 "): %zu keys scanned, %zu in flows", since,
				until, got.n, want.n);
	size_t n = got.n;

	lines_free(&got);
	lines_free(&want);
	return n;
}

/*
 * The ingress port joins the flow key (schema 4), by name; and the scan that the preview and
 * learning use reads the hours wholly inside a window from flows_hour (kept by the writer) and
 * the edges from flows: for windows on and off the hour, and after retention has cut an hour
 * in two, it gives exactly what summing the minutes of flows gives.
 */
static void
test_scan_hours_match_minutes(void **state)
{
	static const char *const srcs[] = { "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.9.9.9" };
	static const char *const dsts[] = { "192.0.2.1", "192.0.2.2", "198.51.100.7" };
	static const uint16_t in_ports[] = { 0, 1, 7 }; /* 7: no such port, stored as '' */
	struct fixture *f = *state;
	const int64_t t0 = (int64_t)(T0_NS / NS_PER_S);
	struct ctl_store *s;
	uint64_t rng = 0x5eed;
	uint32_t id = 1;

	f->o.max_age_ms = 0;
	f->o.max_bytes = 0;
	snprintf(f->o.port_names[0], sizeof(f->o.port_names[0]), "inside");
	snprintf(f->o.port_names[1], sizeof(f->o.port_names[1]), "outside");
	f->o.n_ports = 2;
	s = open_store(f);
	/* Four hours, flows in about half the minutes. */
	for (unsigned m = 0; m < 240; m++) {
		rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
		if (rng >> 63)
			continue;
		for (unsigned i = 0; i < 1 + (rng >> 40) % 4; i++, id++) {
			uint64_t x = rng >> (8 * i);
			struct dp_event ev = ctl_test_ev4(DP_EV_FLOW_START,
					T0_NS + (m * 60 + i) * NS_PER_S, srcs[x % 4], 40000,
					dsts[(x >> 2) % 3], (x >> 4) % 2 ? 443 : 53,
					(x >> 4) % 2 ? 6 : 17, id);

			ev.flow.in_port = in_ports[(x >> 5) % 3];
			ctl_test_counts(&ev, 1 + x % 5, x % 3, 100 + x % 1000, x % 700);
			assert_int_equal(ctl_store_add_flow_event(s, &ev), 0);
			ev.type = DP_EV_FLOW_END;
			assert_int_equal(ctl_store_add_flow_event(s, &ev), 0);
		}
		while (ctl_store_flush(s) > 0)
			;
	}
	ctl_store_close(s);
	assert_true(sql_int(f->path, "SELECT count(*) FROM flows_hour") > 0);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM flows WHERE in_port = 'inside'") >
							 0 &&
					 sql_int(f->path, "SELECT count(*) FROM flows WHERE "
							  "in_port = 'outside'") > 0 &&
					 sql_int(f->path, "SELECT count(*) FROM flows WHERE "
							  "in_port = ''") > 0,
			1);

	assert_true(check_scan(f->path, 0, 0) > 0);
	assert_true(check_scan(f->path, t0, 0) > 0);
	check_scan(f->path, t0 + 1800 + 7, 0);
	check_scan(f->path, t0 + 1800, t0 + 3 * 3600 + 600);
	check_scan(f->path, t0 + 3600, t0 + 2 * 3600);
	check_scan(f->path, t0 + 3599, t0 + 3601);
	check_scan(f->path, t0 + 3600, t0 + 3600); /* empty */
	check_scan(f->path, t0 - 7200, t0 + 5 * 3600);

	/* Retention to the last 150 minutes cuts hour 1 in two and removes hour 0. */
	f->o.max_age_ms = 150 * 60 * 1000ULL;
	s = open_store(f);
	{
		struct dp_event ev = ctl_test_ev4(DP_EV_FLOW_START, T0_NS + 239 * 60 * NS_PER_S,
				"10.0.0.1", 40000, "192.0.2.1", 443, 6, id);

		ctl_test_counts(&ev, 1, 1, 100, 100);
		assert_int_equal(ctl_store_add_flow_event(s, &ev), 0);
		while (ctl_store_flush(s) > 0)
			;
	}
	assert_true(ctl_store_retention(s) > 0);
	ctl_store_close(s);
	char sql[160];

	snprintf(sql, sizeof(sql), "SELECT min(minute) FROM flows");
	assert_true(sql_int(f->path, sql) > t0 + 3600 && sql_int(f->path, sql) < t0 + 7200);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM flows_hour WHERE hour = %" PRId64, t0);
	assert_int_equal(sql_int(f->path, sql), 0);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM flows_hour WHERE hour = %" PRId64,
			t0 + 3600);
	assert_true(sql_int(f->path, sql) > 0);
	assert_true(check_scan(f->path, 0, 0) > 0);
	check_scan(f->path, t0 + 3600, 0);
	check_scan(f->path, t0 + 3600, t0 + 3 * 3600);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_aggregates_per_minute, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wal_and_synchronous, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_from_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_from_v2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flows_by_app_proto, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alert_app_columns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_by_age, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_by_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_file_moved_aside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_pages_moved_aside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_locked_database_fails_softly, setup, teardown),
		cmocka_unit_test_setup_teardown(
				test_stalled_writer_never_holds_control, setup, teardown),
		cmocka_unit_test_setup_teardown(test_durable_rows_and_version_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_safety_sigkill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alert_queries_and_pagination, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_and_blocklist, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_aggregate_counts_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan_hours_match_minutes, setup, teardown),
		cmocka_unit_test(test_store_yaml),
	};

	if (vg_test_eal_init() != 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	ctl_test_eal_fini();
	return rc;
}
