/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vg-pktgen: deterministic pcap traffic for Vigil's benchmarks and tests. See tools/README.md.
 * Exit status: 0 written, 1 runtime failure (I/O, memory), 2 bad options.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "vg_diag.h"
#include "vg_pktgen.h"
#include "vg_pktgen_dns.h"
#include "vg_pktgen_opt.h"

_Static_assert(VG_PKTGEN_DNS_LONG_NAME == 52, "the summary's dns_names_over_52 names the limit");

static int
print_summary(const struct vg_pktgen_opts *o, const struct vg_pktgen_summary *s)
{
	json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "file",
			o->output, "packets", (json_int_t)s->packets, "flows", (json_int_t)s->flows,
			"bytes", (json_int_t)s->bytes, "matching_flows",
			(json_int_t)s->matching_flows, "denied_flows", (json_int_t)s->denied_flows,
			"seed", (json_int_t)o->seed, "ipv6_flows", (json_int_t)s->v6_flows,
			"tcp_flows", (json_int_t)s->proto_flows[VG_PKTGEN_TCP], "udp_flows",
			(json_int_t)s->proto_flows[VG_PKTGEN_UDP], "icmp_flows",
			(json_int_t)s->proto_flows[VG_PKTGEN_ICMP]);
	char *text;

	if (j == NULL)
		return -ENOMEM;
	if (o->app == VG_PKTGEN_APP_HTTP &&
			(json_object_set_new(j, "http_requests",
					 json_integer((json_int_t)s->http_requests)) != 0 ||
					json_object_set_new(j, "http_keepalive_flows",
							json_integer((json_int_t)s->http_keepalive_flows)) !=
							0)) {
		json_decref(j);
		return -ENOMEM;
	}
	if (o->app == VG_PKTGEN_APP_DNS &&
			(json_object_set_new(j, "dns_queries", json_integer(s->dns_queries)) != 0 ||
					json_object_set_new(j, "dns_names_over_52",
							json_integer(s->dns_long_names)) != 0)) {
		json_decref(j);
		return -ENOMEM;
	}
	text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (text == NULL)
		return -ENOMEM;
	printf("%s\n", text);
	free(text);
	return fflush(stdout) == 0 ? 0 : -EIO;
}

int
main(int argc, char **argv)
{
	struct vg_pktgen_opts o;
	struct vg_pktgen_summary s;
	struct vg_pktgen *g;
	struct vg_diag d;
	int rc;

	vg_diag_init(&d);
	rc = vg_pktgen_opts_parse(&o, argc, argv, stdout, &d);
	vg_diag_print(&d, stderr);
	vg_diag_free(&d);
	if (rc == 1)
		return 0;
	if (rc == -ENOMEM) {
		fprintf(stderr, "vg-pktgen: error: out of memory\n");
		return 1;
	}
	if (rc < 0)
		return 2;

	g = vg_pktgen_create(&o, &d);
	if (g == NULL) {
		rc = errno;
		if (rc == ENOMEM)
			fprintf(stderr, "vg-pktgen: error: out of memory for %u flows\n", o.flows);
		vg_diag_print(&d, stderr);
		vg_diag_free(&d);
		vg_pktgen_opts_free(&o);
		return rc == EINVAL ? 2 : 1;
	}
	rc = vg_pktgen_write(g, o.quiet ? NULL : stderr, &s, &d);
	vg_diag_print(&d, stderr);
	vg_diag_free(&d);
	if (rc == -ENOMEM)
		fprintf(stderr, "vg-pktgen: error: out of memory\n");
	if (rc == 0 && print_summary(&o, &s) < 0)
		rc = -EIO;
	vg_pktgen_free(g);
	vg_pktgen_opts_free(&o);
	return rc == 0 ? 0 : 1;
}
