/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * HTTP/1.x: requests and responses of a TCP flow, in any split, into the buffers Suricata's
 * http.* sticky buffers define (byte for byte, so that signatures written for Suricata match
 * the same bytes here), with libhtp's behaviour in Suricata's default configuration (IDS
 * personality) where the wire is ambiguous.
 *
 * Each direction runs a small state machine over its bytes. A message head (start line and
 * header lines) is collected as received, scanning for line ends with memchr, up to
 * http_header_max; only when the head is complete are the derived buffers built, once: header
 * fields unfolded and repetitions joined with ", " as libhtp does, the normalised URI, the
 * normalised host, http.header, http.header_names and http.start. Bodies are dechunked and
 * decoded (gzip, deflate, zlib with zlib's inflate; two layers at most) and kept up to
 * http_req_body / http_resp_body bytes; the rest is parsed past and counted.
 *
 * Transactions are kept in request order. A response belongs to the oldest request without
 * one; a response without a request gets a transaction of its own. A transaction is freed
 * once both its sides are done (every stage was reported then).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <zlib.h>

#include "al_http.h"
#include "al_http_bestfit.h"
#include "al_impl.h"

/* The largest arena allocation (1 MiB blocks, their header included). */
#define ALLOC_MAX	(((uint32_t)1 << 20) - 64)
#define MAX_FIELDS	512  /* header lines parsed per head */
#define MAX_REPEAT	64   /* repetitions of one field joined (libhtp's limit) */
#define CHUNK_LINE_MAX	1024 /* a chunk-size line longer than this is invalid */
#define INFL_OUT	4096 /* inflate output per call (stack) */
#define INFL_HELD	64   /* encoded bytes kept until inflate shows output (for passthrough) */
#define INFL_MAX_LAYERS 2    /* Suricata's default decompression layer limit */
#define RATIO_FLOOR	((uint64_t)64 << 10) /* decoded bytes before the ratio test applies */
#define MAX_DEPTH	2		     /* held bytes replayed within a replay */

static const char *const anomaly_names[AL_HTTP__COUNT] = {
	[AL_HTTP_REQUEST_FIELD_MISSING_COLON] = "request_field_missing_colon",
	[AL_HTTP_RESPONSE_FIELD_MISSING_COLON] = "response_field_missing_colon",
	[AL_HTTP_INVALID_REQUEST_CHUNK_LEN] = "invalid_request_chunk_len",
	[AL_HTTP_INVALID_RESPONSE_CHUNK_LEN] = "invalid_response_chunk_len",
	[AL_HTTP_INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST] =
			"invalid_transfer_encoding_value_in_request",
	[AL_HTTP_INVALID_TRANSFER_ENCODING_VALUE_IN_RESPONSE] =
			"invalid_transfer_encoding_value_in_response",
	[AL_HTTP_INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST] =
			"invalid_content_length_field_in_request",
	[AL_HTTP_INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE] =
			"invalid_content_length_field_in_response",
	[AL_HTTP_100_CONTINUE_ALREADY_SEEN] = "100_continue_already_seen",
	[AL_HTTP_UNABLE_TO_MATCH_RESPONSE_TO_REQUEST] = "unable_to_match_response_to_request",
	[AL_HTTP_REQUEST_HEADER_INVALID] = "request_header_invalid",
	[AL_HTTP_RESPONSE_HEADER_INVALID] = "response_header_invalid",
	[AL_HTTP_MISSING_HOST_HEADER] = "missing_host_header",
	[AL_HTTP_HOST_HEADER_AMBIGUOUS] = "host_header_ambiguous",
	[AL_HTTP_INVALID_REQUEST_FIELD_FOLDING] = "invalid_request_field_folding",
	[AL_HTTP_INVALID_RESPONSE_FIELD_FOLDING] = "invalid_response_field_folding",
	[AL_HTTP_REQUEST_FIELD_TOO_LONG] = "request_field_too_long",
	[AL_HTTP_RESPONSE_FIELD_TOO_LONG] = "response_field_too_long",
	[AL_HTTP_REQUEST_URI_HOST_INVALID] = "request_uri_host_invalid",
	[AL_HTTP_REQUEST_HEADER_HOST_INVALID] = "request_header_host_invalid",
	[AL_HTTP_URI_DELIM_NON_COMPLIANT] = "uri_delim_non_compliant",
	[AL_HTTP_METHOD_DELIM_NON_COMPLIANT] = "method_delim_non_compliant",
	[AL_HTTP_REQUEST_LINE_LEADING_WHITESPACE] = "request_line_leading_whitespace",
	[AL_HTTP_TOO_MANY_ENCODING_LAYERS] = "too_many_encoding_layers",
	[AL_HTTP_ABNORMAL_CE_HEADER] = "abnormal_ce_header",
	[AL_HTTP_REQUEST_AUTH_UNRECOGNIZED] = "request_auth_unrecognized",
	[AL_HTTP_REQUEST_HEADER_REPETITION] = "request_header_repetition",
	[AL_HTTP_RESPONSE_HEADER_REPETITION] = "response_header_repetition",
	[AL_HTTP_RESPONSE_ABNORMAL_TRANSFER_ENCODING] = "response_abnormal_transfer_encoding",
	[AL_HTTP_RESPONSE_CHUNKED_OLD_PROTO] = "response_chunked_old_proto",
	[AL_HTTP_RESPONSE_INVALID_PROTOCOL] = "response_invalid_protocol",
	[AL_HTTP_RESPONSE_INVALID_STATUS] = "response_invalid_status",
	[AL_HTTP_DOUBLE_ENCODED_URI] = "double_encoded_uri",
	[AL_HTTP_REQUEST_LINE_INVALID] = "request_line_invalid",
	[AL_HTTP_REQUEST_BODY_UNEXPECTED] = "request_body_unexpected",
	[AL_HTTP_DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST] =
			"duplicate_content_length_field_in_request",
	[AL_HTTP_DUPLICATE_CONTENT_LENGTH_FIELD_IN_RESPONSE] =
			"duplicate_content_length_field_in_response",
	[AL_HTTP_COMPRESSION_BOMB] = "compression_bomb",
	[AL_HTTP_COMPRESSION_BOMB_LIMIT_REACHED] = "compression_bomb_limit_reached",
	[AL_HTTP_GZIP_DECOMPRESSION_FAILED] = "gzip_decompression_failed",
	[AL_HTTP_REQUEST_CHUNK_EXTENSION] = "request_chunk_extension",
	[AL_HTTP_RESPONSE_CHUNK_EXTENSION] = "response_chunk_extension",
	[AL_HTTP_REQUEST_LINE_MISSING_PROTOCOL] = "request_line_missing_protocol",
	[AL_HTTP_REQUEST_TOO_MANY_HEADERS] = "request_too_many_headers",
	[AL_HTTP_RESPONSE_TOO_MANY_HEADERS] = "response_too_many_headers",
	[AL_HTTP_TOO_MANY_TRANSACTIONS] = "too_many_transactions",
	[AL_HTTP_STREAM_GAP] = "stream_gap",
};

enum { REQ = AL_TO_SERVER, RESP = AL_TO_CLIENT };

/* ---- small helpers ---- */

static inline bool
is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static inline bool
is_lws(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static inline uint8_t
lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static inline int
hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static inline bool
is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* p[0..n) equals the lower-case ASCII string s, ignoring case. */
static bool
eq_nocase(const uint8_t *p, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == 0 || lower(p[i]) != (uint8_t)s[i])
			return false;
	return s[n] == 0;
}

static bool
starts_nocase(const uint8_t *p, size_t n, const char *s)
{
	size_t k = strlen(s);

	return n >= k && eq_nocase(p, k, s);
}

/* Token characters of RFC 7230 (CHAR except CTLs and separators). */
static bool
is_token(uint8_t c)
{
	if (c < 33 || c > 126)
		return false;
	switch (c) {
	case '(':
	case ')':
	case '<':
	case '>':
	case '@':
	case ',':
	case ';':
	case ':':
	case '\\':
	case '"':
	case '/':
	case '[':
	case ']':
	case '?':
	case '=':
	case '{':
	case '}':
		return false;
	default:
		return true;
	}
}

static void
trim(const uint8_t *p, uint32_t *off, uint32_t *len, bool (*ws)(uint8_t))
{
	while (*len > 0 && ws(p[*off])) {
		(*off)++;
		(*len)--;
	}
	while (*len > 0 && ws(p[*off + *len - 1]))
		(*len)--;
}

/* A line without its end: libhtp removes LF, then CR, as long as the line ends in LF. */
static uint32_t
chomp(const uint8_t *p, uint32_t len)
{
	while (len > 0 && p[len - 1] == '\n') {
		len--;
		if (len > 0 && p[len - 1] == '\r')
			len--;
	}
	return len;
}

/*
 * A decimal number as libhtp reads Content-Length: junk before the first digit and after the
 * last is tolerated. -1 when there is no digit or the value overflows.
 */
static int64_t
parse_clen(const uint8_t *p, uint32_t len)
{
	uint32_t i = 0;
	int64_t v = 0;

	while (i < len && !is_digit(p[i]))
		i++;
	if (i == len)
		return -1;
	for (; i < len && is_digit(p[i]); i++) {
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

/* ---- byte buffers from the arena ---- */

struct rbuf {
	uint8_t *p;
	uint32_t len, cap;
};

/* Append up to max total bytes; returns how many were appended (short: limit or memory). */
static uint32_t
rbuf_add(struct al_ctx *c, struct rbuf *b, const uint8_t *d, uint32_t n, uint32_t max)
{
	if (max > ALLOC_MAX)
		max = ALLOC_MAX;
	if (b->len >= max)
		return 0;
	if (n > max - b->len)
		n = max - b->len;
	if (b->len + n > b->cap) {
		uint64_t cap = b->cap ? b->cap : 128;

		while (cap < (uint64_t)b->len + n)
			cap *= 2;
		if (cap > max)
			cap = max;
		uint8_t *q = al_realloc(c, b->p, (size_t)cap);

		if (q == NULL)
			return 0;
		b->p = q;
		b->cap = (uint32_t)cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
	return n;
}

static void
rbuf_free(struct al_ctx *c, struct rbuf *b)
{
	al_free(c, b->p);
	*b = (struct rbuf){ 0 };
}

/* ---- transactions ---- */

/* Where each buffer of a side lives: in the raw head or in the derived buffers. */
enum { IN_NONE, IN_RAW, IN_DER };

struct slot {
	uint32_t off, len;
	uint8_t in;
};

/* Slots of a side; the response reuses request-only numbers. */
enum {
	SL_LINE,
	SL_PROTO,
	SL_HEADER,
	SL_HEADER_RAW,
	SL_NAMES,
	SL_START,
	SL_CTYPE,
	SL_CLEN,
	SL_COOKIE,
	SL_METHOD,
	SL_URI,
	SL_URI_RAW,
	SL_HOST,
	SL_HOST_RAW,
	SL_UA,
	SL_REFERER,
	SL_ACCEPT,
	SL_ACCEPT_ENC,
	SL_ACCEPT_LANG,
	SL_CONNECTION,
	SL__COUNT,
	SL_CODE = SL_METHOD,
	SL_MSG = SL_URI,
	SL_LOCATION = SL_URI_RAW,
	SL_SERVER = SL_HOST,
	SL_BODY = 0xff, /* in bmap: the side's body */
};

enum { ENC_NONE, ENC_GZIP, ENC_DEFLATE };

/* One content-coding being undone. */
struct infl {
	z_stream zs;
	uint64_t out; /* bytes it produced */
	uint8_t kind; /* ENC_GZIP or ENC_DEFLATE: what the header said */
	uint8_t mode; /* IM_* */
	bool zinit;
	bool produced;
	uint8_t gz_st; /* gzip header state */
	uint8_t gz_flg;
	uint16_t gz_need;
	uint8_t held_len; /* INFL_HELD + 1: more was fed than held */
	uint8_t first;	  /* the first byte, while the second is awaited */
	bool have_first;
	uint8_t held[INFL_HELD]; /* the first bytes fed, for a passthrough */
};

enum {
	IM_SNIFF, /* waiting for two bytes to tell gzip, zlib and raw deflate apart */
	IM_GZHDR, /* skipping the gzip header */
	IM_INFLATE,
	IM_PASS, /* not encoded after all: bytes go through */
	IM_END,	 /* stream ended: the rest is ignored */
};

enum {
	SF_HEAD = 1u << 0,    /* head complete: its slots are final */
	SF_BODY = 1u << 1,    /* body complete */
	SF_CUT = 1u << 2,     /* kept body full: later bytes counted, not kept */
	SF_TRUNC = 1u << 3,   /* head past http_header_max: later head bytes not kept */
	SF_DECSTOP = 1u << 4, /* decoding stopped (bomb, broken stream) */
	SF_GAP = 1u << 5,     /* bytes of the body were missing */
};

struct hside {
	struct rbuf raw; /* start line, header lines (and trailer lines), as received */
	uint8_t *der;	 /* derived buffers, built when the head completes */
	struct rbuf body;
	struct slot sl[SL__COUNT];
	uint64_t seen; /* body bytes seen, decoded */
	uint64_t wire; /* body bytes, dechunked, before decoding */
	int64_t clen;  /* Content-Length, -1: none or invalid */
	uint32_t line_len;
	uint32_t hdr_off; /* where the header lines start in raw */
	uint8_t te;	  /* TE_* */
	uint8_t f;	  /* SF_* */
	uint8_t n_enc;
	uint8_t enc[INFL_MAX_LAYERS]; /* codings to undo, first undone first */
	struct infl *inf[INFL_MAX_LAYERS];
};

enum { TE_NONE, TE_CHUNKED, TE_CHUNKED_ODD, TE_OTHER };

enum {
	TF_NOREQ = 1u << 0, /* a response without a request */
	TF_REQ_DONE = 1u << 1,
	TF_RESP_STARTED = 1u << 2,
	TF_RESP_DONE = 1u << 3,
	TF_09 = 1u << 4,     /* request line without protocol, no header line seen yet */
	TF_EXPECT = 1u << 5, /* Expect: 100-continue */
};

enum { M_UNKNOWN, M_KNOWN, M_HEAD, M_CONNECT };
enum { P_NONE, P_BAD, P_09, P_10, P_11 };

struct htx {
	struct al_tx head; /* first: the generic part al.c hands around */
	struct htx *next;
	struct hside s[2];
	uint16_t status; /* 100..999, 0: none or invalid */
	uint8_t method;	 /* M_* */
	uint8_t proto[2];
	uint8_t f;
	uint8_t n100;
};

/* ---- per-flow state ---- */

enum {
	DS_HEAD, /* start line and headers */
	DS_BODY_CL,
	DS_CHUNK_LEN,
	DS_CHUNK_DATA,
	DS_CHUNK_END,
	DS_TRAILER,
	DS_BODY_CLOSE, /* until the direction ends */
	DS_HOLD,       /* bytes held (CONNECT): see hold */
	DS_LOST,       /* a gap where the parser cannot skip: finish, then ignore */
	DS_IGNORE,     /* bytes dropped: after HTTP/0.9, a gap, or giving up */
};

enum { HOLD_CONNECT = 1, HOLD_PROBE };

struct hdir {
	uint8_t st;
	uint8_t hold;
	uint8_t cur_first;    /* first byte of the current head line */
	bool done_one;	      /* a message completed in this direction */
	bool prev_open;	      /* request direction: prev, without body, may still get one */
	bool line;	      /* the start line of the current message is in */
	bool lost;	      /* a gap hit the head: finish it at the next call */
	bool pre_trunc;	      /* the start line did not fit */
	uint32_t cur;	      /* bytes of the current head line so far */
	uint32_t nlines;      /* header lines of the current head */
	uint64_t left;	      /* body bytes left (Content-Length or chunk) */
	struct htx *tx;	      /* the transaction this direction parses */
	struct htx *prev;     /* request direction: the last request completed */
	struct rbuf pre;      /* the start line before its transaction exists; held bytes */
	struct rbuf line_buf; /* chunk-size line */
};

struct hstate {
	struct al_ctx *c;
	struct hdir d[2];
	struct htx *first, *last;
	uint32_t n_tx;
	uint32_t next_index;
	uint32_t resp_skip; /* responses of dropped transactions still to come */
	uint8_t depth;
	bool tunnel; /* not HTTP any more: stop */
};

static const struct al_limits *
lim(const struct hstate *s)
{
	return al_ctx_limits(s->c);
}

static uint32_t
head_max(const struct hstate *s)
{
	uint32_t m = lim(s)->http_header_max;

	return m > ALLOC_MAX ? ALLOC_MAX : m;
}

static void
anom(struct hstate *s, struct htx *tx, unsigned id)
{
	al_anomaly(s->c, AL_PROTO_HTTP, tx != NULL ? &tx->head : NULL, id);
}

/* Count once per transaction. */
static void
anom_once(struct hstate *s, struct htx *tx, unsigned id)
{
	if (tx != NULL && (tx->head.anomalies & (1ULL << id)))
		return;
	anom(s, tx, id);
}

static void
emit(const struct al_emit *e, struct htx *tx, unsigned stage, unsigned dir)
{
	al_emit(e, &tx->head, stage, dir);
}

static struct htx *
tx_new(struct hstate *s)
{
	struct htx *tx = al_alloc(s->c, sizeof(*tx));

	if (tx == NULL)
		return NULL;
	memset(tx, 0, sizeof(*tx));
	tx->head.proto = AL_PROTO_HTTP;
	tx->head.index = s->next_index++;
	tx->s[REQ].clen = tx->s[RESP].clen = -1;
	if (s->last != NULL)
		s->last->next = tx;
	else
		s->first = tx;
	s->last = tx;
	s->n_tx++;
	return tx;
}

static void
infl_free(struct al_ctx *c, struct hside *sd)
{
	for (unsigned i = 0; i < INFL_MAX_LAYERS; i++) {
		if (sd->inf[i] == NULL)
			continue;
		if (sd->inf[i]->zinit)
			inflateEnd(&sd->inf[i]->zs);
		al_free(c, sd->inf[i]);
		sd->inf[i] = NULL;
	}
}

static void
side_free(struct al_ctx *c, struct hside *sd)
{
	infl_free(c, sd);
	rbuf_free(c, &sd->raw);
	rbuf_free(c, &sd->body);
	al_free(c, sd->der);
	sd->der = NULL;
}

static void
tx_unlink_free(struct hstate *s, struct htx *tx)
{
	struct htx **pp = &s->first, *prev = NULL;

	while (*pp != NULL && *pp != tx) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (*pp == NULL)
		return;
	*pp = tx->next;
	if (s->last == tx)
		s->last = prev;
	s->n_tx--;
	for (unsigned d = 0; d < 2; d++) {
		if (s->d[d].tx == tx)
			s->d[d].tx = NULL;
		if (s->d[d].prev == tx)
			s->d[d].prev = NULL;
	}
	side_free(s->c, &tx->s[REQ]);
	side_free(s->c, &tx->s[RESP]);
	al_free(s->c, tx);
}

/* Free the transactions both of whose sides are done (their stages were all reported). */
static void
try_free(struct hstate *s)
{
	struct htx *tx = s->first;

	while (tx != NULL) {
		struct htx *next = tx->next;

		if ((tx->f & (TF_NOREQ | TF_REQ_DONE)) && (tx->f & TF_RESP_DONE) &&
				tx != s->d[REQ].tx && tx != s->d[RESP].tx)
			tx_unlink_free(s, tx);
		tx = next;
	}
}

/* ---- URI normalisation (libhtp's IDS personality, Suricata's defaults) ---- */

/* The single byte a code point becomes (best fit); '?' when there is none. */
static uint8_t
bestfit(uint32_t cp)
{
	uint32_t lo = 0, hi = HTTP_BESTFIT_N;

	if (cp < 0x100)
		return (uint8_t)cp;
	if (cp > 0xffff)
		return '?';
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (http_bestfit_cp[mid] == cp)
			return http_bestfit_byte[mid];
		if (http_bestfit_cp[mid] < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return '?';
}

/* %uHHHH at p (p[0] == '%', p[1] is 'u'): the byte it becomes, or -1 when not 4 hex digits. */
static int
u_decode(const uint8_t *p)
{
	uint32_t cp = 0;

	for (int i = 2; i < 6; i++) {
		int h = hexval(p[i]);

		if (h < 0)
			return -1;
		cp = cp << 4 | (uint32_t)h;
	}
	return bestfit(cp);
}

/*
 * Percent-decode in[0..n) into out: %HH always, %uHHHH when u_dec; an invalid encoding keeps
 * its '%'; '+' stays (Suricata turns off libhtp's plus-as-space).
 */
static size_t
url_decode(const uint8_t *in, size_t n, uint8_t *out, bool u_dec)
{
	size_t r = 0, w = 0;

	while (r < n) {
		int c = in[r];

		if (c == '%' && r + 2 < n) {
			if (u_dec && (in[r + 1] == 'u' || in[r + 1] == 'U')) {
				int v = r + 5 < n ? u_decode(in + r) : -1;

				if (v >= 0) {
					c = v;
					r += 6;
				} else {
					r++;
				}
			} else if (hexval(in[r + 1]) >= 0 && hexval(in[r + 2]) >= 0) {
				c = hexval(in[r + 1]) << 4 | hexval(in[r + 2]);
				r += 3;
			} else {
				r++;
			}
		} else {
			r++;
		}
		out[w++] = (uint8_t)c;
	}
	return w;
}

/* The path step of libhtp: decode, backslash to slash, runs of slashes to one. */
static size_t
path_decode(const uint8_t *in, size_t n, uint8_t *out)
{
	size_t r = 0, w = 0;
	bool slash = false;

	while (r < n) {
		int c = in[r];

		if (c == '%' && r + 2 < n) {
			if (in[r + 1] == 'u' || in[r + 1] == 'U') {
				int v = r + 5 < n ? u_decode(in + r) : -1;

				if (v >= 0) {
					c = v;
					r += 6;
				} else {
					r++;
				}
			} else if (hexval(in[r + 1]) >= 0 && hexval(in[r + 2]) >= 0) {
				c = hexval(in[r + 1]) << 4 | hexval(in[r + 2]);
				r += 3;
			} else {
				r++;
			}
		} else {
			r++;
		}
		if (c == '\\')
			c = '/';
		if (c == '/') {
			if (slash)
				continue;
			slash = true;
		} else {
			slash = false;
		}
		out[w++] = (uint8_t)c;
	}
	return w;
}

/*
 * UTF-8 in the decoded path, best-fitted to single bytes in place (overlong forms accepted,
 * as libhtp does: %C0%AF is '/'). An invalid sequence becomes '?', its offending byte starting
 * the next one; a sequence cut by the end of the path is dropped.
 */
static size_t
utf8_bestfit(uint8_t *p, size_t n)
{
	size_t r = 0, w = 0;

	while (r < n) {
		uint8_t b = p[r];
		unsigned need;
		uint32_t cp;

		if (b < 0x80) {
			p[w++] = b;
			r++;
			continue;
		}
		if (b >= 0xc0 && b < 0xe0) {
			need = 1;
			cp = b & 0x1f;
		} else if (b >= 0xe0 && b < 0xf0) {
			need = 2;
			cp = b & 0x0f;
		} else if (b >= 0xf0 && b < 0xf8) {
			need = 3;
			cp = b & 0x07;
		} else {
			p[w++] = '?';
			r++;
			continue;
		}
		unsigned k = 1;

		while (k <= need && r + k < n && (p[r + k] & 0xc0) == 0x80) {
			cp = cp << 6 | (p[r + k] & 0x3f);
			k++;
		}
		if (k <= need) {
			if (r + k >= n)
				break;
			p[w++] = '?';
			r += k;
			continue;
		}
		r += k;
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			p[w++] = '?';
		else
			p[w++] = bestfit(cp);
	}
	return w;
}

/*
 * Remove dot segments in place, step by step as libhtp does (RFC 3986 5.2.4 with its quirks: a
 * trailing "/." or "/.." leaves no trailing slash).
 */
static size_t
remove_dots(uint8_t *p, size_t n)
{
	size_t r = 0, w = 0;
	int c = -1;

	while (r < n && w < n) {
		if (c == -1)
			c = p[r++];
		if (c == '.') {
			if (r + 1 < n && p[r] == '.' && p[r + 1] == '/') {
				c = -1;
				r += 2;
				continue;
			}
			if (r < n && p[r] == '/') {
				c = -1;
				r += 1;
				continue;
			}
		}
		if (c == '/') {
			if (r + 1 < n && p[r] == '.' && p[r + 1] == '/') {
				r += 2;
				continue;
			}
			if (r + 1 == n && p[r] == '.') {
				r += 1;
				continue;
			}
			if ((r + 2 < n && p[r] == '.' && p[r + 1] == '.' && p[r + 2] == '/') ||
					(r + 2 == n && p[r] == '.' && p[r + 1] == '.')) {
				r += r + 2 < n ? 3 : 2;
				while (w > 0 && p[w - 1] != '/')
					w--;
				if (w > 0)
					w--;
				continue;
			}
		}
		if (c == '.' && r == n) {
			r++;
			continue;
		}
		if (c == '.' && r + 1 == n && p[r] == '.') {
			r += 2;
			continue;
		}
		p[w++] = (uint8_t)c;
		while (r < n && p[r] != '/' && w < n)
			p[w++] = p[r++];
		c = -1;
	}
	return w;
}

/* Decoding again would change it: a percent-encoding survived the first decoding. */
static bool
has_encoding(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 2 < n; i++)
		if (p[i] == '%' && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0)
			return true;
	return false;
}

/* Where the path starts: past a scheme and an authority ("http://host:port"), as libhtp. */
static size_t
uri_path_start(const uint8_t *u, size_t len, size_t *host, size_t *host_len)
{
	const uint8_t *colon;
	size_t pos, start;

	*host_len = 0;
	if (len == 0 || u[0] == '/')
		return 0;
	colon = memchr(u, ':', len);
	if (colon == NULL)
		return 0;
	pos = (size_t)(colon - u) + 1;
	if (!(pos + 2 < len && u[pos] == '/' && u[pos + 1] == '/' && u[pos + 2] != '/'))
		return pos;
	start = pos += 2;
	while (pos < len && u[pos] != '?' && u[pos] != '/' && u[pos] != '#')
		pos++;
	/* credentials, then the host, then a port */
	const uint8_t *at = memchr(u + start, '@', pos - start);
	size_t h = at != NULL ? (size_t)(at - u) + 1 : start;
	size_t hl = pos - h;

	if (hl > 0 && u[h] == '[') {
		const uint8_t *rb = memchr(u + h, ']', hl);

		if (rb != NULL)
			hl = (size_t)(rb - (u + h)) + 1;
	} else {
		const uint8_t *pc = memchr(u + h, ':', hl);

		if (pc != NULL)
			hl = (size_t)(pc - (u + h));
	}
	*host = h;
	*host_len = hl;
	return pos;
}

size_t
al_http_uri_normalize(const uint8_t *u, size_t len, int connect, uint8_t *out, int *double_enc)
{
	size_t host, host_len, pos, start, o;

	*double_enc = 0;
	if (connect || len == 0)
		return 0;
	pos = start = uri_path_start(u, len, &host, &host_len);
	while (pos < len && u[pos] != '?' && u[pos] != '#')
		pos++;
	o = path_decode(u + start, pos - start, out);
	o = utf8_bestfit(out, o);
	o = remove_dots(out, o);
	if (has_encoding(out, o))
		*double_enc = 1;
	if (pos < len && u[pos] == '?') {
		size_t q = ++pos, w;

		while (pos < len && u[pos] != '#')
			pos++;
		out[o++] = '?';
		w = url_decode(u + q, pos - q, out + o, false);
		if (has_encoding(out + o, w))
			*double_enc = 1;
		o += w;
	}
	if (pos < len && u[pos] == '#') {
		out[o++] = '#';
		o += url_decode(u + pos + 1, len - pos - 1, out + o, true);
	}
	return o;
}

/* A host name libhtp accepts: LDH labels (and '_') of 1..63, single dots, or [IPv6]. */
static bool
host_valid(const uint8_t *p, size_t n)
{
	size_t i = 0;

	if (n == 0 || n > 255)
		return false;
	if (p[0] == '[') {
		if (n < 2 || n - 2 >= 40 || p[n - 1] != ']')
			return false;
		for (i = 1; i + 1 < n; i++)
			if (hexval(p[i]) < 0 && p[i] != ':' && p[i] != '.')
				return false;
		return true;
	}
	while (i < n) {
		size_t st = i;

		while (i < n && p[i] != '.') {
			uint8_t c = lower(p[i]);

			if (!((c >= 'a' && c <= 'z') || is_digit(c) || c == '-' || c == '_'))
				return false;
			i++;
		}
		if (i - st == 0 || i - st > 63)
			return false;
		if (i >= n)
			return true;
		st = i;
		while (i < n && p[i] == '.')
			i++;
		if (i - st != 1)
			return false;
	}
	return true;
}

/* A port 1..65535 (LWS around tolerated), -1 when invalid. */
static int
parse_port(const uint8_t *p, uint32_t n)
{
	uint32_t off = 0;
	int64_t v = 0;

	trim(p, &off, &n, is_lws);
	if (n == 0)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		if (!is_digit(p[off + i]) || v > 65535)
			return -1;
		v = v * 10 + (p[off + i] - '0');
	}
	return v >= 1 && v <= 65535 ? (int)v : -1;
}

/*
 * host[:port] of a Host header or a CONNECT authority: the host part (whitespace around
 * trimmed, [IPv6] kept whole), *port (-1 when none), *bad when the port is invalid.
 */
static void
split_hostport(const uint8_t *p, uint32_t n, uint32_t *hoff, uint32_t *hlen, int *port, bool *bad)
{
	uint32_t off = 0;

	*port = -1;
	*bad = false;
	trim(p, &off, &n, is_space);
	*hoff = off;
	*hlen = n;
	if (n == 0) {
		*bad = true;
		return;
	}
	if (p[off] == '[') {
		const uint8_t *rb = memchr(p + off, ']', n);

		if (rb == NULL) {
			*bad = true;
			return;
		}
		uint32_t hl = (uint32_t)(rb - (p + off)) + 1;

		*hlen = hl;
		if (hl == n)
			return;
		if (p[off + hl] != ':') {
			*bad = true;
			return;
		}
		*port = parse_port(p + off + hl + 1, n - hl - 1);
		*bad = *port < 0;
		return;
	}
	const uint8_t *colon = memchr(p + off, ':', n);

	if (colon == NULL)
		return;
	uint32_t hl = (uint32_t)(colon - (p + off));

	*port = parse_port(p + off + hl + 1, n - hl - 1);
	*bad = *port < 0;
	while (hl > 0 && is_space(p[off + hl - 1]))
		hl--;
	*hlen = hl;
}

/* ---- start lines ---- */

static uint8_t
method_kind(const uint8_t *m, uint32_t n)
{
	static const char *const known[] = {
		"GET",
		"PUT",
		"POST",
		"DELETE",
		"OPTIONS",
		"TRACE",
		"PATCH",
		"PROPFIND",
		"PROPPATCH",
		"MKCOL",
		"COPY",
		"MOVE",
		"LOCK",
		"UNLOCK",
		"VERSION-CONTROL",
		"CHECKOUT",
		"UNCHECKOUT",
		"CHECKIN",
		"UPDATE",
		"LABEL",
		"REPORT",
		"MKWORKSPACE",
		"MKACTIVITY",
		"BASELINE-CONTROL",
		"MERGE",
		"INVALID",
	};

	if (n == 4 && memcmp(m, "HEAD", 4) == 0)
		return M_HEAD;
	if (n == 7 && memcmp(m, "CONNECT", 7) == 0)
		return M_CONNECT;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strlen(known[i]) == n && memcmp(m, known[i], n) == 0)
			return M_KNOWN;
	return M_UNKNOWN;
}

/* "HTTP/x.y" (case and spaces around '/' tolerated): P_09 .. P_11, else P_BAD. */
static uint8_t
parse_proto(const uint8_t *p, uint32_t n)
{
	uint32_t i = 4;

	if (!starts_nocase(p, n, "http"))
		return P_BAD;
	while (i < n && is_lws(p[i]))
		i++;
	if (i >= n || p[i] != '/')
		return P_BAD;
	i++;
	while (i < n && is_lws(p[i]))
		i++;
	if (n - i != 3 || !is_digit(p[i]) || p[i + 1] != '.' || !is_digit(p[i + 2]))
		return P_BAD;
	if (p[i] == '0' && p[i + 2] == '9')
		return P_09;
	if (p[i] == '1' && p[i + 2] == '0')
		return P_10;
	if (p[i] == '1' && p[i + 2] == '1')
		return P_11;
	return P_BAD;
}

static void
slot_set(struct hside *sd, unsigned sl, uint8_t in, uint32_t off, uint32_t len)
{
	sd->sl[sl] = (struct slot){ .off = off, .len = len, .in = in };
}

/*
 * The request line, as libhtp with spaces allowed in the URI (Suricata's setting): leading
 * whitespace skipped (counted), the method up to whitespace, the protocol after the last
 * space, the URI between. Sets TF_09 when there is no protocol.
 */
static void
parse_request_line(struct hstate *s, struct htx *tx)
{
	struct hside *sd = &tx->s[REQ];
	const uint8_t *p = sd->raw.p;
	uint32_t n = sd->line_len, i = 0, ms, me, rs, re;
	bool bad_ws = false;

	slot_set(sd, SL_LINE, IN_RAW, 0, n);
	while (i < n && is_space(p[i]))
		i++;
	if (i > 0)
		anom(s, tx, AL_HTTP_REQUEST_LINE_LEADING_WHITESPACE);
	ms = i;
	while (i < n && !is_space(p[i]))
		i++;
	me = i;
	slot_set(sd, SL_METHOD, IN_RAW, ms, me - ms);
	tx->method = method_kind(p + ms, me - ms);
	while (i < n && is_space(p[i])) {
		if (p[i] != ' ')
			bad_ws = true;
		i++;
	}
	if (bad_ws)
		anom(s, tx, AL_HTTP_METHOD_DELIM_NON_COMPLIANT);
	tx->proto[REQ] = P_NONE;
	if (i == n) {
		tx->f |= TF_09;
		if (tx->method == M_UNKNOWN)
			anom(s, tx, AL_HTTP_REQUEST_LINE_INVALID);
		return;
	}
	rs = i;
	re = n;
	while (re > rs && is_space(p[re - 1]))
		re--;
	/* the URI ends at the last space; without one, at the last other whitespace */
	uint32_t sp = re;

	while (sp > rs && p[sp - 1] != ' ')
		sp--;
	if (sp == rs) {
		bool ws = false;

		for (uint32_t k = rs; k < re; k++)
			ws |= is_space(p[k]);
		if (ws) {
			anom(s, tx, AL_HTTP_URI_DELIM_NON_COMPLIANT);
			sp = re;
			while (sp > rs && !is_space(p[sp - 1]))
				sp--;
		}
	}
	uint32_t uoff = rs, ulen, poff, plen;

	if (sp == rs) {
		ulen = re - rs;
		poff = re;
		plen = 0;
	} else {
		ulen = sp - 1 - rs;
		poff = sp;
		plen = re - sp;
	}
	trim(p, &uoff, &ulen, is_space);
	trim(p, &poff, &plen, is_space);
	slot_set(sd, SL_URI_RAW, IN_RAW, uoff, ulen);
	if (plen == 0) {
		tx->f |= TF_09;
		if (tx->method == M_UNKNOWN)
			anom(s, tx, AL_HTTP_REQUEST_LINE_INVALID);
		return;
	}
	slot_set(sd, SL_PROTO, IN_RAW, poff, plen);
	tx->proto[REQ] = parse_proto(p + poff, plen);
	if (tx->method == M_UNKNOWN && tx->proto[REQ] == P_BAD)
		anom(s, tx, AL_HTTP_REQUEST_LINE_INVALID);
}

/* The response line: protocol, status, message (the rest of the line, as sent). */
static void
parse_response_line(struct hstate *s, struct htx *tx)
{
	struct hside *sd = &tx->s[RESP];
	const uint8_t *p = sd->raw.p;
	uint32_t n = sd->line_len, i = 0, st;

	slot_set(sd, SL_LINE, IN_RAW, 0, n);
	while (i < n && is_space(p[i]))
		i++;
	st = i;
	while (i < n && !is_space(p[i]))
		i++;
	slot_set(sd, SL_PROTO, IN_RAW, st, i - st);
	tx->proto[RESP] = parse_proto(p + st, i - st);
	if (tx->proto[RESP] == P_BAD)
		anom(s, tx, AL_HTTP_RESPONSE_INVALID_PROTOCOL);
	while (i < n && is_space(p[i]))
		i++;
	st = i;
	while (i < n && !is_space(p[i]))
		i++;
	if (i > st)
		slot_set(sd, SL_CODE, IN_RAW, st, i - st);
	if (i - st == 3 && is_digit(p[st]) && is_digit(p[st + 1]) && is_digit(p[st + 2]) &&
			p[st] != '0')
		tx->status = (uint16_t)((p[st] - '0') * 100 + (p[st + 1] - '0') * 10 +
					(p[st + 2] - '0'));
	else
		anom(s, tx, AL_HTTP_RESPONSE_INVALID_STATUS);
	while (i < n && is_space(p[i]))
		i++;
	if (i < n)
		slot_set(sd, SL_MSG, IN_RAW, i, n - i);
}

/* ---- header fields and the derived buffers ---- */

struct field {
	uint32_t name, name_len; /* in the unfolded lines */
	uint32_t val, val_len;
	uint32_t key;  /* a quick test of name equality (classify) */
	uint8_t id;    /* H_*: a header this parser reads */
	int32_t first; /* index of the first field of this name (itself when first) */
	int32_t next;  /* next repetition joined to this one, -1 */
	uint32_t joined;
	uint32_t out; /* the joined value in der */
	uint16_t reps;
};

/* Headers this parser reads, by name; which slot each fills on each side. */
enum {
	H_NONE,
	H_HOST,
	H_UA,
	H_REFERER,
	H_ACCEPT,
	H_ACCEPT_ENC,
	H_ACCEPT_LANG,
	H_CONNECTION,
	H_COOKIE,
	H_SET_COOKIE,
	H_CTYPE,
	H_CLEN,
	H_TE,
	H_CE,
	H_EXPECT,
	H_AUTH,
	H_LOCATION,
	H_SERVER,
	H__COUNT
};

#define NO_SLOT 0xff

static const struct {
	const char *name; /* lower case */
	uint8_t len;
	uint8_t slot[2]; /* request, response */
} known[H__COUNT] = {
	[H_HOST] = { "host", 4, { NO_SLOT, NO_SLOT } },
	[H_UA] = { "user-agent", 10, { SL_UA, NO_SLOT } },
	[H_REFERER] = { "referer", 7, { SL_REFERER, NO_SLOT } },
	[H_ACCEPT] = { "accept", 6, { SL_ACCEPT, NO_SLOT } },
	[H_ACCEPT_ENC] = { "accept-encoding", 15, { SL_ACCEPT_ENC, NO_SLOT } },
	[H_ACCEPT_LANG] = { "accept-language", 15, { SL_ACCEPT_LANG, NO_SLOT } },
	[H_CONNECTION] = { "connection", 10, { SL_CONNECTION, NO_SLOT } },
	[H_COOKIE] = { "cookie", 6, { SL_COOKIE, NO_SLOT } },
	[H_SET_COOKIE] = { "set-cookie", 10, { NO_SLOT, SL_COOKIE } },
	[H_CTYPE] = { "content-type", 12, { SL_CTYPE, SL_CTYPE } },
	[H_CLEN] = { "content-length", 14, { SL_CLEN, SL_CLEN } },
	[H_TE] = { "transfer-encoding", 17, { NO_SLOT, NO_SLOT } },
	[H_CE] = { "content-encoding", 16, { NO_SLOT, NO_SLOT } },
	[H_EXPECT] = { "expect", 6, { NO_SLOT, NO_SLOT } },
	[H_AUTH] = { "authorization", 13, { NO_SLOT, NO_SLOT } },
	[H_LOCATION] = { "location", 8, { NO_SLOT, SL_LOCATION } },
	[H_SERVER] = { "server", 6, { NO_SLOT, SL_SERVER } },
};

/*
 * Which known header a name is (H_NONE: none). *key: its length and lower-cased first and last
 * bytes, which tell most different names apart before they are compared.
 */
static uint8_t
classify(const uint8_t *p, uint32_t n, uint32_t *key)
{
	*key = n == 0 ? 0 : (n << 16 | (uint32_t)lower(p[0]) << 8 | lower(p[n - 1]));
	if (n < 4 || n > 17)
		return H_NONE;
	for (unsigned k = H_NONE + 1; k < H__COUNT; k++)
		if (known[k].len == n && eq_nocase(p, n, known[k].name))
			return (uint8_t)k;
	return H_NONE;
}

struct fields {
	uint8_t *v; /* unfolded lines */
	struct field *f;
	uint32_t n;
	int32_t known[H__COUNT]; /* the first field of each known header, -1 */
};

/*
 * Parse one unfolded field line v[off..off+len) as libhtp does: no colon: an empty name and the
 * whole line as value; the name before the colon (trailing LWS dropped), the value after it up
 * to a NUL, LWS trimmed around it.
 */
static void
field_parse(struct hstate *s, struct htx *tx, unsigned dir, const uint8_t *v, uint32_t off,
		uint32_t len, struct field *f, bool quiet)
{
	const uint8_t *colon = memchr(v + off, ':', len);
	uint32_t c = colon != NULL ? (uint32_t)(colon - (v + off)) : len;

	/* a NUL before the colon ends the line for libhtp */
	if (colon == NULL || memchr(v + off, 0, c) != NULL) {
		if (!quiet)
			anom_once(s, tx,
					dir == REQ ? AL_HTTP_REQUEST_FIELD_MISSING_COLON
						   : AL_HTTP_RESPONSE_FIELD_MISSING_COLON);
		f->name = off;
		f->name_len = 0;
		f->val = off;
		f->val_len = len;
		return;
	}
	bool bad = c == 0;
	uint32_t ne = c;

	while (ne > 0 && is_lws(v[off + ne - 1])) {
		ne--;
		bad = true;
	}
	for (uint32_t i = 0; i < ne; i++)
		bad |= !is_token(v[off + i]);
	if (bad && !quiet)
		anom_once(s, tx,
				dir == REQ ? AL_HTTP_REQUEST_HEADER_INVALID
					   : AL_HTTP_RESPONSE_HEADER_INVALID);
	uint32_t vs = c + 1, ve;

	while (vs < len && is_lws(v[off + vs]))
		vs++;
	const uint8_t *nul = memchr(v + off + vs, 0, len - vs);

	ve = nul != NULL ? (uint32_t)(nul - (v + off)) : len;
	while (ve > vs && is_lws(v[off + ve - 1]))
		ve--;
	f->name = off;
	f->name_len = ne;
	f->val = off + vs;
	f->val_len = ve - vs;
}

static bool
name_eq(const struct fields *fs, const struct field *a, const struct field *b)
{
	if (a->key != b->key || a->id != b->id)
		return false;
	for (uint32_t i = 0; i < a->name_len; i++)
		if (lower(fs->v[a->name + i]) != lower(fs->v[b->name + i]))
			return false;
	return true;
}

/*
 * Split raw[hdr_off..end) into fields: lines starting with SP or HT continue the previous one
 * (libhtp appends them as they are), empty lines (the end of the headers, of the trailer) are
 * skipped. Repetitions of a name are linked to its first field. Returns false on memory.
 */
static bool
fields_split(struct hstate *s, struct htx *tx, unsigned dir, uint32_t end, struct fields *fs,
		bool quiet)
{
	struct hside *sd = &tx->s[dir];
	const uint8_t *p = sd->raw.p;
	uint32_t pos = sd->hdr_off, lines = 0, vlen = 0;
	int32_t cur = -1;
	uint32_t cur_off = 0;

	for (const uint8_t *q = p + pos, *e = p + end; q < e; lines++) {
		q = memchr(q, '\n', (size_t)(e - q));
		if (q == NULL)
			break;
		q++;
	}
	lines++;
	if (lines > MAX_FIELDS)
		lines = MAX_FIELDS;
	fs->n = 0;
	fs->v = al_alloc(s->c, end - pos + 1);
	fs->f = al_alloc(s->c, sizeof(struct field) * lines);
	if (fs->v == NULL || fs->f == NULL)
		return false;
	while (pos < end) {
		const uint8_t *lf = memchr(p + pos, '\n', end - pos);
		uint32_t le = lf != NULL ? (uint32_t)(lf - p) + 1 : end;
		uint32_t ls = pos, ll = chomp(p + ls, le - ls);

		pos = le;
		if (ll == 0) {
			if (cur >= 0)
				field_parse(s, tx, dir, fs->v, cur_off, vlen - cur_off, &fs->f[cur],
						quiet);
			cur = -1;
			continue;
		}
		if (is_lws(p[ls])) {
			if (cur >= 0) {
				memcpy(fs->v + vlen, p + ls, ll);
				vlen += ll;
				continue;
			}
			if (!quiet)
				anom_once(s, tx,
						dir == REQ ? AL_HTTP_INVALID_REQUEST_FIELD_FOLDING
							   : AL_HTTP_INVALID_RESPONSE_FIELD_FOLDING);
		}
		if (cur >= 0)
			field_parse(s, tx, dir, fs->v, cur_off, vlen - cur_off, &fs->f[cur], quiet);
		if (fs->n == lines) {
			if (!quiet)
				anom_once(s, tx,
						dir == REQ ? AL_HTTP_REQUEST_TOO_MANY_HEADERS
							   : AL_HTTP_RESPONSE_TOO_MANY_HEADERS);
			cur = -1;
			break;
		}
		cur = (int32_t)fs->n++;
		cur_off = vlen;
		memcpy(fs->v + vlen, p + ls, ll);
		vlen += ll;
	}
	if (cur >= 0)
		field_parse(s, tx, dir, fs->v, cur_off, vlen - cur_off, &fs->f[cur], quiet);
	/* link repetitions to the first field of their name */
	for (unsigned k = 0; k < H__COUNT; k++)
		fs->known[k] = -1;
	for (uint32_t i = 0; i < fs->n; i++) {
		struct field *f = &fs->f[i];

		f->id = classify(fs->v + f->name, f->name_len, &f->key);
		if (f->id != H_NONE && fs->known[f->id] < 0)
			fs->known[f->id] = (int32_t)i;
		f->first = (int32_t)i;
		f->next = -1;
		f->reps = 0;
		f->joined = f->val_len;
		for (uint32_t j = 0; j < i; j++) {
			struct field *g = &fs->f[j];

			if (g->first != (int32_t)j || !name_eq(fs, f, g))
				continue;
			f->first = (int32_t)j;
			if (g->reps == 0 && !quiet)
				anom_once(s, tx,
						dir == REQ ? AL_HTTP_REQUEST_HEADER_REPETITION
							   : AL_HTTP_RESPONSE_HEADER_REPETITION);
			if (g->id == H_CLEN) {
				/* not joined: the first value stands (libhtp), a different one is
				 * an ambiguity */
				int64_t a = parse_clen(fs->v + g->val, g->val_len);
				int64_t b = parse_clen(fs->v + f->val, f->val_len);

				if ((a < 0 || b < 0 || a != b) && !quiet)
					anom(s, tx,
							dir == REQ ? AL_HTTP_DUPLICATE_CONTENT_LENGTH_FIELD_IN_REQUEST
								   : AL_HTTP_DUPLICATE_CONTENT_LENGTH_FIELD_IN_RESPONSE);
			} else if (g->reps < MAX_REPEAT) {
				int32_t *pn = &g->next;

				while (*pn >= 0)
					pn = &fs->f[*pn].next;
				*pn = (int32_t)i;
				g->joined += 2 + f->val_len;
			}
			g->reps++;
			break;
		}
	}
	return true;
}

static void
fields_free(struct al_ctx *c, struct fields *fs)
{
	al_free(c, fs->v);
	al_free(c, fs->f);
	fs->v = NULL;
	fs->f = NULL;
}

static uint8_t *
put(uint8_t *o, const void *p, size_t n)
{
	memcpy(o, p, n);
	return o + n;
}

/* The Content-Encoding codings this parser undoes, in the order to undo them. */
static void
parse_ce(struct hstate *s, struct htx *tx, struct hside *sd, const uint8_t *v, uint32_t n,
		bool quiet)
{
	uint8_t list[INFL_MAX_LAYERS];
	unsigned nl = 0, layers = 0;
	uint32_t i = 0;

	sd->n_enc = 0;
	if (eq_nocase(v, n, "gzip") || eq_nocase(v, n, "x-gzip")) {
		sd->enc[sd->n_enc++] = ENC_GZIP;
		return;
	}
	if (eq_nocase(v, n, "deflate") || eq_nocase(v, n, "x-deflate")) {
		sd->enc[sd->n_enc++] = ENC_DEFLATE;
		return;
	}
	while (i < n) {
		while (i < n && (v[i] == ',' || is_space(v[i])))
			i++;
		uint32_t t = i;

		while (i < n && v[i] != ',' && !is_space(v[i]))
			i++;
		if (i == t)
			break;
		const uint8_t *w = v + t;
		uint32_t wl = i - t;
		uint8_t enc = ENC_NONE;

		if (eq_nocase(w, wl, "identity") || eq_nocase(w, wl, "none") ||
				eq_nocase(w, wl, "inflate"))
			continue;
		if (++layers > INFL_MAX_LAYERS) {
			if (!quiet)
				anom_once(s, tx, AL_HTTP_TOO_MANY_ENCODING_LAYERS);
			break;
		}
		for (uint32_t k = 0; k + 4 <= wl && enc == ENC_NONE; k++)
			if (eq_nocase(w + k, 4, "gzip"))
				enc = ENC_GZIP;
		for (uint32_t k = 0; k + 7 <= wl && enc == ENC_NONE; k++)
			if (eq_nocase(w + k, 7, "deflate"))
				enc = ENC_DEFLATE;
		bool exact = eq_nocase(w, wl, "gzip") || eq_nocase(w, wl, "x-gzip") ||
			     eq_nocase(w, wl, "deflate") || eq_nocase(w, wl, "x-deflate");

		if (!exact && !quiet && !eq_nocase(w, wl, "lzma") && !eq_nocase(w, wl, "br"))
			anom_once(s, tx, AL_HTTP_ABNORMAL_CE_HEADER);
		if (enc != ENC_NONE)
			list[nl++] = enc;
	}
	/* codings are listed in the order they were applied: undo the last first */
	for (unsigned k = 0; k < nl; k++)
		sd->enc[sd->n_enc++] = list[nl - 1 - k];
}

/* Transfer-Encoding: does it name chunked (as a token in requests, anywhere in responses)? */
static uint8_t
parse_te(const uint8_t *v, uint32_t n, unsigned dir)
{
	uint32_t i = 0;

	if (dir == RESP) {
		for (uint32_t k = 0; k + 7 <= n; k++)
			if (eq_nocase(v + k, 7, "chunked"))
				return eq_nocase(v, n, "chunked") ? TE_CHUNKED : TE_CHUNKED_ODD;
		return TE_OTHER;
	}
	while (i < n) {
		while (i < n && (v[i] == ',' || is_space(v[i])))
			i++;
		uint32_t t = i;

		while (i < n && v[i] != ',' && !is_space(v[i]))
			i++;
		if (eq_nocase(v + t, i - t, "chunked"))
			return TE_CHUNKED;
	}
	return TE_OTHER;
}

/*
 * The derived buffers of a side, from its raw head: field values joined, http.header,
 * http.header_names, http.start, and for requests the normalised URI and host. Also reads
 * what drives the body (Content-Length, Transfer-Encoding, Content-Encoding). quiet: a rebuild
 * (trailer): anomalies were counted the first time.
 */
static void
build_side(struct hstate *s, struct htx *tx, unsigned dir, uint32_t end, bool quiet)
{
	struct hside *sd = &tx->s[dir];
	struct fields fs = { 0 };
	uint64_t total = 0;
	uint32_t uri_cap = 0, host_cap = 0, nu = 0;
	bool have_fields;

	al_free(s->c, sd->der);
	sd->der = NULL;
	for (unsigned k = SL_HEADER; k <= SL_CONNECTION; k++)
		if (sd->sl[k].in == IN_DER)
			sd->sl[k].in = IN_NONE;
	if (end > sd->hdr_off)
		slot_set(sd, SL_HEADER_RAW, IN_RAW, sd->hdr_off, sd->raw.len - sd->hdr_off);
	have_fields = fields_split(s, tx, dir, end > sd->hdr_off ? end : sd->hdr_off, &fs, quiet);
	if (!have_fields) {
		fields_free(s->c, &fs);
		return;
	}
	int32_t h_host = dir == REQ ? fs.known[H_HOST] : -1;

	if (dir == REQ && sd->sl[SL_URI_RAW].in != IN_NONE) {
		uri_cap = sd->sl[SL_URI_RAW].len;
		host_cap = uri_cap;
	}
	if (h_host >= 0 && fs.f[h_host].joined > host_cap)
		host_cap = fs.f[h_host].joined;
	total = (uint64_t)uri_cap + host_cap + sd->line_len + 2;
	for (uint32_t i = 0; i < fs.n; i++) {
		struct field *f = &fs.f[i];

		if (f->first != (int32_t)i)
			continue;
		nu++;
		/* joined value, http.header, http.header_names, http.start */
		total += (uint64_t)f->joined * 3 + f->name_len * 3 + 10;
	}
	total += 8;
	if (total > ALLOC_MAX || (sd->der = al_alloc(s->c, (size_t)total)) == NULL) {
		fields_free(s->c, &fs);
		return;
	}
	uint8_t *o = sd->der;

	/* joined values */
	for (uint32_t i = 0; i < fs.n; i++) {
		struct field *f = &fs.f[i];

		if (f->first != (int32_t)i)
			continue;
		f->out = (uint32_t)(o - sd->der);
		o = put(o, fs.v + f->val, f->val_len);
		for (int32_t k = f->next; k >= 0; k = fs.f[k].next) {
			o = put(o, ", ", 2);
			o = put(o, fs.v + fs.f[k].val, fs.f[k].val_len);
		}
	}
	/* http.header: "Name: value\r\n", without the cookies (Suricata leaves them out) */
	uint8_t *b = o;

	for (uint32_t i = 0; i < fs.n; i++) {
		struct field *f = &fs.f[i];

		if (f->first != (int32_t)i || f->id == (dir == REQ ? H_COOKIE : H_SET_COOKIE))
			continue;
		o = put(o, fs.v + f->name, f->name_len);
		o = put(o, ": ", 2);
		o = put(o, sd->der + f->out, f->joined);
		o = put(o, "\r\n", 2);
	}
	if (o > b)
		slot_set(sd, SL_HEADER, IN_DER, (uint32_t)(b - sd->der), (uint32_t)(o - b));
	/* http.header_names: "\r\nName\r\nName\r\n\r\n" */
	if (nu > 0) {
		b = o;
		o = put(o, "\r\n", 2);
		for (uint32_t i = 0; i < fs.n; i++) {
			struct field *f = &fs.f[i];

			if (f->first != (int32_t)i)
				continue;
			o = put(o, fs.v + f->name, f->name_len);
			o = put(o, "\r\n", 2);
		}
		o = put(o, "\r\n", 2);
		slot_set(sd, SL_NAMES, IN_DER, (uint32_t)(b - sd->der), (uint32_t)(o - b));
	}
	/* http.start: the line, "Name: value\r\n" each, an empty line after the last */
	if (sd->sl[SL_LINE].in != IN_NONE) {
		b = o;
		o = put(o, sd->raw.p, sd->line_len);
		o = put(o, "\r\n", 2);
		for (uint32_t i = 0; i < fs.n; i++) {
			struct field *f = &fs.f[i];

			if (f->first != (int32_t)i)
				continue;
			o = put(o, fs.v + f->name, f->name_len);
			o = put(o, ": ", 2);
			o = put(o, sd->der + f->out, f->joined);
			o = put(o, "\r\n", 2);
		}
		if (nu > 0)
			o = put(o, "\r\n", 2);
		slot_set(sd, SL_START, IN_DER, (uint32_t)(b - sd->der), (uint32_t)(o - b));
	}
	/* single fields */
	for (unsigned k = H_NONE + 1; k < H__COUNT; k++) {
		int32_t i = fs.known[k];

		if (i >= 0 && known[k].slot[dir] != NO_SLOT)
			slot_set(sd, known[k].slot[dir], IN_DER, fs.f[i].out, fs.f[i].joined);
	}
	/* what drives the body */
	int32_t i_cl = fs.known[H_CLEN];
	int32_t i_te = fs.known[H_TE];
	int32_t i_ce = fs.known[H_CE];

	sd->clen = -1;
	sd->te = TE_NONE;
	sd->n_enc = 0;
	if (i_te >= 0)
		sd->te = parse_te(sd->der + fs.f[i_te].out, fs.f[i_te].joined, dir);
	if (i_cl >= 0) {
		sd->clen = parse_clen(sd->der + fs.f[i_cl].out, fs.f[i_cl].joined);
		if (sd->clen < 0 && sd->te != TE_CHUNKED && !quiet)
			anom(s, tx,
					dir == REQ ? AL_HTTP_INVALID_CONTENT_LENGTH_FIELD_IN_REQUEST
						   : AL_HTTP_INVALID_CONTENT_LENGTH_FIELD_IN_RESPONSE);
	}
	if (i_ce >= 0)
		parse_ce(s, tx, sd, sd->der + fs.f[i_ce].out, fs.f[i_ce].joined, quiet);
	if (dir == REQ) {
		int32_t i_ex = fs.known[H_EXPECT];

		if (i_ex >= 0 && eq_nocase(sd->der + fs.f[i_ex].out, fs.f[i_ex].joined,
						 "100-continue"))
			tx->f |= TF_EXPECT;
		int32_t i_au = fs.known[H_AUTH];

		if (i_au >= 0 && !quiet) {
			const uint8_t *a = sd->der + fs.f[i_au].out;
			uint32_t al = fs.f[i_au].joined;

			if (!starts_nocase(a, al, "basic") && !starts_nocase(a, al, "digest") &&
					!starts_nocase(a, al, "bearer"))
				anom(s, tx, AL_HTTP_REQUEST_AUTH_UNRECOGNIZED);
		}
	}
	/* requests: the normalised URI and host */
	if (dir == REQ && sd->sl[SL_URI_RAW].in != IN_NONE) {
		const uint8_t *u = sd->raw.p + sd->sl[SL_URI_RAW].off;
		uint32_t ul = sd->sl[SL_URI_RAW].len;
		int dbl = 0;
		size_t nl = al_http_uri_normalize(u, ul, tx->method == M_CONNECT, o, &dbl);

		slot_set(sd, SL_URI, IN_DER, (uint32_t)(o - sd->der), (uint32_t)nl);
		o += nl;
		if (dbl && !quiet)
			anom(s, tx, AL_HTTP_DOUBLE_ENCODED_URI);
	}
	if (dir == REQ) {
		const uint8_t *hp = NULL;
		uint32_t hl = 0, hoff;
		int uport = -1, hport = -1;
		bool bad;
		uint8_t *hb = o;

		if (sd->sl[SL_URI_RAW].in != IN_NONE) {
			const uint8_t *u = sd->raw.p + sd->sl[SL_URI_RAW].off;
			uint32_t ul = sd->sl[SL_URI_RAW].len;
			size_t h = 0, l = 0;

			if (tx->method == M_CONNECT) {
				split_hostport(u, ul, &hoff, &hl, &uport, &bad);
				hp = u + hoff;
			} else {
				uri_path_start(u, ul, &h, &l);
				hp = u + h;
				hl = (uint32_t)l;
				/* the port of an absolute URI, for the ambiguity test */
				if (hl > 0 && h + hl < ul && u[h + hl] == ':') {
					uint32_t ps = (uint32_t)(h + hl + 1), pe = ps;

					while (pe < ul && u[pe] != '/' && u[pe] != '?' &&
							u[pe] != '#')
						pe++;
					uport = parse_port(u + ps, pe - ps);
					if (uport < 0 && !quiet)
						anom(s, tx, AL_HTTP_REQUEST_URI_HOST_INVALID);
				}
			}
		}
		if (hl > 0) {
			/* the URI's host: decoded, lower-cased, trailing dots dropped */
			size_t n = url_decode(hp, hl, o, true);

			for (size_t k = 0; k < n; k++)
				o[k] = lower(o[k]);
			while (n > 0 && o[n - 1] == '.')
				n--;
			if (!host_valid(o, n) && !quiet)
				anom(s, tx, AL_HTTP_REQUEST_URI_HOST_INVALID);
			/* Suricata's http.host.raw is the URI's host as libhtp normalised it */
			slot_set(sd, SL_HOST, IN_DER, (uint32_t)(o - sd->der), (uint32_t)n);
			slot_set(sd, SL_HOST_RAW, IN_DER, (uint32_t)(o - sd->der), (uint32_t)n);
			o += n;
		}
		if (h_host >= 0) {
			const uint8_t *v = sd->der + fs.f[h_host].out;
			uint32_t vl = fs.f[h_host].joined, off, len;

			if (sd->sl[SL_HOST_RAW].in == IN_NONE)
				slot_set(sd, SL_HOST_RAW, IN_DER, fs.f[h_host].out, vl);
			split_hostport(v, vl, &off, &len, &hport, &bad);
			if ((bad || !host_valid(v + off, len)) && !quiet)
				anom(s, tx, AL_HTTP_REQUEST_HEADER_HOST_INVALID);
			if (hl == 0 && len > 0) {
				for (uint32_t k = 0; k < len; k++)
					o[k] = lower(v[off + k]);
				slot_set(sd, SL_HOST, IN_DER, (uint32_t)(o - sd->der), len);
				o += len;
			} else if (hl > 0 && !quiet) {
				bool differ = sd->sl[SL_HOST].len != len;

				for (uint32_t k = 0; !differ && k < len; k++)
					differ = hb[k] != lower(v[off + k]);
				if (differ || (uport >= 0 && hport >= 0 && uport != hport))
					anom(s, tx, AL_HTTP_HOST_HEADER_AMBIGUOUS);
			}
		} else if (tx->proto[REQ] == P_11 && !quiet) {
			anom(s, tx, AL_HTTP_MISSING_HOST_HEADER);
		}
	}
	fields_free(s->c, &fs);
}

/* ---- bodies ---- */

static voidpf
z_alloc(voidpf opaque, uInt items, uInt size)
{
	if (size != 0 && items > (uInt)(ALLOC_MAX / size))
		return Z_NULL;
	return al_alloc(opaque, (size_t)items * size);
}

static void
z_free(voidpf opaque, voidpf p)
{
	al_free(opaque, p);
}

static uint32_t
body_limit(const struct hstate *s, unsigned dir)
{
	uint32_t l = dir == REQ ? lim(s)->http_req_body : lim(s)->http_resp_body;

	return l > ALLOC_MAX ? ALLOC_MAX : l;
}

static void
body_stage(const struct al_emit *e, struct htx *tx, unsigned dir)
{
	emit(e, tx, dir == REQ ? AL_ST_HTTP_REQ_BODY : AL_ST_HTTP_RESP_BODY, dir);
}

/*
 * Decoded body bytes: counted, kept up to the limit. Once the kept body is full its stage is
 * final (reported then, with exactly the limit counted, whatever the split).
 */
static void
body_keep(struct hstate *s, struct htx *tx, unsigned dir, const uint8_t *p, size_t n,
		const struct al_emit *e)
{
	struct hside *sd = &tx->s[dir];
	uint32_t lm = body_limit(s, dir), got = 0;
	size_t fit;

	if (sd->f & SF_CUT) {
		sd->seen += n;
		return;
	}
	fit = lm > sd->body.len ? lm - sd->body.len : 0;
	if (fit > n)
		fit = n;
	/* in slices, so that a short arena still keeps what it can */
	while (got < fit) {
		uint32_t k = fit - got > 65536 ? 65536 : (uint32_t)(fit - got);

		if (rbuf_add(s->c, &sd->body, p + got, k, lm) < k)
			break;
		got += k;
	}
	sd->seen += got;
	if (got < n || sd->body.len >= lm) {
		sd->f |= SF_CUT;
		body_stage(e, tx, dir);
		sd->seen += n - got;
	}
}

static void infl_feed(struct hstate *s, struct htx *tx, unsigned dir, unsigned layer,
		const uint8_t *p, size_t n, const struct al_emit *e);

/* Output of a layer: to the next one, or kept. Two layers at most: bounded recursion. */
static void
infl_out(struct hstate *s, struct htx *tx, unsigned dir, unsigned layer, const uint8_t *p, size_t n,
		const struct al_emit *e)
{
	if (n == 0)
		return;
	if (layer + 1 < tx->s[dir].n_enc)
		infl_feed(s, tx, dir, layer + 1, p, n, e);
	else
		body_keep(s, tx, dir, p, n, e);
}

static bool
zlib_header(uint8_t a, uint8_t b)
{
	return (a & 0x0f) == 8 && (a >> 4) <= 7 && ((unsigned)a << 8 | b) % 31 == 0;
}

/* Decoding stops (a bomb, a broken stream): what was kept is final now. */
static void
infl_stop(struct hstate *s, struct htx *tx, unsigned dir, unsigned id, const struct al_emit *e)
{
	anom_once(s, tx, id);
	tx->s[dir].f |= SF_DECSTOP | SF_CUT;
	body_stage(e, tx, dir);
}

enum { G_FIXED, G_XLEN, G_EXTRA, G_NAME, G_COMMENT, G_HCRC, G_DONE };

/* Skip a gzip header (RFC 1952) as it arrives; returns the bytes used, *bad when it is not. */
static size_t
gz_skip_header(struct infl *in, const uint8_t *p, size_t n, bool *bad)
{
	static const uint8_t magic[3] = { 0x1f, 0x8b, 8 };
	size_t i = 0;

	*bad = false;
	while (i < n && in->gz_st != G_DONE) {
		switch (in->gz_st) {
		case G_FIXED: /* ID1 ID2 CM FLG MTIME(4) XFL OS */
			if (in->gz_need < 3 && p[i] != magic[in->gz_need]) {
				*bad = true;
				return i;
			}
			if (in->gz_need == 3)
				in->gz_flg = p[i];
			i++;
			if (++in->gz_need == 10) {
				in->gz_need = 0;
				in->gz_st = (in->gz_flg & 4) ? G_XLEN : G_NAME;
			}
			break;
		case G_XLEN: /* two bytes, little-endian; bit 15 marks the second */
			if (!(in->gz_need & 0x8000)) {
				in->gz_need = (uint16_t)(0x8000 | p[i++]);
			} else {
				in->gz_need = (uint16_t)((in->gz_need & 0xff) | p[i++] << 8);
				in->gz_st = in->gz_need ? G_EXTRA : G_NAME;
			}
			break;
		case G_EXTRA: {
			size_t k = n - i < in->gz_need ? n - i : in->gz_need;

			i += k;
			in->gz_need = (uint16_t)(in->gz_need - k);
			if (in->gz_need == 0)
				in->gz_st = G_NAME;
			break;
		}
		case G_NAME:
		case G_COMMENT: {
			uint8_t bit = in->gz_st == G_NAME ? 8 : 16;
			const uint8_t *z;

			if (!(in->gz_flg & bit)) {
				in->gz_st++;
				break;
			}
			z = memchr(p + i, 0, n - i);
			if (z == NULL)
				return n;
			i = (size_t)(z - p) + 1;
			in->gz_st++;
			break;
		}
		case G_HCRC:
			if (!(in->gz_flg & 2) || ++in->gz_need == 2) {
				i += (in->gz_flg & 2) ? 1 : 0;
				in->gz_st = G_DONE;
				break;
			}
			i++;
			break;
		}
	}
	return i;
}

/* The stream does not decode: pass it through if all of it was held, else stop. */
static void
infl_fail(struct hstate *s, struct htx *tx, unsigned dir, unsigned layer, struct infl *in,
		const struct al_emit *e)
{
	if (!in->produced && in->held_len <= INFL_HELD) {
		in->mode = IM_PASS;
		infl_out(s, tx, dir, layer, in->held, in->held_len, e);
		return;
	}
	infl_stop(s, tx, dir, AL_HTTP_GZIP_DECOMPRESSION_FAILED, e);
}

/* inflate() over p[0..n), within http_inflate_max and http_inflate_ratio. */
static void
infl_run(struct hstate *s, struct htx *tx, unsigned dir, unsigned layer, struct infl *in,
		const uint8_t *p, size_t n, const struct al_emit *e)
{
	struct hside *sd = &tx->s[dir];
	const uint64_t max = lim(s)->http_inflate_max, ratio = lim(s)->http_inflate_ratio;
	uint8_t out[INFL_OUT];

	in->zs.next_in = (Bytef *)(uintptr_t)p;
	in->zs.avail_in = (uInt)n;
	/* until inflate neither takes input nor gives output: a little input may hold a lot */
	while (in->mode == IM_INFLATE && !(sd->f & SF_DECSTOP)) {
		uint64_t room = max > in->out ? max - in->out : 0;
		size_t avail = room < sizeof(out) ? (size_t)room : sizeof(out);
		uInt before = in->zs.avail_in;
		int rc;

		if (avail == 0) {
			infl_stop(s, tx, dir, AL_HTTP_COMPRESSION_BOMB_LIMIT_REACHED, e);
			return;
		}
		in->zs.next_out = out;
		in->zs.avail_out = (uInt)avail;
		rc = inflate(&in->zs, Z_NO_FLUSH);
		size_t got = avail - in->zs.avail_out;

		if (got > 0) {
			in->produced = true;
			in->out += got;
			infl_out(s, tx, dir, layer, out, got, e);
		}
		if (rc == Z_STREAM_END) {
			/* what follows (a gzip trailer, more members) is ignored, as libhtp */
			in->mode = IM_END;
			return;
		}
		if (rc != Z_OK && rc != Z_BUF_ERROR) {
			infl_fail(s, tx, dir, layer, in, e);
			return;
		}
		if (got == 0 && before == in->zs.avail_in)
			return;
		if (ratio > 0 && in->out > RATIO_FLOOR &&
				in->out / ratio > (sd->wire ? sd->wire : 1)) {
			infl_stop(s, tx, dir, AL_HTTP_COMPRESSION_BOMB, e);
			return;
		}
	}
}

static bool
infl_init(struct hstate *s, struct infl *in, int window_bits)
{
	in->zs.zalloc = z_alloc;
	in->zs.zfree = z_free;
	in->zs.opaque = s->c;
	if (inflateInit2(&in->zs, window_bits) != Z_OK)
		return false;
	in->zinit = true;
	return true;
}

/*
 * Undo one content-coding. The first two bytes tell gzip (1f 8b), zlib (a valid header) and raw
 * deflate apart, since browsers accept each whatever the header says; a "gzip" body that is
 * none of them goes through as it is, as libhtp lets it. The first bytes are held so that a
 * stream that fails before any output can still go through.
 */
static void
infl_feed(struct hstate *s, struct htx *tx, unsigned dir, unsigned layer, const uint8_t *p,
		size_t n, const struct al_emit *e)
{
	struct hside *sd = &tx->s[dir];
	struct infl *in = sd->inf[layer];

	if (sd->f & SF_DECSTOP)
		return;
	if (in == NULL) {
		in = sd->inf[layer] = al_alloc(s->c, sizeof(*in));
		if (in == NULL) {
			sd->f |= SF_DECSTOP;
			return;
		}
		memset(in, 0, sizeof(*in));
		in->kind = sd->enc[layer];
		in->mode = IM_SNIFF;
	}
	if (in->mode == IM_PASS) {
		infl_out(s, tx, dir, layer, p, n, e);
		return;
	}
	if (in->mode == IM_END)
		return;
	/* hold the first bytes: all of them while they fit, none once they do not */
	if (!in->produced && in->held_len <= INFL_HELD) {
		if (n <= (size_t)(INFL_HELD - in->held_len)) {
			memcpy(in->held + in->held_len, p, n);
			in->held_len = (uint8_t)(in->held_len + n);
		} else {
			in->held_len = INFL_HELD + 1;
		}
	}
	if (in->mode == IM_SNIFF) {
		uint8_t ab[2];
		bool have = in->have_first;
		int wb;

		if (!have && n < 2) {
			in->first = p[0];
			in->have_first = true;
			return;
		}
		ab[0] = have ? in->first : p[0];
		ab[1] = have ? p[0] : p[1];
		in->have_first = false;

		if (ab[0] == 0x1f && ab[1] == 0x8b) {
			wb = -15;
			in->mode = IM_GZHDR;
		} else if (zlib_header(ab[0], ab[1])) {
			wb = 15;
			in->mode = IM_INFLATE;
		} else if (in->kind == ENC_DEFLATE) {
			wb = -15;
			in->mode = IM_INFLATE;
		} else {
			in->mode = IM_PASS;
			if (have)
				infl_out(s, tx, dir, layer, ab, 1, e);
			infl_out(s, tx, dir, layer, p, n, e);
			return;
		}
		if (!infl_init(s, in, wb)) {
			sd->f |= SF_DECSTOP;
			return;
		}
		if (have) {
			/* the first byte arrived alone: run it before this call's bytes */
			if (in->mode == IM_GZHDR) {
				bool bad;

				gz_skip_header(in, ab, 1, &bad);
			} else {
				infl_run(s, tx, dir, layer, in, ab, 1, e);
			}
		}
	}
	if (in->mode == IM_GZHDR) {
		bool bad;
		size_t k = gz_skip_header(in, p, n, &bad);

		if (bad) {
			infl_fail(s, tx, dir, layer, in, e);
			return;
		}
		p += k;
		n -= k;
		if (in->gz_st != G_DONE)
			return;
		in->mode = IM_INFLATE;
	}
	if (in->mode == IM_INFLATE && n > 0)
		infl_run(s, tx, dir, layer, in, p, n, e);
}

/* Wire body bytes of a side (dechunked): decoded if encoded, then kept. */
static void
body_data(struct hstate *s, struct htx *tx, unsigned dir, const uint8_t *p, size_t n,
		const struct al_emit *e)
{
	struct hside *sd = &tx->s[dir];

	if (n == 0)
		return;
	sd->wire += n;
	if (sd->f & SF_GAP)
		return;
	if (sd->n_enc > 0) {
		infl_feed(s, tx, dir, 0, p, n, e);
		return;
	}
	body_keep(s, tx, dir, p, n, e);
}

/* The body ended: flush and free the decoders. */
static void
body_close(struct hstate *s, struct htx *tx, unsigned dir)
{
	struct hside *sd = &tx->s[dir];

	infl_free(s->c, sd);
	sd->f |= SF_BODY;
}

/* ---- the direction state machines ---- */

static uint32_t feed_dir(struct hstate *s, unsigned dir, const uint8_t *d, uint32_t len,
		const struct al_emit *e);

static void
dir_next(struct hdir *h)
{
	h->tx = NULL;
	h->line = false;
	h->st = DS_HEAD;
	h->cur = 0;
	h->nlines = 0;
	h->line_buf.len = 0;
}

static void
req_end(struct hstate *s, struct htx *tx, const struct al_emit *e)
{
	body_close(s, tx, REQ);
	tx->f |= TF_REQ_DONE;
	tx->f &= (uint8_t)~TF_09;
	body_stage(e, tx, REQ);
}

/*
 * The last request had no body announced, so it was left open: what the client sent after it
 * was no request (it became that request's body, libhtp's "unexpected request body"). Now a
 * request line, the response or the end of the direction says it is complete.
 */
static void
prev_close(struct hstate *s, const struct al_emit *e)
{
	struct hdir *h = &s->d[REQ];

	if (!h->prev_open)
		return;
	h->prev_open = false;
	if (h->prev != NULL) {
		req_end(s, h->prev, e);
		try_free(s);
	}
}

static void
req_done(struct hstate *s, const struct al_emit *e)
{
	struct hdir *h = &s->d[REQ];
	struct htx *tx = h->tx;

	prev_close(s, e);
	req_end(s, tx, e);
	dir_next(h);
	h->prev = tx;
	h->done_one = true;
	try_free(s);
}

/*
 * A request without a body announced: its headers are complete, the direction goes on to the
 * next request, but the request stays open (its body stage unreported) until prev_close().
 * Bytes that are no request line become its body first, whatever the segment boundaries.
 */
static void
req_done_open(struct hstate *s, const struct al_emit *e)
{
	struct hdir *h = &s->d[REQ];
	struct htx *tx = h->tx;

	prev_close(s, e);
	dir_next(h);
	h->prev = tx;
	h->prev_open = true;
	h->done_one = true;
}

static void
resp_done(struct hstate *s, const struct al_emit *e)
{
	struct hdir *h = &s->d[RESP];
	struct htx *tx = h->tx;

	body_close(s, tx, RESP);
	tx->f |= TF_RESP_DONE;
	body_stage(e, tx, RESP);
	dir_next(h);
	h->done_one = true;
	try_free(s);
}

static void
dir_done(struct hstate *s, unsigned dir, const struct al_emit *e)
{
	if (dir == REQ)
		req_done(s, e);
	else
		resp_done(s, e);
}

/* A request line without protocol and nothing after it: an HTTP/0.9 request, complete. */
static void
req_09_done(struct hstate *s, const struct al_emit *e)
{
	struct hdir *h = &s->d[REQ];
	struct htx *tx = h->tx;

	build_side(s, tx, REQ, tx->s[REQ].raw.len, false);
	tx->s[REQ].f |= SF_HEAD;
	emit(e, tx, AL_ST_HTTP_REQ_HEADERS, REQ);
	req_done(s, e);
	/* one request per HTTP/0.9 connection: what follows is not parsed (libhtp) */
	h->st = DS_IGNORE;
}

/* The transaction the next response belongs to, without side effects. */
static struct htx *
resp_peek(const struct hstate *s)
{
	struct htx *tx;

	if (s->resp_skip > 0)
		return NULL;
	for (tx = s->first; tx != NULL; tx = tx->next)
		if (!(tx->f & (TF_NOREQ | TF_RESP_STARTED)))
			return tx;
	return NULL;
}

/* A response arrives while the request it answers waits to tell HTTP/0.9 from 1.x. */
static void
resp_arrives(struct hstate *s, const struct al_emit *e)
{
	struct hdir *rq = &s->d[REQ];

	if (rq->st == DS_HEAD && rq->line && rq->tx != NULL && (rq->tx->f & TF_09) &&
			rq->cur == 0 && resp_peek(s) == rq->tx)
		req_09_done(s, e);
}

static struct htx *
resp_match(struct hstate *s)
{
	struct htx *tx = resp_peek(s);

	if (tx != NULL)
		return tx;
	tx = tx_new(s);
	if (tx == NULL)
		return NULL;
	tx->f |= TF_NOREQ;
	if (s->resp_skip > 0)
		s->resp_skip--; /* the response of a dropped transaction */
	else
		anom(s, tx, AL_HTTP_UNABLE_TO_MATCH_RESPONSE_TO_REQUEST);
	return tx;
}

/* Stop: the connection is no longer HTTP (a tunnel), or the parser cannot go on. */
static void finish_dir(struct hstate *s, unsigned dir, bool closing, const struct al_emit *e);

static void
go_tunnel(struct hstate *s, const struct al_emit *e)
{
	if (s->tunnel)
		return;
	s->tunnel = true;
	finish_dir(s, REQ, true, e);
	finish_dir(s, RESP, true, e);
}

/* Held bytes (CONNECT) are HTTP after all: parse them. */
static void
replay(struct hstate *s, unsigned dir, const struct al_emit *e)
{
	struct hdir *h = &s->d[dir];
	struct rbuf held = h->pre;

	h->pre = (struct rbuf){ 0 };
	h->hold = 0;
	dir_next(h);
	if (held.len > 0) {
		if (s->depth < MAX_DEPTH) {
			s->depth++;
			feed_dir(s, dir, held.p, held.len, e);
			s->depth--;
		} else {
			go_tunnel(s, e);
		}
	}
	rbuf_free(s->c, &held);
}

/* The request's first word is a method (or the line ends in a protocol): a request line. */
static bool
looks_like_request(const uint8_t *p, uint32_t n)
{
	uint32_t i = 0, ms, e = n;

	while (i < n && is_space(p[i]))
		i++;
	ms = i;
	while (i < n && !is_space(p[i]))
		i++;
	if (method_kind(p + ms, i - ms) != M_UNKNOWN)
		return true;
	while (e > i && is_space(p[e - 1]))
		e--;
	uint32_t b = e;

	while (b > i && p[b - 1] != ' ')
		b--;
	return b > i && parse_proto(p + b, e - b) != P_BAD;
}

/* After a 2xx to CONNECT: HTTP goes on if the client's next bytes are a request. */
static void
probe_decide(struct hstate *s, bool closing, const struct al_emit *e)
{
	struct hdir *rq = &s->d[REQ];
	const uint8_t *p = rq->pre.p;
	uint32_t n = rq->pre.len, i = 0;

	if (rq->st != DS_HOLD || rq->hold != HOLD_PROBE)
		return;
	while (i < n && is_space(p[i]))
		i++;
	uint32_t ms = i;

	while (i < n && !is_space(p[i])) {
		/* methods are upper-case tokens: anything else is no request */
		if (!((p[i] >= 'A' && p[i] <= 'Z') || p[i] == '-' || p[i] == '_')) {
			go_tunnel(s, e);
			return;
		}
		i++;
	}
	if (i == n && n - ms < 20 && !closing)
		return; /* the method is not complete yet */
	if (i > ms && method_kind(p + ms, i - ms) != M_UNKNOWN) {
		replay(s, REQ, e);
		replay(s, RESP, e);
		return;
	}
	go_tunnel(s, e);
}

/* Bytes held while the answer to CONNECT is awaited, or while probing the tunnel. */
static void
hold_feed(struct hstate *s, unsigned dir, const uint8_t *d, uint32_t len, const struct al_emit *e)
{
	struct hdir *h = &s->d[dir];

	if (rbuf_add(s->c, &h->pre, d, len, head_max(s)) < len) {
		go_tunnel(s, e);
		return;
	}
	if (h->hold == HOLD_PROBE)
		probe_decide(s, false, e);
}

static void
req_head_done(struct hstate *s, uint32_t end, const struct al_emit *e)
{
	struct hdir *h = &s->d[REQ];
	struct htx *tx = h->tx;
	struct hside *sd = &tx->s[REQ];

	build_side(s, tx, REQ, end, false);
	sd->f |= SF_HEAD;
	emit(e, tx, AL_ST_HTTP_REQ_HEADERS, REQ);
	if (tx->method == M_CONNECT) {
		/* no body; what the client sends next waits for the answer */
		req_done(s, e);
		h->st = DS_HOLD;
		h->hold = HOLD_CONNECT;
		return;
	}
	if (sd->te == TE_CHUNKED) {
		if (tx->proto[REQ] != P_11)
			anom(s, tx, AL_HTTP_INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST);
		h->st = DS_CHUNK_LEN;
		return;
	}
	if (sd->te == TE_OTHER)
		anom(s, tx, AL_HTTP_INVALID_TRANSFER_ENCODING_VALUE_IN_REQUEST);
	if (sd->clen > 0) {
		h->st = DS_BODY_CL;
		h->left = (uint64_t)sd->clen;
		return;
	}
	req_done_open(s, e);
}

static void
resp_head_done(struct hstate *s, uint32_t end, const struct al_emit *e)
{
	struct hdir *h = &s->d[RESP];
	struct htx *tx = h->tx;
	struct hside *sd = &tx->s[RESP];
	unsigned st;

	build_side(s, tx, RESP, end, false);
	st = tx->status;
	if (st >= 100 && st < 200 && st != 101 && sd->te == TE_NONE && sd->clen <= 0) {
		/* an interim response: the transaction's response is still to come */
		if (st == 100 && tx->n100++ > 0)
			anom(s, tx, AL_HTTP_100_CONTINUE_ALREADY_SEEN);
		side_free(s->c, sd);
		memset(sd, 0, sizeof(*sd));
		sd->clen = -1;
		tx->status = 0;
		h->line = false;
		h->cur = 0;
		h->nlines = 0;
		return;
	}
	sd->f |= SF_HEAD;
	emit(e, tx, AL_ST_HTTP_RESP_HEADERS, RESP);
	/* a 4xx to a request that waited for "100 Continue": its body will not come */
	if (st >= 400 && st < 500 && (tx->f & TF_EXPECT) && s->d[REQ].tx == tx &&
			s->d[REQ].st == DS_BODY_CL && tx->s[REQ].wire == 0)
		req_done(s, e);
	if (st == 101 && sd->te == TE_NONE && sd->clen < 0) {
		resp_done(s, e);
		go_tunnel(s, e);
		return;
	}
	if (tx->method == M_CONNECT && !(tx->f & TF_NOREQ)) {
		struct hdir *rq = &s->d[REQ];

		if (st >= 200 && st < 300) {
			resp_done(s, e);
			h->st = DS_HOLD;
			h->hold = HOLD_PROBE;
			if (rq->st == DS_HOLD) {
				rq->hold = HOLD_PROBE;
				probe_decide(s, false, e);
			}
			return;
		}
		if (rq->st == DS_HOLD)
			replay(s, REQ, e);
	}
	if (tx->method == M_HEAD ||
			(((st >= 100 && st < 200) || st == 204 || st == 304) && sd->te == TE_NONE &&
					sd->sl[SL_CLEN].in == IN_NONE)) {
		resp_done(s, e);
		return;
	}
	if (sd->te == TE_CHUNKED || sd->te == TE_CHUNKED_ODD) {
		if (sd->te == TE_CHUNKED_ODD)
			anom(s, tx, AL_HTTP_RESPONSE_ABNORMAL_TRANSFER_ENCODING);
		if (tx->proto[RESP] != P_11)
			anom(s, tx, AL_HTTP_RESPONSE_CHUNKED_OLD_PROTO);
		h->st = DS_CHUNK_LEN;
		return;
	}
	if (sd->te == TE_OTHER)
		anom(s, tx, AL_HTTP_INVALID_TRANSFER_ENCODING_VALUE_IN_RESPONSE);
	if (sd->clen == 0) {
		resp_done(s, e);
		return;
	}
	if (sd->clen > 0) {
		h->st = DS_BODY_CL;
		h->left = (uint64_t)sd->clen;
		return;
	}
	h->st = DS_BODY_CLOSE;
}

/* The empty line ended the head: build its buffers and go on with the body. */
static void
head_done(struct hstate *s, unsigned dir, bool closing, const struct al_emit *e)
{
	struct hdir *h = &s->d[dir];
	struct hside *sd = &h->tx->s[dir];
	uint32_t end = sd->raw.len;

	/* past the limit, the line that did not fit is left out unless the stream ended there */
	if ((sd->f & SF_TRUNC) && !closing)
		while (end > sd->hdr_off && sd->raw.p[end - 1] != '\n')
			end--;
	if (dir == REQ)
		req_head_done(s, end, e);
	else
		resp_head_done(s, end, e);
}

/* Start-line bytes kept in pre until the transaction exists. */
static void
head_keep(struct hstate *s, unsigned dir, const uint8_t *p, uint32_t n)
{
	struct hdir *h = &s->d[dir];
	struct hside *sd;

	if (!h->line) {
		if (!h->pre_trunc && rbuf_add(s->c, &h->pre, p, n, head_max(s)) < n)
			h->pre_trunc = true;
		return;
	}
	sd = &h->tx->s[dir];
	if (sd->f & SF_TRUNC)
		return;
	if (rbuf_add(s->c, &sd->raw, p, n, head_max(s)) < n) {
		sd->f |= SF_TRUNC;
		anom_once(s, h->tx,
				dir == REQ ? AL_HTTP_REQUEST_FIELD_TOO_LONG
					   : AL_HTTP_RESPONSE_FIELD_TOO_LONG);
	}
}

/* Move the start line from pre into tx. */
static void
take_line(struct hstate *s, unsigned dir, struct htx *tx)
{
	struct hdir *h = &s->d[dir];
	struct hside *sd = &tx->s[dir];

	rbuf_free(s->c, &sd->raw);
	sd->raw = h->pre;
	h->pre = (struct rbuf){ 0 };
	sd->line_len = chomp(sd->raw.p, sd->raw.len);
	sd->hdr_off = sd->raw.len;
	if (h->pre_trunc) {
		sd->f |= SF_TRUNC;
		anom_once(s, tx,
				dir == REQ ? AL_HTTP_REQUEST_FIELD_TOO_LONG
					   : AL_HTTP_RESPONSE_FIELD_TOO_LONG);
	}
	h->pre_trunc = false;
	h->tx = tx;
	h->line = true;
	h->nlines = 0;
}

/* At most http_max_tx transactions wait: the oldest answered-to-be is dropped. */
static void
limit_tx(struct hstate *s, struct htx *nt)
{
	uint32_t max = lim(s)->http_max_tx ? lim(s)->http_max_tx : 1;
	struct htx *t;

	if (s->n_tx <= max)
		return;
	for (t = s->first; t != NULL; t = t->next)
		if ((t->f & TF_REQ_DONE) && !(t->f & (TF_RESP_STARTED | TF_NOREQ)))
			break;
	if (t == NULL)
		return;
	anom(s, nt, AL_HTTP_TOO_MANY_TRANSACTIONS);
	s->resp_skip++;
	tx_unlink_free(s, t);
}

/* A start line is complete (in pre). Returns true when the head ended with it. */
static bool
start_line_done(struct hstate *s, unsigned dir, const struct al_emit *e)
{
	struct hdir *h = &s->d[dir];
	struct htx *tx;

	if (dir == REQ) {
		struct htx *pv = h->prev;

		if (h->done_one && pv != NULL && !looks_like_request(h->pre.p, h->pre.len)) {
			/* after a complete request, bytes that are no request: more body
			 * (libhtp); whitespace lines are dropped */
			bool ws = true;

			for (uint32_t i = 0; i < h->pre.len && ws; i++)
				ws = is_space(h->pre.p[i]);
			if (!ws) {
				anom(s, pv, AL_HTTP_REQUEST_BODY_UNEXPECTED);
				body_keep(s, pv, REQ, h->pre.p, h->pre.len, e);
			}
			h->pre.len = 0;
			h->pre_trunc = false;
			return false;
		}
		prev_close(s, e);
		tx = tx_new(s);
		if (tx == NULL) {
			rbuf_free(s->c, &h->pre);
			h->st = DS_IGNORE;
			return true;
		}
		take_line(s, REQ, tx);
		limit_tx(s, tx);
		parse_request_line(s, tx);
		return false;
	}
	tx = h->tx != NULL ? h->tx : resp_match(s);
	if (tx == NULL) {
		rbuf_free(s->c, &h->pre);
		h->st = DS_IGNORE;
		return true;
	}
	/* the answer to a request left open completes it */
	if (s->d[REQ].prev_open && tx == s->d[REQ].prev)
		prev_close(s, e);
	tx->f |= TF_RESP_STARTED;
	take_line(s, RESP, tx);
	/* browsers take a first line that is not "HTTP..." as the start of the body */
	const uint8_t *p = tx->s[RESP].raw.p;
	uint32_t n = tx->s[RESP].raw.len, i = 0;

	while (i < n && (is_space(p[i]) || p[i] == 0))
		i++;
	if (!starts_nocase(p + i, n - i, "http")) {
		tx->s[RESP].f |= SF_HEAD;
		emit(e, tx, AL_ST_HTTP_RESP_HEADERS, RESP);
		h->st = DS_BODY_CLOSE;
		body_data(s, tx, RESP, p, n, e);
		rbuf_free(s->c, &tx->s[RESP].raw);
		return true;
	}
	parse_response_line(s, tx);
	return false;
}

/* A head (or trailer) line ended; empty: it was "\r\n" or "\n". True: the head is over. */
static bool
line_done(struct hstate *s, unsigned dir, bool empty, const struct al_emit *e)
{
	struct hdir *h = &s->d[dir];

	if (h->st == DS_TRAILER) {
		if (!empty) {
			h->nlines++;
			return false;
		}
		struct hside *sd = &h->tx->s[dir];

		if (h->nlines > 0 && (sd->f & SF_HEAD)) {
			uint32_t end = sd->raw.len;

			if (sd->f & SF_TRUNC)
				while (end > sd->hdr_off && sd->raw.p[end - 1] != '\n')
					end--;
			build_side(s, h->tx, dir, end, true);
		}
		dir_done(s, dir, e);
		return true;
	}
	if (!h->line) {
		if (empty) {
			h->pre.len = 0; /* an empty line before the start line is ignored */
			h->pre_trunc = false;
			return false;
		}
		return start_line_done(s, dir, e);
	}
	if (dir == REQ && (h->tx->f & TF_09)) {
		if (empty) {
			req_09_done(s, e);
			return true;
		}
		h->tx->f &= (uint8_t)~TF_09;
		anom(s, h->tx, AL_HTTP_REQUEST_LINE_MISSING_PROTOCOL);
	}
	if (!empty) {
		h->nlines++;
		return false;
	}
	head_done(s, dir, false, e);
	return true;
}

/* Bytes of a head or a trailer: kept up to the limit, scanned for line ends. */
static uint32_t
head_feed(struct hstate *s, unsigned dir, const uint8_t *d, uint32_t len, const struct al_emit *e)
{
	struct hdir *h = &s->d[dir];
	uint32_t off = 0;

	while (off < len) {
		const uint8_t *lf = memchr(d + off, '\n', len - off);
		uint32_t end = lf != NULL ? (uint32_t)(lf - d) + 1 : len, n = end - off;

		if (h->cur == 0)
			h->cur_first = d[off];
		h->cur = n > UINT32_MAX - h->cur ? UINT32_MAX : h->cur + n;
		head_keep(s, dir, d + off, n);
		off = end;
		if (lf == NULL)
			break;
		bool empty = h->cur == 1 || (h->cur == 2 && h->cur_first == '\r');

		h->cur = 0;
		if (line_done(s, dir, empty, e))
			break;
	}
	return off;
}

/* A chunk-size line that does not parse. */
static void
chunk_invalid(struct hstate *s, unsigned dir, const struct al_emit *e)
{
	struct hdir *h = &s->d[dir];
	struct htx *tx = h->tx;

	if (dir == REQ) {
		/* libhtp stops parsing the request stream here */
		anom(s, tx, AL_HTTP_INVALID_REQUEST_CHUNK_LEN);
		req_done(s, e);
		h->st = DS_IGNORE;
		return;
	}
	/* a response goes on as a body until the connection closes, this line included */
	anom(s, tx, AL_HTTP_INVALID_RESPONSE_CHUNK_LEN);
	h->st = DS_BODY_CLOSE;
	body_data(s, tx, RESP, h->line_buf.p, h->line_buf.len, e);
	h->line_buf.len = 0;
}

/* The chunk-size line: hex digits (whitespace before, anything after); ';' marks extensions. */
static uint32_t
chunk_len_feed(struct hstate *s, unsigned dir, const uint8_t *d, uint32_t len,
		const struct al_emit *e)
{
	struct hdir *h = &s->d[dir];
	struct htx *tx = h->tx;
	const uint8_t *lf = memchr(d, '\n', len);
	uint32_t end = lf != NULL ? (uint32_t)(lf - d) + 1 : len;
	uint64_t v = 0;
	uint32_t i = 0, digits = 0;

	if (rbuf_add(s->c, &h->line_buf, d, end, CHUNK_LINE_MAX) < end) {
		chunk_invalid(s, dir, e);
		return end;
	}
	if (lf == NULL)
		return end;
	const uint8_t *p = h->line_buf.p;
	uint32_t n = h->line_buf.len;

	while (i < n && is_space(p[i]))
		i++;
	if (i == n) {
		h->line_buf.len = 0; /* an empty line where a size was expected: skipped */
		return end;
	}
	for (; i < n && hexval(p[i]) >= 0; i++, digits++) {
		v = v << 4 | (uint64_t)hexval(p[i]);
		if (v > INT32_MAX)
			break;
	}
	if (digits == 0 || v > INT32_MAX) {
		chunk_invalid(s, dir, e);
		return end;
	}
	if (memchr(p + i, ';', n - i) != NULL)
		anom_once(s, tx,
				dir == REQ ? AL_HTTP_REQUEST_CHUNK_EXTENSION
					   : AL_HTTP_RESPONSE_CHUNK_EXTENSION);
	h->line_buf.len = 0;
	if (v == 0) {
		h->st = DS_TRAILER;
		h->cur = 0;
		h->nlines = 0;
	} else {
		h->st = DS_CHUNK_DATA;
		h->left = v;
	}
	return end;
}

/* A gap left the direction where it cannot resynchronise: finish what it had, stop. */
static void
lost(struct hstate *s, unsigned dir, const struct al_emit *e)
{
	struct hdir *h = &s->d[dir];

	/* the line the gap cut is left out, as a line past the header limit is */
	if (h->line && h->tx != NULL)
		h->tx->s[dir].f |= SF_TRUNC;
	finish_dir(s, dir, false, e);
	h->st = DS_IGNORE;
}

static uint32_t
feed_dir(struct hstate *s, unsigned dir, const uint8_t *d, uint32_t len, const struct al_emit *e)
{
	struct hdir *h = &s->d[dir];
	uint32_t used = 0;

	while (!s->tunnel) {
		uint32_t n = 0;

		/* ends a gap reached without bytes to emit them with */
		if (h->st == DS_BODY_CL && h->left == 0) {
			dir_done(s, dir, e);
			continue;
		}
		if (h->st == DS_CHUNK_DATA && h->left == 0) {
			h->st = DS_CHUNK_END;
			continue;
		}
		if (h->st == DS_LOST || h->lost) {
			h->lost = false;
			lost(s, dir, e);
			continue;
		}
		if (used == len)
			break;
		switch (h->st) {
		case DS_HEAD:
		case DS_TRAILER:
			n = head_feed(s, dir, d, len - used, e);
			break;
		case DS_BODY_CL:
		case DS_CHUNK_DATA:
			n = len - used < h->left ? len - used : (uint32_t)h->left;
			body_data(s, h->tx, dir, d, n, e);
			h->left -= n;
			break;
		case DS_CHUNK_LEN:
			n = chunk_len_feed(s, dir, d, len - used, e);
			break;
		case DS_CHUNK_END: {
			const uint8_t *lf = memchr(d, '\n', len - used);

			n = lf != NULL ? (uint32_t)(lf - d) + 1 : len - used;
			if (lf != NULL)
				h->st = DS_CHUNK_LEN;
			break;
		}
		case DS_BODY_CLOSE:
			n = len - used;
			body_data(s, h->tx, dir, d, n, e);
			break;
		case DS_HOLD:
			n = len - used;
			hold_feed(s, dir, d, n, e);
			break;
		case DS_IGNORE:
		default:
			n = len - used;
			break;
		}
		d += n;
		used += n;
	}
	return used;
}

/*
 * The direction ended (or the parser stops): what it was parsing is final now. A head cut short
 * gives the buffers of what arrived; a body cut short is complete as it is.
 */
static void
finish_dir(struct hstate *s, unsigned dir, bool closing, const struct al_emit *e)
{
	struct hdir *h = &s->d[dir];

	if (dir == REQ)
		prev_close(s, e);
	for (unsigned guard = 0; guard < 8 && h->st != DS_IGNORE; guard++) {
		switch (h->st) {
		case DS_HEAD:
			if (!h->line) {
				bool ws = true;

				for (uint32_t i = 0; i < h->pre.len && ws; i++)
					ws = is_space(h->pre.p[i]);
				if (ws || !closing) {
					rbuf_free(s->c, &h->pre);
					h->st = DS_IGNORE;
					break;
				}
				h->cur = 0;
				start_line_done(s, dir, e);
				break;
			}
			if (dir == REQ && (h->tx->f & TF_09) && h->cur == 0)
				req_09_done(s, e);
			else
				head_done(s, dir, closing, e);
			break;
		case DS_HOLD:
			if (h->hold == HOLD_PROBE && dir == REQ && closing) {
				probe_decide(s, true, e);
				if (h->st != DS_HOLD)
					break;
			}
			rbuf_free(s->c, &h->pre);
			h->st = DS_IGNORE;
			break;
		default:
			/* a body (or trailer) cut short is complete as it is */
			if (h->tx != NULL)
				dir_done(s, dir, e);
			h->st = DS_IGNORE;
			break;
		}
	}
	rbuf_free(s->c, &h->line_buf);
	h->st = DS_IGNORE;
}

/* ---- the parser's entry points ---- */

static void *
http_state_new(struct al_ctx *c, bool tcp)
{
	struct hstate *s;

	(void)tcp;
	s = al_alloc(c, sizeof(*s));
	if (s == NULL)
		return NULL;
	memset(s, 0, sizeof(*s));
	s->c = c;
	return s;
}

static void
http_state_free(struct al_ctx *c, void *state)
{
	struct hstate *s = state;

	if (s == NULL)
		return;
	while (s->first != NULL)
		tx_unlink_free(s, s->first);
	for (unsigned d = 0; d < 2; d++) {
		rbuf_free(c, &s->d[d].pre);
		rbuf_free(c, &s->d[d].line_buf);
	}
	al_free(c, s);
}

static int
http_feed(struct al_ctx *c, void *state, unsigned dir, const uint8_t *d, uint32_t len,
		const struct al_emit *e)
{
	struct hstate *s = state;

	(void)c;
	if (s->tunnel)
		return -1;
	if (dir == RESP && len > 0)
		resp_arrives(s, e);
	feed_dir(s, dir, d, len, e);
	return s->tunnel ? -1 : 0;
}

/*
 * len bytes are missing. Inside a body of known length they are skipped (the body is not kept
 * past the hole); a body read until close goes on; anywhere else the direction stops.
 */
static void
http_gap(struct al_ctx *c, void *state, unsigned dir, uint32_t len)
{
	struct hstate *s = state;
	struct hdir *h = &s->d[dir];

	(void)c;
	if (s->tunnel || h->st == DS_IGNORE)
		return;
	if ((h->st == DS_BODY_CL || h->st == DS_CHUNK_DATA) && len <= h->left) {
		h->left -= len;
		h->tx->s[dir].wire += len;
		h->tx->s[dir].f |= SF_GAP;
		return;
	}
	if (h->st == DS_BODY_CLOSE) {
		h->tx->s[dir].wire += len;
		h->tx->s[dir].f |= SF_GAP;
		return;
	}
	anom(s, h->tx, AL_HTTP_STREAM_GAP);
	if (h->st == DS_HEAD || h->st == DS_TRAILER)
		h->lost = true;
	else
		h->st = DS_LOST;
}

static void
http_close(struct al_ctx *c, void *state, unsigned dir, const struct al_emit *e)
{
	struct hstate *s = state;

	(void)c;
	if (s->tunnel)
		return;
	if (dir == RESP)
		resp_arrives(s, e);
	finish_dir(s, dir, true, e);
}

/* ---- buffers and numbers ---- */

static const struct {
	uint8_t ok, side, slot;
} bmap[AL_BUF__COUNT] = {
	[AL_BUF_HTTP_METHOD] = { 1, REQ, SL_METHOD },
	[AL_BUF_HTTP_URI] = { 1, REQ, SL_URI },
	[AL_BUF_HTTP_URI_RAW] = { 1, REQ, SL_URI_RAW },
	[AL_BUF_HTTP_PROTOCOL_REQ] = { 1, REQ, SL_PROTO },
	[AL_BUF_HTTP_REQUEST_LINE] = { 1, REQ, SL_LINE },
	[AL_BUF_HTTP_HOST] = { 1, REQ, SL_HOST },
	[AL_BUF_HTTP_HOST_RAW] = { 1, REQ, SL_HOST_RAW },
	[AL_BUF_HTTP_USER_AGENT] = { 1, REQ, SL_UA },
	[AL_BUF_HTTP_REFERER] = { 1, REQ, SL_REFERER },
	[AL_BUF_HTTP_ACCEPT] = { 1, REQ, SL_ACCEPT },
	[AL_BUF_HTTP_ACCEPT_ENC] = { 1, REQ, SL_ACCEPT_ENC },
	[AL_BUF_HTTP_ACCEPT_LANG] = { 1, REQ, SL_ACCEPT_LANG },
	[AL_BUF_HTTP_CONNECTION] = { 1, REQ, SL_CONNECTION },
	[AL_BUF_HTTP_COOKIE_REQ] = { 1, REQ, SL_COOKIE },
	[AL_BUF_HTTP_CONTENT_TYPE_REQ] = { 1, REQ, SL_CTYPE },
	[AL_BUF_HTTP_CONTENT_LEN_REQ] = { 1, REQ, SL_CLEN },
	[AL_BUF_HTTP_HEADER_REQ] = { 1, REQ, SL_HEADER },
	[AL_BUF_HTTP_HEADER_RAW_REQ] = { 1, REQ, SL_HEADER_RAW },
	[AL_BUF_HTTP_HEADER_NAMES_REQ] = { 1, REQ, SL_NAMES },
	[AL_BUF_HTTP_START_REQ] = { 1, REQ, SL_START },
	[AL_BUF_HTTP_REQUEST_BODY] = { 1, REQ, SL_BODY },
	[AL_BUF_HTTP_STAT_CODE] = { 1, RESP, SL_CODE },
	[AL_BUF_HTTP_STAT_MSG] = { 1, RESP, SL_MSG },
	[AL_BUF_HTTP_PROTOCOL_RESP] = { 1, RESP, SL_PROTO },
	[AL_BUF_HTTP_RESPONSE_LINE] = { 1, RESP, SL_LINE },
	[AL_BUF_HTTP_LOCATION] = { 1, RESP, SL_LOCATION },
	[AL_BUF_HTTP_SERVER] = { 1, RESP, SL_SERVER },
	[AL_BUF_HTTP_COOKIE_RESP] = { 1, RESP, SL_COOKIE },
	[AL_BUF_HTTP_CONTENT_TYPE_RESP] = { 1, RESP, SL_CTYPE },
	[AL_BUF_HTTP_CONTENT_LEN_RESP] = { 1, RESP, SL_CLEN },
	[AL_BUF_HTTP_HEADER_RESP] = { 1, RESP, SL_HEADER },
	[AL_BUF_HTTP_HEADER_RAW_RESP] = { 1, RESP, SL_HEADER_RAW },
	[AL_BUF_HTTP_HEADER_NAMES_RESP] = { 1, RESP, SL_NAMES },
	[AL_BUF_HTTP_START_RESP] = { 1, RESP, SL_START },
	[AL_BUF_HTTP_RESPONSE_BODY] = { 1, RESP, SL_BODY },
};

static bool
http_tx_buf(const struct al_tx *t, enum al_buf b, unsigned idx, const uint8_t **p, uint32_t *len)
{
	const struct htx *tx = (const struct htx *)t;
	const struct hside *sd;
	const struct slot *sl;

	if (idx != 0 || (unsigned)b >= AL_BUF__COUNT || !bmap[b].ok)
		return false;
	sd = &tx->s[bmap[b].side];
	if (bmap[b].slot == SL_BODY) {
		/* an empty body is no body (http.request_body; absent) */
		if (sd->body.len == 0)
			return false;
		*p = sd->body.p;
		*len = sd->body.len;
		return true;
	}
	sl = &sd->sl[bmap[b].slot];
	if (sl->in == IN_NONE || (sl->in == IN_DER && sd->der == NULL) ||
			(sl->in == IN_RAW && sd->raw.p == NULL))
		return false;
	*p = (sl->in == IN_RAW ? sd->raw.p : sd->der) + sl->off;
	*len = sl->len;
	return true;
}

static bool
http_tx_num(const struct al_tx *t, enum al_num n, unsigned idx, uint64_t *v)
{
	const struct htx *tx = (const struct htx *)t;

	if (idx != 0)
		return false;
	switch (n) {
	case AL_NUM_HTTP_STATUS:
		if (tx->status == 0)
			return false;
		*v = tx->status;
		return true;
	case AL_NUM_HTTP_REQ_BODY_LEN:
		*v = tx->s[REQ].seen;
		return true;
	case AL_NUM_HTTP_RESP_BODY_LEN:
		*v = tx->s[RESP].seen;
		return true;
	case AL_NUM_HTTP_URI_LEN:
		if (tx->s[REQ].sl[SL_URI].in == IN_NONE)
			return false;
		*v = tx->s[REQ].sl[SL_URI].len;
		return true;
	case AL_NUM_HTTP_URI_RAW_LEN:
		if (tx->s[REQ].sl[SL_URI_RAW].in == IN_NONE)
			return false;
		*v = tx->s[REQ].sl[SL_URI_RAW].len;
		return true;
	default:
		return false;
	}
}

const struct al_parser al_http_parser = {
	.proto = AL_PROTO_HTTP,
	.anomaly_names = anomaly_names,
	.n_anomalies = AL_HTTP__COUNT,
	.state_new = http_state_new,
	.state_free = http_state_free,
	.feed = http_feed,
	.gap = http_gap,
	.close = http_close,
	.tx_buf = http_tx_buf,
	.tx_num = http_tx_num,
};
