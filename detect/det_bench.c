/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * det_bench: signature scan throughput, not a test.
 *
 * For each rule count N it generates N literal rules (random 8-16 byte strings, fixed seed),
 * once as UDP rules and once as TCP stream rules, compiles the 2N rules (time, database size,
 * stream state), then scans generated payloads in block mode (one packet at a time, as UDP) and in
 * streaming mode (64 TCP directions fed round robin), for a fixed time each. A share of the
 * payloads carries one of the rules' strings. It prints a line per measurement and one JSON object
 * per rule count.
 *
 *   det_bench [-r 0,100,1000,10000] [-s 1460] [-t 1.0] [-m 1] [-S 1]
 *     -r  rule counts        -s  payload bytes per packet/segment
 *     -t  seconds per run    -m  percent of payloads holding a rule's string
 *     -S  random seed
 *   det_bench -x RULES [-t 1.0]
 *     transactions: generated HTTP and DNS traffic through the application-layer parsers,
 *     every stage through det_scan_tx against the rules at RULES (a file or directory)
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "al.h"
#include "det_engine.h"

#define N_PAYLOADS 1024
#define N_STREAMS  64

static uint64_t rng_state;

static uint32_t
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)rng_state;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
rand_word(char *out, unsigned len)
{
	static const char alpha[] =
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

	for (unsigned i = 0; i < len; i++)
		out[i] = alpha[rnd() % (sizeof(alpha) - 1)];
	out[len] = '\0';
}

struct result {
	double gbps;
	double cpb; /* TSC cycles per payload byte */
	double mpps;
	uint64_t matches;
};

static struct result
run_block(struct det_worker *w, uint8_t **pl, uint32_t size, double secs)
{
	static const uint8_t a[16] = { 10, 0, 0, 1 }, b[16] = { 10, 0, 0, 2 };
	struct det_match m[16];
	struct result r = { 0 };
	uint64_t bytes = 0, pkts = 0, c0, c1;
	double t0 = now_s(), t1;

	c0 = __rdtsc();
	do {
		for (int i = 0; i < N_PAYLOADS; i++) {
			struct det_pkt p = { .payload = pl[i],
				.len = size,
				.family = 4,
				.proto = IPPROTO_UDP,
				.flags = DET_PKT_TO_SERVER,
				.sport = 40000,
				.dport = 9999,
				.src = a,
				.dst = b };
			int n = det_scan_packet(w, &p, m, 16);

			r.matches += n > 0 ? (uint64_t)n : 0;
		}
		pkts += N_PAYLOADS;
		bytes += (uint64_t)N_PAYLOADS * size;
		t1 = now_s();
	} while (t1 - t0 < secs);
	c1 = __rdtsc();
	r.gbps = (double)bytes * 8 / (t1 - t0) / 1e9;
	r.cpb = (double)(c1 - c0) / (double)bytes;
	r.mpps = (double)pkts / (t1 - t0) / 1e6;
	return r;
}

static struct result
run_stream(struct det_worker *w, const struct det_engine *e, uint8_t **pl, uint32_t size,
		double secs)
{
	static const uint8_t a[16] = { 10, 0, 0, 1 }, b[16] = { 10, 0, 0, 2 };
	size_t ssize = det_stream_state_size(e);
	struct det_match m[16];
	struct result r = { 0 };
	uint64_t bytes = 0, segs = 0, c0, c1;
	double t0, t1;
	void *st[N_STREAMS];
	struct det_pkt p = { .len = size,
		.family = 4,
		.proto = IPPROTO_TCP,
		.flags = DET_PKT_TO_SERVER | DET_PKT_ESTABLISHED,
		.sport = 40000,
		.dport = 9999,
		.src = a,
		.dst = b };

	for (int s = 0; s < N_STREAMS; s++) {
		st[s] = aligned_alloc(64, (ssize + 63) & ~(size_t)63);
		if (st[s] == NULL || det_stream_open(w, st[s], ssize, &p) != 0) {
			fprintf(stderr, "det_bench: cannot open stream\n");
			exit(1);
		}
	}
	t0 = now_s();
	c0 = __rdtsc();
	do {
		for (int i = 0; i < N_PAYLOADS; i++) {
			int n;

			p.payload = pl[i];
			n = det_stream_scan(w, st[i % N_STREAMS], &p, m, 16);
			r.matches += n > 0 ? (uint64_t)n : 0;
		}
		segs += N_PAYLOADS;
		bytes += (uint64_t)N_PAYLOADS * size;
		t1 = now_s();
	} while (t1 - t0 < secs);
	c1 = __rdtsc();
	for (int s = 0; s < N_STREAMS; s++) {
		det_stream_close(w, st[s], NULL, NULL, 0);
		free(st[s]);
	}
	r.gbps = (double)bytes * 8 / (t1 - t0) / 1e9;
	r.cpb = (double)(c1 - c0) / (double)bytes;
	r.mpps = (double)segs / (t1 - t0) / 1e6;
	return r;
}

static int
bench(unsigned nrules, uint32_t size, double secs, unsigned match_pct)
{
	size_t cap = (size_t)nrules * 2 * 128 + 1, off = 0;
	char *text = malloc(cap), (*words)[17] = calloc(nrules ? nrules : 1, sizeof(*words));
	uint8_t *pl[N_PAYLOADS];
	struct det_load_opts lo;
	struct det_load_report rep;
	struct det_compile_report cr;
	struct det_compile_opts co;
	struct vg_diag d;
	struct det_set *set;
	struct det_engine *e;
	struct det_worker *w;
	struct result blk, str;
	double lt0, load_ms;

	if (text == NULL || words == NULL)
		return -ENOMEM;
	text[0] = '\0';
	/* the same strings as a UDP (block) rule and a TCP (stream) rule */
	for (unsigned i = 0; i < nrules; i++) {
		rand_word(words[i], 8 + rnd() % 9);
		off += (size_t)snprintf(text + off, cap - off,
				"alert udp any any -> any any (content:\"%s\"; sid:%u;)\n"
				"alert tcp any any -> any any (content:\"%s\"; sid:%u;)\n",
				words[i], 2 * i + 1, words[i], 2 * i + 2);
	}
	for (int i = 0; i < N_PAYLOADS; i++) {
		pl[i] = malloc(size);
		if (pl[i] == NULL)
			return -ENOMEM;
		/* printable text-like bytes, so literals are not trivially absent */
		for (uint32_t k = 0; k < size; k++)
			pl[i][k] = (uint8_t)(' ' + rnd() % 95);
		if (nrules > 0 && rnd() % 100 < match_pct) {
			const char *wd = words[rnd() % nrules];
			size_t l = strlen(wd);

			if (l < size)
				memcpy(pl[i] + rnd() % (size - l), wd, l);
		}
	}

	det_load_opts_default(&lo);
	vg_diag_init(&d);
	lt0 = now_s();
	set = det_load_buf("bench.rules", text, off, &lo, &rep, &d);
	load_ms = (now_s() - lt0) * 1e3;
	if (set == NULL || rep.rejected != 0) {
		fprintf(stderr, "det_bench: rules did not load\n");
		return -EINVAL;
	}
	/* no stream depth: every byte fed is scanned */
	det_compile_opts_default(&co);
	co.stream_depth = 0;
	e = det_compile(set, &co, &cr, &d);
	if (e == NULL) {
		vg_diag_print(&d, stderr);
		return -EINVAL;
	}
	w = det_worker_create(e, -1);
	if (w == NULL)
		return -ENOMEM;

	blk = run_block(w, pl, size, secs);
	str = run_stream(w, e, pl, size, secs);

	printf("rules %5u: load %8.1f ms, compile %8.1f ms, databases %9zu bytes, scratch %7zu "
	       "bytes, stream state %5zu bytes/direction\n",
			nrules, load_ms, cr.compile_ms, cr.db_bytes, cr.scratch_bytes,
			cr.stream_state_bytes);
	printf("            block  %u-byte packets: %7.2f Gbps %7.2f Mpps %7.2f cycles/byte "
	       "(%lu matches)\n",
			size, blk.gbps, blk.mpps, blk.cpb, (unsigned long)blk.matches);
	printf("            stream %u-byte segments: %6.2f Gbps %7.2f Mpps %7.2f cycles/byte "
	       "(%lu matches)\n",
			size, str.gbps, str.mpps, str.cpb, (unsigned long)str.matches);
	printf("{\"bench\":\"det\",\"rules\":%u,\"payload_bytes\":%u,\"match_pct\":%u,"
	       "\"load_ms\":%.2f,\"compile_ms\":%.2f,\"db_bytes\":%zu,\"scratch_bytes\":%zu,"
	       "\"stream_state_bytes\":%zu,\"block_gbps\":%.3f,\"block_mpps\":%.3f,"
	       "\"block_cycles_per_byte\":%.3f,\"stream_gbps\":%.3f,\"stream_mpps\":%.3f,"
	       "\"stream_cycles_per_byte\":%.3f}\n",
			nrules, size, match_pct, load_ms, cr.compile_ms, cr.db_bytes,
			cr.scratch_bytes, cr.stream_state_bytes, blk.gbps, blk.mpps, blk.cpb,
			str.gbps, str.mpps, str.cpb);
	fflush(stdout);

	det_worker_free(w);
	det_engine_free(e);
	det_set_free(set);
	det_load_report_free(&rep);
	det_compile_report_free(&cr);
	vg_diag_free(&d);
	for (int i = 0; i < N_PAYLOADS; i++)
		free(pl[i]);
	free(words);
	free(text);
	return 0;
}

/* ---- transactions: HTTP and DNS through the parsers and det_scan_tx ---- */

#define TX_FLOWS    64
#define TX_PER_FLOW 8
#define TX_BODY	    512

struct txbench {
	struct det_worker *w;
	struct det_pkt p;
	uint64_t events, matches, cycles;
};

static void
txb_cb(void *arg, const struct al_tx *tx, unsigned stage, unsigned dir)
{
	struct txbench *b = arg;
	struct det_match m[16];
	uint64_t c0 = __rdtsc();
	int n;

	b->p.flags = (uint8_t)(DET_PKT_ESTABLISHED |
			       (dir == AL_TO_SERVER ? DET_PKT_TO_SERVER : DET_PKT_TO_CLIENT));
	b->p.app_proto = tx->proto;
	n = det_scan_tx(b->w, &b->p, tx, stage, dir, m, 16);
	b->cycles += __rdtsc() - c0;
	b->events++;
	b->matches += n > 0 ? (uint64_t)n : 0;
}

/* A DNS query for name (dotted) with id, as a UDP payload; returns its length. */
static uint32_t
dns_query(uint8_t *out, uint16_t id, const char *name, bool response)
{
	uint32_t o = 12, l;
	const char *s = name;

	memset(out, 0, 12);
	out[0] = (uint8_t)(id >> 8);
	out[1] = (uint8_t)id;
	out[2] = response ? 0x81 : 0x01;
	out[3] = response ? 0x80 : 0x00;
	out[5] = 1;
	while (*s) {
		const char *dot = strchr(s, '.');

		l = dot ? (uint32_t)(dot - s) : (uint32_t)strlen(s);
		out[o++] = (uint8_t)l;
		memcpy(out + o, s, l);
		o += l;
		s += l + (dot ? 1 : 0);
	}
	out[o++] = 0;
	out[o++] = 0;
	out[o++] = 1; /* A */
	out[o++] = 0;
	out[o++] = 1; /* IN */
	return o;
}

/*
 * Load the rules at path (ET Open, say), and inspect generated benign traffic: HTTP/1.1
 * requests and responses (8 per connection, random paths, hosts and bodies) and DNS queries
 * and responses, through the parsers with det_scan_tx on every stage. Reports the cycles
 * det_scan_tx takes per transaction, apart from the parsers' time.
 */
static int
bench_tx(const char *path, double secs)
{
	static const uint8_t a[16] = { 10, 0, 0, 1 }, bsrv[16] = { 192, 0, 2, 80 };
	static char req[TX_FLOWS][TX_PER_FLOW][512], resp[TX_FLOWS][TX_PER_FLOW][1024];
	static uint8_t dq[TX_FLOWS][256], dr[TX_FLOWS][256];
	static uint32_t dql[TX_FLOWS], drl[TX_FLOWS];
	const char *paths[] = { path };
	struct det_load_opts lo;
	struct det_load_report rep;
	struct det_compile_report cr;
	struct det_vars *vars = det_vars_create();
	struct vg_diag d;
	struct det_set *set;
	struct det_engine *e;
	struct txbench b = { 0 };
	struct al_ctx *c;
	uint64_t http_tx = 0, dns_tx = 0, http_cyc = 0, dns_cyc = 0, http_ev = 0, dns_ev = 0;
	double t0, t1;

	if (vars == NULL || det_vars_set_defaults(vars) != 0)
		return -ENOMEM;
	det_load_opts_default(&lo);
	lo.vars = vars;
	vg_diag_init(&d);
	set = det_load(paths, 1, &lo, &rep, &d);
	if (set == NULL)
		return -ENOMEM;
	e = det_compile(set, NULL, &cr, &d);
	if (e == NULL) {
		vg_diag_print(&d, stderr);
		return -EINVAL;
	}
	b.w = det_worker_create(e, -1);
	c = al_ctx_create(NULL);
	if (b.w == NULL || c == NULL)
		return -ENOMEM;
	for (int f = 0; f < TX_FLOWS; f++) {
		char host[24], name[64];

		for (int k = 0; k < TX_PER_FLOW; k++) {
			char word[17], body[TX_BODY + 1];

			rand_word(word, 12);
			rand_word(host, 10);
			static const char *const shapes[] = { "/static/%s/app.%08x.js",
				"/images/%s/%08x.png", "/api/v1/items/%s?page=%u",
				"/%s/%08x.html" };

			char path[128];

			snprintf(path, sizeof(path), shapes[k % 4], word, rnd());
			snprintf(req[f][k], sizeof(req[f][k]),
					"%s %s HTTP/1.1\r\nHost: www.%s.com\r\n"
					"User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) "
					"AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 "
					"Safari/537.36\r\nAccept: text/html,*/*;q=0.8\r\n"
					"Accept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, "
					"deflate\r\nCookie: session=%s\r\nConnection: keep-alive"
					"\r\n\r\n",
					k % 4 == 3 ? "POST" : "GET", path, host, word);
			for (int i = 0; i < TX_BODY; i++)
				body[i] = (char)(' ' + rnd() % 95);
			body[TX_BODY] = '\0';
			snprintf(resp[f][k], sizeof(resp[f][k]),
					"HTTP/1.1 200 OK\r\nServer: nginx/1.24.0\r\nDate: Mon, 01 Jan "
					"2024 00:00:00 GMT\r\nContent-Type: text/html; "
					"charset=utf-8\r\nContent-Length: %d\r\nConnection: "
					"keep-alive\r\n\r\n%s",
					TX_BODY, body);
		}
		rand_word(host, 9);
		snprintf(name, sizeof(name), "www.%s.example.com", host);
		dql[f] = dns_query(dq[f], (uint16_t)rnd(), name, false);
		drl[f] = dns_query(dr[f], (uint16_t)(dq[f][0] << 8 | dq[f][1]), name, true);
	}
	b.p.family = 4;
	b.p.src = a;
	b.p.dst = bsrv;
	b.p.sport = 40000;
	t0 = now_s();
	do {
		uint64_t cyc = b.cycles, ev = b.events;

		/* HTTP: keep-alive connections, requests and responses in turn */
		b.p.proto = IPPROTO_TCP;
		b.p.dport = 80;
		for (int f = 0; f < TX_FLOWS; f++) {
			struct al_flow *fl = al_flow_new(c, true, 40000, 80);

			if (fl == NULL)
				return -ENOMEM;
			for (int k = 0; k < TX_PER_FLOW; k++) {
				b.p.payload = (const uint8_t *)req[f][k];
				b.p.len = (uint32_t)strlen(req[f][k]);
				(void)al_feed(c, fl, AL_TO_SERVER, b.p.payload, b.p.len, txb_cb,
						&b);
				b.p.payload = (const uint8_t *)resp[f][k];
				b.p.len = (uint32_t)strlen(resp[f][k]);
				(void)al_feed(c, fl, AL_TO_CLIENT, b.p.payload, b.p.len, txb_cb,
						&b);
			}
			al_flow_free(c, fl);
		}
		http_tx += TX_FLOWS * TX_PER_FLOW;
		http_cyc += b.cycles - cyc;
		http_ev += b.events - ev;
		cyc = b.cycles;
		ev = b.events;
		/* DNS: a query and its answer per flow */
		b.p.proto = IPPROTO_UDP;
		b.p.dport = 53;
		for (int f = 0; f < TX_FLOWS; f++) {
			struct al_flow *fl = al_flow_new(c, false, 40000, 53);

			if (fl == NULL)
				return -ENOMEM;
			b.p.payload = dq[f];
			b.p.len = dql[f];
			(void)al_feed(c, fl, AL_TO_SERVER, dq[f], dql[f], txb_cb, &b);
			b.p.payload = dr[f];
			b.p.len = drl[f];
			(void)al_feed(c, fl, AL_TO_CLIENT, dr[f], drl[f], txb_cb, &b);
			al_flow_free(c, fl);
		}
		dns_tx += TX_FLOWS;
		dns_cyc += b.cycles - cyc;
		dns_ev += b.events - ev;
		t1 = now_s();
	} while (t1 - t0 < secs);
	{
		const struct det_worker_stats *st = det_worker_stats(b.w);

		printf("rules %u loaded (%u on transactions), compiled in %.1f ms, %zu bytes of "
		       "databases\n",
				rep.loaded, rep.tx, cr.compile_ms, cr.db_bytes);
		printf("  http: %lu transactions, %lu stage events, %.0f cycles of det_scan_tx per "
		       "transaction (%.0f per event)\n",
				(unsigned long)http_tx, (unsigned long)http_ev,
				(double)http_cyc / (double)http_tx,
				(double)http_cyc / (double)http_ev);
		printf("  dns:  %lu transactions, %lu stage events, %.0f cycles of det_scan_tx per "
		       "transaction (%.0f per event)\n",
				(unsigned long)dns_tx, (unsigned long)dns_ev,
				(double)dns_cyc / (double)dns_tx, (double)dns_cyc / (double)dns_ev);
		printf("  %lu buffer scans, %lu candidates, %lu confirmed of them failed, %lu "
		       "matches; wall %.1f s with the parsers\n",
				(unsigned long)st->tx_scans, (unsigned long)st->candidates,
				(unsigned long)st->confirm_fail, (unsigned long)b.matches, t1 - t0);
		printf("{\"bench\":\"det_tx\",\"rules\":%u,\"tx_rules\":%u,\"compile_ms\":%.1f,"
		       "\"http_cycles_per_tx\":%.0f,\"dns_cycles_per_tx\":%.0f,"
		       "\"http_tx\":%lu,\"dns_tx\":%lu,\"matches\":%lu}\n",
				rep.loaded, rep.tx, cr.compile_ms,
				(double)http_cyc / (double)http_tx,
				(double)dns_cyc / (double)dns_tx, (unsigned long)http_tx,
				(unsigned long)dns_tx, (unsigned long)b.matches);
	}
	al_ctx_free(c);
	det_worker_free(b.w);
	det_engine_free(e);
	det_set_free(set);
	det_load_report_free(&rep);
	det_compile_report_free(&cr);
	det_vars_free(vars);
	vg_diag_free(&d);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *counts = "0,100,1000,10000";
	uint32_t size = 1460;
	double secs = 1.0;
	unsigned match_pct = 1;
	const char *txpath = NULL;
	char *list, *tok, *save;
	int opt;

	rng_state = 1;
	while ((opt = getopt(argc, argv, "r:s:t:m:S:x:h")) != -1) {
		switch (opt) {
		case 'x':
			txpath = optarg;
			break;
		case 'r':
			counts = optarg;
			break;
		case 's':
			size = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 't':
			secs = strtod(optarg, NULL);
			break;
		case 'm':
			match_pct = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'S':
			rng_state = strtoull(optarg, NULL, 10) | 1;
			break;
		default:
			fprintf(stderr,
					"usage: %s [-r 0,100,1000,10000] [-s bytes] [-t seconds] "
					"[-m match%%] [-S seed] [-x rules-path]\n"
					"  -x: transactions (HTTP, DNS) through the parsers against "
					"the rules at rules-path\n",
					argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (size < 32 || size > 65535 || secs <= 0 || match_pct > 100) {
		fprintf(stderr, "det_bench: -s 32..65535, -t > 0, -m 0..100\n");
		return 2;
	}
	if (txpath != NULL)
		return bench_tx(txpath, secs) == 0 ? 0 : 1;
	list = strdup(counts);
	for (tok = strtok_r(list, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save))
		if (bench((unsigned)strtoul(tok, NULL, 10), size, secs, match_pct) != 0)
			return 1;
	free(list);
	return 0;
}
