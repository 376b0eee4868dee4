/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vg-pktgen's command line: every option parsed and cross-checked into one typed struct before
 * anything is generated, and the content-pattern syntax (Suricata's "text|68 65 78|text") used
 * by --match-pattern and --match-file.
 *
 * Frame sizes follow RFC 2544: a size counts the Ethernet header, any VLAN tag and the 4-byte
 * FCS, which a pcap does not hold; "64" is a 60-byte pcap record.
 */
#ifndef VG_PKTGEN_OPT_H
#define VG_PKTGEN_OPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vg_diag.h"

#define VG_PKTGEN_MAX_FLOWS    10000000u
#define VG_PKTGEN_MAX_PER_FLOW 1000000000ull
#define VG_PKTGEN_MAX_PACKETS  1000000000000ull
#define VG_PKTGEN_MAX_SIZES    32
#define VG_PKTGEN_MAX_PORTS    64
#define VG_PKTGEN_MIN_SIZE     64
#define VG_PKTGEN_MAX_SIZE     9216
#define VG_PKTGEN_MAX_WEIGHT   1000
#define VG_PKTGEN_MAX_PATTERN  1024
#define VG_PKTGEN_FCS_LEN      4

enum vg_pktgen_family {
	VG_PKTGEN_V4,
	VG_PKTGEN_V6,
	VG_PKTGEN_MIXED,
};

/* Index into vg_pktgen_opts.mix and the per-protocol counts of a plan. */
enum vg_pktgen_proto {
	VG_PKTGEN_TCP,
	VG_PKTGEN_UDP,
	VG_PKTGEN_ICMP,
	VG_PKTGEN_NPROTO,
};

enum vg_pktgen_order {
	VG_PKTGEN_RR,
	VG_PKTGEN_SHUFFLE,
};

enum vg_pktgen_tcp_mode {
	VG_PKTGEN_HANDSHAKE,
	VG_PKTGEN_MIDSTREAM,
};

/* What payloads carry: filler bytes, or an application protocol's conversation. */
enum vg_pktgen_app {
	VG_PKTGEN_APP_NONE,
	VG_PKTGEN_APP_HTTP,
	VG_PKTGEN_APP_DNS,
};

#define VG_PKTGEN_MAX_REQUESTS 100

/* One entry of --size: a frame size (FCS included) and its relative weight. */
struct vg_pktgen_size {
	uint16_t size;
	uint16_t weight;
};

/* A payload pattern after escape processing (may contain any byte, including NUL). */
struct vg_pktgen_pattern {
	uint8_t *bytes;
	size_t len;
};

struct vg_pktgen_opts {
	char *output;
	uint64_t seed;
	uint32_t flows;
	enum vg_pktgen_family family;
	double v6_share;
	uint32_t mix[VG_PKTGEN_NPROTO]; /* weights; a single protocol has weight 1, others 0 */
	struct vg_pktgen_size sizes[VG_PKTGEN_MAX_SIZES];
	unsigned n_sizes;
	uint64_t packets;  /* total packets; at most one of packets and per_flow is set... */
	uint64_t per_flow; /* ...packets per flow; 2 with --app dns, 0 with http (messages decide)
			    */
	enum vg_pktgen_order order;
	enum vg_pktgen_tcp_mode tcp_mode;
	bool close; /* handshake mode ends each TCP flow with FIN, FIN, ACK */
	enum vg_pktgen_app app;
	uint32_t requests;	/* --app http: most requests on one keep-alive connection */
	double keepalive_share; /* --app http: share of flows that keep their connection */
	double match_share;
	struct vg_pktgen_pattern *patterns;
	size_t n_patterns;
	double deny_share;
	uint16_t deny_dport;
	uint16_t ports[VG_PKTGEN_MAX_PORTS];
	unsigned n_ports;
	int vlan; /* -1: untagged */
	uint64_t ts_start_us;
	uint64_t ts_step_us;
	bool quiet;
};

/*
 * Parse argv (argv[0] is the program name) into o, applying defaults and checking every
 * combination. Every problem is appended to d as an error that names the option, the value and
 * what would be accepted; --match-file problems carry file:line:column.
 * Returns 0 when o is ready to use, 1 when --help was given (usage printed to out), -EINVAL when
 * d holds the errors, -ENOMEM. On any non-zero return o holds nothing to free.
 * Not thread safe (uses getopt_long).
 */
int vg_pktgen_opts_parse(
		struct vg_pktgen_opts *o, int argc, char **argv, FILE *out, struct vg_diag *d);

/* Free what parse allocated. NULL is a no-op. */
void vg_pktgen_opts_free(struct vg_pktgen_opts *o);

/* Print the usage text. */
void vg_pktgen_usage(FILE *out);

/*
 * Parse one pattern: literal bytes, with runs of hex byte pairs between '|' (spaces allowed
 * inside), and "\\" or "\|" for a literal backslash or bar. Returns 0 with out->bytes allocated
 * (free() it), or -EINVAL with *err_col set to the 1-based column of the problem and msg filled
 * with the reason, or -ENOMEM.
 */
int vg_pktgen_pattern_parse(const char *text, size_t len, struct vg_pktgen_pattern *out,
		size_t *err_col, char *msg, size_t msg_len);

/*
 * Append the patterns of a file to *v (n entries), one per line. Empty lines and lines whose
 * first character is '#' are skipped (write a leading '#' as |23|). Errors go to d as
 * path:line:column. Returns 0, -EINVAL (errors in d), -ENOENT etc. when the file cannot be read
 * (also reported in d), or -ENOMEM.
 */
int vg_pktgen_patterns_load(
		const char *path, struct vg_pktgen_pattern **v, size_t *n, struct vg_diag *d);

/* Number of flows of a share: share * flows rounded to nearest. */
uint32_t vg_pktgen_share_count(double share, uint32_t flows);

#endif /* VG_PKTGEN_OPT_H */
