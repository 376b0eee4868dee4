/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the signature loader on arbitrary bytes, and for small sets that load, the
 * compiler, both packet scanners on a few fixed payloads and the transaction scanner on a few
 * SSH, SMTP, FTP, HTTP and DNS sessions, so that whatever the parser accepts is also planned,
 * compiled and matched without crashing.
 */
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "al.h"
#include "det_engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct det_vars *vars;

struct txrun {
	struct det_worker *w;
	struct det_pkt p;
};

static void
tx_cb(void *arg, const struct al_tx *tx, unsigned stage, unsigned dir)
{
	struct txrun *t = arg;
	struct det_match m[8];

	t->p.flags = (uint8_t)(DET_PKT_ESTABLISHED |
			       (dir == AL_TO_SERVER ? DET_PKT_TO_SERVER : DET_PKT_TO_CLIENT));
	t->p.app_proto = tx->proto;
	(void)det_scan_tx(t->w, &t->p, tx, stage, dir, m, 8);
}

/*
 * Transactions of the protocols whose parsers exist, through the rules: every buffer a rule
 * may name is read, transformed and inspected.
 */
static void
scan_tx(struct det_worker *w)
{
	static const char *const sessions[][8] = {
		{ "cSSH-2.0-OpenSSH_8.9\r\n", "sSSH-2.0-OpenSSH_7.4\r\n" },
		{ "s220 mail ESMTP\r\n", "cEHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n",
				"cRCPT TO:<e@f>\r\nDATA\r\n", "s354 go\r\n",
				"cSubject: x\r\n\r\n  the  body \r\n.\r\n", "s250 ok\r\n" },
		{ "s220 ftp\r\n", "cUSER anonymous\r\n", "s331 pass\r\n", "cRETR /x\r\n",
				"s550 no\r\n" },
		{ "cGET /a/../b/%41?x=1 HTTP/1.1\r\nHost: WWW.Example.com:8080\r\n"
		  "User-Agent: Mozilla/5.0\r\nCookie: a=b\r\n\r\n",
				"sHTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 5\r\n\r\nhello",
				"cPOST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
				"4\r\nabcd\r\n0\r\n\r\n",
				"sHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n" },
	};
	static const uint16_t ports[] = { 22, 25, 21, 80 };
	/* a DNS query for www.evil.com and its answer */
	static const uint8_t dnsq[] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3, 'w', 'w',
		'w', 4, 'e', 'v', 'i', 'l', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1 };
	static const uint8_t dnsr[] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 3, 'w', 'w',
		'w', 4, 'e', 'v', 'i', 'l', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1, 0xc0, 12, 0, 1, 0, 1,
		0, 0, 0, 60, 0, 4, 192, 0, 2, 1 };
	static const uint8_t a[16] = { 10, 0, 0, 1 }, b[16] = { 192, 168, 1, 1 };
	struct al_ctx *c = al_ctx_create(NULL);
	struct txrun t = { .w = w };

	if (c == NULL)
		return;
	t.p.family = 4;
	t.p.proto = IPPROTO_TCP;
	t.p.src = a;
	t.p.dst = b;
	for (size_t i = 0; i < sizeof(sessions) / sizeof(sessions[0]); i++) {
		struct al_flow *f = al_flow_new(c, true, 40000, ports[i]);

		if (f == NULL)
			break;
		t.p.sport = 40000;
		t.p.dport = ports[i];
		for (size_t k = 0; k < 8 && sessions[i][k] != NULL; k++) {
			const char *msg = sessions[i][k] + 1;

			t.p.payload = (const uint8_t *)msg;
			t.p.len = (uint32_t)strlen(msg);
			(void)al_feed(c, f, sessions[i][k][0] == 'c' ? AL_TO_SERVER : AL_TO_CLIENT,
					t.p.payload, t.p.len, tx_cb, &t);
		}
		al_close(c, f, AL_TO_SERVER, tx_cb, &t);
		al_close(c, f, AL_TO_CLIENT, tx_cb, &t);
		al_flow_free(c, f);
	}
	{
		struct al_flow *f = al_flow_new(c, false, 40000, 53);

		if (f != NULL) {
			t.p.proto = IPPROTO_UDP;
			t.p.dport = 53;
			t.p.payload = dnsq;
			t.p.len = sizeof(dnsq);
			(void)al_feed(c, f, AL_TO_SERVER, dnsq, sizeof(dnsq), tx_cb, &t);
			t.p.payload = dnsr;
			t.p.len = sizeof(dnsr);
			(void)al_feed(c, f, AL_TO_CLIENT, dnsr, sizeof(dnsr), tx_cb, &t);
			al_flow_free(c, f);
		}
	}
	al_ctx_free(c);
}

static void
scan_all(struct det_engine *e)
{
	static const char *const payloads[] = { "", "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"USER root\r\nPASS x\r\n", "\x00\x01\x02\x03 abc ABC 123 |;:\"\\",
		"aaaaaaaaaaaaaaaa" };
	static const uint8_t a[16] = { 10, 0, 0, 1 }, b[16] = { 192, 168, 1, 1 };
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_SCTP,
		47 };
	struct det_worker *w = det_worker_create(e, -1);
	struct det_match m[8];
	size_t ssize;
	void *state;

	if (w == NULL)
		return;
	ssize = det_stream_state_size(e);
	state = aligned_alloc(64, (ssize + 63) & ~(size_t)63);
	for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
		struct det_pkt p = {
			.payload = (const uint8_t *)payloads[i],
			.len = (uint32_t)strlen(payloads[i]) + (i == 3 ? 1 : 0),
			.family = 4,
			.flags = DET_PKT_TO_SERVER | DET_PKT_FIRST | DET_PKT_ESTABLISHED,
			.tcp_flags = 0x18,
			.sport = 40000,
			.dport = 80,
			.src = a,
			.dst = b,
			.now_ns = i * 1000000000ULL,
		};

		for (size_t k = 0; k < sizeof(protos); k++) {
			p.proto = protos[k];
			(void)det_scan_packet(w, &p, m, 8);
		}
		p.proto = IPPROTO_TCP;
		if (state != NULL && det_stream_open(w, state, ssize, &p) == 0) {
			(void)det_stream_scan(w, state, &p, m, 8);
			(void)det_stream_scan(w, state, &p, m, 8);
			(void)det_stream_close(w, state, &p, m, 8);
		}
	}
	free(state);
	scan_tx(w);
	det_worker_free(w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct det_load_opts o;
	struct det_load_report rep;
	struct vg_diag d;
	struct det_set *s;

	if (vars == NULL) {
		vars = det_vars_create();
		if (vars == NULL || det_vars_set_defaults(vars) != 0)
			abort();
	}
	det_load_opts_default(&o);
	o.vars = vars;
	vg_diag_init(&d);
	s = det_load_buf("fuzz.rules", (const char *)data, size, &o, &rep, &d);
	if (s != NULL && det_set_count(s) > 0 && det_set_count(s) <= 16) {
		struct det_engine *e = det_compile(s, NULL, NULL, &d);

		if (e != NULL) {
			scan_all(e);
			det_engine_free(e);
		}
	}
	det_set_free(s);
	det_load_report_free(&rep);
	vg_diag_free(&d);
	return 0;
}
