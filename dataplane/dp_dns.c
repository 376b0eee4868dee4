/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "dp_dns.h"

#define DNS_HDR	   12
#define MAX_LABELS 128

bool
dp_dns_parse(const uint8_t *msg, uint32_t len, struct dp_event_app *app, bool *is_response)
{
	const size_t cap = sizeof(app->dns_qname) - 1;
	uint32_t off = DNS_HDR;
	size_t out = 0, full = 0;
	unsigned labels = 0;

	memset(app, 0, sizeof(*app));
	if (len < DNS_HDR)
		return false;
	uint16_t flags = (uint16_t)(msg[2] << 8 | msg[3]);
	uint16_t qdcount = (uint16_t)(msg[4] << 8 | msg[5]);

	*is_response = (flags & 0x8000) != 0;
	if ((flags >> 11 & 0xf) != 0) /* opcode: only standard queries */
		return false;
	app->dns_rcode = flags & 0xf;
	if (qdcount == 0)
		return *is_response;

	for (;;) {
		if (off >= len || ++labels > MAX_LABELS)
			return false;
		uint8_t l = msg[off++];

		if (l == 0)
			break;
		if (l & 0xc0) /* a pointer or reserved label type: not in a question */
			return false;
		if (l > len - off)
			return false;
		if (full > 0) {
			if (out < cap)
				app->dns_qname[out++] = '.';
			full++;
		}
		for (unsigned i = 0; i < l; i++) {
			uint8_t c = msg[off + i];

			if (c >= 'A' && c <= 'Z')
				c = (uint8_t)(c + 'a' - 'A');
			if (out < cap)
				app->dns_qname[out++] = (char)c;
		}
		full += l;
		off += l;
	}
	if (len - off < 4)
		return false;
	app->dns_qtype = (uint16_t)(msg[off] << 8 | msg[off + 1]);
	if (app->dns_qtype == 0)
		app->dns_qtype = 0xffff; /* 0 means "no DNS" in the event; keep it visible */
	app->dns_qname[out] = '\0';
	app->dns_qname_len = full > 255 ? 255 : (uint8_t)full;
	return true;
}
