/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "al.h"
#include "ctl_alert_app.h"

#define MAX_RCPT 8
#define MAX_RR	 16 /* DNS questions and answers, in order */

const char *
ctl_app_proto_name(uint8_t app_proto)
{
	if (app_proto == AL_PROTO_NONE || app_proto >= AL_PROTO__COUNT)
		return NULL;
	return al_proto_name((enum al_proto)app_proto);
}

/* A TXMETA's records by field: the first of each, every recipient, and DNS records in order. */
struct rec {
	const uint8_t *v;
	uint8_t len;
	bool cut;
	bool set;
};

struct tm_view {
	struct rec f[DP_TM__COUNT];
	struct rec rcpt[MAX_RCPT];
	unsigned n_rcpt;
	struct rec rr[MAX_RR];
	uint8_t rr_field[MAX_RR];
	unsigned n_rr;
};

/* The member each field becomes in its protocol's object: how a cut value is named. */
static const char *const field_names[DP_TM__COUNT] = {
	[DP_TM_HTTP_HOST] = "hostname",
	[DP_TM_HTTP_URL] = "url",
	[DP_TM_HTTP_UA] = "http_user_agent",
	[DP_TM_HTTP_METHOD] = "http_method",
	[DP_TM_HTTP_PROTOCOL] = "protocol",
	[DP_TM_HTTP_STATUS] = "status",
	[DP_TM_HTTP_CTYPE] = "http_content_type",
	[DP_TM_HTTP_LOCATION] = "redirect",
	[DP_TM_HTTP_LENGTH] = "length",
	[DP_TM_DNS_RRNAME] = "queries.rrname",
	[DP_TM_DNS_RRTYPE] = "queries.rrtype",
	[DP_TM_DNS_ID] = "id",
	[DP_TM_DNS_RCODE] = "rcode",
	[DP_TM_TLS_SNI] = "sni",
	[DP_TM_TLS_VERSION] = "version",
	[DP_TM_TLS_JA3] = "ja3.hash",
	[DP_TM_TLS_JA3S] = "ja3s.hash",
	[DP_TM_TLS_SUBJECT] = "subject",
	[DP_TM_TLS_ISSUER] = "issuerdn",
	[DP_TM_TLS_SERIAL] = "serial",
	[DP_TM_TLS_FINGERPRINT] = "fingerprint",
	[DP_TM_SSH_CLIENT_PROTO] = "client.proto_version",
	[DP_TM_SSH_CLIENT_SW] = "client.software_version",
	[DP_TM_SSH_SERVER_PROTO] = "server.proto_version",
	[DP_TM_SSH_SERVER_SW] = "server.software_version",
	[DP_TM_SMTP_HELO] = "helo",
	[DP_TM_SMTP_MAIL_FROM] = "mail_from",
	[DP_TM_SMTP_RCPT_TO] = "rcpt_to",
	[DP_TM_FTP_COMMAND] = "command",
	[DP_TM_FTP_COMMAND_DATA] = "command_data",
	[DP_TM_FTP_REPLY_CODE] = "completion_code",
	[DP_TM_DNS_FLAGS] = "flags",
	[DP_TM_DNS_ANSWER_RRNAME] = "answers.rrname",
	[DP_TM_DNS_ANSWER_RRTYPE] = "answers.rrtype",
	[DP_TM_FTP_REPLY] = "reply",
};

/* Read the records; a record that runs past the data ends the walk (the rest is not trusted). */
static void
tm_parse(const struct dp_event_txmeta *tm, struct tm_view *v)
{
	uint32_t n = tm->len <= DP_TXMETA_DATA ? tm->len : DP_TXMETA_DATA;

	memset(v, 0, sizeof(*v));
	for (uint32_t i = 0; i + 2 <= n;) {
		uint8_t field = tm->data[i] & (uint8_t)~DP_TM_CUT;
		uint8_t len = tm->data[i + 1];
		struct rec r = { tm->data + i + 2, len, (tm->data[i] & DP_TM_CUT) != 0, true };

		if (i + 2 + len > n)
			break;
		i += 2u + len;
		if (field == 0 || field >= DP_TM__COUNT)
			continue;
		if (field == DP_TM_SMTP_RCPT_TO) {
			if (v->n_rcpt < MAX_RCPT)
				v->rcpt[v->n_rcpt++] = r;
			v->f[field].cut |= r.cut;
			v->f[field].set = true;
		} else if (field == DP_TM_DNS_RRNAME || field == DP_TM_DNS_RRTYPE ||
				field == DP_TM_DNS_ANSWER_RRNAME ||
				field == DP_TM_DNS_ANSWER_RRTYPE) {
			if (v->n_rr < MAX_RR) {
				v->rr_field[v->n_rr] = field;
				v->rr[v->n_rr++] = r;
			}
			if (!v->f[field].set)
				v->f[field] = r;
		} else if (!v->f[field].set) {
			v->f[field] = r;
		}
	}
}

/*
 * A text value as Suricata writes bytes: as they are when they are UTF-8, else with every byte
 * above 127 as \xNN.
 */
static json_t *
jbytes(const uint8_t *p, size_t n)
{
	json_t *s = json_stringn((const char *)p, n);
	char *buf;

	if (s != NULL)
		return s;
	buf = malloc(n * 4 + 1);
	if (buf == NULL)
		return NULL;
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i] < 128)
			buf[o++] = (char)p[i];
		else
			o += (size_t)snprintf(buf + o, 5, "\\x%02x", p[i]);
	}
	s = json_stringn(buf, o);
	free(buf);
	return s;
}

static void
put(json_t *o, const char *k, json_t *v)
{
	if (v != NULL)
		json_object_set_new(o, k, v);
}

static void
put_text(json_t *o, const char *k, const struct rec *r)
{
	if (r->set)
		put(o, k, jbytes(r->v, r->len));
}

/* A big-endian number of exactly len bytes (2 or 4); false when the record is not one. */
static bool
num(const struct rec *r, unsigned len, uint32_t *out)
{
	uint32_t v = 0;

	if (!r->set || r->len != len)
		return false;
	for (unsigned i = 0; i < len; i++)
		v = v << 8 | r->v[i];
	*out = v;
	return true;
}

/* Suricata's EVE http object (EveHttpLogJSONBasic and Extended). */
static json_t *
http_json(const struct tm_view *v)
{
	json_t *o = json_object();
	const struct rec *ct = &v->f[DP_TM_HTTP_CTYPE];
	uint32_t n;

	if (o == NULL)
		return NULL;
	put_text(o, "hostname", &v->f[DP_TM_HTTP_HOST]);
	put_text(o, "url", &v->f[DP_TM_HTTP_URL]);
	put_text(o, "http_user_agent", &v->f[DP_TM_HTTP_UA]);
	if (ct->set) {
		/* The media type without its parameters, as Suricata logs it. */
		const uint8_t *semi = memchr(ct->v, ';', ct->len);

		put(o, "http_content_type",
				jbytes(ct->v, semi != NULL ? (size_t)(semi - ct->v) : ct->len));
	}
	put_text(o, "http_method", &v->f[DP_TM_HTTP_METHOD]);
	put_text(o, "protocol", &v->f[DP_TM_HTTP_PROTOCOL]);
	if (num(&v->f[DP_TM_HTTP_STATUS], 2, &n) && n > 0)
		put(o, "status", json_integer(n));
	put_text(o, "redirect", &v->f[DP_TM_HTTP_LOCATION]);
	/* Suricata always writes the response's length: 0 before there is a response. */
	if (!num(&v->f[DP_TM_HTTP_LENGTH], 4, &n))
		n = 0;
	put(o, "length", json_integer(n));
	return o;
}

/* Suricata's names of DNS record types (DNSRecordType, upper case); others as their number. */
static const char *
rrtype_name(uint16_t t, char *buf, size_t len)
{
	static const struct {
		uint16_t type;
		const char *name;
	} names[] = {
		{ 1, "A" },
		{ 2, "NS" },
		{ 3, "MD" },
		{ 4, "MF" },
		{ 5, "CNAME" },
		{ 6, "SOA" },
		{ 7, "MB" },
		{ 8, "MG" },
		{ 9, "MR" },
		{ 10, "NULL" },
		{ 11, "WKS" },
		{ 12, "PTR" },
		{ 13, "HINFO" },
		{ 14, "MINFO" },
		{ 15, "MX" },
		{ 16, "TXT" },
		{ 17, "RP" },
		{ 18, "AFSDB" },
		{ 19, "X25" },
		{ 20, "ISDN" },
		{ 21, "RT" },
		{ 22, "NSAP" },
		{ 23, "NSAPPTR" },
		{ 24, "SIG" },
		{ 25, "KEY" },
		{ 26, "PX" },
		{ 27, "GPOS" },
		{ 28, "AAAA" },
		{ 29, "LOC" },
		{ 30, "NXT" },
		{ 33, "SRV" },
		{ 34, "ATMA" },
		{ 35, "NAPTR" },
		{ 36, "KX" },
		{ 37, "CERT" },
		{ 38, "A6" },
		{ 39, "DNAME" },
		{ 41, "OPT" },
		{ 42, "APL" },
		{ 43, "DS" },
		{ 44, "SSHFP" },
		{ 45, "IPSECKEY" },
		{ 46, "RRSIG" },
		{ 47, "NSEC" },
		{ 48, "DNSKEY" },
		{ 49, "DHCID" },
		{ 50, "NSEC3" },
		{ 51, "NSEC3PARAM" },
		{ 52, "TLSA" },
		{ 55, "HIP" },
		{ 59, "CDS" },
		{ 60, "CDNSKEY" },
		{ 65, "HTTPS" },
		{ 99, "SPF" },
		{ 249, "TKEY" },
		{ 250, "TSIG" },
		{ 254, "MAILA" },
		{ 255, "ANY" },
		{ 256, "URI" },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].type == t)
			return names[i].name;
	snprintf(buf, len, "%u", t);
	return buf;
}

/* Suricata's names of DNS response codes (DNSRcode, upper case); others as their number. */
static const char *
rcode_name(unsigned rc, char *buf, size_t len)
{
	static const char *const names[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",
		"REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE" };

	if (rc < sizeof(names) / sizeof(names[0]))
		return names[rc];
	snprintf(buf, len, "%u", rc);
	return buf;
}

/* The questions (or answers) in order: {rrname, rrtype}, each type following its name; NULL if
 * none. */
static json_t *
rr_list(const struct tm_view *v, uint8_t name_field, uint8_t type_field)
{
	json_t *a = NULL, *q = NULL;
	char buf[16];
	uint32_t type;

	for (unsigned i = 0; i < v->n_rr; i++) {
		if (v->rr_field[i] == name_field) {
			q = json_object();
			if (q == NULL)
				break;
			if (a == NULL && (a = json_array()) == NULL) {
				json_decref(q);
				break;
			}
			put_text(q, "rrname", &v->rr[i]);
			if (v->rr[i].cut)
				put(q, "rrname_truncated", json_true());
			if (json_array_append_new(a, q) != 0)
				break;
		} else if (v->rr_field[i] == type_field && q != NULL && num(&v->rr[i], 2, &type)) {
			put(q, "rrtype",
					json_string(rrtype_name((uint16_t)type, buf, sizeof(buf))));
		}
	}
	return a;
}

/*
 * Suricata 8's dns object (its "v3" form): the request's header when the transaction has a
 * request, else the response's; the response code once the response is seen (the alert at a
 * response shows it, as Suricata's does); the questions and the answers (name, type) that fit.
 */
static json_t *
dns_json(const struct tm_view *v)
{
	json_t *o = json_object();
	uint32_t id, flags, rc;
	char buf[16], hex[8];
	bool have_flags = num(&v->f[DP_TM_DNS_FLAGS], 2, &flags);

	if (o == NULL)
		return NULL;
	put(o, "version", json_integer(3));
	put(o, "type",
			json_string(have_flags ? (flags & 0x8000 ? "response" : "request")
					       : (v->f[DP_TM_DNS_RCODE].set ? "response"
									    : "request")));
	if (num(&v->f[DP_TM_DNS_ID], 2, &id))
		put(o, "id", json_integer(id));
	if (have_flags) {
		snprintf(hex, sizeof(hex), "%x", flags);
		put(o, "flags", json_string(hex));
		if (flags & 0x8000)
			put(o, "qr", json_true());
		if (flags & 0x0400)
			put(o, "aa", json_true());
		if (flags & 0x0200)
			put(o, "tc", json_true());
		if (flags & 0x0100)
			put(o, "rd", json_true());
		if (flags & 0x0080)
			put(o, "ra", json_true());
		if (flags & 0x0040)
			put(o, "z", json_true());
		put(o, "opcode", json_integer(flags >> 11 & 0xf));
	}
	if (num(&v->f[DP_TM_DNS_RCODE], 2, &rc))
		put(o, "rcode", json_string(rcode_name(rc, buf, sizeof(buf))));
	else if (have_flags)
		put(o, "rcode", json_string(rcode_name(flags & 0xf, buf, sizeof(buf))));
	put(o, "queries", rr_list(v, DP_TM_DNS_RRNAME, DP_TM_DNS_RRTYPE));
	put(o, "answers", rr_list(v, DP_TM_DNS_ANSWER_RRNAME, DP_TM_DNS_ANSWER_RRTYPE));
	return o;
}

/* Suricata's SSLVersionToString. */
static const char *
tls_version_name(uint32_t v, char *buf, size_t len)
{
	switch (v) {
	case 0:
		return "UNDETERMINED";
	case 0x0002:
		return "SSLv2";
	case 0x0300:
		return "SSLv3";
	case 0x0301:
		return "TLSv1";
	case 0x0302:
		return "TLS 1.1";
	case 0x0303:
		return "TLS 1.2";
	case 0x0304:
		return "TLS 1.3";
	case 0xfb14:
	case 0xfb15:
	case 0xfb16:
	case 0xfb17:
	case 0xfb1a:
		snprintf(buf, len, "TLS 1.3 draft-%u-fb", v & 0xff);
		return buf;
	}
	if (v >= 0x7f10 && v <= 0x7f1c)
		snprintf(buf, len, "TLS 1.3 draft-%u", v & 0xff);
	else if (v > 0x7f00 && v < 0x7f10)
		snprintf(buf, len, "TLS 1.3 draft-<16");
	else
		snprintf(buf, len, "0x%04x", v);
	return buf;
}

static void
put_hash(json_t *o, const char *k, const struct rec *r)
{
	json_t *h;

	if (!r->set || (h = json_object()) == NULL)
		return;
	put_text(h, "hash", r);
	put(o, k, h);
}

/* Suricata's EVE tls object (JsonTlsLogJSONExtended) with what the event carries. */
static json_t *
tls_json(const struct tm_view *v)
{
	json_t *o = json_object();
	char buf[32];
	uint32_t ver;

	if (o == NULL)
		return NULL;
	put_text(o, "subject", &v->f[DP_TM_TLS_SUBJECT]);
	put_text(o, "issuerdn", &v->f[DP_TM_TLS_ISSUER]);
	put_text(o, "serial", &v->f[DP_TM_TLS_SERIAL]);
	put_text(o, "fingerprint", &v->f[DP_TM_TLS_FINGERPRINT]);
	put_text(o, "sni", &v->f[DP_TM_TLS_SNI]);
	if (!num(&v->f[DP_TM_TLS_VERSION], 2, &ver))
		ver = 0;
	put(o, "version", json_string(tls_version_name(ver, buf, sizeof(buf))));
	put_hash(o, "ja3", &v->f[DP_TM_TLS_JA3]);
	put_hash(o, "ja3s", &v->f[DP_TM_TLS_JA3S]);
	return o;
}

static void
put_ssh_side(json_t *o, const char *side, const struct rec *proto, const struct rec *sw)
{
	json_t *s;

	if ((!proto->set && !sw->set) || (s = json_object()) == NULL)
		return;
	put_text(s, "proto_version", proto);
	put_text(s, "software_version", sw);
	put(o, side, s);
}

static json_t *
ssh_json(const struct tm_view *v)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	put_ssh_side(o, "client", &v->f[DP_TM_SSH_CLIENT_PROTO], &v->f[DP_TM_SSH_CLIENT_SW]);
	put_ssh_side(o, "server", &v->f[DP_TM_SSH_SERVER_PROTO], &v->f[DP_TM_SSH_SERVER_SW]);
	return o;
}

static json_t *
smtp_json(const struct tm_view *v)
{
	json_t *o = json_object(), *rcpt;

	if (o == NULL)
		return NULL;
	put_text(o, "helo", &v->f[DP_TM_SMTP_HELO]);
	put_text(o, "mail_from", &v->f[DP_TM_SMTP_MAIL_FROM]);
	if (v->n_rcpt > 0 && (rcpt = json_array()) != NULL) {
		for (unsigned i = 0; i < v->n_rcpt; i++) {
			json_t *s = jbytes(v->rcpt[i].v, v->rcpt[i].len);

			if (s != NULL)
				json_array_append_new(rcpt, s);
		}
		put(o, "rcpt_to", rcpt);
	}
	return o;
}

/*
 * Suricata's EVE ftp object (EveFTPLogCommand): the command by its upper-case name, its
 * argument, the reply's lines, its code and whether the reply came. Suricata lists a code per
 * reply line; the event has the reply's final code, so completion_code has that one.
 */
static json_t *
ftp_json(const struct tm_view *v)
{
	json_t *o = json_object(), *lines;
	const struct rec *cmd = &v->f[DP_TM_FTP_COMMAND], *rep = &v->f[DP_TM_FTP_REPLY];
	uint32_t code;
	bool code_set = num(&v->f[DP_TM_FTP_REPLY_CODE], 2, &code);

	if (o == NULL)
		return NULL;
	if (cmd->set) {
		char up[256];

		for (unsigned i = 0; i < cmd->len; i++)
			up[i] = (char)toupper(cmd->v[i]);
		put(o, "command", jbytes((const uint8_t *)up, cmd->len));
	}
	put_text(o, "command_data", &v->f[DP_TM_FTP_COMMAND_DATA]);
	if (code_set) {
		char c[8];
		json_t *arr = json_array();

		snprintf(c, sizeof(c), "%03u", code);
		if (arr != NULL && json_array_append_new(arr, json_string(c)) == 0)
			put(o, "completion_code", arr);
		else
			json_decref(arr);
	}
	if (rep->set && (lines = json_array()) != NULL) {
		/* The lines (their codes left out by the parser), CRLF between them. */
		const uint8_t *p = rep->v, *end = rep->v + rep->len;

		while (p < end) {
			const uint8_t *eol = memchr(p, '\r', (size_t)(end - p));
			size_t n = (size_t)((eol != NULL ? eol : end) - p);
			json_t *s = jbytes(p, n);

			if (s != NULL)
				json_array_append_new(lines, s);
			p += n;
			if (p < end && *p == '\r')
				p++;
			if (p < end && *p == '\n')
				p++;
		}
		put(o, "reply", lines);
	}
	put(o, "reply_received", json_string(code_set || rep->set ? "yes" : "no"));
	return o;
}

json_t *
ctl_app_json(const struct dp_event_txmeta *tm, const char **proto, json_t **cut)
{
	struct tm_view v;
	const char *name = ctl_app_proto_name(tm->proto);
	json_t *o;

	if (cut != NULL)
		*cut = NULL;
	if (name == NULL)
		return NULL;
	tm_parse(tm, &v);
	switch (tm->proto) {
	case AL_PROTO_HTTP:
		o = http_json(&v);
		break;
	case AL_PROTO_DNS:
		o = dns_json(&v);
		break;
	case AL_PROTO_TLS:
		o = tls_json(&v);
		break;
	case AL_PROTO_SSH:
		o = ssh_json(&v);
		break;
	case AL_PROTO_SMTP:
		o = smtp_json(&v);
		break;
	case AL_PROTO_FTP:
		o = ftp_json(&v);
		break;
	default:
		return NULL;
	}
	if (o == NULL)
		return NULL;
	if (proto != NULL)
		*proto = name;
	for (unsigned f = 1; cut != NULL && f < DP_TM__COUNT; f++) {
		char path[64];

		if (!v.f[f].set || !v.f[f].cut || field_names[f] == NULL)
			continue;
		if (*cut == NULL && (*cut = json_array()) == NULL)
			break;
		snprintf(path, sizeof(path), "%s.%s", name, field_names[f]);
		json_array_append_new(*cut, json_string(path));
	}
	return o;
}

json_t *
ctl_alert_app_json(const struct ctl_alert *a, const char **proto, json_t **cut)
{
	if (cut != NULL)
		*cut = NULL;
	if (!a->has_app)
		return NULL;
	return ctl_app_json(&a->app, proto, cut);
}

/* Pairing ------------------------------------------------------------------------------------ */

struct kept {
	bool valid;
	uint32_t seq;
	struct dp_event_txmeta tm;
};

struct ctl_app_pairing {
	struct kept w[256]; /* by worker id (a byte) */
	struct ctl_app_pairing_counters c;
};

struct ctl_app_pairing *
ctl_app_pairing_create(void)
{
	return calloc(1, sizeof(struct ctl_app_pairing));
}

void
ctl_app_pairing_free(struct ctl_app_pairing *p)
{
	free(p);
}

void
ctl_app_pairing_keep(struct ctl_app_pairing *p, const struct dp_event *ev)
{
	struct kept *k = &p->w[ev->worker];

	if (ev->type != DP_EV_TXMETA)
		return;
	if (k->valid)
		p->c.unpaired++; /* the alert it announced never came */
	k->valid = true;
	k->seq = ev->seq;
	k->tm = ev->txmeta;
}

bool
ctl_app_pairing_attach(struct ctl_app_pairing *p, const struct dp_event *ev, struct ctl_alert *a)
{
	struct kept *k = &p->w[ev->worker];

	if (ev->type != DP_EV_ALERT || !ev->alert.tx)
		return false;
	if (!k->valid || k->seq + 1 != ev->seq || k->tm.flow_id != ev->flow.flow_id) {
		p->c.missing++;
		if (k->valid) {
			/* Whatever it belonged to, it is not this alert's and no later one's. */
			p->c.unpaired++;
			k->valid = false;
		}
		return false;
	}
	a->app = k->tm;
	a->has_app = true;
	k->valid = false;
	p->c.attached++;
	return true;
}

void
ctl_app_pairing_counters(const struct ctl_app_pairing *p, struct ctl_app_pairing_counters *c)
{
	*c = p->c;
}
