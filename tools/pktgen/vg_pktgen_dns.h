/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DNS exchanges of vg-pktgen (--app dns): each UDP flow is one query from the client and the
 * server's answer, so that a program or parser reading DNS payloads sees real messages.
 *
 * The query (RFC 1035: header with RD set, one question of QTYPE A, QCLASS IN) asks for a name
 * of 2 to 5 labels: 1 to 4 labels of 1 to 24 letters and digits, then a top-level label from a
 * seeded list. Written out ("www.example.com" is 15 bytes) the names run from 4 to 108 bytes,
 * about a fifth of them longer than VG_PKTGEN_DNS_LONG_NAME. The answer echoes the header's ID
 * and the question (QR, RD, RA, NOERROR) and carries one A record (a compression pointer to the
 * question's name, a TTL, an address in 198.51.100.0/24 or 203.0.113.0/24). Everything is a
 * function of the seed and the flow index.
 */
#ifndef VG_PKTGEN_DNS_H
#define VG_PKTGEN_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "vg_pktgen_flow.h"

/* Bytes of the largest message vg_pktgen_dns_message() writes. */
#define VG_PKTGEN_DNS_MSG_MAX 160

/* Names longer than this as written are counted apart: bpf/examples/dns_qname.c's limit. */
#define VG_PKTGEN_DNS_LONG_NAME 52

struct vg_pktgen_dns {
	uint64_t key;
};

/* Derive the exchanges' key from the seed. */
void vg_pktgen_dns_init(struct vg_pktgen_dns *d, uint64_t seed);

/* Length of flow f's query name as written (labels and the dots between them). */
size_t vg_pktgen_dns_name_len(const struct vg_pktgen_dns *d, const struct vg_pktgen_flow *f);

/*
 * Flow f's query (dir 0) or answer (dir 1), written to msg (VG_PKTGEN_DNS_MSG_MAX bytes).
 * Returns its length.
 */
size_t vg_pktgen_dns_message(const struct vg_pktgen_dns *d, const struct vg_pktgen_flow *f,
		unsigned dir, uint8_t *msg);

#endif /* VG_PKTGEN_DNS_H */
