/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vigil-store-bench: how fast control can store and judge what the workers report. Not a test:
 * it prints figures and one JSON line, and never passes or fails on speed.
 *
 *  rows     distinct aggregate rows (one flow start each, every key new) written in batches of
 *           --batch rows: the store's raw upsert rate.
 *  events   flow start + update + end events of --flows flows over --minutes minutes, keys
 *           repeating as real traffic does (hosts talk to the same services): aggregation and
 *           storing together, ticking the store as the control loop would.
 *  detect   the same events through all six detectors.
 *
 * Usage: vigil-store-bench [--dir DIR] [--rows N] [--flows N] [--batch N] [--minutes N]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>

#include "ctl_anomaly.h"
#include "ctl_store.h"
#include "vg_eal_cleanup.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
ev4(struct dp_event *ev, uint8_t type, uint64_t t, uint32_t src, uint32_t dst, uint16_t dport,
		uint32_t id)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = type;
	ev->time_ns = t;
	ev->flow.family = 4;
	ev->flow.proto = 6;
	ev->flow.verdict = DP_VERDICT_ALLOW;
	ev->flow.sport = (uint16_t)(1024 + id % 60000);
	ev->flow.dport = dport;
	ev->flow.flow_id = id;
	ev->flow.tcp_flags[0] = 0x1b;
	ev->flow.tcp_flags[1] = 0x1b;
	ev->flow.first_ns = t;
	ev->flow.last_ns = t;
	src = htonl(src);
	dst = htonl(dst);
	memcpy(ev->flow.src, &src, 4);
	memcpy(ev->flow.dst, &dst, 4);
}

static struct ctl_store *
open_store(const char *dir, const char *name, uint32_t batch, char *path, size_t plen)
{
	struct ctl_store_opts o;
	char err[256];
	struct ctl_store *s;

	ctl_store_opts_defaults(&o);
	snprintf(path, plen, "%s/%s", dir, name);
	unlink(path);
	snprintf(o.path, sizeof(o.path), "%s", path);
	o.batch_max_rows = batch;
	o.max_pending_rows = batch * 4 > 65536 ? batch * 4 : 65536;
	o.max_flows = 1 << 20;
	o.max_age_ms = 0;
	o.max_bytes = 0;
	s = ctl_store_open(&o, err, sizeof(err));
	if (s == NULL)
		fprintf(stderr, "vigil-store-bench: %s\n", err);
	return s;
}

static void
cleanup_db(const char *path)
{
	char p[600];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

static void
noop_alert(struct ctl_alert *a, void *arg)
{
	(void)a;
	(*(uint64_t *)arg)++;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "rows", required_argument, NULL, 'r' },
		{ "flows", required_argument, NULL, 'f' },
		{ "batch", required_argument, NULL, 'b' },
		{ "minutes", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = "/tmp";
	uint64_t rows = 1000000, flows = 300000, minutes = 10, alerts = 0;
	uint32_t batch = 5000;
	char path[512], prefix[64];
	struct ctl_store *s;
	struct ctl_store_counters c;
	struct dp_event ev;
	double t0, rows_s, ev_s, det_s, rows_secs, ev_secs, det_secs;
	int opt;

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 'd':
			dir = optarg;
			break;
		case 'r':
			rows = strtoull(optarg, NULL, 10);
			break;
		case 'f':
			flows = strtoull(optarg, NULL, 10);
			break;
		case 'b':
			batch = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'm':
			minutes = strtoull(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr,
					"usage: %s [--dir DIR] [--rows N] [--flows N] [--batch N] "
					"[--minutes N]\n",
					argv[0]);
			return 2;
		}
	}
	if (rows == 0 || flows == 0 || batch == 0 || minutes == 0) {
		fprintf(stderr, "vigil-store-bench: --rows, --flows, --batch and --minutes must be "
				"positive\n");
		return 2;
	}
	snprintf(prefix, sizeof(prefix), "--file-prefix=vgbench%d", (int)getpid());
	char *eal[] = { argv[0], "--no-huge", "-m", "512", "--no-pci", "--no-shconf",
		"--no-telemetry", "-l", "0", "--log-level=lib.eal:error", prefix, NULL };
	if (rte_eal_init(11, eal) < 0) {
		fprintf(stderr, "vigil-store-bench: EAL init failed\n");
		return 1;
	}
	atexit(vg_eal_cleanup);

	/* 1. Raw rows: every event a new key. */
	s = open_store(dir, "vigil-bench-rows.db", batch, path, sizeof(path));
	if (s == NULL)
		return 1;
	t0 = now_s();
	for (uint64_t i = 0; i < rows; i++) {
		ev4(&ev, DP_EV_FLOW_START, 1709251200ULL * 1000000000ULL, 0x0a000000u + (uint32_t)i,
				0xc0000201u, 443, (uint32_t)i);
		ev.flow.pkts[0] = 1;
		ev.flow.bytes[0] = 60;
		ctl_store_add_flow_event(s, &ev);
		ev.type = DP_EV_FLOW_END; /* keep the flow table small */
		ctl_store_add_flow_event(s, &ev);
		ctl_store_counters(s, &c);
		if (c.pending >= batch)
			ctl_store_flush(s);
	}
	while (ctl_store_flush(s) > 0)
		;
	rows_secs = now_s() - t0;
	ctl_store_counters(s, &c);
	rows_s = (double)c.rows_written / rows_secs;
	printf("rows:   %" PRIu64 " rows in %" PRIu64 " batches of up to %u: %.3f s, %.0f rows/s "
	       "(%" PRIu64 " failures, %" PRIu64 " dropped)\n",
			c.rows_written, c.batches, batch, rows_secs, rows_s, c.failures,
			c.rows_dropped);
	ctl_store_close(s);
	cleanup_db(path);

	/* 2. Events: start, update, end per flow; 2000 clients x 50 services, spread over time. */
	uint64_t span_ns = minutes * 60ULL * 1000000000ULL, n_events = 0, rows_events;
	uint64_t base = 1709251200ULL * 1000000000ULL;

	s = open_store(dir, "vigil-bench-events.db", batch, path, sizeof(path));
	if (s == NULL)
		return 1;
	t0 = now_s();
	for (uint64_t i = 0; i < flows; i++) {
		uint64_t t = base + i * span_ns / flows;
		uint32_t src = 0x0a000000u + (uint32_t)(i % 2000),
			 dst = 0xc0000200u + (uint32_t)(i % 50);

		ev4(&ev, DP_EV_FLOW_START, t, src, dst, (uint16_t)(i % 5 ? 443 : 80), (uint32_t)i);
		ev.flow.pkts[0] = 1;
		ev.flow.bytes[0] = 74;
		ctl_store_add_flow_event(s, &ev);
		ev.type = DP_EV_FLOW_UPDATE;
		ev.time_ns = t + 1000000000ULL;
		ev.flow.pkts[0] = 10;
		ev.flow.pkts[1] = 12;
		ev.flow.bytes[0] = 1500;
		ev.flow.bytes[1] = 15000;
		ctl_store_add_flow_event(s, &ev);
		ev.type = DP_EV_FLOW_END;
		ev.time_ns = t + 2000000000ULL;
		ev.flow.pkts[0] = 14;
		ev.flow.pkts[1] = 16;
		ev.flow.bytes[0] = 1800;
		ev.flow.bytes[1] = 20000;
		ctl_store_add_flow_event(s, &ev);
		n_events += 3;
		/* The control loop ticks the store; a 1 ms clock per 1000 events. */
		if (i % 333 == 0)
			ctl_store_tick(s, i / 333);
	}
	while (ctl_store_flush(s) > 0)
		;
	ev_secs = now_s() - t0;
	ev_s = (double)n_events / ev_secs;
	ctl_store_counters(s, &c);
	rows_events = c.rows_written;
	printf("events: %" PRIu64 " flow events (%" PRIu64 " flows, %" PRIu64
	       " minutes) -> %" PRIu64 " rows in %" PRIu64 " batches: %.3f s, %.0f events/s\n",
			n_events, flows, minutes, c.rows_written, c.batches, ev_secs, ev_s);
	ctl_store_close(s);
	cleanup_db(path);

	/* 3. The same events through every detector. */
	struct ctl_anomaly_cfg dc;
	struct ctl_anomaly *d;

	ctl_anomaly_defaults(&dc);
	dc.max_entries = 1 << 17;
	d = ctl_anomaly_create(&dc, noop_alert, &alerts);
	if (d == NULL) {
		fprintf(stderr, "vigil-store-bench: detectors: %s\n", strerror(errno));
		return 1;
	}
	t0 = now_s();
	for (uint64_t i = 0; i < flows; i++) {
		uint64_t t = base + i * span_ns / flows;
		uint32_t src = 0x0a000000u + (uint32_t)(i % 2000),
			 dst = 0xc0000200u + (uint32_t)(i % 50);

		ev4(&ev, DP_EV_FLOW_START, t, src, dst, (uint16_t)(i % 5 ? 443 : 80), (uint32_t)i);
		ev.flow.tcp_flags[0] = 0x02;
		ev.flow.pkts[0] = 1;
		ev.flow.bytes[0] = 74;
		ctl_anomaly_on_event(d, &ev);
		ev.type = DP_EV_FLOW_UPDATE;
		ev.time_ns = t + 1000000000ULL;
		ev.flow.tcp_flags[0] = 0x1b;
		ev.flow.pkts[0] = 10;
		ev.flow.pkts[1] = 12;
		ev.flow.bytes[0] = 1500;
		ev.flow.bytes[1] = 15000;
		ev.flow.payload_mean = 700;
		ctl_anomaly_on_event(d, &ev);
		ev.type = DP_EV_FLOW_END;
		ev.time_ns = t + 2000000000ULL;
		ev.flow.pkts[0] = 14;
		ev.flow.pkts[1] = 16;
		ev.flow.bytes[0] = 1800;
		ev.flow.bytes[1] = 20000;
		ctl_anomaly_on_event(d, &ev);
		if (i % 333 == 0)
			ctl_anomaly_on_tick(d, 0);
	}
	det_secs = now_s() - t0;
	det_s = (double)n_events / det_secs;
	printf("detect: %" PRIu64 " flow events through 6 detectors: %.3f s, %.0f events/s "
	       "(%" PRIu64 " alerts)\n",
			n_events, det_secs, det_s, alerts);
	ctl_anomaly_free(d);

	printf("{\"bench\":\"store\",\"dir\":\"%s\",\"batch\":%u,\"rows\":%" PRIu64
	       ",\"rows_per_s\":%.0f,\"events\":%" PRIu64 ",\"event_rows\":%" PRIu64
	       ",\"events_per_s\":%.0f,\"detect_events_per_s\":%.0f}\n",
			dir, batch, rows, rows_s, n_events, rows_events, ev_s, det_s);
	return 0;
}
