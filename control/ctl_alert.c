/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "ctl_alert.h"
#include "ctl_alert_app.h"
#include "ctl_map.h"
#include "vg_addr.h"
#include "vg_ctr.h"
#include "vg_log.h"
#include "vg_time.h"

static const char *const sev_names[] = { NULL, "low", "medium", "high", "critical" };

const char *
ctl_severity_name(unsigned sev)
{
	if (sev < CTL_SEV_LOW || sev > CTL_SEV_CRITICAL)
		return "?";
	return sev_names[sev];
}

int
ctl_severity_parse(const char *name, enum ctl_severity *out)
{
	for (unsigned i = CTL_SEV_LOW; i <= CTL_SEV_CRITICAL; i++)
		if (strcmp(name, sev_names[i]) == 0) {
			*out = (enum ctl_severity)i;
			return 0;
		}
	return -EINVAL;
}

const char *
ctl_alert_kind_name(unsigned kind)
{
	switch (kind) {
	case CTL_ALERT_SIGNATURE:
		return "signature";
	case CTL_ALERT_ANOMALY:
		return "anomaly";
	}
	return "?";
}

const char *
ctl_proto_name(uint8_t proto, char *buf, size_t len)
{
	switch (proto) {
	case 1:
		return "ICMP";
	case 6:
		return "TCP";
	case 17:
		return "UDP";
	case 58:
		return "IPv6-ICMP";
	case 132:
		return "SCTP";
	}
	snprintf(buf, len, "%u", proto);
	return buf;
}

const char *
ctl_addr_str(uint8_t family, const uint8_t *addr, char *buf, size_t len)
{
	if (vg_addr_format_bytes(family, addr, buf, len) != 0)
		snprintf(buf, len, "-");
	return buf;
}

void
ctl_alert_fact(struct ctl_alert *a, const char *name, const char *fmt, ...)
{
	struct ctl_alert_fact *f;
	va_list ap;

	if (a->n_facts >= CTL_ALERT_MAX_FACTS)
		return;
	f = &a->facts[a->n_facts++];
	snprintf(f->name, sizeof(f->name), "%s", name);
	va_start(ap, fmt);
	vsnprintf(f->value, sizeof(f->value), fmt, ap);
	va_end(ap);
}

const char *
ctl_alert_fact_get(const struct ctl_alert *a, const char *name)
{
	for (unsigned i = 0; i < a->n_facts && i < CTL_ALERT_MAX_FACTS; i++)
		if (strcmp(a->facts[i].name, name) == 0)
			return a->facts[i].value;
	return NULL;
}

void
ctl_alert_init_anomaly(struct ctl_alert *a, const struct ctl_alert_template *t,
		const char *detector, enum ctl_severity sev)
{
	memset(a, 0, sizeof(*a));
	a->kind = CTL_ALERT_ANOMALY;
	a->severity = (uint8_t)sev;
	a->gid = CTL_ANOMALY_GID;
	a->sid = t->sid;
	a->rev = 1;
	a->tmpl = t;
	a->count = 1;
	snprintf(a->detector, sizeof(a->detector), "%s", detector);
	snprintf(a->signature, sizeof(a->signature), "%s", t->title);
	snprintf(a->category, sizeof(a->category), "%s", t->category);
}

void
ctl_alert_from_event(const struct dp_event *ev, const char *msg, const char *category,
		enum ctl_severity sev, struct ctl_alert *out)
{
	memset(out, 0, sizeof(*out));
	out->kind = CTL_ALERT_SIGNATURE;
	out->severity = (uint8_t)(sev ? sev : CTL_SEV_MEDIUM);
	out->worker = ev->worker;
	out->blocked = ev->alert.dropped;
	out->has_flow = true;
	out->direction = ev->alert.to_server ? 1 : 2;
	out->gid = ev->alert.gid ? ev->alert.gid : 1;
	out->sid = ev->alert.sid;
	out->rev = ev->alert.rev;
	out->flow = ev->flow;
	out->first_ns = ev->time_ns;
	out->last_ns = ev->time_ns;
	out->count = 1;
	snprintf(out->detector, sizeof(out->detector), "signature");
	if (msg != NULL)
		snprintf(out->signature, sizeof(out->signature), "%s", msg);
	else
		snprintf(out->signature, sizeof(out->signature), "sid %" PRIu32, ev->alert.sid);
	snprintf(out->category, sizeof(out->category), "%s", category ? category : "unknown");
	ctl_alert_explain(out);
}

/* Signature alerts all read the same way; the signature's own msg carries the specifics. */
static const struct ctl_alert_template sig_template = {
	.sid = 0,
	.title = "",
	.category = "",
	.what = "Signature ${sid} \"${signature}\" (${category}) matched ${proto} traffic from "
		"${src} port ${sport} to ${dst} port ${dport}, ${count} time(s) so far.",
	.why = "The payload contains a pattern that the signature set associates with "
	       "${category}; severity ${severity}.",
	.next = "The traffic was ${action}. Check whether ${dst} runs software this signature "
		"targets and whether other alerts involve ${src}; block ${src} if the activity "
		"is not expected, or tune the signature if this traffic is legitimate.",
};

static void
fmt_num(double v, char *buf, size_t len)
{
	if (isfinite(v) && fabs(v - round(v)) < 1e-9 && fabs(v) < 1e15)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.2f", v);
}

static void
fmt_duration(uint64_t ns, char *buf, size_t len)
{
	uint64_t s = ns / 1000000000ULL;

	if (ns == 0)
		snprintf(buf, len, "0 s");
	else if (ns < 1000000000ULL)
		snprintf(buf, len, "%" PRIu64 " ms", (uint64_t)(ns / 1000000ULL));
	else if (s % 3600 == 0)
		snprintf(buf, len, "%" PRIu64 " h", s / 3600);
	else if (s % 60 == 0)
		snprintf(buf, len, "%" PRIu64 " min", s / 60);
	else
		snprintf(buf, len, "%" PRIu64 " s", s);
}

/* The text of variable name for a, into buf. Returns NULL when there is no such variable. */
static const char *
lookup_var(const struct ctl_alert *a, const char *name, char *buf, size_t len)
{
	const struct dp_event_flow *f = &a->flow;
	const char *fact = ctl_alert_fact_get(a, name);

	if (fact != NULL)
		return fact;
	if (strcmp(name, "src") == 0)
		return ctl_addr_str(f->family, f->src, buf, len);
	if (strcmp(name, "dst") == 0)
		return ctl_addr_str(f->family, f->dst, buf, len);
	if (strcmp(name, "sport") == 0)
		snprintf(buf, len, "%u", f->sport);
	else if (strcmp(name, "dport") == 0)
		snprintf(buf, len, "%u", f->dport);
	else if (strcmp(name, "proto") == 0)
		return ctl_proto_name(f->proto, buf, len);
	else if (strcmp(name, "signature") == 0)
		return a->signature;
	else if (strcmp(name, "category") == 0)
		return a->category;
	else if (strcmp(name, "detector") == 0)
		return a->detector;
	else if (strcmp(name, "metric") == 0)
		return a->metric;
	else if (strcmp(name, "severity") == 0)
		return ctl_severity_name(a->severity);
	else if (strcmp(name, "sid") == 0)
		snprintf(buf, len, "%" PRIu32, a->sid);
	else if (strcmp(name, "gid") == 0)
		snprintf(buf, len, "%" PRIu32, a->gid);
	else if (strcmp(name, "observed") == 0)
		fmt_num(a->observed, buf, len);
	else if (strcmp(name, "threshold") == 0)
		fmt_num(a->threshold, buf, len);
	else if (strcmp(name, "mean") == 0)
		fmt_num(a->mean, buf, len);
	else if (strcmp(name, "stddev") == 0)
		fmt_num(a->stddev, buf, len);
	else if (strcmp(name, "sigma") == 0)
		snprintf(buf, len, "%.1f", a->sigma);
	else if (strcmp(name, "count") == 0)
		snprintf(buf, len, "%" PRIu64, a->count);
	else if (strcmp(name, "window") == 0)
		fmt_duration(a->window_ns, buf, len);
	else if (strcmp(name, "pkts_out") == 0)
		snprintf(buf, len, "%" PRIu64, f->pkts[0]);
	else if (strcmp(name, "pkts_in") == 0)
		snprintf(buf, len, "%" PRIu64, f->pkts[1]);
	else if (strcmp(name, "bytes_out") == 0)
		snprintf(buf, len, "%" PRIu64, f->bytes[0]);
	else if (strcmp(name, "bytes_in") == 0)
		snprintf(buf, len, "%" PRIu64, f->bytes[1]);
	else if (strcmp(name, "action") == 0)
		return a->blocked ? "blocked" : "allowed";
	else
		return NULL;
	return buf;
}

unsigned
ctl_alert_expand(const struct ctl_alert *a, const char *tmpl, char *buf, size_t len)
{
	size_t o = 0;
	unsigned unknown = 0;

	if (len == 0)
		return 0;
	for (const char *p = tmpl; *p != '\0' && o + 1 < len;) {
		const char *end;

		if (p[0] == '$' && p[1] == '{' && (end = strchr(p + 2, '}')) != NULL &&
				end - (p + 2) < 32) {
			char name[32], val[64];
			const char *v;

			memcpy(name, p + 2, (size_t)(end - (p + 2)));
			name[end - (p + 2)] = '\0';
			v = lookup_var(a, name, val, sizeof(val));
			if (v == NULL) {
				unknown++;
				/* Leave it visible: a broken template shows in its own output. */
				while (p <= end && o + 1 < len)
					buf[o++] = *p++;
				continue;
			}
			while (*v != '\0' && o + 1 < len)
				buf[o++] = *v++;
			p = end + 1;
			continue;
		}
		buf[o++] = *p++;
	}
	buf[o] = '\0';
	return unknown;
}

void
ctl_alert_explain(struct ctl_alert *a)
{
	const struct ctl_alert_template *t = a->tmpl ? a->tmpl : &sig_template;

	ctl_alert_expand(a, t->what, a->what, sizeof(a->what));
	ctl_alert_expand(a, t->why, a->why, sizeof(a->why));
	ctl_alert_expand(a, t->next, a->next, sizeof(a->next));
}

int
ctl_alert_eve_severity(unsigned sev)
{
	switch (sev) {
	case CTL_SEV_CRITICAL:
	case CTL_SEV_HIGH:
		return 1;
	case CTL_SEV_MEDIUM:
		return 2;
	default:
		return 3;
	}
}

void
ctl_time_iso(uint64_t ns, char *buf, size_t len)
{
	time_t secs = (time_t)(ns / 1000000000ULL);
	struct tm tm;
	char base[32];

	gmtime_r(&secs, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%06" PRIu64 "+0000", base, (uint64_t)((ns % 1000000000ULL) / 1000));
}

/* json_object_set_new that gives up quietly on allocation failure; the caller checks at the end. */
static void
jset(json_t *o, const char *k, json_t *v)
{
	if (o != NULL && v != NULL)
		json_object_set_new(o, k, v);
}

json_t *
ctl_alert_to_json(const struct ctl_alert *a, const char *in_iface)
{
	const struct dp_event_flow *f = &a->flow;
	json_t *o = json_object(), *al = json_object(), *vg = json_object(), *ex = json_object();
	json_t *facts = json_object();
	char buf[64], proto[8];
	const char *app_name = NULL;
	json_t *cut = NULL;
	json_t *app = ctl_alert_app_json(a, &app_name, &cut);

	if (o == NULL || al == NULL || vg == NULL || ex == NULL || facts == NULL)
		goto fail;
	ctl_time_iso(a->last_ns, buf, sizeof(buf));
	jset(o, "timestamp", json_string(buf));
	if (a->has_flow)
		jset(o, "flow_id",
				json_integer((json_int_t)(((uint64_t)a->worker << 32) |
							  f->flow_id)));
	if (in_iface != NULL)
		jset(o, "in_iface", json_string(in_iface));
	jset(o, "event_type", json_string("alert"));
	if (f->family == 4 || f->family == 6) {
		/* The packet's side, as Suricata: a reply's source is the server. The flow's
		 * own orientation (its initiator first) is under "flow". */
		bool rev = a->direction == 2;
		const uint8_t *src = rev ? f->dst : f->src, *dst = rev ? f->src : f->dst;
		uint16_t sport = rev ? f->dport : f->sport, dport = rev ? f->sport : f->dport;

		jset(o, "src_ip", json_string(ctl_addr_str(f->family, src, buf, sizeof(buf))));
		if (a->has_flow || sport)
			jset(o, "src_port", json_integer(sport));
		if (memcmp(dst, (uint8_t[16]){ 0 }, 16) != 0)
			jset(o, "dest_ip",
					json_string(ctl_addr_str(
							f->family, dst, buf, sizeof(buf))));
		if (a->has_flow || dport)
			jset(o, "dest_port", json_integer(dport));
		if (a->direction != 0) {
			char fb[64];

			jset(o, "direction", json_string(rev ? "to_client" : "to_server"));
			jset(o, "flow",
					json_pack("{s:s, s:i, s:s, s:i}", "src_ip",
							ctl_addr_str(f->family, f->src, buf,
									sizeof(buf)),
							"src_port", f->sport, "dest_ip",
							ctl_addr_str(f->family, f->dst, fb,
									sizeof(fb)),
							"dest_port", f->dport));
		}
	}
	if (f->proto)
		jset(o, "proto", json_string(ctl_proto_name(f->proto, proto, sizeof(proto))));

	jset(al, "action", json_string(a->blocked ? "blocked" : "allowed"));
	jset(al, "gid", json_integer(a->gid));
	jset(al, "signature_id", json_integer(a->sid));
	jset(al, "rev", json_integer(a->rev));
	jset(al, "signature", json_string(a->signature));
	jset(al, "category", json_string(a->category));
	jset(al, "severity", json_integer(ctl_alert_eve_severity(a->severity)));
	json_object_set(o, "alert", al);
	/* As Suricata: the transaction's object under its protocol's name, then app_proto. */
	if (app != NULL)
		json_object_set(o, app_name, app);
	if (ctl_app_proto_name(f->app_proto) != NULL)
		jset(o, "app_proto", json_string(ctl_app_proto_name(f->app_proto)));
	else if (app != NULL)
		jset(o, "app_proto", json_string(app_name));

	jset(vg, "uid", json_integer((json_int_t)a->uid));
	jset(vg, "kind", json_string(ctl_alert_kind_name(a->kind)));
	jset(vg, "severity", json_string(ctl_severity_name(a->severity)));
	jset(vg, "detector", json_string(a->detector));
	jset(vg, "count", json_integer((json_int_t)a->count));
	ctl_time_iso(a->first_ns, buf, sizeof(buf));
	jset(vg, "first_seen", json_string(buf));
	ctl_time_iso(a->last_ns, buf, sizeof(buf));
	jset(vg, "last_seen", json_string(buf));
	if (a->kind == CTL_ALERT_ANOMALY) {
		jset(vg, "metric", json_string(a->metric));
		jset(vg, "observed", json_real(a->observed));
		jset(vg, "threshold", json_real(a->threshold));
		if (a->stddev > 0) {
			jset(vg, "baseline_mean", json_real(a->mean));
			jset(vg, "baseline_stddev", json_real(a->stddev));
			jset(vg, "sigma", json_real(a->sigma));
		}
		if (a->window_ns)
			jset(vg, "window_s", json_real((double)a->window_ns / 1e9));
	}
	if (a->has_flow) {
		jset(vg, "pkts_toserver", json_integer((json_int_t)f->pkts[0]));
		jset(vg, "pkts_toclient", json_integer((json_int_t)f->pkts[1]));
		jset(vg, "bytes_toserver", json_integer((json_int_t)f->bytes[0]));
		jset(vg, "bytes_toclient", json_integer((json_int_t)f->bytes[1]));
	}
	for (unsigned i = 0; i < a->n_facts && i < CTL_ALERT_MAX_FACTS; i++)
		jset(facts, a->facts[i].name, json_string(a->facts[i].value));
	json_object_set(vg, "facts", facts);
	jset(ex, "what", json_string(a->what));
	jset(ex, "why", json_string(a->why));
	jset(ex, "next", json_string(a->next));
	json_object_set(vg, "explanation", ex);
	/* Values the event had to cut to fit: a reader must not take them for the whole. */
	if (cut != NULL)
		json_object_set(vg, "app_cut", cut);
	json_object_set(o, "vigil", vg);
	json_decref(al);
	json_decref(vg);
	json_decref(ex);
	json_decref(facts);
	json_decref(app);
	json_decref(cut);
	return o;
fail:
	json_decref(o);
	json_decref(al);
	json_decref(vg);
	json_decref(ex);
	json_decref(facts);
	json_decref(app);
	json_decref(cut);
	return NULL;
}

char *
ctl_alert_eve_text(const struct ctl_alert *a, const char *in_iface, bool ascii)
{
	json_t *o = ctl_alert_to_json(a, in_iface);
	char *text = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER |
								 (ascii ? JSON_ENSURE_ASCII : 0))
			       : NULL;

	json_decref(o);
	return text;
}

/* Dedup ------------------------------------------------------------------------------------- */

struct dedup_key {
	uint8_t kind;
	uint8_t family;
	uint8_t proto;
	uint8_t pad;
	uint16_t dport;
	uint16_t pad2;
	uint32_t gid;
	uint32_t sid;
	uint8_t src[16];
	uint8_t dst[16];
};

struct dedup_val {
	uint64_t uid;
	uint64_t first_ns;
	uint64_t last_ns;
	uint64_t count;
};

struct ctl_alert_dedup {
	struct ctl_map *map;
	uint64_t window_ns;
	struct ctl_alert_dedup_counters c;
};

struct ctl_alert_dedup *
ctl_alert_dedup_create(uint64_t window_ms, uint32_t capacity)
{
	struct ctl_alert_dedup *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->window_ns = window_ms * 1000000ULL;
	d->map = ctl_map_create(
			"dedup", sizeof(struct dedup_key), sizeof(struct dedup_val), capacity);
	if (d->map == NULL) {
		int e = errno;

		free(d);
		errno = e;
		return NULL;
	}
	return d;
}

void
ctl_alert_dedup_free(struct ctl_alert_dedup *d)
{
	if (d == NULL)
		return;
	ctl_map_free(d->map);
	free(d);
}

/* 63 random bits, so that ids stay unique across restarts without asking the database. */
static uint64_t
new_uid(void)
{
	static uint64_t fallback;
	uint64_t v = 0;

	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v))
		v = ((uint64_t)time(NULL) << 24) ^ (uint64_t)getpid() << 8 ^ ++fallback;
	v &= INT64_MAX;
	return v ? v : 1;
}

enum ctl_dedup_result
ctl_alert_dedup_submit(struct ctl_alert_dedup *d, struct ctl_alert *a)
{
	struct dedup_key k;
	struct dedup_val *v;
	bool added;
	uint64_t n = a->count ? a->count : 1;

	memset(&k, 0, sizeof(k));
	k.kind = a->kind;
	k.family = a->flow.family;
	k.proto = a->flow.proto;
	k.dport = a->flow.dport;
	k.gid = a->gid;
	k.sid = a->sid;
	memcpy(k.src, a->flow.src, 16);
	memcpy(k.dst, a->flow.dst, 16);
	if (a->first_ns == 0 || a->first_ns > a->last_ns)
		a->first_ns = a->last_ns;

	v = ctl_map_get(d->map, &k, &added);
	if (v == NULL) {
		d->c.untracked++;
		a->uid = new_uid();
		a->count = n;
		ctl_alert_explain(a);
		return CTL_ALERT_NEW;
	}
	if (!added && a->last_ns >= v->first_ns && a->last_ns - v->first_ns < d->window_ns) {
		v->count += n;
		if (a->last_ns > v->last_ns)
			v->last_ns = a->last_ns;
		a->uid = v->uid;
		a->first_ns = v->first_ns;
		a->last_ns = v->last_ns;
		a->count = v->count;
		d->c.repeats++;
		ctl_alert_explain(a);
		return CTL_ALERT_REPEAT;
	}
	v->uid = new_uid();
	v->first_ns = a->first_ns;
	v->last_ns = a->last_ns;
	v->count = n;
	a->uid = v->uid;
	a->count = n;
	d->c.new_alerts++;
	ctl_alert_explain(a);
	return CTL_ALERT_NEW;
}

void
ctl_alert_dedup_expire(struct ctl_alert_dedup *d, uint64_t now_ns)
{
	struct dedup_key stale[256];
	unsigned n;

	/* Deleting while walking may skip entries, so collect a bounded batch and repeat. */
	do {
		uint32_t it = 0;
		const void *k;
		void *val;

		n = 0;
		while (n < 256 && ctl_map_next(d->map, &it, &k, &val)) {
			const struct dedup_val *v = val;

			if (now_ns > v->first_ns && now_ns - v->first_ns >= d->window_ns)
				memcpy(&stale[n++], k, sizeof(stale[0]));
		}
		for (unsigned i = 0; i < n; i++)
			ctl_map_del(d->map, &stale[i]);
	} while (n == 256);
}

void
ctl_alert_dedup_counters(const struct ctl_alert_dedup *d, struct ctl_alert_dedup_counters *c)
{
	*c = d->c;
	c->tracked = ctl_map_count(d->map);
}

/* EVE log ----------------------------------------------------------------------------------- */

struct eve_line {
	struct eve_line *next;
	size_t len;
	size_t off; /* bytes of it already written (a partial write) */
	bool failed;
	char data[];
};

/* The queue and counters are guarded by mu; fd and path belong to the writer thread. */
struct ctl_eve {
	char *path;
	int fd;
	pthread_mutex_t mu;
	pthread_cond_t wake;	/* the writer: a line queued, reopen, stop */
	pthread_cond_t changed; /* ctl_eve_sync(): the queue moved or a write failed */
	pthread_t thread;
	bool stop;
	bool reopen;
	struct eve_line *head, *tail;
	uint64_t fail_since_ms;
	struct ctl_eve_counters c;
};

static void
eve_reopen_now(struct ctl_eve *e)
{
	int fd = open(e->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);

	if (fd < 0) {
		CTL_LOG(WARNING, "eve: cannot reopen %s: %s; writing on to the old file", e->path,
				strerror(errno));
		return;
	}
	if (e->fd >= 0)
		close(e->fd);
	e->fd = fd;
}

static void *
eve_writer(void *arg)
{
	struct ctl_eve *e = arg;
	uint64_t delay = 100;

	pthread_mutex_lock(&e->mu);
	for (;;) {
		struct eve_line *l = e->head;
		ssize_t w;
		int err;

		if (e->reopen) {
			e->reopen = false;
			pthread_mutex_unlock(&e->mu);
			eve_reopen_now(e);
			pthread_mutex_lock(&e->mu);
			continue;
		}
		if (l == NULL) {
			if (e->stop)
				break;
			pthread_cond_wait(&e->wake, &e->mu);
			continue;
		}
		pthread_mutex_unlock(&e->mu);
		/* One write per line: with O_APPEND a reader never sees two alerts interleaved. */
		w = write(e->fd, l->data + l->off, l->len - l->off);
		err = w < 0 ? errno : ENOSPC; /* a short write: the file system is full */
		pthread_mutex_lock(&e->mu);
		if (w > 0)
			l->off += (size_t)w;
		if (l->off == l->len) {
			e->head = l->next;
			if (e->head == NULL)
				e->tail = NULL;
			e->c.queued--;
			e->c.queued_bytes -= l->len;
			e->c.written++;
			free(l);
			if (e->c.failing) {
				CTL_LOG(NOTICE,
						"eve: writing to %s again after %" PRIu64
						" ms; %" PRIu64 " lines failed at least once (all "
						"kept), %" PRIu64 " dropped in total",
						e->path, vg_mono_ms() - e->fail_since_ms,
						e->c.failed, e->c.dropped);
				e->c.failing = false;
			}
			delay = 100;
			pthread_cond_broadcast(&e->changed);
			continue;
		}
		if (w > 0)
			continue; /* the rest of the line at once: the next write says why */
		if (!l->failed) {
			l->failed = true;
			e->c.failed++;
		}
		e->c.last_errno = err;
		if (!e->c.failing) {
			e->c.failing = true;
			e->c.episodes++;
			e->fail_since_ms = vg_mono_ms();
			CTL_LOG(WARNING,
					"eve: cannot write to %s (%s); alert lines are kept in memory "
					"and retried (at most %u lines, %u bytes; beyond that the "
					"newest are dropped and counted); not logged again until "
					"writing works",
					e->path, strerror(err), CTL_EVE_QUEUE_LINES,
					CTL_EVE_QUEUE_BYTES);
		}
		pthread_cond_broadcast(&e->changed);
		if (e->stop)
			break; /* closing: the lines left are reported by ctl_eve_close() */
		struct timespec ts;

		vg_mono_deadline(&ts, delay);
		delay = delay * 2 > 2000 ? 2000 : delay * 2;
		while (!e->stop && !e->reopen && pthread_cond_timedwait(&e->wake, &e->mu, &ts) == 0)
			;
	}
	pthread_mutex_unlock(&e->mu);
	return NULL;
}

struct ctl_eve *
ctl_eve_open(const char *path)
{
	struct ctl_eve *e = calloc(1, sizeof(*e));
	pthread_condattr_t ca;
	int err;

	if (e == NULL)
		return NULL;
	e->path = strdup(path);
	if (e->path == NULL) {
		free(e);
		errno = ENOMEM;
		return NULL;
	}
	e->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (e->fd < 0) {
		err = errno;
		free(e->path);
		free(e);
		errno = err;
		return NULL;
	}
	pthread_mutex_init(&e->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->wake, &ca);
	pthread_cond_init(&e->changed, &ca);
	pthread_condattr_destroy(&ca);
	err = pthread_create(&e->thread, NULL, eve_writer, e);
	if (err != 0) {
		close(e->fd);
		pthread_cond_destroy(&e->wake);
		pthread_cond_destroy(&e->changed);
		pthread_mutex_destroy(&e->mu);
		free(e->path);
		free(e);
		errno = err;
		return NULL;
	}
	return e;
}

void
ctl_eve_close(struct ctl_eve *e)
{
	struct timespec ts;
	uint32_t left;

	if (e == NULL)
		return;
	(void)ctl_eve_sync(e, 3000);
	pthread_mutex_lock(&e->mu);
	e->stop = true;
	pthread_cond_broadcast(&e->wake);
	pthread_mutex_unlock(&e->mu);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 2;
	if (pthread_timedjoin_np(e->thread, NULL, &ts) != 0) {
		/* Stuck in write() on a frozen file system: leave the thread and its memory. */
		CTL_LOG(ERR, "eve: the writer is stuck writing to %s; %u lines not written",
				e->path, e->c.queued);
		pthread_detach(e->thread);
		return;
	}
	left = e->c.queued;
	if (left > 0)
		CTL_LOG(ERR, "eve: closing %s with %u alert lines not written (%s)", e->path, left,
				strerror(e->c.last_errno));
	while (e->head != NULL) {
		struct eve_line *l = e->head;

		e->head = l->next;
		free(l);
	}
	if (e->fd >= 0)
		close(e->fd);
	pthread_cond_destroy(&e->wake);
	pthread_cond_destroy(&e->changed);
	pthread_mutex_destroy(&e->mu);
	free(e->path);
	free(e);
}

int
ctl_eve_write(struct ctl_eve *e, const struct ctl_alert *a, const char *in_iface)
{
	json_t *o = ctl_alert_to_json(a, in_iface);
	struct eve_line *l;
	char *text;
	size_t len;

	text = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	len = text != NULL ? strlen(text) : 0;
	l = text != NULL ? malloc(sizeof(*l) + len + 1) : NULL;
	if (l == NULL) {
		free(text);
		pthread_mutex_lock(&e->mu);
		e->c.dropped++;
		pthread_mutex_unlock(&e->mu);
		return -ENOMEM;
	}
	memcpy(l->data, text, len);
	l->data[len] = '\n';
	l->len = len + 1;
	l->off = 0;
	l->failed = false;
	l->next = NULL;
	free(text);
	pthread_mutex_lock(&e->mu);
	if (e->c.queued >= CTL_EVE_QUEUE_LINES ||
			e->c.queued_bytes + l->len > CTL_EVE_QUEUE_BYTES) {
		e->c.dropped++;
		pthread_mutex_unlock(&e->mu);
		free(l);
		return -ENOBUFS;
	}
	if (e->tail != NULL)
		e->tail->next = l;
	else
		e->head = l;
	e->tail = l;
	e->c.queued++;
	e->c.queued_bytes += l->len;
	pthread_cond_signal(&e->wake);
	pthread_mutex_unlock(&e->mu);
	return 0;
}

int
ctl_eve_reopen(struct ctl_eve *e)
{
	pthread_mutex_lock(&e->mu);
	e->reopen = true;
	pthread_cond_signal(&e->wake);
	pthread_mutex_unlock(&e->mu);
	return 0;
}

int
ctl_eve_sync(struct ctl_eve *e, unsigned timeout_ms)
{
	struct timespec ts;
	int rc = 0;

	vg_mono_deadline(&ts, timeout_ms);
	pthread_mutex_lock(&e->mu);
	while (e->head != NULL && !e->c.failing &&
			pthread_cond_timedwait(&e->changed, &e->mu, &ts) == 0)
		;
	if (e->head != NULL)
		rc = e->c.failing ? -EIO : -ETIMEDOUT;
	pthread_mutex_unlock(&e->mu);
	return rc;
}

static const struct vg_ctr eve_rows[] = {
	VG_CTR(struct ctl_eve_counters, written, "written", COUNTER, "lines",
			.prom = "vigil_eve_lines_written_total",
			.help = "EVE alert lines written."),
	VG_CTR(struct ctl_eve_counters, failed, "failed", COUNTER, "lines",
			.prom = "vigil_eve_lines_failed_total",
			.help = "EVE lines whose write failed at least once (kept and retried)."),
	VG_CTR(struct ctl_eve_counters, dropped, "dropped", COUNTER, "lines",
			.prom = "vigil_eve_lines_dropped_total",
			.help = "EVE lines dropped: the queue was full."),
	VG_CTR(struct ctl_eve_counters, episodes, "episodes", COUNTER, "episodes",
			.prom = "vigil_eve_failure_episodes_total",
			.help = "EVE log failure episodes (first failed write to next success)."),
	VG_CTR(struct ctl_eve_counters, queued_bytes, "queued_bytes", GAUGE, "bytes",
			.prom = "vigil_eve_queued_bytes",
			.help = "Bytes of the EVE lines waiting to be written."),
};
const struct vg_ctr_set ctl_eve_ctr_set =
		VG_CTR_SET_TO("eve", struct ctl_eve_counters, eve_rows, queued);

void
ctl_eve_counters(const struct ctl_eve *e, struct ctl_eve_counters *c)
{
	struct ctl_eve *m = (struct ctl_eve *)e; /* the mutex, not the log, changes */

	pthread_mutex_lock(&m->mu);
	*c = m->c;
	pthread_mutex_unlock(&m->mu);
}

/* Options ----------------------------------------------------------------------------------- */

void
ctl_alert_opts_defaults(struct ctl_alert_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->dedup_window_ms = 60000;
	o->dedup_capacity = 65536;
	o->webhook.timeout_ms = 2000;
	o->webhook.queue_len = 1024;
	ctl_eve_out_opts_defaults(&o->eve_syslog, CTL_EVE_OUT_SYSLOG);
	ctl_eve_out_opts_defaults(&o->eve_socket, CTL_EVE_OUT_LINES);
}

static int
parse_url(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct ctl_webhook_opts *w = obj;
	const char *s = vg_yaml_scalar(y, v, key);

	if (s == NULL)
		return -EINVAL;
	if (s[0] != '\0' && strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0) {
		vg_yaml_err(y, v, "'%s': '%s' is not an http:// or https:// URL", key, s);
		return -EINVAL;
	}
	if (strlen(s) >= sizeof(w->url)) {
		vg_yaml_err(y, v, "'%s': the URL is longer than %zu characters", key,
				sizeof(w->url) - 1);
		return -EINVAL;
	}
	snprintf(w->url, sizeof(w->url), "%s", s);
	return 0;
}

static const struct vg_yaml_field webhook_fields[] = {
	{ .name = "url", .type = VG_YT_CUSTOM, .parse = parse_url },
	{ .name = "timeout",
			.type = VG_YT_MS,
			.off = offsetof(struct ctl_webhook_opts, timeout_ms),
			.min = 10,
			.max = 60000 },
	{ .name = "queue",
			.type = VG_YT_U32,
			.off = offsetof(struct ctl_webhook_opts, queue_len),
			.min = 1,
			.max = 1 << 20 },
	{ 0 },
};

static int
parse_webhook(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct ctl_alert_opts *o = obj;

	if (!vg_yaml_expect_map(y, v, key))
		return -EINVAL;
	return vg_yaml_map(y, v, "alerts.webhook", webhook_fields, &o->webhook);
}

static int
parse_facility(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct ctl_eve_out_opts *o = obj;
	const char *s = vg_yaml_scalar(y, v, key);
	int f;

	if (s == NULL)
		return -EINVAL;
	f = ctl_syslog_facility(s);
	if (f < 0) {
		vg_yaml_err(y, v,
				"'%s': '%s' is not a syslog facility (kern, user, mail, daemon, auth, "
				"syslog, lpr, news, uucp, cron, authpriv, ftp, local0 .. local7)",
				key, s);
		return -EINVAL;
	}
	o->facility = (uint32_t)f;
	return 0;
}

static int
parse_app_name(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct ctl_eve_out_opts *o = obj;
	const char *s = vg_yaml_scalar(y, v, key);

	if (s == NULL)
		return -EINVAL;
	if (s[0] == '\0' || strlen(s) >= sizeof(o->app_name)) {
		vg_yaml_err(y, v, "'%s': '%s' must be 1 to %zu characters", key, s,
				sizeof(o->app_name) - 1);
		return -EINVAL;
	}
	for (const char *p = s; *p != '\0'; p++)
		if (*p <= 32 || *p >= 127) {
			vg_yaml_err(y, v,
					"'%s': '%s' may hold printable ASCII only, no spaces "
					"(RFC 5424 APP-NAME)",
					key, s);
			return -EINVAL;
		}
	snprintf(o->app_name, sizeof(o->app_name), "%s", s);
	return 0;
}

static int
parse_out_address(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct ctl_eve_out_opts *o = obj;
	const char *s = vg_yaml_scalar(y, v, key);

	if (s == NULL)
		return -EINVAL;
	if (s[0] == '\0' || strlen(s) >= sizeof(o->address)) {
		vg_yaml_err(y, v, "'%s': '%s' must be 1 to %zu characters", key, s,
				sizeof(o->address) - 1);
		return -EINVAL;
	}
	snprintf(o->address, sizeof(o->address), "%s", s);
	return 0;
}

static const char *const transport_names[] = { "udp", "tcp", "unix", NULL };

static const struct vg_yaml_field eve_syslog_fields[] = {
	{ .name = "transport",
			.type = VG_YT_ENUM,
			.off = offsetof(struct ctl_eve_out_opts, transport),
			.names = transport_names },
	{ .name = "address", .type = VG_YT_CUSTOM, .parse = parse_out_address, .required = true },
	{ .name = "facility", .type = VG_YT_CUSTOM, .parse = parse_facility },
	{ .name = "app_name", .type = VG_YT_CUSTOM, .parse = parse_app_name },
	{ .name = "queue",
			.type = VG_YT_U32,
			.off = offsetof(struct ctl_eve_out_opts, queue_len),
			.min = 1,
			.max = 1 << 20 },
	{ 0 },
};

static const struct vg_yaml_field eve_socket_fields[] = {
	{ .name = "path", .type = VG_YT_CUSTOM, .parse = parse_out_address, .required = true },
	{ .name = "queue",
			.type = VG_YT_U32,
			.off = offsetof(struct ctl_eve_out_opts, queue_len),
			.min = 1,
			.max = 1 << 20 },
	{ 0 },
};

/* The address against the transport, once both are known (either order in the mapping). */
static int
check_out(struct vg_yaml *y, yaml_node_t *v, const char *what, struct ctl_eve_out_opts *o)
{
	char why[256];

	if (ctl_eve_out_check_address(o->transport, o->address, why, sizeof(why)) != 0) {
		vg_yaml_err(y, v, "%s: %s", what, why);
		o->address[0] = '\0';
		return -EINVAL;
	}
	return 0;
}

static int
parse_eve_syslog(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct ctl_alert_opts *o = obj;

	if (!vg_yaml_expect_map(y, v, key))
		return -EINVAL;
	if (vg_yaml_map(y, v, "alerts.eve_syslog", eve_syslog_fields, &o->eve_syslog) != 0) {
		o->eve_syslog.address[0] = '\0';
		return -EINVAL;
	}
	return check_out(y, v, "alerts.eve_syslog", &o->eve_syslog);
}

static int
parse_eve_socket(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct ctl_alert_opts *o = obj;

	if (v->type == YAML_SCALAR_NODE) {
		if (parse_out_address(y, v, key, &o->eve_socket) != 0)
			return -EINVAL;
	} else if (!vg_yaml_expect_map(y, v, key) ||
			vg_yaml_map(y, v, "alerts.eve_socket", eve_socket_fields, &o->eve_socket) !=
					0) {
		o->eve_socket.address[0] = '\0';
		return -EINVAL;
	}
	return check_out(y, v, "alerts.eve_socket", &o->eve_socket);
}

const struct vg_yaml_field ctl_alert_yaml_fields[] = {
	{ .name = "dedup_window",
			.type = VG_YT_MS,
			.off = offsetof(struct ctl_alert_opts, dedup_window_ms),
			.min = 1000,
			.max = 24 * 3600 * 1000 },
	{ .name = "dedup_capacity",
			.type = VG_YT_SIZE32,
			.off = offsetof(struct ctl_alert_opts, dedup_capacity),
			.min = 64,
			.max = 1 << 24 },
	{ .name = "eve_log",
			.type = VG_YT_STRBUF,
			.off = offsetof(struct ctl_alert_opts, eve_log),
			.max = 256 },
	{ .name = "eve_syslog", .type = VG_YT_CUSTOM, .parse = parse_eve_syslog },
	{ .name = "eve_socket", .type = VG_YT_CUSTOM, .parse = parse_eve_socket },
	{ .name = "webhook", .type = VG_YT_CUSTOM, .parse = parse_webhook },
	{ 0 },
};

int
ctl_alert_yaml_parse(struct vg_yaml *y, yaml_node_t *n, struct ctl_alert_opts *o)
{
	if (!vg_yaml_expect_map(y, n, "alerts"))
		return -EINVAL;
	return vg_yaml_map(y, n, "alerts", ctl_alert_yaml_fields, o);
}
