/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Header keywords: tests on the fields of a packet's IP, ICMP and TCP headers, its VLAN tags
 * and its TCP stream's size (ttl, tos, id, ip_proto, ipopts, fragbits, fragoffset, itype,
 * icode, icmp_id, icmp_seq, icmpv6.mtu, tcp.mss, window, seq, ack, vlan.id, vlan.layers,
 * stream_size), and the header buffers (tcp.hdr, icmpv6.hdr) that payload keywords inspect.
 *
 * They read the header bytes det_pkt carries (l3, l4, vlan, stream_size). A rule's header
 * tests are checked with its flow, dsize and flags, before any payload keyword, and a rule
 * with nothing else is decided by them alone: it takes no part in the payload scan.
 *
 * Values are written as Suricata writes them (see docs/SIGNATURES.md). Nothing here
 * allocates.
 */
#ifndef DET_HDR_H
#define DET_HDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "det_confirm.h"
#include "det_engine.h"
#include "det_rule.h"

/* The field (enum det_hdr_field) a header keyword tests, or 0 when name is not one. */
unsigned det_hdr_find(const char *name);

/*
 * Parse the value v of a header keyword for field into h (field, cmp, mode, layer, bits).
 * Returns 0, or -EINVAL with what is wrong and what would be accepted in msg.
 */
int det_hdr_parse(unsigned field, const char *v, struct det_hdr *h, char *msg, size_t size);

/* The bytes of header buffer buf (enum det_buf, det_buf_is_hdr()) of p, or NULL when p has none. */
const uint8_t *det_hdr_buf(unsigned buf, const struct det_pkt *p, uint32_t *len);

/* Does the one test h hold for p? (Not for DET_H_BUF.) */
bool det_hdr_test(const struct det_hdr *h, const struct det_pkt *p);

/* Do all of r's header tests and header buffers hold for p? c: for the buffers' pcre. */
bool det_hdr_ok(const struct det_rule *r, const struct det_pkt *p, struct det_confirm_ctx *c);

#endif /* DET_HDR_H */
