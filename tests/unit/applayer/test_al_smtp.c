/* SPDX-License-Identifier: BSD-3-Clause */
/* The SMTP parser: envelope, DATA and BDAT, pipelining, RSET, STARTTLS, anomalies, limits,
 * splits, and the smtp-* and mime_smtp-* captures. */
#include "vg_test.h"

#include "al.h"
#include "al_pcap.h"
#include "al_smtp.h"
#include "al_txlog.h"

#define TD_MORE VIGIL_TESTDATA "/suricata-verify-more/"

#define S AL_TO_CLIENT
#define C AL_TO_SERVER

/* A pipelining server: two mails (DATA, then BDAT) with RSET between, a third one left at
 * MAIL FROM by QUIT. */
static const struct txl_msg session[] = {
	{ S, "220-mx.example.org ESMTP Postfix\r\n220 second line\r\n", 0 },
	{ C, "EHLO client.example.org\r\n", 0 },
	{ S, "250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250 CHUNKING\r\n", 0 },
	{ C,
			"MAIL FROM:<alice@example.org> SIZE=1234\r\nRCPT TO:<bob@example.net>\r\n"
			"RCPT TO: <carol@example.net> NOTIFY=NEVER\r\nDATA\r\n",
			0 },
	{ S, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n",
			0 },
	{ C, "Subject: test\r\n\r\nline one\r\n..leading dot\r\n.\r\n", 0 },
	{ S, "250 2.0.0 Ok: queued\r\n", 0 },
	{ C, "RSET\r\n", 0 },
	{ S, "250 2.0.0 Ok\r\n", 0 },
	{ C, "MAIL FROM:<>\r\nRCPT TO:<x@y>\r\nBDAT 10\r\n0123456789BDAT 5 LAST\r\nabcde", 0 },
	{ S, "250 Ok\r\n250 Ok\r\n250 10 octets\r\n250 queued\r\n", 0 },
	{ C, "MAIL FROM:<third@x>\r\n", 0 },
	{ S, "250 Ok\r\n", 0 },
	{ C, "QUIT\r\n", 0 },
	{ S, "221 Bye\r\n", 0 },
};

static struct al_ctx *
ctx(uint32_t line_max, uint32_t body)
{
	struct al_limits l;

	al_limits_default(&l);
	l.memcap = 4u << 20;
	if (line_max != 0)
		l.line_max = line_max;
	if (body != 0)
		l.http_req_body = body;
	return al_ctx_create(&l);
}

static void
check_session(const struct txl *l)
{
	assert_int_equal(l->n, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(l->tx[i].index, i);
		assert_int_equal(l->tx[i].anomalies, 0);
		assert_string_equal(txl_str(l, i, AL_BUF_SMTP_HELO, 0), "client.example.org");
	}
	/* ENVELOPE at DATA, from the client's side; DATA at the "." */
	assert_int_equal(l->tx[0].n_stages, 2);
	assert_int_equal(l->tx[0].stages[0], AL_ST_SMTP_ENVELOPE);
	assert_int_equal(l->tx[0].dirs[0], AL_TO_SERVER);
	assert_int_equal(l->tx[0].stages[1], AL_ST_SMTP_DATA);
	assert_string_equal(txl_str(l, 0, AL_BUF_SMTP_MAIL_FROM, 0), "<alice@example.org>");
	assert_string_equal(txl_str(l, 0, AL_BUF_SMTP_RCPT_TO, 0), "<bob@example.net>");
	assert_string_equal(txl_str(l, 0, AL_BUF_SMTP_RCPT_TO, 1), "<carol@example.net>");
	assert_null(txl_str(l, 0, AL_BUF_SMTP_RCPT_TO, 2));
	/* As sent: the stuffed dot stays, the final ".\r\n" does not. */
	assert_string_equal(txl_str(l, 0, AL_BUF_SMTP_DATA, 0),
			"Subject: test\r\n\r\nline one\r\n..leading dot\r\n");
	/* BDAT: the chunks joined. */
	assert_int_equal(l->tx[1].ready, AL_ST_SMTP_ENVELOPE | AL_ST_SMTP_DATA);
	assert_string_equal(txl_str(l, 1, AL_BUF_SMTP_MAIL_FROM, 0), "<>");
	assert_string_equal(txl_str(l, 1, AL_BUF_SMTP_RCPT_TO, 0), "<x@y>");
	assert_string_equal(txl_str(l, 1, AL_BUF_SMTP_DATA, 0), "0123456789abcde");
	/* QUIT ends a mail without data: ENVELOPE alone. */
	assert_int_equal(l->tx[2].ready, AL_ST_SMTP_ENVELOPE);
	assert_string_equal(txl_str(l, 2, AL_BUF_SMTP_MAIL_FROM, 0), "<third@x>");
	assert_null(txl_str(l, 2, AL_BUF_SMTP_RCPT_TO, 0));
}

static void
test_session(void **state)
{
	(void)state;
	struct al_ctx *c = ctx(0, 0);
	struct txl l = { 0 };

	assert_int_equal(txl_run(c, 2525, session, sizeof(session) / sizeof(session[0]), 0, &l),
			AL_PROTO_SMTP);
	check_session(&l);
	for (unsigned a = 0; a < AL_SMTP__ANOMALY_COUNT; a++)
		assert_int_equal(al_ctx_anomalies(c, AL_PROTO_SMTP, a), 0);
	txl_free(&l);
	assert_int_equal(al_ctx_mem_used(c), 0);
	al_ctx_free(c);
}

static void
test_splits(void **state)
{
	(void)state;
	struct al_ctx *c = ctx(0, 0);
	const unsigned n = sizeof(session) / sizeof(session[0]);
	struct txl whole = { 0 };
	char why[160];

	txl_run(c, 25, session, n, 0, &whole);
	check_session(&whole);
	for (uint32_t chunk = 1; chunk <= 17; chunk += 2) {
		struct txl l = { 0 };

		assert_int_equal(txl_run(c, 25, session, n, chunk, &l), AL_PROTO_SMTP);
		if (!txl_equal(&whole, &l, why, sizeof(why)))
			fail_msg("chunk %u: %s", chunk, why);
		txl_free(&l);
	}
	txl_free(&whole);
	assert_int_equal(al_ctx_mem_used(c), 0);
	al_ctx_free(c);
}

/* Without PIPELINING the message starts at the 354; a rejected DATA ends the mail. */
static void
test_no_pipelining(void **state)
{
	(void)state;
	struct al_ctx *c = ctx(0, 0);
	struct txl l = { 0 };
	const struct txl_msg m[] = {
		{ S, "220 mail ESMTP\r\n", 0 },
		{ C, "HELO me\r\n", 0 },
		{ S, "250 hi\r\n", 0 },
		{ C, "MAIL FROM:<a@b>\r\n", 0 },
		{ S, "250 ok\r\n", 0 },
		{ C, "DATA\r\n", 0 },
		{ S, "554 no valid recipients\r\n", 0 },
		{ C, "RCPT TO:<c@d>\r\n", 0 },
		{ S, "250 ok\r\n", 0 },
		{ C, "DATA\r\n", 0 },
		{ S, "354 go\r\n", 0 },
		{ C, "hello\r\n.\r\n", 0 },
		{ S, "250 ok\r\n", 0 },
		{ C, "QUIT\r\n", 0 },
		{ S, "221 bye\r\n", 0 },
	};

	assert_int_equal(txl_run(c, 25, m, sizeof(m) / sizeof(m[0]), 0, &l), AL_PROTO_SMTP);
	assert_int_equal(l.n, 2);
	/* The refused DATA ends the mail: its DATA stage comes without a message. */
	assert_int_equal(l.tx[0].ready, AL_ST_SMTP_ENVELOPE | AL_ST_SMTP_DATA);
	assert_int_equal(l.tx[0].dirs[1], AL_TO_CLIENT);
	assert_null(txl_str(&l, 0, AL_BUF_SMTP_DATA, 0));
	assert_true(txl_anomaly(&l, 0, AL_PROTO_SMTP, "data_command_rejected"));
	assert_string_equal(txl_str(&l, 0, AL_BUF_SMTP_MAIL_FROM, 0), "<a@b>");
	assert_string_equal(txl_str(&l, 1, AL_BUF_SMTP_RCPT_TO, 0), "<c@d>");
	assert_string_equal(txl_str(&l, 1, AL_BUF_SMTP_DATA, 0), "hello\r\n");
	assert_string_equal(txl_str(&l, 1, AL_BUF_SMTP_HELO, 0), "me");
	txl_free(&l);
	assert_int_equal(al_ctx_mem_used(c), 0);
	al_ctx_free(c);
}

static struct txl
run(struct al_ctx *c, const struct txl_msg *m, unsigned n, int *rc)
{
	struct txl l = { 0 };
	int r = txl_run_parser(c, &al_smtp_parser, m, n, 0, &l);

	if (rc != NULL)
		*rc = r;
	return l;
}

/* The events of Suricata's smtp-events.rules, each from the exchange that raises it. */
static void
test_anomalies(void **state)
{
	(void)state;
	struct al_ctx *c = ctx(0, 0);
	struct txl l;
	int rc;

	const struct txl_msg m1[] = {
		{ C, "EHLO x\r\n", 0 },
		{ S, "250 ok\r\n250 extra\r\n2x0 bad\r\n", 0 },
	};
	l = run(c, m1, 2, NULL);
	assert_true(txl_anomaly(&l, 0, AL_PROTO_SMTP, "no_server_welcome_message"));
	assert_true(txl_anomaly(&l, 0, AL_PROTO_SMTP, "unable_to_match_reply_with_request"));
	assert_true(txl_anomaly(&l, 0, AL_PROTO_SMTP, "invalid_reply"));
	txl_free(&l);

	/* STARTTLS refused, then accepted: the rest is TLS, the parser stops. */
	const struct txl_msg m2[] = {
		{ S, "220 hi ESMTP\r\n", 0 },
		{ C, "EHLO x\r\nSTARTTLS\r\n", 0 },
		{ S, "250 ok\r\n454 TLS not available\r\n", 0 },
		{ C, "STARTTLS\r\n", 0 },
		{ S, "220 go ahead\r\n", 0 },
		{ C, "\x16\x03\x01\x00\x05hello", 10 },
	};
	l = run(c, m2, 6, &rc);
	assert_int_equal(rc, -1);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.tx[0].ready, AL_ST_SMTP_ENVELOPE);
	assert_true(txl_anomaly(&l, 0, AL_PROTO_SMTP, "tls_rejected"));
	txl_free(&l);

	/* A command before DATA was answered (no PIPELINING); duplicates; a long command. */
	char longcmd[700];
	memset(longcmd, 'a', sizeof(longcmd));
	memcpy(longcmd, "MAIL FROM:<", 11);
	memcpy(longcmd + 600, ">\r\n", 4);
	const struct txl_msg m3[] = {
		{ S, "220 hi ESMTP\r\n", 0 },
		{ C, "HELO a\r\nHELO b\r\nMAIL FROM:<a@b>\r\n", 0 },
		{ C, longcmd, 0 },
		{ C, "DATA\r\nhello\r\n", 0 },
	};
	l = run(c, m3, 4, NULL);
	assert_true(txl_anomaly(&l, 0, AL_PROTO_SMTP, "duplicate_fields"));
	assert_true(txl_anomaly(&l, 0, AL_PROTO_SMTP, "max_command_line_len_exceeded"));
	assert_true(txl_anomaly(&l, 0, AL_PROTO_SMTP, "invalid_pipelined_sequence"));
	assert_false(txl_anomaly(&l, 0, AL_PROTO_SMTP, "truncated_line"));
	assert_string_equal(txl_str(&l, 0, AL_BUF_SMTP_HELO, 0), "a");
	assert_string_equal(txl_str(&l, 0, AL_BUF_SMTP_MAIL_FROM, 0), "<a@b>");
	txl_free(&l);

	/* BDAT: no size; a chunk whose size stops inside a line followed by no command. */
	const struct txl_msg m4[] = {
		{ S, "220 hi ESMTP\r\n", 0 },
		{ C, "EHLO a\r\nMAIL FROM:<a@b>\r\nBDAT x\r\nBDAT 5\r\nhello world\r\n", 0 },
	};
	l = run(c, m4, 2, NULL);
	assert_true(txl_anomaly(&l, 0, AL_PROTO_SMTP, "invalid_bdat"));
	assert_true(txl_anomaly(&l, 0, AL_PROTO_SMTP, "bdat_chunk_len_exceeded"));
	/* The client closed inside the mail: its data so far is final. */
	assert_string_equal(txl_str(&l, 0, AL_BUF_SMTP_DATA, 0), "hello");
	txl_free(&l);

	/* A reply line over RFC 5321's 512 octets. */
	char longreply[600];
	memset(longreply, 'r', sizeof(longreply));
	memcpy(longreply, "220 ", 4);
	memcpy(longreply + 580, "\r\n", 3);
	const struct txl_msg m5[] = { { S, longreply, 0 }, { C, "QUIT\r\n", 0 } };
	l = run(c, m5, 2, NULL);
	assert_int_equal(l.n, 0);
	assert_int_equal(
			al_ctx_anomalies(c, AL_PROTO_SMTP, AL_SMTP_MAX_REPLY_LINE_LEN_EXCEEDED), 1);
	txl_free(&l);
	assert_int_equal(al_ctx_mem_used(c), 0);
	al_ctx_free(c);
}

static void
test_limits(void **state)
{
	(void)state;
	struct al_ctx *c = ctx(64, 100);
	static char rcpts[101 * 20 + 1];
	char data[400];
	struct txl l;

	/* line_max: a line is cut; http_req_body: the message is cut. */
	memset(data, 'd', sizeof(data));
	memcpy(data + 300, "\r\n.\r\n", 6);
	const struct txl_msg m1[] = {
		{ S, "220 hi ESMTP\r\n", 0 },
		{ C,
				"EHLO a\r\nMAIL FROM:<a@b>\r\nRCPT TO:<0123456789012345678901234567890123456789"
				"0123456789012345678901234567890123456789@x>\r\nDATA\r\n",
				0 },
		{ S, "250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n", 0 },
		{ C, data, 0 },
		{ S, "250 ok\r\n", 0 },
	};
	l = run(c, m1, 5, NULL);
	assert_int_equal(l.n, 1);
	assert_true(txl_anomaly(&l, 0, AL_PROTO_SMTP, "truncated_line"));
	assert_int_equal(txl_len(&l, 0, AL_BUF_SMTP_RCPT_TO, 0), 64 - 8);
	assert_true(txl_anomaly(&l, 0, AL_PROTO_SMTP, "data_limit"));
	assert_int_equal(txl_len(&l, 0, AL_BUF_SMTP_DATA, 0), 100);
	assert_int_equal(l.tx[0].ready, AL_ST_SMTP_ENVELOPE | AL_ST_SMTP_DATA);
	txl_free(&l);

	/* 100 recipients are kept, the 101st is counted. */
	for (int i = 0; i < 101; i++)
		snprintf(rcpts + i * 20, 21, "RCPT TO:<r%03d@x.y>\r\n", i);
	const struct txl_msg m2[] = {
		{ S, "220 hi ESMTP\r\n", 0 },
		{ C, "MAIL FROM:<a@b>\r\n", 0 },
		{ C, rcpts, 0 },
	};
	l = run(c, m2, 3, NULL);
	assert_true(txl_anomaly(&l, 0, AL_PROTO_SMTP, "rcpt_to_limit"));
	assert_string_equal(txl_str(&l, 0, AL_BUF_SMTP_RCPT_TO, 7), "<r007@x.y>");
	txl_free(&l);

	/* 256 commands unanswered: the oldest is dropped. */
	const struct txl_msg m3[] = { { S, "220 hi ESMTP\r\n", 0 }, { C, "NOOP\r\n", 0 } };
	struct txl_msg many[300];
	for (int i = 0; i < 300; i++)
		many[i] = m3[i == 0 ? 0 : 1];
	l = run(c, many, 300, NULL);
	assert_true(txl_anomaly(&l, 0, AL_PROTO_SMTP, "pending_commands_limit"));
	txl_free(&l);
	assert_int_equal(al_ctx_mem_used(c), 0);
	al_ctx_free(c);
}

/* A hole in the message: the rest is still read up to its "." line. */
static void
test_gap(void **state)
{
	(void)state;
	struct al_ctx *c = ctx(0, 0);
	struct txl l = { 0 };
	const struct al_emit e = { .ctx = c, .cb = txl_cb, .arg = &l };
	void *st = al_smtp_parser.state_new(c, true);
	const char *srv = "220 hi ESMTP\r\n250 ok\r\n354 go\r\n";
	const char *cli = "EHLO a\r\nDATA\r\n";
	const char *msg1 = "first part\r\nsecond";
	const char *msg2 = " part\r\n.\r\nQUIT\r\n";

	assert_int_equal(al_smtp_parser.feed(c, st, S, (const uint8_t *)srv, 14, &e), 0);
	assert_int_equal(al_smtp_parser.feed(c, st, C, (const uint8_t *)cli, 14, &e), 0);
	assert_int_equal(al_smtp_parser.feed(c, st, S, (const uint8_t *)srv + 14, 16, &e), 0);
	assert_int_equal(al_smtp_parser.feed(c, st, C, (const uint8_t *)msg1, 18, &e), 0);
	al_smtp_parser.gap(c, st, C, 100);
	assert_int_equal(al_smtp_parser.feed(c, st, C, (const uint8_t *)msg2, 16, &e), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.tx[0].ready, AL_ST_SMTP_ENVELOPE | AL_ST_SMTP_DATA);
	assert_string_equal(txl_str(&l, 0, AL_BUF_SMTP_DATA, 0), "first part\r\nsecond part\r\n");
	al_smtp_parser.state_free(c, st);
	txl_free(&l);
	assert_int_equal(al_ctx_mem_used(c), 0);
	al_ctx_free(c);
}

static struct al_ctx *
replay(const char *path, struct txl *l)
{
	struct al_ctx *c = ctx(0, 0);

	l->only = AL_PROTO_SMTP;
	assert_true(alp_replay_file(c, path, txl_cb, l) > 0);
	assert_int_equal(al_ctx_mem_used(c), 0);
	return c;
}

static bool
data_has(const struct txl *l, unsigned t, const char *needle)
{
	const struct txl_buf *b = &l->tx[t].buf[AL_BUF_SMTP_DATA][0];

	return b->has && memmem(b->p, b->len, needle, strlen(needle)) != NULL;
}

static void
no_anomalies(const struct al_ctx *c)
{
	for (unsigned a = 0; a < AL_SMTP__ANOMALY_COUNT; a++)
		if (al_ctx_anomalies(c, AL_PROTO_SMTP, a) != 0)
			fail_msg("anomaly %s", al_anomaly_name(AL_PROTO_SMTP, a));
}

/* bug-3616's capture (smtp-eve, smtp-keywords, smtp-file-data-02): the values of test.yaml
 * and of smtp-keywords' rules; file_data "Added" is in the attachment, sent as plain text. */
static void
test_pcap_eve(void **state)
{
	(void)state;
	const char *path = VIGIL_TESTDATA "/suricata-verify/smtp-eve/input.pcap";
	struct txl l = { 0 };
	struct al_ctx *c;

	if (!txl_have(path))
		return;
	c = replay(path, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.tx[0].ready, AL_ST_SMTP_ENVELOPE | AL_ST_SMTP_DATA);
	assert_string_equal(txl_str(&l, 0, AL_BUF_SMTP_HELO, 0), "GP");
	assert_string_equal(txl_str(&l, 0, AL_BUF_SMTP_MAIL_FROM, 0), "<gurpartap@patriots.in>");
	assert_string_equal(txl_str(&l, 0, AL_BUF_SMTP_RCPT_TO, 0), "<raj_deol2002in@yahoo.co.in>");
	assert_null(txl_str(&l, 0, AL_BUF_SMTP_RCPT_TO, 1));
	assert_true(data_has(&l, 0, "From: \"Gurpartap Singh\" <gurpartap@patriots.in>"));
	assert_true(data_has(&l, 0, "NEWS.txt"));
	assert_true(data_has(&l, 0, "Added"));
	no_anomalies(c);
	al_ctx_free(c);
	txl_free(&l);
}

static void
test_pcap_file_data(void **state)
{
	(void)state;
	const char *path = TD_MORE "smtp-file-data-01/input.pcap";
	struct txl l = { 0 };
	struct al_ctx *c;

	if (!txl_have(path))
		return;
	c = replay(path, &l);
	assert_int_equal(l.n, 1);
	assert_string_equal(txl_str(&l, 0, AL_BUF_SMTP_HELO, 0), "client-1016363.example.int");
	assert_string_equal(txl_str(&l, 0, AL_BUF_SMTP_MAIL_FROM, 0), "<sender@example.com>");
	assert_string_equal(txl_str(&l, 0, AL_BUF_SMTP_RCPT_TO, 0), "<recipient@example.com>");
	assert_true(data_has(&l, 0, "if was"));
	no_anomalies(c);
	al_ctx_free(c);
	txl_free(&l);
}

/* Two chunks of one mail, then a second mail by DATA: nothing exceeded, both inspected. */
static void
test_pcap_bdat_multichunk(void **state)
{
	(void)state;
	const char *path = TD_MORE "smtp-bdat-multichunk-inspection/input.pcap";
	struct txl l = { 0 };
	struct al_ctx *c;

	if (!txl_have(path))
		return;
	c = replay(path, &l);
	assert_int_equal(l.n, 2);
	assert_string_equal(txl_str(&l, 0, AL_BUF_SMTP_MAIL_FROM, 0), "<a@example.com>");
	assert_string_equal(txl_str(&l, 0, AL_BUF_SMTP_RCPT_TO, 0), "<b@example.com>");
	assert_null(txl_str(&l, 0, AL_BUF_SMTP_RCPT_TO, 1));
	assert_int_equal(txl_len(&l, 0, AL_BUF_SMTP_DATA, 0), 79 + 44);
	assert_true(data_has(&l, 0, "GOODCHUNK"));
	assert_string_equal(txl_str(&l, 1, AL_BUF_SMTP_MAIL_FROM, 0), "<evil@example.com>");
	assert_string_equal(txl_str(&l, 1, AL_BUF_SMTP_RCPT_TO, 0), "<victim@example.com>");
	assert_null(txl_str(&l, 1, AL_BUF_SMTP_RCPT_TO, 1));
	assert_true(data_has(&l, 1, "Subject: SECOND-MAIL-MARKER\r\n"));
	assert_int_equal(l.tx[1].ready, AL_ST_SMTP_ENVELOPE | AL_ST_SMTP_DATA);
	no_anomalies(c);
	al_ctx_free(c);
	txl_free(&l);
}

/* Two BDAT mails with RSET between: no bdat_chunk_len_exceeded (the rule of smtp-rset). */
static void
test_pcap_rset(void **state)
{
	(void)state;
	const char *path = TD_MORE "smtp-rset/input.pcap";
	struct txl l = { 0 };
	struct al_ctx *c;

	if (!txl_have(path))
		return;
	c = replay(path, &l);
	assert_int_equal(l.n, 2);
	assert_string_equal(txl_str(&l, 0, AL_BUF_SMTP_DATA, 0), "Message 1\r\n");
	assert_string_equal(txl_str(&l, 1, AL_BUF_SMTP_DATA, 0), "Message Two\r\n");
	assert_string_equal(txl_str(&l, 1, AL_BUF_SMTP_MAIL_FROM, 0), "<username@domain.com>");
	assert_string_equal(txl_str(&l, 1, AL_BUF_SMTP_HELO, 0), "ehlo.fr");
	no_anomalies(c);
	al_ctx_free(c);
	txl_free(&l);
}

/* The MIME cases: the payload is in the raw message (their file.data and file.name rules
 * need MIME decoding, which Vigil does not do). */
static void
test_pcap_mime(void **state)
{
	(void)state;
	const char *paths[] = { TD_MORE "mime_smtp-mime-encap-8649-baseline/input.pcap",
		TD_MORE "mime_smtp-mime-encap-8649-combined/input.pcap" };

	for (size_t i = 0; i < 2; i++) {
		struct txl l = { 0 };
		struct al_ctx *c;

		if (!txl_have(paths[i]))
			continue;
		c = replay(paths[i], &l);
		assert_int_equal(l.n, 1);
		assert_string_equal(
				txl_str(&l, 0, AL_BUF_SMTP_MAIL_FROM, 0), "<attacker@evil.com>");
		assert_true(data_has(&l, 0, "EICAR-MIME-BYPASS-TEST-PAYLOAD"));
		assert_true(data_has(&l, 0, "malware.exe"));
		no_anomalies(c);
		al_ctx_free(c);
		txl_free(&l);
	}
}

/* smtp-long-DATA-line: AUTH LOGIN on port 587, a message with long lines. */
static void
test_pcap_long_data_line(void **state)
{
	(void)state;
	const char *path = TD_MORE "smtp-long-DATA-line-02-frames/input.pcap";
	struct txl l = { 0 };
	struct al_ctx *c;

	if (!txl_have(path))
		return;
	c = replay(path, &l);
	assert_int_equal(l.n, 1);
	assert_string_equal(txl_str(&l, 0, AL_BUF_SMTP_HELO, 0), "Percival");
	assert_true(strstr(txl_str(&l, 0, AL_BUF_SMTP_MAIL_FROM, 0), "xxxxx.co.uk") != NULL);
	assert_true(data_has(&l, 0, "Reply-To:"));
	assert_true(data_has(&l, 0, "This is a multi-part message in MIME format."));
	assert_true(data_has(&l, 0, "winmail.dat"));
	assert_int_equal(l.tx[0].ready, AL_ST_SMTP_ENVELOPE | AL_ST_SMTP_DATA);
	no_anomalies(c);
	al_ctx_free(c);
	txl_free(&l);
}

/* Every SMTP flow of the captures is detected as SMTP, and nothing else as SSH or FTP. */
static void
test_pcap_detection(void **state)
{
	(void)state;
	static const char *const paths[] = {
		VIGIL_TESTDATA "/suricata-verify/smtp-eve/input.pcap",
		TD_MORE "smtp-bdat-multichunk-inspection/input.pcap",
		TD_MORE "smtp-file-data-01/input.pcap",
		TD_MORE "smtp-file-data-02/input.pcap",
		TD_MORE "smtp-keywords/input.pcap",
		TD_MORE "smtp-long-DATA-line-02-frames/input.pcap",
		TD_MORE "smtp-long-DATA-line-03-frames-ips/input.pcap",
		TD_MORE "smtp-rset/input.pcap",
		TD_MORE "mime_smtp-mime-encap-8649-baseline/input.pcap",
		TD_MORE "mime_smtp-mime-encap-8649-combined/input.pcap",
	};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct al_ctx *c;

		if (!txl_have(paths[i]))
			continue;
		c = ctx(0, 0);
		assert_true(alp_replay_file(c, paths[i], NULL, NULL) > 0);
		if (al_ctx_proto_flows(c, AL_PROTO_SMTP) != 1)
			fail_msg("%s: %llu SMTP flows", paths[i],
					(unsigned long long)al_ctx_proto_flows(c, AL_PROTO_SMTP));
		assert_int_equal(al_ctx_proto_flows(c, AL_PROTO_SSH) +
						 al_ctx_proto_flows(c, AL_PROTO_FTP),
				0);
		al_ctx_free(c);
	}
}

/* A greeting with a mail host name on an FTP server is FTP's; the port breaks a bare tie. */
static void
test_probe(void **state)
{
	(void)state;
	const char *g = "220 mail.example.com FTP server ready\r\n";
	const char *bare = "220 mail.example.com ready\r\n";
	bool more;

	assert_int_equal(al_probe((const uint8_t *)g, (uint32_t)strlen(g), true, 1, 40000, 2121,
					 &more),
			AL_PROTO_FTP);
	assert_int_equal(al_probe((const uint8_t *)bare, (uint32_t)strlen(bare), true, 1, 40000,
					 587, &more),
			AL_PROTO_SMTP);
	assert_int_equal(al_probe((const uint8_t *)bare, (uint32_t)strlen(bare), true, 1, 40000,
					 2121, &more),
			AL_PROTO_NONE);
	assert_true(more);
	assert_int_equal(al_probe((const uint8_t *)"HELO x\r\n", 8, true, 0, 40000, 2121, &more),
			AL_PROTO_SMTP);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session),
		cmocka_unit_test(test_splits),
		cmocka_unit_test(test_no_pipelining),
		cmocka_unit_test(test_anomalies),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_gap),
		cmocka_unit_test(test_pcap_eve),
		cmocka_unit_test(test_pcap_file_data),
		cmocka_unit_test(test_pcap_bdat_multichunk),
		cmocka_unit_test(test_pcap_rset),
		cmocka_unit_test(test_pcap_mime),
		cmocka_unit_test(test_pcap_long_data_line),
		cmocka_unit_test(test_pcap_detection),
		cmocka_unit_test(test_probe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
