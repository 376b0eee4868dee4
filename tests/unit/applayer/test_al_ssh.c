/* SPDX-License-Identifier: BSD-3-Clause */
/* The SSH parser: banners, KEXINIT and HASSH, NEWKEYS, anomalies, splits, real captures. */
#include "vg_test.h"

#include "al.h"
#include "al_pcap.h"
#include "al_ssh.h"
#include "al_txlog.h"

#define TD_MORE VIGIL_TESTDATA "/suricata-verify-more/"

static const char *const cli_lists[10] = {
	"curve25519-sha256,diffie-hellman-group14-sha256",
	"ssh-ed25519,rsa-sha2-512",
	"aes128-ctr,aes256-gcm@openssh.com",
	"aes256-ctr",
	"hmac-sha2-256",
	"hmac-sha1",
	"none,zlib@openssh.com",
	"none",
	"",
	"",
};
static const char *const srv_lists[10] = {
	"curve25519-sha256",
	"ssh-ed25519",
	"aes128-ctr",
	"chacha20-poly1305@openssh.com,aes128-ctr",
	"hmac-sha2-512",
	"umac-64@openssh.com",
	"none",
	"zlib",
	"",
	"",
};
/* python3 -c 'import hashlib; print(hashlib.md5(b"...").hexdigest())' */
#define CLI_HASSH_STR                                                                             \
	"curve25519-sha256,diffie-hellman-group14-sha256;aes128-ctr,aes256-gcm@openssh.com;hmac-" \
	"sha2-256;none,zlib@openssh.com"
#define CLI_HASSH "7b3f76e580e44aea1e396d8af55a8228"
#define SRV_HASSH_STR \
	"curve25519-sha256;chacha20-poly1305@openssh.com,aes128-ctr;umac-64@openssh.com;zlib"
#define SRV_HASSH "8daea0875224bce8f5bf83a61098e7b6"

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A KEXINIT packet (RFC 4253 §7.1) with pad bytes of padding; returns its length. */
static uint32_t
kexinit(uint8_t *out, const char *const lists[10], uint8_t pad)
{
	uint32_t off = 6;

	out[4] = pad;
	out[5] = 20;
	memset(out + off, 0x11, 16);
	off += 16;
	for (int i = 0; i < 10; i++) {
		uint32_t l = (uint32_t)strlen(lists[i]);

		put32(out + off, l);
		memcpy(out + off + 4, lists[i], l);
		off += 4 + l;
	}
	memset(out + off, 0, 5 + pad);
	off += 5 + pad;
	put32(out, off - 4);
	return off;
}

/* Any other packet: message code and body bytes of filler. */
static uint32_t
packet(uint8_t *out, uint8_t code, uint32_t body)
{
	put32(out, body + 2);
	out[4] = 4;
	out[5] = code;
	memset(out + 6, 0xab, body);
	return body + 6;
}

static const uint8_t newkeys[] = { 0, 0, 0, 12, 10, 21, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };

struct session {
	uint8_t ckex[2048], skex[2048], cdh[128], sdh[512], enc[256];
	struct txl_msg m[10];
	unsigned n;
};

/* A whole exchange: a server line before its banner, both KEXINITs, NEWKEYS, ciphertext. */
static void
build_session(struct session *s)
{
	uint32_t l;

	memset(s, 0, sizeof(*s));
	s->m[s->n++] = (struct txl_msg){ AL_TO_CLIENT,
		"Hello there\r\nSSH-2.0-srv_1.0 comment text\r\n", 0 };
	s->m[s->n++] = (struct txl_msg){ AL_TO_SERVER, "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3\r\n", 0 };
	s->m[s->n++] = (struct txl_msg){ AL_TO_SERVER, (const char *)s->ckex,
		kexinit(s->ckex, cli_lists, 7) };
	s->m[s->n++] = (struct txl_msg){ AL_TO_CLIENT, (const char *)s->skex,
		kexinit(s->skex, srv_lists, 4) };
	s->m[s->n++] = (struct txl_msg){ AL_TO_SERVER, (const char *)s->cdh,
		packet(s->cdh, 30, 40) };
	l = packet(s->sdh, 31, 300);
	memcpy(s->sdh + l, newkeys, sizeof(newkeys));
	s->m[s->n++] = (struct txl_msg){ AL_TO_CLIENT, (const char *)s->sdh,
		l + (uint32_t)sizeof(newkeys) };
	s->m[s->n++] = (struct txl_msg){ AL_TO_SERVER, (const char *)newkeys,
		(uint32_t)sizeof(newkeys) };
	/* Ciphertext: as packet headers it would be garbage (lengths of 4 GiB). */
	memset(s->enc, 0xff, sizeof(s->enc));
	s->m[s->n++] = (struct txl_msg){ AL_TO_SERVER, (const char *)s->enc, sizeof(s->enc) };
	s->m[s->n++] = (struct txl_msg){ AL_TO_CLIENT, (const char *)s->enc, sizeof(s->enc) };
}

static struct al_ctx *
ctx(uint32_t line_max)
{
	struct al_limits l;

	al_limits_default(&l);
	l.memcap = 4u << 20;
	if (line_max != 0)
		l.line_max = line_max;
	return al_ctx_create(&l);
}

static void
check_session(const struct txl *l)
{
	assert_int_equal(l->n, 1);
	assert_int_equal(l->tx[0].ready, 0xf);
	assert_int_equal(l->tx[0].anomalies, 0);
	assert_string_equal(txl_str(l, 0, AL_BUF_SSH_PROTO_CLIENT, 0), "2.0");
	assert_string_equal(txl_str(l, 0, AL_BUF_SSH_SOFTWARE_CLIENT, 0), "OpenSSH_8.9p1");
	assert_string_equal(txl_str(l, 0, AL_BUF_SSH_PROTO_SERVER, 0), "2.0");
	assert_string_equal(txl_str(l, 0, AL_BUF_SSH_SOFTWARE_SERVER, 0), "srv_1.0");
	assert_true(l->tx[0].has_num[AL_NUM_SSH_CLIENT_PROTO_MAJ]);
	assert_int_equal(l->tx[0].num[AL_NUM_SSH_CLIENT_PROTO_MAJ], 2);
	assert_int_equal(l->tx[0].num[AL_NUM_SSH_SERVER_PROTO_MAJ], 2);
	assert_string_equal(txl_str(l, 0, AL_BUF_SSH_HASSH_STRING_CLIENT, 0), CLI_HASSH_STR);
	assert_string_equal(txl_str(l, 0, AL_BUF_SSH_HASSH_CLIENT, 0), CLI_HASSH);
	assert_string_equal(txl_str(l, 0, AL_BUF_SSH_HASSH_STRING_SERVER, 0), SRV_HASSH_STR);
	assert_string_equal(txl_str(l, 0, AL_BUF_SSH_HASSH_SERVER, 0), SRV_HASSH);
}

static void
test_session(void **state)
{
	(void)state;
	struct al_ctx *c = ctx(0);
	struct session s;
	struct txl l = { 0 };

	build_session(&s);
	assert_int_equal(txl_run(c, 2222, s.m, s.n, 0, &l), AL_PROTO_SSH);
	check_session(&l);
	/* The server spoke first: its banner is reported first. */
	assert_int_equal(l.tx[0].stages[0], AL_ST_SSH_SERVER_BANNER);
	assert_int_equal(l.tx[0].dirs[0], AL_TO_CLIENT);
	assert_int_equal(l.tx[0].stages[1], AL_ST_SSH_CLIENT_BANNER);
	assert_int_equal(l.tx[0].stages[2], AL_ST_SSH_CLIENT_KEXINIT);
	assert_int_equal(l.tx[0].stages[3], AL_ST_SSH_SERVER_KEXINIT);
	assert_int_equal(al_ctx_counter(c, AL_CTR_TX), 1);
	txl_free(&l);
	assert_int_equal(al_ctx_mem_used(c), 0);
	al_ctx_free(c);
}

/* Every split gives the same buffers as the whole messages. */
static void
test_splits(void **state)
{
	(void)state;
	struct al_ctx *c = ctx(0);
	struct session s;
	struct txl whole = { 0 };
	char why[160];

	build_session(&s);
	txl_run(c, 22, s.m, s.n, 0, &whole);
	for (uint32_t chunk = 1; chunk <= 13; chunk += 3) {
		struct txl l = { 0 };

		assert_int_equal(txl_run(c, 22, s.m, s.n, chunk, &l), AL_PROTO_SSH);
		if (!txl_equal(&whole, &l, why, sizeof(why)))
			fail_msg("chunk %u: %s", chunk, why);
		txl_free(&l);
	}
	check_session(&whole);
	txl_free(&whole);
	assert_int_equal(al_ctx_mem_used(c), 0);
	al_ctx_free(c);
}

static struct txl
run_parser(struct al_ctx *c, const struct txl_msg *m, unsigned n)
{
	struct txl l = { 0 };

	txl_run_parser(c, &al_ssh_parser, m, n, 0, &l);
	return l;
}

static void
test_banners(void **state)
{
	(void)state;
	struct al_ctx *c = ctx(0);
	char longb[400];
	struct txl l;

	/* RFC 4253 §5.1: 1.99 also speaks 2.0; an SSH-1 side is not parsed past its banner. */
	const struct txl_msg m1[] = {
		{ AL_TO_CLIENT, "SSH-1.99-Cisco-1.25\n", 0 },
		{ AL_TO_SERVER, "SSH-1.5-old\r\n\x00\x00\x00\x01garbage", 24 },
	};
	l = run_parser(c, m1, 2);
	assert_string_equal(txl_str(&l, 0, AL_BUF_SSH_PROTO_SERVER, 0), "1.99");
	assert_int_equal(l.tx[0].num[AL_NUM_SSH_SERVER_PROTO_MAJ], 2);
	assert_string_equal(txl_str(&l, 0, AL_BUF_SSH_SOFTWARE_SERVER, 0), "Cisco-1.25");
	assert_string_equal(txl_str(&l, 0, AL_BUF_SSH_PROTO_CLIENT, 0), "1.5");
	assert_int_equal(l.tx[0].num[AL_NUM_SSH_CLIENT_PROTO_MAJ], 1);
	assert_int_equal(l.tx[0].anomalies, 0);
	txl_free(&l);

	/* An empty software version is absent; "SSH-2.0" alone is no banner. */
	const struct txl_msg m2[] = {
		{ AL_TO_SERVER, "SSH-2.0-\r\n", 0 },
		{ AL_TO_CLIENT, "SSH-2.0\r\n", 0 },
	};
	l = run_parser(c, m2, 2);
	assert_string_equal(txl_str(&l, 0, AL_BUF_SSH_PROTO_CLIENT, 0), "2.0");
	assert_null(txl_str(&l, 0, AL_BUF_SSH_SOFTWARE_CLIENT, 0));
	assert_null(txl_str(&l, 0, AL_BUF_SSH_PROTO_SERVER, 0));
	/* The server's stages are final anyway, so that the anomaly's rules run. */
	assert_int_equal(l.tx[0].ready, 0xf);
	assert_int_equal(l.tx[0].stages[1], AL_ST_SSH_SERVER_BANNER);
	assert_true(txl_anomaly(&l, 0, AL_PROTO_SSH, "invalid_banner"));
	txl_free(&l);

	/* A client's first line must be its banner. */
	const struct txl_msg m3[] = {
		{ AL_TO_SERVER, "hello\r\nSSH-2.0-x\r\n", 0 },
		{ AL_TO_CLIENT, "SSH-2.0-y\r\n", 0 },
	};
	l = run_parser(c, m3, 2);
	assert_null(txl_str(&l, 0, AL_BUF_SSH_PROTO_CLIENT, 0));
	assert_string_equal(txl_str(&l, 0, AL_BUF_SSH_SOFTWARE_SERVER, 0), "y");
	assert_true(txl_anomaly(&l, 0, AL_PROTO_SSH, "invalid_banner"));
	txl_free(&l);

	/* 256 bytes and more: long_banner, still parsed (Suricata's limit). */
	memset(longb, 'a', sizeof(longb));
	memcpy(longb, "SSH-2.0-", 8);
	memcpy(longb + 300, "\r\n", 3);
	const struct txl_msg m4[] = { { AL_TO_SERVER, longb, 0 } };
	l = run_parser(c, m4, 1);
	assert_true(txl_anomaly(&l, 0, AL_PROTO_SSH, "long_banner"));
	assert_int_equal(txl_len(&l, 0, AL_BUF_SSH_SOFTWARE_CLIENT, 0), 292);
	txl_free(&l);
	al_ctx_free(c);

	/* Past line_max the banner is cut. */
	c = ctx(64);
	l = run_parser(c, m4, 1);
	assert_true(txl_anomaly(&l, 0, AL_PROTO_SSH, "long_banner"));
	assert_int_equal(txl_len(&l, 0, AL_BUF_SSH_SOFTWARE_CLIENT, 0), 64 - 8);
	txl_free(&l);
	/* A banner that never got its line end is taken at the close. */
	const struct txl_msg m5[] = { { AL_TO_CLIENT, "SSH-2.0-noeol", 0 } };
	l = run_parser(c, m5, 1);
	assert_string_equal(txl_str(&l, 0, AL_BUF_SSH_SOFTWARE_SERVER, 0), "noeol");
	txl_free(&l);
	assert_int_equal(al_ctx_mem_used(c), 0);
	al_ctx_free(c);
}

static void
test_records(void **state)
{
	(void)state;
	struct al_ctx *c = ctx(0);
	uint8_t buf[4096];
	struct txl l;
	uint32_t n;

	/* Packet length 1: invalid_record, nothing parsed after it. */
	memcpy(buf, "SSH-2.0-a\r\n\x00\x00\x00\x01\x00\x14", 17);
	n = 17 + kexinit(buf + 17, cli_lists, 4);
	const struct txl_msg m1[] = { { AL_TO_SERVER, (const char *)buf, n } };
	l = run_parser(c, m1, 1);
	assert_true(txl_anomaly(&l, 0, AL_PROTO_SSH, "invalid_record"));
	assert_int_equal(l.tx[0].stages[1], AL_ST_SSH_CLIENT_KEXINIT);
	assert_null(txl_str(&l, 0, AL_BUF_SSH_HASSH_CLIENT, 0));
	txl_free(&l);

	/* A KEXINIT of 64 KiB or more is not reassembled: its stage comes without HASSH. */
	memcpy(buf, "SSH-2.0-a\r\n\x00\x01\x20\x00\x04\x14", 17);
	const struct txl_msg m2[] = { { AL_TO_SERVER, (const char *)buf, 17 } };
	l = run_parser(c, m2, 1);
	assert_true(txl_anomaly(&l, 0, AL_PROTO_SSH, "long_kex_record"));
	assert_true(l.tx[0].ready & AL_ST_SSH_CLIENT_KEXINIT);
	assert_null(txl_str(&l, 0, AL_BUF_SSH_HASSH_CLIENT, 0));
	txl_free(&l);

	/* Name-lists overrunning the packet: invalid_kexinit, no HASSH. */
	memcpy(buf, "SSH-2.0-a\r\n", 11);
	n = 11 + kexinit(buf + 11, srv_lists, 4);
	put32(buf + 11 + 6 + 16, 5000);
	const struct txl_msg m3[] = { { AL_TO_CLIENT, (const char *)buf, n } };
	l = run_parser(c, m3, 1);
	assert_true(txl_anomaly(&l, 0, AL_PROTO_SSH, "invalid_kexinit"));
	assert_true(l.tx[0].ready & AL_ST_SSH_SERVER_KEXINIT);
	assert_null(txl_str(&l, 0, AL_BUF_SSH_HASSH_STRING_SERVER, 0));
	txl_free(&l);

	/* A KEXINIT cut by the close: its stage is final without HASSH. */
	memcpy(buf, "SSH-2.0-a\r\n", 11);
	n = 11 + kexinit(buf + 11, cli_lists, 4);
	const struct txl_msg m4[] = { { AL_TO_SERVER, (const char *)buf, n - 10 } };
	l = run_parser(c, m4, 1);
	assert_true(l.tx[0].ready & AL_ST_SSH_CLIENT_KEXINIT);
	assert_null(txl_str(&l, 0, AL_BUF_SSH_HASSH_CLIENT, 0));
	assert_int_equal(l.tx[0].anomalies, 0);
	txl_free(&l);
	assert_int_equal(al_ctx_mem_used(c), 0);
	al_ctx_free(c);
}

/* A gap inside a packet body keeps the framing; across a header it stops the side. */
static void
test_gaps(void **state)
{
	(void)state;
	struct al_ctx *c = ctx(0);
	const struct al_emit e = { .ctx = c, .cb = NULL, .arg = NULL };
	uint8_t pkt[2048];
	uint32_t n = packet(pkt, 2, 100);
	struct txl l = { 0 };
	const struct al_emit le = { .ctx = c, .cb = txl_cb, .arg = &l };
	void *st = al_ssh_parser.state_new(c, true);

	assert_int_equal(al_ssh_parser.feed(c, st, 0, (const uint8_t *)"SSH-2.0-a\r\n", 11, &e), 0);
	assert_int_equal(al_ssh_parser.feed(c, st, 0, pkt, 50, &e), 0);
	al_ssh_parser.gap(c, st, 0, n - 50);
	n = kexinit(pkt, cli_lists, 4);
	assert_int_equal(al_ssh_parser.feed(c, st, 0, pkt, n, &le), 0);
	assert_string_equal(txl_str(&l, 0, AL_BUF_SSH_HASSH_CLIENT, 0), CLI_HASSH);
	txl_free(&l);
	/* Server: a gap in its banner line drops that line only. */
	assert_int_equal(al_ssh_parser.feed(c, st, 1, (const uint8_t *)"SSH-2.0-lo", 10, &le), 0);
	al_ssh_parser.gap(c, st, 1, 5);
	assert_int_equal(al_ssh_parser.feed(
					 c, st, 1, (const uint8_t *)"st\r\nSSH-2.0-b\r\n", 15, &le),
			0);
	assert_string_equal(txl_str(&l, 0, AL_BUF_SSH_SOFTWARE_SERVER, 0), "b");
	txl_free(&l);
	al_ssh_parser.state_free(c, st);
	assert_int_equal(al_ctx_mem_used(c), 0);
	al_ctx_free(c);
}

/* A full arena stops the flow's parsing, counted, without harm. */
static void
test_memcap(void **state)
{
	(void)state;
	struct al_limits lim;
	struct al_ctx *c;
	struct session s;
	struct txl l = { 0 };
	static void *hog[2048];
	unsigned nh = 0;

	al_limits_default(&lim);
	lim.memcap = 1u << 20;
	c = al_ctx_create(&lim);
	assert_non_null(c);
	/* Leave one small block: the flow fits, its parser state and lines do not all. */
	while (nh < 2048 && (hog[nh] = al_alloc(c, 1024 - 16)) != NULL)
		nh++;
	al_free(c, hog[--nh]);
	build_session(&s);
	txl_run(c, 22, s.m, s.n, 0, &l);
	assert_true(al_ctx_counter(c, AL_CTR_MEMCAP) > 0);
	txl_free(&l);
	while (nh > 0)
		al_free(c, hog[--nh]);
	assert_int_equal(al_ctx_mem_used(c), 0);
	al_ctx_free(c);
}

static struct al_ctx *
replay(const char *path, struct txl *l)
{
	struct al_ctx *c = ctx(0);

	l->only = AL_PROTO_SSH;
	assert_true(alp_replay_file(c, path, txl_cb, l) > 0);
	assert_int_equal(al_ctx_mem_used(c), 0);
	return c;
}

static void
test_pcap_banner_only(void **state)
{
	(void)state;
	const char *path = TD_MORE "ssh-banner-only/input.pcap";
	struct txl l = { 0 };

	if (!txl_have(path))
		return;
	al_ctx_free(replay(path, &l));
	assert_int_equal(l.n, 1);
	/* No KEXINIT: those stages come at the close, without HASSH. */
	assert_int_equal(l.tx[0].stages[0], AL_ST_SSH_CLIENT_BANNER);
	assert_int_equal(l.tx[0].stages[1], AL_ST_SSH_SERVER_BANNER);
	assert_null(txl_str(&l, 0, AL_BUF_SSH_HASSH_CLIENT, 0));
	assert_null(txl_str(&l, 0, AL_BUF_SSH_HASSH_SERVER, 0));
	assert_string_equal(txl_str(&l, 0, AL_BUF_SSH_PROTO_CLIENT, 0), "2.0");
	assert_string_equal(txl_str(&l, 0, AL_BUF_SSH_PROTO_SERVER, 0), "2.0");
	assert_string_equal(
			txl_str(&l, 0, AL_BUF_SSH_SOFTWARE_CLIENT, 0), "OpenSSH_for_Windows_7.7");
	assert_string_equal(txl_str(&l, 0, AL_BUF_SSH_SOFTWARE_SERVER, 0), "OpenSSH_7.4");
	assert_int_equal(l.tx[0].anomalies, 0);
	txl_free(&l);
}

/* test.yaml of ssh-hassh and ssh-hassh-only: the hashes and the strings its rules look for. */
static void
check_hassh(const char *path)
{
	struct txl l = { 0 };

	if (!txl_have(path))
		return;
	al_ctx_free(replay(path, &l));
	assert_int_equal(l.n, 1);
	assert_int_equal(l.tx[0].ready, 0xf);
	assert_string_equal(txl_str(&l, 0, AL_BUF_SSH_HASSH_CLIENT, 0),
			"2dd6531c7e89d3c925db9214711be76a");
	assert_string_equal(txl_str(&l, 0, AL_BUF_SSH_HASSH_SERVER, 0),
			"6832f1ce43d4397c2c0a3e2f8c94334e");
	assert_non_null(strstr(txl_str(&l, 0, AL_BUF_SSH_HASSH_STRING_CLIENT, 0),
			"umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh."
			"com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@"
			"openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1"));
	assert_non_null(strstr(txl_str(&l, 0, AL_BUF_SSH_HASSH_STRING_SERVER, 0),
			"none,zlib@openssh.com"));
	assert_int_equal(l.tx[0].anomalies, 0);
	txl_free(&l);
}

static void
test_pcap_hassh(void **state)
{
	(void)state;
	check_hassh(TD_MORE "ssh-hassh/input.pcap");
	check_hassh(TD_MORE "ssh-hassh-only/input.pcap");
}

/* The client's KEXINIT comes in 64-byte segments; both sides send the same lists. */
static void
test_pcap_hassh_reassembled(void **state)
{
	(void)state;
	const char *path = TD_MORE "ssh-hassh-reassembled/input.pcap";
	struct txl l = { 0 };

	if (!txl_have(path))
		return;
	al_ctx_free(replay(path, &l));
	assert_int_equal(l.n, 1);
	assert_int_equal(l.tx[0].ready, 0xf);
	assert_string_equal(txl_str(&l, 0, AL_BUF_SSH_PROTO_CLIENT, 0), "1.99");
	assert_string_equal(txl_str(&l, 0, AL_BUF_SSH_HASSH_CLIENT, 0),
			"3cc67862bceac0f334c62ad1b76895b4");
	assert_string_equal(txl_str(&l, 0, AL_BUF_SSH_HASSH_SERVER, 0),
			"3cc67862bceac0f334c62ad1b76895b4");
	assert_non_null(strstr(txl_str(&l, 0, AL_BUF_SSH_HASSH_STRING_CLIENT, 0),
			"diffie-hellman-group1-sha1"));
	assert_non_null(strstr(txl_str(&l, 0, AL_BUF_SSH_HASSH_STRING_SERVER, 0),
			"diffie-hellman-group1-sha1"));
	assert_int_equal(l.tx[0].anomalies, 0);
	txl_free(&l);
}

/* ssh-newkeys (and ssh-frames on the same capture): NEWKEYS on both sides, then ciphertext
 * that must not be read as packets. */
static void
test_pcap_newkeys(void **state)
{
	(void)state;
	const char *path = VIGIL_TESTDATA "/suricata-verify/ssh-newkeys/input.pcap";
	struct txl l = { 0 };
	struct al_ctx *c;

	if (!txl_have(path))
		return;
	c = replay(path, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.tx[0].ready, 0xf);
	assert_string_equal(txl_str(&l, 0, AL_BUF_SSH_SOFTWARE_CLIENT, 0), "libssh-0.7.2");
	assert_string_equal(txl_str(&l, 0, AL_BUF_SSH_SOFTWARE_SERVER, 0), "OpenSSH_7.4");
	assert_non_null(strstr(txl_str(&l, 0, AL_BUF_SSH_HASSH_STRING_CLIENT, 0), "curve"));
	assert_int_equal(l.tx[0].anomalies, 0);
	for (unsigned a = 0; a < AL_SSH__ANOMALY_COUNT; a++)
		assert_int_equal(al_ctx_anomalies(c, AL_PROTO_SSH, a), 0);
	al_ctx_free(c);
	txl_free(&l);
}

/* Every SSH flow of the captures is detected as SSH, and nothing else is. */
static void
test_pcap_detection(void **state)
{
	(void)state;
	static const struct {
		const char *path;
		uint64_t ssh;
	} cases[] = {
		{ VIGIL_TESTDATA "/suricata-verify/ssh-newkeys/input.pcap", 1 },
		{ TD_MORE "ssh-banner-only/input.pcap", 1 },
		{ TD_MORE "ssh-frames/input.pcap", 1 },
		{ TD_MORE "ssh-hassh/input.pcap", 1 },
		{ TD_MORE "ssh-hassh-only/input.pcap", 1 },
		{ TD_MORE "ssh-hassh-reassembled/input.pcap", 1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct al_ctx *c;

		if (!txl_have(cases[i].path))
			continue;
		c = ctx(0);
		assert_true(alp_replay_file(c, cases[i].path, NULL, NULL) > 0);
		if (al_ctx_proto_flows(c, AL_PROTO_SSH) != cases[i].ssh)
			fail_msg("%s: %llu SSH flows", cases[i].path,
					(unsigned long long)al_ctx_proto_flows(c, AL_PROTO_SSH));
		assert_int_equal(al_ctx_proto_flows(c, AL_PROTO_SMTP) +
						 al_ctx_proto_flows(c, AL_PROTO_FTP),
				0);
		al_ctx_free(c);
	}
}

/* A server's text lines before its banner keep the question open; binary closes it. */
static void
test_probe(void **state)
{
	(void)state;
	const char *pre = "Hello there\r\nSSH-2.0-srv\r\n";
	bool more;

	assert_int_equal(al_probe((const uint8_t *)pre, (uint32_t)strlen(pre), true, 1, 40000, 22,
					 &more),
			AL_PROTO_SSH);
	assert_int_equal(al_probe((const uint8_t *)pre, 13, true, 1, 40000, 22, &more),
			AL_PROTO_NONE);
	assert_true(more);
	assert_int_equal(al_probe((const uint8_t *)pre, (uint32_t)strlen(pre), true, 0, 40000, 22,
					 &more),
			AL_PROTO_NONE);
	assert_false(more);
	assert_int_equal(al_probe((const uint8_t *)"\x01\x02\r\nSSH-2.0-x\r\n", 15, true, 1, 40000,
					 22, &more),
			AL_PROTO_NONE);
	assert_false(more);
	assert_int_equal(al_probe((const uint8_t *)"a\nb\nc\nd\ne\nSSH-2.0-x\n", 20, true, 1, 40000,
					 22, &more),
			AL_PROTO_NONE);
	assert_int_equal(al_probe((const uint8_t *)"SS", 2, true, 0, 40000, 22, &more),
			AL_PROTO_NONE);
	assert_true(more);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session),
		cmocka_unit_test(test_splits),
		cmocka_unit_test(test_banners),
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_gaps),
		cmocka_unit_test(test_memcap),
		cmocka_unit_test(test_pcap_banner_only),
		cmocka_unit_test(test_pcap_hassh),
		cmocka_unit_test(test_pcap_hassh_reassembled),
		cmocka_unit_test(test_pcap_newkeys),
		cmocka_unit_test(test_pcap_detection),
		cmocka_unit_test(test_probe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
