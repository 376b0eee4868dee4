/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "al_impl.h"
#include "al_mem.h"
#include "vg_ctr.h"

/* Parsers by protocol; NULL where Vigil has none (detection then gives the flow up). */
static const struct al_parser *const parsers[AL_PROTO__COUNT] = {
	[AL_PROTO_NONE] = NULL,
	[AL_PROTO_SSH] = &al_ssh_parser,
	[AL_PROTO_SMTP] = &al_smtp_parser,
	[AL_PROTO_FTP] = &al_ftp_parser,
	[AL_PROTO_HTTP] = &al_http_parser,
	[AL_PROTO_DNS] = &al_dns_parser,
	[AL_PROTO_TLS] = &al_tls_parser,
};

static const char *const proto_names[AL_PROTO__COUNT] = {
	[AL_PROTO_NONE] = "unknown",
	[AL_PROTO_HTTP] = "http",
	[AL_PROTO_TLS] = "tls",
	[AL_PROTO_DNS] = "dns",
	[AL_PROTO_SSH] = "ssh",
	[AL_PROTO_SMTP] = "smtp",
	[AL_PROTO_FTP] = "ftp",
	[AL_PROTO_FAILED] = "failed",
};

const char *
al_proto_name(enum al_proto p)
{
	return (unsigned)p < AL_PROTO__COUNT ? proto_names[p] : "unknown";
}

int
al_proto_from_name(const char *name, enum al_proto *p)
{
	static const struct {
		const char *name;
		enum al_proto proto;
	} alias[] = {
		{ "http", AL_PROTO_HTTP },
		{ "http1", AL_PROTO_HTTP },
		{ "tls", AL_PROTO_TLS },
		{ "ssl", AL_PROTO_TLS },
		{ "dns", AL_PROTO_DNS },
		{ "ssh", AL_PROTO_SSH },
		{ "smtp", AL_PROTO_SMTP },
		{ "ftp", AL_PROTO_FTP },
		{ "failed", AL_PROTO_FAILED },
	};

	for (size_t i = 0; i < sizeof(alias) / sizeof(alias[0]); i++) {
		if (strcasecmp(name, alias[i].name) == 0) {
			*p = alias[i].proto;
			return 0;
		}
	}
	return -ENOENT;
}

/* ---- buffer and number tables ---- */

#define TS AL_TO_SERVER
#define TC AL_TO_CLIENT
#define M  AL_BUF_MULTI

static const struct al_buf_info buf_table[AL_BUF__COUNT] = {
	[AL_BUF_HTTP_METHOD] = { "http.method", AL_PROTO_HTTP, TS, AL_ST_HTTP_REQ_HEADERS, 0 },
	[AL_BUF_HTTP_URI] = { "http.uri", AL_PROTO_HTTP, TS, AL_ST_HTTP_REQ_HEADERS, 0 },
	[AL_BUF_HTTP_URI_RAW] = { "http.uri.raw", AL_PROTO_HTTP, TS, AL_ST_HTTP_REQ_HEADERS, 0 },
	[AL_BUF_HTTP_PROTOCOL_REQ] = { "http.protocol", AL_PROTO_HTTP, TS, AL_ST_HTTP_REQ_HEADERS,
			0 },
	[AL_BUF_HTTP_REQUEST_LINE] = { "http.request_line", AL_PROTO_HTTP, TS,
			AL_ST_HTTP_REQ_HEADERS, 0 },
	[AL_BUF_HTTP_HOST] = { "http.host", AL_PROTO_HTTP, TS, AL_ST_HTTP_REQ_HEADERS, 0 },
	[AL_BUF_HTTP_HOST_RAW] = { "http.host.raw", AL_PROTO_HTTP, TS, AL_ST_HTTP_REQ_HEADERS, 0 },
	[AL_BUF_HTTP_USER_AGENT] = { "http.user_agent", AL_PROTO_HTTP, TS, AL_ST_HTTP_REQ_HEADERS,
			0 },
	[AL_BUF_HTTP_REFERER] = { "http.referer", AL_PROTO_HTTP, TS, AL_ST_HTTP_REQ_HEADERS, 0 },
	[AL_BUF_HTTP_ACCEPT] = { "http.accept", AL_PROTO_HTTP, TS, AL_ST_HTTP_REQ_HEADERS, 0 },
	[AL_BUF_HTTP_ACCEPT_ENC] = { "http.accept_enc", AL_PROTO_HTTP, TS, AL_ST_HTTP_REQ_HEADERS,
			0 },
	[AL_BUF_HTTP_ACCEPT_LANG] = { "http.accept_lang", AL_PROTO_HTTP, TS, AL_ST_HTTP_REQ_HEADERS,
			0 },
	[AL_BUF_HTTP_CONNECTION] = { "http.connection", AL_PROTO_HTTP, TS, AL_ST_HTTP_REQ_HEADERS,
			0 },
	[AL_BUF_HTTP_COOKIE_REQ] = { "http.cookie", AL_PROTO_HTTP, TS, AL_ST_HTTP_REQ_HEADERS, 0 },
	[AL_BUF_HTTP_CONTENT_TYPE_REQ] = { "http.content_type", AL_PROTO_HTTP, TS,
			AL_ST_HTTP_REQ_HEADERS, 0 },
	[AL_BUF_HTTP_CONTENT_LEN_REQ] = { "http.content_len", AL_PROTO_HTTP, TS,
			AL_ST_HTTP_REQ_HEADERS, 0 },
	[AL_BUF_HTTP_HEADER_REQ] = { "http.header", AL_PROTO_HTTP, TS, AL_ST_HTTP_REQ_HEADERS, 0 },
	[AL_BUF_HTTP_HEADER_RAW_REQ] = { "http.header.raw", AL_PROTO_HTTP, TS,
			AL_ST_HTTP_REQ_HEADERS, 0 },
	[AL_BUF_HTTP_HEADER_NAMES_REQ] = { "http.header_names", AL_PROTO_HTTP, TS,
			AL_ST_HTTP_REQ_HEADERS, 0 },
	[AL_BUF_HTTP_START_REQ] = { "http.start", AL_PROTO_HTTP, TS, AL_ST_HTTP_REQ_HEADERS, 0 },
	[AL_BUF_HTTP_REQUEST_BODY] = { "http.request_body", AL_PROTO_HTTP, TS, AL_ST_HTTP_REQ_BODY,
			0 },
	[AL_BUF_HTTP_STAT_CODE] = { "http.stat_code", AL_PROTO_HTTP, TC, AL_ST_HTTP_RESP_HEADERS,
			0 },
	[AL_BUF_HTTP_STAT_MSG] = { "http.stat_msg", AL_PROTO_HTTP, TC, AL_ST_HTTP_RESP_HEADERS, 0 },
	[AL_BUF_HTTP_PROTOCOL_RESP] = { "http.protocol", AL_PROTO_HTTP, TC, AL_ST_HTTP_RESP_HEADERS,
			0 },
	[AL_BUF_HTTP_RESPONSE_LINE] = { "http.response_line", AL_PROTO_HTTP, TC,
			AL_ST_HTTP_RESP_HEADERS, 0 },
	[AL_BUF_HTTP_LOCATION] = { "http.location", AL_PROTO_HTTP, TC, AL_ST_HTTP_RESP_HEADERS, 0 },
	[AL_BUF_HTTP_SERVER] = { "http.server", AL_PROTO_HTTP, TC, AL_ST_HTTP_RESP_HEADERS, 0 },
	[AL_BUF_HTTP_COOKIE_RESP] = { "http.cookie", AL_PROTO_HTTP, TC, AL_ST_HTTP_RESP_HEADERS,
			0 },
	[AL_BUF_HTTP_CONTENT_TYPE_RESP] = { "http.content_type", AL_PROTO_HTTP, TC,
			AL_ST_HTTP_RESP_HEADERS, 0 },
	[AL_BUF_HTTP_CONTENT_LEN_RESP] = { "http.content_len", AL_PROTO_HTTP, TC,
			AL_ST_HTTP_RESP_HEADERS, 0 },
	[AL_BUF_HTTP_HEADER_RESP] = { "http.header", AL_PROTO_HTTP, TC, AL_ST_HTTP_RESP_HEADERS,
			0 },
	[AL_BUF_HTTP_HEADER_RAW_RESP] = { "http.header.raw", AL_PROTO_HTTP, TC,
			AL_ST_HTTP_RESP_HEADERS, 0 },
	[AL_BUF_HTTP_HEADER_NAMES_RESP] = { "http.header_names", AL_PROTO_HTTP, TC,
			AL_ST_HTTP_RESP_HEADERS, 0 },
	[AL_BUF_HTTP_START_RESP] = { "http.start", AL_PROTO_HTTP, TC, AL_ST_HTTP_RESP_HEADERS, 0 },
	[AL_BUF_HTTP_RESPONSE_BODY] = { "http.response_body", AL_PROTO_HTTP, TC,
			AL_ST_HTTP_RESP_BODY, 0 },
	[AL_BUF_DNS_QUERY] = { "dns.query", AL_PROTO_DNS, TS, AL_ST_DNS_REQUEST, M },
	[AL_BUF_DNS_ANSWER_NAME] = { "dns.answer.name", AL_PROTO_DNS, TC, AL_ST_DNS_RESPONSE, M },
	[AL_BUF_DNS_RESP_QUERY] = { "dns.query.name", AL_PROTO_DNS, TC, AL_ST_DNS_RESPONSE, M },
	[AL_BUF_TLS_SNI] = { "tls.sni", AL_PROTO_TLS, TS, AL_ST_TLS_CLIENT_HELLO, 0 },
	[AL_BUF_TLS_JA3_HASH] = { "ja3.hash", AL_PROTO_TLS, TS, AL_ST_TLS_CLIENT_HELLO, 0 },
	[AL_BUF_TLS_JA3_STRING] = { "ja3.string", AL_PROTO_TLS, TS, AL_ST_TLS_CLIENT_HELLO, 0 },
	[AL_BUF_TLS_JA3S_HASH] = { "ja3s.hash", AL_PROTO_TLS, TC, AL_ST_TLS_SERVER_HELLO, 0 },
	[AL_BUF_TLS_JA3S_STRING] = { "ja3s.string", AL_PROTO_TLS, TC, AL_ST_TLS_SERVER_HELLO, 0 },
	[AL_BUF_TLS_CERT_SUBJECT] = { "tls.cert_subject", AL_PROTO_TLS, TC, AL_ST_TLS_SERVER_CERT,
			0 },
	[AL_BUF_TLS_CERT_ISSUER] = { "tls.cert_issuer", AL_PROTO_TLS, TC, AL_ST_TLS_SERVER_CERT,
			0 },
	[AL_BUF_TLS_CERT_SERIAL] = { "tls.cert_serial", AL_PROTO_TLS, TC, AL_ST_TLS_SERVER_CERT,
			0 },
	[AL_BUF_TLS_CERT_FINGERPRINT] = { "tls.cert_fingerprint", AL_PROTO_TLS, TC,
			AL_ST_TLS_SERVER_CERT, 0 },
	[AL_BUF_TLS_CERTS] = { "tls.certs", AL_PROTO_TLS, TC, AL_ST_TLS_SERVER_CERT, M },
	[AL_BUF_TLS_ALPN_CLIENT] = { "tls.alpn", AL_PROTO_TLS, TS, AL_ST_TLS_CLIENT_HELLO, M },
	[AL_BUF_TLS_RANDOM_CLIENT] = { "tls.random", AL_PROTO_TLS, TS, AL_ST_TLS_CLIENT_HELLO, 0 },
	[AL_BUF_TLS_RANDOM_SERVER] = { "tls.random", AL_PROTO_TLS, TC, AL_ST_TLS_SERVER_HELLO, 0 },
	[AL_BUF_SSH_PROTO_CLIENT] = { "ssh.proto", AL_PROTO_SSH, TS, AL_ST_SSH_CLIENT_BANNER, 0 },
	[AL_BUF_SSH_SOFTWARE_CLIENT] = { "ssh.software", AL_PROTO_SSH, TS, AL_ST_SSH_CLIENT_BANNER,
			0 },
	[AL_BUF_SSH_PROTO_SERVER] = { "ssh.proto", AL_PROTO_SSH, TC, AL_ST_SSH_SERVER_BANNER, 0 },
	[AL_BUF_SSH_SOFTWARE_SERVER] = { "ssh.software", AL_PROTO_SSH, TC, AL_ST_SSH_SERVER_BANNER,
			0 },
	[AL_BUF_SSH_HASSH_CLIENT] = { "ssh.hassh", AL_PROTO_SSH, TS, AL_ST_SSH_CLIENT_KEXINIT, 0 },
	[AL_BUF_SSH_HASSH_STRING_CLIENT] = { "ssh.hassh.string", AL_PROTO_SSH, TS,
			AL_ST_SSH_CLIENT_KEXINIT, 0 },
	[AL_BUF_SSH_HASSH_SERVER] = { "ssh.hassh.server", AL_PROTO_SSH, TC,
			AL_ST_SSH_SERVER_KEXINIT, 0 },
	[AL_BUF_SSH_HASSH_STRING_SERVER] = { "ssh.hassh.server.string", AL_PROTO_SSH, TC,
			AL_ST_SSH_SERVER_KEXINIT, 0 },
	[AL_BUF_SMTP_HELO] = { "smtp.helo", AL_PROTO_SMTP, TS, AL_ST_SMTP_ENVELOPE, 0 },
	[AL_BUF_SMTP_MAIL_FROM] = { "smtp.mail_from", AL_PROTO_SMTP, TS, AL_ST_SMTP_ENVELOPE, 0 },
	[AL_BUF_SMTP_RCPT_TO] = { "smtp.rcpt_to", AL_PROTO_SMTP, TS, AL_ST_SMTP_ENVELOPE, M },
	[AL_BUF_SMTP_DATA] = { "file.data", AL_PROTO_SMTP, TS, AL_ST_SMTP_DATA, 0 },
	[AL_BUF_FTP_COMMAND] = { "ftp.command", AL_PROTO_FTP, TS, AL_ST_FTP_COMMAND, 0 },
	[AL_BUF_FTP_COMMAND_DATA] = { "ftp.command_data", AL_PROTO_FTP, TS, AL_ST_FTP_COMMAND, 0 },
	[AL_BUF_FTP_REPLY] = { "ftp.reply", AL_PROTO_FTP, TC, AL_ST_FTP_REPLY, 0 },
};

static const struct al_num_info num_table[AL_NUM__COUNT] = {
	[AL_NUM_HTTP_STATUS] = { "http.stat_code", AL_PROTO_HTTP, TC, AL_ST_HTTP_RESP_HEADERS, 0 },
	[AL_NUM_HTTP_REQ_BODY_LEN] = { "http.request_body.len", AL_PROTO_HTTP, TS,
			AL_ST_HTTP_REQ_BODY, 0 },
	[AL_NUM_HTTP_RESP_BODY_LEN] = { "http.response_body.len", AL_PROTO_HTTP, TC,
			AL_ST_HTTP_RESP_BODY, 0 },
	[AL_NUM_HTTP_URI_LEN] = { "urilen", AL_PROTO_HTTP, TS, AL_ST_HTTP_REQ_HEADERS, 0 },
	[AL_NUM_HTTP_URI_RAW_LEN] = { "urilen.raw", AL_PROTO_HTTP, TS, AL_ST_HTTP_REQ_HEADERS, 0 },
	[AL_NUM_DNS_ID] = { "dns.id", AL_PROTO_DNS, TS, AL_ST_DNS_REQUEST, 0 },
	[AL_NUM_DNS_OPCODE] = { "dns.opcode", AL_PROTO_DNS, TS, AL_ST_DNS_REQUEST, 0 },
	[AL_NUM_DNS_RCODE] = { "dns.rcode", AL_PROTO_DNS, TC, AL_ST_DNS_RESPONSE, 0 },
	[AL_NUM_DNS_FLAGS] = { "dns.flags", AL_PROTO_DNS, TS, AL_ST_DNS_REQUEST, 0 },
	[AL_NUM_DNS_QTYPE] = { "dns.rrtype", AL_PROTO_DNS, TS, AL_ST_DNS_REQUEST, M },
	[AL_NUM_DNS_ANSWER_TYPE] = { "dns.answer.rrtype", AL_PROTO_DNS, TC, AL_ST_DNS_RESPONSE, M },
	[AL_NUM_DNS_REQ_RCODE] = { "dns.rcode", AL_PROTO_DNS, TS, AL_ST_DNS_REQUEST, 0 },
	[AL_NUM_DNS_RESP_OPCODE] = { "dns.opcode", AL_PROTO_DNS, TC, AL_ST_DNS_RESPONSE, 0 },
	[AL_NUM_TLS_VERSION] = { "tls.version", AL_PROTO_TLS, TC, AL_ST_TLS_SERVER_HELLO, 0 },
	[AL_NUM_TLS_CLIENT_VERSION] = { "tls.client_version", AL_PROTO_TLS, TS,
			AL_ST_TLS_CLIENT_HELLO, 0 },
	[AL_NUM_TLS_CERT_NOTBEFORE] = { "tls_cert_notbefore", AL_PROTO_TLS, TC,
			AL_ST_TLS_SERVER_CERT, 0 },
	[AL_NUM_TLS_CERT_NOTAFTER] = { "tls_cert_notafter", AL_PROTO_TLS, TC, AL_ST_TLS_SERVER_CERT,
			0 },
	[AL_NUM_TLS_CERT_CHAIN_LEN] = { "tls.cert_chain_len", AL_PROTO_TLS, TC,
			AL_ST_TLS_SERVER_CERT, 0 },
	[AL_NUM_SSH_CLIENT_PROTO_MAJ] = { "ssh.protoversion", AL_PROTO_SSH, TS,
			AL_ST_SSH_CLIENT_BANNER, 0 },
	[AL_NUM_SSH_SERVER_PROTO_MAJ] = { "ssh.protoversion", AL_PROTO_SSH, TC,
			AL_ST_SSH_SERVER_BANNER, 0 },
	[AL_NUM_FTP_REPLY_CODE] = { "ftp.reply_code", AL_PROTO_FTP, TC, AL_ST_FTP_REPLY, 0 },
};

#undef TS
#undef TC
#undef M

const struct al_buf_info *
al_buf_info(enum al_buf b)
{
	return b > AL_BUF_NONE && b < AL_BUF__COUNT ? &buf_table[b] : NULL;
}

const struct al_num_info *
al_num_info(enum al_num n)
{
	return n > AL_NUM_NONE && n < AL_NUM__COUNT ? &num_table[n] : NULL;
}

bool
al_tx_buf(const struct al_tx *tx, enum al_buf b, unsigned idx, const uint8_t **p, uint32_t *len)
{
	const struct al_buf_info *bi = al_buf_info(b);
	const struct al_parser *ps;

	if (tx == NULL || bi == NULL || bi->proto != tx->proto || !(tx->ready & bi->stage))
		return false;
	ps = parsers[tx->proto];
	return ps != NULL && ps->tx_buf != NULL && ps->tx_buf(tx, b, idx, p, len);
}

bool
al_tx_num(const struct al_tx *tx, enum al_num n, unsigned idx, uint64_t *v)
{
	const struct al_num_info *ni = al_num_info(n);
	const struct al_parser *ps;

	if (tx == NULL || ni == NULL || ni->proto != tx->proto || !(tx->ready & ni->stage))
		return false;
	ps = parsers[tx->proto];
	return ps != NULL && ps->tx_num != NULL && ps->tx_num(tx, n, idx, v);
}

/* ---- anomalies ---- */

const char *
al_anomaly_name(enum al_proto p, unsigned id)
{
	const struct al_parser *ps = (unsigned)p < AL_PROTO__COUNT ? parsers[p] : NULL;

	return ps != NULL && id < ps->n_anomalies ? ps->anomaly_names[id] : NULL;
}

unsigned
al_anomaly_count(enum al_proto p)
{
	const struct al_parser *ps = (unsigned)p < AL_PROTO__COUNT ? parsers[p] : NULL;

	return ps != NULL ? ps->n_anomalies : 0;
}

int
al_anomaly_find(enum al_proto p, const char *name)
{
	unsigned n = al_anomaly_count(p);

	for (unsigned i = 0; i < n; i++)
		if (strcmp(al_anomaly_name(p, i), name) == 0)
			return (int)i;
	return -ENOENT;
}

/* ---- context ---- */

#define AL_MAX_ANOMALIES 64

struct al_ctx {
	struct al_limits lim;
	struct al_mem *mem;
	uint32_t flows; /* live */
	struct al_counters c;
	uint64_t anomalies[AL_PROTO__COUNT][AL_MAX_ANOMALIES];
};

static const char *
proto_name(unsigned i)
{
	return al_proto_name((enum al_proto)i);
}

#define CTR(i_, key_, unit_, prom_, help_) \
	VG_CTR(struct al_counters, ctr[i_], key_, COUNTER, unit_, .prom = (prom_), .help = (help_))

/* The names dashboards and docs/API.md know: keep them. */
static const struct vg_ctr al_rows[] = {
	CTR(AL_CTR_FLOWS, "flows", "flows", "vigil_applayer_parsed_flows_total",
			"Flows given parser state."),
	CTR(AL_CTR_NO_FLOW, "flows_refused", "flows", "vigil_applayer_refused_flows_total",
			"Flows refused parser state: applayer max_flows reached."),
	CTR(AL_CTR_MEMCAP, "memcap", "allocations", "vigil_applayer_memcap_total",
			"Parser allocations refused: the arena was full."),
	CTR(AL_CTR_BYTES, "bytes", "bytes", "vigil_applayer_bytes_total",
			"Bytes given to the parsers."),
	CTR(AL_CTR_GAPS, "gaps", "gaps", "vigil_applayer_gaps_total",
			"Stream gaps the parsers were told of."),
	CTR(AL_CTR_TX, "transactions", "transactions", "vigil_applayer_transactions_total",
			"Transactions the parsers reported."),
	CTR(AL_CTR_DETECT_FAIL, "detect_failed", "flows", "vigil_applayer_detect_failed_total",
			"Flows whose protocol detection gave up."),
	/* Element 0 (AL_PROTO_NONE) is no protocol: never counted. */
	VG_CTR_ARRAY_FN(struct al_counters, proto_flows, AL_PROTO_HTTP, "protocols", COUNTER,
			"flows", proto_name, "proto", .head_unused = true,
			.prom = "vigil_applayer_flows_total",
			.help = "Inspected flows by the application protocol detected in them "
				"(failed: none recognised)."),
};
const struct vg_ctr_set al_ctr_set = VG_CTR_SET("applayer", struct al_counters, al_rows);

void
al_limits_default(struct al_limits *l)
{
	*l = (struct al_limits){
		.memcap = 64u << 20,
		.max_flows = 65536,
		.detect_bytes = 1024,
		.http_header_max = 16u << 10,
		.http_req_body = 64u << 10,
		.http_resp_body = 64u << 10,
		.http_inflate_max = 1u << 20,
		.http_inflate_ratio = 2048,
		.http_max_tx = 32,
		.dns_max_tx = 32,
		.dns_max_names = 32,
		.tls_max_record = 64u << 10,
		.line_max = 4u << 10,
	};
}

struct al_ctx *
al_ctx_create(const struct al_limits *l)
{
	struct al_ctx *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	if (l != NULL)
		c->lim = *l;
	else
		al_limits_default(&c->lim);
	c->mem = al_mem_create(c->lim.memcap);
	if (c->mem == NULL) {
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	return c;
}

void
al_ctx_free(struct al_ctx *c)
{
	if (c == NULL)
		return;
	al_mem_free_all(c->mem);
	free(c);
}

const struct al_limits *
al_ctx_limits(const struct al_ctx *c)
{
	return &c->lim;
}

uint64_t
al_ctx_counter(const struct al_ctx *c, enum al_ctr ctr)
{
	return (unsigned)ctr < AL_CTR__COUNT ? c->c.ctr[ctr] : 0;
}

const struct al_counters *
al_ctx_counters(const struct al_ctx *c)
{
	return &c->c;
}

uint64_t
al_ctx_proto_flows(const struct al_ctx *c, enum al_proto p)
{
	return (unsigned)p < AL_PROTO__COUNT ? c->c.proto_flows[p] : 0;
}

uint64_t
al_ctx_anomalies(const struct al_ctx *c, enum al_proto p, unsigned id)
{
	return (unsigned)p < AL_PROTO__COUNT && id < AL_MAX_ANOMALIES ? c->anomalies[p][id] : 0;
}

size_t
al_ctx_mem_used(const struct al_ctx *c)
{
	return al_mem_used(c->mem);
}

void *
al_alloc(struct al_ctx *c, size_t n)
{
	void *p = al_mem_alloc(c->mem, n);

	if (p == NULL)
		c->c.ctr[AL_CTR_MEMCAP]++;
	return p;
}

void *
al_realloc(struct al_ctx *c, void *p, size_t n)
{
	void *q = al_mem_realloc(c->mem, p, n);

	if (q == NULL)
		c->c.ctr[AL_CTR_MEMCAP]++;
	return q;
}

void
al_free(struct al_ctx *c, void *p)
{
	al_mem_release(c->mem, p);
}

void
al_emit(const struct al_emit *e, struct al_tx *tx, unsigned stage, unsigned dir)
{
	if (tx->ready & stage)
		return;
	if (tx->ready == 0)
		e->ctx->c.ctr[AL_CTR_TX]++; /* the transaction's first stage */
	tx->ready |= (uint8_t)stage;
	if (e->cb != NULL)
		e->cb(e->arg, tx, stage, dir);
}

void
al_anomaly(struct al_ctx *c, enum al_proto proto, struct al_tx *tx, unsigned id)
{
	if ((unsigned)proto < AL_PROTO__COUNT && id < AL_MAX_ANOMALIES)
		c->anomalies[proto][id]++;
	if (tx != NULL && id < 64)
		tx->anomalies |= 1ULL << id;
}

/* ---- flows ---- */

enum {
	F_DEAD = 1u << 0,     /* no more parsing */
	F_NOPROTO0 = 1u << 1, /* direction 0's first bytes are no known protocol */
	F_NOPROTO1 = 1u << 2,
};

#define PROBE_UDP_TRIES 4

struct al_flow {
	uint8_t proto; /* enum al_proto */
	uint8_t flags;
	bool tcp;
	uint8_t udp_tries[2];
	uint16_t sport, dport;
	const struct al_parser *parser;
	void *state;
	/* TCP: the first bytes of each direction until the protocol is known */
	uint8_t *probe[2];
	uint32_t probe_len[2];
};

struct al_flow *
al_flow_new(struct al_ctx *c, bool tcp, uint16_t sport, uint16_t dport)
{
	struct al_flow *f;

	if (c->flows >= c->lim.max_flows) {
		c->c.ctr[AL_CTR_NO_FLOW]++;
		return NULL;
	}
	f = al_alloc(c, sizeof(*f));
	if (f == NULL)
		return NULL;
	memset(f, 0, sizeof(*f));
	f->tcp = tcp;
	f->sport = sport;
	f->dport = dport;
	c->flows++;
	c->c.ctr[AL_CTR_FLOWS]++;
	return f;
}

static void
drop_probes(struct al_ctx *c, struct al_flow *f)
{
	for (unsigned d = 0; d < 2; d++) {
		al_free(c, f->probe[d]);
		f->probe[d] = NULL;
		f->probe_len[d] = 0;
	}
}

void
al_flow_free(struct al_ctx *c, struct al_flow *f)
{
	if (f == NULL)
		return;
	if (f->parser != NULL && f->state != NULL)
		f->parser->state_free(c, f->state);
	drop_probes(c, f);
	al_free(c, f);
	c->flows--;
}

enum al_proto
al_flow_proto(const struct al_flow *f)
{
	return (enum al_proto)f->proto;
}

static void
give_up(struct al_ctx *c, struct al_flow *f)
{
	if (f->parser != NULL && f->state != NULL)
		f->parser->state_free(c, f->state);
	f->state = NULL;
	f->flags |= F_DEAD;
	drop_probes(c, f);
}

static int
parse(struct al_ctx *c, struct al_flow *f, unsigned dir, const uint8_t *d, uint32_t len,
		const struct al_emit *e)
{
	if (len == 0 && f->tcp)
		return 0;
	if (f->parser->feed(c, f->state, dir, d, len, e) != 0) {
		give_up(c, f);
		return -1;
	}
	return 0;
}

/* The protocol is known: start its parser and hand it what was held back for detection. */
static int
start_parser(struct al_ctx *c, struct al_flow *f, enum al_proto p, unsigned dir,
		const struct al_emit *e)
{
	f->proto = (uint8_t)p;
	c->c.proto_flows[p]++;
	f->parser = parsers[p];
	if (f->parser == NULL) {
		give_up(c, f);
		return -1;
	}
	f->state = f->parser->state_new(c, f->tcp);
	if (f->state == NULL) {
		give_up(c, f);
		return -1;
	}
	/* The other direction's bytes came first (this one decided only now). */
	unsigned other = dir ^ 1;
	if (f->probe_len[other] > 0 &&
			parse(c, f, other, f->probe[other], f->probe_len[other], e) != 0)
		return -1;
	if (f->probe_len[dir] > 0 && parse(c, f, dir, f->probe[dir], f->probe_len[dir], e) != 0)
		return -1;
	drop_probes(c, f);
	return 0;
}

static void
detect_failed(struct al_ctx *c, struct al_flow *f)
{
	f->proto = AL_PROTO_FAILED;
	c->c.proto_flows[AL_PROTO_FAILED]++;
	c->c.ctr[AL_CTR_DETECT_FAIL]++;
	give_up(c, f);
}

/* TCP before the protocol is known: keep the direction's first bytes and probe them. */
static int
detect_tcp(struct al_ctx *c, struct al_flow *f, unsigned dir, const uint8_t *d, uint32_t len,
		const struct al_emit *e)
{
	const uint32_t cap = c->lim.detect_bytes;
	uint32_t have = f->probe_len[dir];
	enum al_proto p;
	bool more = false;
	uint8_t *nb;

	if (f->flags & (dir ? F_NOPROTO1 : F_NOPROTO0))
		return 0; /* this side said no; wait for the other */
	/* Every byte is kept (the parser needs them once the protocol is known); at most cap
	 * of them are probed, so what is held is bounded by cap and one segment. */
	nb = al_realloc(c, f->probe[dir], (size_t)have + len);
	if (nb == NULL) {
		give_up(c, f);
		return -1;
	}
	memcpy(nb + have, d, len);
	f->probe[dir] = nb;
	f->probe_len[dir] = have + len;
	uint32_t plen = f->probe_len[dir] < cap ? f->probe_len[dir] : cap;
	p = al_probe(f->probe[dir], plen, true, dir, f->sport, f->dport, &more);
	if (p != AL_PROTO_NONE)
		return start_parser(c, f, p, dir, e);
	if (more && f->probe_len[dir] < cap)
		return 0;
	f->flags |= dir ? F_NOPROTO1 : F_NOPROTO0;
	al_free(c, f->probe[dir]);
	f->probe[dir] = NULL;
	f->probe_len[dir] = 0;
	if ((f->flags & (F_NOPROTO0 | F_NOPROTO1)) == (F_NOPROTO0 | F_NOPROTO1)) {
		detect_failed(c, f);
		return -1;
	}
	return 0;
}

static int
detect_udp(struct al_ctx *c, struct al_flow *f, unsigned dir, const uint8_t *d, uint32_t len,
		const struct al_emit *e)
{
	bool more = false;
	enum al_proto p = al_probe(d, len, false, dir, f->sport, f->dport, &more);

	if (p != AL_PROTO_NONE) {
		if (start_parser(c, f, p, dir, e) != 0)
			return -1;
		return parse(c, f, dir, d, len, e);
	}
	if (++f->udp_tries[dir] >= PROBE_UDP_TRIES)
		f->flags |= dir ? F_NOPROTO1 : F_NOPROTO0;
	if ((f->flags & (F_NOPROTO0 | F_NOPROTO1)) == (F_NOPROTO0 | F_NOPROTO1)) {
		detect_failed(c, f);
		return -1;
	}
	return 0;
}

int
al_feed(struct al_ctx *c, struct al_flow *f, unsigned dir, const uint8_t *data, uint32_t len,
		al_tx_cb cb, void *arg)
{
	const struct al_emit e = { .ctx = c, .cb = cb, .arg = arg };

	if (f->flags & F_DEAD)
		return -1;
	dir &= 1;
	c->c.ctr[AL_CTR_BYTES] += len;
	if (f->parser != NULL)
		return parse(c, f, dir, data, len, &e);
	if (len == 0)
		return 0;
	return f->tcp ? detect_tcp(c, f, dir, data, len, &e) : detect_udp(c, f, dir, data, len, &e);
}

void
al_gap(struct al_ctx *c, struct al_flow *f, unsigned dir, uint32_t len)
{
	if (f->flags & F_DEAD)
		return;
	c->c.ctr[AL_CTR_GAPS]++;
	if (f->parser == NULL) {
		/* Detection cannot go on over a hole: the protocol stays unknown. */
		detect_failed(c, f);
		return;
	}
	if (f->parser->gap == NULL) {
		give_up(c, f);
		return;
	}
	f->parser->gap(c, f->state, dir & 1, len);
}

void
al_close(struct al_ctx *c, struct al_flow *f, unsigned dir, al_tx_cb cb, void *arg)
{
	const struct al_emit e = { .ctx = c, .cb = cb, .arg = arg };

	if ((f->flags & F_DEAD) || f->parser == NULL || f->parser->close == NULL)
		return;
	f->parser->close(c, f->state, dir & 1, &e);
}
