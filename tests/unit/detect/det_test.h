/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers shared by the detect/ unit tests: build an engine from rule text, scan payloads. */
#ifndef DET_TEST_H
#define DET_TEST_H

#include <netinet/in.h>

#include "vg_test.h"

#include "det_engine.h"

struct tdet {
	struct det_vars *vars;
	struct det_set *set;
	struct det_engine *e;
	struct det_worker *w;
	struct det_load_report rep;
	struct det_compile_report crep;
};

/* Load and compile rules; every rule must load unless allow_rejects. */
static inline void
tdet_open_opts(struct tdet *t, const char *rules, bool allow_rejects,
		const struct det_compile_opts *copts)
{
	struct det_load_opts o;
	struct vg_diag d;

	memset(t, 0, sizeof(*t));
	t->vars = det_vars_create();
	assert_non_null(t->vars);
	assert_int_equal(det_vars_set_addr(t->vars, "HOME_NET", "[10.0.0.0/8,192.168.0.0/16]"), 0);
	assert_int_equal(det_vars_set_defaults(t->vars), 0);
	det_load_opts_default(&o);
	o.vars = t->vars;
	vg_diag_init(&d);
	t->set = det_load_buf("t.rules", rules, strlen(rules), &o, &t->rep, &d);
	assert_non_null(t->set);
	if (!allow_rejects && t->rep.rejected > 0) {
		det_load_report_print(&t->rep, stderr, true);
		fail_msg("%u rules rejected", t->rep.rejected);
	}
	t->e = det_compile(t->set, copts, &t->crep, &d);
	if (t->e == NULL) {
		vg_diag_print(&d, stderr);
		fail_msg("compile failed");
	}
	vg_diag_free(&d);
	t->w = det_worker_create(t->e, -1);
	assert_non_null(t->w);
}

static inline void
tdet_open(struct tdet *t, const char *rules)
{
	tdet_open_opts(t, rules, false, NULL);
}

static inline void
tdet_close(struct tdet *t)
{
	det_worker_free(t->w);
	det_engine_free(t->e);
	det_set_free(t->set);
	det_load_report_free(&t->rep);
	det_compile_report_free(&t->crep);
	det_vars_free(t->vars);
	memset(t, 0, sizeof(*t));
}

static const uint8_t tdet_client[16] = { 10, 0, 0, 1 };
static const uint8_t tdet_server[16] = { 192, 0, 2, 80 };

/* A packet from the client (10.0.0.1:40000) to the server (192.0.2.80:port). */
static inline struct det_pkt
tdet_pkt(uint8_t proto, uint16_t port, const void *payload, size_t len)
{
	struct det_pkt p = {
		.payload = payload,
		.len = (uint32_t)len,
		.family = 4,
		.proto = proto,
		.flags = DET_PKT_TO_SERVER | DET_PKT_ESTABLISHED | DET_PKT_FIRST,
		.sport = 40000,
		.dport = port,
		.src = tdet_client,
		.dst = tdet_server,
		.now_ns = 1000000000ULL,
	};

	return p;
}

/* The reply direction of p. */
static inline struct det_pkt
tdet_reply(struct det_pkt p)
{
	const uint8_t *a = p.src;
	uint16_t port = p.sport;

	p.src = p.dst;
	p.dst = a;
	p.sport = p.dport;
	p.dport = port;
	p.flags = (uint8_t)((p.flags & ~DET_PKT_TO_SERVER) | DET_PKT_TO_CLIENT);
	return p;
}

/* Scan p; write the sids of the matches to sids (in result order); return the count. */
static inline int
tdet_scan(struct tdet *t, const struct det_pkt *p, uint32_t *sids, unsigned max)
{
	struct det_match m[64];
	int n = det_scan_packet(t->w, p, m, 64);

	assert_true(n >= 0);
	for (int i = 0; i < n && (unsigned)i < max; i++)
		sids[i] = det_engine_rule_info(t->e, m[i].rule)->sid;
	return n;
}

/* Does sid match a UDP packet to port 53 carrying s? */
static inline bool
tdet_udp_has(struct tdet *t, uint32_t sid, const char *s)
{
	struct det_pkt p = tdet_pkt(IPPROTO_UDP, 53, s, strlen(s));
	uint32_t sids[64];
	int n = tdet_scan(t, &p, sids, 64);

	for (int i = 0; i < n; i++)
		if (sids[i] == sid)
			return true;
	return false;
}

#endif /* DET_TEST_H */
