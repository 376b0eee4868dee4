/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vg-latprobe: a paced packet source and sink that measures the time packets spend on the way
 * through another DPDK process (vigild, or dpdk-testpmd as the baseline).
 *
 * It replays the frames of a pcap on its first port at a given rate and receives them on its
 * second. Every frame carries a 16-byte trailer after the end of its IP packet (where Ethernet
 * padding would go, so parsers and checksums are untouched): a magic word, a sequence number
 * and the TSC at the moment of rte_eth_tx_burst(). On receive, now - that TSC is the latency of
 * the round through the device under test, the two memif rings and this program's polling.
 * Both processes run on one machine, so the TSC is the same clock on both sides.
 *
 * The result is one JSON line: packets sent and received, the achieved rates, and percentiles
 * from a histogram of 10 ns buckets up to 1 ms and 1 us buckets up to 100 ms (longer latencies
 * count in the last bucket).
 *
 *   vg-latprobe EAL-ARGS -- --pcap FILE [--rate PPS] [--seconds N] [--warmup N]
 *
 * --rate 0 sends as fast as the ports take packets (to find the maximum rate). Warm-up
 * packets are sent but not counted.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#define BURST	      32
#define TRAILER_MAGIC 0x56474c54u /* "VGLT" */
#define TRAILER_LEN   16
/* 10 ns buckets up to 1 ms, then 1 us buckets up to 100 ms; beyond counts in the last. */
#define FINE_NS	    10
#define FINE	    100000u
#define COARSE_NS   1000
#define COARSE	    99000u
#define BUCKETS	    (FINE + COARSE)
#define MAX_FRAME   2048
#define LINK_WAIT_S 20
#define DRAIN_MS    200

struct trailer {
	uint32_t magic;
	uint32_t seq;
	uint64_t tsc;
} __rte_packed;

struct frame {
	uint16_t len; /* bytes up to the end of the IP packet */
	uint8_t data[MAX_FRAME];
};

struct opts {
	const char *pcap;
	double rate;
	unsigned int seconds;
	unsigned int warmup;
};

static volatile bool stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = true;
}

static void
usage(FILE *out)
{
	fprintf(out, "usage: vg-latprobe EAL-ARGS -- --pcap FILE [--rate PPS] [--seconds N] "
		     "[--warmup N]\n");
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "pcap", required_argument, NULL, 'p' },
		{ "rate", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 's' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	o->rate = 0;
	o->seconds = 5;
	o->warmup = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'p':
			o->pcap = optarg;
			break;
		case 'r':
			o->rate = strtod(optarg, &end);
			if (*end != '\0' || o->rate < 0 || o->rate > 1e9) {
				fprintf(stderr, "vg-latprobe: --rate '%s' is not 0..1e9 packets/s\n",
						optarg);
				return -EINVAL;
			}
			break;
		case 's':
		case 'w': {
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end != '\0' || v > 3600) {
				fprintf(stderr, "vg-latprobe: --%s '%s' is not 0..3600 seconds\n",
						c == 's' ? "seconds" : "warmup", optarg);
				return -EINVAL;
			}
			if (c == 's')
				o->seconds = v;
			else
				o->warmup = v;
			break;
		}
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (o->pcap == NULL || o->seconds == 0) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

/* The IP packet's end: frames are sent cut there, so the trailer replaces any padding. */
static uint16_t
ip_end(const uint8_t *p, uint32_t caplen)
{
	uint32_t off = RTE_ETHER_HDR_LEN;
	uint16_t type;

	if (caplen < off)
		return caplen;
	type = (uint16_t)(p[12] << 8 | p[13]);
	while ((type == RTE_ETHER_TYPE_VLAN || type == RTE_ETHER_TYPE_QINQ) && caplen >= off + 4) {
		type = (uint16_t)(p[off + 2] << 8 | p[off + 3]);
		off += 4;
	}
	if (type == RTE_ETHER_TYPE_IPV4 && caplen >= off + 4)
		off += (uint32_t)(p[off + 2] << 8 | p[off + 3]);
	else if (type == RTE_ETHER_TYPE_IPV6 && caplen >= off + 6)
		off += 40 + (uint32_t)(p[off + 4] << 8 | p[off + 5]);
	else
		off = caplen;
	return (uint16_t)RTE_MIN(off, caplen);
}

static struct frame *
load_pcap(const char *path, uint32_t *count)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	struct frame *f = NULL;
	uint32_t n = 0, cap = 0;
	pcap_t *pc;
	int rc;

	pc = pcap_open_offline(path, err);
	if (pc == NULL) {
		fprintf(stderr, "vg-latprobe: %s: %s\n", path, err);
		return NULL;
	}
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
		uint16_t len = ip_end(data, h->caplen);

		if (len + TRAILER_LEN > MAX_FRAME) {
			fprintf(stderr, "vg-latprobe: %s: packet %u is %u bytes; at most %u fit\n",
					path, n + 1, len, MAX_FRAME - TRAILER_LEN);
			goto fail;
		}
		if (n == cap) {
			struct frame *g;

			cap = cap ? cap * 2 : 1024;
			g = realloc(f, (size_t)cap * sizeof(*f));
			if (g == NULL)
				goto fail;
			f = g;
		}
		f[n].len = len;
		memcpy(f[n].data, data, len);
		n++;
	}
	if (rc == PCAP_ERROR || n == 0) {
		fprintf(stderr, "vg-latprobe: %s: %s\n", path,
				n == 0 ? "no packets" : pcap_geterr(pc));
		goto fail;
	}
	pcap_close(pc);
	*count = n;
	return f;
fail:
	pcap_close(pc);
	free(f);
	return NULL;
}

static int
port_init(uint16_t port, struct rte_mempool *mp)
{
	struct rte_eth_conf conf;
	int rc;

	memset(&conf, 0, sizeof(conf));
	rc = rte_eth_dev_configure(port, 1, 1, &conf);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(port, 0, 1024, rte_socket_id(), NULL, mp);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(port, 0, 1024, rte_socket_id(), NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(port);
	return rc;
}

static bool
links_up(unsigned int seconds)
{
	uint64_t deadline = rte_get_tsc_cycles() + seconds * rte_get_tsc_hz();
	struct rte_eth_link l0, l1;

	while (rte_get_tsc_cycles() < deadline && !stop) {
		if (rte_eth_link_get_nowait(0, &l0) == 0 && rte_eth_link_get_nowait(1, &l1) == 0 &&
				l0.link_status && l1.link_status)
			return true;
		rte_delay_ms(50);
	}
	return false;
}

struct result {
	uint64_t sent, received, bad, counted;
	uint64_t *hist;
	uint64_t sum_ns, max_ns;
	double seconds;
};

static void
record(struct result *r, struct rte_mbuf *m, uint64_t now, double ns_per_cycle, uint32_t first)
{
	const struct trailer *t = NULL;
	struct trailer copy;
	uint64_t ns, b;

	/* rte_pktmbuf_read() copies only when the bytes span segments; else it points at them. */
	if (rte_pktmbuf_pkt_len(m) >= TRAILER_LEN)
		t = rte_pktmbuf_read(m, rte_pktmbuf_pkt_len(m) - TRAILER_LEN, TRAILER_LEN, &copy);
	if (t == NULL || t->magic != TRAILER_MAGIC) {
		r->bad++;
		return;
	}
	r->received++;
	if (t->seq < first || t->tsc > now)
		return; /* a warm-up packet */
	ns = (uint64_t)((double)(now - t->tsc) * ns_per_cycle);
	b = ns < (uint64_t)FINE * FINE_NS ? ns / FINE_NS : FINE + (ns - FINE * FINE_NS) / COARSE_NS;
	r->hist[b < BUCKETS ? b : BUCKETS - 1]++;
	r->counted++;
	r->sum_ns += ns;
	if (ns > r->max_ns)
		r->max_ns = ns;
}

static double
percentile(const struct result *r, double q)
{
	uint64_t want = (uint64_t)(q * (double)r->counted), acc = 0;
	uint32_t i;

	if (want >= r->counted)
		want = r->counted - 1;
	for (i = 0; i < BUCKETS; i++) {
		acc += r->hist[i];
		if (acc > want && i < FINE)
			return (double)i * FINE_NS + FINE_NS / 2.0;
		if (acc > want)
			return (double)FINE * FINE_NS + (double)(i - FINE) * COARSE_NS +
			       COARSE_NS / 2.0;
	}
	return (double)FINE * FINE_NS + (double)COARSE * COARSE_NS;
}

static void
run(const struct opts *o, const struct frame *frames, uint32_t nframes, struct rte_mempool *mp,
		struct result *r)
{
	const uint64_t hz = rte_get_tsc_hz();
	const double ns_per_cycle = 1e9 / (double)hz;
	const uint64_t start = rte_get_tsc_cycles();
	const uint64_t t_count = start + o->warmup * hz;
	const uint64_t t_end = t_count + o->seconds * hz;
	uint64_t sent_at_count = 0, first_counted = UINT64_MAX, drain_end;
	uint32_t seq = 0, idx = 0;
	struct rte_mbuf *tx[BURST], *rx[BURST];
	uint64_t now;

	for (;;) {
		uint16_t n, i;

		now = rte_get_tsc_cycles();
		if (now >= t_end || stop)
			break;
		if (first_counted == UINT64_MAX && now >= t_count) {
			first_counted = seq;
			sent_at_count = r->sent;
		}
		/* Pace: packets due by now = elapsed * rate; send at most a burst of them. */
		n = BURST;
		if (o->rate > 0) {
			double due = (double)(now - start) * o->rate / (double)hz;
			uint64_t owed = (uint64_t)due > r->sent ? (uint64_t)due - r->sent : 0;

			n = (uint16_t)RTE_MIN(owed, (uint64_t)BURST);
		}
		if (n > 0 && rte_pktmbuf_alloc_bulk(mp, tx, n) == 0) {
			uint16_t k;

			for (i = 0; i < n; i++) {
				const struct frame *f = &frames[idx];
				uint8_t *d = (uint8_t *)rte_pktmbuf_append(
						tx[i], f->len + TRAILER_LEN);

				memcpy(d, f->data, f->len);
				idx = idx + 1 == nframes ? 0 : idx + 1;
			}
			now = rte_get_tsc_cycles();
			for (i = 0; i < n; i++) {
				struct trailer t = { TRAILER_MAGIC, seq++, now };
				uint8_t *d = rte_pktmbuf_mtod(tx[i], uint8_t *);

				memcpy(d + rte_pktmbuf_data_len(tx[i]) - TRAILER_LEN, &t,
						sizeof(t));
			}
			k = rte_eth_tx_burst(0, 0, tx, n);
			r->sent += k;
			if (k < n) {
				/* The ring is full: these were not sent; their numbers are reused.
				 */
				seq -= n - k;
				rte_pktmbuf_free_bulk(tx + k, n - k);
			}
		}
		n = rte_eth_rx_burst(1, 0, rx, BURST);
		now = rte_get_tsc_cycles();
		for (i = 0; i < n; i++)
			record(r, rx[i], now, ns_per_cycle, (uint32_t)first_counted);
		rte_pktmbuf_free_bulk(rx, n);
	}
	r->seconds = (double)(now - t_count) / (double)hz;
	r->sent -= sent_at_count;
	/* Drain what is still on its way, then stop counting. */
	drain_end = rte_get_tsc_cycles() + DRAIN_MS * hz / 1000;
	while (rte_get_tsc_cycles() < drain_end) {
		uint16_t n = rte_eth_rx_burst(1, 0, rx, BURST), i;

		now = rte_get_tsc_cycles();
		for (i = 0; i < n; i++)
			record(r, rx[i], now, ns_per_cycle, (uint32_t)first_counted);
		rte_pktmbuf_free_bulk(rx, n);
	}
}

int
main(int argc, char **argv)
{
	struct rte_mempool *mp;
	struct frame *frames;
	struct result r;
	struct opts o;
	uint32_t nframes;
	uint16_t port;
	int n, rc = 1;

	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "vg-latprobe: EAL: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= n;
	argv += n;
	memset(&o, 0, sizeof(o));
	if (parse_opts(argc, argv, &o) != 0) {
		rte_eal_cleanup();
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	memset(&r, 0, sizeof(r));
	frames = load_pcap(o.pcap, &nframes);
	r.hist = calloc(BUCKETS, sizeof(*r.hist));
	if (frames == NULL || r.hist == NULL)
		goto out;
	if (rte_eth_dev_count_avail() != 2) {
		fprintf(stderr,
				"vg-latprobe: needs exactly 2 ports (got %u): --vdev the way out "
				"first, then the way back\n",
				rte_eth_dev_count_avail());
		goto out;
	}
	mp = rte_pktmbuf_pool_create(
			"latprobe", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (mp == NULL) {
		fprintf(stderr, "vg-latprobe: mbuf pool: %s\n", rte_strerror(rte_errno));
		goto out;
	}
	if (port_init(0, mp) != 0 || port_init(1, mp) != 0) {
		fprintf(stderr, "vg-latprobe: cannot start the ports\n");
		goto out;
	}
	if (!links_up(LINK_WAIT_S)) {
		fprintf(stderr, "vg-latprobe: the memif peers did not connect within %d s\n",
				LINK_WAIT_S);
		goto out;
	}
	run(&o, frames, nframes, mp, &r);
	if (r.counted == 0) {
		fprintf(stderr,
				"vg-latprobe: no packet came back (sent %" PRIu64
				", foreign %" PRIu64 ")\n",
				r.sent, r.bad);
		goto out;
	}
	printf("{\"rate_requested\":%.0f,\"seconds\":%.3f,\"sent\":%" PRIu64
	       ",\"received\":%" PRIu64 ",\"counted\":%" PRIu64 ",\"foreign\":%" PRIu64
	       ",\"tx_pps\":%.0f,\"rx_pps\":%.0f,"
	       "\"frame_bytes_added\":%d,\"latency_ns\":{\"mean\":%.0f,\"p50\":%.0f,\"p90\":%.0f,"
	       "\"p99\":%.0f,\"p99_9\":%.0f,\"max\":%" PRIu64 "},\"bucket_ns\":[%d,%d]}\n",
			o.rate, r.seconds, r.sent, r.received, r.counted, r.bad,
			(double)r.sent / r.seconds, (double)r.counted / r.seconds, TRAILER_LEN,
			(double)r.sum_ns / (double)r.counted, percentile(&r, 0.5),
			percentile(&r, 0.9), percentile(&r, 0.99), percentile(&r, 0.999), r.max_ns,
			FINE_NS, COARSE_NS);
	fflush(stdout);
	rc = 0;
out:
	RTE_ETH_FOREACH_DEV (port) {
		rte_eth_dev_stop(port);
	}
	free(frames);
	free(r.hist);
	rte_eal_cleanup();
	return rc;
}
