/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The application-layer part of the rule language: the buffers a rule can inspect (Suricata's
 * sticky buffers, their older names, the legacy content modifiers and pcre letters that select
 * them), the numbers it can test, and the transforms it can apply to a buffer.
 *
 * A rule names a logical buffer ("http.header"); which bytes that is depends on the direction
 * the rule inspects (the request's or the response's headers) and, for file.data, on the
 * protocol (an HTTP body or an SMTP message): det_buf_resolve() gives the enum al_buf of
 * applayer/al.h, whose al_buf_info() says the stage after which the bytes are final.
 *
 * The tables are constant; nothing here allocates.
 */
#ifndef DET_BUF_H
#define DET_BUF_H

#include <stdbool.h>
#include <stdint.h>

#include "al.h"

/* Logical buffers (rows of det_buf.c's table). 0 is the packet's (or stream's) payload. */
enum det_buf {
	DET_BUF_PKT = 0,
	DET_BUF_HTTP_URI,
	DET_BUF_HTTP_URI_RAW,
	DET_BUF_HTTP_METHOD,
	DET_BUF_HTTP_PROTOCOL,
	DET_BUF_HTTP_REQUEST_LINE,
	DET_BUF_HTTP_HOST,
	DET_BUF_HTTP_HOST_RAW,
	DET_BUF_HTTP_USER_AGENT,
	DET_BUF_HTTP_REFERER,
	DET_BUF_HTTP_ACCEPT,
	DET_BUF_HTTP_ACCEPT_ENC,
	DET_BUF_HTTP_ACCEPT_LANG,
	DET_BUF_HTTP_CONNECTION,
	DET_BUF_HTTP_COOKIE,
	DET_BUF_HTTP_CONTENT_TYPE,
	DET_BUF_HTTP_CONTENT_LEN,
	DET_BUF_HTTP_HEADER,
	DET_BUF_HTTP_HEADER_RAW,
	DET_BUF_HTTP_HEADER_NAMES,
	DET_BUF_HTTP_START,
	DET_BUF_HTTP_REQUEST_BODY,
	DET_BUF_HTTP_STAT_CODE,
	DET_BUF_HTTP_STAT_MSG,
	DET_BUF_HTTP_RESPONSE_LINE,
	DET_BUF_HTTP_LOCATION,
	DET_BUF_HTTP_SERVER,
	DET_BUF_HTTP_RESPONSE_BODY,
	DET_BUF_FILE_DATA,
	DET_BUF_DNS_QUERY,
	DET_BUF_DNS_QUERY_NAME,
	DET_BUF_DNS_ANSWER_NAME,
	DET_BUF_DNS_QUERIES_RRNAME,
	DET_BUF_DNS_ANSWERS_RRNAME,
	DET_BUF_TLS_SNI,
	DET_BUF_TLS_CERT_SUBJECT,
	DET_BUF_TLS_CERT_ISSUER,
	DET_BUF_TLS_CERT_SERIAL,
	DET_BUF_TLS_CERT_FINGERPRINT,
	DET_BUF_TLS_CERTS,
	DET_BUF_TLS_ALPN,
	DET_BUF_TLS_RANDOM,
	DET_BUF_JA3_HASH,
	DET_BUF_JA3_STRING,
	DET_BUF_JA3S_HASH,
	DET_BUF_JA3S_STRING,
	DET_BUF_SSH_PROTO,
	DET_BUF_SSH_SOFTWARE,
	DET_BUF_SSH_HASSH,
	DET_BUF_SSH_HASSH_STRING,
	DET_BUF_SSH_HASSH_SERVER,
	DET_BUF_SSH_HASSH_SERVER_STRING,
	DET_BUF_SMTP_HELO,
	DET_BUF_SMTP_MAIL_FROM,
	DET_BUF_SMTP_RCPT_TO,
	DET_BUF_FTP_COMMAND,
	DET_BUF_FTP_COMMAND_DATA,
	DET_BUF_FTP_REPLY,
	/* header buffers: the packet's own headers (det_hdr.h), not a transaction's */
	DET_BUF_TCP_HDR,
	DET_BUF_ICMPV6_HDR,
	DET_BUF__COUNT
};

/* Is b a header buffer (tcp.hdr, icmpv6.hdr), inspected per packet by det_hdr_ok()? */
static inline bool
det_buf_is_hdr(unsigned b)
{
	return b == DET_BUF_TCP_HDR || b == DET_BUF_ICMPV6_HDR;
}

struct det_buf_def {
	const char *name;     /* the sticky buffer keyword, "http.uri" */
	const char *alias;    /* an older sticky name ("http_accept", "dns_query"), or NULL */
	const char *modifier; /* the legacy content modifier ("http_uri"), or NULL */
	char pcre;	      /* the pcre modifier letter ('U'), or 0 */
	uint8_t proto;	      /* enum al_proto; AL_PROTO_NONE for file.data (any with files) */
	/* the al_buf per direction (index AL_TO_SERVER, AL_TO_CLIENT); AL_BUF_NONE: none */
	uint8_t al[2];
};

/* The row of b, or NULL. */
const struct det_buf_def *det_buf_def(unsigned b);

/* The buffer a keyword names as a sticky buffer (name or alias), or -1. */
int det_buf_find_sticky(const char *name);
/* The buffer a legacy content modifier moves its content to, or -1. */
int det_buf_find_modifier(const char *name);
/* The buffer a pcre modifier letter selects, or -1. */
int det_buf_find_pcre(char letter);

/*
 * The al_buf buffer b means in a rule for protocol proto inspecting direction dir
 * (AL_TO_SERVER, AL_TO_CLIENT); AL_BUF_NONE when Vigil has none (file.data of a protocol
 * without files, http.uri to the client, ...).
 */
enum al_buf det_buf_resolve(unsigned b, enum al_proto proto, unsigned dir);

/* ---- numbers ---- */

enum det_numkw {
	DET_NUM_TLS_VERSION = 0, /* tls.version */
	DET_NUM_DNS_OPCODE,	 /* dns.opcode */
	DET_NUM_DNS_RRTYPE,	 /* dns.rrtype: a question's type */
	DET_NUM_DNS_RCODE,	 /* dns.rcode */
	DET_NUM_TLS_CHAIN_LEN,	 /* tls.cert_chain_len */
	DET_NUM__COUNT
};

struct det_num_def {
	const char *name;
	uint8_t proto; /* enum al_proto */
	uint8_t al[2]; /* enum al_num per direction; AL_NUM_NONE: none */
};

const struct det_num_def *det_num_def(unsigned n);
int det_num_find(const char *name);

/* ---- transforms ---- */

enum det_xf {
	DET_XF_NONE = 0,
	DET_XF_DOTPREFIX,
	DET_XF_STRIP_WS,
	DET_XF_COMPRESS_WS,
	DET_XF_TO_LOWER,
	DET_XF_TO_UPPER,
	DET_XF_URL_DECODE,
	DET_XF__COUNT
};

/* Transforms one buffer of a rule may have (Suricata allows more; rules use one or two). */
#define DET_XF_MAX 4

/* The transform a keyword names, or -1. */
int det_xf_find(const char *name);
const char *det_xf_name(unsigned xf);

/*
 * Apply the transforms xf[0, n) in order to in[0, len), writing the result to out (cap
 * bytes; out may not overlap in). Returns the result's length, or -1 when it does not fit in
 * cap (a transform adds at most one byte: dotprefix).
 */
int64_t det_xf_apply(const uint8_t *xf, unsigned n, const uint8_t *in, uint32_t len, uint8_t *out,
		uint32_t cap);

/*
 * Can a content pat[0, len) match a buffer after the transforms? As Suricata, a content with
 * upper-case letters cannot match a to_lowercase buffer, whitespace cannot survive
 * strip_whitespace, nor two whitespace bytes in a row compress_whitespace. Returns NULL when it
 * can, or the name of the transform that prevents it.
 */
const char *det_xf_content_check(const uint8_t *xf, unsigned n, const uint8_t *pat, uint32_t len);

#endif /* DET_BUF_H */
