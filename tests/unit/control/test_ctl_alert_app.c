/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The application layer of alerts: a hand-made DP_EV_TXMETA and the DP_EV_ALERT after it, as a
 * worker queues them, paired and turned into the EVE alert line. Each protocol's object is
 * compared whole with what Suricata's EVE alert has (names and formats of Suricata 8), so that a
 * member too many shows as well as one too few. Also: values cut to fit, malformed records, and
 * the pairing's refusals (another flow, a lost event, two TXMETAs in a row).
 */
#include "vg_test.h"

#include "al.h"
#include "ctl_alert.h"
#include "ctl_alert_app.h"
#include "ctl_test_util.h"

#define T0_NS (1709251200ULL * NS_PER_S)

/* A record as fill_txmeta() writes it. */
static void
tm_add(struct dp_event *ev, uint8_t field, const void *v, size_t len)
{
	struct dp_event_txmeta *tm = &ev->txmeta;

	assert_true(tm->len + 2 + len <= DP_TXMETA_DATA);
	tm->data[tm->len] = field;
	tm->data[tm->len + 1] = (uint8_t)len;
	memcpy(tm->data + tm->len + 2, v, len);
	tm->len = (uint8_t)(tm->len + 2 + len);
}

static void
tm_str(struct dp_event *ev, uint8_t field, const char *s)
{
	tm_add(ev, field, s, strlen(s));
}

static void
tm_u16(struct dp_event *ev, uint8_t field, uint16_t v)
{
	uint8_t be[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	tm_add(ev, field, be, 2);
}

static void
tm_u32(struct dp_event *ev, uint8_t field, uint32_t v)
{
	uint8_t be[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	tm_add(ev, field, be, 4);
}

/* A TXMETA of worker 2, sequence 41, for flow 77. */
static struct dp_event
txmeta(uint8_t proto)
{
	struct dp_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = DP_EV_TXMETA;
	ev.worker = 2;
	ev.seq = 41;
	ev.time_ns = T0_NS;
	ev.txmeta.flow_id = 77;
	ev.txmeta.proto = proto;
	return ev;
}

/* The alert that follows it: worker 2, sequence 42, flow 77, matched a transaction. */
static struct dp_event
alert_after(uint8_t app_proto, uint16_t dport)
{
	struct dp_event ev = ctl_test_ev4(
			DP_EV_ALERT, T0_NS, "10.1.1.1", 40000, "10.2.2.2", dport, 6, 77);

	ev.worker = 2;
	ev.seq = 42;
	ev.flow.app_proto = app_proto;
	ev.alert.sid = 9900001;
	ev.alert.gid = 1;
	ev.alert.rev = 1;
	ev.alert.tx = 1;
	return ev;
}

/* Pair tm and al, and return the EVE line's JSON. */
static json_t *
eve_of(const struct dp_event *tm, const struct dp_event *al)
{
	struct ctl_app_pairing *p = ctl_app_pairing_create();
	struct ctl_alert a;
	json_t *o;

	assert_non_null(p);
	ctl_app_pairing_keep(p, tm);
	ctl_alert_from_event(al, "test", "misc-activity", CTL_SEV_MEDIUM, &a);
	assert_true(ctl_app_pairing_attach(p, al, &a));
	ctl_app_pairing_free(p);
	o = ctl_alert_to_json(&a, "a");
	assert_non_null(o);
	return o;
}

static void
assert_json_eq(json_t *got, const char *want_text)
{
	json_error_t e;
	json_t *want = json_loads(want_text, 0, &e);

	if (want == NULL)
		fail_msg("expected JSON does not parse: %s", e.text);
	if (!json_equal(got, want)) {
		char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);

		fail_msg("got %s\nwant %s", g ? g : "(null)", want_text);
	}
	json_decref(want);
}

static void
test_http(void **state)
{
	struct dp_event tm = txmeta(AL_PROTO_HTTP), al = alert_after(AL_PROTO_HTTP, 80);
	json_t *o;

	(void)state;
	tm_str(&tm, DP_TM_HTTP_HOST, "www.example.com");
	tm_str(&tm, DP_TM_HTTP_URL, "/admin/login.php?user=x");
	tm_str(&tm, DP_TM_HTTP_METHOD, "POST");
	tm_str(&tm, DP_TM_HTTP_PROTOCOL, "HTTP/1.1");
	tm_u16(&tm, DP_TM_HTTP_STATUS, 302);
	tm_u32(&tm, DP_TM_HTTP_LENGTH, 1234);
	tm_str(&tm, DP_TM_HTTP_CTYPE, "text/html; charset=utf-8");
	tm_str(&tm, DP_TM_HTTP_UA, "curl/8.5.0");
	tm_str(&tm, DP_TM_HTTP_LOCATION, "https://www.example.com/");
	o = eve_of(&tm, &al);
	assert_string_equal(json_string_value(json_object_get(o, "app_proto")), "http");
	assert_json_eq(json_object_get(o, "http"),
			"{\"hostname\": \"www.example.com\", \"url\": \"/admin/login.php?user=x\","
			" \"http_user_agent\": \"curl/8.5.0\", \"http_content_type\": \"text/html\","
			" \"http_method\": \"POST\", \"protocol\": \"HTTP/1.1\", \"status\": 302,"
			" \"redirect\": \"https://www.example.com/\", \"length\": 1234}");
	assert_null(json_object_get(json_object_get(o, "vigil"), "app_cut"));
	json_decref(o);

	/* At the request: no response yet, so no status, and length 0 as Suricata writes it. */
	tm = txmeta(AL_PROTO_HTTP);
	tm_str(&tm, DP_TM_HTTP_HOST, "www.example.com");
	tm_str(&tm, DP_TM_HTTP_URL, "/");
	tm_str(&tm, DP_TM_HTTP_METHOD, "GET");
	o = eve_of(&tm, &al);
	assert_json_eq(json_object_get(o, "http"),
			"{\"hostname\": \"www.example.com\", \"url\": \"/\", \"http_method\": \"GET\","
			" \"length\": 0}");
	json_decref(o);
}

static void
test_dns(void **state)
{
	struct dp_event tm = txmeta(AL_PROTO_DNS), al = alert_after(AL_PROTO_DNS, 53);
	json_t *o;

	(void)state;
	al.flow.proto = 17;
	/* The request (recursion desired), before its response. */
	tm_u16(&tm, DP_TM_DNS_ID, 7);
	tm_u16(&tm, DP_TM_DNS_FLAGS, 0x0100);
	tm_str(&tm, DP_TM_DNS_RRNAME, "bad.example.com");
	tm_u16(&tm, DP_TM_DNS_RRTYPE, 1);
	o = eve_of(&tm, &al);
	assert_string_equal(json_string_value(json_object_get(o, "app_proto")), "dns");
	assert_string_equal(json_string_value(json_object_get(o, "proto")), "UDP");
	assert_json_eq(json_object_get(o, "dns"),
			"{\"version\": 3, \"type\": \"request\", \"id\": 7, \"flags\": \"100\","
			" \"rd\": true, \"opcode\": 0, \"rcode\": \"NOERROR\","
			" \"queries\": [{\"rrname\": \"bad.example.com\", \"rrtype\": \"A\"}]}");
	json_decref(o);

	/* Its response came: NXDOMAIN, as Suricata's alert at the response shows it. */
	tm_u16(&tm, DP_TM_DNS_RCODE, 3);
	o = eve_of(&tm, &al);
	assert_string_equal(json_string_value(json_object_get(json_object_get(o, "dns"), "rcode")),
			"NXDOMAIN");
	json_decref(o);

	/* A response without its request, a type Suricata has no name for, a long name cut. */
	tm = txmeta(AL_PROTO_DNS);
	tm_u16(&tm, DP_TM_DNS_ID, 0xbeef);
	tm_u16(&tm, DP_TM_DNS_FLAGS, 0x8580);
	tm_u16(&tm, DP_TM_DNS_RCODE, 0);
	tm_str(&tm, DP_TM_DNS_RRNAME | DP_TM_CUT, "aaaaaaaaaa.example");
	tm_u16(&tm, DP_TM_DNS_RRTYPE, 65280);
	o = eve_of(&tm, &al);
	assert_json_eq(json_object_get(o, "dns"),
			"{\"version\": 3, \"type\": \"response\", \"id\": 48879, \"flags\": \"8580\","
			" \"qr\": true, \"aa\": true, \"rd\": true, \"ra\": true, \"opcode\": 0,"
			" \"rcode\": \"NOERROR\", \"queries\": [{\"rrname\": \"aaaaaaaaaa.example\","
			" \"rrtype\": \"65280\", \"rrname_truncated\": true}]}");
	assert_json_eq(json_object_get(json_object_get(o, "vigil"), "app_cut"),
			"[\"dns.queries.rrname\"]");
	json_decref(o);

	/* Two questions and the answers, each type after its name, in order (an answer of the
	 * root has an empty name) */
	tm = txmeta(AL_PROTO_DNS);
	tm_u16(&tm, DP_TM_DNS_ID, 1);
	tm_u16(&tm, DP_TM_DNS_FLAGS, 0x8180);
	tm_u16(&tm, DP_TM_DNS_RCODE, 0);
	tm_str(&tm, DP_TM_DNS_RRNAME, "a.example");
	tm_u16(&tm, DP_TM_DNS_RRTYPE, 1);
	tm_str(&tm, DP_TM_DNS_RRNAME, "b.example");
	tm_u16(&tm, DP_TM_DNS_RRTYPE, 28);
	tm_str(&tm, DP_TM_DNS_ANSWER_RRNAME, "a.example");
	tm_u16(&tm, DP_TM_DNS_ANSWER_RRTYPE, 5);
	tm_str(&tm, DP_TM_DNS_ANSWER_RRNAME, "");
	tm_u16(&tm, DP_TM_DNS_ANSWER_RRTYPE, 1);
	o = eve_of(&tm, &al);
	assert_json_eq(json_object_get(json_object_get(o, "dns"), "queries"),
			"[{\"rrname\": \"a.example\", \"rrtype\": \"A\"},"
			" {\"rrname\": \"b.example\", \"rrtype\": \"AAAA\"}]");
	assert_json_eq(json_object_get(json_object_get(o, "dns"), "answers"),
			"[{\"rrname\": \"a.example\", \"rrtype\": \"CNAME\"},"
			" {\"rrname\": \"\", \"rrtype\": \"A\"}]");
	json_decref(o);
}

static void
test_tls(void **state)
{
	static const struct {
		uint16_t v;
		const char *name;
	} versions[] = {
		{ 0x0300, "SSLv3" },
		{ 0x0301, "TLSv1" },
		{ 0x0302, "TLS 1.1" },
		{ 0x0303, "TLS 1.2" },
		{ 0x0304, "TLS 1.3" },
		{ 0x7f1c, "TLS 1.3 draft-28" },
		{ 0x7f05, "TLS 1.3 draft-<16" },
		{ 0xfb1a, "TLS 1.3 draft-26-fb" },
		{ 0x1234, "0x1234" },
	};
	struct dp_event tm = txmeta(AL_PROTO_TLS), al = alert_after(AL_PROTO_TLS, 443);
	json_t *o;

	(void)state;
	tm_u16(&tm, DP_TM_TLS_VERSION, 0x0303);
	tm_str(&tm, DP_TM_TLS_SNI, "tls.example.net");
	tm_str(&tm, DP_TM_TLS_SUBJECT, "C=US, O=Example, CN=tls.example.net");
	tm_str(&tm, DP_TM_TLS_ISSUER, "C=US, O=Example CA, CN=Example Root");
	tm_str(&tm, DP_TM_TLS_JA3, "e7d705a3286e19ea42f587b344ee6865");
	tm_str(&tm, DP_TM_TLS_JA3S, "15af977ce25de452b96affa2addb1036");
	tm_str(&tm, DP_TM_TLS_SERIAL, "0A:1B:2C");
	o = eve_of(&tm, &al);
	assert_string_equal(json_string_value(json_object_get(o, "app_proto")), "tls");
	assert_json_eq(json_object_get(o, "tls"),
			"{\"subject\": \"C=US, O=Example, CN=tls.example.net\","
			" \"issuerdn\": \"C=US, O=Example CA, CN=Example Root\","
			" \"serial\": \"0A:1B:2C\", \"sni\": \"tls.example.net\","
			" \"version\": \"TLS 1.2\","
			" \"ja3\": {\"hash\": \"e7d705a3286e19ea42f587b344ee6865\"},"
			" \"ja3s\": {\"hash\": \"15af977ce25de452b96affa2addb1036\"}}");
	json_decref(o);

	/* Suricata's version strings (SSLVersionToString); no version known: UNDETERMINED. */
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		tm = txmeta(AL_PROTO_TLS);
		tm_u16(&tm, DP_TM_TLS_VERSION, versions[i].v);
		o = eve_of(&tm, &al);
		assert_string_equal(json_string_value(json_object_get(
						    json_object_get(o, "tls"), "version")),
				versions[i].name);
		json_decref(o);
	}
	tm = txmeta(AL_PROTO_TLS);
	tm_str(&tm, DP_TM_TLS_SNI, "x");
	o = eve_of(&tm, &al);
	assert_json_eq(json_object_get(o, "tls"),
			"{\"sni\": \"x\", \"version\": \"UNDETERMINED\"}");
	json_decref(o);
}

static void
test_ssh(void **state)
{
	struct dp_event tm = txmeta(AL_PROTO_SSH), al = alert_after(AL_PROTO_SSH, 22);
	json_t *o;

	(void)state;
	tm_str(&tm, DP_TM_SSH_CLIENT_PROTO, "2.0");
	tm_str(&tm, DP_TM_SSH_CLIENT_SW, "libssh-0.7.2");
	tm_str(&tm, DP_TM_SSH_SERVER_PROTO, "2.0");
	tm_str(&tm, DP_TM_SSH_SERVER_SW, "OpenSSH_7.4");
	o = eve_of(&tm, &al);
	assert_string_equal(json_string_value(json_object_get(o, "app_proto")), "ssh");
	assert_json_eq(json_object_get(o, "ssh"),
			"{\"client\": {\"proto_version\": \"2.0\", \"software_version\":"
			" \"libssh-0.7.2\"}, \"server\": {\"proto_version\": \"2.0\","
			" \"software_version\": \"OpenSSH_7.4\"}}");
	json_decref(o);

	/* Only the client has spoken: no server object. */
	tm = txmeta(AL_PROTO_SSH);
	tm_str(&tm, DP_TM_SSH_CLIENT_PROTO, "2.0");
	o = eve_of(&tm, &al);
	assert_json_eq(json_object_get(o, "ssh"), "{\"client\": {\"proto_version\": \"2.0\"}}");
	json_decref(o);
}

static void
test_smtp(void **state)
{
	struct dp_event tm = txmeta(AL_PROTO_SMTP), al = alert_after(AL_PROTO_SMTP, 25);
	json_t *o;

	(void)state;
	tm_str(&tm, DP_TM_SMTP_HELO, "client-1016363.example.int");
	tm_str(&tm, DP_TM_SMTP_MAIL_FROM, "<sender@example.com>");
	tm_str(&tm, DP_TM_SMTP_RCPT_TO, "<a@example.com>");
	tm_str(&tm, DP_TM_SMTP_RCPT_TO, "<b@example.com>");
	o = eve_of(&tm, &al);
	assert_string_equal(json_string_value(json_object_get(o, "app_proto")), "smtp");
	assert_json_eq(json_object_get(o, "smtp"),
			"{\"helo\": \"client-1016363.example.int\","
			" \"mail_from\": \"<sender@example.com>\","
			" \"rcpt_to\": [\"<a@example.com>\", \"<b@example.com>\"]}");
	json_decref(o);
}

static void
test_ftp(void **state)
{
	struct dp_event tm = txmeta(AL_PROTO_FTP), al = alert_after(AL_PROTO_FTP, 21);
	json_t *o;

	(void)state;
	tm_str(&tm, DP_TM_FTP_COMMAND, "retr");
	tm_str(&tm, DP_TM_FTP_COMMAND_DATA, "/etc/passwd");
	tm_u16(&tm, DP_TM_FTP_REPLY_CODE, 226);
	tm_str(&tm, DP_TM_FTP_REPLY, "Opening data connection\r\nTransfer complete");
	o = eve_of(&tm, &al);
	assert_string_equal(json_string_value(json_object_get(o, "app_proto")), "ftp");
	assert_json_eq(json_object_get(o, "ftp"),
			"{\"command\": \"RETR\", \"command_data\": \"/etc/passwd\","
			" \"completion_code\": [\"226\"],"
			" \"reply\": [\"Opening data connection\", \"Transfer complete\"],"
			" \"reply_received\": \"yes\"}");
	json_decref(o);

	/* The command alone (its stage, before the reply). */
	tm = txmeta(AL_PROTO_FTP);
	tm_str(&tm, DP_TM_FTP_COMMAND, "USER");
	tm_str(&tm, DP_TM_FTP_COMMAND_DATA, "anonymous");
	o = eve_of(&tm, &al);
	assert_json_eq(json_object_get(o, "ftp"),
			"{\"command\": \"USER\", \"command_data\": \"anonymous\","
			" \"reply_received\": \"no\"}");
	json_decref(o);
}

/* Cut values are named; records that run past the data, wrong-sized numbers and bytes that
 * are not UTF-8 do not break the line. */
static void
test_cut_and_malformed(void **state)
{
	struct dp_event tm = txmeta(AL_PROTO_HTTP), al = alert_after(AL_PROTO_HTTP, 80);
	static const uint8_t not_utf8[] = { 'u', 'a', 0xff, 0xfe, '!' };
	json_t *o;

	(void)state;
	tm_str(&tm, DP_TM_HTTP_HOST | DP_TM_CUT, "www.exa");
	tm_str(&tm, DP_TM_HTTP_URL | DP_TM_CUT, "/very/long/pa");
	tm_add(&tm, DP_TM_HTTP_STATUS, "\x01", 1); /* a number of the wrong size */
	tm_add(&tm, DP_TM_HTTP_UA, not_utf8, sizeof(not_utf8));
	tm_add(&tm, 99, "?", 1); /* a field this code does not know */
	tm_str(&tm, DP_TM_HTTP_METHOD, "GET");
	/* A record claiming more bytes than there are: the walk stops there. */
	tm.txmeta.data[tm.txmeta.len] = DP_TM_HTTP_PROTOCOL;
	tm.txmeta.data[tm.txmeta.len + 1] = 200;
	tm.txmeta.len = (uint8_t)(tm.txmeta.len + 4);
	o = eve_of(&tm, &al);
	assert_json_eq(json_object_get(o, "http"),
			"{\"hostname\": \"www.exa\", \"url\": \"/very/long/pa\","
			" \"http_user_agent\": \"ua\\\\xff\\\\xfe!\", \"http_method\": \"GET\","
			" \"length\": 0}");
	assert_json_eq(json_object_get(json_object_get(o, "vigil"), "app_cut"),
			"[\"http.hostname\", \"http.url\"]");
	json_decref(o);

	/* A length byte past the room of the event is not trusted either. */
	tm = txmeta(AL_PROTO_SSH);
	tm.txmeta.len = 255;
	memset(tm.txmeta.data, DP_TM_SSH_CLIENT_SW, sizeof(tm.txmeta.data));
	o = eve_of(&tm, &al);
	assert_non_null(json_object_get(o, "ssh"));
	json_decref(o);
}

/* Alerts without a transaction, and anomalies, have no object; app_proto comes from the flow. */
static void
test_without_transaction(void **state)
{
	struct dp_event al = alert_after(AL_PROTO_HTTP, 80);
	struct ctl_alert a;
	json_t *o;
	static const struct ctl_alert_template t = {
		.sid = 9000001, .title = "scan", .category = "c", .what = "", .why = "", .next = ""
	};

	(void)state;
	al.alert.tx = 0;
	ctl_alert_from_event(&al, "stream match", "misc", CTL_SEV_LOW, &a);
	o = ctl_alert_to_json(&a, NULL);
	assert_string_equal(json_string_value(json_object_get(o, "app_proto")), "http");
	assert_null(json_object_get(o, "http"));
	json_decref(o);
	/* A flow whose protocol is not known yet: no app_proto at all, as Suricata. */
	al.flow.app_proto = 0;
	ctl_alert_from_event(&al, "stream match", "misc", CTL_SEV_LOW, &a);
	o = ctl_alert_to_json(&a, NULL);
	assert_null(json_object_get(o, "app_proto"));
	json_decref(o);
	al.flow.app_proto = AL_PROTO_FAILED;
	ctl_alert_from_event(&al, "stream match", "misc", CTL_SEV_LOW, &a);
	o = ctl_alert_to_json(&a, NULL);
	assert_string_equal(json_string_value(json_object_get(o, "app_proto")), "failed");
	json_decref(o);
	ctl_alert_init_anomaly(&a, &t, "port_scan", CTL_SEV_MEDIUM);
	o = ctl_alert_to_json(&a, NULL);
	assert_null(json_object_get(o, "app_proto"));
	json_decref(o);
	assert_null(ctl_app_proto_name(0));
	assert_null(ctl_app_proto_name(AL_PROTO__COUNT));
	assert_string_equal(ctl_app_proto_name(AL_PROTO_SMTP), "smtp");
}

static void
test_pairing(void **state)
{
	struct ctl_app_pairing *p = ctl_app_pairing_create();
	struct ctl_app_pairing_counters c;
	struct dp_event tm = txmeta(AL_PROTO_HTTP), al = alert_after(AL_PROTO_HTTP, 80);
	struct dp_event tm_w3 = txmeta(AL_PROTO_DNS), al_w3 = alert_after(AL_PROTO_DNS, 53);
	struct ctl_alert a;

	(void)state;
	assert_non_null(p);
	tm_str(&tm, DP_TM_HTTP_HOST, "w1");
	/* Workers interleave on control: each keeps its own. */
	tm_w3.worker = al_w3.worker = 3;
	tm_w3.seq = 7;
	al_w3.seq = 8;
	ctl_app_pairing_keep(p, &tm);
	ctl_app_pairing_keep(p, &tm_w3);
	ctl_alert_from_event(&al_w3, NULL, NULL, 0, &a);
	assert_true(ctl_app_pairing_attach(p, &al_w3, &a));
	assert_int_equal(a.app.proto, AL_PROTO_DNS);
	ctl_alert_from_event(&al, NULL, NULL, 0, &a);
	assert_true(ctl_app_pairing_attach(p, &al, &a));
	assert_int_equal(a.app.proto, AL_PROTO_HTTP);
	/* Taken once: a second alert of the same sequence gets nothing. */
	ctl_alert_from_event(&al, NULL, NULL, 0, &a);
	assert_false(ctl_app_pairing_attach(p, &al, &a));
	assert_false(a.has_app);

	/* Another flow's TXMETA is not this alert's. */
	ctl_app_pairing_keep(p, &tm);
	al.flow.flow_id = 78;
	ctl_alert_from_event(&al, NULL, NULL, 0, &a);
	assert_false(ctl_app_pairing_attach(p, &al, &a));
	assert_false(a.has_app);
	al.flow.flow_id = 77;
	/* ... and one that came earlier than the event just before is not either (a loss). */
	ctl_app_pairing_keep(p, &tm);
	al.seq = 44;
	ctl_alert_from_event(&al, NULL, NULL, 0, &a);
	assert_false(ctl_app_pairing_attach(p, &al, &a));
	al.seq = 42;
	/* Two TXMETAs in a row: the first one's alert was lost; the second pairs. */
	ctl_app_pairing_keep(p, &tm);
	tm.seq = 41;
	ctl_app_pairing_keep(p, &tm);
	ctl_alert_from_event(&al, NULL, NULL, 0, &a);
	assert_true(ctl_app_pairing_attach(p, &al, &a));
	/* An alert on packet bytes (no transaction) neither takes nor counts. */
	ctl_app_pairing_keep(p, &tm);
	al.alert.tx = 0;
	ctl_alert_from_event(&al, NULL, NULL, 0, &a);
	assert_false(ctl_app_pairing_attach(p, &al, &a));
	/* Sequence numbers wrap. */
	tm.seq = UINT32_MAX;
	ctl_app_pairing_keep(p, &tm);
	al.alert.tx = 1;
	al.seq = 0;
	ctl_alert_from_event(&al, NULL, NULL, 0, &a);
	assert_true(ctl_app_pairing_attach(p, &al, &a));

	ctl_app_pairing_counters(p, &c);
	assert_int_equal(c.attached, 4);
	/* The second alert of seq 42, flow 78, seq 44. */
	assert_int_equal(c.missing, 3);
	/* Flow 78's, seq 44's, the first of two in a row, the one before the packet alert. */
	assert_int_equal(c.unpaired, 4);
	ctl_app_pairing_free(p);
	ctl_app_pairing_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http),
		cmocka_unit_test(test_dns),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_ssh),
		cmocka_unit_test(test_smtp),
		cmocka_unit_test(test_ftp),
		cmocka_unit_test(test_cut_and_malformed),
		cmocka_unit_test(test_without_transaction),
		cmocka_unit_test(test_pairing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
