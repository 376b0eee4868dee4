/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vigil-ipfix-bench: how many flow records per second the IPFIX exporter (ctl_ipfix.h) sends to a
 * collector, and where it starts to lose them. Offers flow end events (IPv4 TCP, every one a new
 * flow, as the control loop hands them over) at --rate per second for --seconds, paced every
 * millisecond, then waits for the queue to empty and prints one JSON line: offered, sent, lost
 * (queue full, send failed). --rate 0 offers as fast as the loop can. Not a test: it fails on
 * nothing but errors (scripts/bench/ipfix.py runs it against nfcapd).
 *
 * Usage: vigil-ipfix-bench COLLECTOR [--tcp] [--rate N] [--seconds N] [--queue N]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>

#include "ctl_ipfix.h"
#include "dp_event.h"
#include "vg_eal_cleanup.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
end_event(struct dp_event *ev, uint64_t i)
{
	uint32_t src = htonl(0x0a000000u + (uint32_t)(i & 0xffffff));
	uint32_t dst = htonl(0xc0a80001u);
	uint64_t t = 1709251200ULL * 1000000000ULL + i * 1000;

	memset(ev, 0, sizeof(*ev));
	ev->type = DP_EV_FLOW_END;
	ev->reason = DP_END_FIN;
	ev->seq = (uint32_t)i;
	ev->time_ns = t;
	ev->flow.family = 4;
	ev->flow.proto = 6;
	ev->flow.verdict = DP_VERDICT_ALLOW;
	ev->flow.rule_id = 1;
	ev->flow.sport = (uint16_t)(1024 + i % 60000);
	ev->flow.dport = 443;
	ev->flow.flow_id = (uint32_t)i;
	ev->flow.first_ns = t - 2000000000ULL;
	ev->flow.last_ns = t;
	ev->flow.pkts[0] = 10;
	ev->flow.pkts[1] = 8;
	ev->flow.bytes[0] = 1200;
	ev->flow.bytes[1] = 9000;
	ev->flow.tcp_flags[0] = 0x1b;
	ev->flow.tcp_flags[1] = 0x1b;
	memcpy(ev->flow.src, &src, 4);
	memcpy(ev->flow.dst, &dst, 4);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "tcp", no_argument, NULL, 't' },
		{ "rate", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 's' },
		{ "queue", required_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl_ipfix_opts o;
	struct ctl_ipfix_counters c;
	struct ctl_ipfix *x;
	struct dp_event ev;
	uint64_t rate = 100000, offered = 0;
	double seconds = 2, t0, t_end, t_sent;
	char prefix[64];
	int opt, rc;

	ctl_ipfix_opts_defaults(&o);
	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 't':
			o.transport = CTL_IPFIX_TCP;
			break;
		case 'r':
			rate = strtoull(optarg, NULL, 10);
			break;
		case 's':
			seconds = strtod(optarg, NULL);
			break;
		case 'q':
			o.queue_len = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		default:
			optind = argc + 1;
			break;
		}
	}
	if (optind != argc - 1 || seconds <= 0 || o.queue_len == 0) {
		fprintf(stderr, "usage: %s COLLECTOR [--tcp] [--rate N] [--seconds N] [--queue N]\n",
				argv[0]);
		return 2;
	}
	snprintf(o.collector, sizeof(o.collector), "%s", argv[optind]);
	snprintf(prefix, sizeof(prefix), "--file-prefix=vgipfixbench%d", (int)getpid());
	char *eal[] = { argv[0], "--no-huge", "-m", "256", "--no-pci", "--no-shconf",
		"--no-telemetry", "-l", "0", "--log-level=lib.eal:error", prefix, NULL };
	if (rte_eal_init(11, eal) < 0) {
		fprintf(stderr, "vigil-ipfix-bench: EAL init failed\n");
		return 1;
	}
	atexit(vg_eal_cleanup);
	x = ctl_ipfix_open(&o, NULL);
	if (x == NULL) {
		fprintf(stderr, "vigil-ipfix-bench: %s: %s\n", o.collector, strerror(errno));
		return 1;
	}
	/* The first connection (and its templates) before the clock starts. */
	end_event(&ev, offered++);
	ctl_ipfix_on_event(x, &ev);
	ctl_ipfix_sync(x, 3000);
	t0 = now_s();
	t_end = t0 + seconds;
	for (double t = t0; t < t_end; t = now_s()) {
		/* Behind schedule by whole events: offer them now (or keep going flat out). */
		uint64_t due = rate == 0 ? offered + 256 : 1 + (uint64_t)((t - t0) * (double)rate);

		while (offered < due) {
			end_event(&ev, offered++);
			ctl_ipfix_on_event(x, &ev);
		}
		if (rate != 0)
			usleep(1000);
	}
	rc = ctl_ipfix_sync(x, 10000);
	t_sent = now_s();
	ctl_ipfix_counters(x, &c);
	printf("{\"transport\": \"%s\", \"collector\": \"%s\", \"rate_offered\": %" PRIu64
	       ", \"seconds\": %.3f, \"offered\": %" PRIu64 ", \"sent\": %" PRIu64
	       ", \"lost\": %" PRIu64 ", \"lost_queue_full\": %" PRIu64 ", \"lost_send\": %" PRIu64
	       ", \"messages\": %" PRIu64
	       ", \"sent_per_s\": %.0f, \"drain_s\": %.3f, \"synced\": %s}\n",
			ctl_ipfix_transport_name(x), o.collector, rate, t_end - t0, offered,
			c.records_sent, c.records_lost, c.lost_queue_full, c.lost_send,
			c.messages_sent, (double)c.records_sent / (t_sent - t0), t_sent - t_end,
			rc == 0 ? "true" : "false");
	ctl_ipfix_close(x);
	return 0;
}
