/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: payloads through the inspection engine as dp_inspect.c runs it, against the
 * shipped signatures (conf/signatures) and ET Open when its rules are there
 * (VIGIL_FUZZ_ET_DIR, else ../shared/testdata/et-open next to the source tree; absent: the
 * shipped rules alone).
 *
 * Input (tests/fuzz/gen_inspect_corpus.py writes the seeds):
 *   byte 0   bit 0: TCP (else UDP, each piece a datagram); bits 1-4: the server port, one of
 *            ports[] below; bit 5: IPv6 addresses; bit 6: the client is inside ($HOME_NET)
 *            and the server outside (else the other way round)
 *   pieces   [a b] then up to ((a & 0x3f) << 8 | b) bytes (cut at the input's end):
 *            a bit 7: to the client (else to the server); a bit 6: close the direction after
 *
 * Per piece, as the dataplane does: the application layer first (al_feed, det_scan_tx on each
 * stage it completes), then det_scan_packet, then, for TCP, det_stream_scan on the direction's
 * stream. At the end the directions are closed (al_close, det_stream_close).
 *
 * Checks: every match names a rule the engine has (index in range, sid of a loaded rule),
 * with a valid action; a scan returns no more than asked and no error; matches of a scan are
 * in Suricata's action order, and a pass hides every other action; transaction matches, and
 * only they, carry DET_M_TX. The whole input runs twice, on two workers and parser contexts
 * that have seen the same inputs at the same times: the matches must be the same.
 * FUZZ_INSPECT_VERBOSE=1 in the environment prints every match.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "al.h"
#include "det_engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(c)                                                                         \
	do {                                                                                  \
		if (!(c)) {                                                                   \
			fprintf(stderr, "fuzz_inspect: %s:%d: %s\n", __FILE__, __LINE__, #c); \
			abort();                                                              \
		}                                                                             \
	} while (0)

#define MAX_MATCHES 64
#define MAX_RECORD  4096

/* servers of the shipped rules' and ET Open's protocols */
static const uint16_t ports[16] = { 80, 53, 21, 25, 22, 443, 445, 4444, 8080, 23, 143, 110, 161, 69,
	139, 1434 };

static struct det_vars *vars;
static struct det_set *set;
static struct det_engine *eng;
static uint32_t *sids; /* the loaded rules' sids, sorted */
static unsigned n_sids;
static unsigned n_rules;

/* One run's matches, in the order the scans returned them. */
struct record {
	struct det_match m[MAX_RECORD];
	uint8_t kind[MAX_RECORD]; /* 0 packet, 1 stream, 2 transaction */
	unsigned n;
};

struct run {
	struct det_worker *w;
	struct al_ctx *al;
	struct det_pkt p; /* the packet being inspected */
	struct record *rec;
};

static struct run runs[2];
static struct record recs[2];
static uint64_t clock_ns;

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static bool
is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void
load(void)
{
	const char *et = getenv("VIGIL_FUZZ_ET_DIR");
	const char *paths[2] = { VIGIL_SOURCE_ROOT "/conf/signatures" };
	char etcls[4096];
	struct det_load_opts o;
	struct det_load_report rep;
	struct vg_diag d;
	unsigned np = 1;

	if (et == NULL || et[0] == '\0')
		et = VIGIL_SOURCE_ROOT "/../shared/testdata/et-open";
	vars = det_vars_create();
	FUZZ_CHECK(vars != NULL && det_vars_set_defaults(vars) == 0);
	det_load_opts_default(&o);
	o.vars = vars;
	o.classification = VIGIL_SOURCE_ROOT "/conf/signatures/classification.config";
	if (is_dir(et)) {
		paths[np++] = et;
		/* ET's classification holds the shipped one's classtypes and its own. */
		snprintf(etcls, sizeof(etcls), "%s/classification.config", et);
		o.classification = etcls;
	}
	vg_diag_init(&d);
	set = det_load(paths, np, &o, &rep, &d);
	if (set == NULL || rep.loaded == 0) {
		det_load_report_print(&rep, stderr, true);
		vg_diag_print(&d, stderr);
		abort();
	}
	eng = det_compile(set, NULL, NULL, &d);
	if (eng == NULL) {
		vg_diag_print(&d, stderr);
		abort();
	}
	fprintf(stderr, "fuzz_inspect: %u rules loaded (%u rejected) from %s%s%s\n", rep.loaded,
			rep.rejected, paths[0], np > 1 ? " and " : "", np > 1 ? paths[1] : "");
	det_load_report_free(&rep);
	vg_diag_free(&d);
	n_rules = det_engine_rule_count(eng);
	n_sids = det_set_count(set);
	sids = malloc(sizeof(*sids) * (n_sids ? n_sids : 1));
	FUZZ_CHECK(sids != NULL);
	for (unsigned i = 0; i < n_sids; i++)
		sids[i] = det_set_rule(set, i)->info.sid;
	qsort(sids, n_sids, sizeof(*sids), cmp_u32);
	for (int i = 0; i < 2; i++) {
		runs[i].w = det_worker_create(eng, -1);
		runs[i].al = al_ctx_create(NULL);
		runs[i].rec = &recs[i];
		FUZZ_CHECK(runs[i].w != NULL && runs[i].al != NULL);
	}
}

/* Suricata's order of actions in a scan's result: pass, drop, reject, alert. */
static int
action_rank(uint8_t a)
{
	return a == DET_ACT_PASS ? 0 : a == DET_ACT_DROP ? 1 : a == DET_ACT_REJECT ? 2 : 3;
}

static void
check_and_record(struct run *r, const struct det_match *m, int n, unsigned max, int kind)
{
	bool pass = false;

	FUZZ_CHECK(n >= 0 && (unsigned)n <= max);
	for (int i = 0; i < n; i++) {
		const struct det_rule_info *ri = det_engine_rule_info(eng, m[i].rule);

		FUZZ_CHECK(m[i].rule < n_rules && ri != NULL);
		FUZZ_CHECK(bsearch(&ri->sid, sids, n_sids, sizeof(*sids), cmp_u32) != NULL);
		FUZZ_CHECK(m[i].action >= DET_ACT_PASS && m[i].action <= DET_ACT_ALERT);
		FUZZ_CHECK(ri->action == m[i].action);
		FUZZ_CHECK(((m[i].flags & DET_M_TX) != 0) == (kind == 2));
		if (i > 0)
			FUZZ_CHECK(action_rank(m[i - 1].action) <= action_rank(m[i].action));
		pass |= m[i].action == DET_ACT_PASS;
		if (r->rec->n < MAX_RECORD) {
			r->rec->m[r->rec->n] = m[i];
			r->rec->kind[r->rec->n++] = (uint8_t)kind;
		}
	}
	if (pass)
		for (int i = 0; i < n; i++)
			FUZZ_CHECK(m[i].action == DET_ACT_PASS);
}

static void
on_tx(void *arg, const struct al_tx *tx, unsigned stage, unsigned dir)
{
	struct run *r = arg;
	struct det_match m[MAX_MATCHES];
	struct det_pkt dp = r->p;
	const unsigned pdir = (dp.flags & DET_PKT_TO_CLIENT) ? AL_TO_CLIENT : AL_TO_SERVER;

	dp.app_proto = tx->proto;
	if (dir != pdir) {
		/* a stage the other direction's close completed: its sides (as dp_inspect) */
		const uint8_t *a = dp.src;
		uint16_t port = dp.sport;

		dp.src = dp.dst;
		dp.dst = a;
		dp.sport = dp.dport;
		dp.dport = port;
		dp.flags ^= DET_PKT_TO_SERVER | DET_PKT_TO_CLIENT;
	}
	check_and_record(r, m, det_scan_tx(r->w, &dp, tx, stage, dir, m, MAX_MATCHES), MAX_MATCHES,
			2);
}

/* One run of the whole input on r's worker and parser context. */
static void
run_input(struct run *r, const uint8_t *data, size_t size, uint64_t t0)
{
	/* an outside and an inside address of each family */
	static const uint8_t ext4[16] = { 203, 0, 113, 5 }, home4[16] = { 10, 0, 0, 5 };
	static const uint8_t ext6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 5 },
			     home6[16] = { 0xfd, 0, [15] = 5 };
	const bool tcp = data[0] & 1, v6 = data[0] & 0x20, client_home = data[0] & 0x40;
	const uint8_t *ext = v6 ? ext6 : ext4, *home = v6 ? home6 : home4;
	const uint16_t dport = ports[(data[0] >> 1) & 15], sport = 40000;
	size_t ssize = det_stream_state_size(eng), fbsize = det_flowbits_size(eng);
	void *st[2] = { NULL, NULL };
	uint8_t *fb = fbsize ? calloc(1, fbsize) : NULL;
	bool opened[2] = { false, false }, closed[2] = { false, false };
	bool seen[2] = { false, false };
	struct det_match m[MAX_MATCHES];
	struct al_flow *fl;
	uint8_t app = AL_PROTO_NONE;
	size_t off = 1;
	int n;

	r->rec->n = 0;
	if (tcp)
		for (int d = 0; d < 2; d++) {
			st[d] = aligned_alloc(64, (ssize + 63) & ~(size_t)63);
			FUZZ_CHECK(st[d] != NULL);
		}
	fl = al_flow_new(r->al, tcp, sport, dport);
	while (off + 2 <= size) {
		const unsigned dir = data[off] >> 7;
		const bool close_after = data[off] & 0x40;
		size_t len = (size_t)(data[off] & 0x3f) << 8 | data[off + 1];
		uint8_t *piece;

		off += 2;
		if (len > size - off)
			len = size - off;
		/* a buffer of exactly the piece's size, so that ASan sees a read past it */
		piece = malloc(len ? len : 1);
		FUZZ_CHECK(piece != NULL);
		memcpy(piece, data + off, len);
		off += len;
		if (closed[dir]) {
			free(piece);
			continue;
		}
		clock_ns += 1000000;
		memset(&r->p, 0, sizeof(r->p));
		r->p.payload = piece;
		r->p.len = (uint32_t)len;
		r->p.family = v6 ? 6 : 4;
		r->p.proto = tcp ? IPPROTO_TCP : IPPROTO_UDP;
		r->p.tcp_flags = tcp ? 0x18 : 0; /* PSH ACK */
		r->p.flags = (uint8_t)((dir ? DET_PKT_TO_CLIENT : DET_PKT_TO_SERVER) |
				       (seen[dir ^ 1] || tcp ? DET_PKT_ESTABLISHED : 0) |
				       (seen[dir] ? 0 : DET_PKT_FIRST));
		r->p.sport = dir ? dport : sport;
		r->p.dport = dir ? sport : dport;
		r->p.src = (dir != 0) != client_home ? home : ext;
		r->p.dst = (dir != 0) != client_home ? ext : home;
		r->p.now_ns = t0 + clock_ns;
		r->p.flowbits = fb;
		r->p.app_proto = app;
		seen[dir] = true;
		/* the application layer first: the protocol it detects is what the rules see */
		if (fl != NULL) {
			(void)al_feed(r->al, fl, dir, piece, (uint32_t)len, on_tx, r);
			if (app == AL_PROTO_NONE && al_flow_proto(fl) != AL_PROTO_NONE)
				r->p.flags |= DET_PKT_PROTO_DONE;
			app = (uint8_t)al_flow_proto(fl);
			r->p.app_proto = app;
		}
		n = det_scan_packet(r->w, &r->p, m, MAX_MATCHES);
		check_and_record(r, m, n, MAX_MATCHES, 0);
		if (tcp && len > 0) {
			if (!opened[dir]) {
				FUZZ_CHECK(det_stream_open(r->w, st[dir], ssize, &r->p) == 0);
				opened[dir] = true;
			}
			n = det_stream_scan(r->w, st[dir], &r->p, m, MAX_MATCHES);
			check_and_record(r, m, n, MAX_MATCHES, 1);
		}
		if (close_after) {
			closed[dir] = true;
			if (fl != NULL)
				al_close(r->al, fl, dir, on_tx, r);
			if (opened[dir]) {
				n = det_stream_close(r->w, st[dir], &r->p, m, MAX_MATCHES);
				check_and_record(r, m, n, MAX_MATCHES, 1);
				opened[dir] = false;
			}
		}
		free(piece);
	}
	for (unsigned d = 0; d < 2; d++) {
		if (closed[d])
			continue;
		if (fl != NULL)
			al_close(r->al, fl, d, on_tx, r);
		if (opened[d]) {
			n = det_stream_close(r->w, st[d], NULL, NULL, 0);
			FUZZ_CHECK(n == 0);
		}
	}
	if (fl != NULL)
		al_flow_free(r->al, fl);
	free(st[0]);
	free(st[1]);
	free(fb);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint64_t t0;
	uint64_t c0;

	if (size < 1 || size > 1 << 20)
		return 0;
	if (eng == NULL)
		load();
	/* an hour between inputs: threshold windows of earlier inputs have passed */
	t0 += 3600ull * 1000000000ull;
	c0 = clock_ns;
	run_input(&runs[0], data, size, t0);
	clock_ns = c0;
	run_input(&runs[1], data, size, t0);
	if (recs[0].n != recs[1].n) {
		fprintf(stderr, "fuzz_inspect: %u matches, then %u on the same input\n", recs[0].n,
				recs[1].n);
		abort();
	}
	if (getenv("FUZZ_INSPECT_VERBOSE") != NULL)
		for (unsigned i = 0; i < recs[0].n; i++)
			fprintf(stderr, "fuzz_inspect: kind %u sid %u action %u end %u\n",
					recs[0].kind[i],
					det_engine_rule_info(eng, recs[0].m[i].rule)->sid,
					recs[0].m[i].action, recs[0].m[i].end);
	for (unsigned i = 0; i < recs[0].n; i++) {
		const struct det_match *a = &recs[0].m[i], *b = &recs[1].m[i];

		if (a->rule != b->rule || a->action != b->action || a->flags != b->flags ||
				a->end != b->end || recs[0].kind[i] != recs[1].kind[i]) {
			fprintf(stderr, "fuzz_inspect: match %u differs: rule %u/%u end %u/%u\n", i,
					a->rule, b->rule, a->end, b->end);
			abort();
		}
	}
	return 0;
}
