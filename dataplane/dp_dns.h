/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The little of DNS the anomaly detectors need: the first question of a query (name and type)
 * and the response code of an answer. The worker reads it from UDP port 53 payloads and puts it
 * in the flow's events (struct dp_event_app); control's DNS tunneling detector does the rest.
 * Bounded: reads only the given bytes, follows no compression pointer (questions have none),
 * and gives up on anything malformed.
 */
#ifndef DP_DNS_H
#define DP_DNS_H

#include <stdbool.h>
#include <stdint.h>

#include "dp_event.h"

/*
 * Parse a DNS message. Returns true and fills app when it is a query (QR = 0) with at least one
 * question (name lower-cased, dotted, truncated to fit with dns_qname_len the full length) or
 * a response (rcode set, qname of its question when present). false for anything else.
 */
bool dp_dns_parse(const uint8_t *msg, uint32_t len, struct dp_event_app *app, bool *is_response);

#endif /* DP_DNS_H */
