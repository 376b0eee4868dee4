/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_vgsynth as a multi-queue NIC: the plugin loaded into a minimal EAL (-d), its ports
 * configured through ethdev as an application does, and what each RX queue hands out checked
 * against an independent computation: the frame's type from rte_net_get_ptype, its hash from
 * rte_softrss over the addresses (and ports when the hash functions ask for them), its queue
 * from the redirection table that rte_eth_dev_rss_reta_query reports.
 *
 *   VG_SYNTH=.../librte_net_vgsynth.so VG_SYNTH_PCAP=tests/cases/flows-mixed/in-a.pcap
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_net.h>
#include <rte_tcp.h>
#include <rte_thash.h>

#include "vg_eal_cleanup.h"
#include "vg_test.h"

enum { P_GEN, P_UDP, P_PCAP, P_NOKEY, P_HS, P_BIG, P_LOOP, N_PORTS };

static struct rte_mempool *pool;
static char tx_path[256];
static const char *cap_path;

/* the symmetric key (0x6d5a repeated): a flow and its reverse hash alike */
static uint8_t sym_key[40];

static int
setup(uint16_t port, uint16_t nq, uint64_t hf, uint8_t *key)
{
	struct rte_eth_conf conf;
	int rc;

	memset(&conf, 0, sizeof(conf));
	if (nq > 1) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = hf;
		conf.rx_adv_conf.rss_conf.rss_key = key;
		conf.rx_adv_conf.rss_conf.rss_key_len = key ? 40 : 0;
	}
	rte_eth_dev_stop(port);
	rc = rte_eth_dev_configure(port, nq, nq, &conf);
	if (rc != 0)
		return rc;
	for (uint16_t q = 0; q < nq; q++) {
		rc = rte_eth_rx_queue_setup(port, q, 512, 0, NULL, pool);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(port, q, 512, 0, NULL);
		if (rc != 0)
			return rc;
	}
	return 0;
}

struct tuple {
	bool ip, frag, v6;
	uint8_t proto;
	uint32_t w[9]; /* addresses then ports, host order as rte_softrss takes them */
	unsigned n_addr;
	uint8_t tcp_flags;
};

/* a big-endian 32-bit field at any alignment, in host order */
static uint32_t
ld32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The frame's addresses and ports, found with rte_net_get_ptype (not the PMD's parser). */
static struct tuple
tuple_of(struct rte_mbuf *m)
{
	struct rte_net_hdr_lens hl;
	uint32_t pt = rte_net_get_ptype(m, &hl, RTE_PTYPE_ALL_MASK);
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	struct tuple t = { 0 };
	const uint8_t *l3 = p + hl.l2_len, *l4 = p + hl.l2_len + hl.l3_len;

	if (RTE_ETH_IS_IPV4_HDR(pt)) {
		t.ip = true;
		t.n_addr = 2;
		t.w[0] = ld32(l3 + 12);
		t.w[1] = ld32(l3 + 16);
	} else if (RTE_ETH_IS_IPV6_HDR(pt)) {
		t.ip = t.v6 = true;
		t.n_addr = 8;
		for (unsigned i = 0; i < 8; i++)
			t.w[i] = ld32(l3 + 8 + 4 * i);
	}
	t.frag = (pt & RTE_PTYPE_L4_MASK) == RTE_PTYPE_L4_FRAG;
	if ((pt & RTE_PTYPE_L4_MASK) == RTE_PTYPE_L4_TCP) {
		t.proto = IPPROTO_TCP;
		t.tcp_flags = l4[13];
	} else if ((pt & RTE_PTYPE_L4_MASK) == RTE_PTYPE_L4_UDP) {
		t.proto = IPPROTO_UDP;
	}
	if (t.proto != 0)
		t.w[t.n_addr] = (uint32_t)(l4[0] << 8 | l4[1]) << 16 |
				(uint32_t)(l4[2] << 8 | l4[3]);
	return t;
}

/* The hash a NIC gives the frame for hash functions hf; false: not hashed. */
static bool
expected_hash(const struct tuple *t, uint64_t hf, const uint8_t *key, uint32_t *h)
{
	uint64_t tcp = t->v6 ? (RTE_ETH_RSS_NONFRAG_IPV6_TCP | RTE_ETH_RSS_IPV6_TCP_EX)
			     : RTE_ETH_RSS_NONFRAG_IPV4_TCP;
	uint64_t udp = t->v6 ? (RTE_ETH_RSS_NONFRAG_IPV6_UDP | RTE_ETH_RSS_IPV6_UDP_EX)
			     : RTE_ETH_RSS_NONFRAG_IPV4_UDP;
	uint64_t l3 = t->v6 ? (RTE_ETH_RSS_IPV6 | RTE_ETH_RSS_FRAG_IPV6 |
					      RTE_ETH_RSS_NONFRAG_IPV6_OTHER | RTE_ETH_RSS_IPV6_EX)
			    : (RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_FRAG_IPV4 |
					      RTE_ETH_RSS_NONFRAG_IPV4_OTHER);

	if (!t->ip)
		return false;
	if (!t->frag && ((t->proto == IPPROTO_TCP && (hf & tcp)) ||
					(t->proto == IPPROTO_UDP && (hf & udp)))) {
		*h = rte_softrss((uint32_t *)(uintptr_t)t->w, t->n_addr + 1, key);
		return true;
	}
	if (!(hf & l3))
		return false;
	*h = rte_softrss((uint32_t *)(uintptr_t)t->w, t->n_addr, key);
	return true;
}

static void
reta_of(uint16_t port, uint16_t reta[128])
{
	struct rte_eth_rss_reta_entry64 r[2];

	memset(r, 0, sizeof(r));
	r[0].mask = r[1].mask = UINT64_MAX;
	assert_int_equal(rte_eth_dev_rss_reta_query(port, r, 128), 0);
	for (unsigned i = 0; i < 128; i++)
		reta[i] = r[i / 64].reta[i % 64];
}

/* Every frame of queue q: hashed as a NIC would, on the queue its hash selects. */
static void
check_frame(struct rte_mbuf *m, uint16_t q, uint64_t hf, const uint8_t *key,
		const uint16_t reta[128])
{
	struct tuple t = tuple_of(m);
	uint32_t h = 0;
	bool hashed = expected_hash(&t, hf, key, &h);

	assert_int_equal(!!(m->ol_flags & RTE_MBUF_F_RX_RSS_HASH), hashed);
	if (hashed)
		assert_int_equal(m->hash.rss, h);
	assert_int_equal(reta[h % 128], q);
}

static void
test_info(void **state)
{
	struct rte_eth_dev_info info;

	(void)state;
	assert_int_equal(rte_eth_dev_info_get(P_GEN, &info), 0);
	assert_int_equal(info.max_rx_queues, 16);
	assert_int_equal(info.max_tx_queues, 16);
	assert_int_equal(info.hash_key_size, 40);
	assert_int_equal(info.reta_size, 128);
	assert_true((info.flow_type_rss_offloads & RTE_ETH_RSS_IP) != 0);
	assert_true((info.flow_type_rss_offloads & RTE_ETH_RSS_NONFRAG_IPV4_TCP) != 0);
	assert_true((info.flow_type_rss_offloads & RTE_ETH_RSS_NONFRAG_IPV6_UDP) != 0);
}

/* sym_key=0: a caller's key is refused, RSS with the device's own key is taken. */
static void
test_key_refused(void **state)
{
	struct rte_eth_rss_conf rc = {
		.rss_key = sym_key, .rss_key_len = 40, .rss_hf = RTE_ETH_RSS_IP
	};

	(void)state;
	assert_int_equal(setup(P_NOKEY, 2, RTE_ETH_RSS_IP, sym_key), -EINVAL);
	assert_int_equal(setup(P_NOKEY, 2, RTE_ETH_RSS_IP, NULL), 0);
	assert_int_equal(rte_eth_dev_rss_hash_update(P_NOKEY, &rc), -EINVAL);
	/* the other ports take it */
	assert_int_equal(setup(P_GEN, 2, RTE_ETH_RSS_IP, sym_key), 0);
}

/*
 * Generated flows on nq queues with the symmetric key: the queues partition the flows' two
 * directions, both directions of a flow on one queue, every frame on its hash's queue. In seq
 * order a queue walks its list round and round: read until its first frame comes again.
 */
static void
generated_symmetric(uint16_t port, unsigned flows, uint16_t nq, uint64_t hf)
{
	int8_t(*queue_of)[2] = malloc(sizeof(*queue_of) * flows);
	uint16_t reta[128];
	unsigned per_queue[16] = { 0 }, seen = 0;

	assert_non_null(queue_of);
	memset(queue_of, 0xff, sizeof(*queue_of) * flows);
	assert_int_equal(setup(port, nq, hf, sym_key), 0);
	assert_int_equal(rte_eth_dev_start(port), 0);
	reta_of(port, reta);
	for (uint16_t q = 0; q < nq; q++) {
		unsigned first_f = UINT32_MAX, first_dir = 0, got = 0;
		bool round = false;

		while (!round) {
			struct rte_mbuf *b[32];
			uint16_t n = rte_eth_rx_burst(port, q, b, 32);

			assert_int_equal(n, 32);
			for (uint16_t i = 0; i < n; i++) {
				struct tuple t = tuple_of(b[i]);
				uint32_t client = t.w[0] >> 24 == 10 ? t.w[0] : t.w[1];
				unsigned f = client - 0x0a000001u /* 10.0.0.1 */;
				unsigned dir = t.w[0] >> 24 == 10 ? 0 : 1;

				check_frame(b[i], q, hf, sym_key, reta);
				assert_true(f < flows);
				if (got++ == 0) {
					first_f = f;
					first_dir = dir;
				} else if (f == first_f && dir == first_dir) {
					round = true;
				}
				if (round)
					continue;
				/* once per round: a second sighting before the round ends is a
				 * frame listed twice */
				assert_int_equal(queue_of[f][dir], -1);
				queue_of[f][dir] = (int8_t)q;
				per_queue[q]++;
				seen++;
			}
			rte_pktmbuf_free_bulk(b, n);
		}
	}
	assert_int_equal(seen, 2 * flows);
	for (unsigned f = 0; f < flows; f++)
		assert_int_equal(queue_of[f][0], queue_of[f][1]);
	for (unsigned q = 0; q < nq; q++)
		assert_true(per_queue[q] > 2 * flows / nq / 2); /* a fair spread, not one queue */
	rte_eth_dev_stop(port);
	free(queue_of);
}

static void
test_generated_symmetric(void **state)
{
	(void)state;
	generated_symmetric(P_GEN, 1000, 4, RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP);
}

/*
 * More entries than 16 bits count: 160000 flow directions on 2 queues, hashed on the addresses
 * only as vigild asks (with the symmetric key a server moving in step with its client would
 * give every flow one hash: the fair-spread check).
 */
static void
test_generated_many(void **state)
{
	(void)state;
	generated_symmetric(P_BIG, 80000, 2, RTE_ETH_RSS_IP);
}

/* Shuffled UDP on 2 queues with the device's default key, read back with rss_hash_conf_get. */
static void
test_generated_default_key(void **state)
{
	const uint64_t hf = RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP;
	uint8_t key[40];
	struct rte_eth_rss_conf rc = { .rss_key = key, .rss_key_len = 40 };
	uint16_t reta[128];

	(void)state;
	assert_int_equal(setup(P_UDP, 2, hf, NULL), 0);
	assert_int_equal(rte_eth_dev_start(P_UDP), 0);
	assert_int_equal(rte_eth_dev_rss_hash_conf_get(P_UDP, &rc), 0);
	assert_int_equal(rc.rss_hf, hf);
	reta_of(P_UDP, reta);
	for (uint16_t q = 0; q < 2; q++) {
		for (unsigned k = 0; k < 64; k++) {
			struct rte_mbuf *b[32];
			uint16_t n = rte_eth_rx_burst(P_UDP, q, b, 32);

			assert_int_equal(n, 32);
			for (uint16_t i = 0; i < n; i++) {
				assert_int_equal(tuple_of(b[i]).proto, IPPROTO_UDP);
				check_frame(b[i], q, hf, key, reta);
			}
			rte_pktmbuf_free_bulk(b, n);
		}
	}
	rte_eth_dev_stop(P_UDP);
}

/* reta_update: every entry to queue 1 leaves queue 0 nothing. */
static void
test_reta_update(void **state)
{
	struct rte_eth_rss_reta_entry64 r[2];
	struct rte_mbuf *b[32];

	(void)state;
	assert_int_equal(setup(P_GEN, 2, RTE_ETH_RSS_IP, sym_key), 0);
	memset(r, 0, sizeof(r));
	r[0].mask = r[1].mask = UINT64_MAX;
	for (unsigned i = 0; i < 64; i++)
		r[0].reta[i] = r[1].reta[i] = 1;
	assert_int_equal(rte_eth_dev_rss_reta_update(P_GEN, r, 128), 0);
	r[0].reta[5] = 2; /* no such queue */
	assert_int_equal(rte_eth_dev_rss_reta_update(P_GEN, r, 128), -EINVAL);
	assert_int_equal(rte_eth_dev_start(P_GEN), 0);
	assert_int_equal(rte_eth_rx_burst(P_GEN, 0, b, 32), 0);
	assert_int_equal(rte_eth_rx_burst(P_GEN, 1, b, 32), 32);
	rte_pktmbuf_free_bulk(b, 32);
	/* while started: the table in force again is accepted, another refused */
	r[0].reta[5] = 1;
	assert_int_equal(rte_eth_dev_rss_reta_update(P_GEN, r, 128), 0);
	r[0].reta[5] = 0;
	assert_int_equal(rte_eth_dev_rss_reta_update(P_GEN, r, 128), -EBUSY);
	rte_eth_dev_stop(P_GEN);
}

/* handshake=1 on 2 queues: each queue opens its flows with SYN, SYN-ACK, ACK. */
static void
test_handshake(void **state)
{
	unsigned syns = 0;

	(void)state;
	assert_int_equal(setup(P_HS, 2, RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP, sym_key), 0);
	assert_int_equal(rte_eth_dev_start(P_HS), 0);
	for (uint16_t q = 0; q < 2; q++) {
		bool open = true;

		while (open) {
			struct rte_mbuf *b[3];

			assert_int_equal(rte_eth_rx_burst(P_HS, q, b, 3), 3);
			struct tuple s = tuple_of(b[0]), sa = tuple_of(b[1]), a = tuple_of(b[2]);

			if (s.tcp_flags != RTE_TCP_SYN_FLAG) {
				open = false;
			} else {
				syns++;
				assert_int_equal(sa.tcp_flags, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
				assert_int_equal(a.tcp_flags, RTE_TCP_ACK_FLAG);
				assert_int_equal(sa.w[0], s.w[1]);
				assert_int_equal(sa.w[1], s.w[0]);
				assert_memory_equal(a.w, s.w, sizeof(s.w));
			}
			rte_pktmbuf_free_bulk(b, 3);
		}
	}
	assert_int_equal(syns, 500);
	rte_eth_dev_stop(P_HS);
}

struct frame {
	uint8_t data[2048];
	uint32_t len;
	uint64_t ts_us;
	bool used;
};

static unsigned
read_capture(const char *path, struct frame *f, unsigned max)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline_with_tstamp_precision(
			path, PCAP_TSTAMP_PRECISION_MICRO, err);
	struct pcap_pkthdr *h;
	const u_char *d;
	unsigned n = 0;

	assert_non_null(pc);
	while (n < max && pcap_next_ex(pc, &h, &d) == 1) {
		assert_true(h->caplen <= sizeof(f[n].data));
		memcpy(f[n].data, d, h->caplen);
		f[n].len = h->caplen;
		f[n].ts_us = (uint64_t)h->ts.tv_sec * 1000000 + (uint64_t)h->ts.tv_usec;
		f[n].used = false;
		n++;
	}
	pcap_close(pc);
	return n;
}

/*
 * pcap= on 2 queues, hashing IP addresses only: every frame of the capture once, on the queue
 * of its addresses' hash (non-IP on queue 0, unhashed), in capture order within a queue, with
 * the capture's time in the RX timestamp field; then nothing. tx_pcap= holds what was sent.
 */
static void
test_replay(void **state)
{
	static struct frame cap[256], out[256];
	unsigned n = read_capture(cap_path, cap, 256), got = 0;
	struct rte_mbuf *all[256];
	uint16_t reta[128];
	int ts_off;
	uint64_t ts_flag;

	(void)state;
	assert_true(n > 4);
	assert_int_equal(rte_mbuf_dyn_rx_timestamp_register(&ts_off, &ts_flag), 0);
	assert_int_equal(setup(P_PCAP, 2, RTE_ETH_RSS_IP, sym_key), 0);
	assert_int_equal(rte_eth_dev_start(P_PCAP), 0);
	reta_of(P_PCAP, reta);
	for (uint16_t q = 0; q < 2; q++) {
		unsigned last = 0;
		uint16_t k;

		while ((k = rte_eth_rx_burst(P_PCAP, q, all + got, 4)) > 0) {
			for (uint16_t i = 0; i < k; i++) {
				struct rte_mbuf *m = all[got + i];
				unsigned j = 0;

				check_frame(m, q, RTE_ETH_RSS_IP, sym_key, reta);
				assert_true((m->ol_flags & ts_flag) != 0);
				/* the first unused capture frame with these bytes and this time */
				while (j < n && (cap[j].used || cap[j].len != m->pkt_len ||
								memcmp(cap[j].data,
										rte_pktmbuf_mtod(m,
												void *),
										m->pkt_len) ||
								cap[j].ts_us != *RTE_MBUF_DYNFIELD(
												m,
												ts_off,
												rte_mbuf_timestamp_t
														*)))
					j++;
				assert_true(j < n);
				assert_true(j + 1 > last); /* capture order */
				last = j + 1;
				cap[j].used = true;
			}
			got += k;
		}
	}
	assert_int_equal(got, n);
	/* once: nothing more */
	assert_int_equal(rte_eth_rx_burst(P_PCAP, 0, all + got, 4), 0);
	/* out through both TX queues */
	assert_int_equal(rte_eth_tx_burst(P_PCAP, 0, all, (uint16_t)(got / 2)), got / 2);
	assert_int_equal(rte_eth_tx_burst(P_PCAP, 1, all + got / 2, (uint16_t)(got - got / 2)),
			got - got / 2);
	rte_eth_dev_stop(P_PCAP); /* flushes the capture */
	assert_int_equal(read_capture(tx_path, out, 256), n);
	for (unsigned i = 0; i < n; i++) {
		unsigned j = 0;

		while (j < n && (cap[j].used == false || cap[j].len != out[i].len ||
						memcmp(cap[j].data, out[i].data, out[i].len)))
			j++;
		assert_true(j < n);
		cap[j].used = false;
	}
}

/* loop=1 on one queue: the capture again, times shifted by its span (last - first + 1 us). */
static void
test_loop(void **state)
{
	static struct frame cap[256];
	unsigned n = read_capture(cap_path, cap, 256);
	uint64_t span = cap[n - 1].ts_us - cap[0].ts_us + 1;
	int ts_off;
	uint64_t ts_flag;

	(void)state;
	assert_int_equal(rte_mbuf_dyn_rx_timestamp_register(&ts_off, &ts_flag), 0);
	assert_int_equal(setup(P_LOOP, 1, 0, NULL), 0);
	assert_int_equal(rte_eth_dev_start(P_LOOP), 0);
	for (unsigned round = 0; round < 3; round++) {
		for (unsigned i = 0; i < n; i++) {
			struct rte_mbuf *m;

			assert_int_equal(rte_eth_rx_burst(P_LOOP, 0, &m, 1), 1);
			assert_int_equal(m->pkt_len, cap[i].len);
			assert_memory_equal(rte_pktmbuf_mtod(m, void *), cap[i].data, cap[i].len);
			assert_int_equal(*RTE_MBUF_DYNFIELD(m, ts_off, rte_mbuf_timestamp_t *),
					cap[i].ts_us + round * span);
			rte_pktmbuf_free(m);
		}
	}
	rte_eth_dev_stop(P_LOOP);
}

int
main(void)
{
	const char *so = getenv("VG_SYNTH");
	char prefix[64], dev[7][512], tmp[] = "/tmp/vgsynth-test-XXXXXX";

	cap_path = getenv("VG_SYNTH_PCAP");
	if (so == NULL || cap_path == NULL || mkdtemp(tmp) == NULL) {
		fprintf(stderr, "VG_SYNTH and VG_SYNTH_PCAP name the plugin and a capture\n");
		return 1;
	}
	for (unsigned i = 0; i < sizeof(sym_key); i += 2) {
		sym_key[i] = 0x6d;
		sym_key[i + 1] = 0x5a;
	}
	snprintf(tx_path, sizeof(tx_path), "%s/tx.pcap", tmp);
	snprintf(prefix, sizeof(prefix), "--file-prefix=vgsynth%d", (int)getpid());
	snprintf(dev[0], sizeof(dev[0]), "net_vgsynth0,flows=1000");
	snprintf(dev[1], sizeof(dev[1]), "net_vgsynth1,flows=1000,proto=udp,order=shuffle");
	snprintf(dev[2], sizeof(dev[2]), "net_vgsynth2,pcap=%s,tx_pcap=%s", cap_path, tx_path);
	snprintf(dev[3], sizeof(dev[3]), "net_vgsynth3,sym_key=0");
	snprintf(dev[4], sizeof(dev[4]), "net_vgsynth4,flows=500,handshake=1");
	snprintf(dev[5], sizeof(dev[5]), "net_vgsynth5,flows=80000");
	snprintf(dev[6], sizeof(dev[6]), "net_vgsynth6,pcap=%s,loop=1", cap_path);
	char *argv[] = { "test_vg_synth", "--no-huge", "-m", "512", "--no-pci", "--no-shconf",
		"--no-telemetry", "-l", "0", "--log-level=lib.eal:error", prefix, "-d", (char *)so,
		"--vdev", dev[0], "--vdev", dev[1], "--vdev", dev[2], "--vdev", dev[3], "--vdev",
		dev[4], "--vdev", dev[5], "--vdev", dev[6], NULL };
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) < 0 ||
			rte_eth_dev_count_avail() != N_PORTS) {
		fprintf(stderr, "EAL with the plugin and %d ports did not start\n", N_PORTS);
		return 1;
	}
	pool = rte_pktmbuf_pool_create("vgsynth_test", 16383, 256, 0, 2176, 0);
	if (pool == NULL)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_info),
		cmocka_unit_test(test_key_refused),
		cmocka_unit_test(test_generated_symmetric),
		cmocka_unit_test(test_generated_many),
		cmocka_unit_test(test_generated_default_key),
		cmocka_unit_test(test_reta_update),
		cmocka_unit_test(test_handshake),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_loop),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	for (uint16_t p = 0; p < N_PORTS; p++)
		rte_eth_dev_close(p);
	vg_eal_cleanup(); /* the runtime directory too */
	unlink(tx_path);
	rmdir(tmp);
	return rc;
}
