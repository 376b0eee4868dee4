/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Application-layer inspection: which protocol a flow speaks, and its messages parsed into the
 * buffers and values that signatures test (Suricata's sticky buffers: http.uri, dns.query,
 * tls.sni, ...).
 *
 *   al_ctx_create()   per worker: limits, a bounded memory arena, anomaly counters
 *   al_flow_new()     per inspected flow, when its first payload arrives
 *   al_feed()         in-order bytes of one direction: a TCP stream's next bytes, or one UDP
 *                     datagram. The protocol is detected from the first bytes of either
 *                     direction (not from ports), then the protocol's parser runs
 *                     incrementally: a message may arrive in any split.
 *   al_tx_cb          the parser reports each transaction as its parts become final (a stage:
 *                     request headers, request body, response headers, ...); the caller runs
 *                     the signatures whose buffers are all final at that point
 *   al_tx_buf(), al_tx_num()   what a transaction holds, by enum al_buf / enum al_num
 *   al_close()        the direction ended (FIN, RST, flow end): pending parts are final now
 *   al_flow_free()
 *
 * Memory: every byte a parser keeps comes from the context's arena (al_alloc), which has a
 * fixed size set at creation (al_limits.memcap): nothing is allocated from the heap on the
 * packet path. A parser that cannot get memory stops inspecting that flow and counts it
 * (AL_CTR_MEMCAP); it never fails the packet.
 *
 * Anomalies: each parser names what it finds wrong (malformed lines, oversized headers,
 * decompression bombs cut, ...) with Suricata's app-layer event names where Suricata has the
 * same event. They are counted per context by name and recorded in the transaction
 * (al_tx.anomalies) so that `app-layer-event` rules can test them.
 *
 * Thread safety: a context and its flows belong to one thread. The tables (al_buf_info,
 * al_proto_name, ...) are constant.
 */
#ifndef AL_H
#define AL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Protocols, as a flow's detected protocol and as a rule's protocol. */
enum al_proto {
	AL_PROTO_NONE = 0, /* not decided yet */
	AL_PROTO_HTTP,	   /* HTTP/1.0, HTTP/1.1 */
	AL_PROTO_TLS,	   /* TLS and SSL 3.0 handshakes */
	AL_PROTO_DNS,	   /* over UDP, and over TCP with the length prefix */
	AL_PROTO_SSH,
	AL_PROTO_SMTP,
	AL_PROTO_FTP,
	AL_PROTO_FAILED, /* detection gave up: no known protocol in the first bytes */
	AL_PROTO__COUNT
};

/* "http", "tls", "dns", "ssh", "smtp", "ftp", "failed", "unknown" (for NONE). */
const char *al_proto_name(enum al_proto p);

/*
 * A protocol by the name a rule or a config uses: the names above and Suricata's aliases
 * ("http1", "ssl", ...). Returns 0, or -ENOENT for a name Vigil has no parser for.
 */
int al_proto_from_name(const char *name, enum al_proto *p);

/* Directions: of the flow's initiator (client) and of the responder (server). */
enum { AL_TO_SERVER = 0, AL_TO_CLIENT = 1 };

/* ---- buffers and values of a transaction ---- */

/*
 * Stages: bits of al_tx.ready. A transaction's buffers of a stage are final once its bit is
 * set; bits are set in any order (an SSH server speaks first), each once per transaction.
 */
enum {
	/* HTTP: one transaction per request (and its response). Requests without a body set
	 * REQ_BODY together with REQ_HEADERS. */
	AL_ST_HTTP_REQ_HEADERS = 1u << 0, /* request line and headers */
	AL_ST_HTTP_REQ_BODY = 1u << 1,	  /* request body complete (or cut at its limit) */
	AL_ST_HTTP_RESP_HEADERS = 1u << 2,
	AL_ST_HTTP_RESP_BODY = 1u << 3,
	/* DNS: one transaction per message id; a response without its request is a
	 * transaction with RESPONSE alone. */
	AL_ST_DNS_REQUEST = 1u << 0,
	AL_ST_DNS_RESPONSE = 1u << 1,
	/* TLS: one transaction per handshake. */
	AL_ST_TLS_CLIENT_HELLO = 1u << 0,
	AL_ST_TLS_SERVER_HELLO = 1u << 1,
	AL_ST_TLS_SERVER_CERT = 1u << 2, /* the server's Certificate message */
	/* SSH: one transaction per flow. */
	AL_ST_SSH_CLIENT_BANNER = 1u << 0,
	AL_ST_SSH_SERVER_BANNER = 1u << 1,
	AL_ST_SSH_CLIENT_KEXINIT = 1u << 2,
	AL_ST_SSH_SERVER_KEXINIT = 1u << 3,
	/* SMTP: one transaction per mail (HELO/EHLO, MAIL FROM, RCPT TO ... DATA). */
	AL_ST_SMTP_ENVELOPE = 1u << 0, /* DATA or BDAT seen: helo, mail from, rcpt to final */
	AL_ST_SMTP_DATA = 1u << 1,     /* the message data ended */
	/* FTP: one transaction per command and its reply. */
	AL_ST_FTP_COMMAND = 1u << 0,
	AL_ST_FTP_REPLY = 1u << 1,
};

/*
 * Buffers. Where Suricata's sticky buffer means the request's or the response's version
 * depending on the rule's direction (http.header, file.data, ...), there is one buffer for
 * each; al_buf_info() says which protocol, direction and stage each one belongs to.
 */
enum al_buf {
	AL_BUF_NONE = 0,
	/* HTTP request */
	AL_BUF_HTTP_METHOD,
	AL_BUF_HTTP_URI,     /* normalised as Suricata does (percent-decoded, path normalised) */
	AL_BUF_HTTP_URI_RAW, /* as sent */
	AL_BUF_HTTP_PROTOCOL_REQ, /* "HTTP/1.1" */
	AL_BUF_HTTP_REQUEST_LINE, /* without the CRLF */
	AL_BUF_HTTP_HOST,	  /* lower-cased, without the port */
	AL_BUF_HTTP_HOST_RAW,
	AL_BUF_HTTP_USER_AGENT,
	AL_BUF_HTTP_REFERER,
	AL_BUF_HTTP_ACCEPT,
	AL_BUF_HTTP_ACCEPT_ENC,
	AL_BUF_HTTP_ACCEPT_LANG,
	AL_BUF_HTTP_CONNECTION,
	AL_BUF_HTTP_COOKIE_REQ,	      /* Cookie header value(s) */
	AL_BUF_HTTP_CONTENT_TYPE_REQ, /* header values; duplicates joined with ", " */
	AL_BUF_HTTP_CONTENT_LEN_REQ,
	AL_BUF_HTTP_HEADER_REQ,	      /* "Name: value\r\n" per header, normalised as Suricata */
	AL_BUF_HTTP_HEADER_RAW_REQ,   /* the header block as sent */
	AL_BUF_HTTP_HEADER_NAMES_REQ, /* "\r\nName\r\nName\r\n\r\n" */
	AL_BUF_HTTP_START_REQ,	      /* request line and headers as sent, with the empty line */
	AL_BUF_HTTP_REQUEST_BODY,     /* dechunked, decompressed; also file.data to_server */
	/* HTTP response */
	AL_BUF_HTTP_STAT_CODE, /* "200" */
	AL_BUF_HTTP_STAT_MSG,  /* "OK" */
	AL_BUF_HTTP_PROTOCOL_RESP,
	AL_BUF_HTTP_RESPONSE_LINE,
	AL_BUF_HTTP_LOCATION,
	AL_BUF_HTTP_SERVER,
	AL_BUF_HTTP_COOKIE_RESP, /* Set-Cookie */
	AL_BUF_HTTP_CONTENT_TYPE_RESP,
	AL_BUF_HTTP_CONTENT_LEN_RESP,
	AL_BUF_HTTP_HEADER_RESP,
	AL_BUF_HTTP_HEADER_RAW_RESP,
	AL_BUF_HTTP_HEADER_NAMES_RESP,
	AL_BUF_HTTP_START_RESP,
	AL_BUF_HTTP_RESPONSE_BODY, /* dechunked, decompressed; file.data to_client */
	/* DNS */
	AL_BUF_DNS_QUERY,	/* each question's name of a request, dotted (multi) */
	AL_BUF_DNS_ANSWER_NAME, /* each answer record's owner name of a response (multi) */
	AL_BUF_DNS_RESP_QUERY,	/* each question's name as echoed in the response (multi) */
	/* TLS */
	AL_BUF_TLS_SNI,
	AL_BUF_TLS_JA3_HASH,   /* 32 lower-case hex digits */
	AL_BUF_TLS_JA3_STRING, /* "771,4865-4866,0-23-65281,29-23,0" */
	AL_BUF_TLS_JA3S_HASH,
	AL_BUF_TLS_JA3S_STRING,
	AL_BUF_TLS_CERT_SUBJECT, /* of the server's first certificate, "C=US, O=..., CN=..." */
	AL_BUF_TLS_CERT_ISSUER,
	AL_BUF_TLS_CERT_SERIAL,	     /* "0A:1B:..." upper-case hex pairs with colons */
	AL_BUF_TLS_CERT_FINGERPRINT, /* SHA-1 of the DER, "aa:bb:..." lower-case */
	AL_BUF_TLS_CERTS,	     /* each certificate of the chain, DER (multi) */
	AL_BUF_TLS_ALPN_CLIENT,	     /* each protocol the client offers (multi) */
	AL_BUF_TLS_RANDOM_CLIENT,    /* 32 bytes */
	AL_BUF_TLS_RANDOM_SERVER,
	/* SSH */
	AL_BUF_SSH_PROTO_CLIENT, /* "2.0" */
	AL_BUF_SSH_SOFTWARE_CLIENT,
	AL_BUF_SSH_PROTO_SERVER,
	AL_BUF_SSH_SOFTWARE_SERVER,
	AL_BUF_SSH_HASSH_CLIENT, /* MD5 hex of the client's KEXINIT algorithm lists */
	AL_BUF_SSH_HASSH_STRING_CLIENT,
	AL_BUF_SSH_HASSH_SERVER,
	AL_BUF_SSH_HASSH_STRING_SERVER,
	/* SMTP */
	AL_BUF_SMTP_HELO,
	AL_BUF_SMTP_MAIL_FROM,
	AL_BUF_SMTP_RCPT_TO, /* multi */
	AL_BUF_SMTP_DATA,    /* the message as sent, up to the body limit */
	/* FTP */
	AL_BUF_FTP_COMMAND,	 /* "RETR" */
	AL_BUF_FTP_COMMAND_DATA, /* its argument */
	AL_BUF_FTP_REPLY,	 /* the reply lines */
	AL_BUF__COUNT
};

/* Numbers a transaction carries (status codes, types, versions, times). */
enum al_num {
	AL_NUM_NONE = 0,
	AL_NUM_HTTP_STATUS,	     /* response status code */
	AL_NUM_HTTP_REQ_BODY_LEN,    /* request body bytes seen (after dechunking) */
	AL_NUM_HTTP_RESP_BODY_LEN,   /* response body bytes seen */
	AL_NUM_HTTP_URI_LEN,	     /* normalised URI length (urilen) */
	AL_NUM_HTTP_URI_RAW_LEN,     /* raw URI length (urilen ..., raw) */
	AL_NUM_DNS_ID,		     /* message id */
	AL_NUM_DNS_OPCODE,	     /* of the request (else the response) */
	AL_NUM_DNS_RCODE,	     /* of the response */
	AL_NUM_DNS_FLAGS,	     /* header flags word of the request (else the response) */
	AL_NUM_DNS_QTYPE,	     /* each question's type (multi, index as AL_BUF_DNS_QUERY) */
	AL_NUM_DNS_ANSWER_TYPE,	     /* each answer's type (multi, as AL_BUF_DNS_ANSWER_NAME) */
	AL_NUM_DNS_REQ_RCODE,	     /* the rcode bits of the request's header */
	AL_NUM_DNS_RESP_OPCODE,	     /* of the response */
	AL_NUM_TLS_VERSION,	     /* negotiated: ServerHello (supported_versions), else hello */
	AL_NUM_TLS_CLIENT_VERSION,   /* ClientHello legacy_version */
	AL_NUM_TLS_CERT_NOTBEFORE,   /* Unix seconds, first certificate */
	AL_NUM_TLS_CERT_NOTAFTER,    /* Unix seconds */
	AL_NUM_TLS_CERT_CHAIN_LEN,   /* certificates in the server's chain */
	AL_NUM_SSH_CLIENT_PROTO_MAJ, /* 1 or 2 */
	AL_NUM_SSH_SERVER_PROTO_MAJ,
	AL_NUM_FTP_REPLY_CODE,
	AL_NUM__COUNT
};

enum { AL_BUF_MULTI = 1u << 0 }; /* al_buf_info.flags: several instances per transaction */

struct al_buf_info {
	const char *name; /* Suricata's sticky buffer name it backs ("http.uri"); docs */
	uint8_t proto;	  /* enum al_proto */
	uint8_t dir;	  /* AL_TO_SERVER or AL_TO_CLIENT: whose bytes it is */
	uint8_t stage;	  /* the AL_ST_* bit after which it is final */
	uint8_t flags;	  /* AL_BUF_* */
};

/* The row of b, or NULL out of range. */
const struct al_buf_info *al_buf_info(enum al_buf b);

struct al_num_info {
	const char *name;
	uint8_t proto;
	uint8_t dir;
	uint8_t stage;
	uint8_t flags; /* AL_BUF_MULTI */
};

const struct al_num_info *al_num_info(enum al_num n);

/*
 * A transaction: the generic head each parser's transaction starts with. Parsers own the
 * memory; a transaction handed to al_tx_cb is valid until the callback returns (keep what you
 * need by value).
 */
struct al_tx {
	uint8_t proto; /* enum al_proto */
	uint8_t ready; /* AL_ST_* bits whose buffers are final */
	uint16_t pad;
	uint32_t index;	    /* 0, 1, ... in the flow, in request order */
	uint64_t anomalies; /* bit i: the parser's anomaly i happened in this transaction */
};

/*
 * Instance idx (0 for single buffers) of buffer b. Returns true and sets *p and *len (len may
 * be 0: present and empty), or false when the transaction does not have it (yet): a header
 * that was not sent, an index past the last instance, a stage not reached.
 */
bool al_tx_buf(const struct al_tx *tx, enum al_buf b, unsigned idx, const uint8_t **p,
		uint32_t *len);

/* Instance idx of number n: true and *v, or false when absent. */
bool al_tx_num(const struct al_tx *tx, enum al_num n, unsigned idx, uint64_t *v);

/* ---- anomalies ---- */

/* Name of the anomaly id of protocol p ("http.request_field_missing_colon"), or NULL. */
const char *al_anomaly_name(enum al_proto p, unsigned id);
/* Anomalies protocol p can report. */
unsigned al_anomaly_count(enum al_proto p);
/* The id of the anomaly named name for protocol p: 0.., or -ENOENT. */
int al_anomaly_find(enum al_proto p, const char *name);

/* ---- per worker ---- */

struct al_limits {
	uint64_t memcap;	   /* bytes of the arena; default 64 MiB */
	uint32_t max_flows;	   /* flows with parser state at once; default 65536 */
	uint32_t detect_bytes;	   /* bytes per direction looked at to detect the protocol; 1024 */
	uint32_t http_header_max;  /* request or response line and headers kept; 16 KiB */
	uint32_t http_req_body;	   /* request body bytes kept for inspection; 64 KiB */
	uint32_t http_resp_body;   /* response body bytes kept for inspection; 64 KiB */
	uint32_t http_inflate_max; /* decompressed bytes per body, beyond: cut; 1 MiB */
	uint32_t http_inflate_ratio; /* decompressed/compressed beyond: a bomb, cut; 2048 */
	uint32_t http_max_tx;	     /* pipelined transactions pending per flow; 32 */
	uint32_t dns_max_tx;	     /* DNS transactions pending per flow; 32 */
	uint32_t dns_max_names;	     /* questions and answers kept per message; 32 */
	uint32_t tls_max_record;     /* bytes of one handshake message kept; 64 KiB */
	uint32_t line_max;	     /* SSH/SMTP/FTP line kept; 4 KiB */
};

void al_limits_default(struct al_limits *l);

/* Counters of a context (one worker): plain integers, read with relaxed loads. */
enum al_ctr {
	AL_CTR_FLOWS,	    /* flows given parser state */
	AL_CTR_NO_FLOW,	    /* flows refused: max_flows reached */
	AL_CTR_MEMCAP,	    /* allocations refused: the arena was full */
	AL_CTR_BYTES,	    /* bytes fed */
	AL_CTR_GAPS,	    /* stream gaps reported */
	AL_CTR_TX,	    /* transactions reported */
	AL_CTR_DETECT_FAIL, /* flows whose protocol detection gave up */
	AL_CTR__COUNT
};

/* A context's counters: the report's applayer (summed over workers) is made from their table,
 * al_ctr_set (al.c). */
struct al_counters {
	uint64_t ctr[AL_CTR__COUNT];
	uint64_t proto_flows[AL_PROTO__COUNT]; /* flows detected, by enum al_proto */
};
struct vg_ctr_set;
extern const struct vg_ctr_set al_ctr_set;

struct al_ctx;

/* A context for one thread, with its arena. Returns NULL with errno set. */
struct al_ctx *al_ctx_create(const struct al_limits *l);
/* NULL is a no-op. Every flow of the context must be freed first. */
void al_ctx_free(struct al_ctx *c);

const struct al_limits *al_ctx_limits(const struct al_ctx *c);
const struct al_counters *al_ctx_counters(const struct al_ctx *c);
uint64_t al_ctx_counter(const struct al_ctx *c, enum al_ctr ctr);
/* Flows detected per protocol (index enum al_proto). */
uint64_t al_ctx_proto_flows(const struct al_ctx *c, enum al_proto p);
/* How often protocol p's anomaly id happened. */
uint64_t al_ctx_anomalies(const struct al_ctx *c, enum al_proto p, unsigned id);
/* Arena bytes in use and at most. */
size_t al_ctx_mem_used(const struct al_ctx *c);

/* Arena memory (for parsers): NULL when the arena is full (counted as AL_CTR_MEMCAP). */
void *al_alloc(struct al_ctx *c, size_t n);
void *al_realloc(struct al_ctx *c, void *p, size_t n);
void al_free(struct al_ctx *c, void *p);

/* ---- per flow ---- */

struct al_flow;

/*
 * Called for each transaction whose ready bits grew: stage is the bit just set (one call per
 * bit), dir the direction whose data set it.
 */
typedef void (*al_tx_cb)(void *arg, const struct al_tx *tx, unsigned stage, unsigned dir);

/*
 * State for a flow. tcp: stream (DNS takes the length prefix); sport and dport: the initiator's
 * and responder's ports (host order), which break ties between protocols that look alike
 * (SMTP and FTP greet alike). Returns NULL when max_flows or the arena is exhausted (counted).
 */
struct al_flow *al_flow_new(struct al_ctx *c, bool tcp, uint16_t sport, uint16_t dport);
void al_flow_free(struct al_ctx *c, struct al_flow *f);

enum al_proto al_flow_proto(const struct al_flow *f);

/*
 * Next in-order bytes of direction dir (TCP), or one whole datagram (UDP). Transactions that
 * progress are reported through cb before it returns. Returns 0, or -1 when the flow is no
 * longer parsed (protocol unknown, parser gave up, memory): later calls are cheap no-ops.
 */
int al_feed(struct al_ctx *c, struct al_flow *f, unsigned dir, const uint8_t *data, uint32_t len,
		al_tx_cb cb, void *arg);

/* len bytes of direction dir are missing (a TCP gap): the parser resynchronises or stops. */
void al_gap(struct al_ctx *c, struct al_flow *f, unsigned dir, uint32_t len);

/* Direction dir ended: what was pending in it is final (a body to close, a last message). */
void al_close(struct al_ctx *c, struct al_flow *f, unsigned dir, al_tx_cb cb, void *arg);

/*
 * Protocol detection alone (al_feed runs it): what the first bytes of one direction say.
 * Returns a protocol, AL_PROTO_NONE with *more set when more bytes could decide, or
 * AL_PROTO_NONE with *more clear when these bytes are no protocol Vigil knows.
 */
enum al_proto al_probe(const uint8_t *d, uint32_t len, bool tcp, unsigned dir, uint16_t sport,
		uint16_t dport, bool *more);

#endif /* AL_H */
