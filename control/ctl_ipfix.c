/* SPDX-License-Identifier: BSD-3-Clause */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <fixbuf/public.h>

#include "ctl_alert_app.h"
#include "ctl_eve_out.h"
#include "ctl_ipfix.h"
#include "ctl_map.h"
#include "dp_event.h"
#include "vg_config.h"
#include "vg_ctr.h"
#include "vg_log.h"
#include "vg_time.h"

#define TID_V4	       256
#define TID_V6	       257
#define MTU_UDP	       1400 /* fits an Ethernet path without fragments, with IPv6 */
#define MTU_TCP	       8192
#define BATCH	       64
#define RETRY_MIN_MS   100
#define RETRY_MAX_MS   2000
#define TRACK_CAPACITY 65536 /* flows with an update exported, awaiting their end */

/* flowEndReason (IANA IPFIX registry). */
enum {
	END_IDLE = 1,
	END_ACTIVE = 2,
	END_EOF = 3,
	END_FORCED = 4,
	END_RESOURCES = 5,
};

/*
 * Vigil's own elements. Numbers are Vigil's under CTL_IPFIX_PEN; vigilVerdict takes enum
 * dp_verdict's values (1 allow, 2 drop, 3 reject, 4 rate-limit), vigilRuleId the flow events'
 * rule_id (4294967295: the policy's default), vigilAppProtocol the protocol's name ("dns", ...).
 */
static fbInfoElement_t vigil_ies[] = {
	FB_IE_INIT_FULL("vigilVerdict", CTL_IPFIX_PEN, 1, 1, FB_IE_IDENTIFIER, 0, 0, FB_UINT_8,
			"Vigil's verdict on the flow: 1 allow, 2 drop, 3 reject, 4 rate-limit"),
	FB_IE_INIT_FULL("vigilRuleId", CTL_IPFIX_PEN, 2, 4, FB_IE_IDENTIFIER | FB_IE_F_ENDIAN, 0, 0,
			FB_UINT_32, "Vigil policy rule that decided (4294967295: the default)"),
	FB_IE_INIT_FULL("vigilAppProtocol", CTL_IPFIX_PEN, 3, FB_IE_VARLEN, FB_IE_DEFAULT, 0, 0,
			FB_STRING, "Application protocol Vigil detected (empty: none)"),
	FB_IE_NULL,
};

/* Records as fixbuf reads them: fields in template order, no padding (asserted below). */
struct rec4 {
	fbVarfield_t app;
	uint64_t start_ms, end_ms, octets, packets, rev_octets, rev_packets;
	uint32_t src, dst, in_if, out_if, rule;
	uint16_t sport, dport, vlan;
	uint8_t proto, flags, rev_flags, end_reason, verdict, biflow_dir;
};

struct rec6 {
	fbVarfield_t app;
	uint64_t start_ms, end_ms, octets, packets, rev_octets, rev_packets;
	uint8_t src[16], dst[16];
	uint32_t in_if, out_if, rule;
	uint16_t sport, dport, vlan;
	uint8_t proto, flags, rev_flags, end_reason, verdict, biflow_dir;
};

_Static_assert(sizeof(struct rec4) == sizeof(fbVarfield_t) + 6 * 8 + 5 * 4 + 3 * 2 + 6,
		"struct rec4 has no padding");
_Static_assert(sizeof(struct rec6) == sizeof(fbVarfield_t) + 6 * 8 + 32 + 3 * 4 + 3 * 2 + 6,
		"struct rec6 has no padding");

/* The templates: the records' fields, in order. */
static fbInfoElementSpec_t spec4[] = {
	{ "vigilAppProtocol", FB_IE_VARLEN, 0 },
	{ "flowStartMilliseconds", 8, 0 },
	{ "flowEndMilliseconds", 8, 0 },
	{ "octetDeltaCount", 8, 0 },
	{ "packetDeltaCount", 8, 0 },
	{ "reverseOctetDeltaCount", 8, 0 },
	{ "reversePacketDeltaCount", 8, 0 },
	{ "sourceIPv4Address", 4, 0 },
	{ "destinationIPv4Address", 4, 0 },
	{ "ingressInterface", 4, 0 },
	{ "egressInterface", 4, 0 },
	{ "vigilRuleId", 4, 0 },
	{ "sourceTransportPort", 2, 0 },
	{ "destinationTransportPort", 2, 0 },
	{ "vlanId", 2, 0 },
	{ "protocolIdentifier", 1, 0 },
	{ "tcpControlBits", 1, 0 },
	{ "reverseTcpControlBits", 1, 0 },
	{ "flowEndReason", 1, 0 },
	{ "vigilVerdict", 1, 0 },
	{ "biflowDirection", 1, 0 },
	FB_IESPEC_NULL,
};

static fbInfoElementSpec_t spec6[] = {
	{ "vigilAppProtocol", FB_IE_VARLEN, 0 },
	{ "flowStartMilliseconds", 8, 0 },
	{ "flowEndMilliseconds", 8, 0 },
	{ "octetDeltaCount", 8, 0 },
	{ "packetDeltaCount", 8, 0 },
	{ "reverseOctetDeltaCount", 8, 0 },
	{ "reversePacketDeltaCount", 8, 0 },
	{ "sourceIPv6Address", 16, 0 },
	{ "destinationIPv6Address", 16, 0 },
	{ "ingressInterface", 4, 0 },
	{ "egressInterface", 4, 0 },
	{ "vigilRuleId", 4, 0 },
	{ "sourceTransportPort", 2, 0 },
	{ "destinationTransportPort", 2, 0 },
	{ "vlanId", 2, 0 },
	{ "protocolIdentifier", 1, 0 },
	{ "tcpControlBits", 1, 0 },
	{ "reverseTcpControlBits", 1, 0 },
	{ "flowEndReason", 1, 0 },
	{ "vigilVerdict", 1, 0 },
	{ "biflowDirection", 1, 0 },
	FB_IESPEC_NULL,
};

struct rec {
	uint8_t family; /* 4 or 6 */
	union {
		struct rec4 v4;
		struct rec6 v6;
	};
};

struct track_key {
	uint32_t flow_id;
	uint8_t worker;
	uint8_t pad[3];
};

struct track_val {
	uint64_t pkts[2];
	uint64_t bytes[2];
	uint64_t sent_ns; /* event time of the flow's last record */
};

/*
 * The queue and counters are guarded by mu; the fixbuf state, the socket and the message
 * buffer belong to the sender thread; track to the control lcore.
 */
struct ctl_ipfix {
	struct ctl_ipfix_opts o;
	uint32_t egress[VG_MAX_PORTS]; /* ifIndex of each port's peer; 0: none */
	unsigned n_ports;
	struct ctl_map *track;

	pthread_mutex_t mu;
	pthread_cond_t wake;
	pthread_cond_t changed;
	pthread_t thread;
	bool stop;
	struct rec *q;
	uint32_t head;
	uint32_t inflight; /* records taken off the queue, their message not sent yet */
	struct ctl_ipfix_counters c;
	uint64_t fail_since_ms;

	fbInfoModel_t *model;
	fBuf_t *fbuf; /* owns the session and the exporter */
	fbExporter_t *exporter;
	uint16_t cur_tid;
	unsigned in_msg; /* records in the message being built */
	bool tmpl_in_msg;
	int fd;
	uint64_t next_refresh_ms;
	uint8_t msg[MTU_TCP];
};

void
ctl_ipfix_opts_defaults(struct ctl_ipfix_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->transport = CTL_IPFIX_UDP;
	o->template_refresh_ms = 60000;
	o->active_timeout_ms = 60000;
	o->queue_len = 65536;
}

/* Configuration --------------------------------------------------------------------------- */

static int
parse_collector(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct ctl_ipfix_opts *o = obj;
	const char *s = vg_yaml_scalar(y, v, key);
	char why[256];

	if (s == NULL)
		return -EINVAL;
	if (strlen(s) >= sizeof(o->collector)) {
		vg_yaml_err(y, v, "export.ipfix.collector: '%s' is longer than %zu characters", s,
				sizeof(o->collector) - 1);
		return -EINVAL;
	}
	if (ctl_eve_out_check_address(CTL_EVE_OUT_UDP, s, why, sizeof(why)) != 0) {
		vg_yaml_err(y, v, "export.ipfix.collector: %s", why);
		return -EINVAL;
	}
	snprintf(o->collector, sizeof(o->collector), "%s", s);
	return 0;
}

static const char *const transport_names[] = { "udp", "tcp", NULL };

static int
parse_transport(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct ctl_ipfix_opts *o = obj;
	const char *s = vg_yaml_scalar(y, v, key);

	if (s == NULL)
		return -EINVAL;
	for (int i = 0; transport_names[i] != NULL; i++)
		if (strcmp(s, transport_names[i]) == 0) {
			o->transport = i;
			return 0;
		}
	vg_yaml_err(y, v, "export.ipfix.transport: '%s' is not one of udp, tcp", s);
	return -EINVAL;
}

static const struct vg_yaml_field ipfix_fields[] = {
	{ .name = "collector", .type = VG_YT_CUSTOM, .parse = parse_collector, .required = true },
	{ .name = "transport", .type = VG_YT_CUSTOM, .parse = parse_transport },
	{ .name = "template_refresh",
			.type = VG_YT_MS,
			.off = offsetof(struct ctl_ipfix_opts, template_refresh_ms),
			.min = 1000,
			.max = 86400000 },
	{ .name = "active_timeout",
			.type = VG_YT_MS,
			.off = offsetof(struct ctl_ipfix_opts, active_timeout_ms),
			.min = 1000,
			.max = 86400000 },
	{ .name = "observation_domain",
			.type = VG_YT_U32,
			.off = offsetof(struct ctl_ipfix_opts, observation_domain),
			.max = UINT32_MAX },
	{ .name = "queue",
			.type = VG_YT_U32,
			.off = offsetof(struct ctl_ipfix_opts, queue_len),
			.min = 1,
			.max = 1 << 22 },
	{ 0 },
};

static int
parse_ipfix(struct vg_yaml *y, yaml_node_t *v, const char *key, void *obj)
{
	struct ctl_ipfix_opts *o = obj;

	if (!vg_yaml_expect_map(y, v, key))
		return -EINVAL;
	if (vg_yaml_map(y, v, "export.ipfix", ipfix_fields, o) != 0) {
		o->collector[0] = '\0';
		return -EINVAL;
	}
	return 0;
}

static const struct vg_yaml_field export_fields[] = {
	{ .name = "ipfix", .type = VG_YT_CUSTOM, .parse = parse_ipfix },
	{ 0 },
};

int
ctl_ipfix_parse(struct vg_yaml *y, yaml_node_t *n, void *obj)
{
	if (!vg_yaml_expect_map(y, n, "export"))
		return -EINVAL;
	return vg_yaml_map(y, n, "export", export_fields, obj);
}

/* Sender thread ---------------------------------------------------------------------------- */

static bool
is_tcp(const struct ctl_ipfix *x)
{
	return x->o.transport == CTL_IPFIX_TCP;
}

static bool
stopping(struct ctl_ipfix *x)
{
	return __atomic_load_n(&x->stop, __ATOMIC_RELAXED);
}

/* A socket connected to the collector, or -errno. */
static int
open_socket(struct ctl_ipfix *x)
{
	int type = is_tcp(x) ? SOCK_STREAM : SOCK_DGRAM;

	return ctl_connect_host_port(x->o.collector, type);
}

/* Under mu. */
static void
sender_failed(struct ctl_ipfix *x, int err, const char *what)
{
	x->c.errors++;
	x->c.last_errno = err;
	if (!x->c.failing) {
		x->c.failing = true;
		x->fail_since_ms = vg_mono_ms();
		/* A failed send loses its message; a failed connect keeps the queue. */
		CTL_LOG(WARNING,
				"ipfix: cannot %s %s over %s (%s); %srecords are queued (at most "
				"%u; beyond that the newest are dropped and counted); not logged "
				"again until sending works",
				what, x->o.collector, is_tcp(x) ? "tcp" : "udp", strerror(err),
				strcmp(what, "send to") == 0
						? "the message's records are lost and counted; new "
						: "",
				x->o.queue_len);
	}
	pthread_cond_broadcast(&x->changed);
}

/* Under mu. */
static void
sender_ok(struct ctl_ipfix *x)
{
	if (x->c.failing) {
		CTL_LOG(NOTICE,
				"ipfix: sending to %s again after %" PRIu64 " ms; %" PRIu64
				" records lost in total",
				x->o.collector, vg_mono_ms() - x->fail_since_ms, x->c.records_lost);
		x->c.failing = false;
	}
}

/* Send one whole message. Returns 0 or -errno. Sender thread, without mu. */
static int
send_msg(struct ctl_ipfix *x, const uint8_t *p, size_t len)
{
	size_t off = 0;

	if (!is_tcp(x)) {
		ssize_t n = send(x->fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		return n == (ssize_t)len ? 0 : n < 0 ? -errno : -EMSGSIZE;
	}
	while (off < len) {
		ssize_t n = send(x->fd, p + off, len - off, MSG_NOSIGNAL);

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		/* A collector that does not read: wait for it, unless vigild is stopping. */
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !stopping(x))
			continue;
		return n < 0 ? -errno : -EPIPE;
	}
	return 0;
}

static void
close_socket(struct ctl_ipfix *x)
{
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	pthread_mutex_lock(&x->mu);
	x->c.connected = false;
	pthread_mutex_unlock(&x->mu);
}

/* Emit the message being built and send it. Sender thread. */
static void
flush_msg(struct ctl_ipfix *x)
{
	GError *err = NULL;
	unsigned n = x->in_msg;
	bool ok;
	int rc;

	if (n == 0 && !x->tmpl_in_msg)
		return;
	x->in_msg = 0;
	x->tmpl_in_msg = false;
	x->cur_tid = 0;
	ok = fBufEmit(x->fbuf, &err);
	if (!ok) {
		CTL_LOG(ERR, "ipfix: cannot encode a message: %s", err->message);
		g_clear_error(&err);
		rc = -EPROTO;
	} else {
		rc = x->fd >= 0 ? send_msg(x, x->msg, fbExporterGetMsgLen(x->exporter)) : -ENOTCONN;
	}
	fBufSetExportTime(x->fbuf, (uint32_t)time(NULL));
	pthread_mutex_lock(&x->mu);
	if (rc == 0) {
		x->c.records_sent += n;
		x->c.messages_sent++;
		sender_ok(x);
	} else {
		x->c.records_lost += n;
		x->c.lost_send += n;
		sender_failed(x, -rc, "send to");
	}
	pthread_mutex_unlock(&x->mu);
	/* A stream cut mid-message: a new connection, with the templates again. */
	if (rc != 0 && is_tcp(x))
		close_socket(x);
}

/* Put the templates in the message (a new connection, or the refresh time). Sender thread. */
static void
export_templates(struct ctl_ipfix *x)
{
	GError *err = NULL;
	gboolean ok;

	flush_msg(x);
	/* In manual mode fixbuf refuses templates until a message is started; the buffer is
	 * empty here, so automatic mode starts one and emits nothing. */
	fBufSetAutomaticMode(x->fbuf, TRUE);
	ok = fbSessionExportTemplates(fBufGetSession(x->fbuf), &err);
	fBufSetAutomaticMode(x->fbuf, FALSE);
	if (!ok) {
		CTL_LOG(ERR, "ipfix: cannot encode the templates: %s", err->message);
		g_clear_error(&err);
		return;
	}
	x->tmpl_in_msg = true;
	x->cur_tid = 0; /* fixbuf starts a new set after the template set */
	x->next_refresh_ms = vg_mono_ms() + x->o.template_refresh_ms;
	pthread_mutex_lock(&x->mu);
	x->c.templates_sent++;
	pthread_mutex_unlock(&x->mu);
}

static bool
set_template(struct ctl_ipfix *x, uint16_t tid)
{
	GError *err = NULL;

	if (tid == x->cur_tid)
		return true;
	if (!fBufSetInternalTemplate(x->fbuf, tid, &err) ||
			!fBufSetExportTemplate(x->fbuf, tid, &err)) {
		CTL_LOG(ERR, "ipfix: template %u: %s", tid, err->message);
		g_clear_error(&err);
		return false;
	}
	x->cur_tid = tid;
	return true;
}

/* Append one record, sending the message first when it is full. Sender thread. */
static void
append_rec(struct ctl_ipfix *x, struct rec *r)
{
	uint16_t tid = r->family == 6 ? TID_V6 : TID_V4;
	uint8_t *base = r->family == 6 ? (uint8_t *)&r->v6 : (uint8_t *)&r->v4;
	size_t len = r->family == 6 ? sizeof(r->v6) : sizeof(r->v4);
	GError *err = NULL;

	for (int attempt = 0; attempt < 2; attempt++) {
		if (!set_template(x, tid))
			break;
		if (fBufAppend(x->fbuf, base, len, &err)) {
			x->in_msg++;
			return;
		}
		if (!g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOM) || attempt == 1) {
			CTL_LOG(ERR, "ipfix: cannot encode a record: %s", err->message);
			g_clear_error(&err);
			break;
		}
		g_clear_error(&err);
		flush_msg(x); /* the message is full: send it, start the next */
		/* The connection broke: this record is lost with the message. */
		if (is_tcp(x) && x->fd < 0)
			break;
	}
	pthread_mutex_lock(&x->mu);
	x->c.records_lost++;
	x->c.lost_send++;
	pthread_mutex_unlock(&x->mu);
}

/* A collector that closed its end: recv() sees the end before a send would be lost. */
static bool
peer_closed(int fd)
{
	char b;
	ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* Open the socket if there is none. Returns 0, or -errno after counting the failure. */
static int
ensure_socket(struct ctl_ipfix *x)
{
	int fd;

	if (x->fd >= 0 && is_tcp(x) && peer_closed(x->fd))
		close_socket(x);
	if (x->fd >= 0)
		return 0;
	fd = open_socket(x);
	pthread_mutex_lock(&x->mu);
	if (fd < 0) {
		sender_failed(x, -fd, "connect to");
		pthread_mutex_unlock(&x->mu);
		return fd;
	}
	x->fd = fd;
	x->c.connected = true;
	x->c.connects++;
	if (x->c.connects > 1)
		x->c.reconnects++;
	pthread_mutex_unlock(&x->mu);
	export_templates(x); /* a new transport session: templates before any data */
	return 0;
}

static void *
sender(void *arg)
{
	struct ctl_ipfix *x = arg;
	struct rec batch[BATCH];
	uint64_t delay = RETRY_MIN_MS, retry_at = 0, stop_by = 0;
	sigset_t pipe;

	/* A reset TCP connection: send() says EPIPE (MSG_NOSIGNAL); nothing to deliver here. */
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, NULL);

	pthread_mutex_lock(&x->mu);
	for (;;) {
		unsigned n;

		if (x->stop && stop_by == 0)
			stop_by = vg_mono_ms() + 2000;
		if (x->stop && (x->c.queued == 0 || vg_mono_ms() >= stop_by))
			break;
		if (x->c.queued == 0) {
			pthread_cond_wait(&x->wake, &x->mu);
			continue;
		}
		if (x->fd < 0 && vg_mono_ms() < retry_at) {
			struct timespec ts;

			/* Stopping and the collector is away: the rest is counted lost. */
			if (x->stop)
				break;
			vg_mono_deadline(&ts, retry_at - vg_mono_ms());
			while (!x->stop && pthread_cond_timedwait(&x->wake, &x->mu, &ts) == 0)
				;
			continue;
		}
		pthread_mutex_unlock(&x->mu);
		if (ensure_socket(x) != 0) {
			retry_at = vg_mono_ms() + delay;
			delay = delay * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : delay * 2;
			pthread_mutex_lock(&x->mu);
			continue;
		}
		delay = RETRY_MIN_MS;
		if (!is_tcp(x) && vg_mono_ms() >= x->next_refresh_ms)
			export_templates(x);
		pthread_mutex_lock(&x->mu);
		n = x->c.queued < BATCH ? x->c.queued : BATCH;
		for (unsigned i = 0; i < n; i++)
			batch[i] = x->q[(x->head + i) % x->o.queue_len];
		x->head = (x->head + n) % x->o.queue_len;
		x->c.queued -= n;
		x->inflight = n;
		pthread_mutex_unlock(&x->mu);
		for (unsigned i = 0; i < n; i++)
			append_rec(x, &batch[i]);
		flush_msg(x);
		pthread_mutex_lock(&x->mu);
		x->inflight = 0;
		pthread_cond_broadcast(&x->changed);
	}
	/* What could not be sent is lost, and counted. */
	x->c.records_lost += x->c.queued;
	x->c.lost_send += x->c.queued;
	x->c.queued = 0;
	pthread_cond_broadcast(&x->changed);
	pthread_mutex_unlock(&x->mu);
	return NULL;
}

/* Open / close --------------------------------------------------------------------------- */

static fbTemplate_t *
make_template(fbInfoModel_t *model, fbInfoElementSpec_t *spec)
{
	fbTemplate_t *t = fbTemplateAlloc(model);
	GError *err = NULL;

	if (!fbTemplateAppendSpecArray(t, spec, UINT32_MAX, &err)) {
		CTL_LOG(ERR, "ipfix: template: %s", err->message);
		g_clear_error(&err);
		fbTemplateFreeUnused(t);
		return NULL;
	}
	return t;
}

static int
build_fixbuf(struct ctl_ipfix *x)
{
	fbTemplate_t *t4, *t6;
	fbSession_t *session;
	GError *err = NULL;

	x->model = fbInfoModelAlloc();
	fbInfoModelAddElementArray(x->model, vigil_ies);
	t4 = make_template(x->model, spec4);
	t6 = make_template(x->model, spec6);
	if (t4 == NULL || t6 == NULL) {
		if (t4 != NULL)
			fbTemplateFreeUnused(t4);
		if (t6 != NULL)
			fbTemplateFreeUnused(t6);
		return -EINVAL;
	}
	session = fbSessionAlloc(x->model);
	fbSessionSetDomain(session, x->o.observation_domain);
	if (fbSessionAddTemplate(session, TRUE, TID_V4, t4, &err) == 0 ||
			fbSessionAddTemplate(session, FALSE, TID_V4, t4, &err) == 0 ||
			fbSessionAddTemplate(session, TRUE, TID_V6, t6, &err) == 0 ||
			fbSessionAddTemplate(session, FALSE, TID_V6, t6, &err) == 0) {
		CTL_LOG(ERR, "ipfix: templates: %s", err->message);
		g_clear_error(&err);
		fbSessionFree(session);
		return -EINVAL;
	}
	x->exporter = fbExporterAllocBuffer(x->msg, is_tcp(x) ? MTU_TCP : MTU_UDP);
	x->fbuf = fBufAllocForExport(session, x->exporter);
	fBufSetAutomaticMode(x->fbuf, FALSE);
	fBufSetExportTime(x->fbuf, (uint32_t)time(NULL));
	return 0;
}

struct ctl_ipfix *
ctl_ipfix_open(const struct ctl_ipfix_opts *o, const struct vg_config *cfg)
{
	static unsigned n_open;
	struct ctl_ipfix *x;
	pthread_condattr_t ca;
	char why[256], name[32];
	int err;

	if (ctl_eve_out_check_address(CTL_EVE_OUT_UDP, o->collector, why, sizeof(why)) != 0 ||
			o->queue_len == 0 || o->transport < 0 || o->transport > CTL_IPFIX_TCP) {
		errno = EINVAL;
		return NULL;
	}
	x = calloc(1, sizeof(*x));
	if (x == NULL)
		return NULL;
	x->o = *o;
	x->fd = -1;
	x->q = calloc(o->queue_len, sizeof(*x->q));
	snprintf(name, sizeof(name), "ipfix%u", n_open++);
	x->track = ctl_map_create(
			name, sizeof(struct track_key), sizeof(struct track_val), TRACK_CAPACITY);
	if (x->q == NULL || x->track == NULL) {
		err = errno != 0 ? errno : ENOMEM;
		goto fail;
	}
	for (unsigned i = 0; cfg != NULL && i < cfg->n_ports && i < VG_MAX_PORTS; i++) {
		int peer = vg_config_peer(cfg, i);

		x->egress[i] = peer >= 0 ? (uint32_t)peer + 1 : 0;
		x->n_ports = i + 1;
	}
	if (build_fixbuf(x) != 0) {
		err = EINVAL;
		goto fail;
	}
	pthread_mutex_init(&x->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&x->wake, &ca);
	pthread_cond_init(&x->changed, &ca);
	pthread_condattr_destroy(&ca);
	err = pthread_create(&x->thread, NULL, sender, x);
	if (err != 0) {
		pthread_cond_destroy(&x->wake);
		pthread_cond_destroy(&x->changed);
		pthread_mutex_destroy(&x->mu);
		goto fail;
	}
	pthread_setname_np(x->thread, "vg-ipfix");
	return x;
fail:
	if (x->fbuf != NULL)
		fBufFree(x->fbuf);
	if (x->model != NULL)
		fbInfoModelFree(x->model);
	ctl_map_free(x->track);
	free(x->q);
	free(x);
	errno = err;
	return NULL;
}

void
ctl_ipfix_close(struct ctl_ipfix *x)
{
	struct timespec ts;

	if (x == NULL)
		return;
	pthread_mutex_lock(&x->mu);
	x->stop = true;
	pthread_cond_broadcast(&x->wake);
	pthread_mutex_unlock(&x->mu);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 4;
	if (pthread_timedjoin_np(x->thread, NULL, &ts) != 0) {
		CTL_LOG(ERR, "ipfix: the sender is stuck sending to %s; %u records not sent",
				x->o.collector, x->c.queued);
		pthread_detach(x->thread);
		return;
	}
	if (x->c.records_lost > 0)
		CTL_LOG(WARNING,
				"ipfix: %" PRIu64 " records sent to %s, %" PRIu64 " lost (%" PRIu64
				" to a full queue)",
				x->c.records_sent, x->o.collector, x->c.records_lost,
				x->c.lost_queue_full);
	else
		CTL_LOG(NOTICE,
				"ipfix: %" PRIu64 " records sent to %s in %" PRIu64
				" messages, none lost",
				x->c.records_sent, x->o.collector, x->c.messages_sent);
	if (x->fd >= 0)
		close(x->fd);
	fBufFree(x->fbuf);
	fbInfoModelFree(x->model);
	ctl_map_free(x->track);
	pthread_cond_destroy(&x->wake);
	pthread_cond_destroy(&x->changed);
	pthread_mutex_destroy(&x->mu);
	free(x->q);
	free(x);
}

/* Control side ----------------------------------------------------------------------------- */

static uint8_t
end_reason(const struct dp_event *ev)
{
	if (ev->type == DP_EV_FLOW_UPDATE)
		return END_ACTIVE;
	switch (ev->reason) {
	case DP_END_TIMEOUT:
		return END_IDLE;
	case DP_END_FIN:
	case DP_END_RST:
		return END_EOF;
	case DP_END_EVICTED:
		return END_RESOURCES;
	default:
		return END_FORCED; /* shutdown, flushed */
	}
}

static void
fill_common(const struct ctl_ipfix *x, const struct dp_event *ev, const uint64_t d[4],
		struct rec4 *r4, struct rec6 *r6)
{
	const struct dp_event_flow *f = &ev->flow;
	const char *app = ctl_app_proto_name(f->app_proto);
	uint32_t in_if = (uint32_t)f->in_port + 1;
	uint32_t out_if = f->in_port < x->n_ports ? x->egress[f->in_port] : 0;

#define FILL(r)                                                                  \
	do {                                                                     \
		(r)->app.buf = (uint8_t *)(uintptr_t)(app != NULL ? app : "");   \
		(r)->app.len = app != NULL ? strlen(app) : 0;                    \
		(r)->start_ms = f->first_ns / 1000000;                           \
		(r)->end_ms = f->last_ns / 1000000;                              \
		(r)->packets = d[0];                                             \
		(r)->rev_packets = d[1];                                         \
		(r)->octets = d[2];                                              \
		(r)->rev_octets = d[3];                                          \
		(r)->in_if = in_if;                                              \
		(r)->out_if = out_if;                                            \
		(r)->rule = f->rule_id;                                          \
		(r)->sport = f->sport;                                           \
		(r)->dport = f->dport;                                           \
		(r)->vlan = f->vlan;                                             \
		(r)->proto = f->proto;                                           \
		(r)->flags = f->tcp_flags[0];                                    \
		(r)->rev_flags = f->tcp_flags[1];                                \
		(r)->end_reason = end_reason(ev);                                \
		(r)->verdict = f->verdict;                                       \
		(r)->biflow_dir = 1; /* initiator: the source opened the flow */ \
	} while (0)
	if (r4 != NULL)
		FILL(r4);
	else
		FILL(r6);
#undef FILL
}

/* Queue a record. Returns 0 or -ENOBUFS (counted). Control lcore. */
static int
enqueue(struct ctl_ipfix *x, const struct dp_event *ev, const uint64_t d[4])
{
	struct rec *r;
	int rc = 0;

	pthread_mutex_lock(&x->mu);
	if (x->c.queued >= x->o.queue_len) {
		x->c.records_lost++;
		x->c.lost_queue_full++;
		rc = -ENOBUFS;
		goto out;
	}
	r = &x->q[(x->head + x->c.queued) % x->o.queue_len];
	r->family = ev->flow.family;
	if (ev->flow.family == 4) {
		fill_common(x, ev, d, &r->v4, NULL);
		memcpy(&r->v4.src, ev->flow.src, 4);
		memcpy(&r->v4.dst, ev->flow.dst, 4);
		r->v4.src = ntohl(r->v4.src); /* fixbuf takes integers in host order */
		r->v4.dst = ntohl(r->v4.dst);
	} else {
		fill_common(x, ev, d, NULL, &r->v6);
		memcpy(r->v6.src, ev->flow.src, 16);
		memcpy(r->v6.dst, ev->flow.dst, 16);
	}
	if (x->c.queued++ == 0)
		pthread_cond_signal(&x->wake);
out:
	pthread_mutex_unlock(&x->mu);
	return rc;
}

void
ctl_ipfix_on_event(void *arg, const struct dp_event *ev)
{
	struct ctl_ipfix *x = arg;
	const struct dp_event_flow *f = &ev->flow;
	struct track_key k = { .flow_id = f->flow_id, .worker = ev->worker };
	struct track_val *last;
	uint64_t d[4];

	if ((ev->type != DP_EV_FLOW_START && ev->type != DP_EV_FLOW_UPDATE &&
			    ev->type != DP_EV_FLOW_END) ||
			(f->family != 4 && f->family != 6))
		return;
	if (ev->type == DP_EV_FLOW_START) {
		ctl_map_del(x->track, &k); /* an id reused: what an earlier flow left is void */
		return;
	}
	last = ctl_map_find(x->track, &k);
	/*
	 * Workers also report state changes and detected protocols as updates: a long flow gets
	 * a record only active_timeout after its previous one (or its start).
	 */
	if (ev->type == DP_EV_FLOW_UPDATE &&
			ev->time_ns < (last != NULL ? last->sent_ns : f->first_ns) +
							x->o.active_timeout_ms * 1000000ULL)
		return;
	if (last == NULL && ev->type == DP_EV_FLOW_UPDATE) {
		last = ctl_map_get(x->track, &k, NULL);
		if (last == NULL) {
			/* No room to remember what was sent: the end carries the whole flow. */
			pthread_mutex_lock(&x->mu);
			x->c.updates_untracked++;
			pthread_mutex_unlock(&x->mu);
			return;
		}
	}
	/* Since the flow's previous record; counters that went back mean a reused id. */
	for (unsigned dir = 0; dir < 2; dir++) {
		uint64_t lp = last != NULL ? last->pkts[dir] : 0;
		uint64_t lb = last != NULL ? last->bytes[dir] : 0;

		d[dir] = f->pkts[dir] >= lp ? f->pkts[dir] - lp : f->pkts[dir];
		d[2 + dir] = f->bytes[dir] >= lb ? f->bytes[dir] - lb : f->bytes[dir];
	}
	if (ev->type == DP_EV_FLOW_UPDATE) {
		if (d[0] + d[1] == 0)
			return; /* nothing new since the last record */
		if (enqueue(x, ev, d) == 0) {
			memcpy(last->pkts, f->pkts, sizeof(last->pkts));
			memcpy(last->bytes, f->bytes, sizeof(last->bytes));
			last->sent_ns = ev->time_ns;
		}
		return;
	}
	enqueue(x, ev, d);
	if (last != NULL)
		ctl_map_del(x->track, &k);
}

int
ctl_ipfix_sync(struct ctl_ipfix *x, unsigned timeout_ms)
{
	struct timespec ts;
	int rc = 0;

	vg_mono_deadline(&ts, timeout_ms);
	pthread_mutex_lock(&x->mu);
	while ((x->c.queued > 0 || x->inflight > 0) && !x->c.failing &&
			pthread_cond_timedwait(&x->changed, &x->mu, &ts) == 0)
		;
	if (x->c.queued > 0 || x->inflight > 0)
		rc = x->c.failing ? -EIO : -ETIMEDOUT;
	pthread_mutex_unlock(&x->mu);
	return rc;
}

#define IPFIX(field, unit, ...) \
	VG_CTR(struct ctl_ipfix_counters, field, #field, COUNTER, unit, __VA_ARGS__)

static const struct vg_ctr ipfix_rows[] = {
	IPFIX(records_sent, "records", .prom = "vigil_ipfix_records_sent_total",
			.help = "IPFIX flow records sent to the collector (export.ipfix), in whole "
				"messages."),
	IPFIX(records_lost, "records", .no_prom = true,
			.help = "IPFIX flow records lost (lost_queue_full, lost_send, and records "
				"left unsent at close)."),
	IPFIX(lost_queue_full, "records", .prom = "vigil_ipfix_records_lost_total",
			.prom_label = "reason=\"queue_full\"",
			.help = "IPFIX flow records lost, by reason: the queue was full, or their "
				"message's send failed."),
	IPFIX(lost_send, "records", .prom = "vigil_ipfix_records_lost_total",
			.prom_label = "reason=\"send\"",
			.help = "IPFIX flow records lost, by reason: the queue was full, or their "
				"message's send failed."),
	IPFIX(messages_sent, "messages", .prom = "vigil_ipfix_messages_sent_total",
			.help = "IPFIX messages sent whole."),
	IPFIX(templates_sent, "templates", .prom = "vigil_ipfix_templates_sent_total",
			.help = "IPFIX template exports (on connection and each refresh)."),
	IPFIX(errors, "errors", .prom = "vigil_ipfix_errors_total",
			.help = "Failed connects and sends to the IPFIX collector (each attempt)."),
	IPFIX(connects, "connections", .prom = "vigil_ipfix_connects_total",
			.help = "Connections made to the IPFIX collector (UDP: the socket opened)."),
	IPFIX(reconnects, "connections", .prom = "vigil_ipfix_reconnects_total",
			.help = "Connections to the IPFIX collector after the first (TCP)."),
	IPFIX(updates_untracked, "records", .prom = "vigil_ipfix_updates_untracked_total",
			.help = "Flow updates not exported: no room to remember the flow."),
};
const struct vg_ctr_set ctl_ipfix_ctr_set =
		VG_CTR_SET_TO("ipfix", struct ctl_ipfix_counters, ipfix_rows, queued);

void
ctl_ipfix_counters(const struct ctl_ipfix *x, struct ctl_ipfix_counters *c)
{
	struct ctl_ipfix *m = (struct ctl_ipfix *)x; /* the mutex, not the exporter, changes */

	pthread_mutex_lock(&m->mu);
	*c = m->c;
	pthread_mutex_unlock(&m->mu);
}

const char *
ctl_ipfix_collector(const struct ctl_ipfix *x)
{
	return x->o.collector;
}

const char *
ctl_ipfix_transport_name(const struct ctl_ipfix *x)
{
	return transport_names[x->o.transport];
}
