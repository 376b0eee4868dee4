/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: arbitrary bytes as a stream of 256-byte worker events through control's six
 * anomaly detectors, alert dedup and the EVE JSON of whatever they raise. Workers build these
 * records from packet data (DNS names, counters, flags), so control must never trust them.
 * Small state tables make the "table full" paths run too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>

#include "vg_eal_cleanup.h"

#include "ctl_anomaly.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ctl_alert_dedup *dedup;

static void
on_alert(struct ctl_alert *a, void *arg)
{
	json_t *j;
	char *s;

	(void)arg;
	ctl_alert_dedup_submit(dedup, a);
	j = ctl_alert_to_json(a, "fuzz0");
	s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	free(s);
	json_decref(j);
}

static int
eal_once(void)
{
	static int done, ok;
	char prefix[64];

	if (done)
		return ok;
	done = 1;
	snprintf(prefix, sizeof(prefix), "--file-prefix=vgfuzz%d", (int)getpid());
	char *argv[] = { "fuzz", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
		"--no-telemetry", "-l", "0", "--log-level=lib.eal:error", prefix, NULL };
	ok = rte_eal_init(11, argv) >= 0;
	if (ok)
		atexit(vg_eal_cleanup);
	dedup = ok ? ctl_alert_dedup_create(60000, 64) : NULL;
	ok = ok && dedup != NULL;
	return ok;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_anomaly_cfg cfg;
	struct ctl_anomaly *d;
	struct dp_event ev;

	if (!eal_once())
		abort();
	ctl_anomaly_defaults(&cfg);
	cfg.max_entries = 64;
	cfg.max_baselines = 64;
	/* Thresholds low enough for random input to reach the alert paths. */
	cfg.port_scan.ports = 2;
	cfg.port_scan.hosts = 2;
	cfg.syn_flood.min_half_open = 1;
	cfg.syn_flood.min_rate = 1;
	cfg.dns_tunnel.suspicious_names = 1;
	cfg.dns_tunnel.unique_subdomains = 2;
	cfg.dns_tunnel.txt_queries = 1;
	cfg.brute_force.attempts = 2;
	cfg.exfiltration.warmup = 1;
	cfg.exfiltration.min_bytes = 1;
	cfg.rate.warmup = 1;
	cfg.rate.min_pps = 1;
	cfg.rate.min_bps = 1;
	d = ctl_anomaly_create(&cfg, on_alert, NULL);
	if (d == NULL)
		abort();
	for (size_t off = 0, i = 0; off < size; off += sizeof(ev), i++) {
		size_t n = size - off < sizeof(ev) ? size - off : sizeof(ev);

		memset(&ev, 0, sizeof(ev));
		memcpy(&ev, data + off, n);
		ctl_anomaly_on_event(d, &ev);
		if (i % 4 == 3)
			ctl_anomaly_on_tick(d, 0);
	}
	ctl_anomaly_on_tick(d, 0);
	ctl_anomaly_free(d);
	return 0;
}
