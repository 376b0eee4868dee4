/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DNS parser (al_dns.c): messages over UDP (one per datagram) and over TCP (two-byte length
 * prefix, any split). A request is a transaction (AL_ST_DNS_REQUEST); the response with its
 * id completes it (AL_ST_DNS_RESPONSE). Names are rendered as Suricata renders them for
 * dns.query: the label bytes as sent, '.' between labels, at most AL_DNS_NAME_MAX bytes.
 */
#ifndef AL_DNS_H
#define AL_DNS_H

#include <stdint.h>

/* Longest rendered name: longer ones are cut here (name_too_long), as Suricata does. */
#define AL_DNS_NAME_MAX 1025

/* Anomalies, by the event names of Suricata's dns-events.rules, then Vigil's own. */
enum al_dns_anomaly {
	AL_DNS_MALFORMED_DATA,	      /* a message that does not hold together (not kept) */
	AL_DNS_NOT_REQUEST,	      /* a response (QR set) sent to the server */
	AL_DNS_NOT_RESPONSE,	      /* a query (QR clear) sent to the client */
	AL_DNS_Z_FLAG_SET,	      /* the reserved header bit is set */
	AL_DNS_INVALID_OPCODE,	      /* opcode 7 or above */
	AL_DNS_NAME_TOO_LONG,	      /* a name rendered longer than AL_DNS_NAME_MAX, cut */
	AL_DNS_INFINITE_LOOP,	      /* a compression pointer to itself */
	AL_DNS_TOO_MANY_LABELS,	      /* more than 255 labels and pointers in one name */
	AL_DNS_INVALID_ADDITIONALS,   /* the additional section does not parse */
	AL_DNS_INVALID_AUTHORITIES,   /* the authority section does not parse */
	AL_DNS_FORWARD_POINTER,	      /* a compression pointer forward (RFC 1035: prior only) */
	AL_DNS_TOO_MANY_NAMES,	      /* names beyond dns_max_names were not kept */
	AL_DNS_TOO_MANY_TRANSACTIONS, /* a request evicted unanswered at dns_max_tx */
	AL_DNS__COUNT
};

struct al_tx;

/* The rdata bytes of the answer records of a DNS transaction's response (0: none yet). */
uint32_t al_dns_answer_bytes(const struct al_tx *tx);

#endif /* AL_DNS_H */
