/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Read-only queries for management threads. Each thread opens its own connection; in WAL mode
 * readers never wait for the writer and always see whole batches.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "ctl_alert_app.h"
#include "ctl_store.h"
#include "vg_addr.h"

struct ctl_store_reader {
	sqlite3 *db;
};

static void rerr(char *err, size_t errlen, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));

static void
rerr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

struct ctl_store_reader *
ctl_store_reader_open(const char *path, char *err, size_t errlen)
{
	struct ctl_store_reader *r = calloc(1, sizeof(*r));
	sqlite3_stmt *st = NULL;
	int rc, ver = -1;

	if (r == NULL) {
		rerr(err, errlen, "out of memory");
		return NULL;
	}
	rc = sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(r->db, 1000);
		rc = sqlite3_prepare_v2(r->db, "PRAGMA user_version", -1, &st, NULL);
	}
	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		ver = sqlite3_column_int(st, 0);
	else if (rc == SQLITE_OK)
		rc = sqlite3_errcode(r->db);
	sqlite3_finalize(st);
	if (rc != SQLITE_OK) {
		rerr(err, errlen, "cannot open %s for reading: %s", path,
				r->db ? sqlite3_errmsg(r->db) : sqlite3_errstr(rc));
		errno = rc == SQLITE_CANTOPEN ? ENOENT : EIO;
		goto fail;
	}
	if (ver < 1 || ver > CTL_STORE_SCHEMA_VERSION) {
		rerr(err, errlen,
				"%s has schema version %d; this code reads versions 1 to %d (is it a "
				"Vigil database, and has vigild opened it yet?)",
				path, ver, CTL_STORE_SCHEMA_VERSION);
		errno = EPROTONOSUPPORT;
		goto fail;
	}
	/* Belt and braces: a reader never writes, even by a mistaken statement. */
	sqlite3_exec(r->db, "PRAGMA query_only = 1", NULL, NULL, NULL);
	return r;
fail:
	sqlite3_close(r->db);
	free(r);
	return NULL;
}

void
ctl_store_reader_close(struct ctl_store_reader *r)
{
	if (r == NULL)
		return;
	sqlite3_close(r->db);
	free(r);
}

/* A small query builder: WHERE terms with bound values. */
struct qb {
	char sql[1024];
	size_t len;
	int nterms;
	int nparams;
	struct {
		bool is_text;
		int64_t i;
		char t[64];
	} p[12];
};

static void
qb_add(struct qb *q, const char *s)
{
	int w = snprintf(q->sql + q->len, sizeof(q->sql) - q->len, "%s", s);

	if (w > 0 && (size_t)w < sizeof(q->sql) - q->len)
		q->len += (size_t)w;
}

static void
qb_int(struct qb *q, const char *term, int64_t v)
{
	qb_add(q, q->nterms++ ? " AND " : " WHERE ");
	qb_add(q, term);
	q->p[q->nparams].is_text = false;
	q->p[q->nparams++].i = v;
}

static void
qb_text(struct qb *q, const char *term, const char *v)
{
	qb_add(q, q->nterms++ ? " AND " : " WHERE ");
	qb_add(q, term);
	q->p[q->nparams].is_text = true;
	snprintf(q->p[q->nparams++].t, sizeof(q->p[0].t), "%s", v);
}

static int
qb_prepare(struct ctl_store_reader *r, struct qb *q, sqlite3_stmt **st, char *err, size_t errlen)
{
	int rc = sqlite3_prepare_v2(r->db, q->sql, -1, st, NULL);

	if (rc != SQLITE_OK) {
		rerr(err, errlen, "query failed: %s", sqlite3_errmsg(r->db));
		return -EIO;
	}
	for (int i = 0; i < q->nparams; i++) {
		if (q->p[i].is_text)
			sqlite3_bind_text(*st, i + 1, q->p[i].t, -1, SQLITE_TRANSIENT);
		else
			sqlite3_bind_int64(*st, i + 1, q->p[i].i);
	}
	return 0;
}

/* Canonical text of an address filter, so "::ffff:1.2.3.4"-style spellings match stored rows. */
static int
norm_addr(const char *what, const char *in, char *out, size_t len, char *err, size_t errlen)
{
	struct vg_addr a;

	if (vg_addr_parse_str(in, &a) == 0 && vg_addr_format(&a, out, len) == 0)
		return 0;
	rerr(err, errlen, "%s: '%s' is not an IPv4 or IPv6 address", what, in);
	return -EINVAL;
}

/*
 * An app_proto filter: a protocol's name, or "unknown" for none. Adds its term (none_term for
 * "unknown"). Returns 0 or -EINVAL with err filled.
 */
static int
app_proto_term(struct qb *b, const char *name, const char *none_term, char *err, size_t errlen)
{
	if (strcmp(name, "unknown") == 0) {
		qb_add(b, b->nterms++ ? " AND " : " WHERE ");
		qb_add(b, none_term);
		return 0;
	}
	for (unsigned p = 1; p < 256; p++) {
		const char *n = ctl_app_proto_name((uint8_t)p);

		if (n == NULL)
			break;
		if (strcmp(n, name) == 0) {
			qb_text(b, "app_proto = ?", name);
			return 0;
		}
	}
	rerr(err, errlen,
			"app_proto: '%s' is not an application protocol (http, tls, dns, ssh, smtp, "
			"ftp, failed or unknown)",
			name);
	return -EINVAL;
}

static const char *
verdict_name(int v)
{
	static const char *const names[] = { "none", "allow", "drop", "reject", "rate-limit" };

	return v >= 0 && v < 5 ? names[v] : "?";
}

/* One row as a JSON object: columns by name, with a few made readable. */
static json_t *
row_json(sqlite3_stmt *st)
{
	json_t *o = json_object();
	int n = sqlite3_column_count(st);

	if (o == NULL)
		return NULL;
	for (int i = 0; i < n; i++) {
		const char *name = sqlite3_column_name(st, i);
		json_t *v = NULL;

		switch (sqlite3_column_type(st, i)) {
		case SQLITE_INTEGER:
			v = json_integer((json_int_t)sqlite3_column_int64(st, i));
			break;
		case SQLITE_FLOAT:
			v = json_real(sqlite3_column_double(st, i));
			break;
		case SQLITE_TEXT:
		case SQLITE_BLOB:
			v = json_stringn((const char *)sqlite3_column_text(st, i),
					(size_t)sqlite3_column_bytes(st, i));
			if (v == NULL) /* not UTF-8: say so rather than fail the whole answer */
				v = json_string("(binary)");
			break;
		default:
			v = json_null();
		}
		if (strcmp(name, "severity") == 0 && json_is_integer(v)) {
			json_object_set_new(o, "severity",
					json_string(ctl_severity_name(
							(unsigned)json_integer_value(v))));
			json_decref(v);
			continue;
		}
		if (strcmp(name, "verdict") == 0 && json_is_integer(v)) {
			json_object_set_new(o, "verdict",
					json_string(verdict_name((int)json_integer_value(v))));
			json_decref(v);
			continue;
		}
		if ((strcmp(name, "facts") == 0 || strcmp(name, "app") == 0 ||
				    strcmp(name, "app_cut") == 0) &&
				json_is_string(v)) {
			json_t *parsed = json_loads(json_string_value(v), 0, NULL);

			json_decref(v);
			v = parsed ? parsed : name[0] == 'f' ? json_object() : json_null();
		}
		/* A flow whose protocol was not known is stored as '' (a key column): null here. */
		if ((strcmp(name, "app_proto") == 0 || strcmp(name, "in_port") == 0) &&
				json_is_string(v) && json_string_length(v) == 0) {
			json_decref(v);
			v = json_null();
		}
		if ((strcmp(name, "first_ns") == 0 || strcmp(name, "last_ns") == 0 ||
				    strcmp(name, "ts_ns") == 0) &&
				json_is_integer(v)) {
			char buf[48], key[16];

			ctl_time_iso((uint64_t)json_integer_value(v), buf, sizeof(buf));
			snprintf(key, sizeof(key), "%s",
					name[0] == 'f'	 ? "first_seen"
					: name[0] == 'l' ? "last_seen"
							 : "time");
			json_object_set_new(o, key, json_string(buf));
		}
		if (strcmp(name, "minute") == 0 && json_is_integer(v)) {
			char buf[48];

			ctl_time_iso((uint64_t)json_integer_value(v) * 1000000000ULL, buf,
					sizeof(buf));
			json_object_set_new(o, "time", json_string(buf));
		}
		json_object_set_new(o, name, v);
	}
	return o;
}

/*
 * Run the statement into an array. With pag != NULL, limit + 1 rows were asked for: the extra
 * row only says there is a next page, whose cursor is the id of the last row returned.
 */
static json_t *
collect(struct ctl_store_reader *r, sqlite3_stmt *st, uint32_t limit, int64_t *next_cursor,
		char *err, size_t errlen)
{
	json_t *arr = json_array();
	uint32_t n = 0;
	int64_t last_id = 0;
	int rc;

	if (next_cursor != NULL)
		*next_cursor = 0;
	while (arr != NULL && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == limit) {
			if (next_cursor != NULL)
				*next_cursor = last_id;
			rc = SQLITE_DONE;
			break;
		}
		last_id = sqlite3_column_int64(st, 0);
		json_array_append_new(arr, row_json(st));
		n++;
	}
	if (arr == NULL) {
		rerr(err, errlen, "out of memory");
		sqlite3_finalize(st);
		return NULL;
	}
	if (rc != SQLITE_DONE) {
		rerr(err, errlen, "query failed: %s", sqlite3_errmsg(r->db));
		json_decref(arr);
		arr = NULL;
	}
	sqlite3_finalize(st);
	return arr;
}

json_t *
ctl_store_query_flows(struct ctl_store_reader *r, const struct ctl_flow_query *q, char *err,
		size_t errlen)
{
	struct qb b = { .len = 0 };
	sqlite3_stmt *st;
	char a[64];
	uint32_t limit = q->limit ? q->limit : 1000;

	qb_add(&b, "SELECT minute, src, dst, dport, proto, verdict, app_proto, in_port, packets, "
		   "bytes, flows "
		   "FROM flows");
	if (q->since)
		qb_int(&b, "minute >= ?", q->since / 60 * 60);
	if (q->until)
		qb_int(&b, "minute < ?", q->until);
	if (q->src != NULL) {
		if (norm_addr("src", q->src, a, sizeof(a), err, errlen) != 0)
			return NULL;
		qb_text(&b, "src = ?", a);
	}
	if (q->dst != NULL) {
		if (norm_addr("dst", q->dst, a, sizeof(a), err, errlen) != 0)
			return NULL;
		qb_text(&b, "dst = ?", a);
	}
	if (q->dport >= 0)
		qb_int(&b, "dport = ?", q->dport);
	if (q->proto >= 0)
		qb_int(&b, "proto = ?", q->proto);
	if (q->verdict >= 0)
		qb_int(&b, "verdict = ?", q->verdict);
	if (q->app_proto != NULL &&
			app_proto_term(&b, q->app_proto, "app_proto = ''", err, errlen) != 0)
		return NULL;
	qb_add(&b, " ORDER BY minute DESC, bytes DESC LIMIT ?");
	b.p[b.nparams].is_text = false;
	b.p[b.nparams++].i = limit;
	if (qb_prepare(r, &b, &st, err, errlen) != 0)
		return NULL;
	return collect(r, st, limit, NULL, err, errlen);
}

/*
 * The keys of a window are summed here rather than by GROUP BY: SQLite would sort every row of
 * the window (a day is millions) in a temporary b-tree; one pass in PK order into a hash table
 * is several times faster, and rows come sorted by (minute, src), so a source's text is parsed
 * once per run of rows.
 */
struct key_table {
	struct ctl_flow_key_sum *v;
	uint32_t *slot; /* index + 1; 0: empty */
	uint32_t n, cap, slots;
};

static uint64_t
key_hash(const struct ctl_flow_key_sum *k)
{
	uint64_t h = (uint64_t)k->in_port << 48 | (uint64_t)k->family << 40 |
		     (uint64_t)k->proto << 32 | k->dport,
		 w;

	for (unsigned i = 0; i < 16; i += 8) {
		memcpy(&w, k->src + i, 8);
		h = (h ^ w) * 0x9E3779B97F4A7C15ULL;
		memcpy(&w, k->dst + i, 8);
		h = (h ^ (w + 0x632BE59BD9B4E019ULL)) * 0xff51afd7ed558ccdULL;
	}
	/*
	 * The table takes the low bits, which the products above draw only from the inputs' low
	 * bits (for IPv4, the addresses' first bytes: the same network): fold every bit in
	 * (murmur3's finaliser), or probe chains grow long.
	 */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

static bool
key_eq(const struct ctl_flow_key_sum *a, const struct ctl_flow_key_sum *b)
{
	return a->family == b->family && a->proto == b->proto && a->dport == b->dport &&
	       a->in_port == b->in_port && memcmp(a->src, b->src, 16) == 0 &&
	       memcmp(a->dst, b->dst, 16) == 0;
}

static int
key_grow(struct key_table *t)
{
	uint32_t slots = t->slots ? t->slots * 2 : 1u << 14;
	uint32_t cap = slots / 2;
	struct ctl_flow_key_sum *v = realloc(t->v, (size_t)cap * sizeof(*v));
	uint32_t *slot;

	if (v == NULL)
		return -ENOMEM;
	t->v = v;
	slot = calloc(slots, sizeof(*slot));
	if (slot == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < t->n; i++) {
		uint32_t s = (uint32_t)key_hash(&v[i]) & (slots - 1);

		while (slot[s] != 0)
			s = (s + 1) & (slots - 1);
		slot[s] = i + 1;
	}
	free(t->slot);
	t->slot = slot;
	t->slots = slots;
	t->cap = cap;
	return 0;
}

/* Add k's counts to its entry. 0, -ENOMEM or -E2BIG (CTL_STORE_SCAN_MAX_KEYS). */
static int
key_add(struct key_table *t, const struct ctl_flow_key_sum *k)
{
	uint32_t s;

	if (t->n == t->cap) {
		if (t->n >= CTL_STORE_SCAN_MAX_KEYS)
			return -E2BIG;
		if (key_grow(t) != 0)
			return -ENOMEM;
	}
	s = (uint32_t)key_hash(k) & (t->slots - 1);
	while (t->slot[s] != 0) {
		struct ctl_flow_key_sum *e = &t->v[t->slot[s] - 1];

		if (key_eq(e, k)) {
			e->packets += k->packets;
			e->bytes += k->bytes;
			e->flows += k->flows;
			e->first = k->first < e->first ? k->first : e->first;
			e->last = k->last > e->last ? k->last : e->last;
			return 0;
		}
		s = (s + 1) & (t->slots - 1);
	}
	t->v[t->n] = *k;
	t->slot[s] = ++t->n;
	return 0;
}

/* What one scan carries from row to row: the last source parsed, the ports' names. */
struct scan {
	struct key_table t;
	char last_src[64];
	uint8_t last_src_bin[16];
	int last_fam;
	const char *const *ports;
	unsigned n_ports;
};

static uint16_t
port_index(const struct scan *sc, const char *name)
{
	if (name == NULL || name[0] == '\0')
		return CTL_PORT_UNKNOWN;
	for (unsigned i = 0; i < sc->n_ports; i++)
		if (sc->ports[i] != NULL && strcmp(sc->ports[i], name) == 0)
			return (uint16_t)i;
	return CTL_PORT_UNKNOWN;
}

/*
 * Sum the rows of one statement (columns src, dst, dport, proto, packets, bytes, flows, first,
 * last, in_port) into sc's table. 0, or -errno with err filled.
 */
static int64_t
scan_rows(struct ctl_store_reader *r, struct scan *sc, sqlite3_stmt *st, char *err, size_t errlen)
{
	struct ctl_flow_key_sum k;
	struct vg_addr a, dst_a;
	int64_t rc = 0;
	int step;

	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *src = (const char *)sqlite3_column_text(st, 0);
		const char *dst = (const char *)sqlite3_column_text(st, 1);

		if (src == NULL || dst == NULL)
			continue;
		memset(&k, 0, sizeof(k));
		if (strcmp(src, sc->last_src) != 0) {
			snprintf(sc->last_src, sizeof(sc->last_src), "%s", src);
			sc->last_fam = vg_addr_parse_str(src, &a) == 0 ? a.family : 0;
			memcpy(sc->last_src_bin, a.b, sizeof(sc->last_src_bin));
		}
		if (sc->last_fam == 0 || vg_addr_parse_str(dst, &dst_a) != 0 ||
				dst_a.family != sc->last_fam)
			continue; /* not an address pair this code wrote */
		memcpy(k.dst, dst_a.b, sizeof(k.dst));
		k.family = (uint8_t)sc->last_fam;
		memcpy(k.src, sc->last_src_bin, 16);
		k.dport = (uint16_t)sqlite3_column_int(st, 2);
		k.proto = (uint8_t)sqlite3_column_int(st, 3);
		k.packets = (uint64_t)sqlite3_column_int64(st, 4);
		k.bytes = (uint64_t)sqlite3_column_int64(st, 5);
		k.flows = (uint64_t)sqlite3_column_int64(st, 6);
		k.first = sqlite3_column_int64(st, 7);
		k.last = sqlite3_column_int64(st, 8);
		k.in_port = port_index(sc, (const char *)sqlite3_column_text(st, 9));
		rc = key_add(&sc->t, &k);
		if (rc != 0)
			break;
	}
	if (rc == -E2BIG)
		rerr(err, errlen,
				"the window holds more than %u distinct (src, dst, dport, proto, in_port) "
				"keys; choose a shorter one",
				CTL_STORE_SCAN_MAX_KEYS);
	else if (rc == -ENOMEM)
		rerr(err, errlen, "out of memory");
	else if (rc == 0 && step != SQLITE_DONE) {
		rerr(err, errlen, "query failed: %s", sqlite3_errmsg(r->db));
		rc = -EIO;
	}
	return rc;
}

/* Sum the rows of sql over [lo, hi) into sc. */
static int64_t
scan_range(struct ctl_store_reader *r, struct scan *sc, const char *sql, int64_t lo, int64_t hi,
		char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int64_t rc;

	if (lo >= hi)
		return 0;
	if (sqlite3_prepare_v2(r->db, sql, -1, &st, NULL) != SQLITE_OK) {
		rerr(err, errlen, "query failed: %s", sqlite3_errmsg(r->db));
		return -EIO;
	}
	sqlite3_bind_int64(st, 1, lo);
	sqlite3_bind_int64(st, 2, hi);
	rc = scan_rows(r, sc, st, err, errlen);
	sqlite3_finalize(st);
	return rc;
}

int64_t
ctl_store_scan_flow_keys(struct ctl_store_reader *r, int64_t since, int64_t until,
		const char *const *ports, unsigned n_ports,
		int (*fn)(const struct ctl_flow_key_sum *k, void *arg), void *arg, char *err,
		size_t errlen)
{
	static const char minutes[] =
			"SELECT src, dst, dport, proto, packets, bytes, flows, minute, "
			"minute, in_port FROM flows WHERE minute >= ?1 AND minute < ?2";
	static const char hours[] = "SELECT src, dst, dport, proto, packets, bytes, flows, first, "
				    "last, in_port FROM flows_hour WHERE hour >= ?1 AND hour < ?2";
	struct scan sc = { .ports = ports, .n_ports = n_ports };
	int64_t lo = since > 0 ? since / 60 * 60 : INT64_MIN, hi = until > 0 ? until : INT64_MAX;
	int64_t oldest = INT64_MAX, h0, h1, rc;
	sqlite3_stmt *st;

	/* A window is read whole: map the file rather than copy it page by page. */
	sqlite3_exec(r->db, "PRAGMA mmap_size = 4294967296", NULL, NULL, NULL);
	/* One read transaction: the minutes and the hours of one snapshot. */
	if (sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		rerr(err, errlen, "query failed: %s", sqlite3_errmsg(r->db));
		return -EIO;
	}
	/*
	 * The hours wholly inside the window come from flows_hour, the minutes at its edges from
	 * flows. An hour that retention cut (it starts before the oldest minute kept) is read
	 * by its minutes, so both tables give the same sums.
	 */
	if (sqlite3_prepare_v2(r->db, "SELECT min(minute) FROM flows", -1, &st, NULL) ==
			SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
			oldest = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	if (oldest == INT64_MAX) {
		rc = 0; /* no flows */
		goto done;
	}
	if (lo < oldest)
		lo = oldest;
	h0 = lo % 3600 == 0 ? lo : (lo / 3600 + (lo > 0)) * 3600;
	h1 = hi == INT64_MAX ? INT64_MAX : hi / 3600 * 3600;
	if (h0 < h1) {
		rc = scan_range(r, &sc, minutes, lo, h0, err, errlen);
		if (rc == 0)
			rc = scan_range(r, &sc, hours, h0, h1, err, errlen);
		if (rc == 0 && h1 != INT64_MAX)
			rc = scan_range(r, &sc, minutes, h1, hi, err, errlen);
	} else {
		rc = scan_range(r, &sc, minutes, lo, hi, err, errlen);
	}
done:
	sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
	for (uint32_t i = 0; rc == 0 && i < sc.t.n; i++)
		rc = fn(&sc.t.v[i], arg);
	if (rc == 0)
		rc = sc.t.n;
	free(sc.t.v);
	free(sc.t.slot);
	return rc;
}

/* The columns of an alert, for the list and for one alert. */
static const char alert_select[] =
		"SELECT id, uid, kind, severity, category, gid, sid, rev, signature, src, dst, "
		"sport, dport, proto, first_ns, last_ns, count, detector, action, flow_id, metric, "
		"observed, threshold, mean, stddev, sigma, window_ns, packets_out, packets_in, "
		"bytes_out, bytes_in, facts, what, why, next, app_proto, app, app_cut FROM alerts";

json_t *
ctl_store_get_alert(struct ctl_store_reader *r, int64_t uid, char *err, size_t errlen)
{
	char sql[sizeof(alert_select) + 32];
	sqlite3_stmt *st;
	json_t *o = NULL;
	int rc;

	snprintf(sql, sizeof(sql), "%s WHERE uid = ?1", alert_select);
	rc = sqlite3_prepare_v2(r->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		rerr(err, errlen, "query failed: %s", sqlite3_errmsg(r->db));
		return NULL;
	}
	sqlite3_bind_int64(st, 1, uid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		o = row_json(st);
	else if (rc == SQLITE_DONE)
		rerr(err, errlen, "no alert %" PRId64, uid);
	else
		rerr(err, errlen, "query failed: %s", sqlite3_errmsg(r->db));
	sqlite3_finalize(st);
	return o;
}

json_t *
ctl_store_query_alerts(struct ctl_store_reader *r, const struct ctl_alert_query *q,
		int64_t *next_cursor, char *err, size_t errlen)
{
	struct qb b = { .len = 0 };
	sqlite3_stmt *st;
	char a[64];
	uint32_t limit = q->limit ? q->limit : 100;

	qb_add(&b, alert_select);
	if (q->since_ns)
		qb_int(&b, "last_ns >= ?", q->since_ns);
	if (q->until_ns)
		qb_int(&b, "last_ns < ?", q->until_ns);
	if (q->min_severity > 0)
		qb_int(&b, "severity >= ?", q->min_severity);
	if (q->kind != NULL) {
		if (strcmp(q->kind, "signature") != 0 && strcmp(q->kind, "anomaly") != 0) {
			rerr(err, errlen, "kind: '%s' is not 'signature' or 'anomaly'", q->kind);
			return NULL;
		}
		qb_text(&b, "kind = ?", q->kind);
	}
	if (q->src != NULL) {
		if (norm_addr("src", q->src, a, sizeof(a), err, errlen) != 0)
			return NULL;
		qb_text(&b, "src = ?", a);
	}
	if (q->dst != NULL) {
		if (norm_addr("dst", q->dst, a, sizeof(a), err, errlen) != 0)
			return NULL;
		qb_text(&b, "dst = ?", a);
	}
	if (q->sid)
		qb_int(&b, "sid = ?", q->sid);
	if (q->app_proto != NULL &&
			app_proto_term(&b, q->app_proto, "app_proto IS NULL", err, errlen) != 0)
		return NULL;
	if (q->cursor > 0)
		qb_int(&b, "id < ?", q->cursor);
	qb_add(&b, " ORDER BY id DESC LIMIT ?");
	b.p[b.nparams].is_text = false;
	b.p[b.nparams++].i = (int64_t)limit + 1;
	if (qb_prepare(r, &b, &st, err, errlen) != 0)
		return NULL;
	return collect(r, st, limit, next_cursor, err, errlen);
}

json_t *
ctl_store_query_anomalies(struct ctl_store_reader *r, int64_t since_ns, const char *detector,
		uint32_t limit, int64_t cursor, int64_t *next_cursor, char *err, size_t errlen)
{
	struct qb b = { .len = 0 };
	sqlite3_stmt *st;

	if (limit == 0)
		limit = 100;
	qb_add(&b, "SELECT id, ts_ns, alert_uid, detector, metric, src, dst, dport, proto, observed, "
		   "threshold, mean, stddev, sigma, window_ns, facts FROM anomalies");
	if (since_ns)
		qb_int(&b, "ts_ns >= ?", since_ns);
	if (detector != NULL)
		qb_text(&b, "detector = ?", detector);
	if (cursor > 0)
		qb_int(&b, "id < ?", cursor);
	qb_add(&b, " ORDER BY id DESC LIMIT ?");
	b.p[b.nparams].is_text = false;
	b.p[b.nparams++].i = (int64_t)limit + 1;
	if (qb_prepare(r, &b, &st, err, errlen) != 0)
		return NULL;
	return collect(r, st, limit, next_cursor, err, errlen);
}

json_t *
ctl_store_query_versions(struct ctl_store_reader *r, const char *kind, uint32_t limit, char *err,
		size_t errlen)
{
	struct qb b = { .len = 0 };
	sqlite3_stmt *st;

	if (limit == 0)
		limit = 100;
	qb_add(&b, "SELECT id, kind, sha256, source, created_ms, result, length(text) AS size "
		   "FROM versions");
	if (kind != NULL)
		qb_text(&b, "kind = ?", kind);
	qb_add(&b, " ORDER BY id DESC LIMIT ?");
	b.p[b.nparams].is_text = false;
	b.p[b.nparams++].i = limit;
	if (qb_prepare(r, &b, &st, err, errlen) != 0)
		return NULL;
	return collect(r, st, limit, NULL, err, errlen);
}

json_t *
ctl_store_get_version(struct ctl_store_reader *r, int64_t id, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	json_t *o = NULL;
	int rc = sqlite3_prepare_v2(r->db,
			"SELECT id, kind, sha256, source, created_ms, result, length(text) AS size, "
			"text FROM versions WHERE id = ?1",
			-1, &st, NULL);

	if (rc != SQLITE_OK) {
		rerr(err, errlen, "query failed: %s", sqlite3_errmsg(r->db));
		return NULL;
	}
	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		o = row_json(st);
	else if (rc == SQLITE_DONE)
		rerr(err, errlen, "no version %" PRId64, id);
	else
		rerr(err, errlen, "query failed: %s", sqlite3_errmsg(r->db));
	sqlite3_finalize(st);
	return o;
}

json_t *
ctl_store_query_audit(struct ctl_store_reader *r, int64_t since_ms, uint32_t limit, int64_t cursor,
		int64_t *next_cursor, char *err, size_t errlen)
{
	struct qb b = { .len = 0 };
	sqlite3_stmt *st;

	if (limit == 0)
		limit = 100;
	qb_add(&b, "SELECT id, ts_ms, actor, action, target, detail, result FROM audit");
	if (since_ms)
		qb_int(&b, "ts_ms >= ?", since_ms);
	if (cursor > 0)
		qb_int(&b, "id < ?", cursor);
	qb_add(&b, " ORDER BY id DESC LIMIT ?");
	b.p[b.nparams].is_text = false;
	b.p[b.nparams++].i = (int64_t)limit + 1;
	if (qb_prepare(r, &b, &st, err, errlen) != 0)
		return NULL;
	return collect(r, st, limit, next_cursor, err, errlen);
}

json_t *
ctl_store_query_blocks(struct ctl_store_reader *r, uint64_t now_ms, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(r->db,
			"SELECT addr, family, created_ms, expires_ms, alert_uid, source, reason FROM "
			"blocklist WHERE expires_ms = 0 OR expires_ms > ?1 ORDER BY created_ms DESC",
			-1, &st, NULL);

	if (rc != SQLITE_OK) {
		rerr(err, errlen, "query failed: %s", sqlite3_errmsg(r->db));
		return NULL;
	}
	sqlite3_bind_int64(st, 1, (int64_t)now_ms);
	return collect(r, st, UINT32_MAX, NULL, err, errlen);
}
