/* SPDX-License-Identifier: BSD-3-Clause */
/* The FTP parser: commands and replies in order, multi-line and preliminary replies, AUTH TLS,
 * anomalies, limits, splits, and the ftp captures. */
#include "vg_test.h"

#include "al.h"
#include "al_ftp.h"
#include "al_pcap.h"
#include "al_txlog.h"

#define TD_MORE VIGIL_TESTDATA "/suricata-verify-more/"

#define S AL_TO_CLIENT
#define C AL_TO_SERVER

static const struct txl_msg session[] = {
	{ S, "220-Welcome to the FTP service\r\n220-second line\r\n220 ready\r\n", 0 },
	{ C, "USER anonymous\r\n", 0 },
	{ S, "331 Please specify the password.\r\n", 0 },
	{ C, "pass secret \r\n", 0 },
	{ S, "230-Login successful.\r\n230 Have fun\r\n", 0 },
	{ C, "CWD /pub\r\nPWD\r\nTYPE I\r\n", 0 },
	{ S,
			"250 Directory successfully changed.\r\n257 \"/pub\" is the current directory\r\n"
			"200 Switching to Binary mode.\r\n",
			0 },
	{ C, "RETR file.txt\r\n", 0 },
	{ S, "150 Opening BINARY mode data connection for file.txt (10 bytes).\r\n", 0 },
	{ S, "226 Transfer complete.\r\n", 0 },
	{ C, "\r\nQUIT\r\n", 0 },
	{ S, "221 Goodbye.\r\n", 0 },
};

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
expect(const struct txl *l, unsigned t, const char *cmd, const char *arg, const char *reply,
		uint64_t code)
{
	if (cmd != NULL)
		assert_string_equal(txl_str(l, t, AL_BUF_FTP_COMMAND, 0), cmd);
	else
		assert_null(txl_str(l, t, AL_BUF_FTP_COMMAND, 0));
	if (arg != NULL)
		assert_string_equal(txl_str(l, t, AL_BUF_FTP_COMMAND_DATA, 0), arg);
	else
		assert_null(txl_str(l, t, AL_BUF_FTP_COMMAND_DATA, 0));
	assert_string_equal(txl_str(l, t, AL_BUF_FTP_REPLY, 0), reply);
	assert_true(l->tx[t].has_num[AL_NUM_FTP_REPLY_CODE]);
	assert_int_equal(l->tx[t].num[AL_NUM_FTP_REPLY_CODE], code);
	assert_int_equal(l->tx[t].index, t);
	assert_int_equal(l->tx[t].anomalies, 0);
}

static void
check_session(const struct txl *l)
{
	assert_int_equal(l->n, 8);
	/* The greeting: a transaction with REPLY alone; "ddd-" lines stay whole. */
	assert_int_equal(l->tx[0].ready, AL_ST_FTP_REPLY);
	expect(l, 0, NULL, NULL, "220-Welcome to the FTP service\r\n220-second line\r\nready", 220);
	expect(l, 1, "USER", "anonymous", "Please specify the password.", 331);
	expect(l, 2, "PASS", "secret", "230-Login successful.\r\nHave fun", 230);
	expect(l, 3, "CWD", "/pub", "Directory successfully changed.", 250);
	expect(l, 4, "PWD", NULL, "\"/pub\" is the current directory", 257);
	expect(l, 5, "TYPE", "I", "Switching to Binary mode.", 200);
	/* The preliminary 150 keeps RETR open until the 226. */
	expect(l, 6, "RETR", "file.txt",
			"Opening BINARY mode data connection for file.txt (10 bytes).\r\n"
			"Transfer complete.",
			226);
	expect(l, 7, "QUIT", NULL, "Goodbye.", 221);
	for (unsigned t = 1; t < 8; t++) {
		assert_int_equal(l->tx[t].stages[0], AL_ST_FTP_COMMAND);
		assert_int_equal(l->tx[t].dirs[0], AL_TO_SERVER);
		assert_int_equal(l->tx[t].stages[1], AL_ST_FTP_REPLY);
		assert_int_equal(l->tx[t].dirs[1], AL_TO_CLIENT);
	}
}

static void
test_session(void **state)
{
	(void)state;
	struct al_ctx *c = ctx(0);
	struct txl l = { 0 };

	assert_int_equal(txl_run(c, 2121, session, sizeof(session) / sizeof(session[0]), 0, &l),
			AL_PROTO_FTP);
	check_session(&l);
	txl_free(&l);
	assert_int_equal(al_ctx_mem_used(c), 0);
	al_ctx_free(c);
}

static void
test_splits(void **state)
{
	(void)state;
	struct al_ctx *c = ctx(0);
	const unsigned n = sizeof(session) / sizeof(session[0]);
	struct txl whole = { 0 };
	char why[160];

	txl_run(c, 21, session, n, 0, &whole);
	check_session(&whole);
	for (uint32_t chunk = 1; chunk <= 11; chunk += 2) {
		struct txl l = { 0 };

		assert_int_equal(txl_run(c, 21, session, n, chunk, &l), AL_PROTO_FTP);
		if (!txl_equal(&whole, &l, why, sizeof(why)))
			fail_msg("chunk %u: %s", chunk, why);
		txl_free(&l);
	}
	txl_free(&whole);
	assert_int_equal(al_ctx_mem_used(c), 0);
	al_ctx_free(c);
}

static struct txl
run(struct al_ctx *c, const struct txl_msg *m, unsigned n, int *rc)
{
	struct txl l = { 0 };
	int r = txl_run_parser(c, &al_ftp_parser, m, n, 0, &l);

	if (rc != NULL)
		*rc = r;
	return l;
}

static void
test_auth_tls(void **state)
{
	(void)state;
	struct al_ctx *c = ctx(0);
	struct txl l;
	int rc;

	/* Refused, it goes on; accepted with 234, the rest is TLS. */
	const struct txl_msg m[] = {
		{ S, "220 FTP ready\r\n", 0 },
		{ C, "AUTH TLS\r\n", 0 },
		{ S, "530 Please login with USER and PASS.\r\n", 0 },
		{ C, "AUTH TLS\r\n", 0 },
		{ S, "234 Proceed with negotiation.\r\n", 0 },
		{ C, "\x16\x03\x01\x00\x05hello\r\n", 0 },
	};
	l = run(c, m, 6, &rc);
	assert_int_equal(rc, -1);
	assert_int_equal(l.n, 3);
	assert_string_equal(txl_str(&l, 1, AL_BUF_FTP_COMMAND_DATA, 0), "TLS");
	assert_int_equal(l.tx[1].num[AL_NUM_FTP_REPLY_CODE], 530);
	assert_int_equal(l.tx[2].num[AL_NUM_FTP_REPLY_CODE], 234);
	txl_free(&l);
	assert_int_equal(al_ctx_mem_used(c), 0);
	al_ctx_free(c);
}

static void
test_anomalies(void **state)
{
	(void)state;
	struct al_ctx *c = ctx(64);
	char longc[200], longr[200];
	struct txl l;

	/* line_max cuts a command and a reply. */
	memset(longc, 'x', sizeof(longc));
	memcpy(longc, "STOR ", 5);
	memcpy(longc + 150, "\r\n", 3);
	memset(longr, 'y', sizeof(longr));
	memcpy(longr, "150 ", 4);
	memcpy(longr + 150, "\r\n226 done\r\n", 13);
	const struct txl_msg m1[] = {
		{ C, longc, 0 },
		{ S, longr, 0 },
		{ S, "not a reply\r\n", 0 },
	};
	l = run(c, m1, 3, NULL);
	assert_int_equal(l.n, 1);
	assert_true(txl_anomaly(&l, 0, AL_PROTO_FTP, "request_command_too_long"));
	assert_int_equal(txl_len(&l, 0, AL_BUF_FTP_COMMAND_DATA, 0), 64 - 5);
	assert_true(txl_anomaly(&l, 0, AL_PROTO_FTP, "response_command_too_long"));
	assert_int_equal(txl_len(&l, 0, AL_BUF_FTP_REPLY, 0), 64);
	assert_int_equal(l.tx[0].num[AL_NUM_FTP_REPLY_CODE], 226);
	assert_int_equal(al_ctx_anomalies(c, AL_PROTO_FTP, AL_FTP_INVALID_REPLY), 1);
	txl_free(&l);

	/* 64 commands unanswered: the oldest is dropped, the rest still pair with replies. */
	struct txl_msg many[80];
	for (int i = 0; i < 70; i++)
		many[i] = (struct txl_msg){ C, "NOOP\r\n", 0 };
	many[70] = (struct txl_msg){ S, "200 a\r\n200 b\r\n", 0 };
	l = run(c, many, 71, NULL);
	assert_int_equal(l.n, 70);
	assert_true(txl_anomaly(&l, 64, AL_PROTO_FTP, "too_many_transactions"));
	assert_int_equal(l.tx[6].ready, AL_ST_FTP_COMMAND | AL_ST_FTP_REPLY);
	assert_string_equal(txl_str(&l, 7, AL_BUF_FTP_REPLY, 0), "b");
	txl_free(&l);

	/* A reply with no command is a transaction of its own; a multi-line reply cut by the
	 * server's close ends there. */
	const struct txl_msg m3[] = {
		{ S, "220 hi\r\n421 Timeout.\r\n", 0 },
		{ C, "HELP\r\n", 0 },
		{ S, "214-The following commands are recognized.\r\n ABOR ACCT", 0 },
	};
	l = run(c, m3, 3, NULL);
	assert_int_equal(l.n, 3);
	assert_string_equal(txl_str(&l, 1, AL_BUF_FTP_REPLY, 0), "Timeout.");
	assert_int_equal(l.tx[1].num[AL_NUM_FTP_REPLY_CODE], 421);
	assert_string_equal(txl_str(&l, 2, AL_BUF_FTP_REPLY, 0),
			"214-The following commands are recognized.\r\n ABOR ACCT");
	assert_int_equal(l.tx[2].num[AL_NUM_FTP_REPLY_CODE], 214);
	txl_free(&l);
	assert_int_equal(al_ctx_mem_used(c), 0);
	al_ctx_free(c);
}

/* A lost reply: the commands waiting cannot be paired any more, later ones can. */
static void
test_gap(void **state)
{
	(void)state;
	struct al_ctx *c = ctx(0);
	struct txl l = { 0 };
	const struct al_emit e = { .ctx = c, .cb = txl_cb, .arg = &l };
	void *st = al_ftp_parser.state_new(c, true);

	assert_int_equal(al_ftp_parser.feed(
					 c, st, C, (const uint8_t *)"USER a\r\nPASS b\r\n", 16, &e),
			0);
	assert_int_equal(al_ftp_parser.feed(c, st, S, (const uint8_t *)"331 pass", 8, &e), 0);
	al_ftp_parser.gap(c, st, S, 40);
	assert_int_equal(al_ftp_parser.feed(c, st, S, (const uint8_t *)"lost\r\n", 6, &e), 0);
	assert_int_equal(al_ftp_parser.feed(c, st, C, (const uint8_t *)"CWD /\r\n", 7, &e), 0);
	assert_int_equal(al_ftp_parser.feed(c, st, S, (const uint8_t *)"250 ok\r\n", 8, &e), 0);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.tx[0].ready, AL_ST_FTP_COMMAND);
	assert_string_equal(txl_str(&l, 2, AL_BUF_FTP_REPLY, 0), "ok");
	al_ftp_parser.state_free(c, st);
	txl_free(&l);
	assert_int_equal(al_ctx_mem_used(c), 0);
	al_ctx_free(c);
}

static struct al_ctx *
replay(const char *path, struct txl *l)
{
	struct al_ctx *c = ctx(0);

	l->only = AL_PROTO_FTP;
	assert_true(alp_replay_file(c, path, txl_cb, l) > 0);
	assert_int_equal(al_ctx_mem_used(c), 0);
	return c;
}

/* ftp-retr-bypass-*: its rules look for RETR and CWD in ftp.command; seven FTP events. */
static void
test_pcap_retr(void **state)
{
	(void)state;
	const char *path = TD_MORE "ftp-retr-bypass-baseline/input.pcap";
	struct txl l = { 0 };
	struct al_ctx *c;

	if (!txl_have(path))
		return;
	c = replay(path, &l);
	assert_int_equal(l.n, 7);
	expect(&l, 0, NULL, NULL, "(vsFTPd 3.0.2)", 220);
	expect(&l, 1, "USER", "testuser", "Please specify the password.", 331);
	expect(&l, 2, "PASS", "testpass", "Login successful.", 230);
	expect(&l, 3, "PORT", "192,168,1,100,200,100",
			"PORT command successful. Consider using PASV.", 200);
	expect(&l, 4, "RETR", "secret_file.txt",
			"Opening BINARY mode data connection for secret_file.txt.\r\nTransfer "
			"complete.",
			226);
	expect(&l, 5, "CWD", "/", "Directory successfully changed.", 250);
	expect(&l, 6, "QUIT", NULL, "Goodbye.", 221);
	for (unsigned a = 0; a < AL_FTP__ANOMALY_COUNT; a++)
		assert_int_equal(al_ctx_anomalies(c, AL_PROTO_FTP, a), 0);
	al_ctx_free(c);
	txl_free(&l);

	path = TD_MORE "ftp-retr-bypass-realserver/input.pcap";
	if (!txl_have(path))
		return;
	c = replay(path, &l);
	assert_int_equal(l.n, 6);
	expect(&l, 3, "RETR", "secret_file.txt", "Use PORT or PASV first.", 425);
	expect(&l, 4, "CWD", "/", "Directory successfully changed.", 250);
	al_ctx_free(c);
	txl_free(&l);
}

/* ftp-bounce: two sessions, each with its PORT command. */
static void
test_pcap_bounce(void **state)
{
	(void)state;
	const char *path = TD_MORE "ftp_ftp-bounce/test.pcap";
	struct txl l = { 0 };
	struct al_ctx *c;

	if (!txl_have(path))
		return;
	c = replay(path, &l);
	assert_int_equal(l.n, 8);
	expect(&l, 2, "PORT", "1,1,1,2,232,157", "Operation successful", 200);
	assert_int_equal(l.tx[6].index, 2);
	assert_string_equal(txl_str(&l, 6, AL_BUF_FTP_COMMAND_DATA, 0), "2,2,2,3,0,80");
	al_ctx_free(c);
	txl_free(&l);
}

/* ftp-download-active and ftp-upload-active: the control channel's USER and transfers. */
static void
test_pcap_active(void **state)
{
	(void)state;
	static const struct {
		const char *path, *user, *verb;
	} cases[] = {
		{ TD_MORE "ftp_ftp-download-active/input.pcap", "bob", "RETR" },
		{ TD_MORE "ftp_ftp-upload-active/input.pcap", "alice", "STOR" },
	};

	for (size_t i = 0; i < 2; i++) {
		struct txl l = { 0 };
		struct al_ctx *c;
		bool seen = false;

		if (!txl_have(cases[i].path))
			continue;
		c = replay(cases[i].path, &l);
		assert_string_equal(txl_str(&l, 1, AL_BUF_FTP_COMMAND, 0), "USER");
		assert_string_equal(txl_str(&l, 1, AL_BUF_FTP_COMMAND_DATA, 0), cases[i].user);
		for (unsigned t = 0; t < l.n; t++) {
			const char *v = txl_str(&l, t, AL_BUF_FTP_COMMAND, 0);

			if (v != NULL && strcmp(v, cases[i].verb) == 0) {
				seen = true;
				assert_string_equal(txl_str(&l, t, AL_BUF_FTP_COMMAND_DATA, 0),
						"index.html");
			}
		}
		assert_true(seen);
		al_ctx_free(c);
		txl_free(&l);
	}
}

/* Every FTP control flow is detected as FTP; the data channels are no FTP, SMTP or SSH. */
static void
test_pcap_detection(void **state)
{
	(void)state;
	static const struct {
		const char *path;
		uint64_t ftp;
	} cases[] = {
		{ TD_MORE "ftp-retr-bypass-baseline/input.pcap", 1 },
		{ TD_MORE "ftp-retr-bypass-realserver/input.pcap", 1 },
		{ TD_MORE "ftp_ftp-bounce/test.pcap", 2 },
		{ TD_MORE "ftp_ftp-download-active/input.pcap", 1 },
		{ TD_MORE "ftp_ftp-upload-active/input.pcap", 1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct al_ctx *c;

		if (!txl_have(cases[i].path))
			continue;
		c = ctx(0);
		assert_true(alp_replay_file(c, cases[i].path, NULL, NULL) > 0);
		if (al_ctx_proto_flows(c, AL_PROTO_FTP) != cases[i].ftp)
			fail_msg("%s: %llu FTP flows", cases[i].path,
					(unsigned long long)al_ctx_proto_flows(c, AL_PROTO_FTP));
		assert_int_equal(al_ctx_proto_flows(c, AL_PROTO_SSH) +
						 al_ctx_proto_flows(c, AL_PROTO_SMTP),
				0);
		al_ctx_free(c);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session),
		cmocka_unit_test(test_splits),
		cmocka_unit_test(test_auth_tls),
		cmocka_unit_test(test_anomalies),
		cmocka_unit_test(test_gap),
		cmocka_unit_test(test_pcap_retr),
		cmocka_unit_test(test_pcap_bounce),
		cmocka_unit_test(test_pcap_active),
		cmocka_unit_test(test_pcap_detection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
