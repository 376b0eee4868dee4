/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TLS parser: hand-written handshakes (hellos with GREASE, a certificate made here with
 * OpenSSL, TLS 1.3, resumption, SSLv2 hellos, anomalies, limits, splits of segments and of
 * records, gaps, memory) and the suricata-verify TLS and JA3 cases, checked for the buffers
 * their test.rules need.
 */
#include "vg_test.h"

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "al.h"
#include "al_test_feed.h"
#include "al_tls.h"
#include "al_tx_dump.h"

/* ---- building messages ---- */

struct tb {
	uint8_t b[65536];
	uint32_t n;
};

static void
tb_bytes(struct tb *t, const void *p, size_t n)
{
	memcpy(t->b + t->n, p, n);
	t->n += (uint32_t)n;
}

static void
tb_u8(struct tb *t, unsigned v)
{
	t->b[t->n++] = (uint8_t)v;
}

static void
tb_u16(struct tb *t, unsigned v)
{
	tb_u8(t, v >> 8);
	tb_u8(t, v);
}

static void
tb_u24(struct tb *t, unsigned v)
{
	tb_u8(t, v >> 16);
	tb_u16(t, v & 0xffff);
}

/* A length of w bytes to fill in later: returns where it sits. */
static uint32_t
tb_open(struct tb *t, unsigned w)
{
	uint32_t at = t->n;

	t->n += w;
	return at;
}

static void
tb_close(struct tb *t, uint32_t at, unsigned w)
{
	uint32_t v = t->n - at - w;

	for (unsigned i = 0; i < w; i++)
		t->b[at + i] = (uint8_t)(v >> (8 * (w - 1 - i)));
}

/* An extension of type with body written by the caller between open and close. */
static uint32_t
tb_ext(struct tb *t, unsigned type)
{
	tb_u16(t, type);
	return tb_open(t, 2);
}

/* Handshake message type, body. */
static void
tb_hs(struct tb *t, unsigned type, const struct tb *body)
{
	tb_u8(t, type);
	tb_u24(t, body->n);
	tb_bytes(t, body->b, body->n);
}

/* Records of content type ct holding data, at most frag bytes each (0: one record). */
static void
tb_records(struct tb *t, unsigned ct, const uint8_t *d, uint32_t n, uint32_t frag)
{
	if (frag == 0)
		frag = n;
	for (uint32_t off = 0; off < n; off += frag) {
		uint32_t k = n - off < frag ? n - off : frag;

		tb_u8(t, ct);
		tb_u16(t, 0x0303);
		tb_u16(t, k);
		tb_bytes(t, d + off, k);
	}
}

struct ch_opts {
	unsigned sni_type;     /* 0, or another (invalid) type */
	unsigned sni_len_bias; /* added to the name's length field */
	bool cut_ciphers;      /* the cipher list runs past the message */
	bool tls13;	       /* supported_versions lists TLS 1.3 first */
};

/*
 * ClientHello: GREASE in ciphers, extensions, groups and versions; extensions supported_groups,
 * ec_point_formats, server_name, ALPN, supported_versions, signature_algorithms.
 */
static void
build_client_hello(struct tb *m, const struct ch_opts *o)
{
	struct tb body = { .n = 0 };
	uint32_t at, at2, at3;

	tb_u16(&body, 0x0303);
	for (int i = 0; i < 32; i++)
		tb_u8(&body, 0xc0 + i);
	tb_u8(&body, 32);
	for (int i = 0; i < 32; i++)
		tb_u8(&body, 0x55);
	tb_u16(&body, o->cut_ciphers ? 400 : 8);
	tb_u16(&body, 0x0a0a);
	tb_u16(&body, 0x1301);
	tb_u16(&body, 0x1302);
	tb_u16(&body, 0xc02f);
	if (!o->cut_ciphers) {
		tb_u8(&body, 1);
		tb_u8(&body, 0);
		at = tb_open(&body, 2);
		tb_close(&body, tb_ext(&body, 0x1a1a), 2);
		at2 = tb_ext(&body, 10);
		tb_u16(&body, 6);
		tb_u16(&body, 0x2a2a);
		tb_u16(&body, 29);
		tb_u16(&body, 23);
		tb_close(&body, at2, 2);
		at2 = tb_ext(&body, 11);
		tb_u8(&body, 1);
		tb_u8(&body, 0);
		tb_close(&body, at2, 2);
		at2 = tb_ext(&body, 0);
		at3 = tb_open(&body, 2);
		tb_u8(&body, o->sni_type);
		tb_u16(&body, 15 + o->sni_len_bias);
		tb_bytes(&body, "www.example.com", 15);
		tb_close(&body, at3, 2);
		tb_close(&body, at2, 2);
		at2 = tb_ext(&body, 16);
		at3 = tb_open(&body, 2);
		tb_u8(&body, 2);
		tb_bytes(&body, "h2", 2);
		tb_u8(&body, 8);
		tb_bytes(&body, "http/1.1", 8);
		tb_close(&body, at3, 2);
		tb_close(&body, at2, 2);
		at2 = tb_ext(&body, 43);
		tb_u8(&body, o->tls13 ? 6 : 2);
		if (o->tls13) {
			tb_u16(&body, 0x3a3a);
			tb_u16(&body, 0x0304);
		}
		tb_u16(&body, 0x0303);
		tb_close(&body, at2, 2);
		at2 = tb_ext(&body, 13);
		tb_u16(&body, 4);
		tb_u16(&body, 0x0403);
		tb_u16(&body, 0x0804);
		tb_close(&body, at2, 2);
		tb_close(&body, at, 2);
	}
	m->n = 0;
	tb_hs(m, 1, &body);
}

/* ServerHello: cipher 0xc02f, renegotiation_info, an empty server_name, ALPN h2. */
static void
build_server_hello(struct tb *m, bool tls13)
{
	struct tb body = { .n = 0 };
	uint32_t at, at2;

	tb_u16(&body, 0x0303);
	for (int i = 0; i < 32; i++)
		tb_u8(&body, 0xa0 + i);
	tb_u8(&body, 0);
	tb_u16(&body, tls13 ? 0x1301 : 0xc02f);
	tb_u8(&body, 0);
	at = tb_open(&body, 2);
	if (tls13) {
		at2 = tb_ext(&body, 43);
		tb_u16(&body, 0x0304);
		tb_close(&body, at2, 2);
	} else {
		at2 = tb_ext(&body, 0xff01);
		tb_u8(&body, 0);
		tb_close(&body, at2, 2);
		tb_close(&body, tb_ext(&body, 0), 2);
		at2 = tb_ext(&body, 16);
		tb_u16(&body, 3);
		tb_u8(&body, 2);
		tb_bytes(&body, "h2", 2);
		tb_close(&body, at2, 2);
	}
	tb_close(&body, at, 2);
	m->n = 0;
	tb_hs(m, 2, &body);
}

/* ---- a certificate made with OpenSSL ---- */

static uint8_t cert_der[4096];
static uint32_t cert_len;
static char cert_fp[60];

/*
 * A self-issued certificate: serial 0x8f01 (DER 00 8f 01), subject with a NUL inside a value,
 * a two-valued RDN, an attribute the registry does not name, and a UniversalString value;
 * validity 1700000000 .. 1800000000. Its SHA-1, as the test expects the fingerprint.
 */
static void
make_cert(void)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *sub = X509_NAME_new(), *iss = X509_NAME_new();
	ASN1_INTEGER *serial = ASN1_INTEGER_new();
	BIGNUM *bn = BN_new();
	uint8_t md[20];
	unsigned int mdlen;

	assert_non_null(key);
	BN_set_word(bn, 0x8f01);
	BN_to_ASN1_INTEGER(bn, serial);
	X509_set_version(x, 2);
	X509_set_serialNumber(x, serial);
	ASN1_TIME_set(X509_getm_notBefore(x), 1700000000);
	ASN1_TIME_set(X509_getm_notAfter(x), 1800000000);
	X509_NAME_add_entry_by_txt(sub, "C", MBSTRING_ASC, (const unsigned char *)"US", -1, -1, 0);
	X509_NAME_add_entry_by_txt(
			sub, "O", MBSTRING_ASC, (const unsigned char *)"Exa\0mple", 8, -1, 0);
	X509_NAME_add_entry_by_txt(
			sub, "OU", MBSTRING_ASC, (const unsigned char *)"ops", -1, -1, 0);
	X509_NAME_add_entry_by_txt(sub, "CN", MBSTRING_ASC,
			(const unsigned char *)"www.example.com", -1, -1, -1);
	X509_NAME_add_entry_by_txt(
			sub, "2.5.4.97", MBSTRING_ASC, (const unsigned char *)"VATDE-1", -1, -1, 0);
	X509_NAME_add_entry_by_txt(sub, "title", V_ASN1_UNIVERSALSTRING,
			(const unsigned char *)"\0\0\0A", 4, -1, 0);
	X509_NAME_add_entry_by_txt(
			iss, "CN", MBSTRING_ASC, (const unsigned char *)"Test CA", -1, -1, 0);
	X509_set_subject_name(x, sub);
	X509_set_issuer_name(x, iss);
	X509_set_pubkey(x, key);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	unsigned char *p = cert_der;
	int n = i2d_X509(x, &p);

	assert_true(n > 0 && n < (int)sizeof(cert_der));
	cert_len = (uint32_t)n;
	assert_int_equal(EVP_Digest(cert_der, cert_len, md, &mdlen, EVP_sha1(), NULL), 1);
	for (unsigned i = 0; i < 20; i++)
		sprintf(cert_fp + 3 * i, i < 19 ? "%02x:" : "%02x", md[i]);
	BN_free(bn);
	ASN1_INTEGER_free(serial);
	X509_NAME_free(sub);
	X509_NAME_free(iss);
	X509_free(x);
	EVP_PKEY_free(key);
}

/* Certificate message: the made certificate, then a second "certificate" of junk bytes. */
static void
build_certificate(struct tb *m, uint32_t junk)
{
	struct tb body = { .n = 0 };
	uint32_t at = tb_open(&body, 3);

	tb_u24(&body, cert_len);
	tb_bytes(&body, cert_der, cert_len);
	tb_u24(&body, junk);
	for (uint32_t i = 0; i < junk; i++)
		tb_u8(&body, 0x5a);
	tb_close(&body, at, 3);
	m->n = 0;
	tb_hs(m, 11, &body);
}

/* ---- a flow fed by hand ---- */

struct fx {
	struct al_ctx *c;
	struct al_flow *f;
	struct txd_log log;
	int rc;
};

static void
fx_open(struct fx *x, const struct al_limits *l)
{
	memset(x, 0, sizeof(*x));
	x->c = al_ctx_create(l);
	assert_non_null(x->c);
	x->f = al_flow_new(x->c, true, 40000, 443);
	assert_non_null(x->f);
}

/* Feed d in pieces of piece bytes (0: whole); the last return code is kept. */
static void
fx_feed(struct fx *x, unsigned dir, const uint8_t *d, uint32_t n, uint32_t piece)
{
	if (piece == 0)
		piece = n;
	for (uint32_t off = 0; off < n; off += piece)
		x->rc = al_feed(x->c, x->f, dir, d + off, n - off < piece ? n - off : piece, txd_cb,
				&x->log);
}

static void
fx_close(struct fx *x)
{
	al_close(x->c, x->f, AL_TO_SERVER, txd_cb, &x->log);
	al_close(x->c, x->f, AL_TO_CLIENT, txd_cb, &x->log);
	al_flow_free(x->c, x->f);
	assert_int_equal(al_ctx_mem_used(x->c), 0);
	al_ctx_free(x->c);
	txd_free(&x->log);
}

static void
expect(const struct fx *x, const char *line)
{
	if (!txd_has(&x->log, line))
		fail_msg("missing \"%s\" in:\n%s", line, x->log.s != NULL ? x->log.s : "(empty)");
}

static void
expect_not(const struct fx *x, const char *line)
{
	if (txd_has(&x->log, line))
		fail_msg("unexpected \"%s\" in:\n%s", line, x->log.s);
}

/*
 * A TLS 1.2 handshake: ClientHello; ServerHello, Certificate and ServerHelloDone in one
 * server flight; ChangeCipherSpec and encrypted records both ways. frag: handshake
 * messages split into records of frag bytes; piece: segments of piece bytes.
 */
static void
tls12_conversation(struct fx *x, uint32_t frag, uint32_t piece)
{
	static const struct ch_opts plain = { 0 };
	struct tb m, flight, rec;

	build_client_hello(&m, &plain);
	rec.n = 0;
	tb_records(&rec, 22, m.b, m.n, frag);
	fx_feed(x, AL_TO_SERVER, rec.b, rec.n, piece);
	flight.n = 0;
	build_server_hello(&m, false);
	tb_bytes(&flight, m.b, m.n);
	build_certificate(&m, 40);
	tb_bytes(&flight, m.b, m.n);
	tb_bytes(&flight, "\x0e\x00\x00\x00", 4); /* ServerHelloDone */
	rec.n = 0;
	tb_records(&rec, 22, flight.b, flight.n, frag);
	fx_feed(x, AL_TO_CLIENT, rec.b, rec.n, piece);
	rec.n = 0;
	tb_records(&rec, 22, (const uint8_t *)"\x10\x00\x00\x02\x01\x02", 6, 0);
	tb_records(&rec, 20, (const uint8_t *)"\x01", 1, 0);
	tb_records(&rec, 22, (const uint8_t *)"encrypted finished, not a message", 33, 0);
	tb_records(&rec, 23, (const uint8_t *)"GET / HTTP/1.1 (encrypted)", 26, 0);
	fx_feed(x, AL_TO_SERVER, rec.b, rec.n, piece);
	rec.n = 0;
	tb_records(&rec, 20, (const uint8_t *)"\x01", 1, 0);
	tb_records(&rec, 22, (const uint8_t *)"\x01\x02\x03\x04\x05\x06\x07\x08", 8, 0);
	tb_records(&rec, 23, (const uint8_t *)"HTTP/1.1 200 OK (encrypted)", 27, 0);
	fx_feed(x, AL_TO_CLIENT, rec.b, rec.n, piece);
}

static void
test_tls12_handshake(void **state)
{
	(void)state;
	struct fx x;
	char line[256];

	make_cert();
	fx_open(&x, NULL);
	tls12_conversation(&x, 0, 0);
	assert_int_equal(x.rc, 0);
	assert_int_equal(al_flow_proto(x.f), AL_PROTO_TLS);
	expect(&x, "tx 0 stage 0x1 ts\n"
		   "  tls.sni ts #0 = www.example.com\n"
		   "  ja3.hash ts #0 = 74801992be7c66be0161fc94aa66f2dc\n"
		   "  ja3.string ts #0 = 771,4865-4866-49199,10-11-0-16-43-13,29-23,0\n"
		   "  tls.alpn ts #0 = h2\n"
		   "  tls.alpn ts #1 = http/1.1\n"
		   "  tls.random ts #0 = \\xc0\\xc1\\xc2");
	expect(&x, "  tls.client_version ts #0 = 771\n"
		   "tx 0 stage 0x2 tc\n"
		   "  ja3s.hash tc #0 = 7554747c64df99ef4b45f1b1172df217\n"
		   "  ja3s.string tc #0 = 771,49199,65281-0-16\n"
		   "  tls.random tc #0 = \\xa0\\xa1");
	expect(&x, "  tls.version tc #0 = 771\n"
		   "tx 0 stage 0x4 tc\n"
		   "  tls.cert_subject tc #0 = C=US, O=Exa\\x00mple, OU=ops + CN=www.example.com, "
		   "OID(2.5.4.97)=VATDE-1, title=00000041\n"
		   "  tls.cert_issuer tc #0 = CN=Test CA\n"
		   "  tls.cert_serial tc #0 = 00:8F:01\n");
	snprintf(line, sizeof(line), "  tls.cert_fingerprint tc #0 = %s\n", cert_fp);
	expect(&x, line);
	expect(&x, "  tls.certs tc #1 = ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ\n"
		   "  tls_cert_notbefore tc #0 = 1700000000\n"
		   "  tls_cert_notafter tc #0 = 1800000000\n"
		   "  tls.cert_chain_len tc #0 = 2\n");
	expect_not(&x, "anomaly");
	/* three stages, once each; the transaction is gone once they are reported */
	assert_int_equal(x.log.calls, 3);
	assert_int_equal(al_ctx_counter(x.c, AL_CTR_TX), 1);
	fx_close(&x);
}

/* Segments of 1 and 5 bytes, handshake messages cut into records of 1 and 7 bytes. */
static void
test_splits_agree(void **state)
{
	(void)state;
	struct fx whole, x;
	const uint32_t cuts[][2] = { { 0, 1 }, { 0, 5 }, { 1, 0 }, { 7, 0 }, { 7, 3 } };

	make_cert();
	fx_open(&whole, NULL);
	tls12_conversation(&whole, 0, 0);
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		fx_open(&x, NULL);
		tls12_conversation(&x, cuts[i][0], cuts[i][1]);
		assert_int_equal(x.rc, 0);
		assert_string_equal(whole.log.s, x.log.s);
		fx_close(&x);
	}
	fx_close(&whole);
}

/* TLS 1.3: nothing is in clear after the ServerHello, so the certificate stage is final then. */
static void
test_tls13(void **state)
{
	(void)state;
	static const struct ch_opts o = { .tls13 = true };
	struct fx x;
	struct tb m, rec;

	fx_open(&x, NULL);
	build_client_hello(&m, &o);
	rec.n = 0;
	tb_records(&rec, 22, m.b, m.n, 0);
	fx_feed(&x, AL_TO_SERVER, rec.b, rec.n, 0);
	build_server_hello(&m, true);
	rec.n = 0;
	tb_records(&rec, 22, m.b, m.n, 0);
	tb_records(&rec, 20, (const uint8_t *)"\x01", 1, 0);
	tb_records(&rec, 23, (const uint8_t *)"encrypted extensions, certificate", 33, 0);
	fx_feed(&x, AL_TO_CLIENT, rec.b, rec.n, 0);
	expect(&x, "tx 0 stage 0x2 tc\n"
		   "  ja3s.hash tc #0 = cce84e7a8b742462e40afb585a3e3ccc\n"
		   "  ja3s.string tc #0 = 771,4865,43\n");
	expect(&x, "  tls.version tc #0 = 772\n"
		   "tx 0 stage 0x4 tc\n");
	expect_not(&x, "tls.cert_");
	assert_int_equal(x.log.calls, 3);
	fx_close(&x);
}

/* A resumed session: ServerHello then ChangeCipherSpec, no certificate. */
static void
test_resumed(void **state)
{
	(void)state;
	static const struct ch_opts o = { 0 };
	struct fx x;
	struct tb m, rec;

	fx_open(&x, NULL);
	build_client_hello(&m, &o);
	rec.n = 0;
	tb_records(&rec, 22, m.b, m.n, 0);
	fx_feed(&x, AL_TO_SERVER, rec.b, rec.n, 0);
	build_server_hello(&m, false);
	rec.n = 0;
	tb_records(&rec, 22, m.b, m.n, 0);
	fx_feed(&x, AL_TO_CLIENT, rec.b, rec.n, 0);
	assert_int_equal(x.log.calls, 2);
	rec.n = 0;
	tb_records(&rec, 20, (const uint8_t *)"\x01", 1, 0);
	fx_feed(&x, AL_TO_CLIENT, rec.b, rec.n, 0);
	expect(&x, "  tls.version tc #0 = 771\ntx 0 stage 0x4 tc\n");
	assert_int_equal(x.log.calls, 3);
	fx_close(&x);
}

/* An SSLv2-framed ClientHello answered in TLS (sslv2-tls-upgrade in small). */
static void
test_sslv2_hello(void **state)
{
	(void)state;
	static const uint8_t v2[] = { 0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00, 0x00, 0x00,
		0x10, 0x00, 0x00, 0x04, 0x00, 0x00, 0x05, 0x00, 0x00, 0x0a, 0x07, 0x00, 0xc0, 0x00,
		0x00, 0x2f, 0x00, 0x00, 0x35, 0x00, 0x00, 0x33, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
		0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00 };
	struct fx x;
	struct tb m, rec;

	fx_open(&x, NULL);
	fx_feed(&x, AL_TO_SERVER, v2, sizeof(v2), 0);
	assert_int_equal(al_flow_proto(x.f), AL_PROTO_TLS);
	expect(&x, "tx 0 stage 0x1 ts\n"
		   "  tls.client_version ts #0 = 769\n");
	build_server_hello(&m, false);
	rec.n = 0;
	tb_records(&rec, 22, m.b, m.n, 0);
	fx_feed(&x, AL_TO_CLIENT, rec.b, rec.n, 0);
	expect(&x, "  ja3s.string tc #0 = 771,49199,65281-0-16\n");
	fx_close(&x);
}

/* The hello's own anomalies, and the JA3 Suricata still makes (or not) from such a hello. */
static void
test_hello_anomalies(void **state)
{
	(void)state;
	static const struct ch_opts bad_type = { .sni_type = 1 };
	static const struct ch_opts bad_len = { .sni_len_bias = 300 };
	static const struct ch_opts cut = { .cut_ciphers = true };
	struct fx x;
	struct tb m, rec;

	/* an SNI of another type: the extensions before it still make JA3 */
	fx_open(&x, NULL);
	build_client_hello(&m, &bad_type);
	rec.n = 0;
	tb_records(&rec, 22, m.b, m.n, 0);
	fx_feed(&x, AL_TO_SERVER, rec.b, rec.n, 0);
	expect(&x, "  ja3.hash ts #0 = 5fc5d6913c21ddf155268a4785c66dbb\n"
		   "  ja3.string ts #0 = 771,4865-4866-49199,10-11,29-23,0\n");
	expect_not(&x, "tls.sni");
	expect_not(&x, "tls.alpn");
	expect(&x, "  anomaly invalid_sni_type\n");
	fx_close(&x);
	/* an SNI length past its extension */
	fx_open(&x, NULL);
	build_client_hello(&m, &bad_len);
	rec.n = 0;
	tb_records(&rec, 22, m.b, m.n, 0);
	fx_feed(&x, AL_TO_SERVER, rec.b, rec.n, 0);
	expect(&x, "  anomaly invalid_sni_length\n");
	fx_close(&x);
	/* a cipher list past the message: no JA3 at all, the version and random remain */
	fx_open(&x, NULL);
	build_client_hello(&m, &cut);
	rec.n = 0;
	tb_records(&rec, 22, m.b, m.n, 0);
	fx_feed(&x, AL_TO_SERVER, rec.b, rec.n, 0);
	expect(&x, "tx 0 stage 0x1 ts\n"
		   "  tls.random ts #0 = \\xc0");
	expect(&x, "  tls.client_version ts #0 = 771\n"
		   "  anomaly handshake_invalid_length\n");
	expect_not(&x, "ja3");
	fx_close(&x);
}

/* Record-level anomalies: each stops or flags as Suricata does, the stages become final. */
static void
test_record_anomalies(void **state)
{
	(void)state;
	static const struct ch_opts o = { 0 };
	struct fx x;
	struct tb m, rec;

	/* an unknown content type after a TLS 1.2 hello: parsing stops */
	fx_open(&x, NULL);
	build_client_hello(&m, &o);
	rec.n = 0;
	tb_records(&rec, 22, m.b, m.n, 0);
	tb_records(&rec, 0x30, (const uint8_t *)"xx", 2, 0);
	fx_feed(&x, AL_TO_SERVER, rec.b, rec.n, 0);
	assert_int_equal(x.rc, -1);
	expect(&x, "tx 0 stage 0x4 tc\n  anomaly invalid_record_type\n");
	assert_int_equal(x.log.calls, 3);
	fx_close(&x);
	/* a record of length 0 */
	fx_open(&x, NULL);
	build_client_hello(&m, &o);
	rec.n = 0;
	tb_records(&rec, 22, m.b, m.n, 0);
	tb_bytes(&rec, "\x16\x03\x03\x00\x00", 5);
	fx_feed(&x, AL_TO_SERVER, rec.b, rec.n, 0);
	assert_int_equal(x.rc, -1);
	expect(&x, "  anomaly invalid_record_length\n");
	fx_close(&x);
	/* a flood of tiny SSLv2 records in one segment */
	fx_open(&x, NULL);
	build_client_hello(&m, &o);
	rec.n = 0;
	tb_records(&rec, 22, m.b, m.n, 0);
	fx_feed(&x, AL_TO_SERVER, rec.b, rec.n, 0);
	rec.n = 0;
	for (int i = 0; i < 100; i++)
		tb_bytes(&rec, "\x80\x01\x07", 3);
	fx_feed(&x, AL_TO_SERVER, rec.b, rec.n, 0);
	assert_int_equal(x.rc, -1);
	assert_int_equal(al_ctx_anomalies(x.c, AL_PROTO_TLS, AL_TLS_TOO_MANY_RECORDS_IN_PACKET), 1);
	fx_close(&x);
	/* an unknown handshake type, a short alert, a heartbeat claiming more than it holds:
	 * flagged, parsing goes on */
	fx_open(&x, NULL);
	rec.n = 0;
	tb_records(&rec, 22, (const uint8_t *)"\x63\x00\x00\x01\x00", 5, 0);
	tb_records(&rec, 21, (const uint8_t *)"\x02\x28\x00", 3, 0);
	tb_records(&rec, 24, (const uint8_t *)"\x01\x40\x00xxxxxxxxxxxxxxxx", 19, 0);
	build_client_hello(&m, &o);
	tb_records(&rec, 22, m.b, m.n, 0);
	fx_feed(&x, AL_TO_SERVER, rec.b, rec.n, 0);
	assert_int_equal(x.rc, 0);
	expect(&x, "  tls.sni ts #0 = www.example.com\n");
	assert_int_equal(al_ctx_anomalies(x.c, AL_PROTO_TLS, AL_TLS_INVALID_HANDSHAKE_MESSAGE), 1);
	assert_int_equal(al_ctx_anomalies(x.c, AL_PROTO_TLS, AL_TLS_INVALID_ALERT_MESSAGE), 1);
	assert_int_equal(al_ctx_anomalies(x.c, AL_PROTO_TLS, AL_TLS_HEARTBEAT_MESSAGE), 1);
	assert_int_equal(al_ctx_anomalies(x.c, AL_PROTO_TLS, AL_TLS_OVERFLOW_HEARTBEAT_MESSAGE), 1);
	fx_close(&x);
	assert_int_equal(al_anomaly_find(AL_PROTO_TLS, "certificate_invalid_der"),
			AL_TLS_CERTIFICATE_INVALID_DER);
	assert_int_equal(al_anomaly_count(AL_PROTO_TLS), AL_TLS__COUNT);
}

/* tls_max_record: a Certificate message longer keeps its first bytes (record_overflow). */
static void
test_max_record(void **state)
{
	(void)state;
	struct al_limits l;
	struct fx x;
	struct tb m, rec;

	make_cert();
	al_limits_default(&l);
	l.tls_max_record = cert_len + 100;
	fx_open(&x, &l);
	build_server_hello(&m, false);
	rec.n = 0;
	tb_records(&rec, 22, m.b, m.n, 0);
	build_certificate(&m, 3000);
	tb_records(&rec, 22, m.b, m.n, 1000);
	fx_feed(&x, AL_TO_CLIENT, rec.b, rec.n, 0);
	expect(&x, "  tls.cert_issuer tc #0 = CN=Test CA\n");
	expect(&x, "  tls.cert_chain_len tc #0 = 1\n"
		   "  anomaly record_overflow\n");
	expect_not(&x, "invalid_certificate");
	fx_close(&x);
}

/* A hole inside an encrypted record keeps the framing: the next record is read. */
static void
test_gap(void **state)
{
	(void)state;
	static const struct ch_opts o = { 0 };
	struct fx x;
	struct tb m, rec;

	fx_open(&x, NULL);
	build_client_hello(&m, &o);
	rec.n = 0;
	tb_records(&rec, 22, m.b, m.n, 0);
	tb_records(&rec, 20, (const uint8_t *)"\x01", 1, 0);
	fx_feed(&x, AL_TO_SERVER, rec.b, rec.n, 0);
	fx_feed(&x, AL_TO_SERVER, (const uint8_t *)"\x17\x03\x03\x01\x00", 5, 0);
	fx_feed(&x, AL_TO_SERVER, (const uint8_t *)"0123456789", 10, 0);
	al_gap(x.c, x.f, AL_TO_SERVER, 200);
	uint8_t tail[46 + 24] = { 0 };

	memcpy(tail + 46, "\x18\x03\x03\x00\x13", 5); /* then an (encrypted) heartbeat */
	fx_feed(&x, AL_TO_SERVER, tail, sizeof(tail), 0);
	assert_int_equal(x.rc, 0);
	assert_int_equal(al_ctx_anomalies(x.c, AL_PROTO_TLS, AL_TLS_HEARTBEAT_MESSAGE), 1);
	/* a hole across records: the next record start is found again */
	al_gap(x.c, x.f, AL_TO_SERVER, 1000);
	fx_feed(&x, AL_TO_SERVER, (const uint8_t *)"middle of something", 19, 0);
	fx_feed(&x, AL_TO_SERVER, (const uint8_t *)"\x18\x03\x03\x00\x02xy", 7, 0);
	assert_int_equal(al_ctx_anomalies(x.c, AL_PROTO_TLS, AL_TLS_HEARTBEAT_MESSAGE), 2);
	fx_close(&x);
}

/* A small arena: hellos and certificates that do not fit are counted, nothing leaks. */
static void
test_memcap(void **state)
{
	(void)state;
	struct al_limits l;
	struct al_ctx *c;
	struct al_flow *f[64];
	struct tb m, rec;

	make_cert();
	al_limits_default(&l);
	l.memcap = 1u << 20;
	c = al_ctx_create(&l);
	build_certificate(&m, 20000);
	rec.n = 0;
	tb_records(&rec, 22, m.b, m.n, 700);
	for (int i = 0; i < 64; i++) {
		f[i] = al_flow_new(c, true, 40000, 443);
		/* each holds a partial Certificate of ~20 KB */
		if (f[i] != NULL)
			al_feed(c, f[i], AL_TO_CLIENT, rec.b, rec.n - 100, NULL, NULL);
	}
	assert_true(al_ctx_counter(c, AL_CTR_MEMCAP) > 0);
	for (int i = 0; i < 64; i++)
		al_flow_free(c, f[i]);
	assert_int_equal(al_ctx_mem_used(c), 0);
	al_ctx_free(c);
}

/* ---- suricata-verify cases ---- */

struct sv {
	struct txd_log log;
};

static bool
sv_run(struct sv *s, const char *rel)
{
	memset(s, 0, sizeof(*s));
	return atf_replay(rel, &s->log, NULL);
}

static void
sv_expect(const struct sv *s, const char *line, unsigned times)
{
	unsigned n = txd_count(&s->log, line);

	if (n != times)
		fail_msg("\"%s\" %u times, not %u, in:\n%s", line, n, times, s->log.s);
}

/* ja3s.hash 5d79edf6... and ja3.string "771,49196-49200" in one flow. */
static void
test_sv_bidir_ja3(void **state)
{
	(void)state;
	struct sv s;

	if (!sv_run(&s, "suricata-verify-more/detect-bidir-ja3/input.pcap"))
		return;
	sv_expect(&s, "  ja3s.hash tc #0 = 5d79edf64e03689ff559a54e9d9487bc\n", 1);
	sv_expect(&s, "  ja3.string ts #0 = 771,49196-49200-", 1);
	sv_expect(&s, "6d79edf64e03689ff559a54e9d9487bc", 0);
	txd_free(&s.log);
	assert_true(atf_replay_splits_agree("suricata-verify-more/detect-bidir-ja3/input.pcap"));
}

/* The EVE fields of sslv2-tls-upgrade-01, and tls.cert_serial content "55". */
static void
test_sv_sslv2_upgrade(void **state)
{
	(void)state;
	struct sv s;

	if (!sv_run(&s, "suricata-verify-more/sslv2-tls-upgrade-01/ssl-v2-s1.pcap"))
		return;
	sv_expect(&s,
			"  tls.cert_subject tc #0 = C=US, ST=California, L=Sunnyvale, "
			"O=NetScreen Technologies, Inc., OU=Security Team, "
			"CN=sigdb.secteam.netscreen.com, Email=aturner@netscreen.com\n"
			"  tls.cert_issuer tc #0 = C=US, ST=California, L=Sunnyvale, O=OneSecure, "
			"Inc., OU=Fulfillment, CN=jumper.sv-staging.onesecure.com, "
			"Email=fulfillment@onesecure.com\n"
			"  tls.cert_serial tc #0 = 55\n"
			"  tls.cert_fingerprint tc #0 = "
			"8c:90:bd:2a:b3:ae:e6:0b:d0:ea:b7:86:b0:1a:e4:b1:cc:57:ef:22\n",
			1);
	/* 2003-03-29T00:57:44 .. 2008-03-27T00:57:44 */
	sv_expect(&s,
			"  tls_cert_notbefore tc #0 = 1048899464\n"
			"  tls_cert_notafter tc #0 = 1206579464\n",
			1);
	sv_expect(&s, "  tls.version tc #0 = 769\n", 1);
	sv_expect(&s, "  tls.client_version ts #0 = 769\n", 1);
	txd_free(&s.log);
	assert_true(atf_replay_splits_agree(
			"suricata-verify-more/sslv2-tls-upgrade-01/ssl-v2-s1.pcap"));
}

/* A ClientHello split over two records (MTU 300): tls.sni content "google". */
static void
test_sv_client_hello_frag(void **state)
{
	(void)state;
	struct sv s;

	if (!sv_run(&s, "suricata-verify-more/tls_tls-client-hello-frag-01/dump_mtu300.pcap"))
		return;
	sv_expect(&s, "  tls.sni ts #0 = www.google.com\n", 1);
	txd_free(&s.log);
	assert_true(atf_replay_splits_agree(
			"suricata-verify-more/tls_tls-client-hello-frag-01/dump_mtu300.pcap"));
}

/* Two ClientHellos: JA3 of the first, as the case's EVE shows. */
static void
test_sv_duplicate_hello(void **state)
{
	(void)state;
	struct sv s;

	if (!sv_run(&s, "suricata-verify-more/tls-duplicate-hello/input.pcap"))
		return;
	sv_expect(&s,
			"  ja3.string ts #0 = 771,4866-4867-4865-4868-49196-52393-49325-49162-49195-"
			"49324-49161-49200-52392-49172-49199-49171-157-49309-53-156-49308-47-159-"
			"52394-49311-57-158-49310-51,5-10-11-13-22-23-35-51-43-65281-0-45,23,0\n",
			1);
	sv_expect(&s, "  ja3.hash", 1);
	txd_free(&s.log);
}

/* tls.fingerprint / tls.cert_fingerprint 90:86:a4:... (lower case). */
static void
test_sv_fingerprint(void **state)
{
	(void)state;
	struct sv s;

	if (!sv_run(&s, "suricata-verify-more/tls_tls-fingerprint-alert/input.pcap"))
		return;
	sv_expect(&s,
			"  tls.cert_fingerprint tc #0 = "
			"90:86:a4:3b:f5:cf:1b:2e:4e:f7:97:96:f9:de:ba:b9:66:35:86:3f\n",
			1);
	sv_expect(&s,
			"  tls.cert_subject tc #0 = C=US, ST=California, L=Mountain View, "
			"O=Google Inc, CN=www.google.com\n",
			1);
	txd_free(&s.log);
}

/* tls.random of each direction only in its own direction. */
static void
test_sv_random(void **state)
{
	(void)state;
	struct sv s;

	if (sv_run(&s, "suricata-verify-more/tls_tls-random/input.pcap")) {
		sv_expect(&s,
				"  tls.random ts #0 = \\x94-\\x1f\\xefW]w\\x02\\x07\\xc2\\x9d\\xbe$"
				"\\x01\\xcc\\xf0]\\xcd\\xe1\\xd2\\xa5\\x86\\x9cJ>\\xee8\\xdbU\\x1a"
				"\\xd9\\xbc\n",
				1);
		sv_expect(&s,
				"  tls.random tc #0 = T\\xf9\\xfc\\x15w\\xe43\\xd3-\\xa8.\\x9d8\\x89}"
				"Z&(\\xbf\\xb0\\x98Q\\xda\\xd9\\xbd\\x03\\xf8\\xaf\\xa2\\x09\\xa4\\xf0\n",
				1);
		txd_free(&s.log);
	}
	if (sv_run(&s, "suricata-verify-more/tls_tls-random-6989/input.pcap")) {
		sv_expect(&s, "  tls.random ts #0 = T\\xb4\\xc9{", 1);
		sv_expect(&s, "  tls.random tc #0 = T\\xb8\\xf7s", 1);
		txd_free(&s.log);
	}
}

/* A NUL inside the subject's and the issuer's O or CN stays in the buffer. */
static void
test_sv_zero_in_names(void **state)
{
	(void)state;
	struct sv s;

	if (sv_run(&s, "suricata-verify-more/tls_tls-subject-zero/input.pcap")) {
		sv_expect(&s,
				"  tls.cert_subject tc #0 = C=US, ST=WA, L=Redmond, "
				"O=Microsoft Corporat\\x00on, OU=Microsoft Corporation, "
				"CN=go.microsoft.com\n",
				1);
		txd_free(&s.log);
	}
	if (sv_run(&s, "suricata-verify-more/tls_tls-issuer-zero/input.pcap")) {
		sv_expect(&s,
				"  tls.cert_issuer tc #0 = C=US, O=Microsoft Corporation, "
				"CN=Microsoft RSA TL\\x00 CA 01\n",
				1);
		txd_free(&s.log);
	}
}

struct certs_seen {
	unsigned n;
	bool found[3];
	uint64_t chain;
};

/* tls.certs: each of the three certificates carries its CN's DER prefix. */
static void
certs_cb(void *arg, const struct al_tx *tx, unsigned stage, unsigned dir)
{
	static const struct {
		const char *p;
		size_t n;
	} pat[3] = {
		{ "\x30\x16\x06\x03\x55\x04\x03\x13\x0f", 9 },
		{ "\x30\x25\x06\x03\x55\x04\x03\x13\x1e", 9 },
		{ "\x30\x1e\x06\x03\x55\x04\x03\x13\x17", 9 },
	};
	struct certs_seen *cs = arg;
	const uint8_t *p;
	uint32_t len;

	(void)dir;
	if (stage != AL_ST_TLS_SERVER_CERT)
		return;
	for (unsigned i = 0; al_tx_buf(tx, AL_BUF_TLS_CERTS, i, &p, &len); i++) {
		cs->n++;
		for (unsigned k = 0; k < 3; k++)
			if (memmem(p, len, pat[k].p, pat[k].n) != NULL && k == i)
				cs->found[k] = true;
	}
	al_tx_num(tx, AL_NUM_TLS_CERT_CHAIN_LEN, 0, &cs->chain);
}

static void
test_sv_certs(void **state)
{
	(void)state;
	char buf[1024];
	const char *path = atf_path(
			"suricata-verify-more/tls_tls-certs-alert/input.pcap", buf, sizeof(buf));
	struct certs_seen cs = { 0 };
	struct al_ctx *c;

	if (path == NULL)
		return;
	c = al_ctx_create(NULL);
	assert_true(alp_replay_file(c, path, certs_cb, &cs) > 0);
	/* example.org's chain: the server certificate and two CAs, each matched in turn */
	assert_int_equal(cs.n, 3);
	assert_true(cs.found[0] && cs.found[1] && cs.found[2]);
	assert_int_equal(cs.chain, 3);
	assert_int_equal(al_ctx_mem_used(c), 0);
	al_ctx_free(c);
}

/* tls.cert_chain_len:3 (and <4, >0, 0<>4, !2) on the same capture's first flow. */
static void
test_sv_chain_len(void **state)
{
	(void)state;
	struct sv s;

	if (!sv_run(&s, "suricata-verify-more/tls_tls-cert-chain-len/input.pcap"))
		return;
	sv_expect(&s, "  tls.cert_chain_len tc #0 = 3\n", 1);
	txd_free(&s.log);
}

/* tls.alpn h2 and http/1.1 with tls.sni icloud. */
static void
test_sv_alpn(void **state)
{
	(void)state;
	struct sv s;

	if (!sv_run(&s, "suricata-verify-more/tls-alpn-log-detect-02/input.pcap"))
		return;
	sv_expect(&s, "  tls.sni ts #0 = p130-contacts.icloud.com\n", 1);
	sv_expect(&s, "  tls.alpn ts #0 = h2\n  tls.alpn ts #1 = http/1.1\n", 1);
	txd_free(&s.log);
}

/* The firewall case's tls.sni: raw.githubusercontent.com (no pass for allowed.local). */
static void
test_sv_sni_enforce(void **state)
{
	(void)state;
	struct sv s;

	if (!sv_run(&s, "suricata-verify-more/ips_firewall-06-tls-sni-enforce/input.pcap"))
		return;
	sv_expect(&s, "  tls.sni ts #0 = raw.githubusercontent.com\n", 1);
	sv_expect(&s, "allowed.local", 0);
	txd_free(&s.log);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tls12_handshake),
		cmocka_unit_test(test_splits_agree),
		cmocka_unit_test(test_tls13),
		cmocka_unit_test(test_resumed),
		cmocka_unit_test(test_sslv2_hello),
		cmocka_unit_test(test_hello_anomalies),
		cmocka_unit_test(test_record_anomalies),
		cmocka_unit_test(test_max_record),
		cmocka_unit_test(test_gap),
		cmocka_unit_test(test_memcap),
		cmocka_unit_test(test_sv_bidir_ja3),
		cmocka_unit_test(test_sv_sslv2_upgrade),
		cmocka_unit_test(test_sv_client_hello_frag),
		cmocka_unit_test(test_sv_duplicate_hello),
		cmocka_unit_test(test_sv_fingerprint),
		cmocka_unit_test(test_sv_random),
		cmocka_unit_test(test_sv_zero_in_names),
		cmocka_unit_test(test_sv_certs),
		cmocka_unit_test(test_sv_chain_len),
		cmocka_unit_test(test_sv_alpn),
		cmocka_unit_test(test_sv_sni_enforce),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
