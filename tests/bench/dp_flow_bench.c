/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_flow_bench: the flow table alone, as the worker drives it, in cycles per packet. A
 * benchmark, not a test: it prints a table and writes one JSON object per line.
 *
 *   dp_flow_bench [EAL args] -- [-n 1,10000,100000,1000000] [-o in,shuffled] [-t seconds]
 *                 [-p passes] [-T new,old] [-j out.json]
 *   dp_flow_bench [EAL args] -- -P       the parse stage's own cost (see run_parse)
 *   dp_flow_bench [EAL args] -- -F [-n ...] [-T new,old]   a SYN flood against a full table
 *                                        (see run_flood)
 *
 * For each flow count N and order: N established TCP flows (IPv4, 64-byte frames, both
 * directions), created in a first pass; then passes over them in bursts of 32, each packet of
 * a different flow, in creation order ("in": entries in memory order) or in a fixed random
 * order ("shuffled": every lookup a cache miss once N outgrows the caches). Per packet:
 * key and hash (what the parse stage does), lookup (the flow stage), and the per-packet update
 * (expiry check and accounting, the decide stage's part). Then creation: N new flows into an
 * empty table, cycles per flow (no events). "old" is the table this one replaced
 * (tests/unit/dataplane/ref_flow_old.c), on the same packets.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dp_flow.h"
#include "dp_parse_mbuf.h"
#include "ref_flow_old.h"

#define BURST 32
#define SEC   1000000000ULL

struct result {
	const char *table;
	uint32_t flows;
	const char *order;
	uint64_t packets;
	double key, lookup, update, total; /* cycles per packet */
	double create;			   /* cycles per new flow */
	double bytes_per_flow;
};

/* Flow k's packet in direction dir: addresses and ports from k, no memory read. */
static void
packet(uint32_t k, unsigned dir, struct dp_pkt *p)
{
	uint32_t a = htonl(0x0a000000u | (k >> 8)), b = htonl(0x0b000000u | (k >> 16));
	uint16_t ap = (uint16_t)(1024 + (k & 0xff)), bp = (uint16_t)(80 + ((k >> 8) & 0xff));

	memset(p, 0, sizeof(*p));
	p->l3 = DP_L3_IPV4;
	p->proto = IPPROTO_TCP;
	p->tcp_flags = DP_TCPF_ACK;
	p->l4_off = 34;
	p->payload_off = 54;
	p->payload_len = 10;
	memcpy(dir ? p->dst : p->src, &a, 4);
	memcpy(dir ? p->src : p->dst, &b, 4);
	p->sport = dir ? bp : ap;
	p->dport = dir ? ap : bp;
}

/* The i-th flow visited: in creation order, or a fixed permutation of it. */
static inline uint32_t
visit(uint64_t i, uint32_t n, bool shuffled)
{
	return shuffled ? (uint32_t)((i * 2654435761ULL + 12345) % n) : (uint32_t)(i % n);
}

static struct dp_flow_timeouts
timeouts(void)
{
	return (struct dp_flow_timeouts){
		.tcp_syn = 30 * SEC,
		.tcp_established = 3600 * SEC,
		.tcp_closing = 120 * SEC,
		.tcp_time_wait = 10 * SEC,
		.tcp_closed = 10 * SEC,
		.udp = 60 * SEC,
		.icmp = 30 * SEC,
		.other = 60 * SEC,
	};
}

static uint32_t
table_size(uint32_t flows)
{
	return flows * 2 < 256 * 1024 ? 256 * 1024 : flows * 2;
}

static unsigned serial;
static unsigned bench_reps = 200000;

static void
run_new(uint32_t n, bool shuffled, double seconds, uint64_t min_passes, struct result *r)
{
	struct dp_flow_params fp = {
		.max_flows = table_size(n),
		.evict = true,
		.midstream = true,
		.aging_batch = 8,
		.update_interval_ns = 60 * SEC,
		.timeouts = timeouts(),
		.worker = serial++,
		.socket = (int)rte_socket_id(),
	};
	struct dp_flow_table *t = dp_flow_table_create(&fp);
	struct dp_pkt pk[BURST];
	struct dp_flow_lkey lk[BURST];
	int32_t pos[BURST];
	uint64_t now = 1000 * SEC, c_key = 0, c_look = 0, c_upd = 0, pkts = 0;
	uint64_t deadline, t0, t1, t2, t3;
	bool created;

	if (t == NULL) {
		fprintf(stderr, "dp_flow_table_create: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	/* Creation, timed: the first pass. */
	t0 = rte_rdtsc();
	for (uint32_t k = 0; k < n; k++) {
		packet(k, 0, &pk[0]);
		dp_flow_lkey_make(t, &pk[0], &lk[0]);
		int32_t ps = dp_flow_create_lk(t, &lk[0], lk[0].src_is_b, 0, now, &created);

		dp_flow_packet(t, ps, &pk[0], lk[0].src_is_b, 64, now);
		dp_flow_hot_at(t, ps)->verdict = DP_VERDICT_ALLOW;
	}
	r->create = (double)(rte_rdtsc() - t0) / n;

	deadline = rte_rdtsc() + (uint64_t)(seconds * (double)rte_get_tsc_hz());
	for (uint64_t i = 0; pkts < min_passes * n || rte_rdtsc() < deadline;) {
		for (unsigned j = 0; j < BURST; j++, i++)
			packet(visit(i, n, shuffled), (unsigned)(i / n) & 1, &pk[j]);
		now += 1000;
		t0 = rte_rdtsc();
		for (unsigned j = 0; j < BURST; j++)
			dp_flow_lkey_make(t, &pk[j], &lk[j]);
		t1 = rte_rdtsc();
		dp_flow_lookup_burst(t, lk, BURST, pos, NULL);
		t2 = rte_rdtsc();
		for (unsigned j = 0; j < BURST; j++) {
			if (unlikely(pos[j] < 0 || dp_flow_expired(t, pos[j], now)))
				abort();
			dp_flow_packet(t, pos[j], &pk[j], lk[j].src_is_b, 64, now);
		}
		t3 = rte_rdtsc();
		c_key += t1 - t0;
		c_look += t2 - t1;
		c_upd += t3 - t2;
		pkts += BURST;
	}
	r->table = "new";
	r->packets = pkts;
	r->key = (double)c_key / pkts;
	r->lookup = (double)c_look / pkts;
	r->update = (double)c_upd / pkts;
	r->total = r->key + r->lookup + r->update;
	r->bytes_per_flow = (double)dp_flow_table_memory(t) / dp_flow_table_entries(t);
	dp_flow_table_free(t);
}

static void
run_old(uint32_t n, bool shuffled, double seconds, uint64_t min_passes, struct result *r)
{
	struct ref_flow_params fp = {
		.max_flows = table_size(n),
		.evict = true,
		.midstream = true,
		.aging_batch = 8,
		.update_interval_ns = 60 * SEC,
		.worker = 1000 + serial++,
		.socket = (int)rte_socket_id(),
	};
	struct ref_flow_table *t;
	struct dp_pkt pk[BURST];
	struct ref_flow_key wk[BURST];
	const struct ref_flow_key *wkp[BURST];
	unsigned sb[BURST];
	int32_t pos[BURST];
	uint64_t now = 1000 * SEC, c_key = 0, c_look = 0, c_upd = 0, pkts = 0;
	uint64_t deadline, t0, t1, t2, t3;
	bool created;

	struct dp_flow_timeouts to = timeouts();

	memcpy(&fp.timeouts, &to, sizeof(to));
	t = ref_flow_table_create(&fp);
	if (t == NULL) {
		fprintf(stderr, "ref_flow_table_create: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	for (unsigned j = 0; j < BURST; j++)
		wkp[j] = &wk[j];
	t0 = rte_rdtsc();
	for (uint32_t k = 0; k < n; k++) {
		packet(k, 0, &pk[0]);
		sb[0] = ref_flow_key_make(&pk[0], &wk[0]);
		int32_t ps = ref_flow_create(t, &wk[0], sb[0], 0, now, &created);

		ref_flow_packet(t, ps, &pk[0], sb[0], 64, now);
		ref_flow_at(t, ps)->verdict = DP_VERDICT_ALLOW;
	}
	r->create = (double)(rte_rdtsc() - t0) / n;

	deadline = rte_rdtsc() + (uint64_t)(seconds * (double)rte_get_tsc_hz());
	for (uint64_t i = 0; pkts < min_passes * n || rte_rdtsc() < deadline;) {
		for (unsigned j = 0; j < BURST; j++, i++)
			packet(visit(i, n, shuffled), (unsigned)(i / n) & 1, &pk[j]);
		now += 1000;
		t0 = rte_rdtsc();
		for (unsigned j = 0; j < BURST; j++)
			sb[j] = ref_flow_key_make(&pk[j], &wk[j]);
		t1 = rte_rdtsc();
		ref_flow_lookup_bulk(t, wkp, BURST, pos);
		t2 = rte_rdtsc();
		for (unsigned j = 0; j < BURST; j++) {
			if (unlikely(pos[j] < 0 || ref_flow_expired(t, pos[j], now)))
				abort();
			ref_flow_packet(t, pos[j], &pk[j], sb[j], 64, now);
		}
		t3 = rte_rdtsc();
		c_key += t1 - t0;
		c_look += t2 - t1;
		c_upd += t3 - t2;
		pkts += BURST;
	}
	r->table = "old";
	r->packets = pkts;
	r->key = (double)c_key / pkts;
	r->lookup = (double)c_look / pkts;
	r->update = (double)c_upd / pkts;
	r->total = r->key + r->lookup + r->update;
	r->bytes_per_flow = (double)ref_flow_table_memory(t) / fp.max_flows;
	ref_flow_table_free(t);
}

/* The table a flood bench drives: the new one, or the old (rt). */
struct flood {
	struct dp_flow_table *t;
	struct ref_flow_table *rt;
	uint64_t now;
};

/* One packet of flow k in direction dir (a SYN when syn) as the worker sends it: looked up,
 * created on a miss, accounted. False when the flow could not be had (overflow). */
static bool
flood_feed(struct flood *fl, uint32_t k, unsigned dir, bool syn)
{
	struct dp_pkt pk;
	bool created;
	int32_t ps;

	packet(k, dir, &pk);
	if (syn)
		pk.tcp_flags = DP_TCPF_SYN;
	if (fl->rt != NULL) {
		struct ref_flow_key wk;
		unsigned sb = ref_flow_key_make(&pk, &wk);

		ps = ref_flow_lookup(fl->rt, &wk);
		if (ps < 0)
			ps = ref_flow_create(fl->rt, &wk, sb, 0, fl->now, &created);
		if (ps >= 0)
			ref_flow_packet(fl->rt, ps, &pk, sb, 64, fl->now);
	} else {
		struct dp_flow_lkey lk;

		dp_flow_lkey_make(fl->t, &pk, &lk);
		ps = dp_flow_find(fl->t, &lk);
		if (ps < 0)
			ps = dp_flow_create_lk(fl->t, &lk, lk.src_is_b, 0, fl->now, &created);
		if (ps >= 0)
			dp_flow_packet(fl->t, ps, &pk, lk.src_is_b, 64, fl->now);
	}
	return ps >= 0;
}

/* Is flow k in the table? */
static bool
flood_has(struct flood *fl, uint32_t k)
{
	struct dp_pkt pk;

	packet(k, 1, &pk);
	if (fl->rt != NULL) {
		struct ref_flow_key wk;

		ref_flow_key_make(&pk, &wk);
		return ref_flow_lookup(fl->rt, &wk) >= 0;
	}
	struct dp_flow_lkey lk;

	dp_flow_lkey_make(fl->t, &pk, &lk);
	return dp_flow_find(fl->t, &lk) >= 0;
}

/*
 * A SYN flood against a full table: a table of n entries holding n/2 answered, active
 * connections (a packet each way) and n/2 SYNs never answered; then n SYNs of new flows, one
 * second later. Cycles per new flow (lookup, creation with its eviction or overflow, the
 * packet), how many could not be tracked, and how many connections are left. The old table
 * evicts the stalest of 8 sampled flows whatever it is, so it gives up connections too.
 */
static void
run_flood(uint32_t n, bool old_table)
{
	struct dp_flow_params fp = {
		.max_flows = n,
		.evict = true,
		.midstream = true,
		.aging_batch = 8,
		.update_interval_ns = 60 * SEC,
		.timeouts = timeouts(),
		.worker = serial++,
		.socket = (int)rte_socket_id(),
	};
	struct ref_flow_params rp = {
		.max_flows = n,
		.evict = true,
		.midstream = true,
		.aging_batch = 8,
		.update_interval_ns = 60 * SEC,
		.worker = 1000 + serial++,
		.socket = (int)rte_socket_id(),
	};
	struct flood fl = { .now = 1000 * SEC };
	uint64_t t0, cycles, failed = 0, left = 0;

	memcpy(&rp.timeouts, &fp.timeouts, sizeof(rp.timeouts));
	if (old_table)
		fl.rt = ref_flow_table_create(&rp);
	else
		fl.t = dp_flow_table_create(&fp);
	if (fl.t == NULL && fl.rt == NULL) {
		fprintf(stderr, "flood bench: no table: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	if (!old_table)
		n = dp_flow_table_entries(fl.t);
	for (uint32_t k = 0; k < n / 2; k++) {
		flood_feed(&fl, k, 0, false);
		flood_feed(&fl, k, 1, false);
	}
	for (uint32_t k = n / 2; k < n; k++)
		flood_feed(&fl, k, 0, true);
	fl.now += SEC;
	t0 = rte_rdtsc();
	for (uint32_t k = n; k < 2 * n; k++)
		failed += !flood_feed(&fl, k, 0, true);
	cycles = rte_rdtsc() - t0;
	for (uint32_t k = 0; k < n / 2; k++)
		left += flood_has(&fl, k);
	printf("| %s | %u | %.0f | %" PRIu64 " | %" PRIu64 " of %u |\n", old_table ? "old" : "new",
			n, (double)cycles / n, failed, left, n / 2);
	fflush(stdout);
	dp_flow_table_free(fl.t);
	ref_flow_table_free(fl.rt);
}

/*
 * The parse stage's own work on one burst of 32 identical 64-byte TCP frames in mbufs (in
 * cache, as after rx): the parser alone, then with the flow key and hash. Cycles per packet,
 * the best of many bursts (a shared machine only ever adds cycles).
 */
static void
run_parse(void)
{
	static const uint8_t frame[64] = {
		0,
		1,
		2,
		3,
		4,
		5,
		6,
		7,
		8,
		9,
		10,
		11,
		0x08,
		0x00, /* Ethernet */
		0x45,
		0,
		0,
		50,
		0,
		1,
		0x40,
		0,
		64,
		6,
		0,
		0,
		10,
		0,
		0,
		1,
		11,
		0,
		0,
		1, /* IPv4 */
		0x04,
		0x00,
		0x00,
		0x50,
		0,
		0,
		0,
		1,
		0,
		0,
		0,
		1,
		0x50,
		0x10,
		0x20,
		0x00,
		0,
		0,
		0,
		0,
	};
	struct rte_mempool *mp = rte_pktmbuf_pool_create(
			"bench_parse", 63, 0, 0, 2176, (int)rte_socket_id());
	struct rte_mbuf *m[BURST];
	struct dp_pkt meta[BURST];
	struct dp_flow_lkey lk[BURST];
	struct dp_parse_policy pol = dp_parse_policy_default();
	struct dp_parse_counters ctr = { 0 };
	struct dp_flow_params fp = {
		.max_flows = 1024,
		.timeouts = timeouts(),
		.worker = serial++,
		.socket = (int)rte_socket_id(),
	};
	struct dp_flow_table *t = dp_flow_table_create(&fp);
	uint8_t f[64];
	uint64_t best_p = UINT64_MAX, best_pk = UINT64_MAX, best_pkn = UINT64_MAX;
	unsigned drops = 0;

	if (mp == NULL || t == NULL || rte_pktmbuf_alloc_bulk(mp, m, BURST) != 0) {
		fprintf(stderr, "parse bench: no mbufs\n");
		exit(1);
	}
	memcpy(f, frame, sizeof(f));
	/* The IPv4 header checksum, so that the software check passes. */
	{
		uint32_t sum = 0;

		for (unsigned i = 14; i < 34; i += 2)
			sum += (uint32_t)f[i] << 8 | f[i + 1];
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		f[24] = (uint8_t)(~sum >> 8);
		f[25] = (uint8_t)~sum;
	}
	for (unsigned j = 0; j < BURST; j++) {
		memcpy(rte_pktmbuf_append(m[j], 64), f, 64);
		m[j]->ol_flags = 0;
	}
	for (unsigned rep = 0; rep < bench_reps; rep++) {
		uint64_t t0 = rte_rdtsc();

		for (unsigned j = 0; j < BURST; j++)
			drops += dp_parse_mbuf(m[j], &meta[j], &pol, &ctr);
		uint64_t t1 = rte_rdtsc();

		for (unsigned j = 0; j < BURST; j++) {
			drops += dp_parse_mbuf(m[j], &meta[j], &pol, &ctr);
			dp_flow_lkey_make(t, &meta[j], &lk[j]);
		}
		uint64_t t2 = rte_rdtsc();

		pol.ipv4_cksum = false;
		for (unsigned j = 0; j < BURST; j++) {
			drops += dp_parse_mbuf(m[j], &meta[j], &pol, &ctr);
			dp_flow_lkey_make(t, &meta[j], &lk[j]);
		}
		pol.ipv4_cksum = true;
		uint64_t t3 = rte_rdtsc();

		if (t1 - t0 < best_p)
			best_p = t1 - t0;
		if (t2 - t1 < best_pk)
			best_pk = t2 - t1;
		if (t3 - t2 < best_pkn)
			best_pkn = t3 - t2;
	}
	printf("parse (64-byte IPv4 TCP, best of 200000 bursts of %u): parser %.1f, parser + key "
	       "%.1f, the same without the IPv4 checksum %.1f cycles/packet; fast path taken %" PRIu64
	       " of %" PRIu64 ", %u dropped\n",
			BURST, (double)best_p / BURST, (double)best_pk / BURST,
			(double)best_pkn / BURST, ctr.tcp, ctr.err[0], drops);
	rte_pktmbuf_free_bulk(m, BURST);
	rte_mempool_free(mp);
	dp_flow_table_free(t);
}

static unsigned
parse_list(const char *s, uint32_t *out, unsigned max)
{
	unsigned n = 0;

	while (*s != '\0' && n < max) {
		char *end;
		unsigned long v = strtoul(s, &end, 10);

		if (end == s)
			break;
		if (*end == 'k')
			v *= 1000, end++;
		else if (*end == 'm' || *end == 'M')
			v *= 1000000, end++;
		out[n++] = (uint32_t)v;
		s = *end == ',' ? end + 1 : end;
	}
	return n;
}

int
main(int argc, char **argv)
{
	uint32_t flows[8] = { 1, 10000, 100000, 1000000 };
	unsigned n_flows = 4;
	bool do_in = true, do_shuf = true, do_new = true, do_old = true, do_parse = false;
	bool do_flood = false;
	double seconds = 1.0;
	uint64_t passes = 1;
	const char *json = NULL;
	FILE *jf = NULL;
	int rc, c;

	rc = rte_eal_init(argc, argv);
	if (rc < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= rc;
	argv += rc;
	while ((c = getopt(argc, argv, "n:o:t:p:T:j:PFh")) != -1) {
		switch (c) {
		case 'n':
			n_flows = parse_list(optarg, flows, RTE_DIM(flows));
			break;
		case 'o':
			do_in = strstr(optarg, "in") != NULL;
			do_shuf = strstr(optarg, "shuf") != NULL;
			break;
		case 't':
			seconds = atof(optarg);
			break;
		case 'p':
			passes = strtoull(optarg, NULL, 10);
			break;
		case 'T':
			do_new = strstr(optarg, "new") != NULL;
			do_old = strstr(optarg, "old") != NULL;
			break;
		case 'j':
			json = optarg;
			break;
		case 'P':
			do_parse = true;
			break;
		case 'F':
			do_flood = true;
			break;
		default:
			fprintf(stderr, "usage: dp_flow_bench [EAL args] -- [-n 1,10k,100k,1m] "
					"[-o in,shuffled] [-t seconds] [-p passes] [-T new,old] "
					"[-j out.json]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (do_parse) {
		if (getenv("DP_FLOW_BENCH_REPS") != NULL)
			bench_reps = (unsigned)atoi(getenv("DP_FLOW_BENCH_REPS"));
		run_parse();
		rte_eal_cleanup();
		return 0;
	}
	if (do_flood) {
		printf("| table | entries | cycles per new flow | new flows not tracked | "
		       "connections left |\n|---|---|---|---|---|\n");
		for (unsigned f = 0; f < n_flows; f++)
			for (unsigned k = 0; k < 2; k++)
				if ((k == 0 && do_old) || (k == 1 && do_new))
					run_flood(flows[f] < 1024 ? 1024 : flows[f], k == 0);
		rte_eal_cleanup();
		return 0;
	}
	if (json != NULL && (jf = fopen(json, "w")) == NULL) {
		perror(json);
		return 1;
	}
	printf("| table | flows | order | key+hash | lookup | update | total cycles/pkt | create "
	       "cycles/flow | bytes/flow |\n|---|---|---|---|---|---|---|---|---|\n");
	for (unsigned f = 0; f < n_flows; f++)
		for (unsigned o = 0; o < 2; o++) {
			if ((o == 0 && !do_in) || (o == 1 && !do_shuf))
				continue;
			for (unsigned k = 0; k < 2; k++) {
				struct result r = { 0 };

				if ((k == 0 && !do_old) || (k == 1 && !do_new))
					continue;
				r.flows = flows[f];
				r.order = o ? "shuffled" : "in";
				if (k == 0)
					run_old(flows[f], o == 1, seconds, passes, &r);
				else
					run_new(flows[f], o == 1, seconds, passes, &r);
				printf("| %s | %u | %s | %.1f | %.1f | %.1f | %.1f | %.0f | %.0f |\n",
						r.table, r.flows, r.order, r.key, r.lookup,
						r.update, r.total, r.create, r.bytes_per_flow);
				fflush(stdout);
				if (jf != NULL)
					fprintf(jf,
							"{\"bench\": \"dp_flow\", \"table\": \"%s\", "
							"\"flows\": %u, \"order\": \"%s\", \"packets\": "
							"%" PRIu64 ", \"cycles_key\": %.2f, "
							"\"cycles_lookup\": %.2f, \"cycles_update\": %.2f, "
							"\"cycles_total\": %.2f, \"cycles_create\": %.1f, "
							"\"bytes_per_flow\": %.1f, \"tsc_hz\": %" PRIu64
							"}\n",
							r.table, r.flows, r.order, r.packets, r.key,
							r.lookup, r.update, r.total, r.create,
							r.bytes_per_flow, rte_get_tsc_hz());
			}
		}
	if (jf != NULL)
		fclose(jf);
	rte_eal_cleanup();
	return 0;
}
