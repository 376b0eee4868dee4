/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * det_scan_tx over real transactions: sessions fed through the application layer's parsers
 * (al_feed), each stage reported by the parser scanned as the dataplane will; and replays of
 * suricata-verify captures whose rules use application-layer buffers, compared with the alerts
 * Suricata gives (test.yaml).
 */
#include <sys/stat.h>

#include "al.h"
#include "det_test.h"

#include "../applayer/al_pcap.h"

#define SVM_DIR VIGIL_TESTDATA "/suricata-verify-more"

#define TTX_MAX 256

/* A flow through the application layer and the signature engine. */
struct ttx {
	struct tdet t;
	struct al_ctx *ctx;
	struct al_flow *f;
	uint8_t proto;	 /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t port;	 /* server port */
	uint8_t fb[256]; /* the flow's flowbits */
	const uint8_t *seg;
	uint32_t seg_len;
	/* every match, in order, with the stage and direction it came at */
	uint32_t sid[TTX_MAX];
	uint8_t flags[TTX_MAX];
	uint8_t action[TTX_MAX];
	unsigned stage[TTX_MAX], dir[TTX_MAX];
	unsigned n;
	unsigned events;
};

static void
ttx_cb(void *arg, const struct al_tx *tx, unsigned stage, unsigned dir)
{
	struct ttx *x = arg;
	struct det_pkt p = tdet_pkt(x->proto, x->port, x->seg, x->seg_len);
	struct det_match m[32];
	int n;

	if (dir == AL_TO_CLIENT)
		p = tdet_reply(p);
	p.flags &= (uint8_t)~DET_PKT_FIRST;
	p.flowbits = x->fb;
	p.app_proto = tx->proto;
	n = det_scan_tx(x->t.w, &p, tx, stage, dir, m, 32);
	assert_true(n >= 0);
	x->events++;
	for (int i = 0; i < n && x->n < TTX_MAX; i++) {
		x->sid[x->n] = det_engine_rule_info(x->t.e, m[i].rule)->sid;
		x->flags[x->n] = m[i].flags;
		x->action[x->n] = m[i].action;
		x->stage[x->n] = stage;
		x->dir[x->n] = dir;
		x->n++;
	}
}

static void
ttx_open(struct ttx *x, const char *rules, uint8_t proto, uint16_t port)
{
	memset(x, 0, sizeof(*x));
	tdet_open(&x->t, rules);
	x->ctx = al_ctx_create(NULL);
	assert_non_null(x->ctx);
	x->f = al_flow_new(x->ctx, proto == IPPROTO_TCP, 40000, port);
	assert_non_null(x->f);
	x->proto = proto;
	x->port = port;
	assert_true(det_flowbits_size(x->t.e) <= sizeof(x->fb));
}

static void
ttx_close(struct ttx *x)
{
	al_flow_free(x->ctx, x->f);
	al_ctx_free(x->ctx);
	tdet_close(&x->t);
}

static void
ttx_feed(struct ttx *x, unsigned dir, const char *s)
{
	x->seg = (const uint8_t *)s;
	x->seg_len = (uint32_t)strlen(s);
	(void)al_feed(x->ctx, x->f, dir, x->seg, x->seg_len, ttx_cb, x);
}

/* How often sid matched (and, with dir < 2, in that direction). */
static unsigned
ttx_count(const struct ttx *x, uint32_t sid, unsigned dir)
{
	unsigned c = 0;

	for (unsigned i = 0; i < x->n; i++)
		c += x->sid[i] == sid && (dir > 1 || x->dir[i] == dir);
	return c;
}

static const char *const smtp_session[][2] = {
	{ "c", "220 mail.example.com ESMTP\r\n" },
	{ "s", "EHLO Client.Example.ORG\r\n" },
	{ "c", "250 mail.example.com\r\n" },
	{ "s", "MAIL FROM:<alice@example.com>\r\n" },
	{ "c", "250 ok\r\n" },
	{ "s", "RCPT TO:<bob@example.net>\r\n" },
	{ "c", "250 ok\r\n" },
	{ "s", "RCPT TO:<carol@example.org>\r\n" },
	{ "c", "250 ok\r\n" },
	{ "s", "DATA\r\n" },
	{ "c", "354 go ahead\r\n" },
	{ "s", "Subject: report\r\n\r\nthe   secret  plans\r\n.\r\n" },
	{ "c", "250 queued\r\n" },
	{ "s", "QUIT\r\n" },
	{ "c", "221 bye\r\n" },
};

static void
smtp_run(struct ttx *x)
{
	for (size_t i = 0; i < sizeof(smtp_session) / sizeof(smtp_session[0]); i++)
		ttx_feed(x, smtp_session[i][0][0] == 's' ? AL_TO_SERVER : AL_TO_CLIENT,
				smtp_session[i][1]);
}

/* SSH: bidirectional buffers make a rule per direction; the header is the packet's. */
static void
test_ssh_directions(void **state)
{
	struct ttx x;

	(void)state;
	ttx_open(&x,
			"alert ssh any any -> any any (ssh.software; content:\"OpenSSH\"; sid:1;)\n"
			"alert ssh any any -> any any (flow:to_server; ssh.software; "
			"content:\"OpenSSH\"; sid:2;)\n"
			"alert ssh any any -> any any (ssh.proto; content:\"2.0\"; bsize:3; sid:3;)\n"
			"alert ssh any any -> any any (ssh.software; content:\"_7.\"; sid:4;)\n"
			"alert ssh $HOME_NET any -> any 22 (ssh.software; content:\"OpenSSH\"; sid:5;)\n"
			"alert ssh any 22 -> $HOME_NET any (ssh.software; content:\"OpenSSH\"; sid:6;)\n"
			"alert ssh any any -> any any (ssh.softwareversion:OpenSSH_8; sid:7;)\n"
			"alert ssh any any -> any any (ssh.protoversion:2_compat; sid:8;)\n"
			"alert tcp any any -> any any (ssh.proto; content:\"2.0\"; sid:9;)\n"
			"alert ssh any any -> any any (ssh.software; content:\"openssh\"; sid:10;)\n"
			"alert ssh any any -> any any (ssh.software; to_lowercase; "
			"content:\"openssh_8\"; sid:11;)\n",
			IPPROTO_TCP, 22);
	ttx_feed(&x, AL_TO_SERVER, "SSH-2.0-OpenSSH_8.9p1 Ubuntu\r\n");
	ttx_feed(&x, AL_TO_CLIENT, "SSH-2.0-OpenSSH_7.4\r\n");
	assert_true(x.events >= 2);
	/* no flow direction: each banner */
	assert_int_equal(ttx_count(&x, 1, AL_TO_SERVER), 1);
	assert_int_equal(ttx_count(&x, 1, AL_TO_CLIENT), 1);
	assert_int_equal(ttx_count(&x, 2, 2), 1);
	assert_int_equal(ttx_count(&x, 2, AL_TO_SERVER), 1);
	assert_int_equal(ttx_count(&x, 3, 2), 2);
	assert_int_equal(ttx_count(&x, 4, AL_TO_CLIENT), 1);
	assert_int_equal(ttx_count(&x, 4, 2), 1);
	/* the addresses are those of the packet in the rule's direction */
	assert_int_equal(ttx_count(&x, 5, 2), 1);
	assert_int_equal(ttx_count(&x, 5, AL_TO_SERVER), 1);
	assert_int_equal(ttx_count(&x, 6, 2), 1);
	assert_int_equal(ttx_count(&x, 6, AL_TO_CLIENT), 1);
	assert_int_equal(ttx_count(&x, 7, AL_TO_SERVER), 1);
	assert_int_equal(ttx_count(&x, 7, 2), 1);
	assert_int_equal(ttx_count(&x, 8, 2), 2);
	assert_int_equal(ttx_count(&x, 9, 2), 2);
	/* contents are case-sensitive unless nocase; a transform changes the buffer */
	assert_int_equal(ttx_count(&x, 10, 2), 0);
	assert_int_equal(ttx_count(&x, 11, 2), 1);
	for (unsigned i = 0; i < x.n; i++)
		assert_int_equal(x.flags[i] & (DET_M_TX | DET_M_FLOW | DET_M_ALERT),
				DET_M_TX | DET_M_FLOW | DET_M_ALERT);
	assert_int_equal(det_worker_stats(x.t.w)->tx_events, x.events);
	ttx_close(&x);
}

/* SMTP: a rule on several stages is decided once, when the last one is ready. */
static void
test_smtp_stages_and_instances(void **state)
{
	struct ttx x;

	(void)state;
	ttx_open(&x,
			"alert smtp any any -> any any (smtp.mail_from; content:\"alice\"; sid:1;)\n"
			"alert smtp any any -> any any (smtp.mail_from; content:\"alice\"; "
			"file.data; content:\"secret\"; sid:2;)\n"
			"alert smtp any any -> any any (smtp.rcpt_to; content:\"carol\"; sid:3;)\n"
			/* two namings of a buffer of several instances: any instance each */
			"alert smtp any any -> any any (smtp.rcpt_to; content:\"bob\"; "
			"smtp.rcpt_to; content:\"carol\"; sid:4;)\n"
			/* one naming: one instance holds both */
			"alert smtp any any -> any any (smtp.rcpt_to; content:\"bob\"; "
			"content:\"carol\"; distance:0; sid:5;)\n"
			"alert smtp any any -> any any (smtp.rcpt_to; bsize:<10; sid:6;)\n"
			"alert smtp any any -> any any (smtp.rcpt_to; bsize:19; sid:7;)\n"
			"alert smtp any any -> any any (smtp.helo; dotprefix; to_lowercase; "
			"content:\".example.org\"; endswith; sid:8;)\n"
			"alert smtp any any -> any any (smtp.helo; dotprefix; "
			"content:\".example.org\"; endswith; sid:9;)\n"
			"alert smtp any any -> any any (file.data; compress_whitespace; "
			"content:\"the secret plans\"; sid:10;)\n"
			"alert smtp any any -> any any (file.data; strip_whitespace; "
			"content:\"thesecretplans\"; sid:11;)\n"
			"alert smtp any any -> any any (file.data; content:\"the secret plans\"; "
			"sid:12;)\n"
			/* the payload of the packet that completed the stage: the message itself */
			"alert smtp any any -> any any (content:\"plans\"; file.data; "
			"content:\"report\"; sid:13;)\n"
			"alert smtp any any -> any any (content:\"RCPT\"; file.data; "
			"content:\"report\"; sid:14;)\n"
			"alert smtp any any -> any any (smtp.mail_from; content:\"alice\"; "
			"startswith; sid:15;)\n"
			"alert smtp any any -> any any (smtp.mail_from; content:\"<alice\"; "
			"startswith; content:\">\"; endswith; sid:16;)\n"
			"alert ftp any any -> any any (ftp.command; content:\"DATA\"; sid:17;)\n",
			IPPROTO_TCP, 25);
	smtp_run(&x);
	assert_int_equal(ttx_count(&x, 1, 2), 1);
	assert_int_equal(x.stage[0], AL_ST_SMTP_ENVELOPE);
	assert_int_equal(ttx_count(&x, 2, 2), 1);
	for (unsigned i = 0; i < x.n; i++)
		if (x.sid[i] == 2)
			assert_int_equal(x.stage[i], AL_ST_SMTP_DATA);
	assert_int_equal(ttx_count(&x, 3, 2), 1);
	assert_int_equal(ttx_count(&x, 4, 2), 1);
	assert_int_equal(ttx_count(&x, 5, 2), 0);
	assert_int_equal(ttx_count(&x, 6, 2), 0);
	assert_int_equal(ttx_count(&x, 7, 2), 1); /* <carol@example.org> */
	assert_int_equal(ttx_count(&x, 8, 2), 1);
	assert_int_equal(ttx_count(&x, 9, 2), 0); /* the HELO is "Client.Example.ORG" */
	assert_int_equal(ttx_count(&x, 10, 2), 1);
	assert_int_equal(ttx_count(&x, 11, 2), 1);
	assert_int_equal(ttx_count(&x, 12, 2), 0);
	assert_int_equal(ttx_count(&x, 13, 2), 1);
	assert_int_equal(ttx_count(&x, 14, 2), 0);
	assert_int_equal(ttx_count(&x, 15, 2), 0);
	assert_int_equal(ttx_count(&x, 16, 2), 1);
	assert_int_equal(ttx_count(&x, 17, 2), 0);
	ttx_close(&x);
}

/* Order, pass, thresholds and flowbits are those of det_scan_packet, shared with packets. */
static void
test_verdicts_and_state(void **state)
{
	struct ttx x;
	struct det_match m[8];
	struct det_pkt p;
	int n;

	(void)state;
	ttx_open(&x,
			"alert ftp any any -> any any (ftp.command; content:\"RETR\"; priority:3; "
			"sid:1;)\n"
			"drop ftp any any -> any any (ftp.command; content:\"RETR\"; "
			"ftp.command_data; content:\"passwd\"; sid:2;)\n"
			"alert ftp any any -> any any (ftp.command; content:\"USER\"; "
			"flowbits:set,ftp.user; flowbits:noalert; sid:3;)\n"
			"alert ftp any any -> any any (ftp.command; content:\"PASS\"; "
			"flowbits:isset,ftp.user; sid:4;)\n"
			"alert tcp any any -> any any (content:\"QUIT\"; flowbits:isset,ftp.user; "
			"dsize:6; sid:5;)\n"
			"alert ftp any any -> any any (ftp.reply; content:\"no\"; bsize:2; "
			"threshold:type limit, track by_src, count 1, seconds 60; sid:6;)\n"
			"pass ftp any any -> any any (ftp.command; content:\"STOR\"; sid:7;)\n"
			"alert ftp any any -> any any (ftp.command; content:\"STOR\"; sid:8;)\n"
			"alert ftp any any -> any any (ftp.command; bsize:4; ftp.command_data; "
			"bsize:>20; sid:9;)\n",
			IPPROTO_TCP, 21);
	ttx_feed(&x, AL_TO_CLIENT, "220 ftp ready\r\n");
	ttx_feed(&x, AL_TO_SERVER, "USER anonymous\r\n");
	ttx_feed(&x, AL_TO_CLIENT, "331 password\r\n");
	ttx_feed(&x, AL_TO_SERVER, "PASS guest\r\n");
	ttx_feed(&x, AL_TO_CLIENT, "530 no\r\n");
	ttx_feed(&x, AL_TO_SERVER, "PASS guest2\r\n");
	ttx_feed(&x, AL_TO_CLIENT, "530 no\r\n");
	ttx_feed(&x, AL_TO_SERVER, "RETR /etc/passwd\r\n");
	ttx_feed(&x, AL_TO_CLIENT, "550 no\r\n");
	ttx_feed(&x, AL_TO_SERVER, "STOR /tmp/averyveryverylongname\r\n");
	/* the setter matches without alerting; its bit is the flow's */
	assert_int_equal(ttx_count(&x, 3, 2), 1);
	for (unsigned i = 0; i < x.n; i++)
		if (x.sid[i] == 3)
			assert_false(x.flags[i] & DET_M_ALERT);
	assert_int_equal(ttx_count(&x, 4, 2), 2);
	/* limit 1: the action every time, the alert once */
	assert_int_equal(ttx_count(&x, 6, 2), 3); /* 530, 530, 550 */
	{
		unsigned alerts = 0;

		for (unsigned i = 0; i < x.n; i++)
			if (x.sid[i] == 6)
				alerts += (x.flags[i] & DET_M_ALERT) != 0;
		assert_int_equal(alerts, 1);
	}
	/* drop before alert */
	for (unsigned i = 0; i < x.n; i++)
		if (x.sid[i] == 1) {
			assert_true(i > 0);
			assert_int_equal(x.sid[i - 1], 2);
			assert_int_equal(x.action[i - 1], DET_ACT_DROP);
		}
	assert_int_equal(ttx_count(&x, 2, 2), 1);
	/* a pass lets the transaction through: nothing else of it */
	assert_int_equal(ttx_count(&x, 7, 2), 1);
	assert_int_equal(ttx_count(&x, 8, 2), 0);
	assert_int_equal(ttx_count(&x, 9, 2), 0); /* "STOR" has 4 bytes, but pass wins */
	for (unsigned i = 0; i < x.n; i++)
		if (x.sid[i] == 7)
			assert_int_equal(x.flags[i], DET_M_TX | DET_M_FLOW);
	/* a packet rule sees the bit a transaction rule set */
	p = tdet_pkt(IPPROTO_TCP, 21, "QUIT\r\n", 6);
	p.flowbits = x.fb;
	n = det_scan_packet(x.t.w, &p, m, 8);
	assert_int_equal(n, 1);
	assert_int_equal(det_engine_rule_info(x.t.e, m[0].rule)->sid, 5);
	assert_false(m[0].flags & DET_M_TX);
	ttx_close(&x);
}

/* Transactions of a protocol see only its rules; the rule's transport must be the flow's. */
static void
test_protocol_and_transport(void **state)
{
	struct ttx x;

	(void)state;
	ttx_open(&x,
			"alert udp any any -> any any (dns.query; content:\"x\"; sid:1;)\n"
			"alert ip any any -> any any (smtp.helo; content:\"Client\"; sid:2;)\n"
			"alert tcp any any -> any any (smtp.helo; content:\"Client\"; sid:3;)\n"
			"alert smtp any any -> any 26 (smtp.helo; content:\"Client\"; sid:4;)\n"
			"alert smtp any any -> any any (smtp.helo; content:\"Client\"; "
			"app-layer-protocol:smtp; sid:5;)\n"
			"alert smtp any any -> any any (smtp.helo; content:\"Client\"; "
			"app-layer-protocol:!smtp; sid:6;)\n",
			IPPROTO_TCP, 25);
	smtp_run(&x);
	assert_int_equal(ttx_count(&x, 1, 2), 0);
	assert_int_equal(ttx_count(&x, 2, 2), 1);
	assert_int_equal(ttx_count(&x, 3, 2), 1);
	assert_int_equal(ttx_count(&x, 4, 2), 0);
	assert_int_equal(ttx_count(&x, 5, 2), 1);
	assert_int_equal(ttx_count(&x, 6, 2), 0);
	ttx_close(&x);
}

/* ---- suricata-verify replays ---- */

struct replay {
	struct tdet t;
	uint8_t fb[ALP_MAX_FLOWS][64];
	unsigned counts[64]; /* alerts per sid (sids below 64) */
	unsigned big[8];     /* sids 7000..7007 */
};

static void
replay_cb(void *arg, const struct al_tx *tx, unsigned stage, unsigned dir)
{
	struct replay *r = arg;
	struct det_pkt p = tdet_pkt(IPPROTO_TCP, 0, NULL, 0);
	struct det_match m[32];
	int n;

	if (dir == AL_TO_CLIENT)
		p = tdet_reply(p);
	p.flags &= (uint8_t)~DET_PKT_FIRST;
	p.app_proto = tx->proto;
	n = det_scan_tx(r->t.w, &p, tx, stage, dir, m, 32);
	for (int i = 0; i < n; i++) {
		uint32_t sid = det_engine_rule_info(r->t.e, m[i].rule)->sid;

		if (!(m[i].flags & DET_M_ALERT))
			continue;
		if (sid < 64)
			r->counts[sid]++;
		else if (sid >= 7000 && sid < 7008)
			r->big[sid - 7000]++;
	}
}

static bool
read_text(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return false;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	return true;
}

static void
test_suricata_verify(void **state)
{
	/* alerts per sid as test.yaml says (the newest Suricata's where versions differ) */
	static const struct {
		const char *dir;
		struct {
			uint32_t sid;
			unsigned count;
		} want[6];
	} cases[] = {
		{ "ssh-banner-only", { { 1, 2 }, { 3, 2 } } },
		{ "ssh-hassh", { { 1, 1 }, { 2, 1 }, { 3, 1 }, { 4, 1 } } },
		{ "ssh-hassh-only", { { 1, 1 }, { 2, 1 }, { 3, 1 }, { 4, 1 } } },
		{ "ssh-hassh-reassembled", { { 1, 1 }, { 2, 1 }, { 3, 1 }, { 4, 1 } } },
		{ "smtp-keywords",
				{ { 1, 1 }, { 2, 1 }, { 3, 1 }, { 10, 0 }, { 12, 0 }, { 13, 0 } } },
		{ "smtp-file-data-01", { { 1, 1 } } },
		{ "smtp-file-data-02", { { 1, 1 } } },
		{ "ftp-retr-bypass-baseline", { { 7001, 1 }, { 7002, 1 } } },
	};
	struct stat st;
	unsigned ran = 0;

	(void)state;
	if (stat(SVM_DIR, &st) != 0) {
		print_message("testdata not found at %s: skipped\n", SVM_DIR);
		skip();
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static char rules[16384];
		char path[512];
		struct replay *r = calloc(1, sizeof(*r));
		struct al_ctx *ctx;
		int pk;

		assert_non_null(r);
		snprintf(path, sizeof(path), "%s/%s/test.rules", SVM_DIR, cases[i].dir);
		if (!read_text(path, rules, sizeof(rules))) {
			print_message("%s: no rules, skipped\n", cases[i].dir);
			free(r);
			continue;
		}
		tdet_open(&r->t, rules);
		ctx = al_ctx_create(NULL);
		assert_non_null(ctx);
		snprintf(path, sizeof(path), "%s/%s/input.pcap", SVM_DIR, cases[i].dir);
		pk = alp_replay_file(ctx, path, replay_cb, r);
		assert_true(pk > 0);
		for (size_t k = 0; k < 6 && cases[i].want[k].sid != 0; k++) {
			uint32_t sid = cases[i].want[k].sid;
			unsigned got = sid < 64 ? r->counts[sid] : r->big[sid - 7000];

			if (got != cases[i].want[k].count)
				fail_msg("%s: sid %u alerted %u times, Suricata %u", cases[i].dir,
						sid, got, cases[i].want[k].count);
		}
		al_ctx_free(ctx);
		tdet_close(&r->t);
		free(r);
		ran++;
	}
	assert_true(ran > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ssh_directions),
		cmocka_unit_test(test_smtp_stages_and_instances),
		cmocka_unit_test(test_verdicts_and_state),
		cmocka_unit_test(test_protocol_and_transport),
		cmocka_unit_test(test_suricata_verify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
