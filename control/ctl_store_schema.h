/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The store's schema as a list of migrations, private to ctl_store*.c. Migration i takes a
 * database from user_version i to i + 1; a new database runs them all. Never edit a migration
 * that has shipped: add the next one and raise CTL_STORE_SCHEMA_VERSION.
 */
#ifndef CTL_STORE_SCHEMA_H
#define CTL_STORE_SCHEMA_H

static const char *const ctl_store_migrations[] = {
	/* 0 -> 1: flows per (minute, src, dst, dport, proto), alerts, versions, audit. */
	"CREATE TABLE flows ("
	" minute INTEGER NOT NULL, src TEXT NOT NULL, dst TEXT NOT NULL,"
	" dport INTEGER NOT NULL, proto INTEGER NOT NULL,"
	" packets INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,"
	" flows INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (minute, src, dst, dport, proto)) WITHOUT ROWID;"
	"CREATE TABLE alerts ("
	" id INTEGER PRIMARY KEY, uid INTEGER NOT NULL UNIQUE, kind TEXT NOT NULL,"
	" severity INTEGER NOT NULL, category TEXT NOT NULL DEFAULT '',"
	" gid INTEGER NOT NULL DEFAULT 0, sid INTEGER NOT NULL DEFAULT 0,"
	" rev INTEGER NOT NULL DEFAULT 0, signature TEXT NOT NULL DEFAULT '',"
	" src TEXT, dst TEXT, sport INTEGER, dport INTEGER, proto INTEGER,"
	" first_ns INTEGER NOT NULL, last_ns INTEGER NOT NULL, count INTEGER NOT NULL DEFAULT 1);"
	"CREATE INDEX alerts_last ON alerts(last_ns);"
	"CREATE TABLE versions ("
	" id INTEGER PRIMARY KEY, kind TEXT NOT NULL, text BLOB NOT NULL, sha256 TEXT NOT NULL,"
	" source TEXT NOT NULL DEFAULT '', created_ms INTEGER NOT NULL,"
	" result TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX versions_kind ON versions(kind, id);"
	"CREATE TABLE audit ("
	" id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL, actor TEXT NOT NULL DEFAULT '',"
	" action TEXT NOT NULL, target TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT '',"
	" result TEXT NOT NULL DEFAULT '');",

	/*
	 * 1 -> 2: the verdict joins the flow key (old rows get verdict 0, "not known"); alerts
	 * carry their evidence and explanation; anomalies, baselines and the blocklist appear.
	 */
	"CREATE TABLE flows_v2 ("
	" minute INTEGER NOT NULL, src TEXT NOT NULL, dst TEXT NOT NULL,"
	" dport INTEGER NOT NULL, proto INTEGER NOT NULL, verdict INTEGER NOT NULL,"
	" packets INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,"
	" flows INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (minute, src, dst, dport, proto, verdict)) WITHOUT ROWID;"
	"INSERT INTO flows_v2 (minute, src, dst, dport, proto, verdict, packets, bytes, flows)"
	" SELECT minute, src, dst, dport, proto, 0, packets, bytes, flows FROM flows;"
	"DROP TABLE flows;"
	"ALTER TABLE flows_v2 RENAME TO flows;"
	"CREATE INDEX flows_src ON flows(src, minute);"
	"CREATE INDEX flows_dst ON flows(dst, minute);"
	"ALTER TABLE alerts ADD COLUMN detector TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE alerts ADD COLUMN action TEXT NOT NULL DEFAULT 'allowed';"
	"ALTER TABLE alerts ADD COLUMN flow_id INTEGER;"
	"ALTER TABLE alerts ADD COLUMN metric TEXT;"
	"ALTER TABLE alerts ADD COLUMN observed REAL;"
	"ALTER TABLE alerts ADD COLUMN threshold REAL;"
	"ALTER TABLE alerts ADD COLUMN mean REAL;"
	"ALTER TABLE alerts ADD COLUMN stddev REAL;"
	"ALTER TABLE alerts ADD COLUMN sigma REAL;"
	"ALTER TABLE alerts ADD COLUMN window_ns INTEGER;"
	"ALTER TABLE alerts ADD COLUMN packets_out INTEGER;"
	"ALTER TABLE alerts ADD COLUMN packets_in INTEGER;"
	"ALTER TABLE alerts ADD COLUMN bytes_out INTEGER;"
	"ALTER TABLE alerts ADD COLUMN bytes_in INTEGER;"
	"ALTER TABLE alerts ADD COLUMN facts TEXT;"
	"ALTER TABLE alerts ADD COLUMN what TEXT;"
	"ALTER TABLE alerts ADD COLUMN why TEXT;"
	"ALTER TABLE alerts ADD COLUMN next TEXT;"
	"CREATE INDEX alerts_src ON alerts(src);"
	"CREATE INDEX alerts_dst ON alerts(dst);"
	"CREATE INDEX alerts_sid ON alerts(sid);"
	"CREATE TABLE anomalies ("
	" id INTEGER PRIMARY KEY, ts_ns INTEGER NOT NULL, alert_uid INTEGER NOT NULL,"
	" detector TEXT NOT NULL, metric TEXT NOT NULL, src TEXT, dst TEXT, dport INTEGER,"
	" proto INTEGER, observed REAL NOT NULL, threshold REAL, mean REAL, stddev REAL,"
	" sigma REAL, window_ns INTEGER, facts TEXT);"
	"CREATE INDEX anomalies_ts ON anomalies(ts_ns);"
	"CREATE TABLE baselines ("
	" detector TEXT NOT NULL, metric TEXT NOT NULL, entity TEXT NOT NULL, key BLOB NOT NULL,"
	" mean REAL NOT NULL, var REAL NOT NULL, n INTEGER NOT NULL, updated_ns INTEGER NOT NULL,"
	" PRIMARY KEY (detector, metric, entity)) WITHOUT ROWID;"
	"CREATE TABLE blocklist ("
	" addr TEXT PRIMARY KEY, family INTEGER NOT NULL, created_ms INTEGER NOT NULL,"
	" expires_ms INTEGER NOT NULL, alert_uid INTEGER, source TEXT NOT NULL,"
	" reason TEXT NOT NULL DEFAULT '') WITHOUT ROWID;",

	/*
	 * 2 -> 3: the application layer. Alerts keep their flow's application protocol, the facts
	 * of the transaction a signature matched (its EVE object, JSON) and which of those were cut
	 * to fit; the application protocol joins the flow key, so that the aggregates answer "bytes
	 * per application" (old rows get '', "not known", like flows not detected).
	 */
	"ALTER TABLE alerts ADD COLUMN app_proto TEXT;"
	"ALTER TABLE alerts ADD COLUMN app TEXT;"
	"ALTER TABLE alerts ADD COLUMN app_cut TEXT;"
	"CREATE TABLE flows_v3 ("
	" minute INTEGER NOT NULL, src TEXT NOT NULL, dst TEXT NOT NULL,"
	" dport INTEGER NOT NULL, proto INTEGER NOT NULL, verdict INTEGER NOT NULL,"
	" app_proto TEXT NOT NULL DEFAULT '',"
	" packets INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,"
	" flows INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (minute, src, dst, dport, proto, verdict, app_proto)) WITHOUT ROWID;"
	"INSERT INTO flows_v3 (minute, src, dst, dport, proto, verdict, app_proto, packets, bytes,"
	" flows) SELECT minute, src, dst, dport, proto, verdict, '', packets, bytes, flows FROM flows;"
	"DROP TABLE flows;"
	"ALTER TABLE flows_v3 RENAME TO flows;"
	"CREATE INDEX flows_src ON flows(src, minute);"
	"CREATE INDEX flows_dst ON flows(dst, minute);",

	/*
	 * 3 -> 4: the ingress port joins the flow key (the name, from the config, of the port
	 * the flow's initiator sent on: with pairs, the direction; old rows get '', "not known"),
	 * and flows_hour sums flows per hour over verdicts and application protocols, for reads
	 * of long windows (policy preview, learning): the writer keeps it in the same transaction
	 * as flows, so the two always agree.
	 */
	"CREATE TABLE flows_v4 ("
	" minute INTEGER NOT NULL, src TEXT NOT NULL, dst TEXT NOT NULL,"
	" dport INTEGER NOT NULL, proto INTEGER NOT NULL, verdict INTEGER NOT NULL,"
	" app_proto TEXT NOT NULL DEFAULT '', in_port TEXT NOT NULL DEFAULT '',"
	" packets INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,"
	" flows INTEGER NOT NULL DEFAULT 0,"
	" PRIMARY KEY (minute, src, dst, dport, proto, verdict, app_proto, in_port)) WITHOUT ROWID;"
	"INSERT INTO flows_v4 (minute, src, dst, dport, proto, verdict, app_proto, in_port, packets,"
	" bytes, flows) SELECT minute, src, dst, dport, proto, verdict, app_proto, '', packets, bytes,"
	" flows FROM flows;"
	"DROP TABLE flows;"
	"ALTER TABLE flows_v4 RENAME TO flows;"
	"CREATE INDEX flows_src ON flows(src, minute);"
	"CREATE INDEX flows_dst ON flows(dst, minute);"
	"CREATE TABLE flows_hour ("
	" hour INTEGER NOT NULL, src TEXT NOT NULL, dst TEXT NOT NULL,"
	" dport INTEGER NOT NULL, proto INTEGER NOT NULL, in_port TEXT NOT NULL DEFAULT '',"
	" packets INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,"
	" flows INTEGER NOT NULL DEFAULT 0, first INTEGER NOT NULL, last INTEGER NOT NULL,"
	" PRIMARY KEY (hour, src, dst, dport, proto, in_port)) WITHOUT ROWID;"
	"INSERT INTO flows_hour (hour, src, dst, dport, proto, in_port, packets, bytes, flows, first,"
	" last) SELECT minute / 3600 * 3600, src, dst, dport, proto, in_port, sum(packets),"
	" sum(bytes), sum(flows), min(minute), max(minute) FROM flows"
	" GROUP BY minute / 3600 * 3600, src, dst, dport, proto, in_port;",
};

_Static_assert(sizeof(ctl_store_migrations) / sizeof(ctl_store_migrations[0]) ==
				CTL_STORE_SCHEMA_VERSION,
		"one migration per schema version");

#endif /* CTL_STORE_SCHEMA_H */
