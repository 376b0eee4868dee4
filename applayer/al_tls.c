/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TLS: records across segments, handshake messages across records, and the buffers of
 * tls.sni, ja3.*, ja3s.*, tls.cert_*, tls.certs, tls.alpn, tls.random.
 *
 * Only the three messages the buffers need are kept (the client's ClientHello, the server's
 * ServerHello and Certificate); a message that arrives whole in one piece is parsed where it
 * lies, a split one is assembled up to tls_max_record bytes. Each side's first hello wins,
 * as in Suricata. Once a side's encrypted part starts (ChangeCipherSpec, application data,
 * or a ServerHello that chose TLS 1.3) its records are only framed by their length.
 *
 * Fingerprints follow Suricata: JA3 is "version,ciphers,extensions,groups,point formats" of
 * decimal values joined with '-', GREASE values left out, and its MD5; JA3S is "version,
 * cipher,extensions". Of the first certificate only the fields the buffers need are decoded
 * (names and times with OpenSSL), and its names rendered as Suricata's x509-parser renders
 * them ("C=US, O=Google Inc, CN=*.google.com").
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "al_impl.h"
#include "al_tls.h"

#define TLS_RECORD_MAX	 ((1u << 14) + 1024) /* RFC 5246 6.2.3, as Suricata checks it */
#define TLS_RANDOM_LEN	 32
#define TLS_STAGES	 (AL_ST_TLS_CLIENT_HELLO | AL_ST_TLS_SERVER_HELLO | AL_ST_TLS_SERVER_CERT)
#define TLS_FP_LEN	 59				   /* SHA-1 as 20 hex pairs with ':' */
#define TLS_NAME_INVALID "<X509Error: Invalid X.509 name>" /* x509-parser's rendering */

enum {
	CT_CHANGE_CIPHER_SPEC = 20,
	CT_ALERT = 21,
	CT_HANDSHAKE = 22,
	CT_APPLICATION_DATA = 23,
	CT_HEARTBEAT = 24,
};

enum {
	HS_CLIENT_HELLO = 1,
	HS_SERVER_HELLO = 2,
	HS_CERTIFICATE = 11,
};

enum {
	SSL2_ERROR = 0,
	SSL2_CLIENT_HELLO = 1,
	SSL2_SERVER_HELLO = 4,
};

enum {
	EXT_SERVER_NAME = 0,
	EXT_SUPPORTED_GROUPS = 10,
	EXT_EC_POINT_FORMATS = 11,
	EXT_SIGNATURE_ALGORITHMS = 13,
	EXT_ALPN = 16,
	EXT_SUPPORTED_VERSIONS = 43,
};

static const char *const tls_anomaly_names[AL_TLS__COUNT] = {
	[AL_TLS_INVALID_SSLV2_HEADER] = "invalid_sslv2_header",
	[AL_TLS_INVALID_TLS_HEADER] = "invalid_tls_header",
	[AL_TLS_INVALID_RECORD_VERSION] = "invalid_record_version",
	[AL_TLS_INVALID_RECORD_TYPE] = "invalid_record_type",
	[AL_TLS_INVALID_RECORD_LENGTH] = "invalid_record_length",
	[AL_TLS_INVALID_HANDSHAKE_MESSAGE] = "invalid_handshake_message",
	[AL_TLS_HEARTBEAT_MESSAGE] = "heartbeat_message",
	[AL_TLS_INVALID_HEARTBEAT_MESSAGE] = "invalid_heartbeat_message",
	[AL_TLS_OVERFLOW_HEARTBEAT_MESSAGE] = "overflow_heartbeat_message",
	[AL_TLS_DATALEAK_HEARTBEAT_MISMATCH] = "dataleak_heartbeat_mismatch",
	[AL_TLS_HANDSHAKE_INVALID_LENGTH] = "handshake_invalid_length",
	[AL_TLS_MULTIPLE_SNI_EXTENSIONS] = "multiple_sni_extensions",
	[AL_TLS_INVALID_SNI_TYPE] = "invalid_sni_type",
	[AL_TLS_INVALID_SNI_LENGTH] = "invalid_sni_length",
	[AL_TLS_TOO_MANY_RECORDS_IN_PACKET] = "too_many_records_in_packet",
	[AL_TLS_INVALID_ALERT_MESSAGE] = "invalid_alert_message",
	[AL_TLS_INVALID_CERTIFICATE] = "invalid_certificate",
	[AL_TLS_CERTIFICATE_INVALID_LENGTH] = "certificate_invalid_length",
	[AL_TLS_CERTIFICATE_INVALID_VERSION] = "certificate_invalid_version",
	[AL_TLS_CERTIFICATE_INVALID_SERIAL] = "certificate_invalid_serial",
	[AL_TLS_CERTIFICATE_INVALID_ALGORITHMIDENTIFIER] =
			"certificate_invalid_algorithmidentifier",
	[AL_TLS_CERTIFICATE_INVALID_X509NAME] = "certificate_invalid_x509name",
	[AL_TLS_CERTIFICATE_INVALID_DATE] = "certificate_invalid_date",
	[AL_TLS_CERTIFICATE_INVALID_EXTENSIONS] = "certificate_invalid_extensions",
	[AL_TLS_CERTIFICATE_INVALID_DER] = "certificate_invalid_der",
	[AL_TLS_CERTIFICATE_INVALID_SUBJECT] = "certificate_invalid_subject",
	[AL_TLS_CERTIFICATE_INVALID_ISSUER] = "certificate_invalid_issuer",
	[AL_TLS_CERTIFICATE_INVALID_VALIDITY] = "certificate_invalid_validity",
	[AL_TLS_ERROR_MESSAGE_ENCOUNTERED] = "error_message_encountered",
	[AL_TLS_INVALID_SSL_RECORD] = "invalid_ssl_record",
	[AL_TLS_RECORD_OVERFLOW] = "record_overflow",
};

/* A slice of a kept allocation. */
struct tls_span {
	uint32_t off, len;
};

/* The ClientHello's buffers: one allocation, the ALPN spans then the bytes. */
struct tls_client {
	bool has_ja3, has_sni;
	uint16_t n_alpn;
	struct tls_span ja3, sni;
	char ja3_hash[32];
	struct tls_span alpn[];
};

/* The ServerHello's JA3S. */
struct tls_server {
	bool has_ja3s;
	uint32_t ja3s_len;
	char ja3s_hash[32];
	char ja3s[];
};

/* The server's chain, and what the first certificate yields. */
struct tls_cert {
	uint8_t *list;	 /* the certificates' bytes (owned) */
	uint8_t *fields; /* subject, issuer, serial, fingerprint (owned) */
	bool has_fields;
	int64_t not_before, not_after;
	struct tls_span subject, issuer, serial, fp;
	uint32_t n;
	struct tls_span certs[];
};

struct tls_tx {
	struct al_tx head; /* first: the application layer hands &head around */
	bool has_client_version, has_version, has_crandom, has_srandom;
	uint16_t client_version, version;
	uint8_t crandom[TLS_RANDOM_LEN], srandom[TLS_RANDOM_LEN];
	struct tls_client *client;
	struct tls_server *server;
	struct tls_cert *cert;
};

/* One direction: its record framing and its handshake message stream. */
struct tls_dir {
	/* record layer */
	uint8_t hdr[5];
	uint8_t hdr_have, hdr_need;
	bool in_body;
	bool v2;	  /* the record is SSLv2-framed */
	uint8_t type;	  /* content type, or the SSLv2 message type */
	uint16_t version; /* of the records, until the hello's */
	uint32_t left;	  /* body bytes of the record still to come */
	uint32_t rec_len;
	uint8_t head[3]; /* a record's first body bytes (alert, heartbeat, SSLv2 hello) */
	uint8_t head_have;
	bool head_lost; /* a gap took some of the record: its checks are skipped */
	bool enc;	/* this side's encrypted part started: records are skipped */
	bool hello;	/* its hello parsed: record versions no longer checked, as Suricata */
	bool lost;	/* a gap broke the framing: look for a record start */
	/* handshake layer, across the handshake records */
	bool hs_dead; /* a gap cut the message stream */
	bool hs_in;   /* inside a message body */
	bool hs_want; /* the message is parsed */
	uint8_t hs_hdr[4];
	uint8_t hs_hdr_have;
	uint8_t hs_type;
	uint32_t hs_len, hs_have, hs_keep;
	uint8_t *hs_buf;
};

struct tls_state {
	struct tls_dir d[2];
	struct tls_tx *tx;
	bool done; /* the handshake's transaction completed: no other one */
	bool hb_inflight;
	uint8_t hb_dir;
	uint32_t hb_len; /* encrypted heartbeat request's record length */
};

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
rd24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static inline uint32_t
min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* GREASE values (RFC 8701): 0x?a?a with both bytes equal. */
static inline bool
tls_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* The versions Suricata accepts: SSL 3.0 .. TLS 1.3 and the TLS 1.3 drafts. */
static bool
tls_version_valid(uint16_t v)
{
	if (v >= 0x0300 && v <= 0x0304)
		return true;
	if (v == 0x7f01 || (v >= 0x7f10 && v <= 0x7f1c))
		return true;
	return (v >= 0xfb14 && v <= 0xfb17) || v == 0xfb1a;
}

/* ---- digests ---- */

static pthread_once_t tls_md_once = PTHREAD_ONCE_INIT;
static EVP_MD *tls_md5, *tls_sha1;
/* One context per thread, reused: no digest context is built per handshake. */
static __thread EVP_MD_CTX *tls_mdctx;

static void
tls_md_init(void)
{
	tls_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
	tls_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
}

static bool
tls_digest(bool sha1, const void *d, size_t n, uint8_t *out)
{
	unsigned int olen;

	pthread_once(&tls_md_once, tls_md_init);
	const EVP_MD *md = sha1 ? tls_sha1 : tls_md5;

	if (md == NULL)
		return false;
	if (tls_mdctx == NULL && (tls_mdctx = EVP_MD_CTX_new()) == NULL)
		return false;
	return EVP_DigestInit_ex2(tls_mdctx, md, NULL) == 1 &&
	       EVP_DigestUpdate(tls_mdctx, d, n) == 1 &&
	       EVP_DigestFinal_ex(tls_mdctx, out, &olen) == 1;
}

static const char hex_lc[] = "0123456789abcdef";
static const char hex_uc[] = "0123456789ABCDEF";

/* n bytes as hex pairs, joined with sep when sep is not 0. Returns the length written. */
static uint32_t
tls_hex(char *out, const uint8_t *d, uint32_t n, const char *digits, char sep)
{
	char *o = out;

	for (uint32_t i = 0; i < n; i++) {
		if (sep != 0 && i > 0)
			*o++ = sep;
		*o++ = digits[d[i] >> 4];
		*o++ = digits[d[i] & 0xf];
	}
	return (uint32_t)(o - out);
}

/* The MD5 of s as 32 lower-case hex digits. */
static bool
tls_md5_hex(const char *s, uint32_t n, char out[32])
{
	uint8_t md[16];

	if (!tls_digest(false, s, n, md))
		return false;
	tls_hex(out, md, 16, hex_lc, 0);
	return true;
}

/* ---- transaction ---- */

static void
tls_tx_free(struct al_ctx *c, struct tls_tx *tx)
{
	if (tx == NULL)
		return;
	al_free(c, tx->client);
	al_free(c, tx->server);
	if (tx->cert != NULL) {
		al_free(c, tx->cert->list);
		al_free(c, tx->cert->fields);
		al_free(c, tx->cert);
	}
	al_free(c, tx);
}

/* The handshake's transaction, made at its first message (none after it completed). */
static struct tls_tx *
tls_tx(struct al_ctx *c, struct tls_state *st)
{
	if (st->tx == NULL && !st->done) {
		st->tx = al_alloc(c, sizeof(*st->tx));
		if (st->tx != NULL) {
			memset(st->tx, 0, sizeof(*st->tx));
			st->tx->head.proto = AL_PROTO_TLS;
		}
	}
	return st->tx;
}

static void
tls_anom(struct al_ctx *c, struct tls_state *st, unsigned id)
{
	al_anomaly(c, AL_PROTO_TLS, st->tx != NULL ? &st->tx->head : NULL, id);
}

/* Set a stage; a transaction whose three stages are reported is done and freed. */
static void
tls_emit(struct al_ctx *c, struct tls_state *st, unsigned stage, unsigned dir,
		const struct al_emit *e)
{
	struct tls_tx *tx = st->tx;

	if (tx == NULL)
		return;
	al_emit(e, &tx->head, stage, dir);
	if ((tx->head.ready & TLS_STAGES) == TLS_STAGES) {
		tls_tx_free(c, tx);
		st->tx = NULL;
		st->done = true;
	}
}

/* Direction dir's clear part is over: its stages not reached are final, absent. */
static void
tls_side_final(struct al_ctx *c, struct tls_state *st, unsigned dir, const struct al_emit *e)
{
	if (dir == AL_TO_SERVER) {
		tls_emit(c, st, AL_ST_TLS_CLIENT_HELLO, AL_TO_SERVER, e);
		return;
	}
	tls_emit(c, st, AL_ST_TLS_SERVER_HELLO, AL_TO_CLIENT, e);
	tls_emit(c, st, AL_ST_TLS_SERVER_CERT, AL_TO_CLIENT, e);
}

/* ---- hellos ---- */

/* What a hello holds for the buffers: pointers into the message. */
struct tls_hello {
	uint16_t version;
	const uint8_t *random;
	const uint8_t *ciphers; /* the client's list, or the server's choice */
	uint32_t ciphers_len;
	const uint8_t *exts; /* the extensions before any that failed (JA3 takes these) */
	uint32_t exts_len;
	uint32_t n_values; /* extension types, groups and point formats: JA3's size */
	const uint8_t *sni;
	uint32_t sni_len;
	const uint8_t *alpn; /* the client's protocol list */
	uint32_t alpn_len;
	uint32_t n_alpn, alpn_bytes;
	uint16_t selected; /* the server's supported_versions */
	bool has_random, has_sni, has_alpn, has_selected;
	bool fingerprint; /* the hello parsed far enough for JA3 / JA3S, as Suricata */
};

/* Extension results: parsed, stop here (what came before counts), or the hello is broken. */
enum { EXT_OK = 0, EXT_STOP = 1, EXT_FAIL = -1 };

static int
tls_ext_sni(struct al_ctx *c, struct tls_state *st, const uint8_t *b, uint32_t n,
		struct tls_hello *h)
{
	if (n == 0)
		return EXT_OK;
	if (n < 3) {
		tls_anom(c, st, AL_TLS_HANDSHAKE_INVALID_LENGTH);
		return EXT_STOP;
	}
	/* Only the first name is read (RFC 6066: one per type, host_name the only type). */
	if (b[2] != 0) {
		tls_anom(c, st, AL_TLS_INVALID_SNI_TYPE);
		return EXT_STOP;
	}
	if (n < 5) {
		tls_anom(c, st, AL_TLS_HANDSHAKE_INVALID_LENGTH);
		return EXT_STOP;
	}
	uint32_t len = rd16(b + 3);

	if (n - 5 < len || len > 255 || len == 0) {
		tls_anom(c, st, AL_TLS_INVALID_SNI_LENGTH);
		return EXT_STOP;
	}
	if (h->has_sni) {
		tls_anom(c, st, AL_TLS_MULTIPLE_SNI_EXTENSIONS);
		return EXT_OK;
	}
	h->sni = b + 5;
	h->sni_len = len;
	h->has_sni = true;
	return EXT_OK;
}

/* supported_groups: a two-byte list length, then two-byte values, read as Suricata does. */
static int
tls_ext_groups(const uint8_t *b, uint32_t n, uint32_t *values)
{
	if (n == 0)
		return EXT_OK;
	if (n < 2)
		return EXT_FAIL;
	uint32_t len = rd16(b);

	if (n - 2 < len)
		return EXT_FAIL;
	for (uint32_t i = 0; i < len; i += 2) {
		if (n - 2 - i < 2)
			return EXT_FAIL;
		(*values)++;
	}
	return EXT_OK;
}

static int
tls_ext_alpn(struct al_ctx *c, struct tls_state *st, const uint8_t *b, uint32_t n,
		struct tls_hello *h, bool keep)
{
	uint32_t count = 0, bytes = 0;

	if (n == 0)
		return EXT_OK;
	if (n < 2 || n - 2 < rd16(b)) {
		tls_anom(c, st, AL_TLS_HANDSHAKE_INVALID_LENGTH);
		return EXT_STOP;
	}
	uint32_t len = rd16(b);

	for (uint32_t i = 0; i < len;) {
		uint32_t pl = b[2 + i];

		i++;
		if (n - 2 - i < pl) {
			tls_anom(c, st, AL_TLS_HANDSHAKE_INVALID_LENGTH);
			return EXT_STOP;
		}
		if (i + pl > len)
			break; /* a name past the list's end: the rest is skipped, as Suricata */
		count++;
		bytes += pl;
		i += pl;
	}
	if (keep && !h->has_alpn) {
		h->alpn = b + 2;
		h->alpn_len = len;
		h->n_alpn = count;
		h->alpn_bytes = bytes;
		h->has_alpn = true;
	}
	return EXT_OK;
}

/* The extensions of a hello: bounds checked, what the buffers need noted. */
static bool
tls_extensions(struct al_ctx *c, struct tls_state *st, const uint8_t *x, uint32_t len, bool server,
		struct tls_hello *h)
{
	h->exts = x;
	if (len < 2)
		return true; /* optional (RFC 5246 7.4.1.2) */
	uint32_t total = rd16(x);

	if (len - 2 < total)
		goto bad_length;
	const uint8_t *p = x + 2, *end = p + total;

	h->exts = p;
	while (p < end) {
		if (end - p < 4)
			goto bad_length;
		uint16_t type = rd16(p);
		uint32_t n = rd16(p + 2);
		const uint8_t *b = p + 4;
		int r = EXT_OK;

		if ((uint32_t)(end - b) < n)
			goto bad_length;
		switch (type) {
		case EXT_SERVER_NAME:
			if (!server)
				r = tls_ext_sni(c, st, b, n, h);
			break;
		case EXT_SUPPORTED_GROUPS:
			r = tls_ext_groups(b, n, server ? &(uint32_t){ 0 } : &h->n_values);
			if (r != EXT_OK)
				goto bad_length;
			break;
		case EXT_EC_POINT_FORMATS:
			if (n > 0 && n - 1 < b[0])
				goto bad_length;
			if (n > 0 && !server)
				h->n_values += b[0];
			break;
		case EXT_SIGNATURE_ALGORITHMS:
			if (n > 0 && (n < 2 || rd16(b) % 2 != 0 || n - 2 < rd16(b))) {
				tls_anom(c, st, AL_TLS_HANDSHAKE_INVALID_LENGTH);
				r = EXT_STOP;
			}
			break;
		case EXT_ALPN:
			r = tls_ext_alpn(c, st, b, n, h, !server);
			break;
		case EXT_SUPPORTED_VERSIONS:
			if (n == 0)
				break;
			if (server) {
				if (n < 2) {
					tls_anom(c, st, AL_TLS_HANDSHAKE_INVALID_LENGTH);
					r = EXT_STOP;
				} else {
					h->selected = rd16(b);
					h->has_selected = true;
				}
			} else if (b[0] < 2 || n - 1 < b[0]) {
				tls_anom(c, st, AL_TLS_HANDSHAKE_INVALID_LENGTH);
				r = EXT_STOP;
			}
			break;
		default:
			break;
		}
		if (r == EXT_STOP)
			return true;
		if (!tls_grease(type))
			h->n_values++;
		p = b + n;
		h->exts_len = (uint32_t)(p - h->exts);
	}
	return true;

bad_length:
	tls_anom(c, st, AL_TLS_HANDSHAKE_INVALID_LENGTH);
	return false;
}

/* A hello's fields, as Suricata walks them. */
static void
tls_hello_parse(struct al_ctx *c, struct tls_state *st, const uint8_t *m, uint32_t len, bool server,
		struct tls_hello *h)
{
	uint32_t p = 2;

	memset(h, 0, sizeof(*h));
	if (len < 2)
		goto bad_length;
	h->version = rd16(m);
	if (len - p < TLS_RANDOM_LEN)
		goto bad_length;
	h->random = m + p;
	h->has_random = true;
	p += TLS_RANDOM_LEN;
	/* TLS 1.3 drafts dropped session id and compression from the ServerHello. */
	bool draft = server && (h->version == 0x0304 || (h->version >> 8) == 0x7f);

	if (!draft) {
		if (len - p < 1 || len - p - 1 < m[p])
			goto bad_length;
		p += 1u + m[p];
	}
	if (len - p < 2)
		goto bad_length;
	if (server) {
		h->ciphers = m + p;
		h->ciphers_len = 2;
		p += 2;
	} else {
		uint32_t n = rd16(m + p);

		p += 2;
		if (len - p < n || n % 2 != 0)
			goto bad_length;
		h->ciphers = m + p;
		h->ciphers_len = n;
		p += n;
	}
	if (!draft) {
		if (len - p < 1)
			goto bad_length;
		if (server)
			p += 1;
		else if (len - p - 1 < m[p])
			goto bad_length;
		else
			p += 1u + m[p];
	}
	h->fingerprint = tls_extensions(c, st, m + p, len - p, server, h);
	return;

bad_length:
	tls_anom(c, st, AL_TLS_HANDSHAKE_INVALID_LENGTH);
}

static char *
tls_put_u16(char *o, uint16_t v)
{
	char tmp[5];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		*o++ = tmp[--n];
	return o;
}

/* Values of a two-byte list that are not GREASE, '-' joined. */
static char *
tls_put_list16(char *o, const uint8_t *p, uint32_t len)
{
	bool first = true;

	for (uint32_t i = 0; i + 1 < len; i += 2) {
		uint16_t v = rd16(p + i);

		if (tls_grease(v))
			continue;
		if (!first)
			*o++ = '-';
		o = tls_put_u16(o, v);
		first = false;
	}
	return o;
}

/*
 * JA3 ("version,ciphers,extensions,groups,point formats") or JA3S ("version,cipher,
 * extensions") of a parsed hello into o, which holds tls_ja3_size() bytes. Returns its length.
 */
static uint32_t
tls_ja3_write(char *o, const struct tls_hello *h, bool server)
{
	char *s = o;
	const uint8_t *p, *end = h->exts + h->exts_len;
	bool first = true;

	s = tls_put_u16(s, h->version);
	*s++ = ',';
	s = tls_put_list16(s, h->ciphers, h->ciphers_len);
	*s++ = ',';
	for (p = h->exts; p < end; p += 4 + rd16(p + 2)) {
		if (tls_grease(rd16(p)))
			continue;
		if (!first)
			*s++ = '-';
		s = tls_put_u16(s, rd16(p));
		first = false;
	}
	if (server)
		return (uint32_t)(s - o);
	/* Every supported_groups extension adds its values, as Suricata appends them. */
	*s++ = ',';
	first = true;
	for (p = h->exts; p < end; p += 4 + rd16(p + 2)) {
		uint32_t n = rd16(p + 2);

		if (rd16(p) != EXT_SUPPORTED_GROUPS || n < 2)
			continue;
		for (uint32_t i = 0; i < rd16(p + 4); i += 2) {
			uint16_t v = rd16(p + 6 + i);

			if (tls_grease(v))
				continue;
			if (!first)
				*s++ = '-';
			s = tls_put_u16(s, v);
			first = false;
		}
	}
	*s++ = ',';
	first = true;
	for (p = h->exts; p < end; p += 4 + rd16(p + 2)) {
		if (rd16(p) != EXT_EC_POINT_FORMATS || rd16(p + 2) == 0)
			continue;
		for (uint32_t i = 0; i < p[4]; i++) {
			if (!first)
				*s++ = '-';
			s = tls_put_u16(s, p[5 + i]);
			first = false;
		}
	}
	return (uint32_t)(s - o);
}

/* Room JA3 may take: each value at most 5 digits and a separator, 4 commas. */
static uint32_t
tls_ja3_size(const struct tls_hello *h)
{
	return 6 * (1 + h->ciphers_len / 2 + h->n_values) + 4;
}

static void
tls_client_hello(struct al_ctx *c, struct tls_state *st, const uint8_t *m, uint32_t len,
		const struct al_emit *e)
{
	struct tls_tx *tx = tls_tx(c, st);
	struct tls_hello h;

	if (tx == NULL)
		return;
	tls_hello_parse(c, st, m, len, false, &h);
	st->d[AL_TO_SERVER].hello = true;
	if (len >= 2) {
		tx->client_version = h.version;
		tx->has_client_version = true;
	}
	if (h.has_random) {
		memcpy(tx->crandom, h.random, TLS_RANDOM_LEN);
		tx->has_crandom = true;
	}
	uint32_t ja3_room = h.fingerprint ? tls_ja3_size(&h) : 0;
	size_t bytes = ja3_room + (h.has_sni ? h.sni_len : 0) + h.alpn_bytes;
	struct tls_client *cl =
			al_alloc(c, sizeof(*cl) + h.n_alpn * sizeof(struct tls_span) + bytes);

	if (cl != NULL) {
		memset(cl, 0, sizeof(*cl));
		cl->n_alpn = (uint16_t)h.n_alpn;
		uint8_t *b = (uint8_t *)&cl->alpn[cl->n_alpn];
		uint32_t used = 0;

		if (h.fingerprint) {
			cl->ja3 = (struct tls_span){ 0, tls_ja3_write((char *)b, &h, false) };
			cl->has_ja3 = tls_md5_hex((const char *)b, cl->ja3.len, cl->ja3_hash);
			used = cl->ja3.len;
		}
		if (h.has_sni) {
			memcpy(b + used, h.sni, h.sni_len);
			cl->sni = (struct tls_span){ used, h.sni_len };
			cl->has_sni = true;
			used += h.sni_len;
		}
		for (uint32_t i = 0, k = 0; k < h.n_alpn; k++) {
			uint32_t pl = h.alpn[i];

			memcpy(b + used, h.alpn + i + 1, pl);
			cl->alpn[k] = (struct tls_span){ used, pl };
			used += pl;
			i += 1 + pl;
		}
		tx->client = cl;
	}
	tls_emit(c, st, AL_ST_TLS_CLIENT_HELLO, AL_TO_SERVER, e);
}

static void
tls_server_hello(struct al_ctx *c, struct tls_state *st, const uint8_t *m, uint32_t len,
		const struct al_emit *e)
{
	struct tls_tx *tx = tls_tx(c, st);
	struct tls_hello h;

	if (tx == NULL)
		return;
	tls_hello_parse(c, st, m, len, true, &h);
	st->d[AL_TO_CLIENT].hello = true;
	if (len >= 2) {
		tx->version = h.has_selected ? h.selected : h.version;
		tx->has_version = true;
	}
	if (h.has_random) {
		memcpy(tx->srandom, h.random, TLS_RANDOM_LEN);
		tx->has_srandom = true;
	}
	if (h.fingerprint) {
		uint32_t room = tls_ja3_size(&h);
		struct tls_server *sv = al_alloc(c, sizeof(*sv) + room);

		if (sv != NULL) {
			sv->ja3s_len = tls_ja3_write(sv->ja3s, &h, true);
			sv->has_ja3s = tls_md5_hex(sv->ja3s, sv->ja3s_len, sv->ja3s_hash);
			tx->server = sv;
		}
	}
	/* TLS 1.3 (or a draft): everything after the ServerHello is encrypted. */
	bool tls13 = (h.has_selected && h.selected > 0x0303) || h.version == 0x0304 ||
		     (h.version >> 8) == 0x7f;

	tls_emit(c, st, AL_ST_TLS_SERVER_HELLO, AL_TO_CLIENT, e);
	if (tls13) {
		st->d[AL_TO_CLIENT].enc = true;
		tls_side_final(c, st, AL_TO_CLIENT, e);
	}
}

/* ---- certificates ---- */

/* A DER header at p (before end): its tag, header and content lengths. */
static bool
der_hdr(const uint8_t *p, const uint8_t *end, uint8_t *tag, uint32_t *hlen, uint32_t *clen)
{
	if (end - p < 2)
		return false;
	*tag = p[0];
	if (p[1] < 0x80) {
		*hlen = 2;
		*clen = p[1];
	} else {
		uint32_t n = p[1] & 0x7f;

		if (n == 0 || n > 4 || (uint32_t)(end - p - 2) < n)
			return false;
		*clen = 0;
		for (uint32_t i = 0; i < n; i++)
			*clen = *clen << 8 | p[2 + i];
		*hlen = 2 + n;
	}
	return *clen <= (uint32_t)(end - p) - *hlen;
}

/* A DER element: where it starts, its whole length, its content. */
struct der_elem {
	const uint8_t *p;
	uint32_t len;
	const uint8_t *c;
	uint32_t clen;
	uint8_t tag;
};

/* The element at *p (before end), of tag want (0: any); *p moves past it. */
static bool
der_next(const uint8_t **p, const uint8_t *end, uint8_t want, struct der_elem *el)
{
	uint32_t hl;

	if (*p >= end || !der_hdr(*p, end, &el->tag, &hl, &el->clen))
		return false;
	if (want != 0 && el->tag != want)
		return false;
	el->p = *p;
	el->c = *p + hl;
	el->len = hl + el->clen;
	*p += el->len;
	return true;
}

/* The parts of a certificate the buffers need, where they sit in its DER. */
struct der_cert {
	struct der_elem serial, issuer, not_before, not_after, subject;
};

static bool
der_time(const uint8_t **p, const uint8_t *end, struct der_elem *el)
{
	return der_next(p, end, 0, el) && (el->tag == 0x17 || el->tag == 0x18);
}

/*
 * The certificate's outline (RFC 5280 4.1): each field of the TBSCertificate has its tag and
 * fits, up to the signature. Returns 0, or the anomaly x509-parser's error would give.
 */
static int
der_cert_walk(const uint8_t *der, uint32_t len, struct der_cert *dc)
{
	const uint8_t *p = der, *end = der + len, *q, *tend;
	struct der_elem cert, tbs, el, validity;
	uint8_t tag;
	uint32_t hl, cl;

	if (!der_next(&p, end, 0x30, &cert))
		return der_hdr(der, end, &tag, &hl, &cl) || len < 2
				       ? AL_TLS_CERTIFICATE_INVALID_DER
				       : AL_TLS_CERTIFICATE_INVALID_LENGTH;
	q = cert.c;
	end = cert.c + cert.clen;
	if (!der_next(&q, end, 0x30, &tbs))
		return AL_TLS_CERTIFICATE_INVALID_DER;
	p = tbs.c;
	tend = tbs.c + tbs.clen;
	if (p < tend && *p == 0xa0) { /* [0] EXPLICIT version: v1 .. v3 */
		struct der_elem v, n;
		const uint8_t *vp;

		if (!der_next(&p, tend, 0xa0, &v))
			return AL_TLS_CERTIFICATE_INVALID_VERSION;
		vp = v.c;
		if (!der_next(&vp, v.c + v.clen, 0x02, &n) || n.clen != 1 || n.c[0] > 2)
			return AL_TLS_CERTIFICATE_INVALID_VERSION;
	}
	if (!der_next(&p, tend, 0x02, &dc->serial))
		return AL_TLS_CERTIFICATE_INVALID_SERIAL;
	if (!der_next(&p, tend, 0x30, &el))
		return AL_TLS_CERTIFICATE_INVALID_ALGORITHMIDENTIFIER;
	if (!der_next(&p, tend, 0x30, &dc->issuer))
		return AL_TLS_CERTIFICATE_INVALID_X509NAME;
	if (!der_next(&p, tend, 0x30, &validity))
		return AL_TLS_CERTIFICATE_INVALID_DATE;
	const uint8_t *vp = validity.c;

	if (!der_time(&vp, validity.c + validity.clen, &dc->not_before) ||
			!der_time(&vp, validity.c + validity.clen, &dc->not_after))
		return AL_TLS_CERTIFICATE_INVALID_DATE;
	if (!der_next(&p, tend, 0x30, &dc->subject))
		return AL_TLS_CERTIFICATE_INVALID_X509NAME;
	if (!der_next(&p, tend, 0x30, &el)) /* subjectPublicKeyInfo */
		return AL_TLS_CERTIFICATE_INVALID_DER;
	while (p < tend) /* unique ids [1] [2], extensions [3] */
		if (!der_next(&p, tend, 0, &el) ||
				(el.tag != 0x81 && el.tag != 0x82 &&
						(el.tag < 0xa1 || el.tag > 0xa3)))
			return AL_TLS_CERTIFICATE_INVALID_EXTENSIONS;
	if (!der_next(&q, end, 0x30, &el) || !der_next(&q, end, 0x03, &el)) /* signature */
		return AL_TLS_CERTIFICATE_INVALID_DER;
	return 0;
}

/* Attribute names as x509-parser prints them: its abbreviations, else the registry's. */
static const struct {
	const char *oid;
	const char *name;
} tls_attr_names[] = {
	{ "2.5.4.3", "CN" },
	{ "2.5.4.6", "C" },
	{ "2.5.4.7", "L" },
	{ "2.5.4.8", "ST" },
	{ "2.5.4.10", "O" },
	{ "2.5.4.11", "OU" },
	{ "0.9.2342.19200300.100.1.25", "DC" },
	{ "1.2.840.113549.1.9.1", "Email" },
	{ "2.5.4.0", "objectClass" },
	{ "2.5.4.1", "aliasedEntryName" },
	{ "2.5.4.2", "knowledgeInformation" },
	{ "2.5.4.4", "surname" },
	{ "2.5.4.5", "serialNumber" },
	{ "2.5.4.9", "streetAddress" },
	{ "2.5.4.12", "title" },
	{ "2.5.4.13", "description" },
	{ "2.5.4.14", "searchGuide" },
	{ "2.5.4.15", "businessCategory" },
	{ "2.5.4.16", "postalAddress" },
	{ "2.5.4.17", "postalCode" },
	{ "2.5.4.41", "name" },
	{ "2.5.4.42", "givenName" },
	{ "2.5.4.43", "initials" },
	{ "2.5.4.44", "generationQualifier" },
	{ "2.5.4.45", "uniqueIdentifier" },
	{ "2.5.4.46", "dnQualifier" },
	{ "1.2.840.113549.1.9.2", "unstructuredName" },
	{ "1.3.6.1.4.1.311.60.2.1.1", "msJurisdictionLocality" },
	{ "1.3.6.1.4.1.311.60.2.1.2", "msJurisdictionStateOrProvince" },
	{ "1.3.6.1.4.1.311.60.2.1.3", "msJurisdictionCountry" },
};

/* The ASN.1 string types x509-parser prints as text (others as upper-case hex). */
static bool
tls_text_type(int type)
{
	switch (type) {
	case V_ASN1_NUMERICSTRING:
	case V_ASN1_BMPSTRING:
	case V_ASN1_VISIBLESTRING:
	case V_ASN1_PRINTABLESTRING:
	case V_ASN1_GENERALSTRING:
	case V_ASN1_OBJECT_DESCRIPTOR:
	case V_ASN1_GRAPHICSTRING:
	case V_ASN1_T61STRING:
	case V_ASN1_VIDEOTEXSTRING:
	case V_ASN1_UTF8STRING:
	case V_ASN1_IA5STRING:
		return true;
	default:
		return false;
	}
}

static bool
tls_utf8_valid(const uint8_t *s, uint32_t n)
{
	for (uint32_t i = 0; i < n;) {
		uint8_t b = s[i];
		uint32_t k;
		uint32_t cp;

		if (b < 0x80) {
			i++;
			continue;
		}
		if ((b & 0xe0) == 0xc0) {
			k = 1;
			cp = b & 0x1f;
		} else if ((b & 0xf0) == 0xe0) {
			k = 2;
			cp = b & 0x0f;
		} else if ((b & 0xf8) == 0xf0) {
			k = 3;
			cp = b & 0x07;
		} else {
			return false;
		}
		if (n - i - 1 < k)
			return false;
		for (uint32_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		/* overlong forms, surrogates and values past U+10FFFF are not UTF-8 */
		if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
				(cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		i += 1 + k;
	}
	return true;
}

/* out: n bytes of s; NULL: measure only. */
static uint32_t
tls_put(uint8_t *out, uint32_t at, const void *s, uint32_t n)
{
	if (out != NULL)
		memcpy(out + at, s, n);
	return at + n;
}

/*
 * A name as Suricata's tls.cert_subject shows it (x509-parser's Display): "type=value" per
 * attribute, ", " between RDNs and " + " inside one, text types as their bytes (a NUL stays
 * a NUL) and other types as upper-case hex. Into out, or measured when out is NULL.
 */
static uint32_t
tls_name(const X509_NAME *nm, uint8_t *out)
{
	int n = X509_NAME_entry_count(nm);
	uint32_t len = 0;
	int prev_set = -1;

	/* One value x509-parser cannot print makes the whole name its error text. */
	for (int i = 0; i < n; i++) {
		const ASN1_STRING *v = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, i));

		if (v == NULL || (tls_text_type(ASN1_STRING_type(v)) &&
						 !tls_utf8_valid(ASN1_STRING_get0_data(v),
								 (uint32_t)ASN1_STRING_length(v))))
			return tls_put(out, 0, TLS_NAME_INVALID, sizeof(TLS_NAME_INVALID) - 1);
	}
	for (int i = 0; i < n; i++) {
		const X509_NAME_ENTRY *ent = X509_NAME_get_entry(nm, i);
		const ASN1_STRING *v = X509_NAME_ENTRY_get_data(ent);
		int set = X509_NAME_ENTRY_set(ent);
		char oid[96];
		const char *name = NULL;

		if (OBJ_obj2txt(oid, sizeof(oid), X509_NAME_ENTRY_get_object(ent), 1) <= 0)
			oid[0] = '\0';
		const uint8_t *vd = ASN1_STRING_get0_data(v);
		uint32_t vl = (uint32_t)ASN1_STRING_length(v);
		bool text = tls_text_type(ASN1_STRING_type(v));

		if (i > 0)
			len = tls_put(out, len, set == prev_set ? " + " : ", ",
					set == prev_set ? 3 : 2);
		prev_set = set;
		for (size_t k = 0; k < sizeof(tls_attr_names) / sizeof(tls_attr_names[0]); k++) {
			if (strcmp(oid, tls_attr_names[k].oid) == 0) {
				name = tls_attr_names[k].name;
				break;
			}
		}
		if (name != NULL) {
			len = tls_put(out, len, name, (uint32_t)strlen(name));
		} else {
			len = tls_put(out, len, "OID(", 4);
			len = tls_put(out, len, oid, (uint32_t)strlen(oid));
			len = tls_put(out, len, ")", 1);
		}
		len = tls_put(out, len, "=", 1);
		if (text)
			len = tls_put(out, len, vd, vl);
		else if (out != NULL)
			len += tls_hex((char *)out + len, vd, vl, hex_uc, 0);
		else
			len += 2 * vl;
	}
	return len;
}

/* A UTCTime or GeneralizedTime element as Unix seconds, decoded by OpenSSL. */
static bool
tls_time(const struct der_elem *el, int64_t *v)
{
	const unsigned char *p = el->p;
	ASN1_TIME *t = d2i_ASN1_TIME(NULL, &p, el->len);
	struct tm tm;
	bool ok = t != NULL && ASN1_TIME_to_tm(t, &tm) == 1;

	if (ok)
		*v = (int64_t)timegm(&tm);
	ASN1_TIME_free(t);
	return ok;
}

static X509_NAME *
tls_x509_name(const struct der_elem *el)
{
	const unsigned char *p = el->p;

	return d2i_X509_NAME(NULL, &p, el->len);
}

/*
 * The first certificate: subject, issuer, serial, validity and fingerprint, all or none (as
 * Suricata publishes them). The certificate's outline is checked field by field and only
 * what the buffers need is decoded with OpenSSL (the names, the times): a whole d2i_X509
 * also decodes the public key through OpenSSL 3's providers, about ten times the cost.
 */
static bool
tls_first_cert(struct al_ctx *c, struct tls_state *st, struct tls_cert *cert, const uint8_t *der,
		uint32_t len)
{
	struct der_cert dc;
	X509_NAME *sub = NULL, *iss = NULL;
	uint8_t sha1[20];
	bool ok = false;
	int bad = der_cert_walk(der, len, &dc);

	if (bad != 0) {
		tls_anom(c, st, (unsigned)bad);
		return false;
	}
	if (!tls_time(&dc.not_before, &cert->not_before) ||
			!tls_time(&dc.not_after, &cert->not_after)) {
		tls_anom(c, st, AL_TLS_CERTIFICATE_INVALID_DATE);
		return false;
	}
	sub = tls_x509_name(&dc.subject);
	iss = tls_x509_name(&dc.issuer);
	if (sub == NULL || iss == NULL) {
		tls_anom(c, st, AL_TLS_CERTIFICATE_INVALID_X509NAME);
		goto out;
	}
	if (!tls_digest(true, der, len, sha1))
		goto out;
	uint32_t sl = tls_name(sub, NULL), il = tls_name(iss, NULL);
	uint32_t snl = dc.serial.clen > 0 ? 3 * dc.serial.clen - 1 : 0;
	uint8_t *f = al_alloc(c, (size_t)sl + il + snl + TLS_FP_LEN);

	if (f == NULL)
		goto out;
	cert->subject = (struct tls_span){ 0, tls_name(sub, f) };
	cert->issuer = (struct tls_span){ sl, tls_name(iss, f + sl) };
	cert->serial = (struct tls_span){ sl + il,
		tls_hex((char *)f + sl + il, dc.serial.c, dc.serial.clen, hex_uc, ':') };
	cert->fp = (struct tls_span){ sl + il + snl,
		tls_hex((char *)f + sl + il + snl, sha1, 20, hex_lc, ':') };
	cert->fields = f;
	cert->has_fields = true;
	ok = true;
out:
	X509_NAME_free(sub);
	X509_NAME_free(iss);
	return ok;
}

/*
 * The server's Certificate message (TLS 1.2 and before): each certificate of the chain is
 * kept; the first is decoded. m lies in owned (taken) or in the stream (copied). cut: the
 * message was longer than tls_max_record, so its end is missing and not an error.
 */
static void
tls_certificate(struct al_ctx *c, struct tls_state *st, const uint8_t *m, uint32_t len,
		uint8_t *owned, bool cut, const struct al_emit *e)
{
	struct tls_tx *tx = tls_tx(c, st);
	uint32_t total = 0, n = 0, q = 0;
	const uint8_t *list = m + 3;

	if (tx == NULL)
		goto done;
	if (len >= 3) {
		total = rd24(m);
		if (total > len - 3) {
			if (!cut)
				tls_anom(c, st, AL_TLS_INVALID_CERTIFICATE);
			total = cut ? len - 3 : 0;
		}
	} else {
		tls_anom(c, st, AL_TLS_INVALID_CERTIFICATE);
	}
	/* The certificates whose lengths hold. */
	while (q < total) {
		if (total - q < 3 || total - q - 3 < rd24(list + q)) {
			if (!cut)
				tls_anom(c, st, AL_TLS_INVALID_CERTIFICATE);
			break;
		}
		q += 3 + rd24(list + q);
		n++;
	}
	struct tls_cert *cert = al_alloc(c, sizeof(*cert) + (size_t)n * sizeof(struct tls_span));

	if (cert == NULL)
		goto done;
	memset(cert, 0, sizeof(*cert));
	if (owned != NULL) {
		cert->list = owned;
		owned = NULL;
	} else if (q > 0) {
		cert->list = al_alloc(c, q + 3);
		if (cert->list == NULL) {
			al_free(c, cert);
			goto done;
		}
		memcpy(cert->list, m, q + 3);
	}
	for (uint32_t i = 0, off = 3; i < n; i++) {
		uint32_t cl = rd24(cert->list + off);

		/* As Suricata, a first certificate that does not decode is not in the chain. */
		if (i > 0 || tls_first_cert(c, st, cert, cert->list + off + 3, cl))
			cert->certs[cert->n++] = (struct tls_span){ off + 3, cl };
		off += 3 + cl;
	}
	tx->cert = cert;
done:
	al_free(c, owned);
	tls_emit(c, st, AL_ST_TLS_SERVER_CERT, AL_TO_CLIENT, e);
}

/* ---- handshake stream ---- */

/* The handshake types TLS sends in clear (Suricata's list); others are an anomaly. */
static bool
tls_hs_known(uint8_t t)
{
	switch (t) {
	case 0:	 /* hello_request */
	case 1:	 /* client_hello */
	case 2:	 /* server_hello */
	case 4:	 /* new_session_ticket */
	case 11: /* certificate */
	case 12: /* server_key_exchange */
	case 13: /* certificate_request */
	case 14: /* server_hello_done */
	case 15: /* certificate_verify */
	case 16: /* client_key_exchange */
	case 20: /* finished */
	case 21: /* certificate_url */
	case 22: /* certificate_status */
		return true;
	default:
		return false;
	}
}

/* Whether a message of this type and direction is parsed: the first of each that counts. */
static bool
tls_hs_wanted(const struct tls_state *st, unsigned dir, uint8_t type)
{
	unsigned stage;

	if (st->done)
		return false;
	if (type == HS_CLIENT_HELLO && dir == AL_TO_SERVER)
		stage = AL_ST_TLS_CLIENT_HELLO;
	else if (type == HS_SERVER_HELLO && dir == AL_TO_CLIENT)
		stage = AL_ST_TLS_SERVER_HELLO;
	else if (type == HS_CERTIFICATE && dir == AL_TO_CLIENT)
		stage = AL_ST_TLS_SERVER_CERT;
	else
		return false;
	return st->tx == NULL || !(st->tx->head.ready & stage);
}

/* A whole message (or its first tls_max_record bytes when cut). owned: m's buffer, taken. */
static void
tls_hs_message(struct al_ctx *c, struct tls_state *st, uint8_t type, const uint8_t *m, uint32_t len,
		uint8_t *owned, bool cut, const struct al_emit *e)
{
	switch (type) {
	case HS_CLIENT_HELLO:
		tls_client_hello(c, st, m, len, e);
		break;
	case HS_SERVER_HELLO:
		tls_server_hello(c, st, m, len, e);
		break;
	case HS_CERTIFICATE:
		tls_certificate(c, st, m, len, owned, cut, e);
		return;
	default:
		break;
	}
	al_free(c, owned);
}

/* n bytes of the handshake records of direction dir. */
static void
tls_hs_stream(struct al_ctx *c, struct tls_state *st, unsigned dir, const uint8_t *d, uint32_t n,
		const struct al_emit *e)
{
	struct tls_dir *D = &st->d[dir];
	const uint32_t max = al_ctx_limits(c)->tls_max_record;

	while (n > 0 && !D->enc) {
		if (!D->hs_in) {
			uint32_t k = min_u32(4u - D->hs_hdr_have, n);

			memcpy(D->hs_hdr + D->hs_hdr_have, d, k);
			D->hs_hdr_have = (uint8_t)(D->hs_hdr_have + k);
			d += k;
			n -= k;
			if (D->hs_hdr_have < 4)
				return;
			D->hs_hdr_have = 0;
			D->hs_type = D->hs_hdr[0];
			D->hs_len = rd24(D->hs_hdr + 1);
			D->hs_have = 0;
			D->hs_in = true;
			if (!tls_hs_known(D->hs_type)) {
				tls_anom(c, st, AL_TLS_INVALID_HANDSHAKE_MESSAGE);
				D->hs_want = false;
			} else {
				D->hs_want = tls_hs_wanted(st, dir, D->hs_type);
			}
			D->hs_keep = D->hs_want ? min_u32(D->hs_len, max) : 0;
			if (D->hs_want && D->hs_len > max)
				tls_anom(c, st, AL_TLS_RECORD_OVERFLOW);
			if (D->hs_len == 0) {
				D->hs_in = false;
				if (D->hs_want)
					tls_hs_message(c, st, D->hs_type, d, 0, NULL, false, e);
			}
			continue;
		}
		uint32_t k = min_u32(n, D->hs_len - D->hs_have);

		if (D->hs_want && D->hs_buf == NULL && D->hs_have == 0 && k == D->hs_len &&
				D->hs_keep == D->hs_len) {
			/* The whole message is in this piece: parse it where it lies. */
			D->hs_in = false;
			tls_hs_message(c, st, D->hs_type, d, k, NULL, false, e);
			d += k;
			n -= k;
			continue;
		}
		if (D->hs_want && D->hs_have < D->hs_keep) {
			if (D->hs_buf == NULL) {
				D->hs_buf = al_alloc(c, D->hs_keep);
				if (D->hs_buf == NULL)
					D->hs_want = false; /* no memory (counted): skip it */
			}
			if (D->hs_buf != NULL)
				memcpy(D->hs_buf + D->hs_have, d,
						min_u32(k, D->hs_keep - D->hs_have));
		}
		D->hs_have += k;
		d += k;
		n -= k;
		if (D->hs_have == D->hs_len) {
			uint8_t *buf = D->hs_buf;

			D->hs_buf = NULL;
			D->hs_in = false;
			if (D->hs_want)
				tls_hs_message(c, st, D->hs_type, buf, D->hs_keep, buf,
						D->hs_keep < D->hs_len, e);
		}
	}
}

static void
tls_hs_drop(struct al_ctx *c, struct tls_dir *D)
{
	al_free(c, D->hs_buf);
	D->hs_buf = NULL;
	D->hs_in = false;
	D->hs_hdr_have = 0;
}

/* ---- records ---- */

/* A heartbeat record ended: RFC 6520's rules and the heartbleed patterns Suricata flags. */
static void
tls_heartbeat(struct al_ctx *c, struct tls_state *st, unsigned dir)
{
	struct tls_dir *D = &st->d[dir];

	if (!st->hb_inflight) {
		if (!D->enc) {
			if (D->head_have < 3)
				return;
			uint32_t payload = rd16(D->head + 1);

			if (D->head[0] != 1 && D->head[0] != 2) {
				tls_anom(c, st, AL_TLS_INVALID_HEARTBEAT_MESSAGE);
				return;
			}
			if (payload + 3 > D->rec_len) {
				tls_anom(c, st, AL_TLS_OVERFLOW_HEARTBEAT_MESSAGE);
				return;
			}
			if (D->rec_len - payload - 3 < 16) {
				tls_anom(c, st, AL_TLS_INVALID_HEARTBEAT_MESSAGE);
				return;
			}
		}
		st->hb_inflight = true;
		st->hb_dir = (uint8_t)dir;
		st->hb_len = D->enc ? D->rec_len : 0;
		return;
	}
	if (st->hb_dir == dir) {
		tls_anom(c, st, AL_TLS_INVALID_HEARTBEAT_MESSAGE); /* two in flight */
		return;
	}
	if (D->enc && st->hb_len > 0 && st->hb_len < D->rec_len)
		tls_anom(c, st, AL_TLS_DATALEAK_HEARTBEAT_MISMATCH);
	st->hb_inflight = false;
	st->hb_len = 0;
}

/* A record's header is complete. Returns -1 when the stream cannot be TLS any more. */
static int
tls_record_start(struct al_ctx *c, struct tls_state *st, unsigned dir, const struct al_emit *e)
{
	struct tls_dir *D = &st->d[dir];
	uint32_t len;

	D->head_have = 0;
	D->head_lost = false;
	if (D->v2) {
		bool two = D->hdr[0] & 0x80;

		len = (uint32_t)(D->hdr[0] & (two ? 0x7f : 0x3f)) << 8 | D->hdr[1];
		D->type = D->hdr[two ? 2 : 3];
		if (len == 0) {
			tls_anom(c, st, AL_TLS_INVALID_SSLV2_HEADER);
			return -1;
		}
		D->left = len - 1; /* the type byte was its first */
		D->rec_len = len;
		if (D->type == SSL2_ERROR) {
			tls_anom(c, st, AL_TLS_ERROR_MESSAGE_ENCOUNTERED);
		} else if (D->type == SSL2_SERVER_HELLO && dir == AL_TO_CLIENT &&
				tls_hs_wanted(st, dir, HS_SERVER_HELLO)) {
			/* An SSLv2 server: its certificate is not decoded (as Suricata), and
			 * everything after is encrypted. */
			struct tls_tx *tx = tls_tx(c, st);

			if (tx != NULL) {
				tx->version = 0x0200;
				tx->has_version = true;
			}
			D->enc = true;
			tls_side_final(c, st, AL_TO_CLIENT, e);
		}
		return 0;
	}
	D->type = D->hdr[0];
	len = rd16(D->hdr + 3);
	D->rec_len = len;
	D->left = len;
	if (D->type < CT_CHANGE_CIPHER_SPEC || D->type > CT_HEARTBEAT) {
		tls_anom(c, st, AL_TLS_INVALID_RECORD_TYPE);
		/* Suricata lets TLS 1.0 and 1.1 streams skip records it does not know */
		if (D->version != 0x0301 && D->version != 0x0302)
			return -1;
		D->type = 0;
		return 0;
	}
	if (len == 0 || len > TLS_RECORD_MAX) {
		tls_anom(c, st, AL_TLS_INVALID_RECORD_LENGTH);
		return -1;
	}
	if (!D->hello) {
		uint16_t v = rd16(D->hdr + 1);

		if (!tls_version_valid(v)) {
			tls_anom(c, st, AL_TLS_INVALID_RECORD_VERSION);
			return -1;
		}
		D->version = v;
	}
	switch (D->type) {
	case CT_CHANGE_CIPHER_SPEC:
	case CT_APPLICATION_DATA:
		if (!D->enc) {
			D->enc = true;
			tls_hs_drop(c, D);
			tls_side_final(c, st, dir, e);
		}
		break;
	case CT_HEARTBEAT:
		tls_anom(c, st, AL_TLS_HEARTBEAT_MESSAGE);
		break;
	default:
		break;
	}
	return 0;
}

/* n body bytes of the current record. */
static void
tls_record_body(struct al_ctx *c, struct tls_state *st, unsigned dir, const uint8_t *d, uint32_t n,
		const struct al_emit *e)
{
	struct tls_dir *D = &st->d[dir];

	if (!D->v2 && D->type == CT_HANDSHAKE) {
		if (!D->enc && !D->hs_dead)
			tls_hs_stream(c, st, dir, d, n, e);
		return;
	}
	if (D->head_have < sizeof(D->head)) {
		uint32_t k = min_u32((uint32_t)sizeof(D->head) - D->head_have, n);

		memcpy(D->head + D->head_have, d, k);
		D->head_have = (uint8_t)(D->head_have + k);
	}
}

/* The current record ended. */
static void
tls_record_end(struct al_ctx *c, struct tls_state *st, unsigned dir, const struct al_emit *e)
{
	struct tls_dir *D = &st->d[dir];

	if (D->head_lost)
		return;
	if (D->v2) {
		if (D->type != SSL2_CLIENT_HELLO || dir != AL_TO_SERVER ||
				!tls_hs_wanted(st, dir, HS_CLIENT_HELLO))
			return;
		struct tls_tx *tx = tls_tx(c, st);

		if (tx != NULL && D->head_have >= 2) {
			tx->client_version = rd16(D->head);
			tx->has_client_version = true;
		}
		tls_emit(c, st, AL_ST_TLS_CLIENT_HELLO, AL_TO_SERVER, e);
		return;
	}
	if (D->type == CT_ALERT && !D->enc &&
			(D->rec_len != 2 || (D->head[0] != 1 && D->head[0] != 2)))
		tls_anom(c, st, AL_TLS_INVALID_ALERT_MESSAGE);
	else if (D->type == CT_HEARTBEAT)
		tls_heartbeat(c, st, dir);
}

/* After a gap: does d start a record (known type, SSL 3 or TLS version, sane length)? */
static bool
tls_resync(const uint8_t *d, uint32_t len)
{
	if (len < 5)
		return false;
	uint32_t rlen = rd16(d + 3);

	return d[0] >= CT_CHANGE_CIPHER_SPEC && d[0] <= CT_HEARTBEAT && d[1] == 3 && d[2] <= 4 &&
	       rlen > 0 && rlen <= TLS_RECORD_MAX;
}

/* The stream is no TLS any more: what the transaction lacks is final, then give up. */
static int
tls_fail(struct al_ctx *c, struct tls_state *st, const struct al_emit *e)
{
	tls_side_final(c, st, AL_TO_SERVER, e);
	tls_side_final(c, st, AL_TO_CLIENT, e);
	return -1;
}

static int
tls_feed(struct al_ctx *c, void *state, unsigned dir, const uint8_t *d, uint32_t len,
		const struct al_emit *e)
{
	struct tls_state *st = state;
	struct tls_dir *D = &st->d[dir];
	/* A record takes at least 6 bytes: more starting in one piece is a flood of empty or
	 * tiny records (Suricata's too_many_records_in_packet). */
	const uint32_t max_records = len / 6 + 1;
	uint32_t records = 0;

	while (len > 0) {
		if (D->lost) {
			if (!tls_resync(d, len))
				return 0; /* the middle of a record: wait for one to start */
			D->lost = false;
		}
		if (!D->in_body) {
			if (D->hdr_have == 0) {
				/* SSLv2 framing has a top bit set; record types 20 .. 24 do not */
				D->v2 = (d[0] & 0xc0) != 0;
				D->hdr_need = D->v2 ? ((d[0] & 0x80) ? 3 : 4) : 5;
			}
			uint32_t k = min_u32((uint32_t)D->hdr_need - D->hdr_have, len);

			memcpy(D->hdr + D->hdr_have, d, k);
			D->hdr_have = (uint8_t)(D->hdr_have + k);
			d += k;
			len -= k;
			if (D->hdr_have < D->hdr_need)
				return 0;
			D->hdr_have = 0;
			if (++records > max_records) {
				tls_anom(c, st, AL_TLS_TOO_MANY_RECORDS_IN_PACKET);
				return tls_fail(c, st, e);
			}
			if (tls_record_start(c, st, dir, e) != 0)
				return tls_fail(c, st, e);
			D->in_body = true;
			if (D->left == 0) {
				D->in_body = false;
				tls_record_end(c, st, dir, e);
			}
			continue;
		}
		uint32_t k = min_u32(D->left, len);

		tls_record_body(c, st, dir, d, k, e);
		D->left -= k;
		d += k;
		len -= k;
		if (D->left == 0) {
			D->in_body = false;
			tls_record_end(c, st, dir, e);
		}
	}
	return 0;
}

/*
 * len bytes lost: inside the current record the framing holds (an encrypted record loses
 * nothing the buffers need); otherwise look for the next record start. A hole in the
 * handshake stream ends its parsing for that side.
 */
static void
tls_gap(struct al_ctx *c, void *state, unsigned dir, uint32_t len)
{
	struct tls_state *st = state;
	struct tls_dir *D = &st->d[dir];

	if (!D->lost && D->in_body && len <= D->left) {
		D->left -= len;
		D->head_lost = true;
		if (!D->v2 && D->type == CT_HANDSHAKE && !D->enc) {
			tls_hs_drop(c, D);
			D->hs_dead = true;
		}
		if (D->left == 0)
			D->in_body = false;
		return;
	}
	D->lost = true;
	D->in_body = false;
	D->hdr_have = 0;
	tls_hs_drop(c, D);
	D->hs_dead = true;
}

static void
tls_close(struct al_ctx *c, void *state, unsigned dir, const struct al_emit *e)
{
	struct tls_state *st = state;

	tls_hs_drop(c, &st->d[dir]);
	tls_side_final(c, st, dir, e);
}

static void *
tls_state_new(struct al_ctx *c, bool tcp)
{
	struct tls_state *st = al_alloc(c, sizeof(*st));

	(void)tcp;
	if (st == NULL)
		return NULL;
	memset(st, 0, sizeof(*st));
	return st;
}

static void
tls_state_free(struct al_ctx *c, void *state)
{
	struct tls_state *st = state;

	for (unsigned d = 0; d < 2; d++)
		al_free(c, st->d[d].hs_buf);
	tls_tx_free(c, st->tx);
	al_free(c, st);
}

static bool
tls_span_out(const void *base, struct tls_span s, const uint8_t **p, uint32_t *len)
{
	*p = (const uint8_t *)base + s.off;
	*len = s.len;
	return true;
}

static bool
tls_tx_buf(const struct al_tx *t, enum al_buf b, unsigned idx, const uint8_t **p, uint32_t *len)
{
	const struct tls_tx *tx = (const struct tls_tx *)t;
	const struct tls_client *cl = tx->client;
	const struct tls_server *sv = tx->server;
	const struct tls_cert *cert = tx->cert;
	const uint8_t *cb = cl != NULL ? (const uint8_t *)&cl->alpn[cl->n_alpn] : NULL;

	if (idx > 0 && b != AL_BUF_TLS_CERTS && b != AL_BUF_TLS_ALPN_CLIENT)
		return false;
	switch (b) {
	case AL_BUF_TLS_SNI:
		return cl != NULL && cl->has_sni && tls_span_out(cb, cl->sni, p, len);
	case AL_BUF_TLS_JA3_STRING:
		return cl != NULL && cl->has_ja3 && tls_span_out(cb, cl->ja3, p, len);
	case AL_BUF_TLS_JA3_HASH:
		if (cl == NULL || !cl->has_ja3)
			return false;
		*p = (const uint8_t *)cl->ja3_hash;
		*len = 32;
		return true;
	case AL_BUF_TLS_JA3S_STRING:
		if (sv == NULL || !sv->has_ja3s)
			return false;
		*p = (const uint8_t *)sv->ja3s;
		*len = sv->ja3s_len;
		return true;
	case AL_BUF_TLS_JA3S_HASH:
		if (sv == NULL || !sv->has_ja3s)
			return false;
		*p = (const uint8_t *)sv->ja3s_hash;
		*len = 32;
		return true;
	case AL_BUF_TLS_ALPN_CLIENT:
		return cl != NULL && idx < cl->n_alpn && tls_span_out(cb, cl->alpn[idx], p, len);
	case AL_BUF_TLS_RANDOM_CLIENT:
		if (!tx->has_crandom)
			return false;
		*p = tx->crandom;
		*len = TLS_RANDOM_LEN;
		return true;
	case AL_BUF_TLS_RANDOM_SERVER:
		if (!tx->has_srandom)
			return false;
		*p = tx->srandom;
		*len = TLS_RANDOM_LEN;
		return true;
	case AL_BUF_TLS_CERTS:
		return cert != NULL && idx < cert->n &&
		       tls_span_out(cert->list, cert->certs[idx], p, len);
	case AL_BUF_TLS_CERT_SUBJECT:
		return cert != NULL && cert->has_fields &&
		       tls_span_out(cert->fields, cert->subject, p, len);
	case AL_BUF_TLS_CERT_ISSUER:
		return cert != NULL && cert->has_fields &&
		       tls_span_out(cert->fields, cert->issuer, p, len);
	case AL_BUF_TLS_CERT_SERIAL:
		return cert != NULL && cert->has_fields &&
		       tls_span_out(cert->fields, cert->serial, p, len);
	case AL_BUF_TLS_CERT_FINGERPRINT:
		return cert != NULL && cert->has_fields &&
		       tls_span_out(cert->fields, cert->fp, p, len);
	default:
		return false;
	}
}

static bool
tls_tx_num(const struct al_tx *t, enum al_num n, unsigned idx, uint64_t *v)
{
	const struct tls_tx *tx = (const struct tls_tx *)t;
	const struct tls_cert *cert = tx->cert;

	if (idx > 0)
		return false;
	switch (n) {
	case AL_NUM_TLS_VERSION:
		*v = tx->version;
		return tx->has_version;
	case AL_NUM_TLS_CLIENT_VERSION:
		*v = tx->client_version;
		return tx->has_client_version;
	case AL_NUM_TLS_CERT_NOTBEFORE:
		if (cert == NULL || !cert->has_fields)
			return false;
		*v = (uint64_t)cert->not_before;
		return true;
	case AL_NUM_TLS_CERT_NOTAFTER:
		if (cert == NULL || !cert->has_fields)
			return false;
		*v = (uint64_t)cert->not_after;
		return true;
	case AL_NUM_TLS_CERT_CHAIN_LEN:
		if (cert == NULL)
			return false;
		*v = cert->n;
		return true;
	default:
		return false;
	}
}

const struct al_parser al_tls_parser = {
	.proto = AL_PROTO_TLS,
	.anomaly_names = tls_anomaly_names,
	.n_anomalies = AL_TLS__COUNT,
	.state_new = tls_state_new,
	.state_free = tls_state_free,
	.feed = tls_feed,
	.gap = tls_gap,
	.close = tls_close,
	.tx_buf = tls_tx_buf,
	.tx_num = tls_tx_num,
};
