/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: arbitrary bytes as a stream of 256-byte worker events through control's
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

/* Thresholds low enough for random input to reach the alert paths, set as vigil.yaml sets them. */
static int
low_thresholds(struct ctl_anomaly_cfg *cfg)
{
	static const char yaml[] =
			"max_entries: 64\n"
			"max_baselines: 64\n"
			"port_scan: {ports: 2, hosts: 2}\n"
			"syn_flood: {min_half_open: 1, min_rate: 1}\n"
			"dns_tunnel: {suspicious_names: 1, unique_subdomains: 2, txt_queries: 1}\n"
			"brute_force: {attempts: 2}\n"
			"exfiltration: {warmup: 1, min_bytes: 1}\n"
			"rate: {warmup: 1, min_pps: 1, min_bps: 1}\n";
	struct vg_yaml y;
	struct vg_diag d;
	int ok;

	ctl_anomaly_defaults(cfg);
	memset(&y, 0, sizeof(y));
	vg_diag_init(&d);
	ok = vg_yaml_load_buf(&y, "fuzz.yaml", yaml, sizeof(yaml) - 1, &d) == 0 &&
	     ctl_anomaly_yaml_parse(&y, vg_yaml_root(&y), cfg) == 0;
	if (!ok)
		vg_diag_print(&d, stderr);
	vg_yaml_free(&y);
	vg_diag_free(&d);
	return ok;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctl_anomaly_cfg cfg;
	static int cfg_ok = -1;
	struct ctl_anomaly *d;
	struct dp_event ev;

	if (!eal_once())
		abort();
	if (cfg_ok < 0)
		cfg_ok = low_thresholds(&cfg);
	if (!cfg_ok)
		abort();
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
