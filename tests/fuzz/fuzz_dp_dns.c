/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the worker's DNS facts (dp_inspect_dns, for UDP flows that are not inspected)
 * over datagrams of one flow, as a sender controls them. Input: records of one byte (bit 0:
 * the direction, 1 from the server), two bytes of length (big-endian, cut to what is left),
 * then the datagram. Beyond "no crash, no read out of bounds, no leak": whenever facts are
 * reported, the name is NUL-terminated within its field, lower-case, no longer than its
 * reported length (itself at most 255), and the type is not 0.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>

#include <rte_eal.h>

#include "vg_eal_cleanup.h"

#include "al_config.h"
#include "dp_event.h"
#include "dp_flow.h"
#include "dp_inspect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dp_inspect *in;
static uint8_t *flow_mem;

/* At exit, before EAL's cleanup (registered earlier, run later): no leak for LSan to report. */
static void
teardown(void)
{
	dp_inspect_free(in);
	free(flow_mem);
}

static int
setup_once(void)
{
	static int done, ok;
	char prefix[64];
	struct al_config alc;

	if (done)
		return ok;
	done = 1;
	snprintf(prefix, sizeof(prefix), "--file-prefix=vgfuzz%d", (int)getpid());
	char *argv[] = { "fuzz", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
		"--no-telemetry", "-l", "0", "--log-level=lib.eal:error", prefix, NULL };
	ok = rte_eal_init(11, argv) >= 0;
	if (!ok)
		return 0;
	atexit(vg_eal_cleanup);
	al_config_init(&alc);
	in = dp_inspect_create(0, 16, 0, &alc);
	/* A flow record as the flow table lays one out: its hot line DP_FLOW_COLD_OFF before. */
	flow_mem = aligned_alloc(64, DP_FLOW_COLD_OFF + sizeof(struct dp_flow));
	atexit(teardown);
	ok = in != NULL && flow_mem != NULL;
	return ok;
}

static void
check(const struct dp_event_app *app)
{
	const void *nul = memchr(app->dns_qname, 0, sizeof(app->dns_qname));

	if (nul == NULL)
		abort();
	size_t len = (size_t)((const char *)nul - app->dns_qname);

	if (len > app->dns_qname_len || app->dns_response > 1 || app->dns_rcode > 15)
		abort();
	/* A query always has its question; a response has one only if its query was seen. */
	if (!app->dns_response && app->dns_qtype == 0)
		abort();
	for (size_t i = 0; i < len; i++)
		if (app->dns_qname[i] >= 'A' && app->dns_qname[i] <= 'Z')
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dp_event_app app;
	struct dp_pkt p;
	struct dp_flow *f;

	if (!setup_once())
		abort();
	memset(flow_mem, 0, DP_FLOW_COLD_OFF + sizeof(struct dp_flow));
	f = (struct dp_flow *)(flow_mem + DP_FLOW_COLD_OFF);
	f->det_slot = UINT32_MAX;
	memset(&p, 0, sizeof(p));
	p.l3 = DP_L3_IPV4;
	p.proto = IPPROTO_UDP;
	p.src[0] = 10;
	p.src[3] = 1;
	p.dst[0] = 10;
	p.dst[3] = 53;
	p.sport = 40000;
	p.dport = 53;
	while (size >= 3) {
		unsigned dir = data[0] & 1;
		size_t len = (size_t)data[1] << 8 | data[2];

		data += 3;
		size -= 3;
		if (len > size)
			len = size;
		memset(&app, 0, sizeof(app));
		if (dp_inspect_dns(in, f, data, (uint32_t)len, &p, dir, &app))
			check(&app);
		data += len;
		size -= len;
	}
	dp_inspect_flow_end(in, f);
	return 0;
}
