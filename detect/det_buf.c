/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <string.h>

#include "det_buf.h"

#define TS(b)                           \
	{                               \
		AL_BUF_##b, AL_BUF_NONE \
	}
#define TC(b)                           \
	{                               \
		AL_BUF_NONE, AL_BUF_##b \
	}
#define BOTH(b)                                     \
	{                                           \
		AL_BUF_##b##_REQ, AL_BUF_##b##_RESP \
	}
#define H AL_PROTO_HTTP

/*
 * Suricata's names: the sticky buffer, its older underscore name where one exists, and the
 * content modifier and pcre letter of the buffers that had them before sticky buffers.
 */
static const struct det_buf_def bufs[DET_BUF__COUNT] = {
	[DET_BUF_PKT] = { "pkt_data", NULL, NULL, 0, AL_PROTO_NONE, { 0, 0 } },
	[DET_BUF_HTTP_URI] = { "http.uri", NULL, "http_uri", 'U', H, TS(HTTP_URI) },
	[DET_BUF_HTTP_URI_RAW] = { "http.uri.raw", NULL, "http_raw_uri", 'I', H, TS(HTTP_URI_RAW) },
	[DET_BUF_HTTP_METHOD] = { "http.method", NULL, "http_method", 'M', H, TS(HTTP_METHOD) },
	[DET_BUF_HTTP_PROTOCOL] = { "http.protocol", "http_protocol", NULL, 0, H,
			BOTH(HTTP_PROTOCOL) },
	[DET_BUF_HTTP_REQUEST_LINE] = { "http.request_line", "http_request_line", NULL, 0, H,
			TS(HTTP_REQUEST_LINE) },
	[DET_BUF_HTTP_HOST] = { "http.host", NULL, "http_host", 'W', H, TS(HTTP_HOST) },
	[DET_BUF_HTTP_HOST_RAW] = { "http.host.raw", NULL, "http_raw_host", 'Z', H,
			TS(HTTP_HOST_RAW) },
	[DET_BUF_HTTP_USER_AGENT] = { "http.user_agent", NULL, "http_user_agent", 'V', H,
			TS(HTTP_USER_AGENT) },
	[DET_BUF_HTTP_REFERER] = { "http.referer", "http_referer", NULL, 0, H, TS(HTTP_REFERER) },
	[DET_BUF_HTTP_ACCEPT] = { "http.accept", "http_accept", NULL, 0, H, TS(HTTP_ACCEPT) },
	[DET_BUF_HTTP_ACCEPT_ENC] = { "http.accept_enc", "http_accept_enc", NULL, 0, H,
			TS(HTTP_ACCEPT_ENC) },
	[DET_BUF_HTTP_ACCEPT_LANG] = { "http.accept_lang", "http_accept_lang", NULL, 0, H,
			TS(HTTP_ACCEPT_LANG) },
	[DET_BUF_HTTP_CONNECTION] = { "http.connection", "http_connection", NULL, 0, H,
			TS(HTTP_CONNECTION) },
	[DET_BUF_HTTP_COOKIE] = { "http.cookie", NULL, "http_cookie", 'C', H, BOTH(HTTP_COOKIE) },
	[DET_BUF_HTTP_CONTENT_TYPE] = { "http.content_type", "http_content_type", NULL, 0, H,
			BOTH(HTTP_CONTENT_TYPE) },
	[DET_BUF_HTTP_CONTENT_LEN] = { "http.content_len", "http_content_len", NULL, 0, H,
			BOTH(HTTP_CONTENT_LEN) },
	[DET_BUF_HTTP_HEADER] = { "http.header", NULL, "http_header", 'H', H, BOTH(HTTP_HEADER) },
	[DET_BUF_HTTP_HEADER_RAW] = { "http.header.raw", NULL, "http_raw_header", 'D', H,
			BOTH(HTTP_HEADER_RAW) },
	[DET_BUF_HTTP_HEADER_NAMES] = { "http.header_names", "http_header_names", NULL, 0, H,
			BOTH(HTTP_HEADER_NAMES) },
	[DET_BUF_HTTP_START] = { "http.start", "http_start", NULL, 0, H, BOTH(HTTP_START) },
	[DET_BUF_HTTP_REQUEST_BODY] = { "http.request_body", NULL, "http_client_body", 'P', H,
			TS(HTTP_REQUEST_BODY) },
	[DET_BUF_HTTP_STAT_CODE] = { "http.stat_code", NULL, "http_stat_code", 'S', H,
			TC(HTTP_STAT_CODE) },
	[DET_BUF_HTTP_STAT_MSG] = { "http.stat_msg", NULL, "http_stat_msg", 'Y', H,
			TC(HTTP_STAT_MSG) },
	[DET_BUF_HTTP_RESPONSE_LINE] = { "http.response_line", "http_response_line", NULL, 0, H,
			TC(HTTP_RESPONSE_LINE) },
	[DET_BUF_HTTP_LOCATION] = { "http.location", NULL, NULL, 0, H, TC(HTTP_LOCATION) },
	[DET_BUF_HTTP_SERVER] = { "http.server", NULL, NULL, 0, H, TC(HTTP_SERVER) },
	[DET_BUF_HTTP_RESPONSE_BODY] = { "http.response_body", NULL, "http_server_body", 0, H,
			TC(HTTP_RESPONSE_BODY) },
	/* resolved per protocol: see det_buf_resolve() */
	[DET_BUF_FILE_DATA] = { "file.data", "file_data", NULL, 'Q', AL_PROTO_NONE, { 0, 0 } },
	[DET_BUF_DNS_QUERY] = { "dns.query", "dns_query", NULL, 0, AL_PROTO_DNS, TS(DNS_QUERY) },
	[DET_BUF_DNS_QUERY_NAME] = { "dns.query.name", NULL, NULL, 0, AL_PROTO_DNS,
			{ AL_BUF_DNS_QUERY, AL_BUF_DNS_RESP_QUERY } },
	[DET_BUF_DNS_ANSWER_NAME] = { "dns.answer.name", NULL, NULL, 0, AL_PROTO_DNS,
			TC(DNS_ANSWER_NAME) },
	/* Suricata 8's names of the two above */
	[DET_BUF_DNS_QUERIES_RRNAME] = { "dns.queries.rrname", NULL, NULL, 0, AL_PROTO_DNS,
			{ AL_BUF_DNS_QUERY, AL_BUF_DNS_RESP_QUERY } },
	[DET_BUF_DNS_ANSWERS_RRNAME] = { "dns.answers.rrname", NULL, NULL, 0, AL_PROTO_DNS,
			TC(DNS_ANSWER_NAME) },
	[DET_BUF_TLS_SNI] = { "tls.sni", "tls_sni", NULL, 0, AL_PROTO_TLS, TS(TLS_SNI) },
	[DET_BUF_TLS_CERT_SUBJECT] = { "tls.cert_subject", "tls_cert_subject", NULL, 0,
			AL_PROTO_TLS, TC(TLS_CERT_SUBJECT) },
	[DET_BUF_TLS_CERT_ISSUER] = { "tls.cert_issuer", "tls_cert_issuer", NULL, 0, AL_PROTO_TLS,
			TC(TLS_CERT_ISSUER) },
	[DET_BUF_TLS_CERT_SERIAL] = { "tls.cert_serial", "tls_cert_serial", NULL, 0, AL_PROTO_TLS,
			TC(TLS_CERT_SERIAL) },
	[DET_BUF_TLS_CERT_FINGERPRINT] = { "tls.cert_fingerprint", "tls_cert_fingerprint", NULL, 0,
			AL_PROTO_TLS, TC(TLS_CERT_FINGERPRINT) },
	[DET_BUF_TLS_CERTS] = { "tls.certs", NULL, NULL, 0, AL_PROTO_TLS, TC(TLS_CERTS) },
	[DET_BUF_TLS_ALPN] = { "tls.alpn", NULL, NULL, 0, AL_PROTO_TLS, TS(TLS_ALPN_CLIENT) },
	[DET_BUF_TLS_RANDOM] = { "tls.random", NULL, NULL, 0, AL_PROTO_TLS,
			{ AL_BUF_TLS_RANDOM_CLIENT, AL_BUF_TLS_RANDOM_SERVER } },
	[DET_BUF_JA3_HASH] = { "ja3.hash", "ja3_hash", NULL, 0, AL_PROTO_TLS, TS(TLS_JA3_HASH) },
	[DET_BUF_JA3_STRING] = { "ja3.string", "ja3_string", NULL, 0, AL_PROTO_TLS,
			TS(TLS_JA3_STRING) },
	[DET_BUF_JA3S_HASH] = { "ja3s.hash", "ja3s_hash", NULL, 0, AL_PROTO_TLS,
			TC(TLS_JA3S_HASH) },
	[DET_BUF_JA3S_STRING] = { "ja3s.string", "ja3s_string", NULL, 0, AL_PROTO_TLS,
			TC(TLS_JA3S_STRING) },
	[DET_BUF_SSH_PROTO] = { "ssh.proto", "ssh_proto", NULL, 0, AL_PROTO_SSH,
			{ AL_BUF_SSH_PROTO_CLIENT, AL_BUF_SSH_PROTO_SERVER } },
	[DET_BUF_SSH_SOFTWARE] = { "ssh.software", "ssh_software", NULL, 0, AL_PROTO_SSH,
			{ AL_BUF_SSH_SOFTWARE_CLIENT, AL_BUF_SSH_SOFTWARE_SERVER } },
	[DET_BUF_SSH_HASSH] = { "ssh.hassh", NULL, NULL, 0, AL_PROTO_SSH, TS(SSH_HASSH_CLIENT) },
	[DET_BUF_SSH_HASSH_STRING] = { "ssh.hassh.string", NULL, NULL, 0, AL_PROTO_SSH,
			TS(SSH_HASSH_STRING_CLIENT) },
	[DET_BUF_SSH_HASSH_SERVER] = { "ssh.hassh.server", NULL, NULL, 0, AL_PROTO_SSH,
			TC(SSH_HASSH_SERVER) },
	[DET_BUF_SSH_HASSH_SERVER_STRING] = { "ssh.hassh.server.string", NULL, NULL, 0,
			AL_PROTO_SSH, TC(SSH_HASSH_STRING_SERVER) },
	[DET_BUF_SMTP_HELO] = { "smtp.helo", NULL, NULL, 0, AL_PROTO_SMTP, TS(SMTP_HELO) },
	[DET_BUF_SMTP_MAIL_FROM] = { "smtp.mail_from", NULL, NULL, 0, AL_PROTO_SMTP,
			TS(SMTP_MAIL_FROM) },
	[DET_BUF_SMTP_RCPT_TO] = { "smtp.rcpt_to", NULL, NULL, 0, AL_PROTO_SMTP, TS(SMTP_RCPT_TO) },
	[DET_BUF_FTP_COMMAND] = { "ftp.command", NULL, NULL, 0, AL_PROTO_FTP, TS(FTP_COMMAND) },
	[DET_BUF_FTP_COMMAND_DATA] = { "ftp.command_data", NULL, NULL, 0, AL_PROTO_FTP,
			TS(FTP_COMMAND_DATA) },
	[DET_BUF_FTP_REPLY] = { "ftp.reply", NULL, NULL, 0, AL_PROTO_FTP, TC(FTP_REPLY) },
	[DET_BUF_TCP_HDR] = { "tcp.hdr", NULL, NULL, 0, AL_PROTO_NONE, { 0, 0 } },
	[DET_BUF_ICMPV6_HDR] = { "icmpv6.hdr", NULL, NULL, 0, AL_PROTO_NONE, { 0, 0 } },
};

#undef TS
#undef TC
#undef BOTH
#undef H

const struct det_buf_def *
det_buf_def(unsigned b)
{
	return b < DET_BUF__COUNT ? &bufs[b] : NULL;
}

int
det_buf_find_sticky(const char *name)
{
	/* pkt_data is a keyword of its own: it ends a sticky buffer */
	for (unsigned i = 1; i < DET_BUF__COUNT; i++)
		if (strcmp(bufs[i].name, name) == 0 ||
				(bufs[i].alias != NULL && strcmp(bufs[i].alias, name) == 0))
			return (int)i;
	return -1;
}

int
det_buf_find_modifier(const char *name)
{
	for (unsigned i = 1; i < DET_BUF__COUNT; i++)
		if (bufs[i].modifier != NULL && strcmp(bufs[i].modifier, name) == 0)
			return (int)i;
	return -1;
}

int
det_buf_find_pcre(char letter)
{
	for (unsigned i = 1; i < DET_BUF__COUNT; i++)
		if (bufs[i].pcre == letter)
			return (int)i;
	return -1;
}

enum al_buf
det_buf_resolve(unsigned b, enum al_proto proto, unsigned dir)
{
	if (b == 0 || b >= DET_BUF__COUNT || dir > 1)
		return AL_BUF_NONE;
	if (b == DET_BUF_FILE_DATA) {
		/* the bodies of HTTP (request to the server, response to the client), an SMTP
		 * message (client to server) */
		if (proto == AL_PROTO_HTTP)
			return dir == AL_TO_SERVER ? AL_BUF_HTTP_REQUEST_BODY
						   : AL_BUF_HTTP_RESPONSE_BODY;
		if (proto == AL_PROTO_SMTP)
			return dir == AL_TO_SERVER ? AL_BUF_SMTP_DATA : AL_BUF_NONE;
		return AL_BUF_NONE;
	}
	if (bufs[b].proto != proto)
		return AL_BUF_NONE;
	return (enum al_buf)bufs[b].al[dir];
}

/* ---- numbers ---- */

static const struct det_num_def nums[DET_NUM__COUNT] = {
	/* Suricata compares the version of the side the rule inspects */
	[DET_NUM_TLS_VERSION] = { "tls.version", AL_PROTO_TLS,
			{ AL_NUM_TLS_CLIENT_VERSION, AL_NUM_TLS_VERSION } },
	/* DNS: the header of the message of the rule's direction, as Suricata; dns.rrtype: the
	 * questions' types of a request, the answers' types of a response */
	[DET_NUM_DNS_OPCODE] = { "dns.opcode", AL_PROTO_DNS,
			{ AL_NUM_DNS_OPCODE, AL_NUM_DNS_RESP_OPCODE } },
	[DET_NUM_DNS_RRTYPE] = { "dns.rrtype", AL_PROTO_DNS,
			{ AL_NUM_DNS_QTYPE, AL_NUM_DNS_ANSWER_TYPE } },
	[DET_NUM_DNS_RCODE] = { "dns.rcode", AL_PROTO_DNS,
			{ AL_NUM_DNS_REQ_RCODE, AL_NUM_DNS_RCODE } },
	[DET_NUM_TLS_CHAIN_LEN] = { "tls.cert_chain_len", AL_PROTO_TLS,
			{ AL_NUM_NONE, AL_NUM_TLS_CERT_CHAIN_LEN } },
};

const struct det_num_def *
det_num_def(unsigned n)
{
	return n < DET_NUM__COUNT ? &nums[n] : NULL;
}

int
det_num_find(const char *name)
{
	for (unsigned i = 0; i < DET_NUM__COUNT; i++)
		if (strcmp(nums[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* ---- transforms ---- */

static const char *const xf_names[DET_XF__COUNT] = {
	[DET_XF_NONE] = "none",
	[DET_XF_DOTPREFIX] = "dotprefix",
	[DET_XF_STRIP_WS] = "strip_whitespace",
	[DET_XF_COMPRESS_WS] = "compress_whitespace",
	[DET_XF_TO_LOWER] = "to_lowercase",
	[DET_XF_TO_UPPER] = "to_uppercase",
	[DET_XF_URL_DECODE] = "url_decode",
};

int
det_xf_find(const char *name)
{
	for (unsigned i = 1; i < DET_XF__COUNT; i++)
		if (strcmp(xf_names[i], name) == 0)
			return (int)i;
	return -1;
}

const char *
det_xf_name(unsigned xf)
{
	return xf < DET_XF__COUNT ? xf_names[xf] : "?";
}

/* isspace() of the C locale, which Suricata's transforms use */
static inline bool
ws(uint8_t c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static inline int
hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One transform in place on b[0, n) (cap bytes): the new length, or -1 when it grows too big. */
static int64_t
xf_one(uint8_t xf, uint8_t *b, uint32_t n, uint32_t cap)
{
	uint32_t o = 0;

	switch (xf) {
	case DET_XF_DOTPREFIX:
		/* an empty buffer stays empty, as in Suricata */
		if (n == 0)
			return 0;
		if (n + 1 > cap)
			return -1;
		memmove(b + 1, b, n);
		b[0] = '.';
		return n + 1;
	case DET_XF_STRIP_WS:
		for (uint32_t i = 0; i < n; i++)
			if (!ws(b[i]))
				b[o++] = b[i];
		return o;
	case DET_XF_COMPRESS_WS:
		/* a run of whitespace keeps its first byte */
		for (uint32_t i = 0; i < n; i++)
			if (!ws(b[i]) || o == 0 || !ws(b[o - 1]))
				b[o++] = b[i];
		return o;
	case DET_XF_TO_LOWER:
		for (uint32_t i = 0; i < n; i++)
			if (b[i] >= 'A' && b[i] <= 'Z')
				b[i] |= 0x20;
		return n;
	case DET_XF_TO_UPPER:
		for (uint32_t i = 0; i < n; i++)
			if (b[i] >= 'a' && b[i] <= 'z')
				b[i] &= (uint8_t)~0x20;
		return n;
	case DET_XF_URL_DECODE:
		for (uint32_t i = 0; i < n; i++) {
			if (b[i] == '%' && i + 2 < n && hexval(b[i + 1]) >= 0 &&
					hexval(b[i + 2]) >= 0) {
				b[o++] = (uint8_t)(hexval(b[i + 1]) << 4 | hexval(b[i + 2]));
				i += 2;
			} else if (b[i] == '+') {
				b[o++] = ' ';
			} else {
				b[o++] = b[i];
			}
		}
		return o;
	default:
		return n;
	}
}

int64_t
det_xf_apply(const uint8_t *xf, unsigned n, const uint8_t *in, uint32_t len, uint8_t *out,
		uint32_t cap)
{
	int64_t l = len;

	if (len > cap)
		return -1;
	if (len > 0)
		memcpy(out, in, len);
	for (unsigned i = 0; i < n && l >= 0; i++)
		l = xf_one(xf[i], out, (uint32_t)l, cap);
	return l;
}

const char *
det_xf_content_check(const uint8_t *xf, unsigned n, const uint8_t *pat, uint32_t len)
{
	for (unsigned i = 0; i < n; i++) {
		for (uint32_t k = 0; k < len; k++) {
			uint8_t c = pat[k];

			if ((xf[i] == DET_XF_TO_LOWER && c >= 'A' && c <= 'Z') ||
					(xf[i] == DET_XF_TO_UPPER && c >= 'a' && c <= 'z') ||
					(xf[i] == DET_XF_STRIP_WS && ws(c)) ||
					(xf[i] == DET_XF_COMPRESS_WS && ws(c) && k + 1 < len &&
							ws(pat[k + 1])))
				return xf_names[xf[i]];
		}
	}
	return NULL;
}
